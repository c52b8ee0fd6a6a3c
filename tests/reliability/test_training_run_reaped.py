"""RELIABILITY 27: a training process killed mid-fit never leaves its run `running` forever: the next
training run on the host, or `recur doctor`, marks it abandoned."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.conftest import DATA
from tests.reliability import cli_child
from tests.reliability import training_statuses as _status

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]


def test_a_killed_training_run_is_marked_abandoned(recur, home):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    args = ["forecast", "train", "airline", "--model", "gru", "--epochs", "5000", "--patience", "5000"]
    child = cli_child(home, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _status(home) != ["running"]:
        time.sleep(0.5)
    assert _status(home) == ["running"]
    time.sleep(2)  # inside fit
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _status(home) == ["running"]
    out = recur.json("doctor", "--no-devices")
    assert out["abandoned_training_runs"] == 1 and _status(home) == ["abandoned"]
    assert recur.json("doctor", "--no-devices")["abandoned_training_runs"] == 0
