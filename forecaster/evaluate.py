"""Splitting for honest evaluation, the rolling-origin backtest, and conformal intervals.

Each series holds out as many of the last `windows` origins (every `stride` steps, the last one `horizon`
steps before the end) as its length allows; a series too short for any keeps all its points for training
and is backtested on its baselines alone. The model trains on windows that end before each series' first
origin; every origin is then forecast in one batched call, and each baseline from the origin's whole past."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError, TooShortError
from forecaster import methods, metrics
from forecaster.config import ForecastConfig
from forecaster.intervals import (
    LEVELS,
    QUANTILES,
    Calibration,
    central_levels,
    conformal,
    quantiles_of,
    spread_floor,
)
from forecaster.scores import METRICS, Scoreboard
from forecaster.windows import Panel, Windows, make_windows, window_starts

MIN_TRAIN_WINDOWS = 10


@dataclass
class Split:
    origins: list[np.ndarray]  # per series: positions where each backtest forecast starts (maybe none)
    train: Windows
    val: Windows
    test: Windows
    test_actual: np.ndarray  # (windows, horizon) in the series' own units
    scales: np.ndarray  # per series: in-sample seasonal-naive MAE before its first origin (MASE's scale)
    season: int
    baselines: dict[str, np.ndarray]  # per method not a network, (test windows, horizon), as `test`

    @property
    def backtested(self) -> list[int]:
        return [i for i, o in enumerate(self.origins) if len(o)]


def origins_for(n: int, cfg: ForecastConfig, windows: int, stride: int) -> np.ndarray:
    """The backtest origins this series' length allows: up to `windows`, each with a full lookback and at
    least one training window before the first."""
    room = n - cfg.lookback - 2 * cfg.horizon
    k = 0 if room < 0 else min(windows, room // stride + 1)
    first = n - cfg.horizon - (k - 1) * stride
    return first + stride * np.arange(k, dtype=np.int64)


def check_length(names: list[str], lengths: list[int], cfg: ForecastConfig, windows: int, stride: int):
    """A subject needs one series long enough for a backtest window; a group's short members do not block
    the others."""
    if any(len(origins_for(n, cfg, windows, stride)) for n in lengths):
        return
    longest = int(np.argmax(lengths))
    needed = cfg.lookback + 2 * cfg.horizon
    what = f"series {names[longest]!r}" if len(names) == 1 else f"the longest series, {names[longest]!r},"
    raise TooShortError(
        f"{what} has {lengths[longest]} points; lookback {cfg.lookback} + horizon {cfg.horizon} for one "
        f"training window + a backtest window of {cfg.horizon} needs at least {needed}; lower --lookback or "
        "--horizon"
    )


def check_not_constant(names: list[str], panels: list[Panel]) -> None:
    if all(np.ptp(p.target) == 0 for p in panels):
        what = f"series {names[0]!r} is" if len(names) == 1 else "every series is"
        raise InputError(f"{what} constant: there is nothing to learn")


def split(
    cfg: ForecastConfig,
    names: list[str],
    panels: list[Panel],
    windows: int,
    stride: int,
    season: int,
    origins: list[np.ndarray] | None = None,
    baselines: dict[str, np.ndarray] | None = None,
) -> Split:
    """The backtest split; `origins` (from another split of the same data with a longer lookback) puts
    the backtest windows where that one had them, so the two are scored on the same windows, and that
    split's `baselines` (each method's forecasts there) need not be computed again."""
    lengths = [len(p) for p in panels]
    check_length(names, lengths, cfg, windows, stride)
    check_not_constant(names, panels)
    if origins is None:
        origins = [origins_for(n, cfg, windows, stride) for n in lengths]
    cutoffs = [int(o[0]) if len(o) else n for o, n in zip(origins, lengths, strict=True)]
    train_starts, val_starts = [], []
    for cutoff in cutoffs:
        starts = training_starts(cutoff, cfg)
        cut = int(np.ceil(len(starts) * (1 - cfg.validation)))
        train_starts.append(starts[:cut])
        val_starts.append(starts[cut:])
    total = sum(len(s) for s in train_starts)
    if total < MIN_TRAIN_WINDOWS:
        raise TooShortError(
            f"only {total} training windows before the backtest (at least {MIN_TRAIN_WINDOWS} are needed); "
            "lower --lookback, --horizon or --windows"
        )
    floors = floors_for(panels, cutoffs)
    train = make_windows(panels, cfg, train_starts, floors)
    val = make_windows(panels, cfg, val_starts, floors)
    test = make_windows(panels, cfg, [o - cfg.lookback for o in origins], floors)
    scales = np.array(
        [metrics.naive_scale(p.target[:c], season) for p, c in zip(panels, cutoffs, strict=True)]
    )
    if baselines is None:
        baselines = method_forecasts(
            panels, origins, cfg.horizon, season, methods.names_for(season, cfg.peers)
        )
    actual = np.concatenate(
        [
            np.stack([p.target[o : o + cfg.horizon] for o in origin])
            for p, origin in zip(panels, origins, strict=True)
            if len(origin)
        ]
    )
    return Split(origins, train, val, test, actual, scales, season, baselines)


def method_forecasts(
    panels: list[Panel], origins: list[np.ndarray], horizon: int, season: int, names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Each method's forecasts from every backtest origin, (test windows, horizon), aligned with the test
    windows."""
    parts = methods.from_origins_many([p.target for p in panels], origins, horizon, season, names)
    return {m: np.concatenate([p[m] for p in parts]) for m in names}


