"""Series queries. Functions take a session first and never commit; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.errors import NotFoundError, did_you_mean
from db.tables import Observation, Series, SeriesGroup, utcnow

if TYPE_CHECKING:
    import numpy as np

INSERT_BATCH = 100_000


@dataclass(frozen=True)
class Resolved:
    """A name resolved to a series, or a group and its members."""

    name: str
    series: list[Series]
    group: SeriesGroup | None = None


def get_series(session: Session, name: str) -> Series | None:
    return session.scalar(select(Series).where(Series.name == name))


def get_group(session: Session, name: str) -> SeriesGroup | None:
    return session.scalar(select(SeriesGroup).where(SeriesGroup.name == name))


def resolve(session: Session, name: str) -> Resolved:
    """A series by name, or a group by name (all its members)."""
    series = get_series(session, name)
    if series is not None:
        return Resolved(name, [series])
    group = get_group(session, name)
    if group is not None:
        return Resolved(name, list(group.members), group)
    names = list(session.scalars(select(SeriesGroup.name).order_by(SeriesGroup.name)))
    names += list(session.scalars(select(Series.name).where(Series.group_id.is_(None)).order_by(Series.name)))
    raise NotFoundError(did_you_mean("series or group", name, names))


def list_series(session: Session) -> list[Series]:
    return list(session.scalars(select(Series).order_by(Series.name)))


def list_groups(session: Session) -> dict[int, str]:
    return {gid: name for gid, name in session.execute(select(SeriesGroup.id, SeriesGroup.name))}


def ensure_group(session: Session, name: str, source: str) -> SeriesGroup:
    group = get_group(session, name)
    if group is None:
        group = SeriesGroup(name=name, source=source)
        session.add(group)
        session.flush()
    return group


def stored_points(session: Session, series_id: int, lo: int, hi: int) -> tuple[list[int], list[float]]:
    rows = session.execute(
        select(Observation.ts, Observation.value)
        .where(Observation.series_id == series_id, Observation.ts.between(lo, hi))
        .order_by(Observation.ts)
    ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def point_before(session: Session, series_id: int, ts: int) -> tuple[int, float] | None:
    row = session.execute(
        select(Observation.ts, Observation.value)
        .where(Observation.series_id == series_id, Observation.ts < ts)
        .order_by(Observation.ts.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def write_points(session: Session, series_id: int, ts: np.ndarray, values: np.ndarray) -> None:
    """Insert in batches straight through the driver: ORM objects for millions of rows would be slow."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _copy_points(conn, series_id, ts, values)
        return
    table = Observation.__table__
    for start in range(0, len(ts), INSERT_BATCH):
        chunk_ts = ts[start : start + INSERT_BATCH].tolist()
        chunk_v = values[start : start + INSERT_BATCH].tolist()
        if conn.dialect.name == "sqlite":
            # The DBAPI cursor of this same transaction takes a lazy iterator of rows.
            cursor = conn.connection.driver_connection.cursor()
            cursor.executemany(
                "INSERT INTO observation (series_id, ts, value) VALUES (?, ?, ?)",
                zip(repeat(series_id), chunk_ts, chunk_v),
            )
            cursor.close()
        else:
            conn.execute(
                table.insert(),
                [
                    {"series_id": series_id, "ts": t, "value": v}
                    for t, v in zip(chunk_ts, chunk_v, strict=True)
                ],
            )


def _copy_points(conn, series_id: int, ts: np.ndarray, values: np.ndarray) -> None:
    """PostgreSQL's COPY FROM STDIN in the session's transaction: rows streamed in binary, no statement
    per row."""
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy("COPY observation (series_id, ts, value) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "int8", "float8"])
        for t, v in zip(ts.tolist(), values.tolist(), strict=True):
            copy.write_row((series_id, t, v))
    cursor.close()


def delete_points(session: Session, series_id: int, ts: np.ndarray) -> None:
    for start in range(0, len(ts), 500):
        chunk = ts[start : start + 500].tolist()
        session.execute(
            delete(Observation).where(Observation.series_id == series_id, Observation.ts.in_(chunk))
        )


def point_stats(session: Session, series_id: int) -> tuple[int, int | None, int | None]:
    n, first, last = session.execute(
        select(func.count(), func.min(Observation.ts), func.max(Observation.ts)).where(
            Observation.series_id == series_id
        )
    ).one()
    return int(n), first, last


def set_stats(
    session: Session, series_id: int, n: int, first: int | None, last: int | None, gaps: int
) -> None:
    session.execute(
        update(Series)
        .where(Series.id == series_id)
        .values(n_obs=n, first_ts=first, last_ts=last, n_gaps=gaps, updated_at=utcnow())
    )


def load_points(session: Session, series_id: int) -> tuple[list[int], list[float]]:
    rows = session.execute(
        select(Observation.ts, Observation.value)
        .where(Observation.series_id == series_id)
        .order_by(Observation.ts)
    ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def delete_subject(session: Session, subject: Resolved) -> int:
    """Delete a series, or a group with its members; returns how many points went with it."""
    ids = [s.id for s in subject.series]
    points = session.scalar(select(func.count()).where(Observation.series_id.in_(ids))) or 0
    session.execute(delete(Observation).where(Observation.series_id.in_(ids)))
    session.execute(delete(Series).where(Series.id.in_(ids)))
    if subject.group is not None:
        session.execute(delete(SeriesGroup).where(SeriesGroup.id == subject.group.id))
    return int(points)
