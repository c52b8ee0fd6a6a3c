"""Forecasting pipelines: backtest the candidates and the baselines on the same windows, gate, choose what
serves each series, refit on all the data, register.

Called by the CLI, the scheduler and the tests alike; no transaction stays open while a model trains."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from db import registry
from db.engine import read_session, write_session
from db.errors import RecurError
from db.settings import Settings
from forecaster.config import ForecastConfig, recurrent_cell
from jobs import forecast_data as fd
from jobs import runs
from jobs.device import fused_kernel, placed

AUTO = ("gru", "lstm", "attention")
CONFIDENCE = 0.9  # the gate's default: lower MASE in at least 90% of bootstrap resamples

Progress = Callable[[str], None]


def quiet(_line: str) -> None:
    pass


@dataclass(frozen=True)
class Request:
    """How `train` (and `evaluate`) are asked to decide."""

    windows: int = 5
    stride: int | None = None
    force: bool = False
    candidates: tuple[str, ...] = ()
    confidence: float = CONFIDENCE
    verbose: int = 0
    tensorboard: str | None = None


@dataclass
class Prepared:
    """A subject cut into one backtest split, shared by every candidate."""

    cfg: ForecastConfig  # resolved: season, lookback, scaling, history
    subject: fd.Subject
    sp: object  # forecaster.evaluate.Split
    scalers: dict
    windows: int
    stride: int


@dataclass
class Candidate:
    model: str
    cfg: ForecastConfig
    result: object  # forecaster.train.TrainResult
    pred: np.ndarray  # backtest forecasts in the series' own units
    normalised: np.ndarray  # the same, on the normalised scale
    widths: dict  # conformal widths per level, normalised, per step
    seconds: float


def prepare(cfg: ForecastConfig, subject: fd.Subject, windows: int, stride: int | None) -> Prepared:
    from forecaster import evaluate as ev

    stride = stride or cfg.horizon
    cfg = cfg.resolved(fd.season_of(subject, cfg.season), subject.values, windows, stride)
    origins = [ev.origins_for(len(v), cfg, windows, stride) for v in subject.values]
    first = [int(o[0]) if len(o) else len(v) for o, v in zip(origins, subject.values, strict=True)]
    panels, scalers = fd.panels(subject, cfg.calendar, first)
    sp = ev.split(cfg, subject.names, panels, windows, stride, cfg.season)
    return Prepared(cfg, subject, sp, scalers, windows, stride)


def fit_candidate(prep: Prepared, model: str, verbose: int = 0, tensorboard: str | None = None) -> Candidate:
    from forecaster import evaluate as ev
    from forecaster.train import predict_normalised, train

    sp = prep.sp
    cfg = replace(prep.cfg, model=model).batch_for(len(sp.train))
    start = time.monotonic()
    result = train(cfg, sp.train, sp.val, sp.season, verbose=verbose, tensorboard=tensorboard)
    normalised = predict_normalised(cfg, result.model, sp.test)
    calibration = sp.val if len(sp.val) else sp.train
    residuals = calibration.y - predict_normalised(cfg, result.model, calibration)
    widths = ev.conformal(residuals)
    pred = sp.test.denormalise(normalised)
    return Candidate(model, cfg, result, pred, normalised, widths, time.monotonic() - start)


def evidence(prep: Prepared, cand: Candidate) -> tuple[dict, dict[str, np.ndarray]]:
    """The scoreboard of the candidate and every baseline, and each method's per-window losses."""
    from forecaster import evaluate as ev

    sp = prep.sp
    forecasts = {"model": cand.pred} | sp.baselines
    board = ev.scoreboard(sp, prep.subject.names, forecasts)
    losses = {m: ev.window_losses(sp, f) for m, f in forecasts.items()}
    return board, losses


def serve_map(
    prep: Prepared, losses: dict[str, np.ndarray], best: str, confidence: float, force: bool = False
) -> tuple[dict[str, str], dict]:
    """What forecasts each series, and the evidence: the network, or each series' own best method where
    choosing per series proved itself on this subject (forecaster.choose.per_series; with `force`, the
    network wherever it was backtested); a series too short to backtest the network gets the subject's
    best baseline `best`, or its own by the same rule on a backtest of the baselines alone."""
    from forecaster.choose import per_series

    sp, names = prep.sp, prep.subject.names
    if force:
        chosen, evidence = {}, {"per_series": False, "why": "--force"}
    else:
        chosen, evidence = per_series(losses, sp.test.series, "model", confidence)
    short = [i for i in range(len(names)) if i not in set(sp.backtested)]
    fallback = fd.baseline_serve(
        [prep.subject.values[i] for i in short], prep.cfg.horizon, sp.season, confidence, best
    )
    out = {}
    for i, name in enumerate(names):
        out[name] = chosen.get(i, "model") if i in set(sp.backtested) else fallback[short.index(i)]
    return out, evidence


def served_counts(serve: dict[str, str], architecture: str) -> dict[str, int]:
    return dict(Counter(architecture if m == "model" else m for m in serve.values()).most_common())


