"""Labelled data: texts, or windows of stored series. Reading CSVs strictly, and the queries (session
first, never commit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InputError, NotFoundError, did_you_mean
from db.series import load_points
from db.tables import LabelledItem, LabelledSet

WINDOW_COLUMNS = ("series", "start", "end")


def _read_frame(path: Path, columns: dict[str, tuple[str, str]], encoding: str = "utf-8"):
    """The CSV as strings; `columns` maps each needed column to (the option that names it, what it holds)."""
    import pandas as pd

    from readers.csvread import _decode_error

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(f"{path}: no such file, or it is empty")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, index_col=False)
    except UnicodeDecodeError as exc:
        raise InputError(_decode_error(path, encoding)) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: cannot parse as CSV: {str(exc).strip()}") from exc
    for col, (option, _what) in columns.items():
        if col not in frame.columns:
            cols = ", ".join(map(repr, frame.columns))
            tail = ", and the file has none" if " " in option else " is not a column"  # a sentence or a flag
            missing = f"{option} {col!r}{tail}"
            raise InputError(f"{path}: {missing}; the columns are: {cols}")
    if len(frame) == 0:
        raise InputError(f"{path}: the file has a header but no rows")
    for col, (_option, what) in columns.items():
        empty = frame.index[frame[col].str.strip() == ""]
        if len(empty):
            raise InputError(f"{path}: line {empty[0] + 2}, column {col!r}: the {what} is empty")
    return frame


def _labels(path: Path, frame, label_col: str) -> list[str]:
    labels = frame[label_col].str.strip().tolist()
    if len(set(labels)) < 2:
        raise InputError(
            f"{path}: column {label_col!r} has a single class ({labels[0]!r}); a classifier needs two or more"
        )
    return labels


def read_labelled(
    path: Path, text_col: str, label_col: str, encoding: str = "utf-8"
) -> tuple[list[str], list[str]]:
    """Texts and labels, refused with file, line and column for unknown columns, empty values, one class."""
    columns = {text_col: ("--text-col", "text"), label_col: ("--label-col", "label")}
    frame = _read_frame(path, columns, encoding)
    return frame[text_col].tolist(), _labels(Path(path), frame, label_col)


def read_stamped_labels(
    path: Path, time_col: str, label_col: str, encoding: str = "utf-8"
) -> tuple[list[str], list[str]]:
    """(time, label) rows: each labels the window of a series that ends at that time."""
    columns = {time_col: ("--time-col", "time"), label_col: ("--label-col", "label")}
    frame = _read_frame(path, columns, encoding)
    return frame[time_col].str.strip().tolist(), _labels(Path(path), frame, label_col)


def read_window_file(
    path: Path, label_col: str, encoding: str = "utf-8"
) -> tuple[list[list[str]], list[str]]:
    """(series, start, end, label) rows, one window of a stored series each."""
    needed = {c: ("--windows needs the column", c) for c in WINDOW_COLUMNS}
    needed |= {label_col: ("--label-col", "label")}
    frame = _read_frame(path, needed, encoding)
    rows = frame[list(WINDOW_COLUMNS)].apply(lambda c: c.str.strip()).to_numpy().tolist()
    return rows, _labels(Path(path), frame, label_col)


def get_set(session: Session, name: str) -> LabelledSet:
    found = session.scalar(select(LabelledSet).where(LabelledSet.name == name))
    if found is None:
        names = list(session.scalars(select(LabelledSet.name).order_by(LabelledSet.name)))
        raise NotFoundError(did_you_mean("labelled set", name, names))
    return found


def set_changed(session: Session, name: str, set_id: int) -> str | None:
    """Why the store no longer holds the set a run read (sets are never appended to), or None."""
    now = session.scalar(select(LabelledSet.id).where(LabelledSet.name == name))
    if now is None:
        return f"labelled set {name!r} was deleted"
    return f"labelled set {name!r} was deleted and ingested again" if now != set_id else None


def items(session: Session, set_id: int) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(LabelledItem.text, LabelledItem.label)
        .where(LabelledItem.set_id == set_id)
        .order_by(LabelledItem.seq)
    ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def points_of(session: Session, series_id: int) -> tuple[np.ndarray, np.ndarray]:
    ts, values = load_points(session, series_id)
    return np.asarray(ts, dtype=np.int64), np.asarray(values, dtype="float64")


def window_values(session: Session, set_id: int) -> list[np.ndarray]:
    """The stored values inside each labelled window, in item order (each series is read once)."""
    rows = session.execute(
        select(LabelledItem.series_id, LabelledItem.start_ts, LabelledItem.end_ts)
        .where(LabelledItem.set_id == set_id)
        .order_by(LabelledItem.seq)
    ).all()
    points: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    out = []
    for series_id, start, end in rows:
        if series_id not in points:
            points[series_id] = points_of(session, series_id)
        ts, values = points[series_id]
        lo, hi = np.searchsorted(ts, start, "left"), np.searchsorted(ts, end, "right")
        out.append(values[lo:hi])
    return out
