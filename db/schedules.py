"""Schedules and the run ledger. Functions take a session first and never commit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ConflictError, NotFoundError, did_you_mean
from db.tables import JobRun, Schedule, SchedulerLease, utcnow

ACTIVE = ("queued", "running")
Fence = tuple[str, int]  # (lease holder, lease epoch): who may claim runs, and since which takeover


class LeaseLost(ConflictError):
    """A scheduler tried to claim a run with a lease it no longer holds (it was taken over)."""


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


def runs(
    session: Session,
    schedule_id: int | None = None,
    limit: int = 50,
    before: int | None = None,
    statuses: tuple[str, ...] = (),
) -> list[JobRun]:
    """The latest runs, newest first (ids below `before`; of the given statuses)."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if schedule_id is not None:
        query = query.where(JobRun.schedule_id == schedule_id)
    if before is not None:
        query = query.where(JobRun.id < before)
    if statuses:
        query = query.where(JobRun.status.in_(statuses))
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
    session: Session,
    schedule: Schedule,
    key: str,
    force: bool = False,
    backoff: timedelta = timedelta(0),
    fence: Fence | None = None,
) -> JobRun | None:
    """A new attempt for (schedule, logical date), or None when one is running, one succeeded, the retries
    are spent or the backoff since the last failure has not passed. Abandoned attempts (their scheduler
    died) do not count against the retries. Two claimers never both win: SQLite's BEGIN IMMEDIATE, and
    on PostgreSQL a row lock on the schedule. A scheduler claims with its fence, and LeaseLost is raised
    when its lease was taken over: a stale leader that wakes up cannot start a run."""
    session.execute(select(Schedule.id).where(Schedule.id == schedule.id).with_for_update())
    if fence is not None and not holds_lease(session, fence):
        raise LeaseLost(f"the scheduler lease is no longer {fence[0]}'s (epoch {fence[1]})")
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
        epoch=fence[1] if fence else None,
    )
    session.add(run)
    session.flush()
    return run


def abandon_stale(session: Session, older_than: timedelta) -> list[JobRun]:
    """Running rows whose heartbeat stopped (their scheduler died) become `abandoned`, to be retried."""
    cutoff = utcnow() - older_than
    stale = list(
        session.scalars(select(JobRun).where(JobRun.status.in_(ACTIVE), JobRun.heartbeat_at < cutoff))
    )
    for run in stale:
        run.status, run.finished_at = "abandoned", utcnow()
        run.error = (run.error or "") + "heartbeat stopped: the process running it died"
    return stale


def lease(session: Session, lock: bool = False) -> SchedulerLease | None:
    return session.get(SchedulerLease, 1, with_for_update=lock)


def holds_lease(session: Session, fence: Fence) -> bool:
    current = lease(session, lock=True)
    return current is not None and (current.holder, current.epoch) == fence


def take_lease(
    session: Session, holder: str, stale_after: timedelta, dead=lambda _holder: False
) -> tuple[str | None, int]:
    """Take or renew the store's scheduler lease: (None, epoch) when it is ours, with the epoch that
    fences our claims, or (the live holder's name, its epoch) when it is someone else's. A holder is gone
    when its heartbeat is stale, or when `dead(holder)` says so (its process has exited). Every change of
    holder increments the epoch. The row is locked (FOR UPDATE on PostgreSQL): two takers never both win."""
    current = lease(session, lock=True)
    now = utcnow()
    if current is None:
        session.add(SchedulerLease(id=1, holder=holder, acquired_at=now, heartbeat_at=now, epoch=1))
        session.flush()
        return None, 1
    live = current.holder and current.heartbeat_at > now - stale_after and not dead(current.holder)
    if current.holder != holder and live:
        return current.holder, current.epoch
    if current.holder != holder:
        current.holder, current.acquired_at, current.epoch = holder, now, current.epoch + 1
    current.heartbeat_at = now
    return None, current.epoch


def release_lease(session: Session, holder: str) -> None:
    """Give the lease up (the row stays, so that epochs keep counting up)."""
    current = lease(session, lock=True)
    if current is not None and current.holder == holder:
        current.holder = ""


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
        "node": r.node,
        "error": (r.error or "").strip().splitlines()[-1] if r.error else None,
        "outputs": r.outputs,
    }


def history(
    session: Session,
    name: str | None = None,
    limit: int = 50,
    before: int | None = None,
    statuses: tuple[str, ...] = (),
) -> list[dict]:
    """The ledger's latest runs (of one schedule, or of all), newest first, with their schedule's name."""
    sid = get(session, name).id if name else None
    names = {s.id: s.name for s in session.scalars(select(Schedule))}
    found = runs(session, sid, limit, before, statuses)
    return [_run_row(r, names.get(r.schedule_id, "?")) for r in found]


HEARTBEAT_ALIVE_S = 120


def scheduler_state(session: Session) -> dict:
    """Whether the store's scheduler is alive: its lease's holder and how long since its heartbeat."""
    current = lease(session)
    current = current if current is not None and current.holder else None
    age = (utcnow() - current.heartbeat_at).total_seconds() if current else None
    alive = current is not None and age is not None and age < HEARTBEAT_ALIVE_S
    state = "running" if alive else (f"stale: not heard from for {age:.0f} s" if current else "not running")
    return {"scheduler": current.holder if current else None, "heartbeat_age_s": age, "state": state}
