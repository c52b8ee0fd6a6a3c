"""Forecasting from the CLI on bundled and generated data, with tiny models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forecaster import metrics
from forecaster.intervals import QUANTILES
from tests.conftest import DATA, Recur, daily_csv

TINY = [
    "--lookback",
    "12",
    "--horizon",
    "6",
    "--units",
    "4",
    "--epochs",
    "3",
    "--windows",
    "3",
    "--patience",
    "2",
]


@pytest.fixture
def airline(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    return recur


def rows(home, sql: str):
    """The test's store (SQLite, or PostgreSQL under the `backend` fixture), JSON columns as text."""
    with Recur(home).db() as conn:
        return [
            tuple(json.dumps(v) if isinstance(v, dict) else v for v in r)
            for r in conn.execute(sql).fetchall()
        ]


SIMPLE_NAMES = {"naive", "seasonal_naive", "naive2", "drift", "mean"}
BASELINE_NAMES = SIMPLE_NAMES | {"auto_ets", "auto_theta"}


def sine_error(out: dict, start: int = 240) -> float:
    """How far a predicted day is from the noiseless daily sine the test series follow."""
    values = np.array([p["value"] for p in out["forecasts"][0]["values"]])
    t = np.arange(start, start + len(values))
    return float(np.mean(np.abs(values - (50 + 20 * np.sin(2 * np.pi * t / 24)))))


@pytest.mark.usefixtures("backend")
def test_train_gate_follows_the_numbers(airline):
    out = airline.json("forecast", "train", "airline", "--model", "gru", "--confidence", "0", *TINY)
    overall = out["metrics"]["backtest"]["overall"]
    assert set(overall) == {"model", "combination"} | BASELINE_NAMES
    best = min(BASELINE_NAMES, key=lambda m: overall[m]["mase"])
    lead = min(("model", "combination"), key=lambda m: overall[m]["mase"])  # the network's best use
    assert out["metrics"]["lead"] == lead
    beats = overall[lead]["mase"] < overall[best]["mase"]
    assert out["promoted"] == beats and out["alias"] == ("champion" if beats else "challenger")
    assert f"the best baseline, {best}, ({overall[best]['mase']:.4f})" in out["reason"]
    gate = out["metrics"]["gate"]
    assert gate["baseline"] == best and 0 <= gate["vs_baseline"]["sure"] <= 1
    [version] = airline.json("models", "list")
    assert version["id"] == out["version"] and version["architecture"] == "gru"


@pytest.mark.usefixtures("backend")
def test_force_promotes_and_predict_twice_leaves_identical_rows(airline, home):
    airline("forecast", "train", "airline", "--model", "lstm", "--force", *TINY)
    first = airline.json("forecast", "predict", "airline")
    vintages = (
        "SELECT f.id, f.origin_ts, f.issued_at, v.points FROM forecast f "
        "JOIN vintage_points v ON v.forecast_id = f.id"
    )
    snapshot = rows(home, vintages)
    second = airline.json("forecast", "predict", "airline")
    assert first["forecasts"] == second["forecasts"] and first["method"] in ("lstm", "combination")
    assert rows(home, vintages) == snapshot
    [points] = airline.points().values()
    assert len(snapshot) == 1 and len(points) == 6 and [p.step for p in points] == list(range(1, 7))
    lo80, hi80 = points[0].intervals["80"]
    assert lo80 < points[0].value < hi80
    assert all(v == float(f"{v:.8g}") for v in (lo80, hi80, points[0].value))  # the store's 8 digits
    assert points[0].quantiles["0.5"] == points[0].value
    exported = [[p["value"], p["lower80"], p["q10"]] for p in first["forecasts"][0]["values"]]
    assert exported == [[p.value, p.intervals["80"][0], p.quantiles["0.1"]] for p in points]
    as_text = json.dumps([[p.value, p.intervals, p.quantiles] for p in points], separators=(",", ":"))
    assert len(bytes(snapshot[0][3])) < len(as_text) / 2  # packed: smaller than its compact JSON text


