"""Forecasting pipelines: train → backtest → champion gate, predict with intervals, score vintages.

Called by the CLI, the scheduler and the tests alike; no transaction stays open while a model trains."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from db import registry
from db.engine import read_session, write_session
from db.errors import RecurError
from db.settings import Settings
from forecaster.baselines import season_for
from forecaster.config import ForecastConfig, recurrent_cell
from jobs import forecast_data as fd
from jobs import runs
from jobs.device import fused_kernel, placed

AUTO = ("gru", "lstm", "attention")


def _season(cfg: ForecastConfig, subject: fd.Subject) -> int:
    return cfg.season or season_for(subject.freq, subject.time_kind)


def evaluate(
    cfg: ForecastConfig,
    subject: fd.Subject,
    windows: int,
    stride: int,
    verbose: int = 0,
    tensorboard: str | None = None,
):
    """Split, train, and score the model and the baselines on the same backtest windows."""
    from forecaster import evaluate as ev
    from forecaster.train import predict, train

    first = [len(v) - cfg.horizon - (windows - 1) * stride for v in subject.values]
    panels, scalers = fd.panels(subject, cfg.calendar, first)
    sp = ev.split(cfg, subject.names, panels, windows, stride, _season(cfg, subject))
    result = train(cfg, sp.train, sp.val, sp.season, verbose=verbose, tensorboard=tensorboard)
    pred = predict(cfg, result.model, sp.test)
    val_pred = predict(cfg, result.model, sp.val)
    val_actual = sp.val.denormalise(sp.val.y.astype(np.float64))
    widths = ev.conformal((val_actual - val_pred) / sp.val.scale[:, None])
    forecasts = {"model": pred} | ev.baseline_forecasts(sp, cfg.horizon)
    board = ev.scoreboard(sp, subject.names, forecasts)
    metrics = {
        "backtest": board | {"windows": windows, "stride": stride, "season": sp.season},
        "intervals": widths,
        "coverage": ev.interval_coverage(sp, pred, widths),
    }
    extra = {
        "scalers": scalers,
        "floors": [float(1e-3 * np.std(v[:f])) for v, f in zip(subject.values, first, strict=True)],
    }
    return result, metrics, extra, sp


def rescore_champion(settings: Settings, subject: fd.Subject, windows: int, stride: int, horizon: int):
    """The champion's MASE on the same backtest windows, so the comparison is like for like."""
    with read_session(settings) as session:
        current = registry.champion(session, "forecaster", subject.name)
        if current is None:
            return None, None
        version_id, config = current.id, dict(current.config)
        stored = (current.metrics or {}).get("backtest", {}).get("overall", {}).get("model", {}).get("mase")
        from jobs.artifacts import load_model

        model = load_model(current)
    cfg = ForecastConfig.from_json(config)
    if cfg.horizon != horizon:
        return version_id, stored
    try:
        return version_id, _score_model(cfg, subject, model, config, windows, stride)["overall"]["model"][
            "mase"
        ]
    except RecurError:
        return version_id, stored


def decide(new: float, naive: float, champion: float | None, force: bool) -> tuple[bool, str]:
    if force:
        return True, "promoted with --force"
    if new >= naive:
        return False, f"MASE {new:.4f} does not beat seasonal naive ({naive:.4f})"
    if champion is not None and new >= champion:
        return False, f"MASE {new:.4f} does not beat the champion ({champion:.4f} on the same windows)"
    against = "" if champion is None else f" and the champion ({champion:.4f})"
    return True, f"MASE {new:.4f} beats seasonal naive ({naive:.4f}){against}"


