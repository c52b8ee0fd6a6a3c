"""Crash, kill and concurrency trials: each runs recur in processes of its own."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, Recur


def training_statuses(home) -> list[str]:
    """The status of every training run in the home's store, oldest first."""
    with Recur(home).db() as conn:
        return [r[0] for r in conn.execute("SELECT status FROM training_run ORDER BY id").fetchall()]


def cli_child(home, *args: str, **popen) -> subprocess.Popen:
    """`recur ARGS` in a process of its own, on the home's store."""
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, cwd=ROOT, **popen)
