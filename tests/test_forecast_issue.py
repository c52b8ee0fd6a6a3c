"""What recur issues: per-series serving in a group with short members, refits up to a cut, ensembles,
the holdout evaluation and `backtest --model auto`."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

TINY = ["--horizon", "6", "--units", "4", "--epochs", "2", "--windows", "3", "--patience", "2"]


@pytest.fixture
def shop(recur, write):
    """A long-format group: two long seasonal series and one too short to backtest (30 points)."""
    rng = np.random.default_rng(0)
    rows = ["store,week,sales"]
    for store, n, level in (("a", 160, 50), ("b", 160, 80), ("short", 30, 30)):
        t = np.arange(n)
        values = level + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
        rows += [f"{store},{i + 1},{v:.3f}" for i, v in enumerate(values)]
    recur(
        "series", "ingest", write("shop.csv", "\n".join(rows) + "\n"), "--id-col", "store", "--name", "shop"
    )
    return recur


def test_a_group_with_a_short_member_trains_and_serves_every_series(shop):
    out = shop.json("forecast", "train", "shop", "--model", "gru", "--season", "12", "--force", *TINY)
    serve = out["metrics"]["serve"]
    assert set(serve) == {"shop/a", "shop/b", "shop/short"}
    # too short to backtest, but the gate passed (forced) on the evidence pooled over the others
    assert serve["shop/short"] == out["metrics"]["lead"]
    assert set(out["metrics"]["backtest"]["per_series"]) == {"shop/a", "shop/b"}
    assert sum(out["served"].values()) == 3
    text = shop("forecast", "train", "shop", "--model", "gru", "--season", "12", *TINY).stdout
    assert "served" in text
    issued = shop.json("forecast", "predict", "shop")
    methods = {f["series"]: f["method"] for f in issued["forecasts"]}
    assert methods["shop/short"] == serve["shop/short"] and len(methods) == 3
    longer = shop.json(
        "forecast", "train", "shop", "--model", "gru", "--season", "12", "--lookback", "36", "--force", *TINY
    )
    simple = {"naive", "seasonal_naive", "naive2", "drift", "mean", "auto_ets", "auto_theta"}
    assert longer["metrics"]["serve"]["shop/short"] in simple  # the network cannot read 36 of its 30 points


def test_a_series_leaves_the_network_only_for_a_baseline_that_beat_it_there(shop):
    out = shop.json("forecast", "train", "shop", "--model", "gru", "--season", "12", *TINY)
    lead = out["metrics"]["lead"]  # the network alone, or its combination with the peers
    for name, scores in out["metrics"]["backtest"]["per_series"].items():
        served = out["metrics"]["serve"][name]
        assert served == lead or scores[served]["mase"] < scores[lead]["mase"]


def test_until_trains_on_what_was_known_and_as_of_forecasts_from_there(shop):
    out = shop.json("forecast", "train", "shop", "--model", "rnn", "--until", "120", "--force", *TINY)
    with shop.db() as conn:
        [(config,)] = conn.execute("SELECT config FROM model_version WHERE id = ?", (out["version"],))
    assert [r[1] for r in json.loads(config)["data_range"]] == [120, 120, 30]
    issued = shop.json("forecast", "predict", "shop", "--as-of", "120")
    assert {f["series"]: f["origin"] for f in issued["forecasts"]}["shop/a"] == "120"
    assert "--until 'soon' is not an integer step" in shop.fails(
        "forecast", "train", "shop", "--until", "soon", *TINY
    )


def test_an_ensemble_is_stored_as_one_model_and_predicts(shop):
    out = shop.json(
        "forecast", "train", "shop/a", "--model", "gru", "--ensemble", "2", "--season", "12", "--force", *TINY
    )
    assert out["promoted"]
    issued = shop.json("forecast", "predict", "shop/a")
    assert issued["forecasts"][0]["points"] == 6 and issued["model_version"] == out["version"]
    refused = shop.fails("forecast", "predict", "shop/a", "--level", "50,90")  # never a silent overwrite
    assert "stored with horizon 6, levels 80,95" in refused and "--replace" in refused
    shop.json(
        "forecast", "predict", "shop/a", "--level", "50,90", "--replace"
    )  # any whole level has its width
    [first] = [points[0].intervals for points in shop.points().values()]
    lo50, hi50 = first["50"]
    lo90, hi90 = first["90"]
    assert lo90 < lo50 < hi50 < hi90
    assert "'150' is not a whole percentage from 1 to 99" in shop.fails(
        "forecast", "predict", "shop/a", "--level", "150", code=2
    )


def test_evaluate_scores_the_issued_forecast_on_hidden_points(shop, tmp_path):
    out = shop.json(
        "forecast", "evaluate", "shop", "--holdout", "6", "--model", "gru", "--season", "12",
        "--out", tmp_path / "held.csv", *TINY[2:],
    )  # fmt: skip
    assert out["holdout"] == 6 and out["series"] == 3
    # what served says why: the gate's pick, or (refused) each series' own best method without the network
    assert ("no model passed the gate" in out["served_by"]) != out["promoted"]
    assert {"issued", "network", "naive", "naive2", "seasonal_naive", "drift", "mean"} <= set(out["scores"])
    assert out["scores"]["naive2"]["owa"] == pytest.approx(1.0)
    for method, s in out["scores"].items():  # every method's intervals scored beside its points
        assert s["wql"] > 0 and s["msis"] > 0, method
    with open(tmp_path / "held.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18 and {r["series"] for r in rows} == {"shop/a", "shop/b", "shop/short"}
    assert shop.count("model_version") == 0  # nothing stored
    first = rows[0]
    assert first["issued"] == first[first["issued_by"]] or first["issued_by"] == "gru"


def test_backtest_auto_compares_every_candidate(shop):
    out = shop.json("forecast", "backtest", "shop/a", "--season", "12", *TINY)
    assert set(out["auto"]) == {
        "gru (lookback 24)",
        "lstm (lookback 24)",
        "attention (lookback 24)",
        f"{out['model']} (lookback 12)",  # the best again at one horizon (at least a season)
    }
    assert out["model"] == min(out["auto"], key=out["auto"].get).split()[0]
    text = shop("forecast", "backtest", "shop/a", "--season", "12", *TINY).output
    assert "candidates (--model auto" in text and "attention (lookback 24)" in text


def test_a_budget_stops_the_candidates_and_trains_the_better_half_on(shop):
    slow = ["--horizon", "6", "--units", "4", "--windows", "3", "--epochs", "500", "--patience", "400"]
    text = shop("forecast", "backtest", "shop/a", "--season", "12", "--budget", "0.05", *slow).output
    lines = text.splitlines()
    first = [line for line in lines if "stopped by the budget" in line and not line.startswith("rung")]
    assert len(first) == 4  # gru, lstm, attention, then the best at one horizon: each stopped by the clock
    assert sum(line.startswith("rung 1:") for line in lines) == 2  # the better half trained on
    assert sum(line.startswith("rung 2:") for line in lines) == 1  # then the best of those


def test_refit_tune_continues_the_backtest_network_briefly(shop):
    out = shop.json("forecast", "train", "shop/a", "--model", "gru", "--refit", "tune", "--force", *TINY)
    with shop.db() as conn:
        [(history,)] = conn.execute(
            "SELECT r.history FROM training_run r JOIN model_version v ON v.training_run_id = r.id "
            "WHERE v.id = ?",
            (out["version"],),
        )
    assert len(json.loads(history)["loss"]) == 1  # a tenth of at most 2 epochs, rounded up
    assert shop.json("forecast", "predict", "shop/a")["model_version"] == out["version"]


def _coverage_of_hidden_tails(series: list[np.ndarray], horizon: int) -> float:
    from forecaster.methods import forecast as baseline_forecast

    inside = []
    for values in series:
        _point, limits = baseline_forecast(values[:-horizon], "naive", horizon, 1, (80,))
        lo, hi = limits["80"]
        inside.append((values[-horizon:] >= lo) & (values[-horizon:] <= hi))
    return float(np.mean(inside))


def test_baseline_intervals_of_a_growing_series_follow_its_level():
    """Series that grew tenfold: errors measured when they were small must not set today's widths."""
    rng = np.random.default_rng(1)
    growing = [np.exp(np.cumsum(rng.normal(0.02, 0.03, 240))) * 10 for _ in range(200)]
    assert abs(_coverage_of_hidden_tails(growing, 12) - 0.8) < 0.06
    # a series that crosses zero keeps additive errors, and is calibrated as well
    walks = [np.cumsum(rng.normal(0, 1, 240)) for _ in range(200)]
    assert abs(_coverage_of_hidden_tails(walks, 12) - 0.8) < 0.06
