"""`recur forecast ...`: train with a champion gate, backtest, evaluate, predict, score, export."""

from __future__ import annotations

import shlex

import click

from commands.common import device_options, emit, force_out, pass_settings
from commands.fleet import backtest_every, one_subject, predict_every, served_line, train_every
from commands.models import RETENTION_NOTE
from commands.options import config_options
from core.params import params_of
from core.retention import VINTAGE_FIELDS, Retention
from core.settings import Settings
from core.terminal import interactive
from forecaster.config import GATE_OPTIONS, BacktestConfig, ForecastConfig
from reports.text import keyvalues, table

MODEL_PARAMS = params_of(ForecastConfig)
WINDOW_PARAMS = params_of(BacktestConfig, skip=GATE_OPTIONS)
GATE_PARAMS = [p for p in params_of(BacktestConfig) if p.name in GATE_OPTIONS]
model_options = config_options(MODEL_PARAMS + WINDOW_PARAMS)
gate_options = config_options(GATE_PARAMS)


def backtest_config(options: dict) -> BacktestConfig:
    """The backtest's settings, taken out of a command's options (the rest configure the model)."""
    names = [p.name for p in params_of(BacktestConfig)]
    return BacktestConfig(**{k: options.pop(k) for k in names if k in options})


RUN_OPTIONS = ("force", "tensorboard", "device", "precision", "until")


def run_of(settings: Settings, options: dict, verbose: bool = False):
    """How the run is carried out, taken out of a command's options (the rest configure the model):
    progress lines for a person, Keras' own with `verbose` on a terminal."""
    from pipelines.forecast import Run

    how = {k: options.pop(k) for k in RUN_OPTIONS if k in options}
    shown = 0 if settings.json or not verbose else interactive()
    return Run(**how, verbose=shown, progress=progress_printer(settings))


def parse_levels(text: str) -> tuple[int, ...]:
    """--level 80,95: whole percentages between 1 and 99."""
    levels = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 99:
            raise click.BadParameter(f"{part!r} is not a whole percentage from 1 to 99", param_hint="--level")
        levels.append(int(part))
    return tuple(levels)


def progress_printer(settings: Settings):
    """Progress lines on stderr for a person (a terminal or a log); none with --json."""
    if settings.json:
        return lambda _line: None
    return lambda line: click.echo(line, err=True)


def backtest_table(board: dict) -> str:
    from pipelines.forecast import SCOREBOARD_COLUMNS, scoreboard_rows

    return table(scoreboard_rows(board), SCOREBOARD_COLUMNS)


@click.group()
def forecast() -> None:
    """Forecasters: train with a champion gate, backtest, predict with intervals, score vintages."""


@forecast.command("train")
@click.argument("subject", required=False)
@click.option(
    "--all", "every", is_flag=True, help="Every subject: each group and each series of its own [--executor]."
)
@model_options
@click.option(
    "--force", is_flag=True, help="Promote even if it does not beat the best baseline and the champion."
)
@gate_options
@click.option("--until", help="Train on the data up to this time only (what would have been known then).")
@click.option(
    "--tensorboard", type=click.Path(file_okay=False), help="Write TensorBoard logs to this directory."
)
@device_options
@pass_settings
def forecast_train(settings: Settings, subject: str | None, every: bool, **options) -> None:
    """Train a forecaster for a series (or a global one for a group): backtest it against the baselines
    (naive, seasonal naive, naive2, drift, mean) on the same windows, refit it on all the data, and promote
    it only if it beats the best baseline and the current champion by more than noise. Within a group the
    network serves the series it beat; each other series gets its best baseline.

    \b
    Examples:
      recur forecast train airline --horizon 12 --lookback 36
      recur forecast train ETTh1/OT --model gru --horizon 24 --lookback 96 --covariates group
      recur forecast train ETTh1 --model lstm --horizon 24     # one global model for all 7 series
      recur --executor ray forecast train --all --horizon 13    # every subject, fanned out on Ray
    """
    from pipelines.forecast import train_forecaster

    one_subject(subject, every)
    bt = backtest_config(options)
    run = run_of(settings, options, verbose=True)
    cfg = ForecastConfig(**options)
    if every:
        return train_every(settings, cfg, bt)
    out = train_forecaster(settings, subject, cfg, bt, run)
    print_trained(settings, out)


def print_trained(settings: Settings, out: dict) -> None:
    served = served_line(out["served"])
    if not out["promoted"]:
        served = f"unchanged: version {out['version']} is a challenger (as champion it would serve {served})"
    shown = out | {"served": served}
    head = keyvalues(
        shown,
        ["version", "subject", "model", "alias", "reason", "served", "device", "epochs", "refit_epochs"],
    )
    emit(
        settings,
        out,
        head + candidates_table(out["metrics"]) + "\n\n" + backtest_table(out["metrics"]["backtest"]),
    )


