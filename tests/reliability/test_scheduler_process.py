"""RELIABILITY 6, 7, 8, 10 with real processes, on SQLite and on PostgreSQL: kill -9 of the scheduler
mid-run, a hung task, a graceful stop, and two schedulers on one store failing over (a leader frozen, then
killed, a standby taking over; a stale leader that wakes up cannot start a run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, Recur

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]


def recur(home, *args, **kw) -> subprocess.CompletedProcess:
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], env=env, capture_output=True, text=True, **kw
    )


def start_scheduler(
    home, *options: str, log: Path | None = None, env: dict | None = None
) -> subprocess.Popen:
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)} | (env or {})
    command = ["scheduler", "run", "--tick", "1", "--grace", "5", *options]
    with open(log or os.devnull, "w") as stderr:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )


def backdate(home, days: int) -> None:
    with Recur(home).db() as conn:
        if os.environ.get("RECUR_DB"):
            ago = f"timezone('utc', now()) - interval '{days} days 1 hour'"
        else:
            ago = f"datetime('now', '-{days} days', '-1 hour')"
        conn.execute(f"UPDATE schedule SET created_at = {ago}")


def ledger(home) -> list[tuple]:
    with Recur(home).db() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                "SELECT logical_date, attempt, status FROM job_run ORDER BY logical_date, attempt"
            ).fetchall()
        ]


def wait_for(predicate, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


def test_kill_9_mid_run_then_restart_gives_one_success_per_logical_date(tmp_path):
    home = tmp_path / "home"
    assert (
        recur(
            home, "jobs", "add", "n", "--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=4"
        ).returncode
        == 0
    )
    backdate(home, 2)  # two or three logical dates are due at once, whatever the time of day
    lease = ("--lease", "8")  # the killed run is noticed once its heartbeat is a lease old
    first = start_scheduler(home, *lease)
    wait_for(lambda: any(s == "running" for _, _, s in ledger(home)))
    time.sleep(1.5)  # inside the task, not still starting
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = start_scheduler(home, *lease)
    try:
        wait_for(
            lambda: (
                len({d for d, _, s in ledger(home) if s == "succeeded"}) >= 2
                and not any(s == "running" for _, _, s in ledger(home))
            )
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    rows = ledger(home)
    succeeded = [d for d, _, s in rows if s == "succeeded"]
    assert len(succeeded) == len(set(succeeded)) == len({d for d, _, _ in rows})
    assert any(s == "abandoned" for _, _, s in rows), rows  # the killed run was noticed, then retried


def leader(home) -> str | None:
    state = json.loads(recur(home, "--json", "scheduler", "status").stdout)
    return state["scheduler"] if state["state"] == "running" else None


def test_a_standby_takes_over_and_a_stale_leader_cannot_run(tmp_path):
    """Two schedulers on one store. The leader is frozen (SIGSTOP: alive, silent, like a partitioned host):
    the standby takes over once the lease lapses; the old leader, woken up, steps down without starting a
    run. Then the new leader is killed (SIGKILL) and the first takes over again. Every logical date
    succeeds exactly once."""
    home, lease = tmp_path / "home", 6
    added = recur(home, "jobs", "add", "n", "--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=3")
    assert added.returncode == 0, added.stderr
    backdate(home, 4)  # four or five logical dates are due at once
    first = start_scheduler(home, "--lease", str(lease), log=tmp_path / "scheduler-1.log")
    wait_for(lambda: leader(home) is not None and any(s == "running" for *_, s in ledger(home)))
    assert leader(home).endswith(f":{first.pid}")
    second = start_scheduler(home, "--lease", str(lease), log=tmp_path / "scheduler-2.log")
    try:
        time.sleep(2)
        first.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        wait_for(lambda: (leader(home) or "").endswith(f":{second.pid}"), timeout=lease + 30)
        assert time.monotonic() - frozen <= lease + 15  # the lease, plus the standby's poll
        first.send_signal(signal.SIGCONT)
        wait_for(lambda: "lost the lease" in (tmp_path / "scheduler-1.log").read_text(), timeout=lease + 10)
        wait_for(
            lambda: (
                len({d for d, _, s in ledger(home) if s == "succeeded"}) >= 4
                and not any(s == "running" for *_, s in ledger(home))
            )
        )
        second.send_signal(signal.SIGKILL)
        second.wait()
        killed = time.monotonic()
        wait_for(lambda: (leader(home) or "").endswith(f":{first.pid}"), timeout=lease + 30)
        assert time.monotonic() - killed <= lease + 15
    finally:
        for process in (first, second):
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    rows = ledger(home)
    succeeded = [d for d, _, s in rows if s == "succeeded"]
    assert len(succeeded) == len(set(succeeded)) == len({d for d, _, _ in rows}), rows


def test_a_hung_task_times_out_and_the_next_date_still_runs(tmp_path):
    home = tmp_path / "home"
    added = recur(
        home,
        "jobs",
        "add",
        "h",
        "--task",
        "sleep",
        "--cron",
        "0 2 * * *",
        "--param",
        "seconds=600",
        "--timeout",
        "5s",
    )
    assert added.returncode == 0, added.stderr
    backdate(home, 2)  # two or three logical dates, whatever the time of day
    sched = start_scheduler(home)
    try:
        wait_for(lambda: len([r for r in ledger(home) if r[2] == "timed_out"]) >= 2)
    finally:
        sched.send_signal(signal.SIGTERM)
        assert sched.wait(timeout=30) == 0
    rows = ledger(home)
    assert len({d for d, _, s in rows if s == "timed_out"}) >= 2 and not any(s == "running" for *_, s in rows)
