"""Forecast accuracy. Arrays are (windows, horizon); every function ignores nothing and hides nothing."""

from __future__ import annotations

import numpy as np


def mae(actual: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - pred)))


def rmse(actual: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - pred) ** 2)))


def smape(actual: np.ndarray, pred: np.ndarray) -> float:
    """Symmetric MAPE in percent (0..200); a step where both are zero counts as no error."""
    denom = np.abs(actual) + np.abs(pred)
    ratio = np.divide(
        2 * np.abs(actual - pred), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0
    )
    return float(100 * np.mean(ratio))


def naive_scale(history: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast: the denominator of MASE (Hyndman & Koehler 2006)."""
    m = season if len(history) > season else 1
    diffs = np.abs(history[m:] - history[:-m])
    scale = float(np.mean(diffs)) if len(diffs) else 0.0
    return scale if scale > 0 else 1.0


def mase(actual: np.ndarray, pred: np.ndarray, scale: float) -> float:
    return mae(actual, pred) / scale


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    return float(np.mean((actual >= lower) & (actual <= upper)))


def by_step(actual: np.ndarray, pred: np.ndarray) -> list[float]:
    """MAE at each horizon step."""
    return np.mean(np.abs(actual - pred), axis=0).tolist()


def score(actual: np.ndarray, pred: np.ndarray, scale: float) -> dict[str, float]:
    return {
        "mae": mae(actual, pred),
        "rmse": rmse(actual, pred),
        "smape": smape(actual, pred),
        "mase": mase(actual, pred, scale),
    }
