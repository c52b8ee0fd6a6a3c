"""Split-conformal interval widths: quantiles of past absolute errors, per horizon step."""

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
