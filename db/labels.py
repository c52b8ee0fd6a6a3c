"""Labelled texts: reading a CSV strictly, and the queries (session first, never commit)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import InputError, NotFoundError, did_you_mean
from db.models import LabelledItem, LabelledSet


def read_labelled(
    path: Path, text_col: str, label_col: str, encoding: str = "utf-8"
) -> tuple[list[str], list[str]]:
    """Texts and labels, refused with file, line and column for unknown columns, empty values, one class."""
    import pandas as pd

    from db.csvread import _decode_error

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(f"{path}: no such file, or it is empty")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, index_col=False)
    except UnicodeDecodeError as exc:
        raise InputError(_decode_error(path, encoding)) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: cannot parse as CSV: {str(exc).strip()}") from exc
    for option, col in (("--text-col", text_col), ("--label-col", label_col)):
        if col not in frame.columns:
            cols = ", ".join(map(repr, frame.columns))
            raise InputError(f"{path}: {option} {col!r} is not a column; the columns are: {cols}")
    if len(frame) == 0:
        raise InputError(f"{path}: the file has a header but no rows")
    for col, what in ((text_col, "text"), (label_col, "label")):
        empty = frame.index[frame[col].str.strip() == ""]
        if len(empty):
            raise InputError(f"{path}: line {empty[0] + 2}, column {col!r}: the {what} is empty")
    labels = frame[label_col].str.strip().tolist()
    if len(set(labels)) < 2:
        raise InputError(
            f"{path}: column {label_col!r} has a single class ({labels[0]!r}); a classifier needs two or more"
        )
    return frame[text_col].tolist(), labels


def get_set(session: Session, name: str) -> LabelledSet:
    found = session.scalar(select(LabelledSet).where(LabelledSet.name == name))
    if found is None:
        names = list(session.scalars(select(LabelledSet.name).order_by(LabelledSet.name)))
        raise NotFoundError(did_you_mean("labelled set", name, names))
    return found


def items(session: Session, set_id: int) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(LabelledItem.text, LabelledItem.label)
        .where(LabelledItem.set_id == set_id)
        .order_by(LabelledItem.seq)
    ).all()
    return [r[0] for r in rows], [r[1] for r in rows]
