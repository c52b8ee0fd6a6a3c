"""`recur labels ...` and `recur classify ...`."""

from __future__ import annotations

from pathlib import Path

import click

from classifier.config import ClassifyConfig
from commands.common import CASCADE, device_options, emit, pass_settings
from commands.options import config_options
from core.params import params_of
from core.settings import Settings
from reports.text import keyvalues, table


@click.group()
def labels() -> None:
    """Labelled texts and series windows for classifiers: ingest, list, delete."""


@labels.command("ingest")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="label", show_default=True)
@click.option("--name", help="Name of the labelled set; default: the file stem.")
@click.option("--series", help="Label windows of this stored series: FILE has a time and a label per row.")
@click.option("--time-col", default="time", show_default=True, help="With --series: the column of times.")
@click.option(
    "--window",
    type=int,
    default=24,
    show_default=True,
    help="With --series: points per window, ending at each row's time.",
)
@click.option(
    "--windows",
    "listed",
    is_flag=True,
    help="FILE lists windows of stored series: columns series, start, end and the label.",
)
@pass_settings
def labels_ingest(settings: Settings, file: str, text_col: str, label_col: str, **options) -> None:
    """Add a CSV of labelled texts, or of labelled windows of stored series.

    \b
    Examples:
      recur labels ingest data/sentiment_labelled_sentences.csv --name sentiment
      recur labels ingest seasons.csv --series melbourne --time-col date --window 28
      recur labels ingest windows.csv --windows --name regimes     # series,start,end,label
    """
    from pipelines.classify import SeriesLabels, ingest_labels

    name = options.pop("name")
    windows = SeriesLabels(**options) if (options["series"] or options["listed"]) else None
    out = ingest_labels(settings, file, text_col, label_col, name, windows)
    shown = out | {"classes": ", ".join(f"{c} ({n})" for c, n in out["classes"].items())}
    if "series" in out:
        shown["series"] = ", ".join(out["series"])
    emit(settings, out, keyvalues(shown))


@labels.command("list")
@pass_settings
def labels_list(settings: Settings) -> None:
    """Labelled sets with their class counts.  Example: recur labels list"""
    from pipelines.classify import list_sets

    rows = list_sets(settings)
    emit(
        settings,
        rows,
        table(rows, ["name", "kind", "items", "classes", "source"], empty="no labelled sets yet"),
    )


@labels.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@CASCADE
@pass_settings
def labels_delete(settings: Settings, name: str, yes: bool, cascade: bool) -> None:
    """Delete a labelled set. Refused while a classifier or a schedule uses it, unless --cascade.

    Example: recur labels delete sentiment --yes
    """
    from pipelines.classify import delete_set

    if not yes:
        click.confirm(f"Delete labelled set {name!r}?", abort=True)
    emit(settings, delete_set(settings, name, cascade))


@click.group()
def classify() -> None:
    """Sequence and text classifiers: train against baselines, evaluate, predict."""


@classify.command("train")
@click.argument("name")
@config_options(params_of(ClassifyConfig))
@click.option(
    "--force", is_flag=True, help="Promote even if it does not beat the baselines and the champion."
)
@device_options
@pass_settings
def classify_train(
    settings: Settings, name: str, force: bool, device: str, precision: str, **options
) -> None:
    """Train a classifier on a labelled set; it becomes the champion only if its macro F1 beats the majority
    class, a bag-of-words linear model and the current champion on the same test items.

    \b
    Examples:
      recur classify train sentiment --model bilstm
      recur classify train sentiment --model attention --units 32 --epochs 10
    """
    from pipelines.classify import train_classifier

    out = train_classifier(settings, name, ClassifyConfig(**options), force, device, precision)
    rows = [{"method": k} | v for k, v in out["scores"].items()]
    emit(settings, out, keyvalues(out) + "\n\n" + table(rows, ["method", "accuracy", "macro_f1"]))


@classify.command("evaluate")
@click.argument("name")
@click.option("--version", "version_id", type=int, help="Model version; default: the champion.")
@pass_settings
def classify_evaluate(settings: Settings, name: str, version_id: int | None) -> None:
    """Accuracy, macro F1, per-class precision and recall, and the confusion matrix on the test items.

    Example: recur classify evaluate sentiment
    """
    from pipelines.classify import evaluate

    out = evaluate(settings, name, version_id)
    test = out["test"]
    rows = [{"method": k, "accuracy": v["accuracy"], "macro_f1": v["macro_f1"]} for k, v in test.items()]
    per = [{"class": c} | v for c, v in test["model"]["per_class"].items()]
    text = (
        table(rows, ["method", "accuracy", "macro_f1"])
        + "\n\n"
        + table(per, ["class", "precision", "recall", "f1"])
    )
    classes = list(test["model"]["per_class"])
    confusion = [
        {"true \\ predicted": c} | dict(zip(classes, counts, strict=True))
        for c, counts in zip(classes, test["model"]["confusion"], strict=True)
    ]
    text += "\n\nconfusion (rows: true class, columns: predicted):\n" + table(
        confusion, ["true \\ predicted", *classes]
    )
    emit(settings, out, text)


@classify.command("predict")
@click.argument("name")
@click.option("--text", "texts", multiple=True, help="A text to classify (repeatable).")
@click.option("--file", "file", type=click.Path(dir_okay=False), help="One text per line.")
@click.option("--version", "version_id", type=int, help="Model version; default: the champion.")
@click.option("--explain", is_flag=True, help="Attention models: the tokens the model looked at.")
@click.option("--series", help="Series classifiers: the stored series whose window to classify.")
@click.option("--end", help="With --series: the window's last time (default: the latest point).")
@pass_settings
def classify_predict(settings: Settings, name: str, texts, file, version_id, **options) -> None:
    """Classify texts (or a window of a series) with the champion; every prediction is stored with its
    probabilities and the model version.

    \b
    Examples:
      recur classify predict sentiment --text "Great phone, works perfectly."
      recur classify predict seasons --series melbourne --end 1990-07-31
    """
    from pipelines.classify import predict, predict_window

    if options["series"]:
        out = predict_window(settings, name, options["series"], options["end"], version_id)
        emit(settings, out, _predictions_table(out))
        return
    items = list(texts) + (Path(file).read_text(encoding="utf-8").splitlines() if file else [])
    out = predict(settings, name, [t for t in items if t.strip()] or items, version_id, options["explain"])
    emit(settings, out, _predictions_table(out))


def _predictions_table(out: dict) -> str:
    rows = [
        {"label": p["label"], "p": max(p["probabilities"].values()), "text": p["text"][:70]}
        for p in out["predictions"]
    ]
    return table(rows, ["label", "p", "text"])
