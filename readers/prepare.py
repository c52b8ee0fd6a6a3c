"""From validated rows to what gets written: split into series, resolve duplicates, check the grid, fill
gaps, and compare with what is already stored. Pure: arrays in, arrays and messages out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ConflictError, InputError
from core.timefmt import format_ts
from readers.csvread import IngestOptions, ParsedTable
from readers.timeaxis import contains, grid, grid_size, infer_freq, off_grid


@dataclass
class SeriesRows:
    name: str
    column: str
    position: int
    ts: np.ndarray
    values: np.ndarray
    lines: np.ndarray


@dataclass
class Stored:
    """What the store already holds for a series, around the new rows."""

    time_kind: str
    freq: str | None
    prev: tuple[int, float] | None = None  # the last stored point before the new rows
    overlap_ts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    overlap_values: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class Plan:
    name: str
    column: str
    position: int
    freq: str | None
    insert_ts: np.ndarray
    insert_values: np.ndarray
    replace_ts: np.ndarray
    unchanged: int
    filled: int
    gaps: int


def split(table: ParsedTable, opts: IngestOptions, group: str) -> tuple[str | None, list[SeriesRows]]:
    """One series per value column (and per id); a group when there is more than one."""
    blocks = [(None, np.arange(len(table.ts)))]
    if table.ids is not None:
        codes, uniques = pd.factorize(table.ids, sort=True)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        blocks = [(str(u), order[bounds[k] : bounds[k + 1]]) for k, u in enumerate(uniques)]
    multi = table.ids is not None or len(table.value_cols) > 1
    out: list[SeriesRows] = []
    for key, rows in blocks:
        ts, values, lines = dedupe(table, rows, opts.on_duplicate, key)
        for j, col in enumerate(table.value_cols):
            parts = [group] + ([key] if key is not None else [])
            parts += [col] if (key is None or len(table.value_cols) > 1) else []
            name = "/".join(parts) if multi else group
            out.append(SeriesRows(name, col, len(out), ts, values[:, j], lines))
    return (group if multi else None), out


def dedupe(table: ParsedTable, rows: np.ndarray, policy: str, key: str | None):
    ts = table.ts[rows] if len(rows) != len(table.ts) else table.ts
    if np.all(ts[1:] >= ts[:-1]):  # files are usually in time order: no sort, no copies
        values, lines = (
            (table.values, table.lines) if ts is table.ts else (table.values[rows], table.lines[rows])
        )
    else:
        order = rows[np.argsort(ts, kind="stable")]
        ts, values, lines = table.ts[order], table.values[order], table.lines[order]
    dup = np.flatnonzero(ts[1:] == ts[:-1])
    if len(dup) == 0:
        return ts, values, lines
    if policy == "error":
        i = dup[0]
        where = f" for id {key!r}" if key is not None else ""
        raise InputError(
            f"{table.path}: duplicate time {format_ts(ts[i], table.parser.kind)}{where} in column "
            f"{table.time_col!r} on lines {lines[i]} and {lines[i + 1]} ({len(dup)} duplicates in all); "
            "pass --on-duplicate first|last|mean to keep one value"
        )
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    if policy == "mean":
        counts = np.diff(np.r_[starts, len(ts)])
        merged = np.add.reduceat(values, starts, axis=0) / counts[:, None]
        return ts[starts], merged, lines[starts]
    pick = starts if policy == "first" else np.r_[starts[1:] - 1, len(ts) - 1]
    return ts[pick], values[pick], lines[pick]


def plan(rows: SeriesRows, kind: str, stored: Stored | None, opts: IngestOptions, path) -> Plan:
    freq = _frequency(rows, kind, stored, opts)
    ts, values, lines = rows.ts, rows.values, rows.lines
    replace, unchanged = np.empty(0, np.int64), 0
    if stored is not None and len(stored.overlap_ts):
        ts, values, lines, replace, unchanged = _merge_overlap(rows, stored, opts, path, kind)
    filled, gaps = 0, 0
    if freq is not None and len(ts):
        ts, values, filled, gaps = _check_grid(rows.name, ts, values, lines, kind, freq, stored, opts, path)
    return Plan(rows.name, rows.column, rows.position, freq, ts, values, replace, unchanged, filled, gaps)


def _frequency(rows: SeriesRows, kind: str, stored: Stored | None, opts: IngestOptions) -> str | None:
    if stored is not None:
        if stored.time_kind != kind:
            raise ConflictError(
                f"series {rows.name!r} has {stored.time_kind} times; this file has {kind} times"
            )
        if opts.freq and stored.freq and opts.freq != stored.freq:
            raise ConflictError(
                f"series {rows.name!r} has frequency {stored.freq!r}; --freq {opts.freq!r} differs"
            )
        if stored.freq:
            return stored.freq
    if opts.freq:
        if kind == "int" and not opts.freq.isdigit():
            raise InputError(f"--freq {opts.freq!r}: integer times take a whole step, e.g. --freq 1")
        return opts.freq
    context = rows.ts if stored is None or stored.prev is None else np.r_[stored.prev[0], rows.ts]
    return infer_freq(context, kind)


def _merge_overlap(rows: SeriesRows, stored: Stored, opts: IngestOptions, path, kind: str):
    pos = np.searchsorted(stored.overlap_ts, rows.ts)
    pos = np.clip(pos, 0, len(stored.overlap_ts) - 1)
    present = stored.overlap_ts[pos] == rows.ts
    old = stored.overlap_values[pos]
    same = present & np.isclose(old, rows.values, rtol=1e-12, atol=0.0)
    changed = present & ~same
    if changed.any() and opts.on_conflict == "error":
        i = np.flatnonzero(changed)[0]
        raise ConflictError(
            f"{path}: line {rows.lines[i]}: series {rows.name!r} already has {float(old[i])!r} at "
            f"{format_ts(rows.ts[i], kind)}, the file says {float(rows.values[i])!r} ({changed.sum()} such "
            "points); pass --on-conflict replace to overwrite stored values"
        )
    keep = ~same
    return rows.ts[keep], rows.values[keep], rows.lines[keep], rows.ts[changed], int(same.sum())


def _check_grid(name, ts, values, lines, kind, freq, stored, opts, path):
    anchor = stored.prev if stored is not None and stored.prev is not None else None
    first = anchor[0] if anchor is not None else int(ts[0])
    off = off_grid(ts, first, kind, freq)
    if len(off):
        i = off[0]
        raise InputError(
            f"{path}: line {lines[i]}: {format_ts(ts[i], kind)} is not on the {freq!r} grid of series "
            f"{name!r} (irregular spacing); pass --freq to choose the grid, or resample the file first"
        )
    known = ts if anchor is None else np.r_[anchor[0], ts]
    if grid_size(first, int(ts[-1]), kind, freq) == len(known):  # no gaps: the common case
        return ts, values, 0, 0
    full = grid(first, int(ts[-1]), kind, freq)
    known_set = contains(known, full)
    if stored is not None and len(stored.overlap_ts):
        known_set |= contains(stored.overlap_ts, full)
    missing = full[~known_set]
    if len(missing) == 0 or opts.fill == "none":
        return ts, values, 0, len(missing)
    if opts.fill == "error":
        before = lines[max(np.searchsorted(ts, missing[0]) - 1, 0)]
        raise InputError(
            f"{path}: series {name!r} ({freq!r}) has {len(missing)} missing time steps; the first is "
            f"{format_ts(missing[0], kind)}, after line {before}; pass --fill ffill|interpolate to fill "
            "them, or --fill none to keep the gaps"
        )
    return (*_fill(ts, values, anchor, missing, opts.fill), len(missing), 0)


def _fill(ts, values, anchor, missing, how: str):
    known_ts = ts if anchor is None else np.r_[anchor[0], ts]
    known_v = values if anchor is None else np.r_[anchor[1], values]
    series = pd.Series(known_v, index=known_ts)
    both = series.reindex(np.union1d(known_ts, missing))
    both = both.ffill() if how == "ffill" else both.interpolate(method="index")
    if anchor is not None:
        both = both.drop(index=anchor[0])
    return both.index.to_numpy(dtype=np.int64), both.to_numpy(dtype=np.float64)
