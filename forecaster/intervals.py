"""Split-conformal interval widths (quantiles of past absolute errors, per horizon step), and the quantiles a
forecast's central intervals give."""

from __future__ import annotations

import numpy as np

LEVELS = (80, 95)  # the levels reported by default
LEVEL_GRID = tuple(range(1, 100))  # the levels a model keeps widths for, so any whole level can be issued


def conformal(residuals: np.ndarray, levels=LEVELS) -> dict[str, list[float]]:
    """Per-step quantiles of absolute residuals (split conformal, finite-sample corrected)."""
    n = len(residuals)
    out = {}
    for level in levels:
        q = min(np.ceil((n + 1) * level / 100) / n, 1.0)
        out[str(level)] = np.quantile(np.abs(residuals), q, axis=0).tolist()
    return out


QUANTILES = tuple(round(0.1 * k, 1) for k in range(1, 10))  # 0.1 ... 0.9, as GIFT-Eval and Chronos score


def central_levels(quantiles: tuple[float, ...] = QUANTILES) -> tuple[int, ...]:
    """The central interval levels whose bounds are these quantiles (0.1 and 0.9: the 80% interval)."""
    return tuple(sorted({round(abs(2 * q - 1) * 100) for q in quantiles if q != 0.5}))


def quantiles_of(
    point: np.ndarray, bounds: dict[str, tuple], quantiles: tuple[float, ...] = QUANTILES
) -> np.ndarray:
    """(quantiles, horizon): the median is the point forecast; q below it the lower bound of the central
    interval at level 100(1 - 2q), above it the upper bound at 100(2q - 1). A level without bounds gives
    the point (no spread claimed). Sorted step by step, so quantiles never cross."""
    rows = []
    for q in quantiles:
        level = str(round(abs(2 * q - 1) * 100))
        if q == 0.5 or level not in bounds:
            rows.append(np.asarray(point, dtype=float))
        else:
            rows.append(np.asarray(bounds[level][0 if q < 0.5 else 1], dtype=float))
    return np.sort(np.stack(rows), axis=0)
