"""`forecast train --all`, `forecast backtest --all` and `forecast predict --all`: one row per subject,
run by the executor."""

from __future__ import annotations

import sys

import click

from commands.common import emit
from core.settings import Settings
from reports.text import table

TRAINED = ["subject", "version", "model", "promoted", "mase", "served", "node", "error"]
BACKTESTED = ["subject", "model", "mase", "network_mase", "best_baseline", "baseline_mase", "node", "error"]
PREDICTED = ["subject", "model_version", "series", "served", "node", "error"]


def served_line(served: dict) -> str:
    return ", ".join(f"{method} {count}" for method, count in served.items())


def one_subject(subject: str | None, every: bool) -> None:
    if bool(subject) == every:
        raise click.UsageError("give a SUBJECT, or --all for every subject")


def train_every(settings: Settings, cfg, backtest) -> None:
    from pipelines.fleet import train_all

    report(settings, train_all(settings, cfg, backtest), TRAINED)


def backtest_every(settings: Settings, cfg, backtest) -> None:
    from pipelines.fleet import backtest_all

    report(settings, backtest_all(settings, cfg, backtest), BACKTESTED)


def predict_every(settings: Settings, options) -> None:
    from pipelines.fleet import predict_all

    report(settings, predict_all(settings, options), PREDICTED)


def report(settings: Settings, rows: list[dict], columns: list[str]) -> None:
    """One row per subject; exit 1 when any failed (the others' results are stored all the same)."""
    failed = [r for r in rows if r["error"]]
    done = f"{len(rows) - len(failed)} of {len(rows)} subjects done"
    shown = [r | {"served": served_line(r.get("served") or {})} for r in rows]
    emit(settings, rows, table(shown, columns) + f"\n\n{done}")
    if failed:
        sys.exit(1)
