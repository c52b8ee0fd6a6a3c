"""Pure forecasting pieces: metrics, baselines, windows, calendar features, configs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.errors import InputError, TooShortError
from forecaster import metrics
from forecaster.baselines import BASELINES, drift, naive, naive2, season_for, seasonal_naive
from forecaster.choose import compare, gate, per_series
from forecaster.config import ForecastConfig
from forecaster.evaluate import check_length, origins_for
from forecaster.intervals import QUANTILES, Calibration, conformal
from forecaster.windows import Panel, calendar_features, make_windows, window_starts


def test_metrics_on_known_values():
    a, p = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 2.0, 1.0]])
    assert metrics.mae(a, p) == 1.0
    assert metrics.rmse(a, p) == pytest.approx(np.sqrt(5 / 3))
    assert metrics.smape(a, p) == pytest.approx(100 * np.mean([2 / 3, 0, 1.0]))
    assert metrics.naive_scale(np.array([1.0, 3.0, 2.0, 4.0]), 1) == pytest.approx(5 / 3)
    assert metrics.mase(a, p, 0.5) == 2.0
    assert metrics.coverage(a, a - 1, a + 0.5) == 1.0


def test_baselines():
    h = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    assert seasonal_naive(h, 5, 3).tolist() == [[4.0, 5.0, 6.0, 4.0, 5.0]]
    assert drift(h, 2, 1).tolist() == [[7.0, 8.0]]
    assert BASELINES["naive"](h, 2, 1).tolist() == [[6.0, 6.0]]
    assert BASELINES["mean"](h, 1, 1).tolist() == [[3.5]]
    assert (
        season_for("h", "datetime") == 24
        and season_for("MS", "datetime") == 12
        and season_for("1", "int") == 1
        and season_for("30min", "datetime") == 48
        and season_for("2h", "datetime") == 12
        and season_for("7h", "datetime") == 1
    )


def test_windows_match_a_plain_loop_and_denormalise():
    rng = np.random.default_rng(0)
    target = rng.normal(10, 3, 50)
    cov = rng.normal(0, 1, (50, 2))
    starts = window_starts(50, 8, 4, stride=3)
    cfg = ForecastConfig(lookback=8, horizon=4, scaling="standard")
    w = make_windows([Panel(target, cov)], cfg, [starts], np.array([0.0]))
    for k, s in enumerate(starts):
        hist = target[s : s + 8]
        assert np.allclose(w.history[k], hist)
        assert np.allclose(w.x[k, :, 1:], cov[s : s + 8], atol=1e-6)
        assert np.allclose(w.denormalise(w.y.astype(float))[k], target[s + 8 : s + 12], atol=1e-4)
        assert np.isclose(w.x[k, :, 0].mean(), 0, atol=1e-5)
    assert starts[-1] == 50 - 12


def test_log_scaling_is_relative_to_the_last_value_and_inverts():
    target = np.exp(np.random.default_rng(1).normal(3, 0.2, 40))
    cfg = ForecastConfig(lookback=6, horizon=3, scaling="log")
    starts = window_starts(40, 6, 3)
    w = make_windows([Panel(target)], cfg, [starts], np.array([0.0]))
    assert np.allclose(w.x[:, -1, 0], 0, atol=1e-6)  # the level is the origin of each window
    assert np.allclose(w.denormalise(w.y.astype(float)), [target[s + 6 : s + 9] for s in starts], rtol=1e-5)


def test_calendar_features_are_bounded_cycles():
    hours = np.arange(0, 48 * 3600, 3600, dtype=np.int64)
    feats = calendar_features(hours, "h")
    assert feats.shape == (48, 6) and np.all(np.abs(feats) <= 1)
    hour_of_day = feats[:, [0, 3]]  # sin and cos of the first cycle
    assert np.allclose(hour_of_day[0], hour_of_day[24]) and not np.allclose(hour_of_day[0], hour_of_day[12])


def test_config_errors_carry_the_values():
    with pytest.raises(InputError, match="--model 'transformer': choose one of .*lstm.*auto"):
        ForecastConfig(model="transformer")
    with pytest.raises(InputError, match="--horizon 0: must be at least 1"):
        ForecastConfig(horizon=0)
    with pytest.raises(InputError, match="--dropout 1.5"):
        ForecastConfig(dropout=1.5)


def test_too_short_series_says_the_numbers():
    with pytest.raises(InputError, match=r"has 40 points; lookback 48 \+ horizon 12 .* at least 72"):
        check_length(["temp"], [40], ForecastConfig(lookback=48, horizon=12), 5, 12)
    with pytest.raises(InputError, match=r"the longest series, 'b', has 50 points"):
        check_length(["a", "b"], [40, 50], ForecastConfig(lookback=48, horizon=12), 5, 12)
    check_length(["a", "b"], [40, 100], ForecastConfig(lookback=48, horizon=12), 5, 12)  # one is enough


def test_each_series_backtests_as_many_windows_as_it_allows():
    cfg = ForecastConfig(lookback=10, horizon=5)
    assert origins_for(100, cfg, 5, 5).tolist() == [75, 80, 85, 90, 95]
    assert origins_for(27, cfg, 5, 5).tolist() == [17, 22]  # first origin leaves one training window
    assert origins_for(19, cfg, 5, 5).tolist() == []


def test_naive2_deseasonalises_a_seasonal_positive_series():
    t = np.arange(96)
    series = (100 + t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    forecast = naive2(series[None, :], 12, 12)[0]
    actual = (100 + 96 + np.arange(12)) * (1 + 0.3 * np.sin(2 * np.pi * (96 + np.arange(12)) / 12))
    assert (
        np.mean(np.abs(forecast - actual)) < np.mean(np.abs(naive(series[None, :], 12, 12)[0] - actual)) / 3
    )
    noise = np.random.default_rng(0).normal(10, 1, 96)
    assert np.allclose(naive2(noise[None, :], 4, 12), noise[-1])  # not seasonal: plain naive


def test_bootstrap_is_sure_of_a_clear_win_and_not_of_noise():
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 2, 40)
    series = np.repeat(np.arange(8), 5)
    clear = compare(base * 0.7, base, series)
    assert clear.sure == 1.0 and clear.improvement == pytest.approx(0.3)
    noisy = compare(base * rng.uniform(0.5, 1.5, 40), base, series)
    assert 0.05 < noisy.sure < 0.95
    ok, reason, _ = gate(base * 0.7, ("naive", base), None, series, 0.9, False)
    assert ok and "beats the best baseline, naive, (" in reason
    ok, reason, _ = gate(base * 0.99, ("naive", base), base * 0.9, series, 0.9, False)
    assert not ok and "% worse than the champion (" in reason and "not promoted" in reason
    assert "by -" not in reason
    ok, reason, _ = gate(base, ("naive", base * (1 + 1e-7)), None, series, 0.9, False)
    mine, theirs = re.search(r"MASE (\S+) beats the best baseline, naive, \((\S+)\)", reason).groups()
    assert mine != theirs  # digits enough to show the difference
    ok, reason, _ = gate(base, ("naive", base), None, series, 0.9, False)
    assert not ok and "ties with the best baseline, naive," in reason
    ok, reason, _ = gate(base * 0.7, ("naive", base), 0.5, series, 0.9, False)  # a refit champion's MASE
    assert not ok and "does not beat the champion's own backtest MASE (0.5000" in reason


def test_conformal_quantiles_grow_with_level():
    residuals = np.random.default_rng(1).normal(0, 1, (400, 3))
    q = conformal(residuals)
    assert all(a < b for a, b in zip(q["80"], q["95"], strict=True))
    assert q["95"][0] == pytest.approx(1.96, abs=0.25)


def test_per_series_choice_is_used_only_where_it_proves_itself_on_later_windows():
    rng = np.random.default_rng(0)
    series = np.repeat(np.arange(40), 4)
    model = rng.uniform(1, 2, 160)
    noise = {"model": model, "naive": model + rng.normal(0.1, 0.5, 160)}
    chosen, evidence = per_series(noise, series, "model", 0.9)
    assert set(chosen.values()) == {"model"} and not evidence["per_series"]  # differences are noise
    naive = model + 0.3
    naive[series < 8] = model[series < 8] - 1.0  # eight series where naive is truly, clearly better
    chosen, evidence = per_series({"model": model, "naive": naive}, series, "model", 0.9)
    assert evidence["per_series"] and [s for s, m in chosen.items() if m == "naive"] == list(range(8))


def test_quantiles_come_from_central_intervals_and_never_cross():
    from forecaster.intervals import QUANTILES, central_levels, quantiles_of

    assert central_levels() == (20, 40, 60, 80)
    point = np.array([10.0, 10.0])
    bounds = {
        "80": (np.array([6.0, 7.0]), np.array([14.0, 13.0])),
        "20": (np.array([9.5, 11.0]), np.array([10.5, 9.0])),
    }
    q = quantiles_of(point, bounds)
    assert q.shape == (len(QUANTILES), 2)
    assert q[0].tolist() == [6.0, 7.0] and q[-1].tolist() == [14.0, 13.0] and q[4].tolist() == [10.0, 10.0]
    assert np.all(np.diff(q, axis=0) >= 0)  # the crossed pair at step 2 (9.0 < 11.0) sorted out
    assert q[1].tolist() == [9.5, 9.0] and q[2].tolist() == [10.0, 10.0]  # 60 and 40 not given: the point


def test_wql_and_msis_by_their_definitions():
    from forecaster import metrics

    actual = [np.array([10.0, 20.0])]
    exact = [np.tile(actual[0], (3, 1))]
    assert metrics.wql(actual, exact, (0.1, 0.5, 0.9)) == 0.0
    off = [np.array([[8.0, 18.0], [10.0, 20.0], [12.0, 22.0]])]
    # q=0.1: under-forecast by 2 twice -> pinball 0.1*2*2 = 0.4; q=0.9: over by 2 twice -> 0.1*2*2 = 0.4
    assert metrics.wql(actual, off, (0.1, 0.5, 0.9)) == pytest.approx((2 * 0.4 / 30 + 0 + 2 * 0.4 / 30) / 3)
    y, lo, hi = np.array([5.0, 12.0]), np.array([4.0, 4.0]), np.array([10.0, 10.0])
    # width 6 each step; the second actual is 2 above: 2/0.05 * 2 = 80; mean (6 + 86) / 2 = 46, over scale 2
    assert metrics.msis(y, lo, hi, 2.0) == pytest.approx(23.0)


def test_calibrated_widths_follow_each_window_spread():
    """Errors pooled over calm and volatile windows: each gets widths in proportion to its own spread,
    covering about what it promises in both, where one pooled width over-covers the calm and under-covers
    the volatile."""
    rng = np.random.default_rng(3)
    spreads = np.repeat([0.1, 1.0], 2000)
    lookbacks = rng.normal(size=(4000, 24)) * spreads[:, None]
    residuals = rng.normal(size=(4000, 4)) * spreads[:, None]
    cal = Calibration.of(residuals, lookbacks)
    fresh = rng.normal(size=(4000, 24)) * spreads[:, None]
    errors = rng.normal(size=(4000, 4)) * spreads[:, None]
    half = cal.half_widths(fresh, (80,))["80"]
    calm, wild = np.abs(errors[:2000]) <= half[:2000], np.abs(errors[2000:]) <= half[2000:]
    assert abs(calm.mean() - 0.8) < 0.03 and abs(wild.mean() - 0.8) < 0.03
    pooled = conformal(residuals, (80,))["80"]
    assert np.mean(np.abs(errors[:2000]) <= pooled) > 0.95 and np.mean(np.abs(errors[2000:]) <= pooled) < 0.7
    # a version stored before the widths were relative: the same width for every window
    old = Calibration.stored({"intervals": {"80": pooled}})
    assert np.allclose(old.half_widths(fresh, (80, 95))["80"], np.asarray(pooled)[None, :])
    assert Calibration.stored({"intervals": cal.widths, "interval_scale": cal.to_json()}) == cal


def test_every_method_gets_backtest_quantiles_scored_by_crps_and_msis():
    """Random walks: each method's backtest quantiles come from its own errors at the other origins, so
    they cover about what they promise; CRPS is MASE where a forecast claims no spread, and lower for a
    calibrated spread around the same point."""
    from forecaster import evaluate as ev
    from forecaster.search import prepare
    from forecaster.subject import Subject

    rng = np.random.default_rng(5)
    values = [100 + np.cumsum(rng.normal(0, 1 + i % 3, 200)) for i in range(40)]
    names = [f"s{i}" for i in range(40)]
    subject = Subject(
        "walks", names, list(range(40)), [np.arange(200)] * 40, values, "int", None, [], None, 1
    )
    prep = prepare(ForecastConfig(model="gru", horizon=6, lookback=24), subject, 5, None)
    sp, naive = prep.sp, prep.sp.baselines["naive"]
    quantiles, (lo, hi) = ev.backtest_quantiles(sp, naive)
    assert quantiles.shape == (9, *naive.shape) and np.all(np.diff(quantiles, axis=0) >= 0)
    assert abs(metrics.coverage(sp.test_actual, quantiles[0], quantiles[-1]) - 0.8) < 0.05
    assert abs(metrics.coverage(sp.test_actual, lo, hi) - 0.95) < 0.03
    flat = metrics.quantile_loss(sp.test_actual, np.repeat(naive[None], 9, axis=0), QUANTILES)
    assert np.allclose(flat, np.mean(np.abs(sp.test_actual - naive), axis=1))  # no spread: the MAE
    board = ev.scoreboard(sp, names, sp.baselines)
    for method, scores in board.overall.items():
        assert scores["crps"] < scores["mase"] and scores["msis"] > 0, method
    # a forecast made worse gets a worse CRPS, window by window on average
    worse = ev.window_losses(sp, naive + 3.0, "crps")
    assert worse.mean() > ev.window_losses(sp, naive, "crps").mean()
    assert np.allclose(ev.window_losses(sp, naive), ev.window_losses(sp, naive, "mase"))


def test_conformalised_bands_keep_each_series_shape_and_cover_what_they_promise():
    """Bands half as wide as they should be, on series of different volatility: the fitted factors widen
    every band by the same ratio, so calm series keep narrow intervals and each level covers its share."""
    from forecaster.intervals import band_factors, widened

    rng = np.random.default_rng(7)
    sigma = np.repeat([0.5, 5.0], 600)[:, None] * np.ones((1, 3))
    point = np.zeros((1200, 3))
    lower, upper = point - 0.64 * sigma, point + 0.64 * sigma  # the 80% band of N(0, sigma) would be ±1.28
    factors = band_factors(point, lower, upper, rng.normal(size=(1200, 3)) * sigma, (80, 95))
    assert np.allclose(factors["80"], 2.0, atol=0.15) and np.allclose(factors["95"], 1.96 / 0.64, atol=0.25)
    fresh = rng.normal(size=(1200, 3)) * sigma
    bands = widened(point, lower, upper, factors, (80, 95))
    for level, share in (("80", 0.8), ("95", 0.95)):
        lo, hi = bands[level]
        assert abs(metrics.coverage(fresh, lo, hi) - share) < 0.03
        assert np.allclose((hi - lo)[600:], 10 * (hi - lo)[:600])  # each series' own width, scaled
    assert band_factors(point[:50], lower[:50], upper[:50], fresh[:50]) is None  # too few windows


def test_a_quantile_networks_band_is_calibrated_by_its_own_factors():
    """Heads whose band is too narrow (half of what it should be): the banded calibration scales each
    window's own band so each level covers its share on fresh windows, and a stored version reads it back."""
    rng = np.random.default_rng(11)
    sigma = np.repeat([0.3, 3.0], 1000)[:, None] * np.ones((1, 4))
    point = rng.normal(size=(2000, 1)) * np.ones((1, 4))
    band = (point - 0.64 * sigma, point + 0.64 * sigma)
    cal = Calibration.banded(point, band, point + rng.normal(size=(2000, 4)) * sigma)
    fresh = point + rng.normal(size=(2000, 4)) * sigma
    limits = cal.limits(point, np.zeros((2000, 8)), band, (80, 95))
    for level, share in (("80", 0.8), ("95", 0.95)):
        assert abs(metrics.coverage(fresh, *limits[level]) - share) < 0.03
    again = Calibration.stored({"intervals": cal.widths, "interval_scale": cal.to_json()})
    assert again == cal and again.limits(point, np.zeros((2000, 8)), band, (80,))["80"][0].shape == (2000, 4)


def test_the_default_lookback_shrinks_to_what_the_longest_series_holds():
    """48 monthly points, h = 18 (M3 Monthly's shortest): a season and a horizon (30) would leave no
    training window before the backtest window; the default lookback is what fits, 12."""
    short = [np.arange(48.0) + 1, np.arange(40.0) + 1]
    cfg = ForecastConfig(horizon=18).resolved(12, short, 5, 18)
    assert cfg.lookback == 12
    check_length(["a", "b"], [48, 40], cfg, 5, 18)
    long = ForecastConfig(horizon=18).resolved(12, [np.arange(400.0) + 1], 5, 18)
    assert long.lookback == 72  # four horizons where the series holds them
    with pytest.raises(TooShortError, match="has 37 points; lookback 2"):
        cfg = ForecastConfig(horizon=18).resolved(12, [np.arange(37.0) + 1], 5, 18)
        check_length(["a"], [37], cfg, 5, 18)
