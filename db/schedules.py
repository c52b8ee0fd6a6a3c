"""Schedules and the run ledger. Functions take a session first and never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import ConflictError, NotFoundError, did_you_mean
from db.tables import JobRun, Schedule, SchedulerLease, utcnow

ACTIVE = ("queued", "running")


def get(session: Session, name: str) -> Schedule:
    found = session.scalar(select(Schedule).where(Schedule.name == name))
    if found is None:
        names = list(session.scalars(select(Schedule.name).order_by(Schedule.name)))
        raise NotFoundError(did_you_mean("schedule", name, names))
    return found


def all_schedules(session: Session, enabled_only: bool = False) -> list[Schedule]:
    query = select(Schedule).order_by(Schedule.name)
    if enabled_only:
        query = query.where(Schedule.enabled.is_(True))
    return list(session.scalars(query))


def add(session: Session, **fields) -> Schedule:
    if session.scalar(select(Schedule.id).where(Schedule.name == fields["name"])) is not None:
        raise ConflictError(
            f"a schedule named {fields['name']!r} exists; remove it first or choose another name"
        )
    schedule = Schedule(**fields)
    session.add(schedule)
    session.flush()
    return schedule


def runs(session: Session, schedule_id: int | None = None, limit: int = 50) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if schedule_id is not None:
        query = query.where(JobRun.schedule_id == schedule_id)
    return list(session.scalars(query))


def attempts(session: Session, schedule_id: int, key: str) -> list[JobRun]:
    return list(
        session.scalars(
            select(JobRun)
            .where(JobRun.schedule_id == schedule_id, JobRun.logical_date == key)
            .order_by(JobRun.attempt)
        )
    )


def claim(
    session: Session, schedule: Schedule, key: str, force: bool = False, backoff: timedelta = timedelta(0)
) -> JobRun | None:
    """A new attempt for (schedule, logical date), or None when one is running, one succeeded, the retries
    are spent or the backoff since the last failure has not passed. Abandoned attempts (their scheduler
    died) do not count against the retries. Called inside BEGIN IMMEDIATE: two claimers never both win."""
    earlier = attempts(session, schedule.id, key)
    if any(r.status in ACTIVE for r in earlier):
        return None
    failures = [r for r in earlier if r.status in ("failed", "timed_out")]
    if not force:
        if any(r.status == "succeeded" for r in earlier) or len(failures) > schedule.retries:
            return None
        wait = backoff * (2 ** (len(failures) - 1)) if failures else timedelta(0)
        if failures and (failures[-1].finished_at or utcnow()) + wait > utcnow():
            return None
    run = JobRun(
        schedule_id=schedule.id,
        logical_date=key,
        attempt=len(earlier) + 1,
        status="running",
        started_at=utcnow(),
        heartbeat_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def last_key(session: Session, schedule_id: int) -> str | None:
    return session.scalar(select(func.max(JobRun.logical_date)).where(JobRun.schedule_id == schedule_id))


def abandon_stale(session: Session, older_than: timedelta) -> list[JobRun]:
    """Running rows whose heartbeat stopped (their scheduler died) become `abandoned`, to be retried."""
    cutoff = utcnow() - older_than
    stale = list(
        session.scalars(select(JobRun).where(JobRun.status.in_(ACTIVE), JobRun.heartbeat_at < cutoff))
    )
    for run in stale:
        run.status, run.finished_at = "abandoned", utcnow()
        run.error = (run.error or "") + "heartbeat stopped: the scheduler running it died"
    return stale


def lease(session: Session) -> SchedulerLease | None:
    return session.get(SchedulerLease, 1)


def take_lease(
    session: Session, holder: str, stale_after: timedelta, dead=lambda _holder: False
) -> str | None:
    """Take or renew the store's scheduler lease; returns the live holder's name when it is someone else.
    A holder is gone when its heartbeat is stale, or when `dead(holder)` says so (its process has exited)."""
    current = lease(session)
    now = utcnow()
    if current is None:
        session.add(SchedulerLease(id=1, holder=holder, acquired_at=now, heartbeat_at=now))
        return None
    if current.holder != holder and current.heartbeat_at > now - stale_after and not dead(current.holder):
        return current.holder
    if current.holder != holder:
        current.holder, current.acquired_at = holder, now
    current.heartbeat_at = now
    return None


def release_lease(session: Session, holder: str) -> None:
    current = lease(session)
    if current is not None and current.holder == holder:
        session.delete(current)


def is_stale(moment: datetime | None, after: timedelta) -> bool:
    return moment is None or moment < utcnow() - after


def _run_row(r: JobRun, name: str) -> dict:
    fmt = lambda d: d.isoformat(sep=" ", timespec="seconds") if d else None  # noqa: E731
    seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at and r.started_at else None
    return {
        "id": r.id,
        "schedule": name,
        "logical_date": r.logical_date,
        "attempt": r.attempt,
        "status": r.status,
        "started": fmt(r.started_at),
        "seconds": seconds,
        "error": (r.error or "").strip().splitlines()[-1] if r.error else None,
        "outputs": r.outputs,
    }


def history(session: Session, name: str | None = None, limit: int = 50) -> list[dict]:
    """The ledger's latest runs (of one schedule, or of all), newest first, with their schedule's name."""
    sid = get(session, name).id if name else None
    names = {s.id: s.name for s in session.scalars(select(Schedule))}
    return [_run_row(r, names.get(r.schedule_id, "?")) for r in runs(session, sid, limit)]


HEARTBEAT_ALIVE_S = 120


def scheduler_state(session: Session) -> dict:
    """Whether the store's scheduler is alive: its lease's holder and how long since its heartbeat."""
    current = lease(session)
    age = (utcnow() - current.heartbeat_at).total_seconds() if current else None
    alive = current is not None and age is not None and age < HEARTBEAT_ALIVE_S
    state = "running" if alive else (f"stale: not heard from for {age:.0f} s" if current else "not running")
    return {"scheduler": current.holder if current else None, "heartbeat_age_s": age, "state": state}
