"""RELIABILITY 36: a series deleted (or its points replaced) while a forecaster trains on it gets no
orphan champion: the run registers nothing and says why, and a series ingested again under the name is
forecast by its baselines, not by a model of the old data. The same for a corpus under a text generator
and a labelled set under a classifier."""

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


DELETED = {  # what a run trains on, how it is stored, how it is deleted, how it is trained at length
    "textgen": (
        ["corpus", "ingest", str(DATA / "tinyshakespeare.txt"), "--name", "c2"],
        ["corpus", "delete", "c2", "--yes"],
        ["textgen", "train", "c2", "--preset", "tiny", "--epochs", "1", "--units", "16", "--seq-len", "32"],
        "corpus 'c2' was deleted",
    ),
    "classifier": (
        ["labels", "ingest", str(DATA / "sentiment_labelled_sentences.csv"), "--name", "s2"],
        ["labels", "delete", "s2", "--yes"],
        ["classify", "train", "s2", "--model", "gru", "--units", "8", "--epochs", "6", "--patience", "6"],
        "labelled set 's2' was deleted",
    ),
}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the store's part: the series' test
@pytest.mark.parametrize("kind", DELETED)
def test_a_corpus_or_labelled_set_deleted_mid_training_gets_no_model(recur, home, kind):
    store, delete, train, said = DELETED[kind]
    recur(*store)
    child = cli_child(home, *train, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _status(home) != ["running"]:
        time.sleep(0.2)
    assert _status(home) == ["running"]
    recur(*delete)
    _out, err = child.communicate(timeout=600)
    assert child.returncode == 1, err
    assert f"{said} while this run trained on it; nothing was registered" in err
    assert "Traceback" not in err and _status(home) == ["failed"]
    assert recur.count("model_version") == 0
