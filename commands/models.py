"""`recur models ...`: the registry of every kind of model: list, show, promote, roll back."""

from __future__ import annotations

import click

from commands.common import emit, pass_settings
from commands.options import config_options
from core.params import params_of
from core.retention import VINTAGE_FIELDS, Retention
from core.settings import Settings
from reports.text import keyvalues, table


@click.group()
def models() -> None:
    """The model registry: list, show, promote, roll back, prune."""


@models.command("list")
@click.option("--kind", type=click.Choice(["forecaster", "textgen", "classifier"]))
@click.option("--subject", help="Only this series, group or corpus.")
@pass_settings
def models_list(settings: Settings, kind: str | None, subject: str | None) -> None:
    """Every model version with its status, alias and score: a forecaster's backtest MASE, a text
    generator's validation loss (nats), a classifier's test macro F1.

    Example: recur models list --kind forecaster
    """
    from pipelines.model_versions import list_models

    rows = list_models(settings, kind, subject)
    emit(
        settings,
        rows,
        table(rows, ["id", "kind", "subject", "architecture", "status", "alias", "score", "created"]),
    )


@models.command("show")
@click.argument("version_id", type=int)
@pass_settings
def models_show(settings: Settings, version_id: int) -> None:
    """Config, metrics, training run and checksum of a model version.

    Example: recur models show 3
    """
    from pipelines.model_versions import show_model

    out = show_model(settings, version_id)
    emit(settings, out, keyvalues(out) + "\n\nconfig:\n" + keyvalues(out["config"]) + _metrics_text(out))


def _metrics_text(out: dict) -> str:
    """The headline metrics: the backtest (or test) scores of the model and each baseline, the gate."""
    metrics = out.get("metrics") or {}
    rows, parts = out.get("scores") or [], []
    if rows:
        cols = [
            "method",
            *[c for c in ("mae", "rmse", "smape", "mase", "accuracy", "macro_f1") if c in rows[0]],
        ]
        parts.append("metrics:\n" + table(rows, cols))
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
    if scalars:
        parts.append(keyvalues(scalars))
    return "".join(f"\n\n{p}" for p in parts)


@models.command("promote")
@click.argument("version_id", type=int)
@pass_settings
def models_promote(settings: Settings, version_id: int) -> None:
    """Make a version the champion of its subject (the gate is yours to override).

    Example: recur models promote 3
    """
    from pipelines.model_versions import promote_model

    emit(settings, promote_model(settings, version_id))


@models.command("rollback")
@click.argument("subject")
@click.option(
    "--kind",
    type=click.Choice(["forecaster", "textgen", "classifier"]),
    default="forecaster",
    show_default=True,
)
@pass_settings
def models_rollback(settings: Settings, subject: str, kind: str) -> None:
    """Bring back the previous champion of a subject.

    Example: recur models rollback airline
    """
    from pipelines.model_versions import rollback_model

    emit(settings, rollback_model(settings, subject, kind))


RETENTION_NOTE = "(Default: RECUR_RETENTION_*, else README.)"


@models.command("prune")
@config_options(params_of(Retention, skip=VINTAGE_FIELDS), defaults=False, note=RETENTION_NOTE)
@click.option("--dry-run", is_flag=True, help="Only list what would go and the bytes it would free.")
@pass_settings
def models_prune(settings: Settings, dry_run: bool, **policy) -> None:
    """Drop the artifact bytes of old versions under the retention policy, with what only forecasting
    with them read (interval widths, per-series scores). A pruned version keeps its row, its record
    (backtest scores, the gate's decision) and lineage (forecasts and samples still name it); champions,
    what a rollback or a report needs, young versions and versions a schedule names are never pruned.

    Example: recur models prune --dry-run
    """
    from pipelines.retention import prune_models

    out = prune_models(settings, Retention.resolve(**policy), dry_run)
    head = {k: v for k, v in out.items() if k != "versions"}
    head["policy"] = ", ".join(f"{k}={v}" for k, v in out["policy"].items())
    rows = table(out["versions"], ["id", "kind", "subject", "alias", "created", "bytes"])
    emit(settings, out, keyvalues(head) + ("\n\n" + rows if out["versions"] else ""))
