"""Splitting for honest evaluation, the rolling-origin backtest, and conformal intervals.

The last K origins (every `stride` steps, the last one `horizon` steps before the end) are held out. The
model trains on windows that end before the first origin; every origin is then forecast in one batched
call, by the model and by each baseline, from the same history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from db.errors import InputError
from forecaster import metrics
from forecaster.baselines import BASELINES
from forecaster.config import ForecastConfig
from forecaster.windows import Panel, Windows, make_windows, window_starts

MIN_TRAIN_WINDOWS = 10
LEVELS = (80, 95)


@dataclass
class Split:
    origins: list[np.ndarray]  # per series: positions where each backtest forecast starts
    train: Windows
    val: Windows
    test: Windows
    test_actual: np.ndarray  # (windows, horizon) in the series' own units
    baseline_history: np.ndarray  # (windows, context): everything before the first origin, sliding
    scales: np.ndarray  # per series: in-sample seasonal-naive MAE (the MASE denominator)
    season: int


def check_length(name: str, n: int, cfg: ForecastConfig, windows: int, stride: int) -> None:
    needed = cfg.lookback + cfg.horizon + MIN_TRAIN_WINDOWS - 1 + (windows - 1) * stride + cfg.horizon
    if n < needed:
        raise InputError(
            f"series {name!r} has {n} points; lookback {cfg.lookback} + horizon {cfg.horizon} + "
            f"{MIN_TRAIN_WINDOWS - 1} more training windows + a backtest of {windows} windows every "
            f"{stride} steps ({cfg.horizon + (windows - 1) * stride} points) needs at least {needed}; "
            "lower --lookback, --horizon or --windows"
        )


def check_not_constant(name: str, values: np.ndarray) -> None:
    if np.ptp(values) == 0:
        raise InputError(
            f"series {name!r} is constant (every value is {float(values[0])!r}): there is nothing to learn"
        )


def split(
    cfg: ForecastConfig, names: list[str], panels: list[Panel], windows: int, stride: int, season: int
) -> Split:
    origins, train_starts, val_starts, test_starts = [], [], [], []
    for name, panel in zip(names, panels, strict=True):
        n = len(panel)
        check_length(name, n, cfg, windows, stride)
        check_not_constant(name, panel.target)
        first = n - cfg.horizon - (windows - 1) * stride
        origin = first + stride * np.arange(windows)
        origins.append(origin)
        starts = window_starts(first, cfg.lookback, cfg.horizon)
        cut = int(len(starts) * (1 - cfg.validation))
        train_starts.append(starts[:cut])
        val_starts.append(starts[cut:])
        test_starts.append(origin - cfg.lookback)
    floors = np.array([1e-3 * np.std(p.target[: o[0]]) for p, o in zip(panels, origins, strict=True)])
    train = make_windows(panels, cfg.lookback, cfg.horizon, train_starts, floors)
    val = make_windows(panels, cfg.lookback, cfg.horizon, val_starts, floors)
    test = make_windows(panels, cfg.lookback, cfg.horizon, test_starts, floors)
    actual = test.denormalise(test.y.astype(np.float64))
    context = min(int(o[0]) for o in origins)
    hist = np.concatenate(
        [
            np.stack([p.target[o - context : o] for o in origin])
            for p, origin in zip(panels, origins, strict=True)
        ]
    )
    scales = np.array(
        [metrics.naive_scale(p.target[: o[0]], season) for p, o in zip(panels, origins, strict=True)]
    )
    return Split(origins, train, val, test, actual, hist, scales, season)


def baseline_forecasts(sp: Split, horizon: int) -> dict[str, np.ndarray]:
    return {name: fn(sp.baseline_history, horizon, sp.season) for name, fn in BASELINES.items()}


def scoreboard(sp: Split, names: list[str], forecasts: dict[str, np.ndarray]) -> dict:
    """Every method, every metric, per series and overall (the mean over series); MAE by horizon step."""
    series_idx = sp.test.series
    per_series: dict[str, dict] = {}
    for i, name in enumerate(names):
        rows = series_idx == i
        per_series[name] = {
            method: metrics.score(sp.test_actual[rows], pred[rows], sp.scales[i])
            for method, pred in forecasts.items()
        }
    overall = {
        method: {
            m: float(np.mean([per_series[n][method][m] for n in names]))
            for m in ("mae", "rmse", "smape", "mase")
        }
        for method in forecasts
    }
    by_step = {method: metrics.by_step(sp.test_actual, pred) for method, pred in forecasts.items()}
    return {"overall": overall, "per_series": per_series, "by_step": by_step}


def conformal(residuals: np.ndarray, levels=LEVELS) -> dict[str, list[float]]:
    """Per-step quantiles of absolute normalised residuals (split conformal, finite-sample corrected)."""
    n = len(residuals)
    out = {}
    for level in levels:
        q = min(np.ceil((n + 1) * level / 100) / n, 1.0)
        out[str(level)] = np.quantile(np.abs(residuals), q, axis=0).tolist()
    return out


def interval_coverage(sp: Split, pred: np.ndarray, widths: dict[str, list[float]]) -> dict[str, float]:
    """How often the backtest actuals fell inside the intervals (calibrated on other windows)."""
    out = {}
    for level, q in widths.items():
        half = np.asarray(q)[None, :] * sp.test.scale[:, None]
        out[level] = metrics.coverage(sp.test_actual, pred - half, pred + half)
    return out