def train_forecaster(
    settings: Settings,
    name: str,
    cfg: ForecastConfig,
    windows: int = 5,
    stride: int | None = None,
    force: bool = False,
    candidates: tuple[str, ...] = (),
    verbose: int = 0,
    tensorboard: str | None = None,
    device: str = "auto",
    precision: str = "float32",
) -> dict:
    """Train (each candidate, for --model auto), keep the best by backtest MASE, register it, and promote
    it only if it beats seasonal naive and the current champion."""
    subject = fd.load(settings, name, cfg.covariates)
    stride = stride or cfg.horizon
    run_id = runs.start(settings, "forecaster", name)
    try:
        with placed(device, precision) as (used, policy):
            tried = [
                (c, *evaluate(replace(cfg, model=c), subject, windows, stride, verbose, tensorboard))
                for c in (candidates or (cfg.model,))
            ]
    except Exception as exc:
        runs.fail(settings, run_id, exc)
        raise
    model_name, result, metrics, extra, _sp = min(
        tried, key=lambda t: t[2]["backtest"]["overall"]["model"]["mase"]
    )
    if candidates:
        metrics["auto"] = {t[0]: t[2]["backtest"]["overall"]["model"]["mase"] for t in tried}
    final = replace(cfg, model=model_name)
    champion_id, champion_mase = rescore_champion(settings, subject, windows, stride, cfg.horizon)
    overall = metrics["backtest"]["overall"]
    promote, reason = decide(
        overall["model"]["mase"], overall["seasonal_naive"]["mase"], champion_mase, force
    )
    metrics |= {"decision": reason, "champion_before": champion_id, "champion_mase_rescored": champion_mase}
    metrics |= {
        "device": used,
        "precision": policy,
        "cudnn": fused_kernel(used, recurrent_cell(model_name), cfg.recurrent_dropout, policy=policy),
    }
    from jobs.artifacts import model_bytes

    artifact = model_bytes(result.model)
    config = final.to_json() | extra | _data_config(subject)
    with write_session(settings) as session:
        version, device = runs.register(
            session,
            run_id,
            result,
            promote,
            used,
            artifact=artifact,
            kind="forecaster",
            subject=name,
            architecture=model_name,
            config=config,
            metrics=metrics,
        )
        version_id, alias = version.id, version.alias
    return {
        "version": version_id,
        "subject": name,
        "model": model_name,
        "alias": alias,
        "promoted": promote,
        "reason": reason,
        "device": device,
        "epochs": result.epochs_run,
        "metrics": metrics,
    }


def _data_config(subject: fd.Subject) -> dict:
    import keras

    return {
        "series": subject.names,
        "time_kind": subject.time_kind,
        "freq": subject.freq,
        "covariates": subject.covariate_names,
        "data_range": [[int(t[0]), int(t[-1])] for t in subject.ts],
        "versions": {"keras": keras.__version__, "numpy": np.__version__, "backend": keras.backend.backend()},
    }


def backtest(
    settings: Settings, name: str, cfg: ForecastConfig | None, windows: int = 5, stride: int | None = None
) -> dict:
    """Score a model (a fresh one of `cfg`, or the champion when cfg is None) and the baselines on the same
    rolling-origin windows, without registering anything."""
    if cfg is not None:
        subject = fd.load(settings, name, cfg.covariates)
        _r, metrics, _e, _sp = evaluate(cfg, subject, windows, stride or cfg.horizon)
        return {
            "subject": name,
            "model": cfg.model,
            "version": None,
            "backtest": metrics["backtest"],
            "coverage": metrics["coverage"],
        }
    with read_session(settings) as session:
        current = registry.champion(session, "forecaster", name)
        if current is None:
            raise RecurError(f"{name!r} has no champion; pass --model to backtest a fresh model")
        config, vid = dict(current.config), current.id
        from jobs.artifacts import load_model

        model = load_model(current)
    cfg = ForecastConfig.from_json(config)
    subject = fd.load(settings, name, cfg.covariates)
    board = _score_model(cfg, subject, model, config, windows, stride or cfg.horizon)
    return {"subject": name, "model": cfg.model, "version": vid, "backtest": board}


def _score_model(cfg, subject, model, config, windows, stride) -> dict:
    from forecaster import evaluate as ev
    from forecaster.train import predict

    first = [len(v) - cfg.horizon - (windows - 1) * stride for v in subject.values]
    panels, _ = fd.panels(subject, cfg.calendar, first, config.get("scalers") or None)
    sp = ev.split(cfg, subject.names, panels, windows, stride, _season(cfg, subject))
    forecasts = {"model": predict(cfg, model, sp.test)} | ev.baseline_forecasts(sp, cfg.horizon)
    return ev.scoreboard(sp, subject.names, forecasts) | {
        "windows": windows,
        "stride": stride,
        "season": sp.season,
    }
