"""Every subject at once: `forecast train --all`, `forecast backtest --all` and `forecast predict --all`.
Each subject (a series of its own, or a group with its one global model) is a unit the executor runs: here
one after another, or as Ray tasks across the cluster. Each unit writes its own results to the store in its
own transactions, as the one-subject commands do; a unit that fails is reported beside the others, not
fatal to them."""

from __future__ import annotations

from functools import partial

from core.errors import InputError
from core.settings import Settings
from db import series as q
from db.engine import read_session
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.scores import NETWORK, Scoreboard, lead_of
from runtime.cluster import fan_out


def subjects(settings: Settings) -> list[str]:
    """Each group, then each series that belongs to none, by name."""
    with read_session(settings) as session:
        groups = sorted(q.list_groups(session).values())
        alone = sorted(s.name for s in q.list_series(session) if s.group_id is None)
    if not groups and not alone:
        raise InputError("no series in this store: ingest some first (recur series ingest FILE)")
    return groups + alone


def _trained(settings: Settings, name: str, cfg: ForecastConfig, backtest: BacktestConfig) -> dict:
    from pipelines.forecast import train_forecaster

    out = train_forecaster(settings, name, cfg, backtest)
    keep = ("version", "model", "alias", "promoted", "reason", "served")
    return {k: out[k] for k in keep} | {"mase": Scoreboard.of(out["metrics"]).score(lead_of(out["metrics"]))}


def _backtested(settings: Settings, name: str, cfg: ForecastConfig | None, backtest: BacktestConfig) -> dict:
    from pipelines.forecast import backtest as run

    out = run(settings, name, cfg, backtest)
    board = Scoreboard.of(out)
    baselines = {m: board.score(m) for m in board.overall if m not in (NETWORK, lead_of(out))}
    best = min((m for m in baselines if baselines[m] is not None), key=baselines.get, default=None)
    return {
        "model": out["model"],
        "mase": board.score(lead_of(out)),
        "network_mase": board.score(NETWORK),
        "best_baseline": best,
        "baseline_mase": baselines.get(best),
    }


def _predicted(settings: Settings, name: str, options) -> dict:
    from pipelines.vintages import predict_forecast

    out = predict_forecast(settings, name, options)
    return {"model_version": out["model_version"], "served": out["served"], "series": len(out["forecasts"])}


def _rows(outcomes) -> list[dict]:
    return [{"subject": o.item} | (o.value or {}) | {"node": o.node, "error": o.error} for o in outcomes]


def train_all(settings: Settings, cfg: ForecastConfig, backtest: BacktestConfig) -> list[dict]:
    """Train (backtest, gate, refit, register) a forecaster for every subject with the same options."""
    unit = partial(_trained, cfg=cfg, backtest=backtest)
    return _rows(fan_out(settings, unit, subjects(settings)))


def backtest_all(settings: Settings, cfg: ForecastConfig | None, backtest: BacktestConfig) -> list[dict]:
    """Backtest a fresh model of `cfg` (or, with None, each subject's champion) and the baselines for
    every subject; nothing is registered."""
    unit = partial(_backtested, cfg=cfg, backtest=backtest)
    return _rows(fan_out(settings, unit, subjects(settings)))


def predict_all(settings: Settings, options) -> list[dict]:
    """Forecast every subject with what serves each of its series, stored as vintages, each as
    `options` (pipelines.vintages.PredictOptions) ask."""
    unit = partial(_predicted, options=options)
    return _rows(fan_out(settings, unit, subjects(settings)))
