"""Pure forecasting pieces: metrics, baselines, windows, calendar features, configs."""

from __future__ import annotations

import numpy as np
import pytest

from db.errors import InputError
from forecaster import metrics
from forecaster.baselines import BASELINES, drift, season_for, seasonal_naive
from forecaster.config import ForecastConfig
from forecaster.evaluate import check_length, conformal
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
    )


def test_windows_match_a_plain_loop_and_denormalise():
    rng = np.random.default_rng(0)
    target = rng.normal(10, 3, 50)
    cov = rng.normal(0, 1, (50, 2))
    starts = window_starts(50, 8, 4, stride=3)
    w = make_windows([Panel(target, cov)], 8, 4, [starts], np.array([0.0]))
    for k, s in enumerate(starts):
        hist = target[s : s + 8]
        assert np.allclose(w.history[k], hist)
        assert np.allclose(w.x[k, :, 1:], cov[s : s + 8], atol=1e-6)
        assert np.allclose(w.denormalise(w.y.astype(float))[k], target[s + 8 : s + 12], atol=1e-4)
        assert np.isclose(w.x[k, :, 0].mean(), 0, atol=1e-5)
    assert starts[-1] == 50 - 12


def test_calendar_features_are_bounded_cycles():
    hours = np.arange(0, 48 * 3600, 3600, dtype=np.int64)
    feats = calendar_features(hours, "h")
    assert feats.shape == (48, 6) and np.all(np.abs(feats) <= 1)
    hour_of_day = feats[:, [0, 3]]  # sin and cos of the first cycle
    assert np.allclose(hour_of_day[0], hour_of_day[24]) and not np.allclose(hour_of_day[0], hour_of_day[12])


def test_config_errors_carry_the_values():
    with pytest.raises(InputError, match="unknown model 'transformer'.*lstm.*auto"):
        ForecastConfig(model="transformer")
    with pytest.raises(InputError, match="--horizon 0: must be at least 1"):
        ForecastConfig(horizon=0)
    with pytest.raises(InputError, match="--dropout 1.5"):
        ForecastConfig(dropout=1.5)


def test_too_short_series_says_the_numbers():
    with pytest.raises(InputError, match=r"has 40 points; lookback 48 \+ horizon 12 .* at least 129"):
        check_length("temp", 40, ForecastConfig(lookback=48, horizon=12), 5, 12)


def test_conformal_quantiles_grow_with_level():
    residuals = np.random.default_rng(1).normal(0, 1, (400, 3))
    q = conformal(residuals)
    assert all(a < b for a, b in zip(q["80"], q["95"], strict=True))
    assert q["95"][0] == pytest.approx(1.96, abs=0.25)
