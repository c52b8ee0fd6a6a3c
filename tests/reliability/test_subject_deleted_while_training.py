"""RELIABILITY 36: a series deleted (or its points replaced) while a forecaster trains on it gets no
orphan champion: the run registers nothing and says why, and a series ingested again under the name is
forecast by its baselines, not by a model of the old data."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import DATA, ROOT, Recur

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]


def _status(home) -> list[str]:
    with Recur(home).db() as conn:
        return [r[0] for r in conn.execute("SELECT status FROM training_run ORDER BY id").fetchall()]


def test_a_series_deleted_mid_training_gets_no_champion(recur, home):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "air2")
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    long = ["--epochs", "400", "--patience", "400", "--windows", "1", "--peers", "none"]
    child = subprocess.Popen(
        [sys.executable, "-m", "cli", "forecast", "train", "air2", "--model", "gru", *long],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _status(home) != ["running"]:
        time.sleep(0.2)
    assert _status(home) == ["running"]
    recur("series", "delete", "air2", "--yes")  # nothing registered yet: the delete is allowed
    _out, err = child.communicate(timeout=600)
    assert child.returncode == 1, err
    assert "'air2' was deleted while this run trained on it; nothing was registered" in err
    assert "Traceback" not in err and _status(home) == ["failed"]
    assert recur.count("model_version") == 0
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "air2")
    made = recur.json("forecast", "predict", "air2", "--horizon", "6")
    assert made["model_version"] is None and made["forecasts"][0]["method"] != "gru"
