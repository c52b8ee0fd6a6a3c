"""The search: prepare one backtest split of a subject, fit a candidate on it, score it beside the
baselines, try several within a time budget (successive halving), and refit the chosen one on all the
data."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from forecaster import evaluate as ev
from forecaster import methods
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.evaluate import floors_for, training_starts
from forecaster.intervals import BAND_LEVEL, MIN_CALIBRATION, Calibration, band_factors
from forecaster.methods import COMBINATION
from forecaster.schedule import Clock, rung_sizes
from forecaster.scores import NETWORK, Scoreboard
from forecaster.subject import Subject, full_panels, panels, season_of
from forecaster.train import TrainResult, predict_heads, refit, resume, train
from forecaster.windows import Panel, make_windows

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
    confidence: float = CONFIDENCE
    verbose: int = 0
    tensorboard: str | None = None
    spread: Callable | None = None  # spread(fn, items) -> outcomes: the executor's fan-out (runtime.cluster)
    budget: float = 0.0  # seconds the backtest may train networks (0: no limit)
    metric: str = "mase"  # what the gate and each series' choice compare (config.GATE_METRICS)

    @classmethod
    def of(cls, bt: BacktestConfig, **how) -> Request:
        """The request a backtest configuration makes, with `how` the run is carried out."""
        window = {"confidence": bt.confidence, "budget": 60 * bt.budget, "metric": bt.metric}
        return cls(bt.windows, bt.stride or None, **window, **how)


@dataclass
class Prepared:
    """A subject cut into one backtest split, shared by every candidate."""

    cfg: ForecastConfig  # resolved: season, lookback, scaling, history
    subject: Subject
    sp: ev.Split
    scalers: dict
    windows: int
    stride: int


@dataclass
class Candidate:
    model: str
    cfg: ForecastConfig
    result: TrainResult
    pred: np.ndarray  # backtest forecasts in the series' own units
    normalised: np.ndarray  # the same, on the normalised scale
    calibration: Calibration  # from the validation windows: the backtest's intervals
    issued: Calibration  # from the backtest windows (with validation's where few): the issued intervals
    seconds: float
    band: tuple | None = None  # a quantile network's band on the backtest windows, normalised


def prepare(
    cfg: ForecastConfig, subject: Subject, windows: int, stride: int | None, like: Prepared | None = None
) -> Prepared:
    """One backtest split of the subject for `cfg` (resolved for this data); `like`, another prepared
    split of the same series, puts the backtest windows in the same places (and lends its methods'
    forecasts there)."""
    origins = like.sp.origins if like is not None else None
    known = like.sp.baselines if like is not None and like.subject.values is subject.values else None
    stride = stride or cfg.horizon
    cfg = cfg.resolved(season_of(subject, cfg.season), subject.values, windows, stride)
    if origins is None:
        origins = [ev.origins_for(len(v), cfg, windows, stride) for v in subject.values]
    first = [int(o[0]) if len(o) else len(v) for o, v in zip(origins, subject.values, strict=True)]
    cut, scalers = panels(subject, cfg.calendar, first)
    sp = ev.split(cfg, subject.names, cut, windows, stride, cfg.season, origins, known)
    return Prepared(cfg, subject, sp, scalers, windows, stride)


def fit_candidate(
    prep: Prepared, model: str, verbose: int = 0, tensorboard: str | None = None, seconds: float = 0.0
) -> Candidate:
    """A fresh candidate trained on the split (for at most `seconds`; 0: until it stops by itself)."""
    cfg = replace(prep.cfg, model=model).batch_for(len(prep.sp.train))
    start = time.monotonic()
    result = train(cfg, prep.sp.train, prep.sp.val, prep.sp.season, verbose, tensorboard, seconds)
    return _scored(prep, cfg, result, time.monotonic() - start)


def resume_candidate(prep: Prepared, cand: Candidate, seconds: float) -> Candidate:
    """The candidate trained on for `seconds` more, scored again."""
    start = time.monotonic()
    result = resume(cand.cfg, cand.result, prep.sp.train, prep.sp.val, seconds)
    return _scored(prep, cand.cfg, result, cand.seconds + time.monotonic() - start)


def _scored(prep: Prepared, cfg: ForecastConfig, result, seconds: float) -> Candidate:
    sp = prep.sp
    normalised, band = predict_heads(cfg, result.model, sp.test)
    held = sp.val if len(sp.val) else sp.train
    recent = Errors.on(sp.test, normalised, band)
    validation = Errors.on(held, *predict_heads(cfg, result.model, held))
    pred = sp.test.denormalise(normalised)
    return Candidate(
        cfg.model,
        cfg,
        result,
        pred,
        normalised,
        validation.calibration(),
        issued_calibration(recent, validation),
        seconds,
        band,
    )


@dataclass(frozen=True)
class Errors:
    """A network's forecasts of some windows beside what happened, on the normalised scale: the actuals,
    the lookbacks' target, the points, and a quantile network's band (lower, upper)."""

    actual: np.ndarray
    lookbacks: np.ndarray
    point: np.ndarray
    band: tuple | None

    @classmethod
    def on(cls, windows, point: np.ndarray, band: tuple | None) -> Errors:
        return cls(windows.y, windows.x[:, :, 0], point, band)

    def __len__(self) -> int:
        return len(self.actual)

    def pooled(self, other: Errors) -> Errors:
        """These windows' errors and `other`'s, as one set."""
        both = lambda a, b: np.concatenate([a, b])  # noqa: E731
        band = None if self.band is None else tuple(map(both, self.band, other.band))
        parts = (self.actual, other.actual), (self.lookbacks, other.lookbacks), (self.point, other.point)
        return Errors(*(both(a, b) for a, b in parts), band)

    def calibration(self) -> Calibration:
        """Widths relative to each window's spread, or factors of the heads' band."""
        if self.band is None:
            return Calibration.of(self.actual - self.point, self.lookbacks)
        return Calibration.banded(self.point, self.band, self.actual)


def issued_calibration(recent: Errors, validation: Errors) -> Calibration:
    """The issued intervals' calibration: the errors of the latest out-of-sample forecasts, the backtest
    windows' (on M4 Weekly's test part the validation windows' under-covered: 76% at 80%), pooled with
    the validation windows' where the backtest has fewer than MIN_CALIBRATION."""
    return (recent if len(recent) >= MIN_CALIBRATION else recent.pooled(validation)).calibration()


