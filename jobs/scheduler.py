"""`recur scheduler run`: one foreground daemon per store.

APScheduler 3.x is the clock: an in-memory job store rebuilt from the `schedule` table on every tick (so
edits made from the CLI are picked up), one cron job per schedule plus a reconcile tick, coalesced, with a
misfire grace of hours. What runs is decided by the ledger, not by APScheduler: every tick computes the
due logical dates of each schedule (catching up after downtime), and a (schedule, logical date) that
succeeded or is running is never started again. Running rows whose heartbeat stopped are marked abandoned
and retried.

Several schedulers may run on one store (one per host): a lease in the store, renewed every quarter of
the lease time, makes one of them the leader; the others stand by and take over when the leader's lease
lapses (it was killed, its host died). Every takeover increments the lease epoch, and a run is claimed
only with the current epoch, in the same transaction that checks it: a stale leader that wakes up cannot
start a run, and steps down."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from core.errors import RecurError
from core.settings import Settings
from db import schedules as sq
from db.engine import read_session, write_session
from jobs.cron import due, zone
from jobs.lease import LEASE_S
from jobs.runner import execute

log = logging.getLogger("recur.scheduler")


class SchedulerBusy(RecurError):
    pass


def process_gone(holder: str) -> bool:
    """A holder on this host whose process no longer exists (killed, crashed): no need to wait it out."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    catch_up = timedelta(days=7)  # how far back a missed run is still made up

    def __init__(
        self,
        settings: Settings,
        tick: float = 30.0,
        workers: int = 2,
        clock: Callable[[], datetime] = utc_now,
        runner=execute,
        lease: float = LEASE_S,
    ) -> None:
        self.settings, self.tick_s, self.clock, self.runner = settings, tick, clock, runner
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.stale = timedelta(seconds=lease)
        self.fence: sq.Fence | None = None  # (holder, epoch) while this scheduler leads
        self.leader: str | None = None  # the leader it last saw
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recur-run")
        self.in_flight: set[tuple[str, str]] = set()
        self.lock = threading.Lock()
        self.last_tick = time.monotonic()
        self.specs: dict[str, tuple[str, str]] = {}  # APScheduler job id -> (cron, tz) it was built from

    def acquire(self) -> None:
        holder = self.try_lead()
        if holder is not None:
            raise SchedulerBusy(
                f"another scheduler holds this store: {holder}; stop it first (recur scheduler status)"
            )

    def try_lead(self) -> str | None:
        """Take the lease if it is free or lapsed; the live leader's name when it is not."""
        try:
            with write_session(self.settings) as session:
                holder, epoch = sq.take_lease(session, self.holder, self.stale, dead=process_gone)
        except IntegrityError:  # another scheduler created the lease in the same instant
            return "another scheduler starting at the same moment"
        self.fence = (self.holder, epoch) if holder is None else None
        return holder

    def renew(self) -> bool:
        """Renew the lease; False when it was taken over meanwhile (this scheduler must step down)."""
        with write_session(self.settings) as session:
            holder, epoch = sq.take_lease(session, self.holder, self.stale)
        if holder is not None or self.fence is None or epoch != self.fence[1]:
            self.fence = None
            return False
        return True

    def release(self) -> None:
        with write_session(self.settings) as session:
            sq.release_lease(session, self.holder)
        self.fence = None

    def due_work(self, now: datetime) -> list[tuple[str, str]]:
        """Renew the lease, abandon dead runs, and list the (schedule, logical date) pairs to run."""
        if not self.renew():
            raise SchedulerBusy("lost the lease: another scheduler took over")
        work = []
        with write_session(self.settings) as session:
            for run in sq.abandon_stale(session, self.stale):
                log.warning("run %s (%s) abandoned: its heartbeat stopped", run.id, run.logical_date)
            for s in sq.all_schedules(session, enabled_only=True):
                since = max(s.created_at.replace(tzinfo=UTC) - timedelta(minutes=1), now - self.catch_up)
                work += [
                    (s.name, key) for key in due(s.cron, s.timezone, since, now) if _open(session, s, key)
                ]
        return work

    def tick(self) -> None:
        self.last_tick = time.monotonic()
        for name, key in self.due_work(self.clock()):
            with self.lock:
                if (name, key) in self.in_flight:
                    continue
                self.in_flight.add((name, key))
            self.executor.submit(self._run, name, key)

    def _run(self, name: str, key: str) -> None:
        try:
            outcome = self.runner(self.settings, name, key, fence=self.fence)
            if outcome is not None:
                where = f" on {outcome['node']}" if outcome.get("node") else ""
                log.info("%s %s attempt %s%s: %s", name, key, outcome["attempt"], where, outcome["status"])
        except sq.LeaseLost as exc:
            log.warning("%s %s not started: %s", name, key, exc)
        except Exception:
            log.exception("%s %s: the run could not be started", name, key)
        finally:
            with self.lock:
                self.in_flight.discard((name, key))


