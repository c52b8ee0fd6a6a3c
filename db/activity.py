"""What happened in the store, as reports show it: changes since a time, a champion's training history,
the latest forecast of a series, recent samples, and which subjects have something to show. Functions take
a session first and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import forecasts as fq
from db import series as q
from db.tables import Forecast, JobRun, ModelVersion, Sample, Schedule, Series, TrainingRun

FAILED = ("failed", "timed_out", "abandoned")


def since(session: Session, moment: datetime) -> dict:
    """New champions, forecasts issued, failed scheduled runs and samples since `moment`."""
    champions = session.scalars(select(ModelVersion).where(ModelVersion.promoted_at >= moment)).all()
    failed = session.execute(
        select(JobRun, Schedule.name)
        .join(Schedule, Schedule.id == JobRun.schedule_id)
        .where(JobRun.status.in_(FAILED), JobRun.finished_at >= moment)
        .order_by(JobRun.finished_at.desc())
    ).all()
    return {
        "champions": [
            {
                "version": v.id,
                "kind": v.kind,
                "subject": v.subject,
                "architecture": v.architecture,
                "promoted": v.promoted_at.isoformat(sep=" ", timespec="minutes"),
            }
            for v in champions
        ],
        "issued": session.scalar(
            select(func.count()).select_from(Forecast).where(Forecast.issued_at >= moment)
        ),
        "failed": [
            {
                "run": r.id,
                "schedule": name,
                "logical date": r.logical_date,
                "status": r.status.replace("_", " "),
                "error": (r.error or "").strip().splitlines()[-1:][0] if r.error else "",
            }
            for r, name in failed
        ],
        "samples": session.scalar(
            select(func.count()).select_from(Sample).where(Sample.created_at >= moment)
        ),
    }


def training_history(session: Session, version: ModelVersion | None) -> dict | None:
    """The per-epoch history of the run that trained a version, if it was recorded."""
    if version is None or not version.training_run_id:
        return None
    run = session.get(TrainingRun, version.training_run_id)
    return run.history if run else None


def latest_forecast(session: Session, series: Series) -> dict | None:
    """A series' latest stored forecast with its points and the series' values, or None."""
    f = session.scalar(
        select(Forecast)
        .where(Forecast.series_id == series.id)
        .order_by(Forecast.origin_ts.desc(), Forecast.id.desc())
    )
    if f is None:
        return None
    ts, values = q.load_points(session, series.id)
    return {"forecast": f, "points": fq.points(session, f.id), "ts": ts, "values": values}


def latest_versions(session: Session, kind: str, subject: str) -> dict[str, ModelVersion]:
    """A subject's champion and its newest challenger (a version trained after it that lost, or the one it
    replaced), by alias; either may be missing."""
    found = session.scalars(
        select(ModelVersion)
        .where(
            ModelVersion.kind == kind,
            ModelVersion.subject == subject,
            ModelVersion.alias.in_(("champion", "challenger")),
            ModelVersion.status == "ready",
        )
        .order_by(ModelVersion.id.desc())
    ).all()
    out: dict[str, ModelVersion] = {}
    for v in found:
        out.setdefault(v.alias, v)
    return out


def recent_samples(
    session: Session, corpus: str | None, limit: int = 8, before: int | None = None
) -> list[Sample]:
    """Stored samples, newest first (of one corpus's generators; ids below `before`)."""
    query = select(Sample).join(ModelVersion).where(ModelVersion.kind == "textgen")
    if corpus is not None:
        query = query.where(ModelVersion.subject == corpus)
    if before is not None:
        query = query.where(Sample.id < before)
    return list(session.scalars(query.order_by(Sample.id.desc()).limit(limit)))


def reported_subjects(session: Session) -> dict[str, list[str]]:
    """Subjects with something to report: forecasters' subjects, series with stored forecasts, corpora
    with a text generator, labelled sets with a classifier."""
    kinds = session.execute(select(ModelVersion.kind, ModelVersion.subject).distinct()).all()
    with_vintages = {
        s.name
        for s in q.list_series(session)
        if session.scalar(select(Forecast.id).where(Forecast.series_id == s.id).limit(1))
    }
    return {
        kind: sorted({subject for k, subject in kinds if k == kind})
        for kind in ("forecaster", "textgen", "classifier")
    } | {"vintages": sorted(with_vintages)}
