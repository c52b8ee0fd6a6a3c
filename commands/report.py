"""`recur report export`, `recur forecast plot`, `recur textgen plot`."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import emit, force_out, pass_settings
from core.settings import Settings


@click.group()
def report() -> None:
    """Reports: HTML (one self-contained file), Markdown with PNGs, or PDF."""


@report.command("export")
@click.option(
    "--series", "subjects", multiple=True, help="A series or group (repeatable); default: all with models."
)
@click.option("--group", "groups", multiple=True, help="A group (repeatable), same as --series GROUP.")
@click.option(
    "--corpus", "corpora", multiple=True, help="A corpus (repeatable); default: all with a generator."
)
@click.option(
    "--since", help="What changed since this date (default: since the last report sent, or 7 days)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "pdf"]),
    help="Default: from --out's extension, or html.",
)
@click.option(
    "--out", required=True, type=click.Path(), help="FILE.html, FILE.md or FILE.pdf (or a directory)."
)
@click.option("--with-data", is_flag=True, help="Also write the forecasts as CSV and JSON beside it.")
@click.option(
    "--mark",
    "sent",
    is_flag=True,
    help="This report is sent: the next report's period starts here (a schedule's report always is).",
)
@force_out
@pass_settings
def report_export(settings: Settings, subjects, groups, **options) -> None:
    """Write a report: a summary of what changed, then forecasts (fan charts, backtests, vintages, training
    curves), text generators (bits per character, samples at several temperatures) and scheduled jobs.

    \b
    Examples:
      recur report export --out report.html
      recur report export --series airline --corpus shakespeare --format pdf --out monday.pdf
      recur report export --group ETTh1 --format md --out ett.md --with-data --since 2026-11-01
    """
    from pipelines.report import ReportRequest, export
    from reports.text import keyvalues

    options |= {"corpora": tuple(options["corpora"])}
    result = export(settings, ReportRequest(**options, subjects=(*subjects, *groups)))
    lines = [keyvalues(result)]
    data = result.get("data") or {}
    lines += [f"data    {path}" for path in data.get("written", [])]
    lines += [f"no data: {why}" for why in data.get("skipped", [])]
    emit(settings, result, "\n".join(lines))


@click.command("plot")
@click.argument("subject")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.png or FILE.svg")
@force_out
@pass_settings
def forecast_plot(settings: Settings, subject: str, out: str, force: bool) -> None:
    """The latest forecast of a series as a fan chart: history, forecast, 80/95% intervals, actuals since.

    Example: recur forecast plot airline --out airline.png
    """
    from pipelines.report import plot_one

    emit(settings, plot_one(settings, subject, Path(out), "forecast", force))


@click.command("plot")
@click.argument("corpus")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.png or FILE.svg")
@force_out
@pass_settings
def textgen_plot(settings: Settings, corpus: str, out: str, force: bool) -> None:
    """Validation bits per character over the epochs of the corpus's champion.

    Example: recur textgen plot shakespeare --out bpc.png
    """
    from pipelines.report import plot_one

    emit(settings, plot_one(settings, corpus, Path(out), "textgen", force))
