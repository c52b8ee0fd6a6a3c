"""The store itself: what it holds, its schema, backups."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.errors import InputError, RecurError
from core.outputs import check_output, may_replace, record_written
from core.settings import Settings
from db import light
from db.revision import HEAD

TABLES = ["series", "series_group", "observation", "corpus", "model_version", "forecast", "sample"]
TABLES += ["training_run", "schedule", "job_run"]
RESTORE = "restore the latest backup (recur db backup makes them) or export what you can and re-ingest"


def safe_url(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and ":" in rest.split("@", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        rest = f"{user}:***@{rest.split('@', 1)[1]}"
    return scheme + sep + rest


def db_info(settings: Settings) -> dict:
    """URL, schema revision, row counts and size. Light (no SQLAlchemy) for a current SQLite store."""
    integrity = None
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            integrity = light.integrity(conn)
            counts, revision = light.table_counts(conn, TABLES), HEAD
    if conn is None:
        counts, revision = _orm_counts(settings)
    info = {"url": safe_url(settings.db_url), "home": str(settings.home), "schema_revision": revision}
    if integrity is not None:
        info["integrity"] = integrity if integrity == "ok" else f"DAMAGED: {integrity}; {RESTORE}"
    info["schema_head"] = HEAD
    info["rows"] = counts
    path = light.sqlite_file(settings.db_url)
    if path is not None and path.exists():
        info["file"] = str(path)
        parts = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        info["bytes"] = sum(p.stat().st_size for p in parts if p.exists())
    return info


def _orm_counts(settings: Settings) -> tuple[dict[str, int], str | None]:
    from sqlalchemy import func, select, table

    from db.engine import read_session
    from db.schema import current_revision

    with read_session(settings) as session:
        counts = {t: session.scalar(select(func.count()).select_from(table(t))) for t in TABLES}
        return counts, current_revision(session.connection())


def db_upgrade(settings: Settings) -> dict:
    from db.engine import engine_of
    from db.schema import current_revision, upgrade

    with engine_of(settings).connect() as conn:
        before = current_revision(conn)
    return {"before": before, "after": upgrade(engine_of(settings))}


def db_backup(settings: Settings, out: Path, force: bool = False) -> dict:
    """A consistent copy of a live SQLite store (VACUUM INTO), renamed into place only when complete."""
    if light.sqlite_file(settings.db_url) is None and not settings.db_url.startswith("sqlite"):
        raise RecurError("recur db backup copies SQLite stores; back up PostgreSQL with pg_dump")
    from db.engine import engine_of

    out = check_output(settings, Path(out).absolute())
    if out.is_dir():
        raise InputError(f"--out {out} is a directory; give a file name, e.g. {out / 'recur-backup.db'}")
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: {out.parent} is not a directory that exists")
    may_replace(settings, out, force)
    tmp = out.with_name(f".{out.name}.partial")
    tmp.unlink(missing_ok=True)
    raw = engine_of(settings).raw_connection()  # VACUUM cannot run inside the transaction a Connection opens
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (str(tmp),))
    finally:
        raw.close()
    os.chmod(tmp, 0o600)
    shutil.move(tmp, out)
    record_written(settings, out)
    return {"path": str(out), "bytes": out.stat().st_size}
