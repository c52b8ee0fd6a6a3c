"""One claimed run of the ledger, executed wherever it was sent (a local child process or a Ray task): it
records the node it runs on, beats its own heart while the task runs, and records the result, unless the
run was meanwhile taken away (abandoned by a scheduler that saw its heartbeat stop, or timed out). A run
that finds itself taken away stops at once, so that a run retried elsewhere is the only one that writes."""

from __future__ import annotations

import os
import threading
import traceback

from core.errors import RecurError
from core.settings import Settings
from db.engine import write_session
from db.tables import JobRun, Schedule, utcnow
from jobs.tasks import TASKS
from runtime.cluster import this_node

HEARTBEAT_S = 2.0
TAKEN_AWAY = 3  # the exit code of a run that was no longer ours to finish


def finish(settings, run_id: int, status: str, outputs: dict | None = None, error: str | None = None) -> bool:
    """Record the result if the run is still ours to finish; False when it was taken away."""
    with write_session(settings) as session:
        run = session.get(JobRun, run_id)
        if run.status != "running":
            return False
        run.status, run.finished_at, run.outputs, run.error = status, utcnow(), outputs, error
        return True


def one_line(exc: BaseException, log: str) -> str:
    """What the ledger keeps of a failure: the cause in one line; the traceback stays in the run's log."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, RecurError):
        return text
    return f"{type(exc).__name__}: {text} (traceback in {log})"


def still_ours(settings: Settings, run_id: int) -> bool:
    """Beat the run's heart; False when it is no longer running (taken away)."""
    from sqlalchemy import update

    with write_session(settings) as session:
        beat = update(JobRun).where(JobRun.id == run_id, JobRun.status == "running")
        return session.execute(beat.values(heartbeat_at=utcnow())).rowcount > 0


def _beat(settings: Settings, run_id: int, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            ours = still_ours(settings, run_id)
        except Exception:  # a busy store delays one beat; the next one tries again
            continue
        if not ours:
            os._exit(TAKEN_AWAY)


def run_claimed(settings: Settings, run_id: int, heartbeat_s: float = HEARTBEAT_S) -> int:
    """0 succeeded, 1 failed (recorded), TAKEN_AWAY when the run was not ours to finish."""
    node = this_node()
    log = f"the Ray worker's log on {node}" if node.startswith("ray:") else f"logs/run-{run_id}.log"
    with write_session(settings) as session:
        run = session.get(JobRun, run_id)
        if run.status != "running":
            return TAKEN_AWAY
        run.node, run.heartbeat_at = node, utcnow()
        schedule = session.get(Schedule, run.schedule_id)
        task, params = schedule.task, dict(schedule.params or {})
    stop = threading.Event()
    threading.Thread(target=_beat, args=(settings, run_id, stop, heartbeat_s), daemon=True).start()
    try:
        outputs = TASKS[task].run(settings, params)
    except Exception as exc:
        traceback.print_exc()  # into the run's log file
        finish(settings, run_id, "failed", error=one_line(exc, log))
        return 1
    finally:
        stop.set()
    return 0 if finish(settings, run_id, "succeeded", outputs=outputs) else TAKEN_AWAY
