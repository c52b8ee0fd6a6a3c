"""The README's forecasting and ingest examples added with evaluate, --until, --as-of and --time-col none,
run as written (training ones with two epochs appended) against the bundled data."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
MARKERS = ("--until", "--as-of", "forecast evaluate airline", "--time-col none")
TRAINS = ("forecast train", "forecast evaluate")


def examples() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    return [
        shlex.split(line)[1:]
        for line in lines
        if line.startswith("recur ") and any(m in line for m in MARKERS)
    ]


def test_the_examples_are_found():
    assert len(examples()) == 4


@pytest.fixture
def store(recur, monkeypatch):
    monkeypatch.chdir(README.parent)
    recur("series", "ingest", "data/airline_passengers.csv", "--name", "airline")
    return recur


def test_the_readme_examples_run_as_written(store):
    for args in examples():
        extra = ["--epochs", "2"] if any(" ".join(args).startswith(t) for t in TRAINS) else []
        store(*args, *extra)
    assert store.json("forecast", "predict", "airline", "--as-of", "1958-12-01")["forecasts"][0][
        "origin"
    ] == ("1958-12-01")