def _open(session, schedule, key: str) -> bool:
    """Worth a claim: not succeeded, not running, retries left (the claim itself re-checks, atomically)."""
    earlier = sq.attempts(session, schedule.id, key)
    if any(r.status == "succeeded" or r.status in sq.ACTIVE for r in earlier):
        return False
    return sum(r.status in ("failed", "timed_out") for r in earlier) <= schedule.retries


def sync_jobs(aps, scheduler: Scheduler) -> None:
    """Mirror the schedule table into APScheduler's in-memory store: explicit ids, replace_existing."""
    from apscheduler.triggers.cron import CronTrigger

    with read_session(scheduler.settings) as session:
        wanted = {
            f"schedule-{s.id}": (s.cron, s.timezone) for s in sq.all_schedules(session, enabled_only=True)
        }
    for job in aps.get_jobs():
        if job.id.startswith("schedule-") and job.id not in wanted:
            aps.remove_job(job.id)
            scheduler.specs.pop(job.id, None)
    for job_id, (cron, tz) in wanted.items():
        if aps.get_job(job_id) is None or scheduler.specs.get(job_id) != (cron, tz):
            aps.add_job(
                scheduler.tick,
                CronTrigger.from_crontab(cron, timezone=zone(tz)),
                id=job_id,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=6 * 3600,
                max_instances=1,
            )
            scheduler.specs[job_id] = (cron, tz)


def run_forever(settings: Settings, tick: float = 30.0, grace: float = 60.0, lease: float = LEASE_S) -> int:
    """Until SIGTERM/SIGINT: lead while this scheduler holds the lease, stand by while another does. Exit
    0 after a clean stop; non-zero when the clock thread died."""
    scheduler = Scheduler(settings, tick, lease=lease)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    clock, code, next_step = None, 0, 0.0
    while True:
        if time.monotonic() >= next_step:
            clock = _lead_or_stand_by(scheduler, clock)
            next_step = time.monotonic() + (lease / 4 if clock is not None else min(lease / 4, 5.0))
        if clock is not None and time.monotonic() - scheduler.last_tick > 3 * tick + 30:
            log.error(
                "no tick for %.0f s: the scheduler thread has stopped; exiting",
                time.monotonic() - scheduler.last_tick,
            )
            code = 2
            break
        if stop.wait(1.0):
            break
    if clock is not None:
        clock.shutdown(wait=False)
    log.info("stopping: waiting up to %ss for %d running task(s)", grace, len(scheduler.in_flight))
    _drain(scheduler, grace)
    if scheduler.fence is not None:
        scheduler.release()
    return code


def _lead_or_stand_by(scheduler: Scheduler, clock):
    """One lease step: a leader renews (or steps down when taken over); a standby tries to take over."""
    if clock is not None:
        if scheduler.renew():
            return clock
        log.error("lost the lease to another scheduler: standing by")
        clock.shutdown(wait=False)
        return None
    holder = scheduler.try_lead()
    if holder is not None:
        if scheduler.leader != holder:
            log.info("standing by: %s leads this store; taking over if its lease lapses", holder)
            scheduler.leader = holder
        return None
    scheduler.leader = scheduler.holder
    log.info("%s leads (lease epoch %s), tick %ss", scheduler.holder, scheduler.fence[1], scheduler.tick_s)
    scheduler.specs.clear()
    scheduler.last_tick = time.monotonic()
    return _start_clock(scheduler)


def _start_clock(scheduler: Scheduler):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    aps = BackgroundScheduler(timezone=UTC)

    def reconcile() -> None:
        sync_jobs(aps, scheduler)
        try:
            scheduler.tick()
        except SchedulerBusy as exc:
            log.warning("%s", exc)

    aps.add_job(
        reconcile,
        IntervalTrigger(seconds=scheduler.tick_s),
        id="reconcile",
        next_run_time=utc_now(),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    aps.start()
    return aps


def _drain(scheduler: Scheduler, grace: float) -> None:
    """Let running tasks finish; past the grace period kill them and mark them abandoned (retried later)."""
    deadline = time.monotonic() + grace
    while scheduler.in_flight and time.monotonic() < deadline:
        time.sleep(0.5)
    if scheduler.in_flight:
        from db.tables import utcnow

        with write_session(scheduler.settings) as session:
            for name, key in list(scheduler.in_flight):
                for run in sq.attempts(session, sq.get(session, name).id, key):
                    if run.status != "running":
                        continue
                    if run.pid:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(run.pid, signal.SIGKILL)
                    run.status, run.finished_at, run.error = "abandoned", utcnow(), "the scheduler stopped"
    scheduler.executor.shutdown(wait=True, cancel_futures=True)


def setup_logging(settings: Settings) -> None:
    handlers = [logging.StreamHandler(), logging.FileHandler(settings.subdir("logs") / "scheduler.log")]
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)
