"""Every subject at once: `forecast train --all` and `forecast predict --all`. Each subject (a series of
its own, or a group with its one global model) is a unit the executor runs: here one after another, or as
Ray tasks across the cluster. Each unit writes its own results to the store in its own transactions, as
the one-subject commands do; a unit that fails is reported beside the others, not fatal to them."""

from __future__ import annotations

from functools import partial

from core.errors import InputError
from core.settings import Settings
from db import series as q
from db.engine import read_session
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.scores import Scoreboard, lead_of
from runtime.cluster import fan_out


def subjects(settings: Settings) -> list[str]:
    """Each group, then each series that belongs to none, by name."""
    with read_session(settings) as session:
        groups = sorted(q.list_groups(session).values())
        alone = sorted(s.name for s in q.list_series(session) if s.group_id is None)
    if not groups and not alone:
        raise InputError("no series in this store: ingest some first (recur series ingest FILE)")
    return groups + alone


def _trained(settings: Settings, name: str, cfg: ForecastConfig, backtest: BacktestConfig, auto) -> dict:
    from pipelines.forecast import train_forecaster
    from pipelines.forecast_steps import Run

    out = train_forecaster(settings, name, cfg, backtest, Run(candidates=auto))
    keep = ("version", "model", "alias", "promoted", "reason", "served")
    return {k: out[k] for k in keep} | {"mase": Scoreboard.of(out["metrics"]).score(lead_of(out["metrics"]))}


def _predicted(settings: Settings, name: str, horizon: int | None, options: dict) -> dict:
    from pipelines.vintages import predict_forecast

    out = predict_forecast(settings, name, horizon, **options)
    return {"model_version": out["model_version"], "served": out["served"], "series": len(out["forecasts"])}


def _rows(outcomes) -> list[dict]:
    return [{"subject": o.item} | (o.value or {}) | {"node": o.node, "error": o.error} for o in outcomes]


def train_all(
    settings: Settings, cfg: ForecastConfig, backtest: BacktestConfig, candidates: tuple[str, ...] = ()
) -> list[dict]:
    """Train (backtest, gate, refit, register) a forecaster for every subject with the same options."""
    unit = partial(_trained, cfg=cfg, backtest=backtest, auto=candidates)
    return _rows(fan_out(settings, unit, subjects(settings)))


def predict_all(settings: Settings, horizon: int | None = None, **options) -> list[dict]:
    """Forecast every subject with what serves each of its series, stored as vintages; `options` are
    predict_forecast's (levels, season, as_of, replace)."""
    unit = partial(_predicted, horizon=horizon, options=options)
    return _rows(fan_out(settings, unit, subjects(settings)))
