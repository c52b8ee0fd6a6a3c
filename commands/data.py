"""`recur series ...` and `recur corpus ...`: getting data in, looking at it, getting it out."""

from __future__ import annotations

import click

from commands.common import CASCADE, CORPUS_COLUMNS, SERIES_COLUMNS, emit, force_out, pass_settings
from core.settings import Settings
from pipelines.catalog import (
    delete_corpus,
    delete_series,
    export_series,
    list_corpora,
    list_series,
    show_corpus,
    show_series,
)
from reports.text import keyvalues, table


@click.group()
def series() -> None:
    """Time series: ingest CSV/Parquet files, list, show, export, delete."""


@series.command("ingest")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--name", help="Series name (one value column) or group name (several); default: file stem.")
@click.option(
    "--time-col",
    help="Time column (datetimes or integer steps); default: the first column; "
    "'none': no time column, the row number is the time step.",
)
@click.option(
    "--value-col", "value_cols", multiple=True, help="Value column (repeatable); default: all others."
)
@click.option("--id-col", help="Long format: one series per distinct id in this column.")
@click.option("--freq", help="Frequency (h, D, W, MS, YS, 15min ... or an integer step); default: inferred.")
@click.option("--time-format", help="strptime format of the time column, e.g. '%d/%m/%Y'.")
@click.option(
    "--on-duplicate",
    type=click.Choice(["error", "first", "last", "mean"]),
    default="error",
    show_default=True,
)
@click.option(
    "--fill",
    type=click.Choice(["error", "none", "ffill", "interpolate"]),
    default="error",
    show_default=True,
    help="Missing time steps: refuse, keep, or fill.",
)
@click.option(
    "--missing",
    type=click.Choice(["error", "drop"]),
    default="error",
    show_default=True,
    help="Rows with an empty value.",
)
@click.option(
    "--on-conflict",
    type=click.Choice(["error", "replace"]),
    default="error",
    show_default=True,
    help="A row that changes a stored point.",
)
@click.option("--encoding", default="utf-8", show_default=True)
@click.option(
    "--season",
    type=int,
    help="Seasonal period to keep with the series (baselines, MASE, the default lookback); default: "
    "the frequency's usual one (none for integer steps).",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    help="Unit of the values, for axis labels: MW for every series, OT=°C for one column (repeatable).",
)
@pass_settings
def series_ingest(settings: Settings, file: str, value_cols: tuple[str, ...], **options) -> None:
    """Add a file's rows to the store, all or nothing; newer rows append.

    \b
    Examples:
      recur series ingest data/airline_passengers.csv --name airline
      recur series ingest data/ETTh1.csv --unit MW --unit OT=°C   # 7 series, group ETTh1
      recur series ingest sales.csv --id-col store --time-col day --value-col sales
    """
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    report = ingest_series(settings, file, IngestOptions(value_cols=value_cols, **options))
    rows = [vars(s) for s in report.series]
    head = f"{report.path}: {report.rows_read} rows" + (f", group {report.group!r}" if report.group else "")
    cols = ["name", "created", "inserted", "replaced", "unchanged", "filled", "gaps", "freq", "n_obs"]
    emit(settings, report.as_dict(), head + "\n" + table(rows, cols))


@series.command("list")
@pass_settings
def series_list(settings: Settings) -> None:
    """Every series with its group, frequency, length and range.

    Example: recur series list
    """
    rows = list_series(settings)
    emit(settings, rows, table(rows, SERIES_COLUMNS, empty="no series yet: recur series ingest FILE"))


@series.command("show")
@click.argument("name")
@pass_settings
def series_show(settings: Settings, name: str) -> None:
    """Length, range, frequency, gaps and statistics of a series or of each series in a group.

    Example: recur series show ETTh1/OT
    """
    data = show_series(settings, name)
    blocks = []
    for s in data["series"]:
        gaps = "".join(f"\n  after {g['after']}: {g['missing']} missing" for g in s["gap_list"])
        blocks.append(keyvalues(s) + gaps)
    emit(settings, data, "\n\n".join(blocks))


@series.command("export")
@click.argument("name")
@click.option(
    "--out", required=True, type=click.Path(), help="CSV file, or a directory to write NAME.csv into."
)
@force_out
@pass_settings
def series_export(settings: Settings, name: str, out: str, force: bool) -> None:
    """Write a series (or a group, one column per series) as CSV.

    Example: recur series export airline --out airline.csv
    """
    emit(settings, export_series(settings, name, out, force))


@series.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@CASCADE
@pass_settings
def series_delete(settings: Settings, name: str, yes: bool, cascade: bool) -> None:
    """Delete a series, or a group with all its series. Refused while a schedule or a model uses it,
    unless --cascade.

    Example: recur series delete airline --yes
    """
    if not yes:
        click.confirm(f"Delete {name!r} and all its points?", abort=True)
    emit(settings, delete_series(settings, name, cascade))


@click.group()
def corpus() -> None:
    """Text corpora for the text generator: ingest, list, show, delete."""


@corpus.command("ingest")
@click.argument("path", type=click.Path())
@click.option("--name", help="Corpus name; default: the file or directory name. An existing corpus grows.")
@pass_settings
def corpus_ingest(settings: Settings, path: str, name: str | None) -> None:
    """Add a UTF-8 text file, or every file in a directory, to a corpus.

    Example: recur corpus ingest data/tinyshakespeare.txt --name shakespeare
    """
    from pipelines.ingest import ingest_corpus

    report = ingest_corpus(settings, path, name)
    emit(settings, report.as_dict(), keyvalues(report.as_dict()))


@corpus.command("list")
@pass_settings
def corpus_list(settings: Settings) -> None:
    """Every corpus with its size.

    Example: recur corpus list
    """
    rows = list_corpora(settings)
    emit(settings, rows, table(rows, CORPUS_COLUMNS, empty="no corpora yet: recur corpus ingest FILE"))


@corpus.command("show")
@click.argument("name")
@pass_settings
def corpus_show(settings: Settings, name: str) -> None:
    """Characters, lines, vocabulary size and the most frequent characters.

    Example: recur corpus show shakespeare
    """
    data = show_corpus(settings, name)
    top = table(
        [{"char": repr(t["char"]), "count": t["count"]} for t in data["top_chars"]], ["char", "count"]
    )
    emit(settings, data, keyvalues(data) + "\n\n" + top)


@corpus.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@CASCADE
@pass_settings
def corpus_delete(settings: Settings, name: str, yes: bool, cascade: bool) -> None:
    """Delete a corpus. Refused while a schedule or a text generator uses it, unless --cascade.

    Example: recur corpus delete shakespeare --yes
    """
    if not yes:
        click.confirm(f"Delete corpus {name!r}?", abort=True)
    emit(settings, delete_corpus(settings, name, cascade))
