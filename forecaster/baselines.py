"""Baselines with the forecasters' interface: given histories (n, length), predict (n, horizon).

They need no fitting beyond their own history, so backtests score them from every origin's full past, and
the fallback forecast of a series is the baseline that won its backtest."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Baseline = Callable[[np.ndarray, int, int], np.ndarray]


def naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    return np.repeat(history[:, -1:], horizon, axis=1)


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last full season; with too short a window (or no season) it is the naive forecast."""
    if season <= 1 or history.shape[1] < season:
        return naive(history, horizon, season)
    last = history[:, -season:]
    reps = int(np.ceil(horizon / season))
    return np.tile(last, (1, reps))[:, :horizon]


def drift(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    slope = (history[:, -1] - history[:, 0]) / max(history.shape[1] - 1, 1)
    return history[:, -1:] + slope[:, None] * np.arange(1, horizon + 1)[None, :]


def mean(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    return np.repeat(history.mean(axis=1, keepdims=True), horizon, axis=1)


def naive2(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """M4's Naive2: the naive forecast of the seasonally adjusted series, re-seasonalised. Seasonal indices
    come from a classical multiplicative decomposition, used only where a 90% autocorrelation test at the
    seasonal lag finds seasonality (and the values are positive); otherwise it is the naive forecast."""
    out = naive(history, horizon, season)
    if season <= 1 or history.shape[1] < 3 * season:
        return out
    for i, row in enumerate(history):
        index = seasonal_index(row, season)
        if index is not None:
            n = len(row)
            last = row[-1] / index[(n - 1) % season]
            out[i] = last * index[(n + np.arange(horizon)) % season]
    return out


def seasonal_index(values: np.ndarray, season: int) -> np.ndarray | None:
    """Multiplicative seasonal indices by position (t mod season), or None where the series is not
    seasonal by the M4 test (|ACF at the seasonal lag| > 1.645 times its standard error) or not positive."""
    n = len(values)
    if n < 3 * season or np.min(values) <= 0:
        return None
    x = values - values.mean()
    denom = float(np.dot(x, x))
    if denom == 0:
        return None
    acf = np.array([np.dot(x[k:], x[: n - k]) / denom for k in range(1, season + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    if abs(acf[-1]) <= limit:
        return None
    trend = _centred_moving_average(values, season)
    ratio = values / trend
    positions = np.arange(n) % season
    index = np.array([np.nanmean(ratio[positions == p]) for p in range(season)])
    return index / index.mean()


def _centred_moving_average(values: np.ndarray, season: int) -> np.ndarray:
    """The 2×m moving average for even m (m for odd m), NaN where the window does not fit."""
    weights = np.ones(season) / season
    if season % 2 == 0:
        weights = np.convolve(weights, [0.5, 0.5])
    half = len(weights) // 2
    out = np.full(len(values), np.nan)
    out[half : len(values) - half] = np.convolve(values, weights, mode="valid")
    return out


BASELINES: dict[str, Baseline] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "naive2": naive2,
    "drift": drift,
    "mean": mean,
}


def baselines_for(season: int) -> dict[str, Baseline]:
    """The baselines worth comparing at this season: with none, seasonal naive and naive2 are naive."""
    if season > 1:
        return BASELINES
    return {k: v for k, v in BASELINES.items() if k not in ("seasonal_naive", "naive2")}


def from_origins(
    values: np.ndarray, origins: np.ndarray, horizon: int, season: int, methods: dict[str, Baseline]
) -> dict[str, np.ndarray]:
    """Each baseline's forecast from each origin, from the whole history before it: (origins, horizon)."""
    out = {name: np.empty((len(origins), horizon)) for name in methods}
    for j, origin in enumerate(origins):
        history = values[None, : int(origin)]
        for name, fn in methods.items():
            out[name][j] = fn(history, horizon, season)[0]
    return out


def season_for(freq: str | None, kind: str) -> int:
    """The usual seasonal period of a frequency: 24 for hourly, 7 for daily, 12 for monthly ...; for a
    multiple of an hour or of minutes, a day's steps (48 at 30 minutes, 12 at 2 hours), where they divide
    it."""
    if kind == "int" or not freq:
        return 1
    base = freq.lstrip("0123456789").split("-")[0]
    step = int(freq[: len(freq) - len(freq.lstrip("0123456789"))] or 1)
    if base in ("h", "min") and step > 1:
        day = 24 if base == "h" else 1440
        return day // step if day % step == 0 else 1
    return {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "QS": 4, "QE": 4, "min": 60}.get(base, 1)


# the longer cycle a season implies: the steps of a day -> of a week (hourly, 30, 15, 10, 5 minutes), the
# days of a week -> of a year
LONGER = {24: 168, 48: 336, 96: 672, 144: 1008, 288: 2016, 7: 365}