def test_without_a_champion_each_series_gets_its_best_baseline(airline, tmp_path):
    out = airline.json("forecast", "predict", "airline", "--horizon", "12")
    assert out["method"] == "auto_theta" and out["model_version"] is None  # it wins airline's backtest
    text = airline("forecast", "predict", "airline").output
    assert "the best baseline of each series' backtest of 1960-12-01 (auto_theta 1): no champion" in text
    airline("forecast", "export", "airline", "--out", tmp_path / "f.csv")
    lines = (tmp_path / "f.csv").read_text().splitlines()
    assert lines[0].startswith("series,origin,issued_at,method,model_version,time,step,value,lower80,upper80")
    first = lines[1].split(",")
    assert first[3] == "auto_theta" and first[5:7] == ["1961-01-01", "1"]
    assert 417.0 < float(first[7]) < 480  # January 1960 (417) carried up by the trend, not repeated
    quantiles = [f"q{q}" for q in range(10, 100, 10)]
    assert lines[0].endswith(",lower80,upper80,lower95,upper95," + ",".join(quantiles))
    row = dict(zip(lines[0].split(","), first, strict=True))
    fan = [float(row[q]) for q in quantiles]
    assert fan == sorted(fan) and fan[0] < fan[-1] and fan[4] == float(row["value"])
    assert float(row["lower80"]) == fan[0] and float(row["upper80"]) == fan[-1]  # read off the same bounds


@pytest.mark.usefixtures("backend")
def test_without_a_champion_the_choice_stands_until_a_horizon_of_new_observations(recur, write):
    """The backtest of every method chooses each series' method once; later runs issue by that choice
    while fewer than a horizon of observations have arrived since it, at the same horizon and season."""
    lines = (DATA / "airline_passengers.csv").read_text().splitlines()

    def months(n: int) -> None:  # the first n months (newer rows append)
        recur("series", "ingest", write(f"a{n}.csv", "\n".join(lines[: n + 1]) + "\n"), "--name", "airline")

    def predict(*more: str) -> dict:
        return recur.json("forecast", "predict", "airline", "--horizon", "12", *more)

    months(120)
    first = predict()
    assert first["chosen"] == {"origin": "1958-12-01", "kept": False, "again_after": 12}
    assert predict()["chosen"] == first["chosen"] | {"kept": True}
    months(131)  # eleven months more
    later = predict()
    assert later["chosen"] == first["chosen"] | {"kept": True} and later["method"] == first["method"]
    assert later["forecasts"][0]["origin"] == "1959-11-01"  # from the new end, by the method chosen then
    text = recur("forecast", "predict", "airline", "--horizon", "12").output
    assert "backtest of 1958-12-01" in text and "backtested again once 12 new observations" in text
    assert not predict("--season", "6")["chosen"]["kept"]  # another season: chosen again
    assert not recur.json("forecast", "predict", "airline", "--horizon", "6")["chosen"]["kept"]
    months(132)  # a horizon since the choice
    assert predict()["chosen"] == {"origin": "1959-12-01", "kept": False, "again_after": 12}


def test_the_fallback_uses_the_season_given_at_train_for_integer_time(recur, write):
    t = np.arange(240)
    values = 50 + 20 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.5, 240)
    recur(
        "series",
        "ingest",
        write("h.csv", "t,v\n" + "".join(f"{i},{v:.4f}\n" for i, v in enumerate(values))),
        "--name",
        "h",
    )
    flat = recur.json("forecast", "predict", "h", "--horizon", "24")
    assert flat["method"] not in ("seasonal_naive", "naive2")  # integer time: no season known yet
    recur("forecast", "train", "h", "--model", "rnn", "--season", "24", "--horizon", "24", *TINY[2:])
    recur("models", "rollback", "h") if recur.json("models", "list")[0]["alias"] == "champion" else None
    out = recur.json("forecast", "predict", "h", "--horizon", "24")
    assert sine_error(out) < 0.2 * sine_error(flat)  # the season kept with the series
    seasonless = recur.json("forecast", "predict", "h", "--horizon", "24", "--season", "1")
    assert sine_error(seasonless) > 5 * sine_error(out)