def combination_factors(prep: Prepared, cand: Candidate) -> dict[str, list[float]] | None:
    """The combination's intervals, conformalised: its members' median BAND_LEVEL band (the network's
    from its issued calibration, each peer's its own) scaled per level and step to cover the backtest's
    actuals (intervals.band_factors); None without peers or with fewer than MIN_CALIBRATION windows. The
    members' bands carry each series' own volatility; the factors make them cover what they promise: on
    M3 Monthly's test part the median of the members' bounds covered 77% / 92% at 80% / 95%."""
    sp, peers = prep.sp, cand.cfg.peers
    if not peers or len(sp.test) < MIN_CALIBRATION:
        return None
    network = ev.bounds(sp.test, cand.normalised, cand.issued, (BAND_LEVEL,), cand.band)[str(BAND_LEVEL)]
    bands = methods.peer_bands(prep.subject.values, sp.origins, prep.cfg.horizon, sp.season, peers)
    point = methods.combination(cand.pred, sp.baselines, peers)
    lower = np.minimum(np.median([network[0], *(bands[p][0] for p in peers)], axis=0), point)
    upper = np.maximum(np.median([network[1], *(bands[p][1] for p in peers)], axis=0), point)
    return band_factors(point, lower, upper, sp.test_actual)


def evidence(prep: Prepared, cand: Candidate) -> tuple[Scoreboard, dict[str, np.ndarray]]:
    """The scoreboard of the candidate and every baseline, and each method's per-window MASE."""
    forecasts = compared(prep, cand)
    board = replace(
        ev.scoreboard(prep.sp, prep.subject.names, forecasts), windows=prep.windows, stride=prep.stride
    )
    return board, losses_of(prep, forecasts)


def compared(prep: Prepared, cand: Candidate) -> dict[str, np.ndarray]:
    """Every method's backtest forecasts: the candidate's, each baseline's and peer's, the combination."""
    forecasts = {NETWORK: cand.pred} | prep.sp.baselines
    if cand.cfg.peers:
        forecasts[COMBINATION] = methods.combination(cand.pred, prep.sp.baselines, cand.cfg.peers)
    return forecasts


def losses_of(
    prep: Prepared, forecasts: dict[str, np.ndarray], metric: str = "mase"
) -> dict[str, np.ndarray]:
    """Each method's per-window losses by `metric`."""
    return {m: ev.window_losses(prep.sp, f, metric) for m, f in forecasts.items()}


def search(cfg: ForecastConfig, subject: Subject, req: Request, progress: Progress) -> list[tuple]:
    """(prepared split, candidate, scoreboard, losses) for each candidate tried, the best (lowest backtest
    MASE) first: each architecture at the resolved lookback, and with `--model auto` and no lookback
    given, the best of them again at the short lookback, on the same backtest windows, within the time
    budget (successive halving). With `auto` and covariates the same search runs again without them, each
    on half the budget: covariates earn their place like any choice."""
    twice = bool(cfg.searching and subject.covariate_names)
    each = replace(req, budget=req.budget / 2) if twice else req
    tried = _search_inputs(cfg, subject, each, progress)
    if twice:
        plain = replace(subject, covariate_names=[], covariates=None)
        progress("the same candidates without covariates:")
        like = tried[0][0]
        tried = sorted(
            [*tried, *_search_inputs(replace(cfg, covariates=()), plain, each, progress, like)], key=_score
        )
    return tried


