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


BAND_LEVEL = 80  # the band a combination keeps (each member's own) and a quantile network's heads give
BY_SPREAD = "lookback spread"  # widths in units of each window's spread
BY_BAND = "heads' band"  # factors of a quantile network's own 80% band (--loss pinball)


@dataclass(frozen=True)
class Calibration:
    """How a network's intervals are made: widths per level and step in units of each window's spread (a
    window's half-width is width × its spread), or, for a network with quantile heads, factors by which
    its own BAND_LEVEL band's sides are scaled to each level (`banded`); the spread's floor, and how many
    windows they were measured on."""

    widths: dict[str, list[float]]
    floor: float
    windows: int
    scaled: bool = True  # False: a version stored before widths were relative to the spread
    by: str = BY_SPREAD

    @classmethod
    def of(cls, residuals: np.ndarray, lookbacks: np.ndarray, levels=LEVEL_GRID) -> Calibration:
        """From normalised residuals (w, horizon) and the lookbacks (w, lookback) they were forecast from."""
        raw = spread(lookbacks)
        floor = spread_floor(raw)
        scaled = residuals / np.maximum(raw, max(floor, 1e-12))[:, None]
        return cls(conformal(scaled, levels), floor, len(residuals))

    @classmethod
    def banded(cls, point, band: tuple, actual, levels=LEVEL_GRID) -> Calibration:
        """From a quantile network's points, its band (lower, upper) and the actuals, (w, horizon) each: the
        band's conformal factors (as `band_factors`, from however many windows have a band)."""
        ratio = _band_ratios(point, *band, actual)
        return cls(conformal(ratio, levels) if len(ratio) else {}, 0.0, len(ratio), by=BY_BAND)

    def limits(self, point: np.ndarray, x: np.ndarray, band: tuple | None, levels) -> dict[str, tuple]:
        """(lower, upper) around `point` (windows, steps) at each level the calibration has, for windows of
        lookbacks `x` and, for a banded calibration, the network's band."""
        steps = point.shape[1]
        if self.by == BY_BAND:
            return widened(point, band[0][:, :steps], band[1][:, :steps], self.widths, levels)
        half = self.half_widths(x, levels)
        return {lv: (point - h[:, :steps], point + h[:, :steps]) for lv, h in half.items()}

    def half_widths(self, x: np.ndarray, levels) -> dict[str, np.ndarray]:
        """(windows, steps) half-widths at each level the calibration has, for windows of lookbacks `x`."""
        s = spread(x, self.floor)[:, None] if self.scaled else np.ones((len(x), 1))
        return {
            str(lv): np.asarray(self.widths[str(lv)])[None, :] * s for lv in levels if str(lv) in self.widths
        }

    def to_json(self) -> dict:
        """What a version stores beside the widths (its metrics' `intervals`)."""
        return {"by": self.by, "floor": self.floor, "windows": self.windows}

    @classmethod
    def stored(cls, metrics: dict) -> Calibration:
        """A stored version's calibration: its `intervals` widths and `interval_scale`."""
        scale = metrics.get("interval_scale")
        widths = metrics.get("intervals") or {}
        if scale is None:
            return cls(widths, 0.0, 0, scaled=False)
        by = BY_BAND if scale.get("by") == BY_BAND else BY_SPREAD
        return cls(widths, float(scale["floor"]), int(scale.get("windows", 0)), by=by)


def _band_ratios(point, lower, upper, actual) -> np.ndarray:
    """Per window (w, horizon) where the band has both sides: each error over the band's side it fell on."""
    side = np.where(actual >= point, upper - point, point - lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(actual - point) / side
    return ratio[np.all(np.isfinite(ratio) & (side > 0), axis=1)]


def band_factors(point, lower, upper, actual, levels=LEVEL_GRID) -> dict[str, list[float]] | None:
    """Conformalised bands: per level and step, the factor by which a band's half-widths (each on its own
    side of the point) must be scaled to cover that share of the actuals, from windows (w, horizon) where
    the band has both sides; None where fewer than MIN_CALIBRATION windows have."""
    ratio = _band_ratios(point, lower, upper, actual)
    return conformal(ratio, levels) if len(ratio) >= MIN_CALIBRATION else None


def widened(point, lower, upper, factors: dict[str, list[float]], levels) -> dict[str, tuple]:
    """The band (lower, upper) around `point` scaled by `band_factors` to each level they have."""
    out = {}
    for level in map(str, levels):
        if level in factors:
            f = np.asarray(factors[level])[: np.shape(point)[-1]]
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


HEAD_QUANTILES = QUANTILES  # what a network trained by --loss pinball forecasts, one head each
MEDIAN_HEAD = HEAD_QUANTILES.index(0.5)
BAND_HEADS = tuple(HEAD_QUANTILES.index(round(0.5 + s * BAND_LEVEL / 200, 1)) for s in (-1, 1))


def heads_of(out: np.ndarray) -> tuple[np.ndarray, tuple | None]:
    """A network's output as (point, band): a quantile network's (windows, quantiles, horizon) sorted so
    heads never cross, its median and its BAND_LEVEL band (lower, upper); a point network's as it is."""
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 2:
        return out, None
    out = np.sort(out, axis=1)
    return out[:, MEDIAN_HEAD], (out[:, BAND_HEADS[0]], out[:, BAND_HEADS[1]])
