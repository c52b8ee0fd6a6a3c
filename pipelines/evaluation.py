"""`forecast evaluate`: the M4 protocol in one command. Every series' last `holdout` points are hidden; the
whole training pipeline (backtest, gate, per-series choice, refit) runs on the rest, exactly as `train`
would have then; what it would have issued, the network alone and every baseline forecast the hidden
points, scored by sMAPE, MASE and OWA (relative to naive2), and their intervals by WQL and MSIS
(forecaster.holdout). Nothing is stored."""

from __future__ import annotations

import time

from core.errors import InputError
from core.settings import Settings
from core.timefmt import format_ts
from forecaster import holdout as holdout_scores
from forecaster import metrics
from forecaster.config import BacktestConfig, ForecastConfig
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
    ask = Ask(holdout, used.season, holdout_scores.ASKED)
    network = network_forecasts(version, known, ask, dict.fromkeys(known.names, NETWORK))
    if decided.promote:
        serve, how = decided.metrics["serve"], "what the gate passed, per series where that proved itself"
    else:
        serve = fallback_serve(known, ask, bt.confidence, used.peers)
        how = (
            "no model passed the gate, so each series by its own best method in a backtest of the methods "
            "alone over its last origins (as `forecast predict` does without a champion): not necessarily "
            "the gate's best baseline, which is the best over the network's backtest windows"
        )
    issued = served_forecasts(known, serve, ask, network)
    seconds = time.monotonic() - start
    forecasts = holdout_scores.every_forecast(known.values, issued, network, used, holdout)
    actual = [v[-holdout:] for v in full.values]
    scales = [metrics.naive_scale(v, used.season) for v in known.values]
    scores = {m: holdout_scores.scores(actual, f, scales) for m, f in forecasts.items()}
    holdout_scores.owa(scores)
    return {
        "subject": name,
        "holdout": holdout,
        "series": len(known.names),
        "season": used.season,
        "model": decided.model,
        "promoted": decided.promote,
        "reason": decided.reason,
        "served": count_methods(r.label for r in issued),
        "served_by": how,
        "auto": decided.metrics.get("auto"),
        "scores": scores,
        "coverage": holdout_scores.coverage(actual, issued),
        "seconds": round(seconds, 1),
        "forecasts": _records(known, full, holdout, forecasts, issued),
    }


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
            rec |= {m: float(f[i][0][k]) for m, f in methods.items()}
            rows.append(rec)
    return rows
