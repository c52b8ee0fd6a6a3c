"""Forecasting pipelines: load a subject, hand it to forecaster.issue (search, gate, choose, refit) once,
and register what it decided; a backtest alone likewise.

Called by the CLI, the scheduler and the tests alike; no transaction stays open while a model trains."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import RecurError
from core.settings import Settings
from forecaster.config import BacktestConfig, ForecastConfig
from forecaster.issue import Champion, issue, rescore
from forecaster.issue import backtest as backtest_subject
from forecaster.scores import METRICS, Scoreboard
from forecaster.search import Progress, Request, quiet
from forecaster.subject import Subject
from nn.cells import recurrent_cell
from pipelines import forecast_data as fd
from runtime.artifacts import load_champion
from runtime.cluster import spread
from runtime.training import Fitted, still_held, train_and_register


@dataclass(frozen=True)
class Run:
    """How one run is carried out, beside what the configurations decide."""

    force: bool = False  # promote whatever the gate says
    verbose: int = 0
    tensorboard: str | None = None
    device: str = "auto"
    precision: str = "float32"
    until: str | None = None  # train on the data up to this time only
    progress: Progress = quiet

    def request(self, bt: BacktestConfig, fan_out=None) -> Request:
        """What the search is asked, with `fan_out` the executor's (runtime.cluster.spread) where the
        candidates may train side by side."""
        return Request.of(
            bt,
            force=self.force,
            verbose=self.verbose,
            tensorboard=self.tensorboard,
            spread=fan_out,
        )


PLAIN_RUN = Run()
DEFAULT_BACKTEST = BacktestConfig()
SCOREBOARD_COLUMNS = ["series", "method", *METRICS]  # a backtest table's columns


def scoreboard_rows(board: dict) -> list[dict]:
    """A stored or printed backtest as table rows: each method overall, then per series."""
    return Scoreboard.from_json(board).rows(every_series=True)


def champion(settings: Settings, name: str, subject: Subject | None = None) -> Champion | None:
    """The subject's champion, with its data read as it reads it (its own covariates, every point);
    `subject`, already loaded with the same covariates, is used as it is."""
    current = load_champion(settings, "forecaster", name)
    if current is None:
        return None
    covariates = ForecastConfig.from_json(current.config).covariates
    inputs, note = subject, ""
    if inputs is None or tuple(inputs.covariate_names) != tuple(covariates):
        try:
            inputs = fd.load(settings, name, covariates)
        except RecurError as exc:
            inputs, note = None, str(exc)
    return Champion(current.id, current.config, current.metrics, current.model, inputs, note)


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
    request = run.request(bt, spread(settings))

    def fit() -> Fitted:
        whole = subject if run.until is None else None
        decided = issue(subject, cfg, request, champion(settings, name, whole), run.progress)
        model = decided.result.model
        return Fitted(
            decided.result,
            decided.model,
            decided.config,
            decided.metrics,
            recurrent_cell(model),
            cfg.recurrent_dropout,
            extra={"issued": decided},
        )

    def gate(session, fitted: Fitted) -> tuple[bool, str]:  # decided by the backtest, inside `fit`
        still_held(fd.changed(session, subject))
        if cfg.season:
            fd.store_season(session, subject, cfg.season)
        return fitted.extra["issued"].promote, fitted.extra["issued"].reason

    done = train_and_register(settings, "forecaster", name, fit, gate, run.device, run.precision)
    decided = done.fitted.extra["issued"]
    return {
        "version": done.version,
        "subject": name,
        "model": decided.model,
        "alias": done.alias,
        "promoted": decided.promote,
        "reason": decided.reason,
        "served": done.metrics["served"],
        "device": done.device,
        "epochs": decided.epochs,
        "refit_epochs": decided.result.epochs_run,
        "metrics": done.metrics,
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
        current = champion(settings, name)
        if current is None:
            raise RecurError(f"{name!r} has no champion; pass --model to backtest a fresh model")
        done = rescore(current, bt.windows, bt.stride or None)
    else:
        subject = fd.load(settings, name, cfg.covariates)
        done = backtest_subject(subject, cfg, run.request(bt, spread(settings)), run.progress)
    return {"subject": name} | done.to_json()
