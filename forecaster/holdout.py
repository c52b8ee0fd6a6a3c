"""Scoring forecasts of hidden points, the M4 way: every method's forecast of each series' last `holdout`
points (what was issued, the network alone, each method it was compared with, naive2 as the yardstick, the
combination), and their scores: sMAPE, MASE and OWA for the points; for the distributions the intervals
give, the mean weighted quantile loss (WQL, GIFT-Eval's CRPS) over the quantiles 0.1 ... 0.9 and MSIS at
95%; the issued intervals' coverage."""

from __future__ import annotations

import numpy as np

from forecaster import methods, metrics
from forecaster.config import ForecastConfig
from forecaster.intervals import LEVELS, QUANTILES, central_levels, quantiles_of
from forecaster.predict import Ask, Networked, Row, combined_forecast

ASKED = tuple(sorted({*LEVELS, *central_levels()}))  # the levels every method is asked for
MSIS_LEVEL = "95"

Forecast = tuple[np.ndarray, dict]  # (point, {level: (lower, upper)})


def every_forecast(
    values: list, issued: list[Row], network: Networked, used: ForecastConfig, holdout: int
) -> dict:
    """{method: [(point, bounds) per series]}: what was issued, the network alone (what was issued where
    it could not forecast), every method it was compared with (naive2 too) and the combination (the
    issued forecast where the network could not forecast)."""
    season, n, ask = used.season, len(values), Ask(holdout, used.season, ASKED)
    out = {"issued": [(r.point, r.bounds) for r in issued]}
    out["network"] = [network.forecasts.get(i, out["issued"][i]) for i in range(n)]
    methods.prefetch([(v, peer) for peer in used.peers for v in values], holdout, season, ASKED)
    for b in (*methods.names_for(season, used.peers), *(() if season > 1 else ("naive2",))):
        out[b] = [methods.forecast(v, b, holdout, season, ASKED) for v in values]
    if used.peers:
        out[methods.COMBINATION] = [
            combined_forecast(network, i, values[i], ask) if i in network.forecasts else out["issued"][i]
            for i in range(n)
        ]
    return out


def scores(actual: list, forecasts: list[Forecast], scales: list) -> dict[str, float]:
    """sMAPE and MASE (means over series), WQL over the quantiles and MSIS at 95% (the point where a
    method gives no interval)."""
    points = [f[0] for f in forecasts]
    quantiles = [quantiles_of(p, b) for p, b in forecasts]
    msis = [
        metrics.msis(a, *b.get(MSIS_LEVEL, (p, p)), s)
        for a, (p, b), s in zip(actual, forecasts, scales, strict=True)
    ]
    return {
        "smape": float(np.mean([metrics.smape(a, f) for a, f in zip(actual, points, strict=True)])),
        "mase": float(
            np.mean([metrics.mase(a, f, s) for a, f, s in zip(actual, points, scales, strict=True)])
        ),
        "wql": metrics.wql(actual, quantiles, QUANTILES),
        "msis": float(np.mean(msis)),
    }


def owa(scores_by_method: dict[str, dict]) -> None:
    """OWA beside each method's scores: the mean of its sMAPE and MASE relative to naive2's."""
    ref = scores_by_method["naive2"]
    for s in scores_by_method.values():
        s["owa"] = 0.5 * (s["smape"] / ref["smape"] + s["mase"] / ref["mase"])


def coverage(actual: list, issued: list[Row]) -> dict[str, float]:
    """How often the hidden points fell inside the issued 80% and 95% intervals."""
    out = {}
    for level in map(str, LEVELS):
        inside = [
            (a >= r.bounds[level][0]) & (a <= r.bounds[level][1])
            for a, r in zip(actual, issued, strict=True)
            if level in r.bounds
        ]
        if inside:
            out[level] = float(np.mean(np.concatenate(inside)))
    return out


def arrived_scores(
    actual: np.ndarray, point: np.ndarray, past: np.ndarray, season: int, quantiles=None, interval=None
) -> dict[str, float]:
    """A stored forecast's scores over the points whose actuals arrived: MAE, sMAPE, MASE (scaled by the
    in-sample seasonal naive of `past`, the series up to the forecast's origin), WQL over its stored
    quantiles ((quantiles, points), intervals.QUANTILES) and MSIS of its 95% interval ((lower, upper))
    where stored."""
    out = {"mae": metrics.mae(actual, point), "smape": metrics.smape(actual, point)}
    if len(past) > 1:
        scale = metrics.naive_scale(past, season)
        out["mase"] = metrics.mase(actual, point, scale)
        if interval is not None:
            out["msis"] = metrics.msis(actual, *interval, scale)
    if quantiles is not None:
        out["wql"] = metrics.wql([actual], [quantiles], QUANTILES)
    return out
