"""The methods a network must beat: the statistical peers (statsforecast's AutoETS and AutoTheta) beside the
simple baselines, one interface for backtests and forecasts, and the combination with the network."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from forecaster import methods, statistical
from forecaster.config import PEERS, STATISTICAL, ForecastConfig


def seasonal_series(n: int = 120, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)


def test_the_config_names_the_peers_statistical_defines():
    assert STATISTICAL == statistical.STATISTICAL and set(PEERS) < set(STATISTICAL)
    assert ForecastConfig().peers == PEERS == ("auto_ets", "auto_theta")
    assert ForecastConfig(peers=("none",)).peers == ()
    with pytest.raises(
        InputError, match="--peers arima: choose from auto_ets, auto_theta, auto_arima, mstl, or none"
    ):
        ForecastConfig(peers=("arima",))
    assert ForecastConfig.from_json({"horizon": 6}).peers == ()  # a version from before the peers


def test_the_peers_beat_naive_on_a_trending_seasonal_series():
    """Learning checked against the baselines on the same windows: on trend + season + noise, both peers
    are far closer than naive and seasonal naive."""
    values = [seasonal_series(seed=s) for s in range(5)]
    losses, index = methods.backtest(values, 12, 12, 4, methods.names_for(12, PEERS))
    mean = {m: float(v.mean()) for m, v in losses.items()}
    assert len(index) == 20
    for peer in PEERS:
        assert mean[peer] < 0.5 * mean["naive"] and mean[peer] < mean["seasonal_naive"]
    arima, _index = methods.backtest(values, 12, 12, 4, ("seasonal_naive", "auto_arima"))
    assert float(arima["auto_arima"].mean()) < float(arima["seasonal_naive"].mean())  # asked for, it runs too


def hourly_series(n: int = 24 * 7 * 5, seed: int = 0) -> np.ndarray:
    """A day's cycle and a week's (weekends low), with noise: two seasons in one hourly series."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    weekend = np.where((t // 24) % 7 >= 5, -15.0, 0.0)
    return 100 + 10 * np.sin(2 * np.pi * t / 24) + weekend + rng.normal(0, 1, n)


def test_mstl_removes_the_week_a_day_season_implies():
    """Learning checked against the single-season methods on the same windows: where a week's cycle sits
    on the day's, MSTL (day and week) backtests far better than seasonal naive and AutoTheta at the day."""
    assert statistical.seasons_of(24, 800) == [24, 168] and statistical.seasons_of(24, 300) == [24]
    assert statistical.seasons_of(12, 800) == [12] and statistical.seasons_of(1, 800) == []
    values = [hourly_series(seed=s) for s in range(2)]
    losses, _index = methods.backtest(values, 48, 24, 3, ("seasonal_naive", "auto_theta", "mstl"))
    mean = {m: float(v.mean()) for m, v in losses.items()}
    assert mean["mstl"] < 0.7 * min(mean["seasonal_naive"], mean["auto_theta"])


def test_every_method_forecasts_every_window_even_where_a_peer_cannot_fit():
    tiny = np.array([1.0, 2.0, 3.0, 4.0])
    out = methods.from_origins(tiny, np.array([3]), 2, 12, methods.names_for(12, PEERS))
    assert set(out) == {"naive", "seasonal_naive", "naive2", "drift", "mean", *PEERS}
    for peer in PEERS:
        assert np.all(np.isfinite(out[peer]))
    constant = np.full(40, 5.0)
    point, _bounds = methods.forecast(constant, "auto_theta", 6, 12, (80,))
    assert np.allclose(point, 5.0)


def test_a_peer_forecast_carries_its_own_ordered_intervals():
    values = seasonal_series()
    point, bounds = methods.forecast(values, "auto_ets", 12, 12, (80, 95))
    assert point.shape == (12,) and set(bounds) == {"80", "95"}
    lo80, hi80 = bounds["80"]
    lo95, hi95 = bounds["95"]
    assert np.all(lo95 <= lo80) and np.all(lo80 <= point) and np.all(point <= hi80) and np.all(hi80 <= hi95)


def test_the_combination_is_the_median_of_the_network_and_the_peers():
    network = np.array([[1.0, 10.0]])
    peers = {"auto_ets": np.array([[2.0, 0.0]]), "auto_theta": np.array([[3.0, 5.0]])}
    assert methods.combination(network, peers, PEERS).tolist() == [[2.0, 5.0]]
    assert methods.combination(network, peers, ("auto_ets",)).tolist() == [[1.5, 5.0]]


def test_a_nights_peer_fits_go_in_one_map_whatever_the_method(monkeypatch):
    """Series served by two peers are fitted in one map over the worker processes (two maps of fewer
    than PARALLEL_FROM each would both run in this process), and each forecast is then what fitting it
    alone gives."""
    from forecaster.predict import Ask, _prefetch

    class Subject:
        names = [f"s{i}" for i in range(6)]
        values = [seasonal_series(seed=i) for i in range(6)]

    maps, real = [], statistical._map
    monkeypatch.setattr(
        statistical, "_map", lambda fn, *columns: maps.append(columns[1]) or real(fn, *columns)
    )
    monkeypatch.setattr(statistical, "_MEMORY", {})
    serve = {n: ("auto_ets", "auto_theta", "naive")[i % 3] for i, n in enumerate(Subject.names)}
    ask = Ask(12, 12, (80,))
    _prefetch(Subject, serve, ask, ())
    assert maps == [["auto_ets", "auto_ets", "auto_theta", "auto_theta"]]
    for name, values in zip(Subject.names, Subject.values, strict=True):
        if serve[name] != "naive":
            point, bounds = methods.forecast(values, serve[name], 12, 12, ask.needed)
            alone, alone_bounds = statistical._forecast(values, serve[name], 12, 12, ask.needed)
            assert np.array_equal(point, alone) and np.array_equal(bounds["80"][0], alone_bounds["80"][0])
    assert len(maps) == 1  # answered from memory
