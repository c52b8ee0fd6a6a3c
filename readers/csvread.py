"""Reading a CSV (or Parquet) file of time series, strictly: the first bad row rejects the whole file with
a message naming the file, line, column, value and the option that would accept it. Read in chunks, so a
10-million-row file stays well under 1 GB."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError
from core.limits import limit, over
from readers.timeaxis import TimeParser

CHUNK_ROWS = 1_000_000
ON_DUPLICATE = ("error", "first", "last", "mean")
FILL = ("error", "none", "ffill", "interpolate")
MISSING = ("error", "drop")
ON_CONFLICT = ("error", "replace")


@dataclass(frozen=True)
class IngestOptions:
    name: str | None = None
    time_col: str | None = None
    value_cols: tuple[str, ...] = ()
    id_col: str | None = None
    freq: str | None = None
    time_format: str | None = None
    on_duplicate: str = "error"
    fill: str = "error"
    missing: str = "error"
    on_conflict: str = "error"
    encoding: str = "utf-8"
    chunk_rows: int = CHUNK_ROWS
    season: int | None = None  # the seasonal period to keep with the series
    units: tuple[str, ...] = ()  # "MW" for every series, "OT=°C" for one column's

    def unit_of(self, column: str) -> str | None:
        """The unit `--unit` gives a column: its own `COLUMN=UNIT`, else a bare `UNIT`, else none."""
        own = dict(u.split("=", 1) for u in self.units if "=" in u)
        bare = [u for u in self.units if "=" not in u]
        return own.get(column) or (bare[-1] if bare else None)

    def __post_init__(self) -> None:
        for option, value, allowed in [
            ("--on-duplicate", self.on_duplicate, ON_DUPLICATE),
            ("--fill", self.fill, FILL),
            ("--missing", self.missing, MISSING),
            ("--on-conflict", self.on_conflict, ON_CONFLICT),
        ]:
            if value not in allowed:
                raise InputError(f"{option} {value!r}: choose one of {', '.join(allowed)}")
        for u in self.units:
            if not u.strip() or u.startswith("=") or u.endswith("="):
                raise InputError(f"--unit {u!r}: write a unit (MW) or a column's unit (OT=°C)")
        if self.season is not None and self.season < 1:
            raise InputError(f"--season {self.season}: must be at least 1 (1: no season)")


@dataclass
class ParsedTable:
    """The rows of a file, validated: stamps, a matrix of values (one column per value column), ids."""

    path: Path
    parser: TimeParser
    time_col: str
    value_cols: list[str]
    id_col: str | None
    ts: np.ndarray
    values: np.ndarray
    lines: np.ndarray
    ids: np.ndarray | None


def read_table(path: Path, opts: IngestOptions) -> ParsedTable:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (expected a header line and data rows)")
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path, opts)
    encoding = "utf-8-sig" if opts.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else opts.encoding
    _check_header(path, encoding)
    header = _guard(path, encoding, lambda: pd.read_csv(path, nrows=0, encoding=encoding))
    time_col, value_cols = _resolve_columns(path, list(header.columns), opts)
    chunks = _guard(path, encoding, lambda: _read_chunks(path, encoding, time_col, value_cols, opts))
    return _assemble(path, chunks, time_col, value_cols, opts)


def _check_header(path: Path, encoding: str) -> None:
    """Refuse a header line past the limits before pandas reads it (a million columns took gigabytes)."""
    cap = limit("RECUR_MAX_HEADER_BYTES")
    with open(path, "rb") as fh:
        head = fh.read(cap + 1)
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]  # old Mac files end lines in CR
    if not ends and len(head) > cap:
        raise over("RECUR_MAX_HEADER_BYTES", path, f"the header line is longer than {cap:,} bytes")
    line = head[: min(ends)] if ends else head
    columns = next(csv.reader([line.decode(encoding, errors="replace")]), [])
    if len(columns) > limit("RECUR_MAX_COLUMNS"):
        raise over("RECUR_MAX_COLUMNS", path, f"the header has {len(columns):,} columns")


ROW_NUMBER = "(row number)"  # the time column of a file read with --time-col none


def _read_chunks(path, encoding, time_col, value_cols, opts) -> list[ParsedTable]:
    numbered = time_col == ROW_NUMBER
    usecols = ([] if numbered else [time_col]) + [*value_cols] + ([opts.id_col] if opts.id_col else [])
    text_cols = ({} if numbered else {time_col: "str"}) | ({opts.id_col: "str"} if opts.id_col else {})
    # No usecols: with it pandas silently drops the extra fields of a malformed row.
    reader = pd.read_csv(
        path,
        dtype=text_cols,
        chunksize=opts.chunk_rows,
        encoding=encoding,
        index_col=False,
        skip_blank_lines=False,
    )
    parts, parser, offset = [], None, 2  # data starts on line 2, after the header
    with reader:
        for frame in reader:
            frame = frame[usecols]
            lines = np.arange(offset, offset + len(frame), dtype=np.int32)
            if numbered:
                frame.insert(0, ROW_NUMBER, (lines - 1).astype(str))
            offset += len(frame)
            frame = frame.reset_index(drop=True)
            keep = ~frame.isna().all(axis=1).to_numpy()  # blank lines
            frame, lines = frame[keep].reset_index(drop=True), lines[keep]
            if len(frame) == 0:
                continue
            if parser is None:
                first = frame[time_col].dropna()
                parser = TimeParser.detect(first.iloc[0] if len(first) else "", opts.time_format)
            parts.append(_validate_chunk(path, encoding, frame, lines, parser, time_col, value_cols, opts))
    return parts


def _validate_chunk(path, encoding, frame, lines, parser, time_col, value_cols, opts) -> ParsedTable:
    values = np.empty((len(frame), len(value_cols)), dtype=np.float64)
    missing = frame[time_col].isna().to_numpy().copy()
    if opts.id_col:
        missing |= frame[opts.id_col].isna().to_numpy()
    for j, col in enumerate(value_cols):
        values[:, j], col_missing = _numeric(path, frame[col], lines, col)
        missing |= col_missing
    if missing.any():
        if opts.missing == "error":
            _missing_error(path, encoding, frame, lines, np.flatnonzero(missing)[0], opts)
        keep = ~missing
        frame, lines, values = frame[keep].reset_index(drop=True), lines[keep], values[keep]
    ts, bad = parser.parse(frame[time_col])
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise InputError(
            f"{path}: line {lines[i]}, column {time_col!r}: {frame[time_col].iloc[i]!r} is not "
            f"{parser.describe()} (whole seconds); pass --time-format to give the format "
            f"(e.g. --time-format '%d/%m/%Y %H:%M')"
        )
    ids = frame[opts.id_col].to_numpy(dtype=object) if opts.id_col else None
    return ParsedTable(path, parser, time_col, value_cols, opts.id_col, ts, values, lines, ids)


def _numeric(path: Path, col: pd.Series, lines: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    missing = col.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(col.dtype):
        out = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        out = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(out) & ~missing
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise InputError(
                f"{path}: line {lines[i]}, column {name!r}: {str(col.iloc[i])!r} is not a number; "
                f"choose numeric columns with --value-col"
            )
    inf = np.isinf(out)
    if inf.any():
        i = np.flatnonzero(inf)[0]
        raise InputError(
            f"{path}: line {lines[i]}, column {name!r}: {str(col.iloc[i])!r} is not a finite number; "
            "remove the row or replace the value"
        )
    return out, missing


def _missing_error(path, encoding, frame, lines, i, opts) -> None:
    line = int(lines[i])
    fields, expected = _field_count(path, encoding, line)
    if fields is not None and fields != expected:
        raise InputError(f"{path}: line {line} has {fields} fields, the header has {expected}")
    col = next(c for c in frame.columns if pd.isna(frame[c].iloc[i]))
    raise InputError(
        f"{path}: line {line}, column {col!r}: the value is missing; pass --missing drop to skip "
        "such rows (and --fill to fill the gaps they leave)"
    )


def _field_count(path: Path, encoding: str, line: int) -> tuple[int | None, int]:
    with open(path, encoding=encoding, newline="") as fh:
        header = next(csv.reader([fh.readline()]))
        for number, raw in enumerate(fh, start=2):
            if number == line:
                return len(next(csv.reader([raw]), [])), len(header)
    return None, len(header)


def _resolve_columns(path: Path, columns: list[str], opts: IngestOptions) -> tuple[str, list[str]]:
    named = [
        None if (opts.time_col or "").lower() == "none" else opts.time_col,
        opts.id_col,
        *opts.value_cols,
    ]
    unknown = [c for c in named if c is not None and c not in columns]
    if unknown:
        raise InputError(
            f"{path}: no column named {unknown[0]!r}; the columns are: {', '.join(map(repr, columns))}"
        )
    time_col = opts.time_col or next((c for c in columns if c != opts.id_col), columns[0])
    if time_col.lower() == "none":
        time_col = ROW_NUMBER
    values = list(opts.value_cols) or [c for c in columns if c not in (time_col, opts.id_col)]
    if not values:
        raise InputError(
            f"{path}: no value column: the file has only {', '.join(map(repr, columns))}; "
            "a series needs a time column and at least one value column"
        )
    if time_col in values or (opts.id_col and opts.id_col in values):
        raise InputError(f"{path}: --value-col cannot name the time or id column")
    return time_col, values


def _assemble(path, parts: list[ParsedTable], time_col, value_cols, opts) -> ParsedTable:
    if not parts:
        raise InputError(f"{path}: the file has a header but no data rows")

    def gather(field: str) -> np.ndarray:
        # One field at a time, freeing the chunks' copies as we go: peak memory stays near one copy.
        whole = np.concatenate([getattr(p, field) for p in parts])
        for p in parts:
            setattr(p, field, None)
        return whole

    table = ParsedTable(
        path,
        parts[0].parser,
        time_col,
        value_cols,
        opts.id_col,
        *[gather(f) for f in ("ts", "values", "lines")],
        None,
    )
    table.ids = gather("ids") if opts.id_col else None
    parts.clear()
    if time_col == ROW_NUMBER:
        table.ts = _row_numbers(len(table.ts), table.ids)
    return table


def _row_numbers(n: int, ids: np.ndarray | None) -> np.ndarray:
    """Steps 1, 2, 3 ... in file order: of the whole file, or of each id's rows in long format."""
    if ids is None:
        return np.arange(1, n + 1, dtype=np.int64)
    return pd.Series(ids).groupby(ids, sort=False).cumcount().to_numpy(dtype=np.int64) + 1


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def _guard(path: Path, encoding: str, read):
    """Run a pandas read, turning its errors into messages that name the line."""
    try:
        return read()
    except UnicodeDecodeError as exc:
        raise InputError(_decode_error(path, encoding)) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: the file is empty (expected a header line and data rows)") from exc
    except pd.errors.ParserError as exc:
        found = _FIELDS.search(str(exc))
        if found:
            expected, line, saw = found.groups()
            raise InputError(
                f"{path}: line {line} has {saw} fields, the header has {expected} "
                "(an unquoted comma in a value?)"
            ) from exc
        quote = _QUOTE.search(str(exc))
        if quote:
            line = int(quote.group(1)) + 1
            raise InputError(
                f"{path}: cannot parse as CSV: line {line} opens a quoted field that never closes"
            ) from exc
        raise InputError(f"{path}: cannot parse as CSV: {str(exc).strip()}") from exc


