"""`recur demo` ingests the bundled data into its own home, and running it twice works."""

from __future__ import annotations


def test_demo_twice(recur, tmp_path):
    home = tmp_path / "demo-home"
    first = recur("--home", home, "demo").output
    assert "ETTh1/OT" in first and "shakespeare" in first and f"recur --home {home}" in first
    second = recur.json("--home", home, "demo")
    names = {s["name"] for s in second["series"]}
    assert {"airline", "melbourne_temp", "sunspots", "ETTh1/OT"} <= names
    assert [c["name"] for c in second["corpora"]] == ["shakespeare"]
    assert recur.json("--home", home, "series", "show", "melbourne_temp")["series"][0]["n_obs"] == 3652
