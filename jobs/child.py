"""One run of a task, in a process of its own: `python -m jobs.child RUN_ID PARENT_PID`. The scheduler (or
`jobs run`) starts it, beats its heart and kills it at the timeout; the child records its own result,
unless its run was meanwhile marked abandoned or timed out. Everything slow is imported after the child has
tied its life to its parent's."""

from __future__ import annotations

import os
import signal
import sys

from core.errors import RecurError
from core.settings import Settings
from jobs.tasks import TASKS


def die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when the scheduler that started it dies, so a killed scheduler leaves
    no orphan still running the task (its run is then marked abandoned and retried); a parent that died
    before this point means exit now."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(4)


def finish(settings, run_id: int, status: str, outputs: dict | None = None, error: str | None = None) -> bool:
    """Record the result if the run is still ours to finish; False when it was taken away."""
    from db.engine import write_session
    from db.tables import JobRun, utcnow

    with write_session(settings) as session:
        run = session.get(JobRun, run_id)
        if run.status != "running":
            return False
        run.status, run.finished_at, run.outputs, run.error = status, utcnow(), outputs, error
        return True


def one_line(exc: BaseException, run_id: int) -> str:
    """What the ledger keeps of a failure: the cause in one line; the traceback stays in the run's log."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, RecurError):
        return text
    return f"{type(exc).__name__}: {text} (traceback in logs/run-{run_id}.log)"


def main(run_id: int, parent: int) -> int:
    die_with_parent(parent)
    import traceback

    from db.engine import write_session
    from db.tables import JobRun, Schedule

    settings = Settings.resolve()
    with write_session(settings) as session:
        run = session.get(JobRun, run_id)
        schedule = session.get(Schedule, run.schedule_id)
        task, params = schedule.task, dict(schedule.params or {})
    try:
        outputs = TASKS[task].run(settings, params)
    except Exception as exc:
        traceback.print_exc()  # into the run's log file
        finish(settings, run_id, "failed", error=one_line(exc, run_id))
        return 1
    return 0 if finish(settings, run_id, "succeeded", outputs=outputs) else 3


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
