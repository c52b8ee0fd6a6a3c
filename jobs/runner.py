"""Running one (schedule, logical date): claim it in the ledger, run the task in a child process with a
wall-clock timeout, beat the heart while it runs, and record timeouts and crashes the child cannot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from core.settings import Settings
from db import schedules as sq
from db.engine import write_session
from db.tables import JobRun, utcnow

ROOT = Path(__file__).resolve().parent.parent
HEARTBEAT_S = 2.0
BACKOFF = timedelta(minutes=1)


def execute(
    settings: Settings,
    schedule_name: str,
    key: str,
    force: bool = False,
    backoff: timedelta = BACKOFF,
    heartbeat_s: float = HEARTBEAT_S,
) -> dict | None:
    """Run the schedule's task for `key`; None when the ledger says there is nothing to do."""
    with write_session(settings) as session:
        schedule = sq.get(session, schedule_name)
        run = sq.claim(session, schedule, key, force=force, backoff=backoff)
        if run is None:
            return None
        run_id, timeout = run.id, schedule.timeout_s
    env = os.environ | {
        "RECUR_HOME": str(settings.home),
        "RECUR_DB": settings.db_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = settings.subdir("logs") / f"run-{run_id}.log"  # a file, not a pipe: a chatty task never blocks
    with open(log, "wb") as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "jobs.child", str(run_id), str(os.getpid())],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _record_pid(settings, run_id, child.pid)
        code = _wait(settings, run_id, child, timeout, heartbeat_s)
    return _settle(settings, run_id, code, log)


def _record_pid(settings: Settings, run_id: int, pid: int) -> None:
    with write_session(settings) as session:
        session.get(JobRun, run_id).pid = pid


def _wait(settings: Settings, run_id: int, child: subprocess.Popen, timeout: int | None, heartbeat_s: float):
    started = time.monotonic()
    while True:
        try:
            return child.wait(timeout=heartbeat_s)
        except subprocess.TimeoutExpired:
            pass
        if timeout and time.monotonic() - started > timeout:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return "timeout"
        with write_session(settings) as session:
            session.get(JobRun, run_id).heartbeat_at = utcnow()


def _settle(settings: Settings, run_id: int, code, log: Path) -> dict:
    """The child records success and its own exceptions; timeouts and deaths by signal are recorded here."""
    stderr = log.read_bytes()[-2000:].decode(errors="replace")
    with write_session(settings) as session:
        run = session.get(JobRun, run_id)
        if run.status == "running":
            if code == "timeout":
                run.status, run.error = "timed_out", "killed at the wall-clock timeout"
            else:
                last = (stderr.strip().splitlines() or [""])[-1][:300]
                run.status = "failed"
                said = f": {last}" if last else ""
                run.error = f"the task process exited with {code}{said} (logs/run-{run_id}.log)"
            run.finished_at = utcnow()
        return {
            "run": run.id,
            "logical_date": run.logical_date,
            "attempt": run.attempt,
            "status": run.status,
            "error": run.error,
            "outputs": run.outputs,
        }
