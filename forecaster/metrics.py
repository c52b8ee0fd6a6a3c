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


def msis(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: float, alpha: float = 0.05
) -> float:
    """Mean scaled interval score, as the M4 competition defines it for the 95% interval (alpha 0.05): the
    interval's width plus 2/alpha times how far each actual falls outside it, averaged over the horizon and
    divided by MASE's scale."""
    return float(np.mean(interval_score(actual, lower, upper, alpha)) / scale)


def interval_score(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, alpha: float = 0.05
) -> np.ndarray:
    """Each point's interval score (Gneiting & Raftery): the width plus 2/alpha times the miss."""
    below = np.maximum(lower - actual, 0)
    above = np.maximum(actual - upper, 0)
    return (upper - lower) + 2 / alpha * (below + above)


def wql(actual: list[np.ndarray], quantiles: list[np.ndarray], levels: tuple[float, ...]) -> float:
    """Mean weighted quantile loss over `levels` (GIFT-Eval's CRPS and Chronos' WQL): for each quantile
    level q, twice the pinball loss summed over every series and step, divided by the sum of |actual|;
    then the mean over the levels. `quantiles` holds each series' (levels, horizon) forecast."""
    y = np.concatenate([np.asarray(a, dtype=float) for a in actual])
    pred = np.concatenate([np.asarray(q, dtype=float) for q in quantiles], axis=1)
    total = np.sum(np.abs(y))
    return float(np.mean(_pinball(y, pred, levels).sum(axis=1) / total)) if total > 0 else float("nan")


def _pinball(actual: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Twice the pinball loss of each quantile forecast, (levels, *actual's shape)."""
    q = np.asarray(levels, dtype=float).reshape(-1, *([1] * np.ndim(actual)))
    error = np.asarray(actual, dtype=float)[None] - quantiles
    return 2 * np.maximum(q * error, (q - 1) * error)


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


def quantile_loss(actual: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Each window's CRPS as the mean quantile loss: twice the pinball loss at each level in `levels`,
    averaged over the levels and the steps; `actual` (windows, horizon), `quantiles` (levels, windows,
    horizon). For a forecast with no spread it is the MAE."""
    return np.mean(_pinball(actual, quantiles, levels), axis=(0, 2))
