"""The steps every forecasting pipeline shares: prepare one backtest split of a subject, fit a candidate
on it, score it beside the baselines, try several, and refit the chosen one on all the data."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from forecaster import evaluate as ev
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.evaluate import floors_for, training_starts
from forecaster.train import predict_normalised, refit, train
from forecaster.windows import make_windows
from pipelines import forecast_data as fd

CONFIDENCE = BacktestConfig.confidence  # the gate's default


Progress = Callable[[str], None]


def count_methods(labels) -> dict[str, int]:
    """How many series each method serves, the most first."""
    from collections import Counter

    return dict(Counter(labels).most_common())


def quiet(_line: str) -> None:
    pass


@dataclass(frozen=True)
class Request:
    """How `train` (and `evaluate`) are asked to decide."""

    windows: int = BacktestConfig.windows
    stride: int | None = None
    force: bool = False
    candidates: tuple[str, ...] = ()
    confidence: float = CONFIDENCE
    verbose: int = 0
    tensorboard: str | None = None
    spread: Callable | None = None  # spread(fn, items) -> outcomes: the executor's fan-out (runtime.cluster)


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
    widths: dict  # conformal widths per level (1..99), normalised, per step
    seconds: float


def prepare(
    cfg: ForecastConfig, subject: fd.Subject, windows: int, stride: int | None, origins: list | None = None
) -> Prepared:
    """One backtest split of the subject for `cfg` (resolved for this data); `origins` from another
    prepared split puts the backtest windows in the same places."""
    stride = stride or cfg.horizon
    cfg = cfg.resolved(fd.season_of(subject, cfg.season), subject.values, windows, stride)
    if origins is None:
        origins = [ev.origins_for(len(v), cfg, windows, stride) for v in subject.values]
    first = [int(o[0]) if len(o) else len(v) for o, v in zip(origins, subject.values, strict=True)]
    panels, scalers = fd.panels(subject, cfg.calendar, first)
    sp = ev.split(cfg, subject.names, panels, windows, stride, cfg.season, origins)
    return Prepared(cfg, subject, sp, scalers, windows, stride)


def fit_candidate(prep: Prepared, model: str, verbose: int = 0, tensorboard: str | None = None) -> Candidate:
    sp = prep.sp
    cfg = replace(prep.cfg, model=model).batch_for(len(sp.train))
    start = time.monotonic()
    result = train(cfg, sp.train, sp.val, sp.season, verbose=verbose, tensorboard=tensorboard)
    normalised = predict_normalised(cfg, result.model, sp.test)
    calibration = sp.val if len(sp.val) else sp.train
    residuals = calibration.y - predict_normalised(cfg, result.model, calibration)
    widths = ev.conformal(residuals, ev.LEVEL_GRID)
    pred = sp.test.denormalise(normalised)
    return Candidate(model, cfg, result, pred, normalised, widths, time.monotonic() - start)


def evidence(prep: Prepared, cand: Candidate) -> tuple[dict, dict[str, np.ndarray]]:
    """The scoreboard of the candidate and every baseline, and each method's per-window losses."""
    sp = prep.sp
    forecasts = {"model": cand.pred} | sp.baselines
    board = ev.scoreboard(sp, prep.subject.names, forecasts)
    losses = {m: ev.window_losses(sp, f) for m, f in forecasts.items()}
    return board, losses


def search(cfg: ForecastConfig, subject: fd.Subject, req: Request, progress: Progress) -> list[tuple]:
    """(prepared split, candidate, scoreboard, losses) for each candidate tried, the best (lowest backtest
    MASE) first: each architecture at the resolved lookback, and with `--model auto` and no lookback
    given, the best of them again at the short lookback, on the same backtest windows. With `auto` and
    covariates the same search runs again without them: covariates earn their place like any choice."""
    tried = _search_inputs(cfg, subject, req, progress)
    if req.candidates and subject.covariate_names:
        plain = replace(subject, covariate_names=[], covariates=None)
        progress("the same candidates without covariates:")
        origins = tried[0][0].sp.origins
        tried = sorted(
            [*tried, *_search_inputs(replace(cfg, covariates=()), plain, req, progress, origins)], key=_score
        )
    return tried


