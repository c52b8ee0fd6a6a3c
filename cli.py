"""recur's command line. Commands parse, call one pipeline function, and print; heavy libraries load only
inside the pipelines that need them, so `--help` and the listing commands answer at once."""

from __future__ import annotations

import os
import shlex
from dataclasses import replace

import click

from commands.boundary import to_click
from commands.classify import classify, labels
from commands.common import CORPUS_COLUMNS, SERIES_COLUMNS, emit, pass_settings
from commands.data import corpus, series
from commands.forecast import forecast
from commands.jobs import jobs, scheduler
from commands.models import models
from commands.quiet import quiet_tensorflow
from commands.report import forecast_plot, report, textgen_plot
from commands.serve import serve
from commands.store import db, doctor
from commands.textgen import textgen
from core.settings import EXECUTORS, Settings
from reports.text import table
from runtime.device import share_the_card


class RecurGroup(click.Group):
    """Turns every failure into a one-line message and exit code 1 (commands.boundary)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            settings = ctx.obj if isinstance(ctx.obj, Settings) else None
            raise to_click(exc, settings) from exc


@click.group(cls=RecurGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home", type=click.Path(file_okay=False), envvar="RECUR_HOME", help="Data directory [RECUR_HOME]."
)
@click.option(
    "--db", "db_url", envvar="RECUR_DB", help="SQLAlchemy URL [RECUR_DB]; default: SQLite in the home."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    envvar="RECUR_EXECUTOR",
    default="local",
    show_default=True,
    help="Where independent units (subjects, candidates, scheduled runs) run: here, or as Ray tasks "
    "[RECUR_EXECUTOR].",
)
@click.option(
    "--ray-address",
    envvar="RECUR_RAY_ADDRESS",
    help="The Ray cluster for --executor ray, host:port [RECUR_RAY_ADDRESS]; default: RAY_ADDRESS, the "
    "one `ray start` left on this machine, else a local one for the command.",
)
@click.option(
    "--verbose", is_flag=True, envvar="RECUR_VERBOSE", help="Show TensorFlow's own logs [RECUR_VERBOSE]."
)
@click.version_option("0.1.0", prog_name="recur")
@click.pass_context
def main(
    ctx: click.Context,
    home: str | None,
    db_url: str | None,
    as_json: bool,
    executor: str,
    ray_address: str | None,
    verbose: bool,
) -> None:
    """recur: recurrent sequence models, run day after day.

    \b
    Examples:
      recur series ingest data/airline_passengers.csv --name airline
      recur series show airline
      recur --json series list
    """
    ctx.meta["home_given"] = home is not None
    os.umask(0o077)  # every file and folder recur creates is private from the moment it exists
    if not verbose:
        quiet_tensorflow()
    share_the_card()
    ctx.obj = Settings.resolve(home, db_url, json=as_json, executor=executor, ray_address=ray_address)


@main.command()
@click.option("--quick", is_flag=True, help="A smoke run: a couple of epochs per model.")
@pass_settings
@click.pass_context
def demo(ctx: click.Context, settings: Settings, quick: bool) -> None:
    """The bundled data through recur, in a home of its own unless --home is given.

    Example: recur demo
    """
    from pipelines.demo import demo_home, run_demo

    if not ctx.meta["home_given"]:
        settings = Settings.resolve(demo_home(), json=settings.json)
    quiet = lambda _m: None  # noqa: E731
    to_stderr = lambda m: click.echo(m, err=True)  # noqa: E731
    result = run_demo(
        settings,
        say=quiet if settings.json else click.echo,
        quick=quick,
        progress=quiet if settings.json else to_stderr,
    )
    home = shlex.quote(str(result["home"]))
    text = "\n\n".join(
        [
            table(result["series"], SERIES_COLUMNS),
            table(result["corpora"], CORPUS_COLUMNS),
            f"The report is {result['report']} (open it in a browser).\nThe demo store is in {home}. Try:"
            f"\n  recur --home {home} forecast score airline\n  recur --home {home} models list"
            f"\n  recur --home {home} textgen sample shakespeare --prompt 'JULIET:' --temperature 0.8"
            f"\n  recur --home {home} forecast train ETTh1/OT --covariates group --horizon 24 --lookback 96"
            f"\n  recur --home {home} report export --format pdf --out report.pdf"
            f"\nAnd the service (dashboard, OpenAI's completions API, the data as JSON/CSV):"
            f"\n  recur --home {home} serve      # then open http://127.0.0.1:8765/",
        ]
    )
    emit(settings, result, "\n" + text)


for command in (
    doctor,
    db,
    series,
    corpus,
    labels,
    forecast,
    models,
    textgen,
    classify,
    jobs,
    scheduler,
    report,
    serve,
):
    main.add_command(command)
forecast.add_command(forecast_plot)
textgen.add_command(textgen_plot)


def _json_here(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.obj = replace(ctx.find_object(Settings), json=True)


def _accept_json_after(command: click.Command) -> None:
    """`recur series list --json` as well as `recur --json series list`: every command takes the flag."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_json_after(sub)
    elif not any("--json" in p.opts for p in command.params):
        command.params.append(
            click.Option(
                ["--json"], is_flag=True, expose_value=False, callback=_json_here, help="JSON output."
            )
        )


for command in main.commands.values():
    _accept_json_after(command)

if __name__ == "__main__":
    main()
