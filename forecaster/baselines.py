"""Baselines with the forecasters' interface: given lookback windows (n, lookback), predict (n, horizon).
They need no fitting, so backtests score them on exactly the windows the networks see."""

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


BASELINES: dict[str, Baseline] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "mean": mean,
}


def season_for(freq: str | None, kind: str) -> int:
    """The usual seasonal period of a frequency: 24 for hourly, 7 for daily, 12 for monthly ..."""
    if kind == "int" or not freq:
        return 1
    base = freq.lstrip("0123456789").split("-")[0]
    return {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "QS": 4, "QE": 4, "min": 60}.get(base, 1)