@pytest.mark.usefixtures("backend")
def test_score_vintages_after_actuals_arrive(recur, write):
    values = 10 + np.sin(np.arange(120) * 2 * np.pi / 12) * 5
    head = "t,v\n" + "".join(f"{i},{v:.4f}\n" for i, v in enumerate(values[:100]))
    recur("series", "ingest", write("a.csv", head), "--name", "s")
    recur("forecast", "predict", "s", "--horizon", "12")
    assert recur.json("forecast", "score", "s")[0]["arrived"] == 0
    full = "t,v\n" + "".join(f"{i},{v:.4f}\n" for i, v in enumerate(values))
    recur("series", "ingest", write("b.csv", full), "--name", "s")
    [row] = recur.json("forecast", "score", "s")
    assert row["arrived"] == 12 and row["mae"] >= 0 and "coverage95" in row
    # WQL from the stored quantiles, MSIS from the 95% interval, both scaled as defined
    [points] = [recur.json("forecast", "predict", "s", "--as-of", "99", "--horizon", "12")["forecasts"][0]]
    actual = np.round(values[100:112], 4)
    q = np.array([[p[f"q{k}"] for p in points["values"]] for k in range(10, 100, 10)])
    assert row["wql"] == pytest.approx(metrics.wql([actual], [q], QUANTILES), rel=1e-6)
    lo, hi = (np.array([p[side] for p in points["values"]]) for side in ("lower95", "upper95"))
    scale = metrics.naive_scale(np.round(values[:100], 4), 1)  # integer time, no season given
    assert row["msis"] == pytest.approx(metrics.msis(actual, lo, hi, scale), rel=1e-4)
    assert row["mase"] == pytest.approx(row["mae"] / scale, rel=1e-6)


