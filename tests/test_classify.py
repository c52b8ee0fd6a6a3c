"""Classifiers from the CLI, with tiny models: labelled data in, baselines on the same split, the gate,
stored predictions, attention explanations, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from classifier.data import stratified
from classifier.metrics import scores
from tests.conftest import DATA

TINY = ["--units", "8", "--embedding", "8", "--epochs", "2", "--max-length", "16", "--max-tokens", "500"]


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 80 + [1] * 20)
    s = stratified(y, 0.2, 0.1, 0)
    assert len(np.intersect1d(s.train, s.test)) == 0 and len(s.train) + len(s.val) + len(s.test) == 100
    assert (y[s.test] == 1).sum() == 4 and (y[s.test] == 0).sum() == 16


def test_scores_on_known_values():
    out = scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["a", "b"])
    assert out["accuracy"] == 0.75 and out["confusion"] == [[1, 1], [0, 2]]
    assert (
        out["per_class"]["b"]["precision"] == pytest.approx(2 / 3) and out["per_class"]["a"]["recall"] == 0.5
    )


@pytest.fixture
def sentiment(recur, write):
    lines = (DATA / "sentiment_labelled_sentences.csv").read_text().splitlines()
    recur("labels", "ingest", write("s.csv", "\n".join(lines[:401]) + "\n"), "--name", "s")
    return recur


@pytest.mark.slow
def test_train_scores_against_baselines_and_predict(sentiment):
    out = sentiment.json(
        "classify", "train", "s", "--model", "attention", "--force", "--ensemble", "2", *TINY
    )
    assert set(out["scores"]) == {"model", "majority", "bag_of_words"} and out["alias"] == "champion"
    assert out["metrics"]["test_items"] == 80
    assert len(sentiment.json("models", "show", str(out["version"]))["metrics"]["member_epochs"]) == 2
    [listed] = sentiment.json("models", "list", "--kind", "classifier")
    assert listed["score"] == out["metrics"]["test"]["model"]["macro_f1"]
    pred = sentiment.json(
        "classify", "predict", "s", "--text", "great phone, love it", "--text", "awful", "--explain"
    )
    assert [p["label"] in ("0", "1") for p in pred["predictions"]] == [True, True]
    assert abs(sum(pred["predictions"][0]["probabilities"].values()) - 1) < 1e-5
    assert pred["predictions"][0]["attention"] and sentiment.count("prediction") == 2
    ev = sentiment.json("classify", "evaluate", "s")
    assert len(ev["test"]["model"]["confusion"]) == 2
    report = sentiment.json("report", "export", "--format", "md", "--out", sentiment.home.parent / "r.md")
    assert "Classifier: s" in report["sections"] and report["plots"] >= 1


@pytest.mark.slow
def test_gate_needs_the_baselines_beaten(sentiment):
    out = sentiment.json("classify", "train", "s", "--model", "gru", *TINY)
    model, bow = out["scores"]["model"]["macro_f1"], out["scores"]["bag_of_words"]["macro_f1"]
    assert (out["alias"] == "champion") == (model > bow and model > out["scores"]["majority"]["macro_f1"])


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        (
            "text,label\nhello,1\nbye,0\n",
            ["--label-col", "sentiment"],
            "--label-col 'sentiment' is not a column; the columns are: 'text', 'label'",
        ),
        ("text,label\nhello,1\n,0\n", [], "line 3, column 'text': the text is empty"),
        ("text,label\nhello,1\nbye,1\n", [], "has a single class ('1')"),
        ("text,label\n", [], "header but no rows"),
    ],
)
def test_bad_labelled_files(recur, write, content, args, fragment):
    assert fragment in recur.fails("labels", "ingest", write("l.csv", content), *args)
    assert recur.count("labelled_set") == 0


def test_labels_delete_asks_first(sentiment):
    result = sentiment("labels", "delete", "s", input="n\n", ok=False)
    assert result.exit_code == 1 and sentiment.count("labelled_set") == 1
    assert sentiment.json("labels", "delete", "s", "--yes") == {"name": "s", "deleted": True}
    assert sentiment.count("labelled_set") == 0 and sentiment.count("labelled_item") == 0


def test_predict_without_a_champion(sentiment):
    message = sentiment.fails("classify", "predict", "s", "--text", "hi")
    assert "has no classifier champion: train one (`recur classify train s`" in message
    assert "`recur models promote VERSION`" in message and "(or --force)" not in message


SEASON = {12: "summer", 1: "summer", 2: "summer", 3: "autumn", 4: "autumn", 5: "autumn"}
SEASON |= {6: "winter", 7: "winter", 8: "winter", 9: "spring", 10: "spring", 11: "spring"}


@pytest.fixture
def melbourne(recur, write):
    """Melbourne's daily minimum temperatures, and each month-end labelled with its season."""
    path = DATA / "daily_min_temperatures_melbourne.csv"
    recur("series", "ingest", path, "--name", "melbourne", "--fill", "interpolate")
    dates = [ln.split(",")[0].strip('"') for ln in path.read_text().splitlines()[1:]]
    ends = [d for d, nxt in itertools.pairwise(dates) if d[5:7] != nxt[5:7]][1:]
    rows = "".join(f"{d},{SEASON[int(d[5:7])]}\n" for d in ends)
    return write("seasons.csv", "date,season\n" + rows)


