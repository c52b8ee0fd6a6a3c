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
@click.option("--check", is_flag=True, help="Also run SQLite's integrity check (reads every page).")
@pass_settings
def db_info(settings: Settings, check: bool) -> None:
    """URL, schema revision, rows and bytes per table, and what `models prune` would free under the
    retention policy (RECUR_RETENTION_*).

    Example: recur db info --check
    """
    from pipelines.store import db_info as run

    info = run(settings, check=check)
    if "rows" not in info:  # damaged: nothing was counted (it would read the damaged pages)
        emit(settings, info, keyvalues(info))
        return
    sizes = info["table_bytes"]
    names = list(sizes) + [t for t in info["rows"] if t not in sizes]
    rows = [{"table": t, "rows": info["rows"].get(t, ""), "bytes": sizes.get(t, "")} for t in names]
    head = {k: v for k, v in info.items() if k not in ("rows", "table_bytes", "retention")}
    kept = info["retention"]
    head["retention"] = (
        f"{kept['prunable']} of {kept['versions_with_artifacts']} versions' artifacts prunable, "
        f"{kept['prunable_bytes']:,} bytes (recur models prune)"
    )
    emit(settings, info, keyvalues(head) + "\n\n" + table(rows, ["table", "rows", "bytes"]))


@db.command("upgrade")
@pass_settings
def db_upgrade(settings: Settings) -> None:
    """Apply schema migrations (also done automatically on first use).

    Example: recur db upgrade
    """
    from pipelines.store import db_upgrade as run

    emit(settings, run(settings))


@db.command("vacuum")
@pass_settings
def db_vacuum(settings: Settings) -> None:
    """Give the space that pruning freed back to the disk (SQLite rewrites its file; PostgreSQL runs
    VACUUM (ANALYZE)); refused while a writer holds the store.

    Example: recur db vacuum
    """
    from pipelines.store import db_vacuum as run

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