def wide_file(write, n: int = 300) -> str:
    """Three related hourly series, as a wide file: a group 'plant' of plant/a, plant/b, plant/c."""
    t = np.arange(n)
    a = 10 + 3 * np.sin(2 * np.pi * t / 24)
    b = 5 + np.cos(2 * np.pi * t / 24)
    c = 2 * a - b + np.random.default_rng(0).normal(0, 0.1, n)
    stamps = [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00" for i in range(n)]
    body = "".join(f"{s},{x:.4f},{y:.4f},{z:.4f}\n" for s, x, y, z in zip(stamps, a, b, c, strict=True))
    return write("plant.csv", "time,a,b,c\n" + body)


SMALL = ["--lookback", "24", "--horizon", "6", "--units", "4", "--epochs", "1", "--windows", "2"]


def test_global_model_for_a_group_and_backtest_table(recur, write):
    recur("series", "ingest", wide_file(write))
    out = recur.json("forecast", "backtest", "plant", "--model", "gru", *SMALL)
    assert set(out["backtest"]["per_series"]) == {"plant/a", "plant/b", "plant/c"}
    assert recur.json("models", "list") == []  # a backtest registers nothing
    table = recur("forecast", "backtest", "plant", "--model", "gru", *SMALL).output
    assert "(overall)" in table and "plant/c" in table and "seasonal_naive" in table


def test_covariates_from_the_group(recur, write):
    recur("series", "ingest", wide_file(write))
    first = recur.json("forecast", "train", "plant/c", "--model", "gru", "--force", *SMALL)
    out = recur.json(
        "forecast",
        "train",
        "plant/c",
        "--model",
        "gru",
        "--covariates",
        "group",
        "--force",
        "--metric",
        "crps",
        *SMALL,
    )
    shown = recur.json("models", "show", str(out["version"]))
    assert shown["metrics"]["champion_before"] == first["version"]
    # the gate weighed each method's backtest CRPS, and says so
    assert (
        shown["metrics"]["gate"]["metric"] == "crps"
        and "promoted with --force (CRPS" in (shown["metrics"]["decision"])
    )
    assert "CRPS" in shown["metrics"]["decision"] and "MASE" not in shown["metrics"]["decision"]
    # the champion was refit on these windows: judged by its own earlier backtest, not re-scored on them
    assert shown["metrics"]["gate"]["vs_champion_backtest"]["champion"] == pytest.approx(
        first["metrics"]["backtest"]["overall"][first["metrics"]["lead"]]["crps"]
    )
    assert shown["metrics"]["backtest"]["per_series"].keys() == {"plant/c"}
    assert shown["config"]["lookback"] == 24
    assert recur.json("forecast", "predict", "plant/c")["method"] in ("gru", "combination")


@pytest.mark.usefixtures("backend")
def test_promote_and_rollback(airline):
    a = airline.json("forecast", "train", "airline", "--model", "gru", "--force", *TINY)["version"]
    b = airline.json("forecast", "train", "airline", "--model", "rnn", "--force", *TINY)["version"]
    champions = lambda: [m["id"] for m in airline.json("models", "list") if m["alias"] == "champion"]  # noqa: E731
    assert champions() == [b]
    assert airline.json("models", "rollback", "airline") == {
        "champion": a,
        "retired": b,
        "subject": "airline",
    }
    assert champions() == [a]
    airline("models", "promote", str(b))
    assert champions() == [b]
    with airline.db() as conn:  # a flipped byte in the stored model: never promoted again
        [(blob,)] = conn.execute("SELECT artifact FROM model_version WHERE id = ?", (a,))
        blob = bytes(blob)
        conn.execute(
            "UPDATE model_version SET artifact = ? WHERE id = ?", (bytes([blob[0] ^ 1]) + blob[1:], a)
        )
    assert "no longer match their sha256" in airline.fails("models", "promote", str(a))
    assert "no longer match their sha256" in airline.fails("models", "rollback", "airline")
    assert champions() == [b]


@pytest.mark.parametrize(
    ("args", "fragment", "code"),
    [
        (["--lookback", "200"], "has 144 points; lookback 200 + horizon 12", 1),
        (["--horizon", "0"], "--horizon 0: must be at least 1", 1),
        (["--model", "transformer"], "'transformer' is not one of 'rnn', 'lstm'", 2),
        (["--model", "seq2seq", "--loss", "pinball"], "--loss pinball: must be mae or mse for seq2seq", 1),
    ],
)
def test_bad_training_requests(airline, args, fragment, code):
    message = airline.fails("forecast", "train", "airline", *args, code=code)
    assert fragment in message
    assert airline.count("model_version") == 0


def test_a_negative_season_for_predict_is_refused_before_anything_runs(airline):
    before = airline.count("forecast")
    message = airline.fails("forecast", "predict", "airline", "--season", "-3", code=2)
    assert "--season" in message and "-3 is not in the range x>=0" in message
    assert airline.count("forecast") == before


def test_constant_series_is_refused(recur, write):
    recur(
        "series",
        "ingest",
        write("c.csv", "t,v\n" + "".join(f"{i},3\n" for i in range(200))),
        "--name",
        "flat",
    )
    assert "series 'flat' is constant" in recur.fails("forecast", "train", "flat", *TINY)


def test_series_with_gaps_must_be_filled_first(recur, write):
    rows_ = "t,v\n" + "".join(f"{i},{i % 7}\n" for i in range(200) if i != 50)
    recur("series", "ingest", write("g.csv", rows_), "--name", "g", "--fill", "none")
    assert "--fill ffill" in recur.fails("forecast", "train", "g", *TINY)


@pytest.mark.slow
def test_a_trained_model_beats_seasonal_naive_where_it_can(recur, write):
    """Trend plus season: seasonal naive lags a season's worth of trend; a network can learn it."""
    t = np.arange(400)
    values = 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 1, 400)
    recur(
        "series",
        "ingest",
        write("ts.csv", "t,v\n" + "".join(f"{i},{v:.4f}\n" for i, v in zip(t, values, strict=True))),
        "--name",
        "trend",
    )
    out = recur.json(
        "forecast",
        "train",
        "trend",
        "--model",
        "gru",
        "--season",
        "12",
        "--lookback",
        "24",
        "--horizon",
        "6",
        "--units",
        "16",
        "--epochs",
        "40",
        "--windows",
        "5",
        "--peers",
        "none",  # against the simple baselines: AutoETS models trend plus season exactly
    )
    overall = out["metrics"]["backtest"]["overall"]
    assert all(overall["model"]["mase"] < overall[m]["mase"] for m in SIMPLE_NAMES)
    assert out["promoted"] and out["served"] == {"gru": 1}


