"""Schedules as data: add, list, show, enable, disable, remove; run now; history; backfill; status."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.errors import InputError
from core.settings import Settings
from db import light
from db.names import check_name
from jobs.checks import validate
from jobs.cron import due, local_naive, logical_key, next_runs, trigger, zone


def _row(r) -> dict:
    return {
        "name": r["name"],
        "task": r["task"],
        "cron": r["cron"],
        "timezone": r["timezone"],
        "enabled": bool(r["enabled"]),
        "retries": r["retries"],
        "timeout_s": r["timeout_s"],
        "last": r["last_date"],
        "last_status": r["last_status"],
    }


def list_schedules(settings: Settings) -> list[dict]:
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            return [_row(r) for r in light.schedule_rows(conn)]
    from db import schedules as sq
    from db.engine import read_session

    with read_session(settings) as session:
        out = []
        for s in sq.all_schedules(session):
            last = next(iter(sq.runs(session, s.id, limit=1)), None)
            fields = {
                k: getattr(s, k)
                for k in ("name", "task", "cron", "timezone", "enabled", "retries", "timeout_s")
            }
            out.append(
                _row(fields | {"last_date": last and last.logical_date, "last_status": last and last.status})
            )
        return out


MAX_TIMEOUT = 7 * 86400


def parse_duration(text: str | None) -> int | None:
    """'90s', '45m', '2h', '1d' or plain seconds: at least one second, at most a week. No --timeout at
    all means no limit."""
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    rule = "write a duration from 1s to 7d, e.g. 90s, 45m, 2h (leave --timeout out for no limit)"
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except (ValueError, IndexError) as exc:
        raise InputError(f"--timeout {text!r}: {rule}") from exc
    if not 1 <= seconds <= MAX_TIMEOUT:  # also refuses nan
        raise InputError(f"--timeout {text!r}: {rule}")
    return int(seconds)


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule as `jobs add` asks for it: its name, task and the task's parameters, a cron read in a
    time zone, a wall-clock limit per run (90s, 45m, 2h) and extra attempts after a failure."""

    name: str
    task: str
    cron: str
    tz: str = "UTC"
    params: dict = field(default_factory=dict)
    timeout: str | None = None
    retries: int = 0


PATH_PARAMS = ("path", "file", "out")  # task parameters naming a file or folder


def absolute_paths(params: dict) -> dict:
    """A relative path means where `jobs add` was typed, not wherever the scheduler later runs."""
    return {
        k: str(Path(v).expanduser().absolute()) if k in PATH_PARAMS and v else v for k, v in params.items()
    }


def add_schedule(settings: Settings, spec: ScheduleSpec) -> dict:
    from db import schedules as sq
    from db.engine import write_session

    check_name(spec.name, "schedule")
    zone(spec.tz)
    trigger(spec.cron)
    if spec.retries < 0:
        raise InputError(f"--retries {spec.retries}: must be 0 or more")
    spec = replace(spec, params=absolute_paths(spec.params))
    validate(settings, spec.task, spec.params)
    with write_session(settings) as session:
        sq.add(
            session,
            name=spec.name,
            task=spec.task,
            cron=spec.cron,
            timezone=spec.tz,
            params=spec.params,
            timeout_s=parse_duration(spec.timeout),
            retries=spec.retries,
            enabled=True,
        )
    shown = {"name": spec.name, "task": spec.task, "cron": spec.cron, "timezone": spec.tz}
    return shown | {"params": spec.params, "next": next_runs(spec.cron, spec.tz, datetime.now(UTC), 3)}


def show_schedule(settings: Settings, name: str) -> dict:
    from db import schedules as sq
    from db.engine import read_session

    with read_session(settings) as session:
        s = sq.get(session, name)
        out = {
            k: getattr(s, k)
            for k in ("name", "task", "cron", "timezone", "params", "enabled", "retries", "timeout_s")
        }
        out["next"] = next_runs(s.cron, s.timezone, datetime.now(UTC), 5) if s.enabled else []
        out["recent"] = sq.history(session, name, limit=10)
        return out


