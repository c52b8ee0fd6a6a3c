"""Forecasting pipelines: backtest the candidates and the baselines on the same windows, gate, choose what
serves each series, refit on all the data, register.

Called by the CLI, the scheduler and the tests alike; no transaction stays open while a model trains."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.errors import RecurError
from core.settings import Settings
from forecaster import choose, methods
from forecaster import evaluate as ev
from forecaster.choose import per_series
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.evaluate import floors_for
from forecaster.methods import COMBINATION
from forecaster.scores import NETWORK, Scoreboard, lead_of
from forecaster.train import predict_normalised
from forecaster.windows import make_windows
from nn.cells import recurrent_cell
from pipelines import forecast_data as fd
from pipelines.forecast_steps import (
    DEFAULT_BACKTEST,
    PLAIN_RUN,
    Prepared,
    Progress,
    Request,
    Run,
    count_methods,
    data_config,
    label,
    prepare,
    quiet,
    refit_issued,
    search,
)
from runtime.artifacts import load_champion
from runtime.cluster import spread
from runtime.training import Fitted, train_and_register

AUTO = ("gru", "lstm", "attention")


def forecast_config(values: dict) -> tuple[ForecastConfig, bool]:
    """(the configuration that option values make, whether `model` is auto: several candidates)."""
    model = values.get("model", "auto")
    rest = {k: v for k, v in values.items() if k != "model"}
    return ForecastConfig(model="gru" if model == "auto" else model, **rest), model == "auto"


def serve_map(
    prep: Prepared,
    losses: dict[str, np.ndarray],
    leads: tuple[str, str, bool],
    confidence: float,
    force: bool = False,
) -> tuple[dict[str, str], dict]:
    """What forecasts each series, and the evidence. `leads` is (the network's best use: `model` alone or
    the `combination`, the best method that is not a network, whether the first passed the gate). Each
    series gets the first, or its own best method where choosing per series proved itself on this subject
    (forecaster.choose.per_series; with `force`, the first wherever it was backtested). A series too short
    to backtest gets the first too where the gate passed on the evidence pooled over the others and the
    network can read its lookback; else the second, or its own by the same rule on a backtest without the
    network."""
    sp, names, lookback = prep.sp, prep.subject.names, prep.cfg.lookback
    lead, best, passed = leads
    if force:
        chosen, evidence = {}, {"per_series": False, "why": "--force"}
    else:
        chosen, evidence = per_series(losses, sp.test.series, lead, confidence)
    backtested = set(sp.backtested)
    pooled = {i for i, v in enumerate(prep.subject.values) if passed and len(v) >= lookback} - backtested
    short = [i for i in range(len(names)) if i not in backtested | pooled]
    fallback = methods.serve(
        [prep.subject.values[i] for i in short],
        prep.cfg.horizon,
        sp.season,
        confidence,
        methods.names_for(sp.season, prep.cfg.peers),
        best,
    )
    out = {}
    for i, name in enumerate(names):
        out[name] = fallback[short.index(i)] if i in short else chosen.get(i, lead)
    return out, evidence


def served_counts(serve: dict[str, str], architecture: str) -> dict[str, int]:
    return count_methods(architecture if m == NETWORK else m for m in serve.values())


def champion_losses(settings: Settings, prep: Prepared) -> tuple[int | None, np.ndarray | float | None, str]:
    """The champion's per-window losses on the same backtest windows; its own backtest MASE where it was
    refit on data that covers those windows (re-scoring it there would flatter it); or why neither."""
    current = load_champion(settings, "forecaster", prep.subject.name)
    if current is None:
        return None, None, ""
    version_id, config, metrics, model = current.id, current.config, current.metrics, current.model
    cfg = ForecastConfig.from_json(config)
    lead = lead_of(metrics)
    if _has_seen(config, prep):
        stored = Scoreboard.of(metrics).score(lead)
        return version_id, stored, ""
    try:
        if cfg.horizon != prep.cfg.horizon:
            raise RecurError(f"it forecasts {cfg.horizon} steps, not {prep.cfg.horizon}")
        subject = fd.load(settings, prep.subject.name, cfg.covariates)  # the champion's own inputs
        subject = fd.truncated(subject, [len(v) for v in prep.subject.values])
        pred = forecast_windows(cfg, config, model, subject, prep.sp.origins)
        if lead == COMBINATION:
            if any(p not in prep.sp.baselines for p in cfg.peers):
                raise RecurError(f"it combines {', '.join(cfg.peers)}, which this backtest does not run")
            pred = methods.combination(pred, prep.sp.baselines, cfg.peers)
    except (RecurError, ValueError) as exc:
        return version_id, None, f"the champion (version {version_id}) was not re-scored: {exc}"
    return version_id, ev.window_losses(prep.sp, pred), ""


def _has_seen(config: dict, prep: Prepared) -> bool:
    """Whether the stored model was trained on data reaching past the first backtest origin of a series."""
    seen = config.get("data_range") or []
    for i, origins in enumerate(prep.sp.origins):
        if len(origins) and i < len(seen) and seen[i][1] >= prep.subject.ts[i][int(origins[0])]:
            return True
    return False


def forecast_windows(cfg: ForecastConfig, config: dict, model, subject: fd.Subject, origins) -> np.ndarray:
    """A stored model's forecasts from given origins of each series, in the series' own units."""
    if config.get("series") != subject.names:
        raise RecurError("it was trained on other series")
    if any(len(o) and o[0] < cfg.lookback for o in origins):
        raise RecurError(f"its lookback ({cfg.lookback}) is longer than some backtest histories")
    panels, _ = fd.panels(subject, cfg.calendar, [len(v) for v in subject.values], config.get("scalers"))
    floors = np.asarray(config.get("floors") or floors_for(panels, [len(p) for p in panels]))
    w = make_windows(panels, cfg, [o - cfg.lookback for o in origins], floors, with_target=False)
    return w.denormalise(predict_normalised(cfg, model, w))


def scoreboard_rows(board: dict) -> list[dict]:
    """A stored or printed backtest as table rows: each method overall, then per series."""
    return Scoreboard.from_json(board).rows(every_series=True)


def train_forecaster(
    settings: Settings,
    name: str,
    cfg: ForecastConfig,
    bt: BacktestConfig = DEFAULT_BACKTEST,
    run: Run = PLAIN_RUN,
) -> dict:
    """Backtest each candidate (several for --model auto) against the baselines on the same windows, keep
    the best, gate it against the best baseline and the champion, choose per series what serves it, refit
    on all the data up to the last observation (or `until`), and register."""
    subject = fd.load(settings, name, cfg.covariates, until=run.until)
    request = Request.of(bt, run, spread(settings))

    def fit() -> Fitted:
        issued = issue(settings, subject, cfg, request, run.progress)
        return Fitted(
            issued["result"],
            issued["model"],
            issued["config"],
            issued["metrics"],
            recurrent_cell(issued["model"]),
            cfg.recurrent_dropout,
            extra=issued,
        )

    def gate(session, fitted: Fitted) -> tuple[bool, str]:  # decided by the backtest, inside `fit`
        if cfg.season:
            fd.store_season(session, subject, cfg.season)
        return fitted.extra["promote"], fitted.extra["reason"]

    done = train_and_register(settings, "forecaster", name, fit, gate, run.device, run.precision)
    issued = done.fitted.extra
    return {
        "version": done.version,
        "subject": name,
        "model": issued["model"],
        "alias": done.alias,
        "promoted": issued["promote"],
        "reason": issued["reason"],
        "served": done.metrics["served"],
        "device": done.device,
        "epochs": issued["epochs"],
        "refit_epochs": issued["result"].epochs_run,
        "metrics": done.metrics,
    }


def issue(
    settings: Settings,
    subject: fd.Subject,
    cfg: ForecastConfig,
    req: Request,
    progress: Progress = quiet,
    champion: bool = True,
) -> dict:
    """Everything `train` decides, without storing: the chosen candidate refit on all the data, whether
    it passes the gate, and what serves each series."""
    tried = search(cfg, subject, req, progress)
    prep, cand, board, losses = tried[0]
    series = prep.sp.test.series
    baseline_losses = {m: v for m, v in losses.items() if m not in (NETWORK, COMBINATION)}
    best = choose.best_overall(baseline_losses, series)
    lead = choose.best_overall({m: losses[m] for m in (NETWORK, COMBINATION) if m in losses}, series)
    champion_id, champion_l, note = champion_losses(settings, prep) if champion else (None, None, "")
    promote, reason, gate = choose.gate(
        losses[lead], (best, baseline_losses[best]), champion_l, series, req.confidence, req.force
    )
    if lead == COMBINATION:
        reason = f"the combination of the network with {' and '.join(cand.cfg.peers)}: {reason}"
    reason = f"{reason}; {note}" if note else reason
    serve, serving = serve_map(prep, losses, (lead, best, promote), req.confidence, req.force)
    progress(f"serves: {served_counts(serve, cand.model)}")
    result = refit_issued(prep, cand, req.verbose)
    progress(f"refit ({cand.cfg.refit}) on all the data: {result.epochs_run} epochs")
    metrics = {
        "backtest": board.to_json(),
        "intervals": cand.widths,
        "coverage": ev.interval_coverage(prep.sp, cand.normalised, cand.widths),
        "gate": gate,
        "decision": reason,
        "champion_before": champion_id,
        "serve": serve,
        "served": served_counts(serve, cand.model),
        "serving": serving,
        "lead": lead,
    }
    if req.candidates:
        metrics["auto"] = {label(c): b.score() for _p, c, b, _l in tried}
    config = cand.cfg.to_json() | data_config(prep.subject, prep)
    return {
        "model": cand.model,
        "epochs": cand.result.epochs_run,
        "result": result,
        "promote": promote,
        "reason": reason,
        "metrics": metrics,
        "config": config,
    }


def backtest(
    settings: Settings,
    name: str,
    cfg: ForecastConfig | None,
    bt: BacktestConfig = DEFAULT_BACKTEST,
    run: Run = PLAIN_RUN,
) -> dict:
    """Score fresh models of `cfg` (each candidate, for --model auto) or the champion, and the baselines,
    on the same rolling-origin windows, without registering anything."""
    if cfg is None:
        return _backtest_champion(settings, name, bt.windows, bt.stride or None)

    subject = fd.load(settings, name, cfg.covariates)
    tried = search(cfg, subject, Request.of(bt, run, spread(settings)), run.progress)
    prep, cand, board, _losses = tried[0]
    out = {
        "subject": name,
        "model": cand.model,
        "version": None,
        "backtest": board.to_json(),
        "coverage": ev.interval_coverage(prep.sp, cand.normalised, cand.widths),
    }
    if run.candidates:
        out["auto"] = {label(c): b.score() for _p, c, b, _l in tried}
    return out


def _backtest_champion(settings: Settings, name: str, windows: int, stride: int | None) -> dict:
    current = load_champion(settings, "forecaster", name)
    if current is None:
        raise RecurError(f"{name!r} has no champion; pass --model to backtest a fresh model")
    config, vid, model = current.config, current.id, current.model
    cfg = ForecastConfig.from_json(config)
    subject = fd.load(settings, name, cfg.covariates)
    prep = prepare(cfg, subject, windows, stride)
    pred = forecast_windows(cfg, config, model, subject, prep.sp.origins)

    forecasts = {NETWORK: pred} | prep.sp.baselines
    if cfg.peers:
        forecasts[COMBINATION] = methods.combination(pred, prep.sp.baselines, cfg.peers)
    board = replace(
        ev.scoreboard(prep.sp, subject.names, forecasts), windows=prep.windows, stride=prep.stride
    )
    return {"subject": name, "model": cfg.model, "version": vid, "backtest": board.to_json()}