def candidates_table(metrics: dict) -> str:
    """`--model auto`: every candidate tried with its backtest MASE, the chosen one first."""
    tried = metrics.get("auto") or {}
    if not tried:
        return ""
    rows = [{"candidate": k, "backtest_mase": v} for k, v in sorted(tried.items(), key=lambda kv: kv[1])]
    return "\n\ncandidates (--model auto, the same backtest windows):\n" + table(
        rows, ["candidate", "backtest_mase"]
    )


@forecast.command("backtest")
@click.argument("subject", required=False)
@click.option(
    "--all", "every", is_flag=True, help="Every subject: each group and each series of its own [--executor]."
)
@model_options
@click.option("--champion", is_flag=True, help="Score the current champion instead of a fresh model.")
@pass_settings
def forecast_backtest(
    settings: Settings, subject: str | None, every: bool, champion: bool, **options
) -> None:
    """Rolling-origin backtest: a model and every baseline on the same windows, per series and overall.
    Nothing is registered.

    \b
    Examples:
      recur forecast backtest airline --model gru --windows 5
      recur forecast backtest airline --champion --windows 8 --stride 6
      recur forecast backtest --all --champion          # every subject's champion, one row each
    """
    from pipelines.forecast import backtest

    one_subject(subject, every)
    bt = backtest_config(options)
    cfg = ForecastConfig(**options)
    if every:
        return backtest_every(settings, None if champion else cfg, bt)
    out = backtest(settings, subject, None if champion else cfg, bt, run_of(settings, options))
    emit(
        settings,
        out,
        f"model: {out['model']}" + candidates_table(out) + "\n\n" + backtest_table(out["backtest"]),
    )


@forecast.command("evaluate")
@click.argument("subject")
@click.option(
    "--holdout", type=click.IntRange(min=1), required=True, help="Hidden points at the end of every series."
)
@model_options
@gate_options
@click.option(
    "--out", type=click.Path(), help="Write every method's forecast of the hidden points (.csv or .json)."
)
@force_out
@click.pass_context
@pass_settings
def forecast_evaluate(settings: Settings, ctx: click.Context, subject: str, **options) -> None:
    """The M4 protocol: hide the last --holdout points of every series, run the whole training pipeline on
    the rest (backtest, gate, per-series choice, refit) as `train` would have then, and score what it would
    have issued, the network alone and every baseline on the hidden points: sMAPE, MASE and OWA (relative
    to naive2). Nothing is stored. The horizon defaults to the holdout.

    \b
    Examples:
      recur forecast evaluate airline --holdout 12
      recur forecast evaluate m4 --holdout 13 --model gru --ensemble 3 --out m4-holdout.csv
    """
    from pipelines.evaluation import evaluate_holdout

    holdout, out, force = options.pop("holdout"), options.pop("out"), options.pop("force")
    if ctx.get_parameter_source("horizon") is click.core.ParameterSource.DEFAULT:
        options["horizon"] = holdout
    bt = backtest_config(options)
    run = run_of(settings, options)
    result = evaluate_holdout(settings, subject, ForecastConfig(**options), holdout, bt, run)
    if out:
        from pipelines.vintages import write_records

        result["written"] = write_records(settings, result["forecasts"], out, f"{subject}-holdout", force)
    shown = {k: v for k, v in result.items() if k != "forecasts"}
    rows = [{"method": m} | v for m, v in result["scores"].items()]
    head = keyvalues(
        shown | {"served": served_line(result["served"])},
        [
            "subject",
            "holdout",
            "series",
            "season",
            "model",
            "promoted",
            "reason",
            "served",
            "served_by",
            "seconds",
        ],
    )
    cover = ", ".join(f"{lv}%: {v:.3f}" for lv, v in result["coverage"].items())
    columns = ["method", "smape", "mase", "owa", "wql", "msis"]
    text = head + "\n\n" + table(rows, columns) + f"\n\ninterval coverage {cover}"
    emit(settings, shown, text)


