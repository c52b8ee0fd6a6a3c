"""Running one (schedule, logical date): claim it in the ledger, then run it where the settings say, with a
wall-clock timeout: in a child process here (`local`), or as a Ray task on the cluster (`ray`). The run
beats its own heart and records its own result (jobs.execution); what it cannot record itself, a timeout,
a crash or the loss of its node, is recorded here."""

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
from jobs.execution import HEARTBEAT_S
from jobs.lease import LEASE_S

ROOT = Path(__file__).resolve().parent.parent
BACKOFF = timedelta(minutes=1)
GPU_TASKS = ("retrain-textgen",)  # on Ray these ask for a GPU when the cluster has one


def execute(
    settings: Settings,
    schedule_name: str,
    key: str,
    force: bool = False,
    backoff: timedelta = BACKOFF,
    fence: sq.Fence | None = None,
) -> dict | None:
    """Run the schedule's task for `key`; None when the ledger says there is nothing to do."""
    abandon_dead(settings)
    with write_session(settings) as session:
        schedule = sq.get(session, schedule_name)
        run = sq.claim(session, schedule, key, force=force, backoff=backoff, fence=fence)
        if run is None:
            return None
        run_id, timeout, task = run.id, schedule.timeout_s, schedule.task
    try:
        if settings.executor == "ray":
            return _settle(settings, run_id, *_on_ray(settings, run_id, task, timeout))
        return _settle(settings, run_id, *_in_child(settings, run_id, timeout))
    except Exception as exc:  # it could not be dispatched (no cluster, no process): failed, retried later
        _settle(settings, run_id, "failed", f"could not be started: {' '.join(str(exc).split())[:300]}")
        raise


def abandon_dead(settings: Settings) -> None:
    """Runs whose heart stopped beating (a killed `jobs run` or `jobs backfill`, a dead scheduler) become
    `abandoned`, as the scheduler marks them: they are not `running` forever."""
    with write_session(settings) as session:
        sq.abandon_stale(session, timedelta(seconds=LEASE_S))


def _in_child(settings: Settings, run_id: int, timeout: int | None) -> tuple[str, str]:
    env = os.environ | settings.environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
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
        try:
            code = child.wait(timeout=timeout or None)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return "timed_out", ""
    tail = log.read_bytes()[-2000:].decode(errors="replace").strip().splitlines()
    said = f": {tail[-1][:300]}" if tail else ""
    return "failed", f"the task process exited with {code}{said} (logs/run-{run_id}.log)"


def _on_ray(settings: Settings, run_id: int, task: str, timeout: int | None) -> tuple[str, str]:
    import ray

    from runtime.cluster import notices_to_stderr, remote

    ref = remote(_ray_run, settings, gpu=task in GPU_TASKS, retries=0).remote(settings.environment(), run_id)
    started = time.monotonic()
    with notices_to_stderr():
        while not ray.wait([ref], timeout=HEARTBEAT_S)[0]:
            if timeout and time.monotonic() - started > timeout:
                ray.cancel(ref, force=True)
                return "timed_out", ""
            _beat_while_queued(settings, run_id)
        try:
            code = ray.get(ref)
        except ray.exceptions.RayError as exc:  # its worker or node died: the run is retried, not failed
            return "abandoned", f"its Ray worker was lost ({type(exc).__name__}); retried"
    return "failed", f"the task exited with {code} on Ray"


def _beat_while_queued(settings: Settings, run_id: int) -> None:
    """A run waiting for a free worker has no task to beat its heart yet: the dispatcher does, until the
    task has started (and recorded its node); from then on only the task does."""
    from sqlalchemy import update

    with write_session(settings) as session:
        queued = (JobRun.id == run_id, JobRun.status == "running", JobRun.node.is_(None))
        session.execute(update(JobRun).where(*queued).values(heartbeat_at=utcnow()))


def _ray_run(environment: dict[str, str], run_id: int) -> int:
    from jobs.execution import run_claimed
    from runtime.cluster import worker_settings

    return run_claimed(worker_settings(environment), run_id)


def _record_pid(settings: Settings, run_id: int, pid: int) -> None:
    with write_session(settings) as session:
        session.get(JobRun, run_id).pid = pid


def _settle(settings: Settings, run_id: int, status: str, error: str) -> dict:
    """A run still `running` after its process ended did not record its own result: record why."""
    with write_session(settings) as session:
        run = session.get(JobRun, run_id)
        if run.status == "running":
            run.status = status
            run.error = error or "killed at the wall-clock timeout"
            run.finished_at = utcnow()
        return {
            "run": run.id,
            "logical_date": run.logical_date,
            "attempt": run.attempt,
            "status": run.status,
            "error": run.error,
            "outputs": run.outputs,
            "node": run.node,
        }