def test_same_seed_same_model_on_cpu(airline):
    a = airline.json("forecast", "backtest", "airline", "--model", "gru", "--seed", "3", *TINY)
    b = airline.json("forecast", "backtest", "airline", "--model", "gru", "--seed", "3", *TINY)
    assert a["backtest"]["overall"]["model"] == b["backtest"]["overall"]["model"]


def test_tensorboard_logs(airline, tmp_path):
    airline("forecast", "train", "airline", "--model", "rnn", "--tensorboard", tmp_path / "tb", *TINY)
    assert any((tmp_path / "tb").rglob("events.out.tfevents*"))


def test_a_season_given_at_ingest_serves_the_fallback(recur, write):
    t = np.arange(240)
    values = 50 + 20 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(1).normal(0, 0.5, 240)
    body = "t,v\n" + "".join(f"{i},{v:.4f}\n" for i, v in enumerate(values))
    recur("series", "ingest", write("d.csv", body), "--name", "d", "--season", "24")
    seasonal = recur.json("forecast", "predict", "d", "--horizon", "24")
    assert sine_error(seasonal) < 0.2 * sine_error(
        recur.json("forecast", "predict", "d", "--horizon", "24", "--season", "1")
    )
    assert "--season 0: must be at least 1" in recur.fails(
        "series", "ingest", write("e.csv", body), "--season", "0"
    )


def test_auto_with_covariates_also_backtests_without_them(recur, write):
    """Covariates earn their place like any other choice: every candidate is backtested without them too,
    on the same windows, and whichever wins is issued (and predicts with the inputs it was trained on)."""
    recur("series", "ingest", wide_file(write))
    out = recur.json("forecast", "train", "plant/c", "--covariates", "group", "--force", *SMALL)
    tried = out["metrics"]["auto"]
    with_covariates = [k for k in tried if k.endswith(", covariates)")]
    without = [k for k in tried if k not in with_covariates]
    assert with_covariates and sorted(without) == sorted(
        k.replace(", covariates", "") for k in with_covariates
    )
    best = min(tried, key=tried.get)
    with recur.db() as conn:
        [(config,)] = conn.execute("SELECT config FROM model_version WHERE id = ?", (out["version"],))
    assert bool(json.loads(config)["covariates"]) == best.endswith(", covariates)")
    assert recur.json("forecast", "predict", "plant/c")["forecasts"][0]["points"] == 6