def champion_losses(settings: Settings, prep: Prepared) -> tuple[int | None, np.ndarray | float | None, str]:
    """The champion's per-window losses on the same backtest windows; its own backtest MASE where it was
    refit on data that covers those windows (re-scoring it there would flatter it); or why neither."""
    from forecaster import evaluate as ev

    with read_session(settings) as session:
        current = registry.champion(session, "forecaster", prep.subject.name)
        if current is None:
            return None, None, ""
        version_id, config, metrics = current.id, dict(current.config), dict(current.metrics or {})
        from jobs.artifacts import load_model

        model = load_model(current)
    cfg = ForecastConfig.from_json(config)
    if _has_seen(config, prep):
        stored = metrics.get("backtest", {}).get("overall", {}).get("model", {}).get("mase")
        return version_id, stored, ""
    try:
        if cfg.horizon != prep.cfg.horizon:
            raise RecurError(f"it forecasts {cfg.horizon} steps, not {prep.cfg.horizon}")
        subject = fd.load(settings, prep.subject.name, cfg.covariates)  # the champion's own inputs
        subject = fd.truncated(subject, [len(v) for v in prep.subject.values])
        pred = forecast_windows(cfg, config, model, subject, prep.sp.origins)
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
    from forecaster.evaluate import floors_for
    from forecaster.train import predict_normalised
    from forecaster.windows import make_windows

    if config.get("series") != subject.names:
        raise RecurError("it was trained on other series")
    if any(len(o) and o[0] < cfg.lookback for o in origins):
        raise RecurError(f"its lookback ({cfg.lookback}) is longer than some backtest histories")
    panels, _ = fd.panels(subject, cfg.calendar, [len(v) for v in subject.values], config.get("scalers"))
    floors = np.asarray(config.get("floors") or floors_for(panels, [len(p) for p in panels]))
    w = make_windows(panels, cfg, [o - cfg.lookback for o in origins], floors, with_target=False)
    return w.denormalise(predict_normalised(cfg, model, w))


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
    confidence: float = CONFIDENCE,
    until: str | None = None,
    progress: Progress = quiet,
) -> dict:
    """Backtest each candidate (several for --model auto) against the baselines on the same windows, keep
    the best, gate it against the best baseline and the champion, choose per series what serves it, refit
    on all the data up to the last observation (or `until`), and register."""
    subject = fd.load(settings, name, cfg.covariates, until=until)
    run_id = runs.start(settings, "forecaster", name)
    try:
        with placed(device, precision) as (used, policy):
            request = Request(windows, stride, force, candidates, confidence, verbose, tensorboard)
            issued = issue(settings, subject, cfg, request, progress)
    except Exception as exc:
        runs.fail(settings, run_id, exc)
        raise
    metrics = issued["metrics"] | {
        "device": used,
        "precision": policy,
        "cudnn": fused_kernel(used, recurrent_cell(issued["model"]), cfg.recurrent_dropout, policy=policy),
    }
    if cfg.season:
        fd.store_season(settings, subject, cfg.season)
    from jobs.artifacts import model_bytes

    artifact = model_bytes(issued["result"].model)
    with write_session(settings) as session:
        version, device_used = runs.register(
            session,
            run_id,
            issued["result"],
            issued["promote"],
            used,
            artifact=artifact,
            kind="forecaster",
            subject=name,
            architecture=issued["model"],
            config=issued["config"],
            metrics=metrics,
        )
        version_id, alias = version.id, version.alias
    return {
        "version": version_id,
        "subject": name,
        "model": issued["model"],
        "alias": alias,
        "promoted": issued["promote"],
        "reason": issued["reason"],
        "served": metrics["served"],
        "device": device_used,
        "epochs": issued["epochs"],
        "refit_epochs": issued["result"].epochs_run,
        "metrics": metrics,
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
    from forecaster import choose
    from forecaster import evaluate as ev

    prep = prepare(cfg, subject, req.windows, req.stride)
    progress(_describe(prep))
    tried = try_candidates(prep, req, cfg.model, progress)
    cand, board, losses = tried[0]
    series = prep.sp.test.series
    baseline_losses = {m: v for m, v in losses.items() if m != "model"}
    best = choose.best_overall(baseline_losses, series)
    champion_id, champion_l, note = champion_losses(settings, prep) if champion else (None, None, "")
    promote, reason, gate = choose.gate(
        losses["model"], (best, baseline_losses[best]), champion_l, series, req.confidence, req.force
    )
    reason = f"{reason}; {note}" if note else reason
    serve, serving = serve_map(prep, losses, best, req.confidence, req.force)
    progress(f"serves: {served_counts(serve, cand.model)}")
    result = _refit(prep, cand, req.verbose)
    progress(f"refit ({cand.cfg.refit}) on all the data: {result.epochs_run} epochs")
    metrics = {
        "backtest": board | _backtest_info(prep),
        "intervals": cand.widths,
        "coverage": ev.interval_coverage(prep.sp, cand.normalised, cand.widths),
        "gate": gate,
        "decision": reason,
        "champion_before": champion_id,
        "serve": serve,
        "served": served_counts(serve, cand.model),
        "serving": serving,
    }
    if req.candidates:
        metrics["auto"] = {c.model: b["overall"]["model"]["mase"] for c, b, _ in tried}
    config = cand.cfg.to_json() | _data_config(subject, prep)
    return {
        "model": cand.model,
        "epochs": cand.result.epochs_run,
        "result": result,
        "promote": promote,
        "reason": reason,
        "metrics": metrics,
        "config": config,
    }


def try_candidates(prep: Prepared, req: Request, model: str, progress: Progress) -> list[tuple]:
    """(candidate, scoreboard, losses) for each architecture tried, the best (lowest MASE) first."""
    tried = []
    for name in req.candidates or (model,):
        cand = fit_candidate(prep, name, req.verbose, req.tensorboard)
        board, losses = evidence(prep, cand)
        tried.append((cand, board, losses))
        progress(
            f"{name}: backtest MASE {board['overall']['model']['mase']:.4f} "
            f"({cand.result.epochs_run} epochs, {cand.seconds:.0f} s)"
        )
    return sorted(tried, key=lambda t: t[1]["overall"]["model"]["mase"])


def _backtest_info(prep: Prepared) -> dict:
    return {"windows": prep.windows, "stride": prep.stride, "season": prep.cfg.season}


def _describe(prep: Prepared) -> str:
    cfg, sp = prep.cfg, prep.sp
    short = len(sp.origins) - len(sp.backtested)
    extra = f"; {short} too short to backtest (their best baseline serves them)" if short else ""
    return (
        f"{len(sp.origins)} series, {len(sp.train)} training windows, "
        f"{len(sp.test)} backtest windows{extra}; "
        f"lookback {cfg.lookback}, season {cfg.season}, {cfg.scaling} scaling"
    )


def _refit(prep: Prepared, cand: Candidate, verbose: int):
    from forecaster.evaluate import floors_for, training_starts
    from forecaster.train import refit
    from forecaster.windows import make_windows

    cfg, subject = cand.cfg, prep.subject
    panels, _ = fd.panels(subject, cfg.calendar, [len(v) for v in subject.values], prep.scalers or None)
    starts = [training_starts(len(p), cfg) for p in panels]
    floors = floors_for(panels, [len(p) for p in panels])
    windows = make_windows(panels, cfg, starts, floors)
    return refit(cfg, windows, prep.sp.season, cand.result, verbose)


def _data_config(subject: fd.Subject, prep: Prepared) -> dict:
    import keras

    from forecaster.evaluate import floors_for

    return {
        "series": subject.names,
        "time_kind": subject.time_kind,
        "freq": subject.freq,
        "covariates": subject.covariate_names,
        "scalers": prep.scalers,
        "floors": floors_for(
            [fd.Panel(v) for v in subject.values], [len(v) for v in subject.values]
        ).tolist(),
        "data_range": [[int(t[0]), int(t[-1])] for t in subject.ts],
        "versions": {"keras": keras.__version__, "numpy": np.__version__, "backend": keras.backend.backend()},
    }


def backtest(
    settings: Settings,
    name: str,
    cfg: ForecastConfig | None,
    windows: int = 5,
    stride: int | None = None,
    candidates: tuple[str, ...] = (),
    progress: Progress = quiet,
) -> dict:
    """Score fresh models of `cfg` (each candidate, for --model auto) or the champion, and the baselines,
    on the same rolling-origin windows, without registering anything."""
    if cfg is None:
        return _backtest_champion(settings, name, windows, stride)
    from forecaster import evaluate as ev

    subject = fd.load(settings, name, cfg.covariates)
    prep = prepare(cfg, subject, windows, stride)
    progress(_describe(prep))
    tried = try_candidates(prep, Request(windows, stride, candidates=candidates), cfg.model, progress)
    cand, board, _losses = tried[0]
    out = {
        "subject": name,
        "model": cand.model,
        "version": None,
        "backtest": board | _backtest_info(prep),
        "coverage": ev.interval_coverage(prep.sp, cand.normalised, cand.widths),
    }
    if candidates:
        out["auto"] = {c.model: b["overall"]["model"]["mase"] for c, b, _ in tried}
    return out


def _backtest_champion(settings: Settings, name: str, windows: int, stride: int | None) -> dict:
    with read_session(settings) as session:
        current = registry.champion(session, "forecaster", name)
        if current is None:
            raise RecurError(f"{name!r} has no champion; pass --model to backtest a fresh model")
        config, vid = dict(current.config), current.id
        from jobs.artifacts import load_model

        model = load_model(current)
    cfg = ForecastConfig.from_json(config)
    subject = fd.load(settings, name, cfg.covariates)
    prep = prepare(cfg, subject, windows, stride)
    pred = forecast_windows(cfg, config, model, subject, prep.sp.origins)
    from forecaster import evaluate as ev

    board = ev.scoreboard(prep.sp, subject.names, {"model": pred} | prep.sp.baselines)
    return {"subject": name, "model": cfg.model, "version": vid, "backtest": board | _backtest_info(prep)}
