"""Labelled windows of stored series: from (time, label) rows that each label the `--window` points of one
series ending at that time, or from (series, start, end, label) rows. Checked whole before anything is
written; every refusal names the file, line, column and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InputError, NotFoundError, did_you_mean
from core.timefmt import format_ts
from db import labels as lq
from db import series as q
from readers.timeaxis import TimeParser, grid_size

MIN_POINTS = 2


def _stamps(raw: list[str], kind: str) -> tuple[np.ndarray, np.ndarray, TimeParser]:
    import pandas as pd

    parser = TimeParser("int") if kind == "int" else TimeParser.detect(raw[0], None)
    if parser.kind != kind:
        parser = TimeParser(kind)
    ts, bad = parser.parse(pd.Series(raw))
    return ts, bad, parser


def _parse(path: Path, raw: list[str], kind: str, what: str, lines: list[int]) -> np.ndarray:
    """Stamps in the series' own time kind; a value that does not parse is named with its line."""
    ts, bad, parser = _stamps(raw, kind)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{path}: line {lines[i]}, column {what!r}: {raw[i]!r} is not {parser.describe()}, "
            "the time kind of the series"
        )
    return ts


def _points(session, s) -> np.ndarray:
    return lq.points_of(session, s.id)[0]


def ending_windows(session, path: Path, series: str, time_col: str, label_col: str, window: int) -> dict:
    """Each row labels the `window` points of `series` that end at its time (inclusive)."""
    if window < MIN_POINTS:
        raise InputError(f"--window {window}: a window needs at least {MIN_POINTS} points")
    raw, labels = lq.read_stamped_labels(path, time_col, label_col)
    s = find_series(session, series, "--series:")
    stamps = _points(session, s)
    ends = _parse(path, raw, s.time_kind, time_col, list(range(2, len(raw) + 2)))
    at = np.searchsorted(stamps, ends)
    items = []
    for i, (end, pos) in enumerate(zip(ends, at, strict=True)):
        line = i + 2
        if pos >= len(stamps) or stamps[pos] != end:
            raise InputError(
                f"{path}: line {line}, column {time_col!r}: {raw[i]!r} is not a time of series {series!r} "
                f"(its points run {format_ts(s.first_ts, s.time_kind)} to "
                f"{format_ts(s.last_ts, s.time_kind)}, {s.freq or 'irregular'})"
            )
        if pos + 1 < window:
            raise InputError(
                f"{path}: line {line}, column {time_col!r}: {raw[i]!r} has {pos + 1} points of {series!r} "
                f"up to it; --window {window} needs {window} (a later time or a smaller --window)"
            )
        missing = missing_steps(s, stamps, pos - window + 1, pos)
        if missing:
            raise InputError(
                f"{path}: line {line}, column {time_col!r}: the window ending {raw[i]!r} "
                + gap_error(s, missing)
            )
        items.append((s, int(stamps[pos - window + 1]), int(end), labels[i]))
    return {"items": items, "window": window}


def listed_windows(session, path: Path, label_col: str) -> dict:
    """Rows of (series, start, end, label): each a window of a stored series, ends included."""
    rows, labels = lq.read_window_file(path, label_col)
    items = []
    cache: dict[str, tuple] = {}
    for i, (name, start_raw, end_raw) in enumerate(rows):
        line = i + 2
        if name not in cache:
            s = find_series(session, name, f"{path}: line {line}, column 'series':")
            cache[name] = (s, _points(session, s))
        s, stamps = cache[name]
        start = _parse(path, [start_raw], s.time_kind, "start", [line])[0]
        end = _parse(path, [end_raw], s.time_kind, "end", [line])[0]
        inside = max(0, int(np.searchsorted(stamps, end, "right") - np.searchsorted(stamps, start, "left")))
        if end <= start or inside < MIN_POINTS:
            raise InputError(
                f"{path}: line {line}: the window {start_raw!r} to {end_raw!r} holds {inside} point(s) of "
                f"{name!r}; a window needs start before end and at least {MIN_POINTS} points"
            )
        lo = int(np.searchsorted(stamps, start, "left"))
        missing = missing_steps(s, stamps, lo, lo + inside - 1)
        if missing:
            raise InputError(
                f"{path}: line {line}: the window {start_raw!r} to {end_raw!r} " + gap_error(s, missing)
            )
        items.append((s, int(start), int(end), labels[i]))
    return {"items": items, "window": None}


def missing_steps(s, stamps: np.ndarray, lo: int, hi: int) -> int:
    """How many time steps of the series' grid are missing between stamps[lo] and stamps[hi] (a series
    ingested with --fill none keeps its gaps; a window across one is not `hi - lo + 1` steps long)."""
    if not s.n_gaps or not s.freq:
        return 0

    return grid_size(int(stamps[lo]), int(stamps[hi]), s.time_kind, s.freq) - (hi - lo + 1)


def gap_error(s, missing: int) -> str:
    return (
        f"crosses {missing} missing time step(s) of {s.name!r}; ingest it with --fill ffill|interpolate, "
        "or choose another window"
    )


def position_of(s, stamps: np.ndarray, raw: str, length: int) -> int:
    """The index of the stored point at time `raw` (the end of a window to classify)."""
    stamp, bad, parser = _stamps([raw], s.time_kind)
    if bad[0]:
        raise InputError(f"--end {raw!r} is not {parser.describe()}, the time kind of series {s.name!r}")
    end = stamp[0]
    pos = int(np.searchsorted(stamps, end))
    if pos >= len(stamps) or stamps[pos] != end:
        raise InputError(
            f"--end {raw!r} is not a time of series {s.name!r} (its points run "
            f"{format_ts(s.first_ts, s.time_kind)} to {format_ts(s.last_ts, s.time_kind)})"
        )
    return pos


def find_series(session, name: str, where: str):
    found = q.get_series(session, name)
    if found is None:
        names = [x.name for x in q.list_series(session)]
        raise NotFoundError(f"{where} {did_you_mean('series', name, names)}")
    return found


def describe(s, start: int, end: int) -> str:
    return f"{s.name} {format_ts(start, s.time_kind)} to {format_ts(end, s.time_kind)}"