def test_train_and_predict_every_subject_here(recur, write):
    """`--all` with the default executor: every subject in a warm worker process, one row each; a subject
    that cannot be trained is reported beside the others (exit 1), which are stored all the same."""
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("series", "ingest", write("short.csv", daily_csv(20)), "--name", "short")
    result = recur("--json", "forecast", "train", "--all", "--model", "gru", *TINY, ok=False)
    assert result.exit_code == 1
    rows = {r["subject"]: r for r in json.loads(result.stdout)}
    assert rows["airline"]["error"] is None and rows["airline"]["version"] and rows["airline"]["node"]
    assert rows["short"]["error"] and rows["short"].get("version") is None
    assert [m["subject"] for m in recur.json("models", "list")] == ["airline"]
    predicted = recur.json("forecast", "predict", "--all")
    assert {r["subject"]: r["series"] for r in predicted} == {"airline": 1, "short": 1}
    assert "give a SUBJECT, or --all" in recur.fails("forecast", "predict", code=2)
    result = recur("--json", "forecast", "backtest", "--all", "--model", "gru", *TINY, ok=False)
    rows = {r["subject"]: r for r in json.loads(result.stdout)}
    assert result.exit_code == 1 and rows["short"]["error"] and rows["airline"]["error"] is None
    assert rows["airline"]["network_mase"] > 0 and rows["airline"]["best_baseline"] != "model"
    champions = json.loads(recur("--json", "forecast", "backtest", "--all", "--champion", ok=False).stdout)
    by_subject = {r["subject"]: r for r in champions}
    assert "has no champion" in by_subject["short"]["error"]
    assert by_subject["airline"]["error"] is None or "has no champion" in by_subject["airline"]["error"]


def test_an_unreachable_ray_cluster_is_a_clear_error_at_once(airline):
    message = airline.fails(
        "--executor", "ray", "--ray-address", "127.0.0.1:1", "forecast", "predict", "--all"
    )
    assert (
        "--ray-address 127.0.0.1:1: no Ray cluster answers there" in message and "ray start --head" in message
    )


def test_without_peers_the_network_faces_the_simple_baselines_alone(airline):
    out = airline.json("forecast", "backtest", "airline", "--model", "gru", "--peers", "none", *TINY)
    assert set(out["backtest"]["overall"]) == {"model", "naive", "seasonal_naive", "naive2", "drift", "mean"}
    both = airline.json("forecast", "backtest", "airline", "--model", "gru", *TINY)["backtest"]["overall"]
    assert both["model"] == out["backtest"]["overall"]["model"]  # the same network on the same windows
    assert {"auto_ets", "auto_theta", "combination"} <= set(both)


def test_quantile_heads_issue_their_own_band_conformalised(airline):
    """--loss pinball: the version keeps factors of its heads' band; the issued quantiles never cross, the
    median is the point and the 80% interval the q10 and q90 read off the band."""
    out = airline.json(
        "forecast",
        "train",
        "airline",
        "--model",
        "gru",
        "--loss",
        "pinball",
        "--peers",
        "none",
        "--force",
        *TINY,
    )
    stored = airline.json("models", "show", str(out["version"]))["metrics"]
    assert stored["interval_scale"]["by"] == "heads' band" and set(stored["intervals"]) >= {"80", "95"}
    made = airline.json("forecast", "predict", "airline", "--horizon", "6", "--level", "90")
    assert made["forecasts"][0]["method"] == "gru" and made["forecasts"][0]["intervals"] == ["90"]
    for p in made["forecasts"][0]["values"]:
        qs = [p[f"q{round(100 * q)}"] for q in QUANTILES]
        assert (
            qs == sorted(qs)
            and p["q50"] == p["value"]
            and p["lower90"] <= p["q10"] <= p["q90"] <= p["upper90"]
        )


def test_any_levels_nest_and_the_option_repeats(airline):
    """50, 90 and 99% from one forecast (the option repeated or comma-separated): each interval inside the
    next, none the same as another."""
    made = airline.json(
        "forecast", "predict", "airline", "--horizon", "6", "--level", "50", "--level", "90,99"
    )
    forecast = made["forecasts"][0]
    assert forecast["intervals"] == ["50", "90", "99"]
    for p in forecast["values"]:
        lows = [p[f"lower{lv}"] for lv in (50, 90, 99)]
        highs = [p[f"upper{lv}"] for lv in (50, 90, 99)]
        assert lows[0] > lows[1] > lows[2] and highs[0] < highs[1] < highs[2]