def _search_inputs(
    cfg: ForecastConfig, subject: Subject, req: Request, progress: Progress, like: Prepared | None = None
) -> list[tuple]:
    prep = prepare(cfg, subject, req.windows, req.stride, like)
    progress(describe(prep))
    models = cfg.candidates()
    short = prep.cfg.short_lookback()
    also_short = cfg.searching and not cfg.lookback and short < prep.cfg.lookback
    clock = Clock(req.budget, len(models) + also_short)
    tried = sorted(_try_each(prep, models, req, progress, clock), key=_score)
    if also_short:
        alt = prepare(replace(cfg, lookback=short), subject, req.windows, req.stride, prep)
        tried = sorted([*tried, _try(alt, tried[0][1].model, req, progress, clock.share(1))], key=_score)
    return _halve(tried, progress, clock)


def _halve(tried: list[tuple], progress: Progress, clock: Clock) -> list[tuple]:
    """Successive halving over the candidates that the clock stopped: the better half (by backtest MASE)
    trains on for twice the last share each, until one is left. Without a budget every candidate has
    stopped by itself already, and nothing changes."""
    for rung, size in enumerate(rung_sizes(len(tried))[1:], start=1):
        ahead = tried[:size]
        waiting = [t for t in ahead if not t[1].result.finished]
        if not clock.limited or not waiting:
            break
        for t in waiting:
            prep, cand = t[0], t[1]
            cand = resume_candidate(prep, cand, clock.share(2**rung))
            board, losses = evidence(prep, cand)
            progress(f"rung {rung}: {_tried_line(cand, board)}")
            tried[tried.index(t)] = (prep, cand, board, losses)
        tried = sorted(tried, key=_score)
    return tried


def label(cand: Candidate) -> str:
    return f"{cand.model} (lookback {cand.cfg.lookback}{', covariates' if cand.cfg.covariates else ''})"


def _try(prep: Prepared, model: str, req: Request, progress: Progress, seconds: float = 0.0) -> tuple:
    cand = fit_candidate(prep, model, req.verbose, req.tensorboard, seconds)
    board, losses = evidence(prep, cand)
    progress(_tried_line(cand, board))
    return prep, cand, board, losses


def _tried_line(cand: Candidate, board: Scoreboard) -> str:
    stopped = "" if cand.result.finished else ", stopped by the budget"
    return (
        f"{label(cand)}: backtest MASE {board.score():.4f} "
        f"({cand.result.epochs_run} epochs, {cand.seconds:.0f} s{stopped})"
    )


def _try_each(
    prep: Prepared, models: tuple[str, ...], req: Request, progress: Progress, clock: Clock
) -> list[tuple]:
    """Each candidate on the same split for one unit of the clock: one after another here, or at once as
    the executor's units (each trained on a worker, its networks sent back for the refit)."""
    if req.spread is None or len(models) < 2:
        return [_try(prep, m, req, progress, clock.share(1)) for m in models]
    import forecaster.networks  # noqa: F401 - registers the layers the candidates come back with
    from core.errors import RecurError

    seconds = clock.share(len(models))  # they train side by side: each may take the rung's whole time
    remote = replace(req, spread=None)
    outcomes = req.spread(partial(_tried_remotely, prep=prep, req=remote, seconds=seconds), models)
    tried = []
    for o in outcomes:
        if o.error:
            raise RecurError(f"candidate {o.item}: {o.error}")
        cand, board, losses = o.value
        progress(f"{_tried_line(cand, board)} on {o.node}")
        tried.append((prep, cand, board, losses))
    return tried


def _tried_remotely(_settings, model: str, prep: Prepared, req: Request, seconds: float) -> tuple:
    _prep, cand, board, losses = _try(prep, model, req, quiet, seconds)
    return cand, board, losses


def _score(tried: tuple) -> float:
    return tried[2].score()


def describe(prep: Prepared) -> str:
    cfg, sp = prep.cfg, prep.sp
    short = len(sp.origins) - len(sp.backtested)
    extra = (
        f"; {short} too short to backtest (judged by the evidence pooled over the others)" if short else ""
    )
    return (
        f"{len(sp.origins)} series, {len(sp.train)} training windows, "
        f"{len(sp.test)} backtest windows{extra}; "
        f"lookback {cfg.lookback}, season {cfg.season}, {cfg.scaling} scaling"
    )


def refit_issued(prep: Prepared, cand: Candidate, verbose: int):
    cfg, subject = cand.cfg, prep.subject
    whole = full_panels(subject, cfg.calendar, prep.scalers)
    starts = [training_starts(len(p), cfg) for p in whole]
    floors = floors_for(whole, [len(p) for p in whole])
    windows = make_windows(whole, cfg, starts, floors)
    return refit(cfg, windows, prep.sp.season, cand.result, verbose)


def data_config(subject: Subject, prep: Prepared) -> dict:
    return {
        "series": subject.names,
        "time_kind": subject.time_kind,
        "freq": subject.freq,
        "covariates": subject.covariate_names,
        "scalers": prep.scalers,
        "floors": floors_for([Panel(v) for v in subject.values], [len(v) for v in subject.values]).tolist(),
        "data_range": [[int(t[0]), int(t[-1])] for t in subject.ts],
    }
