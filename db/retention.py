"""Retention's queries: which model versions still hold artifact bytes and the pruning of them (the bytes
go, with the metrics only forecasting with it reads; the row, its record, sha256 and every forecast's and
sample's reference to it stay); which old vintages still hold their points, and the freezing of them
(their scores kept on the row, the points gone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.retention import Held, named_versions
from db.forecasts import POINTS_BATCH
from db.tables import Forecast, ModelVersion, Schedule, VintagePoints

PRUNED = "pruned"  # the status of a version whose artifact bytes retention removed


def held_versions(session: Session) -> list[Held]:
    """Every ready version, newest first, with the bytes of its artifact and inference weights (the
    lengths come from the rows' headers: the blobs are not read)."""
    size = func.coalesce(func.length(ModelVersion.artifact), 0) + func.coalesce(
        func.length(ModelVersion.inference), 0
    )
    rows = session.execute(
        select(
            ModelVersion.id,
            ModelVersion.kind,
            ModelVersion.subject,
            ModelVersion.alias,
            ModelVersion.created_at,
            ModelVersion.promoted_at,
            size,
        )
        .where(ModelVersion.status == "ready")
        .order_by(ModelVersion.id.desc())
    )
    return [Held(*row) for row in rows]


def scheduled_versions(session: Session) -> set[int]:
    """Versions a schedule names (a `version` parameter): they must stay loadable."""
    return named_versions(list(session.scalars(select(Schedule.params))))


def prune(session: Session, ids: list[int], record_of: Callable[[dict | None], dict | None]) -> int:
    """Drop the artifact bytes of these versions (still ready, still not champions: checked again in
    this write transaction), their metrics cut to `record_of` them; returns how many were pruned."""
    if not ids:
        return 0
    rows = session.execute(
        select(ModelVersion.id, ModelVersion.metrics).where(
            ModelVersion.id.in_(ids), ModelVersion.status == "ready", ModelVersion.alias != "champion"
        )
    ).all()
    if rows:
        gone = {"artifact": None, "inference": None, "status": PRUNED}
        session.execute(update(ModelVersion), [{"id": i, "metrics": record_of(m)} | gone for i, m in rows])
    return len(rows)


def old_vintages(session: Session, issued_before: datetime) -> list[Forecast]:
    """Vintages issued before then that still hold their points, except each series' latest (its newest
    origin): by series, then origin."""
    latest = (
        select(Forecast.series_id, func.max(Forecast.origin_ts).label("origin"))
        .group_by(Forecast.series_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Forecast)
            .join(latest, latest.c.series_id == Forecast.series_id)
            .where(
                Forecast.issued_at < issued_before,
                Forecast.scores.is_(None),
                Forecast.origin_ts < latest.c.origin,
            )
            .order_by(Forecast.series_id, Forecast.origin_ts, Forecast.id)
        )
    )


def freeze(session: Session, frozen: list[tuple[Forecast, dict]]) -> int:
    """Each vintage's scores kept on its row and its points deleted; returns the points deleted."""
    for vintage, scores in frozen:  # each holds its points (old_vintages picks those without scores)
        vintage.scores = scores
    ids = [vintage.id for vintage, _ in frozen]
    held = VintagePoints.forecast_id
    for start in range(0, len(ids), POINTS_BATCH):
        session.execute(delete(VintagePoints).where(held.in_(ids[start : start + POINTS_BATCH])))
    session.flush()
    return sum(vintage.horizon for vintage, _ in frozen)