def training_starts(cutoff: int, cfg: ForecastConfig) -> np.ndarray:
    """Starts of the windows that end at or before `cutoff`: the latest `cfg.history` of them (0: all),
    so that long series do not outweigh short ones."""
    starts = window_starts(cutoff, cfg.lookback, cfg.horizon)
    return starts[-cfg.history :] if cfg.history else starts


def floors_for(panels: list[Panel], cutoffs: list[int]) -> np.ndarray:
    return np.array([1e-3 * np.std(p.target[:c]) for p, c in zip(panels, cutoffs, strict=True)])


def window_losses(sp: Split, pred: np.ndarray, metric: str = "mase") -> np.ndarray:
    """Each backtest window's loss by `metric`: its MASE (MAE over its series' scale), its sMAPE, or its
    scaled CRPS (backtest_quantiles: MASE where a forecast claims no spread)."""
    if metric == "smape":
        return np.array([metrics.smape(a, p) for a, p in zip(sp.test_actual, pred, strict=True)])
    if metric == "crps":
        return _spread_scores(sp, pred)["crps"]
    return np.mean(np.abs(sp.test_actual - pred), axis=1) / sp.scales[sp.test.series]


CALIBRATION_FOLDS = 5  # where each series has one backtest window, windows are calibrated in 5 folds


def backtest_quantiles(sp: Split, pred: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Any method's quantiles (intervals.QUANTILES, windows, horizon) and 95% interval in the backtest,
    made the same way for every method so that they compare: split-conformal from its own errors at the
    *other* origins (cross-conformal; folds of windows where each series has one), relative to each
    window's spread (the standard deviation of its lookback). A method's backtest CRPS and MSIS score
    these, not the intervals it issues (the network's are calibrated the same way, statistical peers issue
    their own)."""
    raw = np.std(sp.test.history, axis=1)
    spread = np.maximum(raw, spread_floor(raw) + 1e-12)[:, None]
    scaled = (sp.test_actual - pred) / spread
    folds = _folds(sp)
    levels = (*central_levels(), 95)
    half = {str(lv): np.zeros_like(pred) for lv in levels}
    for k in np.unique(folds):
        rest = folds != k
        widths = conformal(scaled[rest] if rest.any() else scaled, levels)
        for lv in half:
            half[lv][folds == k] = np.asarray(widths[lv])[None, :] * spread[folds == k]
    limits = {lv: (pred - h, pred + h) for lv, h in half.items()}
    return quantiles_of(pred, limits), limits["95"]


def _folds(sp: Split) -> np.ndarray:
    """Each test window's fold: its origin's rank within its series, or 5 folds where every series has
    one window."""
    ranks = np.concatenate([np.arange(len(o)) for o in sp.origins]) if sp.origins else np.empty(0)
    if len(np.unique(ranks)) > 1:
        return ranks
    return np.arange(len(ranks)) % CALIBRATION_FOLDS


def scoreboard(sp: Split, names: list[str], forecasts: dict[str, np.ndarray]) -> Scoreboard:
    """Every method, every metric, per backtested series and overall (the mean over those series); MAE by
    horizon step. The points by MAE, RMSE, sMAPE and MASE; the distributions (backtest_quantiles) by
    scaled CRPS and MSIS at 95%."""
    series_idx = sp.test.series
    spreads = {method: _spread_scores(sp, pred) for method, pred in forecasts.items()}
    per_series: dict[str, dict] = {}
    for i in sp.backtested:
        rows = series_idx == i
        per_series[names[i]] = {
            method: metrics.score(sp.test_actual[rows], pred[rows], sp.scales[i])
            | {m: float(np.mean(v[rows])) for m, v in spreads[method].items()}
            for method, pred in forecasts.items()
        }
    overall = {
        method: {m: float(np.mean([scores[method][m] for scores in per_series.values()])) for m in METRICS}
        for method in forecasts
    }
    by_step = {method: metrics.by_step(sp.test_actual, pred) for method, pred in forecasts.items()}
    return Scoreboard(overall, per_series, by_step, season=sp.season)


def _spread_scores(sp: Split, pred: np.ndarray) -> dict[str, np.ndarray]:
    """Each window's scaled CRPS and MSIS of the method's backtest quantiles."""
    quantiles, (lo, hi) = backtest_quantiles(sp, pred)
    scale = sp.scales[sp.test.series]
    msis = np.mean(metrics.interval_score(sp.test_actual, lo, hi), axis=1) / scale
    return {"crps": metrics.quantile_loss(sp.test_actual, quantiles, QUANTILES) / scale, "msis": msis}


def bounds(
    windows: Windows, normalised: np.ndarray, calibration: Calibration, levels, band: tuple | None = None
) -> dict[str, tuple]:
    """Interval bounds in the series' own units at each level the calibration has: the normalised forecast
    ± each window's conformal half-width (or its heads' `band` scaled), mapped back (multiplicative
    intervals on the log scale)."""
    limits = calibration.limits(normalised, windows.x[:, :, 0], band, levels)
    return {lv: (windows.denormalise(lo), windows.denormalise(hi)) for lv, (lo, hi) in limits.items()}


def interval_coverage(
    sp: Split, normalised: np.ndarray, calibration: Calibration, band: tuple | None = None
) -> dict[str, float]:
    """How often the backtest actuals fell inside the 80% and 95% intervals (calibrated on other windows)."""
    return {
        level: metrics.coverage(sp.test_actual, lo, hi)
        for level, (lo, hi) in bounds(sp.test, normalised, calibration, LEVELS, band).items()
    }