@forecast.command("predict")
@click.argument("subject", required=False)
@click.option("--all", "every", is_flag=True, help="Every subject: each group and each series of its own.")
@click.option("--horizon", type=click.IntRange(min=1), help="Steps ahead (at most the model's horizon).")
@click.option("--version", type=int, help="Model version; default: the champion.")
@click.option(
    "--level",
    multiple=True,
    default=["80,95"],
    show_default=True,
    help="Interval levels in percent (comma-separated, or the option repeated).",
)
@click.option(
    "--season",
    type=click.IntRange(min=0),
    default=0,
    help="Seasonal period for the baselines; 0: the stored one.",
)
@click.option("--as-of", help="Forecast from this time, with the data known then.")
@click.option(
    "--replace", is_flag=True, help="Replace a stored forecast of the same origin made with other options."
)
@pass_settings
def forecast_predict(settings: Settings, subject: str | None, every: bool, **options) -> None:
    """Forecast from the last observation with what serves each series: the champion's network where it
    beat the series' best baseline, else that baseline (each series' best baseline when there is no
    champion), with prediction intervals; stored as a vintage (re-running upserts).

    \b
    Examples:
      recur forecast predict airline --horizon 12
      recur forecast predict --all
    """
    from pipelines.vintages import PredictOptions, predict_forecast

    one_subject(subject, every)
    levels = parse_levels(",".join(options.pop("level")))
    asked = PredictOptions(**options, levels=levels)
    if every:
        if asked.version is not None:
            raise click.UsageError("--version names one subject's model; it does not go with --all")
        return predict_every(settings, asked)
    out = predict_forecast(settings, subject, asked)
    served = served_line(out["served"])
    how = f"model version {out['model_version']} ({served})"
    if not out["model_version"]:
        chosen = out["chosen"]
        when = f" of {chosen['origin']}" if chosen["kept"] else ""
        how = f"the best baseline of each series' backtest{when} ({served}): no champion"
        if chosen["kept"]:
            how += f"; backtested again once {chosen['again_after']} new observations have arrived"
    emit(settings, out, f"{subject}: forecast by {how}\n\n" + forecast_tables(out["forecasts"]))


SHOWN_SERIES = 3  # a group's first few series are printed; export writes them all


def forecast_tables(forecasts: list[dict]) -> str:
    """Each series' forecast as a table of time, value and interval bounds (the first few of a group)."""
    parts = []
    for f in forecasts[:SHOWN_SERIES]:
        cols = ["time", "value"] + [f"{side}{lv}" for lv in f["intervals"] for side in ("lower", "upper")]
        note = "" if f["intervals"] else "\n(no intervals: too few past errors to calibrate them)"
        head = f"{f['series']} from {f['origin']} by {f['method']} (forecast {f['forecast_id']})"
        parts.append(f"{head}\n{table(f['values'], cols)}{note}")
    if len(forecasts) > SHOWN_SERIES:
        parts.append(
            f"... and {len(forecasts) - SHOWN_SERIES} more series: recur forecast export "
            f"{shlex.quote(forecasts[0]['series'].split('/')[0])} --out FILE.csv writes them all"
        )
    return "\n\n".join(parts)


@forecast.command("score")
@click.argument("subject")
@pass_settings
def forecast_score(settings: Settings, subject: str) -> None:
    """How past forecasts (vintages) did against the actuals ingested since.

    Example: recur forecast score airline
    """
    from pipelines.vintages import score_vintages

    rows = score_vintages(settings, subject)
    cols = [
        "series",
        "forecast_id",
        "method",
        "model_version",
        "origin",
        "arrived",
        "horizon",
        "mae",
        "smape",
        "mase",
        "wql",
        "msis",
        "coverage80",
        "coverage95",
    ]
    text = table(rows, cols, empty="no forecasts stored yet")
    if rows and not any(r["arrived"] for r in rows):
        text += "\n\nno actuals have arrived yet for these forecasts: ingest newer data, then score again"
    emit(settings, rows, text)


@forecast.command("export")
@click.argument("subject")
@click.option("--out", required=True, type=click.Path(), help="FILE.csv or FILE.json (or a directory).")
@click.option("--all", "all_vintages", is_flag=True, help="Every vintage, not only the latest.")
@force_out
@pass_settings
def forecast_export(settings: Settings, subject: str, out: str, all_vintages: bool, force: bool) -> None:
    """Write stored forecasts, one row per point with its intervals.

    Example: recur forecast export airline --out airline-forecast.csv
    """
    from pipelines.vintages import export_forecasts

    emit(settings, export_forecasts(settings, subject, out, latest_only=not all_vintages, force=force))


VINTAGE_PARAMS = [p for p in params_of(Retention) if p.name in VINTAGE_FIELDS]


@forecast.command("prune")
@config_options(VINTAGE_PARAMS, defaults=False, note=RETENTION_NOTE)
@click.option("--dry-run", is_flag=True, help="Only count what would go.")
@pass_settings
def forecast_prune(settings: Settings, keep_vintage_days: int | None, dry_run: bool) -> None:
    """Old forecasts keep their scores and lose their points, once every actual they forecast has arrived:
    `forecast score` and the reports read the kept scores; each series' latest forecast stays whole.

    Example: recur forecast prune --dry-run
    """
    from pipelines.retention import prune_vintages

    out = prune_vintages(settings, Retention.resolve(keep_vintage_days=keep_vintage_days), dry_run)
    emit(settings, out, keyvalues({k: v for k, v in out.items() if k != "forecast_ids"}))