def _decode_error(path: Path, encoding: str) -> str:
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode(codec)
            except UnicodeDecodeError as err:
                column = len(raw[: err.start].decode(codec, errors="replace")) + 1
                return (
                    f"{path}: line {number}, column {column}: byte 0x{raw[err.start]:02x} is not valid "
                    f"{codec}; pass --encoding (e.g. --encoding latin-1) if the file uses another encoding"
                )
    return f"{path}: the file is not valid {codec}; pass --encoding"


def _read_parquet(path: Path, opts: IngestOptions) -> ParsedTable:
    try:
        frame = pd.read_parquet(path)
    except ImportError as exc:
        raise InputError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from exc
    except Exception as exc:
        raise InputError(f"{path}: cannot read as Parquet: {exc}") from exc
    if len(frame) == 0:
        raise InputError(f"{path}: the file has no rows")
    time_col, value_cols = _resolve_columns(path, [str(c) for c in frame.columns], opts)
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    if time_col == ROW_NUMBER:
        frame.insert(0, ROW_NUMBER, lines)
    frame[time_col] = frame[time_col].astype(str)
    parser = TimeParser.detect(str(frame[time_col].iloc[0]), opts.time_format)
    part = _validate_chunk(path, "utf-8", frame, lines, parser, time_col, value_cols, opts)
    return _assemble(path, [part], time_col, value_cols, opts)
