"""RELIABILITY 36: a series deleted (or its points replaced) while a forecaster trains on it gets no
orphan champion: the run registers nothing and says why, and a series ingested again under the name is
forecast by its baselines, not by a model of the old data."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.conftest import DATA
from tests.reliability import cli_child
from tests.reliability import training_statuses as _status

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]


def test_a_series_deleted_mid_training_gets_no_champion(recur, home):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "air2")
    long = ["--epochs", "30", "--patience", "30", "--windows", "1", "--peers", "none"]
    args = ["forecast", "train", "air2", "--model", "gru", *long]
    child = cli_child(home, *args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