@pytest.mark.slow
def test_labelled_windows_of_a_series_train_and_predict(recur, melbourne):
    out = recur.json(
        "labels", "ingest", melbourne, "--series", "melbourne", "--time-col", "date",
        "--label-col", "season", "--window", "28", "--name", "seasons",
    )  # fmt: skip
    assert out["kind"] == "series" and out["items"] == 118 and set(out["classes"]) == set(SEASON.values())
    trained = recur.json("classify", "train", "seasons", "--model", "gru", "--units", "16", "--epochs", "8")
    sc = trained["scores"]
    assert set(sc) == {"model", "majority", "window_statistics"}
    # Learning, measured against the majority class on the same test windows.
    assert sc["model"]["macro_f1"] > sc["majority"]["macro_f1"]
    pred = recur.json(
        "classify", "predict", "seasons", "--series", "melbourne", "--end", "1990-07-31",
        "--version", str(trained["version"]),
    )  # fmt: skip
    assert pred["predictions"][0]["text"] == "melbourne 1990-07-04 to 1990-07-31"
    assert recur.count("prediction") == 1
    assert "classifies windows of series" in recur.fails(
        "classify", "predict", "seasons", "--text", "hi", "--version", str(trained["version"])
    )


def test_listed_windows_and_their_errors(recur, write):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    good = "series,start,end,label\nairline,1949-01,1949-12,early\nairline,1960-01,1960-12,late\n"
    out = recur.json("labels", "ingest", write("w.csv", good), "--windows", "--name", "eras")
    assert out["items"] == 2 and out["series"] == ["airline"]
    bad = {
        "series,start,end,label\nairlines,1949-01,1949-12,a\nairline,1950-01,1950-12,b\n": (
            "line 2, column 'series': no series named 'airlines'"
        ),
        "series,start,end,label\nairline,1949-12,1949-01,a\nairline,1950-01,1950-12,b\n": (
            "line 2: the window '1949-12' to '1949-01' holds 0 point(s)"
        ),
        "series,start,end,label\nairline,1949-01,soon,a\nairline,1950-01,1950-12,b\n": (
            "line 2, column 'end': 'soon' is not a date/time"
        ),
        "series,begin,end,label\nairline,1949-01,1949-12,a\n": "--windows needs the column 'start'",
    }
    for content, fragment in bad.items():
        assert fragment in recur.fails("labels", "ingest", write("bad.csv", content), "--windows")
    assert recur.count("labelled_set") == 1


def test_series_labels_name_the_bad_time(recur, melbourne, write):
    series = ["--series", "melbourne", "--time-col", "date", "--label-col", "season"]
    late = write("x.csv", "date,season\n1981-02-28,a\n2030-01-01,b\n")
    msg = recur.fails("labels", "ingest", late, *series)
    assert "line 3, column 'date': '2030-01-01' is not a time of series 'melbourne'" in msg
    early = write("y.csv", "date,season\n1981-01-10,a\n1981-02-28,b\n")
    msg = recur.fails("labels", "ingest", early, *series)
    assert "line 2, column 'date': '1981-01-10' has 10 points of 'melbourne' up to it; --window 24" in msg
    both = recur.fails("labels", "ingest", melbourne, *series, "--windows")
    assert "give one" in both and recur.count("labelled_set") == 0


@pytest.mark.slow
def test_classifier_tasks_run_from_the_scheduler(sentiment, write):
    every_night = ["--cron", "0 3 * * *", "--param", "labels=s"]
    sentiment("jobs", "add", "retrain", "--task", "retrain-classifier", *every_night, "--param", "epochs=1")
    assert sentiment.json("jobs", "run", "retrain")["status"] == "succeeded"
    assert sentiment.count("model_version") == 1
    sentiment("classify", "train", "s", "--force", *TINY)
    lines = write("inbox.txt", "what a great film\nterrible service\n")
    sentiment("jobs", "add", "inbox", "--task", "classify", *every_night, "--param", f"file={lines}")
    assert sentiment.json("jobs", "run", "inbox")["status"] == "succeeded"
    assert sentiment.count("prediction") == 2
    assert "no labelled set named 'nope'" in sentiment.fails(
        "jobs", "add", "x", "--task", "retrain-classifier", "--cron", "0 3 * * *", "--param", "labels=nope"
    )
    assert "needs one of --param series=NAME or --param file=PATH" in sentiment.fails(
        "jobs", "add", "y", "--task", "classify", *every_night
    )
    refused = sentiment.fails("labels", "delete", "s", "--yes")
    assert "labelled set 's' is used by schedule 'inbox' (classify)" in refused and "--cascade" in refused
    assert sentiment.count("labelled_set") == 1 and sentiment.count("model_version") == 2
    out = sentiment.json("labels", "delete", "s", "--yes", "--cascade")
    assert len(out["cascaded"]) == 4 and sentiment.count("model_version") == 0
    assert sentiment.count("schedule") == 0 and sentiment.count("labelled_item") == 0


def test_a_window_across_a_gap_is_refused(recur, write):
    path = DATA / "daily_min_temperatures_melbourne.csv"
    recur("series", "ingest", path, "--name", "gappy", "--fill", "none")  # 1984-12-31 is missing
    args = ["--series", "gappy", "--time-col", "date", "--label-col", "season", "--window", "24"]
    across = write("a.csv", "date,season\n1984-06-30,winter\n1985-01-10,summer\n")
    msg = recur.fails("labels", "ingest", across, *args)
    assert "line 3, column 'date': the window ending '1985-01-10' crosses 1 missing time step(s)" in msg
    assert "--fill ffill|interpolate" in msg and recur.count("labelled_set") == 0
    clear = write("b.csv", "date,season\n1984-06-30,winter\n1985-02-10,summer\n")
    assert recur.json("labels", "ingest", clear, *args)["items"] == 2
