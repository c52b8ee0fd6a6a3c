"""Retention's queries: which model versions still hold artifact bytes and what protects each, and the
pruning itself (the bytes go; the row, its metrics, sha256 and every forecast's and sample's reference to
it stay)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.retention import Held, named_versions
from db.tables import ModelVersion, Schedule

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


def prune(session: Session, ids: list[int]) -> int:
    """Drop the artifact bytes of these versions (still ready, still not champions: checked again in
    this write transaction); returns how many were pruned."""
    if not ids:
        return 0
    result = session.execute(
        update(ModelVersion)
        .where(ModelVersion.id.in_(ids), ModelVersion.status == "ready", ModelVersion.alias != "champion")
        .values(artifact=None, inference=None, status=PRUNED)
    )
    return result.rowcount
