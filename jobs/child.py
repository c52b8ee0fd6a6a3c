"""One run of a task, in a process of its own: `python -m jobs.child RUN_ID PARENT_PID`. The scheduler (or
`jobs run`) starts it and kills it at the timeout; the child beats the run's heart and records its own
result (jobs.execution). Everything slow is imported after the child has tied its life to its parent's."""

from __future__ import annotations

import os
import signal
import sys


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


def main(run_id: int, parent: int) -> int:
    die_with_parent(parent)
    from core.settings import Settings
    from jobs.execution import run_claimed

    return run_claimed(Settings.resolve(), run_id)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
