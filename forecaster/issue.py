"""What `train` decides, as one pure step over a subject's arrays: search the candidates on a rolling-origin
backtest beside every baseline and statistical peer, take the better of the network and its combination,
gate it against the best baseline and the champion, choose what serves each series, refit the chosen
network on all the data. Also a backtest alone, of fresh candidates or of a stored champion. The pipelines
load the subject (and the champion) and store what comes back."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.errors import RecurError
from forecaster import choose, methods
from forecaster import evaluate as ev
from forecaster.choose import per_series
from forecaster.config import ForecastConfig
from forecaster.evaluate import floors_for
from forecaster.methods import COMBINATION
from forecaster.predict import Version
from forecaster.scores import NETWORK, Scoreboard, lead_of
from forecaster.search import (
    Prepared,
    Progress,
    Request,
    combination_factors,
    compared,
    count_methods,
    data_config,
    label,
    losses_of,
    prepare,
    quiet,
    refit_issued,
    search,
)
from forecaster.subject import Subject, full_panels, truncated
from forecaster.train import TrainResult, predict_normalised
from forecaster.windows import make_windows


@dataclass
class Champion(Version):
    """The current champion as the gate re-scores it: its stored version, and the subject as it reads it
    (its own covariates, all the data there is; None with `note` saying why it could not be loaded)."""

    subject: Subject | None = None
    note: str = ""


@dataclass
class Issued:
    """What `issue` decided: the chosen network refit on all the data, and what is stored with it."""

    model: str  # the chosen architecture
    epochs: int  # its epochs in the backtest
    result: TrainResult  # the refit on all the data
    promote: bool
    reason: str
    metrics: dict  # stored with the version: backtest, intervals, gate, decision, what serves each series
    config: dict  # stored with the version: the resolved configuration and what it was trained on


def issue(
    subject: Subject,
    cfg: ForecastConfig,
    req: Request,
    champion: Champion | None = None,
    progress: Progress = quiet,
) -> Issued:
    """Everything `train` decides, without storing: the chosen candidate refit on all the data, whether
    it passes the gate, and what serves each series."""
    tried = search(cfg, subject, req, progress)
    prep, cand, board, losses = tried[0]
    if req.metric != "mase":
        losses = losses_of(prep, compared(prep, cand), req.metric)
    series = prep.sp.test.series
    baseline_losses = {m: v for m, v in losses.items() if m not in (NETWORK, COMBINATION)}
    best = choose.best_overall(baseline_losses, series)
    lead = choose.best_overall({m: losses[m] for m in (NETWORK, COMBINATION) if m in losses}, series)
    champion_id, champion_l, note = champion_losses(champion, prep, req.metric)
    promote, reason, gate = choose.gate(
        losses[lead], (best, baseline_losses[best]), champion_l, series, req.confidence, req.force, req.metric
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
        "intervals": cand.issued.widths,
        "interval_scale": cand.issued.to_json(),
        "combination_factors": combination_factors(prep, cand),
        "coverage": ev.interval_coverage(prep.sp, cand.normalised, cand.calibration, cand.band),
        "gate": gate,
        "decision": reason,
        "champion_before": champion_id,
        "serve": serve,
        "served": served_counts(serve, cand.model),
        "serving": serving,
        "lead": lead,
    }
    if cfg.searching:
        metrics["auto"] = {label(c): b.score() for _p, c, b, _l in tried}
    config = cand.cfg.to_json() | data_config(prep.subject, prep)
    return Issued(cand.model, cand.result.epochs_run, result, promote, reason, metrics, config)


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


def champion_losses(
    champion: Champion | None, prep: Prepared, metric: str = "mase"
) -> tuple[int | None, np.ndarray | float | None, str]:
    """The champion's per-window losses by `metric` on the same backtest windows; its own backtest score
    where it was refit on data that covers those windows (re-scoring it there would flatter it); or why
    neither."""
    if champion is None:
        return None, None, ""
    version_id, config = champion.id, champion.config
    cfg = ForecastConfig.from_json(config)
    lead = lead_of(champion.metrics)
    if _has_seen(config, prep):
        own = Scoreboard.of(champion.metrics).score(lead, metric)
        if own is None:
            return (
                version_id,
                None,
                f"the champion (version {version_id}) has no backtest {metric} to compare",
            )
        return version_id, own, ""
    try:
        if champion.subject is None:
            raise RecurError(champion.note)
        if cfg.horizon != prep.cfg.horizon:
            raise RecurError(f"it forecasts {cfg.horizon} steps, not {prep.cfg.horizon}")
        subject = truncated(champion.subject, [len(v) for v in prep.subject.values])
        pred = forecast_windows(cfg, config, champion.model, subject, prep.sp.origins)
        if lead == COMBINATION:
            if any(p not in prep.sp.baselines for p in cfg.peers):
                raise RecurError(f"it combines {', '.join(cfg.peers)}, which this backtest does not run")
            pred = methods.combination(pred, prep.sp.baselines, cfg.peers)
    except (RecurError, ValueError) as exc:
        return version_id, None, f"the champion (version {version_id}) was not re-scored: {exc}"
    return version_id, ev.window_losses(prep.sp, pred, metric), ""


def _has_seen(config: dict, prep: Prepared) -> bool:
    """Whether the stored model was trained on data reaching past the first backtest origin of a series."""
    seen = config.get("data_range") or []
    for i, origins in enumerate(prep.sp.origins):
        if len(origins) and i < len(seen) and seen[i][1] >= prep.subject.ts[i][int(origins[0])]:
            return True
    return False


def forecast_windows(cfg: ForecastConfig, config: dict, model, subject: Subject, origins) -> np.ndarray:
    """A stored model's forecasts from given origins of each series, in the series' own units."""
    if config.get("series") != subject.names:
        raise RecurError("it was trained on other series")
    if any(len(o) and o[0] < cfg.lookback for o in origins):
        raise RecurError(f"its lookback ({cfg.lookback}) is longer than some backtest histories")
    panels = full_panels(subject, cfg.calendar, config.get("scalers"))
    floors = np.asarray(config.get("floors") or floors_for(panels, [len(p) for p in panels]))
    w = make_windows(panels, cfg, [o - cfg.lookback for o in origins], floors, with_target=False)
    return w.denormalise(predict_normalised(cfg, model, w))


@dataclass
class Backtested:
    """A backtest without registering: what was scored, the scoreboard, and the interval coverage (fresh
    candidates) or the version re-scored (a champion)."""

    model: str
    board: Scoreboard
    coverage: dict | None = None
    version: int | None = None
    auto: dict | None = None  # each candidate's backtest MASE, where several were tried

    def to_json(self) -> dict:
        out = {"model": self.model, "version": self.version, "backtest": self.board.to_json()}
        if self.coverage is not None:
            out["coverage"] = self.coverage
        if self.auto is not None:
            out["auto"] = self.auto
        return out


def backtest(subject: Subject, cfg: ForecastConfig, req: Request, progress: Progress = quiet) -> Backtested:
    """Fresh models of `cfg` (each candidate, where several) and the baselines on the same rolling-origin
    windows."""
    tried = search(cfg, subject, req, progress)
    prep, cand, board, _losses = tried[0]
    coverage = ev.interval_coverage(prep.sp, cand.normalised, cand.calibration, cand.band)
    auto = {label(c): b.score() for _p, c, b, _l in tried} if cfg.searching else None
    return Backtested(cand.model, board, coverage, auto=auto)


def rescore(champion: Champion, windows: int, stride: int | None) -> Backtested:
    """A stored champion and the baselines on the rolling-origin windows of all its data."""
    cfg = ForecastConfig.from_json(champion.config)
    if champion.subject is None:
        raise RecurError(champion.note)
    prep = prepare(cfg, champion.subject, windows, stride)
    pred = forecast_windows(cfg, champion.config, champion.model, champion.subject, prep.sp.origins)
    forecasts = {NETWORK: pred} | prep.sp.baselines
    if cfg.peers:
        forecasts[COMBINATION] = methods.combination(pred, prep.sp.baselines, cfg.peers)
    board = ev.scoreboard(prep.sp, champion.subject.names, forecasts)
    board = replace(board, windows=prep.windows, stride=prep.stride)
    return Backtested(cfg.model, board, version=champion.id)
