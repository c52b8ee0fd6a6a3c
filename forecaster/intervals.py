"""Split-conformal interval widths (quantiles of past absolute errors, per horizon step), and the quantiles a
forecast's central intervals give.

A network's errors are measured on its normalised scale relative to each window's spread (the standard
deviation of its normalised lookback), so that a volatile series gets wide intervals and a calm one narrow
ones from the same pooled widths: on the log scale a window is not divided by its spread, and without this
one width served a flat series and a wild one alike."""

from __future__ import annotations

from dataclasses import dataclass

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


SPREAD_FLOOR = 0.1  # a window's spread is at least this share of the calibration windows' median
MIN_CALIBRATION = 100  # recent (backtest) windows enough to calibrate on alone; fewer: pooled with validation


def spread_floor(raw: np.ndarray) -> float:
    """The least spread a window is given: SPREAD_FLOOR of the median of these windows' spreads."""
    return float(SPREAD_FLOOR * np.median(raw)) if len(raw) else 0.0


def spread(x: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Each window's spread: the standard deviation of its normalised lookback target, `x` (w, lookback),
    at least `floor`."""
    return np.maximum(np.std(np.asarray(x, dtype=np.float64), axis=1), floor)


@dataclass(frozen=True)
class Calibration:
    """Widths per level and step in units of a window's spread (a window's half-width is width × its
    spread), the spread's floor, and how many windows they were measured on."""

    widths: dict[str, list[float]]
    floor: float
    windows: int
    scaled: bool = True  # False: a version stored before widths were relative to the spread

    @classmethod
    def of(cls, residuals: np.ndarray, lookbacks: np.ndarray, levels=LEVEL_GRID) -> Calibration:
        """From normalised residuals (w, horizon) and the lookbacks (w, lookback) they were forecast from."""
        raw = spread(lookbacks)
        floor = spread_floor(raw)
        scaled = residuals / np.maximum(raw, max(floor, 1e-12))[:, None]
        return cls(conformal(scaled, levels), floor, len(residuals))

    def half_widths(self, x: np.ndarray, levels) -> dict[str, np.ndarray]:
        """(windows, steps) half-widths at each level the calibration has, for windows of lookbacks `x`."""
        s = spread(x, self.floor)[:, None] if self.scaled else np.ones((len(x), 1))
        return {
            str(lv): np.asarray(self.widths[str(lv)])[None, :] * s for lv in levels if str(lv) in self.widths
        }

    def to_json(self) -> dict:
        """What a version stores beside the widths (its metrics' `intervals`)."""
        return {"by": "lookback spread", "floor": self.floor, "windows": self.windows}

    @classmethod
    def stored(cls, metrics: dict) -> Calibration:
        """A stored version's calibration: its `intervals` widths and `interval_scale`."""
        scale = metrics.get("interval_scale")
        widths = metrics.get("intervals") or {}
        if scale is None:
            return cls(widths, 0.0, 0, scaled=False)
        return cls(widths, float(scale["floor"]), int(scale.get("windows", 0)))


BAND_LEVEL = 80  # the interval whose shape a combination keeps: each member's own, at every backtest origin


def band_factors(point, lower, upper, actual, levels=LEVEL_GRID) -> dict[str, list[float]] | None:
    """Conformalised bands: per level and step, the factor by which a band's half-widths (each on its own
    side of the point) must be scaled to cover that share of the actuals, from windows (w, horizon) where
    the band has both sides; None where fewer than MIN_CALIBRATION windows have."""
    side = np.where(actual >= point, upper - point, point - lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(actual - point) / side
    usable = np.all(np.isfinite(ratio) & (side > 0), axis=1)
    if usable.sum() < MIN_CALIBRATION:
        return None
    return conformal(ratio[usable], levels)


def widened(point, lower, upper, factors: dict[str, list[float]], levels) -> dict[str, tuple]:
    """The band (lower, upper) around `point` scaled by `band_factors` to each level they have."""
    out = {}
    for level in map(str, levels):
        if level in factors:
            f = np.asarray(factors[level])[: len(point)]
            out[level] = (point - f * (point - lower), point + f * (upper - point))
    return out


QUANTILES = tuple(round(0.1 * k, 1) for k in range(1, 10))  # 0.1 ... 0.9, as GIFT-Eval and Chronos score


def central_levels(quantiles: tuple[float, ...] = QUANTILES) -> tuple[int, ...]:
    """The central interval levels whose bounds are these quantiles (0.1 and 0.9: the 80% interval)."""
    return tuple(sorted({round(abs(2 * q - 1) * 100) for q in quantiles if q != 0.5}))


def quantiles_of(
    point: np.ndarray, bounds: dict[str, tuple], quantiles: tuple[float, ...] = QUANTILES
) -> np.ndarray:
    """(quantiles, *point's shape): the median is the point forecast; q below it the lower bound of the
    central interval at level 100(1 - 2q), above it the upper bound at 100(2q - 1). A level without bounds
    gives the point (no spread claimed). Sorted step by step, so quantiles never cross."""
    rows = []
    for q in quantiles:
        level = str(round(abs(2 * q - 1) * 100))
        if q == 0.5 or level not in bounds:
            rows.append(np.asarray(point, dtype=float))
        else:
            rows.append(np.asarray(bounds[level][0 if q < 0.5 else 1], dtype=float))
    return np.sort(np.stack(rows), axis=0)
