"""Classifiers from the CLI, with tiny models: labelled data in, baselines on the same split, the gate,
stored predictions, attention explanations, bad input."""

from __future__ import annotations

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


def test_train_scores_against_baselines_and_predict(sentiment):
    out = sentiment.json("classify", "train", "s", "--model", "attention", "--force", *TINY)
    assert set(out["scores"]) == {"model", "majority", "bag_of_words"} and out["alias"] == "champion"
    assert out["metrics"]["test_items"] == 80
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


def test_predict_without_a_champion(sentiment):
    assert "has no classifier champion" in sentiment.fails("classify", "predict", "s", "--text", "hi")
