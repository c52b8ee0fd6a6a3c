"""`forecast evaluate`: the M4 protocol in one command. Every series' last `holdout` points are hidden; the
whole training pipeline (backtest, gate, per-series choice, refit) runs on the rest, exactly as `train`
would have then; what it would have issued, the network alone and every baseline forecast the hidden
points, scored by sMAPE, MASE and OWA (relative to naive2) per series and overall. Nothing is stored."""

from __future__ import annotations

import time

import numpy as np

from core.errors import InputError
from core.settings import Settings
from core.timefmt import format_ts
from forecaster import methods, metrics
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.intervals import LEVELS
from forecaster.issue import issue
from forecaster.predict import Ask, Version, fallback_serve, network_forecasts, served_forecasts
from forecaster.scores import NETWORK
from forecaster.search import count_methods
from pipelines import forecast_data as fd
from pipelines.forecast import DEFAULT_BACKTEST, PLAIN_RUN, Run


def evaluate_holdout(
    settings: Settings,
    name: str,
    cfg: ForecastConfig,
    holdout: int,
    bt: BacktestConfig = DEFAULT_BACKTEST,
    run: Run = PLAIN_RUN,
) -> dict:
    if holdout < 1 or holdout > cfg.horizon:
        raise InputError(f"--holdout {holdout}: must be between 1 and the horizon ({cfg.horizon})")
    full = fd.load(settings, name, cfg.covariates)
    known = fd.load(settings, name, cfg.covariates, holdout=holdout)
    start = time.monotonic()
    decided = issue(known, cfg, run.request(bt), None, run.progress)
    version = Version(0, decided.config, decided.metrics, decided.result.model)
    used = version.cfg
    ask = Ask(holdout, used.season, LEVELS)
    network = network_forecasts(version, known, ask, dict.fromkeys(known.names, NETWORK))
    if decided.promote:
        serve = decided.metrics["serve"]
    else:
        serve = fallback_serve(known, ask, bt.confidence, used.peers)
    issued = served_forecasts(known, serve, ask, network)
    seconds = time.monotonic() - start
    forecasts = _every_forecast(known.values, issued, network.forecasts, used, holdout)
    actual = [v[-holdout:] for v in full.values]
    scales = [metrics.naive_scale(v, used.season) for v in known.values]
    scores = {m: _scores(actual, f, scales) for m, f in forecasts.items()}
    for m in scores:
        scores[m]["owa"] = 0.5 * (
            scores[m]["smape"] / scores["naive2"]["smape"] + scores[m]["mase"] / scores["naive2"]["mase"]
        )
    return {
        "subject": name,
        "holdout": holdout,
        "series": len(known.names),
        "season": used.season,
        "model": decided.model,
        "promoted": decided.promote,
        "reason": decided.reason,
        "served": count_methods(r.label for r in issued),
        "auto": decided.metrics.get("auto"),
        "scores": scores,
        "coverage": _coverage(actual, issued),
        "seconds": round(seconds, 1),
        "forecasts": _records(known, full, holdout, forecasts, issued),
    }


def _every_forecast(values: list, issued: list, network: dict, used: ForecastConfig, holdout: int) -> dict:
    """Each series' hidden points as forecast by what was issued, the network alone, every method it was
    compared with (naive2 too, M4's yardstick) and the combination of the network with the peers."""
    season, n = used.season, len(values)
    out = {"issued": [r.point for r in issued]}
    out["network"] = [network[i][0] if i in network else issued[i].point for i in range(n)]
    methods.prefetch(values, used.peers, holdout, season, LEVELS)
    for b in (*methods.names_for(season, used.peers), *(() if season > 1 else ("naive2",))):
        levels = LEVELS if b in used.peers else ()  # as the issued forecast asked: fitted once
        out[b] = [methods.forecast(v, b, holdout, season, levels)[0] for v in values]
    if used.peers:
        out[methods.COMBINATION] = [
            methods.combination(out["network"][i], {p: out[p][i] for p in used.peers}, used.peers)
            for i in range(n)
        ]
    return out


def _scores(actual: list, forecasts: list, scales: list) -> dict[str, float]:
    smapes = [metrics.smape(a, f) for a, f in zip(actual, forecasts, strict=True)]
    mases = [metrics.mase(a, f, s) for a, f, s in zip(actual, forecasts, scales, strict=True)]
    return {"smape": float(np.mean(smapes)), "mase": float(np.mean(mases))}


def _coverage(actual: list, issued: list) -> dict[str, float]:
    out = {}
    for level in map(str, LEVELS):
        inside = [
            (a >= bounds[level][0]) & (a <= bounds[level][1])
            for a, bounds in zip(actual, (r.bounds for r in issued), strict=True)
            if level in bounds
        ]
        if inside:
            out[level] = float(np.mean(np.concatenate(inside)))
    return out


def _records(known, full, holdout, methods, issued) -> list[dict]:
    """One row per series and hidden step: the actual, each method's forecast, what served it."""
    rows = []
    for i, series_name in enumerate(known.names):
        for k in range(holdout):
            rec = {
                "series": series_name,
                "origin": format_ts(int(known.ts[i][-1]), known.time_kind),
                "time": format_ts(int(full.ts[i][len(known.ts[i]) + k]), known.time_kind),
                "step": k + 1,
                "actual": float(full.values[i][len(known.values[i]) + k]),
                "issued_by": issued[i].label,
            }
            rec |= {m: float(f[i][k]) for m, f in methods.items()}
            rows.append(rec)
    return rows
