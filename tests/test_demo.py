"""`recur demo` runs the whole loop into its own home, and running it twice works (--quick: a couple of
epochs per model; the full demo's time is measured in bench/RESULTS.md)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_demo_twice(recur, tmp_path):
    home = tmp_path / "demo-home"
    ran = recur("--home", home, "demo", "--quick")
    first = ran.output
    assert "nats = " in ran.stderr and "nats = " not in ran.stdout  # training progress: stderr
    assert "ETTh1/OT" in first and "shakespeare" in first and f"recur --home {home}" in first
    assert "trained airline: version 1" in first and "report:" in first and "ROMEO:" in first
    second = recur.json("--home", home, "demo", "--quick")
    names = {s["name"] for s in second["series"]}
    assert {"airline", "melbourne_temp", "sunspots", "ETTh1/OT"} <= names
    assert [c["name"] for c in second["corpora"]] == ["shakespeare"]
    assert recur.json("--home", home, "series", "show", "melbourne_temp")["series"][0]["n_obs"] == 3652
    assert (
        len(recur.json("--home", home, "models", "list")) == 6
    )  # each run registers 2 forecasters, 1 generator
    assert (home / "reports" / "demo-report.html").read_text().startswith("<!doctype html>")
