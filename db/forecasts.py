"""Forecast vintages: upserted on (series, origin, method, model version), each with its points packed
into one value on a row of their own (db/packing.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import ConflictError
from db.packing import StoredPoint, pack, unpack
from db.tables import Forecast, Observation, VintagePoints


@dataclass
class Points:
    """A vintage's points: time stamps, values, and per point the interval bounds ({"80": [lo, hi]}) and
    the quantiles ({"0.1": v, ...})."""

    stamps: list[int]
    values: list[float]
    intervals: list[dict]
    quantiles: list[dict] | None = None


@dataclass(frozen=True)
class Choice:
    """How a vintage issued without a model got its method: by a backtest of the methods on the data up to
    `origin`, with this seasonal period."""

    method: str
    origin: int
    season: int


def upsert_forecast(
    session: Session,
    series_id: int,
    version_id: int | None,
    method: str,
    origin: int,
    points: Points,
    replace: bool = False,
    choice: Choice | None = None,
) -> int:
    """Insert or replace one vintage. Its issue time is kept from the first run, so a re-run with the same
    data, model and options leaves identical rows; a vintage of the same origin with another horizon or
    other interval levels is replaced only with `replace` (never silently). `choice`: for one issued
    without a model, how its method was chosen."""
    found = stored_vintage(session, series_id, version_id, method, origin)
    if found is None:
        found = Forecast(
            series_id=series_id,
            model_version_id=version_id,
            method=method,
            origin_ts=origin,
            horizon=len(points.stamps),
        )
        session.add(found)
        session.flush()
    else:
        differs = other_options(session, found, points)
        if differs and not replace:
            raise ConflictError(
                f"{differs}. Pass --replace to replace it, or export it first (recur forecast export)"
            )
        found.horizon = len(points.stamps)
        found.scores = None
    found.chosen_ts = choice.origin if choice else None
    found.chosen_season = choice.season if choice else None
    packed = pack(points.stamps, points.values, points.intervals, points.quantiles)
    stored = session.get(VintagePoints, found.id)
    if stored is None:
        session.add(VintagePoints(forecast_id=found.id, points=packed))
    else:
        stored.points = packed
    session.flush()
    return found.id


def stored_vintage(
    session: Session, series_id: int, version_id: int | None, method: str, origin: int
) -> Forecast | None:
    """The vintage of this series, origin, method and model version, if one is stored."""
    return session.scalar(
        select(Forecast).where(
            Forecast.series_id == series_id,
            Forecast.origin_ts == origin,
            Forecast.method == method,
            Forecast.model_version_id.is_(None)
            if version_id is None
            else Forecast.model_version_id == version_id,
        )
    )


def latest_choices(session: Session, series_ids: list[int], horizon: int, until: int) -> dict[int, Choice]:
    """Each series' newest vintage issued without a model at this horizon, from an origin no later than
    `until`: how its method was chosen (the newest issued of them where several share that origin)."""
    f = Forecast
    mine = (
        f.series_id.in_(series_ids),
        f.model_version_id.is_(None),
        f.horizon == horizon,
        f.chosen_ts.is_not(None),
        f.origin_ts <= until,
    )
    newest = select(f.series_id, func.max(f.origin_ts).label("origin")).where(*mine).group_by(f.series_id)
    newest = newest.subquery()
    rows = session.execute(
        select(f.series_id, f.method, f.chosen_ts, f.chosen_season)
        .join(newest, (f.series_id == newest.c.series_id) & (f.origin_ts == newest.c.origin))
        .where(*mine)
        .order_by(f.id)
    )
    return {sid: Choice(method, chosen, season) for sid, method, chosen, season in rows}


def other_options(session: Session, found: Forecast, points: Points) -> str | None:
    """How a stored vintage differs from `points` in horizon or interval levels (None: it does not)."""
    held = session.get(VintagePoints, found.id)
    first = next(iter(unpack(held.points if held else None)), None)
    stored = sorted((first.intervals or {}) if first else {}, key=int)
    levels = sorted(points.intervals[0] if points.intervals else {}, key=int)
    if found.horizon == len(points.stamps) and stored == levels:
        return None

    def shown(h: int, lv: list[str]) -> str:
        return f"horizon {h}, " + (f"levels {','.join(lv)}" if lv else "no intervals")

    return (
        f"forecast {found.id} from the same origin by {found.method} is stored with "
        f"{shown(found.horizon, stored)}; this one has {shown(len(points.stamps), levels)}"
    )


def vintages(session: Session, series_ids: list[int]) -> list[Forecast]:
    return list(
        session.scalars(
            select(Forecast)
            .where(Forecast.series_id.in_(series_ids))
            .order_by(Forecast.series_id, Forecast.origin_ts, Forecast.id)
        )
    )


def points(session: Session, forecast_id: int) -> list[StoredPoint]:
    return points_of(session, [forecast_id]).get(forecast_id, [])


POINTS_BATCH = 5000  # forecast ids a query (SQLite and psycopg both take this many parameters)


def points_of(session: Session, forecast_ids: list[int]) -> dict[int, list[StoredPoint]]:
    """The points of many vintages, each in time order, in a query per POINTS_BATCH of them (a query per
    vintage made scoring a year of nightly vintages a query each, every night); a pruned one has none."""
    found: dict[int, list[StoredPoint]] = {}
    held = VintagePoints.forecast_id
    for start in range(0, len(forecast_ids), POINTS_BATCH):
        batch = forecast_ids[start : start + POINTS_BATCH]
        rows = session.execute(select(held, VintagePoints.points).where(held.in_(batch)))
        found |= {fid: unpack(blob) for fid, blob in rows}
    return found


def observations(session: Session, series_id: int) -> tuple[np.ndarray, np.ndarray]:
    """A series' time stamps and values, in time order."""
    rows = session.execute(
        select(Observation.ts, Observation.value)
        .where(Observation.series_id == series_id)
        .order_by(Observation.ts)
    ).all()
    return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=float)
