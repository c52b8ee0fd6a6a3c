"""Which runs are due: cron occurrences in a schedule's local wall-clock time.

A run's logical date is its local wall-clock time ("2026-10-25T02:30"). Occurrences are enumerated on the
naive local calendar, so each exists exactly once: the 02:30 that a fall-back transition shows twice is one
logical date, and the 02:30 that a spring-forward transition skips is still one, due as soon as the local
clock has passed it. The ledger's unique logical date makes a second fire a no-op."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import InputError


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            f"--tz {name!r} is not a time zone (examples: UTC, Europe/Berlin, America/New_York)"
        ) from exc


def trigger(cron: str):
    """A wall-clock trigger: the cron evaluated on naive local times (held as UTC, which has no DST)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(cron, timezone=UTC)
    except ValueError as exc:
        raise InputError(f"--cron {cron!r}: {exc} (five fields: minute hour day month weekday)") from exc


def local_naive(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(zone(tz)).replace(tzinfo=None)


def logical_key(wall: datetime) -> str:
    return wall.strftime("%Y-%m-%dT%H:%M")


def due(cron: str, tz: str, since: datetime, now: datetime, limit: int | None = 1000) -> list[str]:
    """Logical dates of the occurrences after `since` and at or before `now` (both aware), oldest first;
    at most `limit` (None: every one)."""
    t = trigger(cron)
    start, end = local_naive(since, tz).replace(tzinfo=UTC), local_naive(now, tz).replace(tzinfo=UTC)
    out, previous = [], None
    moment = t.get_next_fire_time(None, start + timedelta(microseconds=1))
    while moment is not None and moment <= end and (limit is None or len(out) < limit):
        out.append(logical_key(moment))
        previous = moment
        moment = t.get_next_fire_time(previous, previous + timedelta(seconds=1))
    return out


def next_runs(cron: str, tz: str, now: datetime, count: int = 1) -> list[str]:
    t, moment, out = trigger(cron), local_naive(now, tz).replace(tzinfo=UTC), []
    for _ in range(count):
        moment = t.get_next_fire_time(None, moment + timedelta(seconds=1))
        out.append(logical_key(moment))
    return out
