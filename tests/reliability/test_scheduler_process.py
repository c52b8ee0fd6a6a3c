"""RELIABILITY 6, 7, 8, 10 with real processes: kill -9 of the scheduler mid-run, a second scheduler, a
hung task, a graceful stop."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def recur(home, *args, **kw) -> subprocess.CompletedProcess:
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], env=env, capture_output=True, text=True, **kw
    )


def start_scheduler(home) -> subprocess.Popen:
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "scheduler", "run", "--tick", "1", "--grace", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def backdate(home, days: int) -> None:
    with sqlite3.connect(home / "recur.db") as conn:
        conn.execute(f"UPDATE schedule SET created_at = datetime('now', '-{days} days', '-1 hour')")


def ledger(home) -> list[tuple]:
    with sqlite3.connect(home / "recur.db") as conn:
        return conn.execute(
            "SELECT logical_date, attempt, status FROM job_run ORDER BY logical_date, attempt"
        ).fetchall()


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
    first = start_scheduler(home)
    wait_for(lambda: any(s == "running" for _, _, s in ledger(home)))
    time.sleep(1.5)  # inside the task, not still starting
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = start_scheduler(home)
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


def test_a_second_scheduler_refuses(tmp_path):
    home = tmp_path / "home"
    first = start_scheduler(home)
    try:
        wait_for(lambda: "running" in recur(home, "scheduler", "status").stdout)
        second = recur(home, "scheduler", "run", "--tick", "1", timeout=60)
        assert second.returncode == 1 and "another scheduler holds this store" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
    assert "not running" in recur(home, "scheduler", "status").stdout


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