def set_enabled(settings: Settings, name: str, enabled: bool) -> dict:
    from db import schedules as sq
    from db.engine import write_session
    from db.tables import utcnow

    with write_session(settings) as session:
        s = sq.get(session, name)
        s.enabled, s.updated_at = enabled, utcnow()
        return {"name": name, "enabled": enabled}


def remove_schedule(settings: Settings, name: str) -> dict:
    from sqlalchemy import func, select

    from db import schedules as sq
    from db.engine import write_session
    from db.tables import JobRun

    with write_session(settings) as session:
        schedule = sq.get(session, name)
        runs = session.scalar(select(func.count()).where(JobRun.schedule_id == schedule.id))
        session.delete(schedule)
        return {"name": name, "removed": True, "runs_removed": runs}


def history(settings: Settings, name: str | None = None, limit: int = 50) -> list[dict]:
    """The latest runs, newest first; runs whose process died (no heartbeat) shown as abandoned."""
    from db import schedules as sq
    from db.engine import read_session
    from jobs.runner import abandon_dead

    abandon_dead(settings)
    with read_session(settings) as session:
        return sq.history(session, name, limit)


def run_now(settings: Settings, name: str) -> dict:
    """Run a schedule's task now, in the foreground, through the same ledger (logical date: now, local)."""
    from db import schedules as sq
    from db.engine import read_session
    from jobs.runner import execute

    with read_session(settings) as session:
        tz = sq.get(session, name).timezone
    key = logical_key(local_naive(datetime.now(UTC), tz))
    outcome = execute(settings, name, key, force=True)
    if outcome is None:
        raise InputError(f"{name!r} is already running for {key}")
    return outcome


MAX_BACKFILL = 1000  # logical dates one backfill may cover


def backfill_dates(settings: Settings, name: str, start: str, end: str, mode: str = "missing") -> list[str]:
    """The logical dates of the schedule between two dates that a backfill would run: the ones never run
    (missing), the ones whose last attempt failed (failed), or all of them again (all), out of at most
    MAX_BACKFILL dates."""
    from db import schedules as sq
    from db.engine import read_session

    with read_session(settings) as session:
        s = sq.get(session, name)
        cron, tz = s.cron, s.timezone
        first, last = _date(start, "--from"), _date(end, "--to") + timedelta(days=1)
        if last <= first:
            raise InputError(f"--from {start} is after --to {end}; give the earlier date first")
        since, until = first.replace(tzinfo=zone(tz)) - timedelta(seconds=1), last.replace(tzinfo=zone(tz))
        keys = due(cron, tz, since, until, limit=MAX_BACKFILL + 1)
        if len(keys) > MAX_BACKFILL:
            raise InputError(
                f"--from {start} --to {end}: more than {MAX_BACKFILL:,} logical dates of {name!r} from "
                f"{keys[0]}; a backfill covers at most {MAX_BACKFILL:,}: narrow the dates"
            )
        return [k for k in keys if _wanted([r.status for r in sq.attempts(session, s.id, k)], mode)]


def backfill(settings: Settings, name: str, keys: list[str]) -> list[dict]:
    """Run the schedule for each of these logical dates (`backfill_dates`), one after another."""
    from jobs.runner import execute

    return [o for k in keys if (o := execute(settings, name, k, force=True)) is not None]


def _wanted(statuses: list[str], mode: str) -> bool:
    if mode == "all":
        return True
    if mode == "failed":
        return bool(statuses) and statuses[-1] in ("failed", "timed_out", "abandoned")
    return "succeeded" not in statuses and "running" not in statuses


def _date(text: str, option: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{option} {text!r}: write a date like 2026-11-01") from exc


def status(settings: Settings) -> dict:
    """Liveness of the store's scheduler and what each schedule did last and does next."""
    from db import schedules as sq
    from db.engine import read_session

    with read_session(settings) as session:
        state = sq.scheduler_state(session)
        schedules = [
            {
                "name": s.name,
                "enabled": s.enabled,
                "next": next_runs(s.cron, s.timezone, datetime.now(UTC))[0] if s.enabled else None,
                "last": (lambda r: r and f"{r.logical_date} {r.status}")(
                    next(iter(sq.runs(session, s.id, 1)), None)
                ),
            }
            for s in sq.all_schedules(session)
        ]
    return state | {"schedules": schedules}
