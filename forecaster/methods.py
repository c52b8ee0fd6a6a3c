"""Every forecasting method that is not a network, behind one interface: the simple baselines
(`baselines.py`) and the statistical peers (`statistical.py`), and the combination of the network with the
peers. Backtests score them from each origin's whole past; a series no network serves is forecast by the
one its backtest chose."""

from __future__ import annotations

import numpy as np

from forecaster import baselines as simple
from forecaster import metrics, statistical
from forecaster.choose import best_overall, per_series
from forecaster.intervals import conformal

STATISTICAL = statistical.STATISTICAL
COMBINATION = "combination"  # the median of the network's forecast and the peers', step by step
BASELINE_WINDOWS = 50  # origins of a backtest without the network: cheap, so many, for a choice that holds


def names_for(season: int, peers: tuple[str, ...]) -> tuple[str, ...]:
    """The methods compared at this season: the baselines worth it, then the statistical peers."""
    return (*simple.baselines_for(season), *peers)


def from_origins(
    values: np.ndarray, origins: np.ndarray, horizon: int, season: int, names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Each method's forecast from each origin: (origins, horizon) per method."""
    return from_origins_many([values], [origins], horizon, season, names)[0]


def from_origins_many(
    values: list[np.ndarray], origins: list[np.ndarray], horizon: int, season: int, names: tuple[str, ...]
) -> list[dict[str, np.ndarray]]:
    """`from_origins` for many series; the peers' fits spread over worker processes where there are many."""
    fns = {n: simple.BASELINES[n] for n in names if n in simple.BASELINES}
    out = [simple.from_origins(v, o, horizon, season, fns) for v, o in zip(values, origins, strict=True)]
    for name in names:
        if name in STATISTICAL:
            fitted = statistical.from_origins_many(values, origins, horizon, season, name)
            for row, f in zip(out, fitted, strict=True):
                row[name] = f
    return [{n: row[n] for n in names} for row in out]


def prefetch(fits: list[tuple[np.ndarray, str]], horizon: int, season: int, levels) -> None:
    """Fit the peers among the (series, method) pairs on each whole series ahead of their `forecast`s, all
    at once."""
    peers = [(values, name) for values, name in fits if name in STATISTICAL]
    statistical.remember_many(peers, horizon, season, tuple(levels))


def peer_bands(
    values: list[np.ndarray], origins: list[np.ndarray], horizon: int, season: int, peers: tuple[str, ...]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each peer's own interval (intervals.BAND_LEVEL) from every backtest origin, (test windows, horizon)
    per side, aligned with the backtest's windows; NaN where a peer gives none."""
    out = {}
    for peer in peers:
        got = statistical.bands_many(values, origins, horizon, season, peer)
        out[peer] = (np.concatenate([lo for lo, _ in got]), np.concatenate([hi for _, hi in got]))
    return out


def combination(network: np.ndarray, forecasts: dict[str, np.ndarray], peers: tuple[str, ...]) -> np.ndarray:
    """The median of the network's forecast and each peer's (the mean where there is one peer)."""
    return np.median(np.stack([network, *(forecasts[p] for p in peers)]), axis=0)


def forecast(
    values: np.ndarray, method: str, horizon: int, season: int, levels: tuple[int, ...]
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A method's forecast from the whole series with its intervals. A statistical peer gives its own; a
    baseline's come from its errors over the series' last origins (each from its whole past): a positive
    series' errors relative to its level at each origin, scaled by today's, so a series that has grown is
    not given the narrow intervals of its smaller past."""
    if method in STATISTICAL:
        return statistical.forecast(values, method, horizon, season, levels)
    fn = simple.BASELINES[method]
    point = fn(values[None, :], horizon, season)[0]
    if not levels:
        return point, {}
    origins = len(values) - horizon - np.arange(min(100, max(len(values) - horizon - 1, 0)))[::-1]
    origins = origins[origins >= 2]
    if len(origins) < 2:
        return point, {}
    past = simple.from_origins(values, origins, horizon, season, {method: fn})[method]
    actual = np.stack([values[o : o + horizon] for o in origins])
    relative = bool(np.all(values > 0))
    level = values[origins - 1][:, None] if relative else 1.0
    widths = conformal((actual - past) / level, levels)
    now = values[-1] if relative else 1.0
    return point, {lv: (point - np.asarray(q) * now, point + np.asarray(q) * now) for lv, q in widths.items()}


def first_origin(season: int, names: tuple[str, ...]) -> int:
    """The least history a backtest origin needs: a statistical peer fits on it (two seasons, ten points)."""
    return max(10, 2 * season) if any(n in STATISTICAL for n in names) else 2


def backtest(
    values: list[np.ndarray], horizon: int, season: int, windows: int, names: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every method from the last `windows` origins (every `horizon` steps) each series allows, from its
    whole past: per-window losses (MAE over the series' MASE scale) and the series of each window."""
    losses: dict[str, list] = {m: [] for m in names}
    index = []
    least = first_origin(season, names)
    every = [len(v) - horizon - horizon * np.arange(windows)[::-1] for v in values]
    every = [o[o >= least] for o in every]
    kept = [i for i, o in enumerate(every) if len(o)]
    made = from_origins_many([values[i] for i in kept], [every[i] for i in kept], horizon, season, names)
    for i, forecasts in zip(kept, made, strict=True):
        v, origins = values[i], every[i]
        actual = np.stack([v[o : o + horizon] for o in origins])
        scale = metrics.naive_scale(v[: origins[0]], season)
        for m in names:
            losses[m].append(np.mean(np.abs(forecasts[m] - actual), axis=1) / scale)
        index.append(np.full(len(origins), i))
    if not index:
        return {}, np.empty(0, dtype=np.int64)
    return {m: np.concatenate(v) for m, v in losses.items()}, np.concatenate(index)


def serve(
    values: list[np.ndarray],
    horizon: int,
    season: int,
    confidence: float,
    names: tuple[str, ...],
    default: str | None = None,
) -> list[str]:
    """Each series' method: the best over all of them (or `default`), or each series' own best where
    choosing per series proved itself (choose.per_series); naive where a series is too short to test."""
    losses, index = backtest(values, horizon, season, BASELINE_WINDOWS, names)
    if not losses:
        return ["naive"] * len(values)
    fallback = default if default in losses else best_overall(losses, index)
    chosen, _evidence = per_series(losses, index, fallback, confidence)
    return [chosen.get(i, fallback) for i in range(len(values))]
