"""`recur db ...` and `recur doctor`."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import emit, force_out, pass_settings
from core.settings import Settings
from reports.text import keyvalues, table


@click.command()
@click.option("--no-devices", is_flag=True, help="Skip loading the backend to list GPUs (fast).")
@pass_settings
def doctor(settings: Settings, no_devices: bool) -> None:
    """Versions, backend, GPU devices, database and free disk.

    Example: recur doctor
    """
    from pipelines.doctor import doctor as run

    out = run(settings, devices=not no_devices)
    shown = out | ({"gpus": ", ".join(out["gpus"]) or "none visible"} if "gpus" in out else {})
    emit(settings, out, keyvalues(shown))
    if out.get("integrity", "ok") != "ok":
        raise SystemExit(1)  # a damaged store is a failed check


@click.group()
def db() -> None:
    """The database: schema, size, backups."""


@db.command("info")
@pass_settings
def db_info(settings: Settings) -> None:
    """URL, schema revision and row counts.

    Example: recur db info
    """
    from pipelines.store import db_info as run

    info = run(settings)
    counts = table([{"table": k, "rows": v} for k, v in info["rows"].items()], ["table", "rows"])
    emit(settings, info, keyvalues(info) + "\n\n" + counts)


@db.command("upgrade")
@pass_settings
def db_upgrade(settings: Settings) -> None:
    """Apply schema migrations (also done automatically on first use).

    Example: recur db upgrade
    """
    from pipelines.store import db_upgrade as run

    emit(settings, run(settings))


@db.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Backup file to write.")
@force_out
@pass_settings
def db_backup(settings: Settings, out: str, force: bool) -> None:
    """A consistent copy of the live SQLite store, safe while others write.

    Example: recur db backup --out ~/recur-backup.db
    """
    from pipelines.store import db_backup as run

    emit(settings, run(settings, Path(out), force))