def _search_inputs(
    cfg: ForecastConfig, subject: fd.Subject, req: Request, progress: Progress, origins: list | None = None
) -> list[tuple]:
    prep = prepare(cfg, subject, req.windows, req.stride, origins)
    progress(describe(prep))
    tried = sorted(_try_each(prep, req.candidates or (cfg.model,), req, progress), key=_score)
    short = prep.cfg.short_lookback()
    if req.candidates and not cfg.lookback and short < prep.cfg.lookback:
        alt = prepare(replace(cfg, lookback=short), subject, req.windows, req.stride, prep.sp.origins)
        tried = sorted([*tried, _try(alt, tried[0][1].model, req, progress)], key=_score)
    return tried


def label(cand: Candidate) -> str:
    return f"{cand.model} (lookback {cand.cfg.lookback}{', covariates' if cand.cfg.covariates else ''})"


def _try(prep: Prepared, model: str, req: Request, progress: Progress) -> tuple:
    cand = fit_candidate(prep, model, req.verbose, req.tensorboard)
    board, losses = evidence(prep, cand)
    progress(_tried_line(cand, board))
    return prep, cand, board, losses


def _tried_line(cand: Candidate, board: dict) -> str:
    return (
        f"{label(cand)}: backtest MASE {board['overall']['model']['mase']:.4f} "
        f"({cand.result.epochs_run} epochs, {cand.seconds:.0f} s)"
    )


def _try_each(prep: Prepared, models: tuple[str, ...], req: Request, progress: Progress) -> list[tuple]:
    """Each candidate on the same split: one after another here, or at once as the executor's units (each
    trained on a worker, its networks sent back for the refit)."""
    if req.spread is None or len(models) < 2:
        return [_try(prep, m, req, progress) for m in models]
    import forecaster.networks  # noqa: F401 - registers the layers the candidates come back with
    from core.errors import RecurError

    outcomes = req.spread(partial(_tried_remotely, prep=prep, req=replace(req, spread=None)), models)
    tried = []
    for o in outcomes:
        if o.error:
            raise RecurError(f"candidate {o.item}: {o.error}")
        cand, board, losses = o.value
        progress(f"{_tried_line(cand, board)} on {o.node}")
        tried.append((prep, cand, board, losses))
    return tried


def _tried_remotely(_settings, model: str, prep: Prepared, req: Request) -> tuple:
    _prep, cand, board, losses = _try(prep, model, req, quiet)
    return cand, board, losses


def _score(tried: tuple) -> float:
    return tried[2]["overall"]["model"]["mase"]


def backtest_info(prep: Prepared) -> dict:
    return {"windows": prep.windows, "stride": prep.stride, "season": prep.cfg.season}


def describe(prep: Prepared) -> str:
    cfg, sp = prep.cfg, prep.sp
    short = len(sp.origins) - len(sp.backtested)
    extra = f"; {short} too short to backtest (their best baseline serves them)" if short else ""
    return (
        f"{len(sp.origins)} series, {len(sp.train)} training windows, "
        f"{len(sp.test)} backtest windows{extra}; "
        f"lookback {cfg.lookback}, season {cfg.season}, {cfg.scaling} scaling"
    )


def refit_issued(prep: Prepared, cand: Candidate, verbose: int):
    cfg, subject = cand.cfg, prep.subject
    panels, _ = fd.panels(subject, cfg.calendar, [len(v) for v in subject.values], prep.scalers or None)
    starts = [training_starts(len(p), cfg) for p in panels]
    floors = floors_for(panels, [len(p) for p in panels])
    windows = make_windows(panels, cfg, starts, floors)
    return refit(cfg, windows, prep.sp.season, cand.result, verbose)


def data_config(subject: fd.Subject, prep: Prepared) -> dict:
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
    }
