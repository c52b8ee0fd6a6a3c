"""The store itself: what it holds, its schema, backups."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.errors import InputError, RecurError
from core.outputs import check_output, may_replace, record_written
from core.retention import Held, Retention, decide, named_versions, summary
from core.settings import Settings
from db import light
from db.revision import HEAD

TABLES = ["series", "series_group", "observation", "corpus", "model_version", "forecast", "vintage_points"]
TABLES += ["sample", "training_run", "schedule", "job_run"]
RESTORE = "restore the latest backup (recur db backup makes them) or export what you can and re-ingest"


def safe_url(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and ":" in rest.split("@", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        rest = f"{user}:***@{rest.split('@', 1)[1]}"
    return scheme + sep + rest


def db_info(settings: Settings, policy: Retention | None = None, check: bool = False) -> dict:
    """URL, schema revision, rows and bytes per table, size, and what retention would free; with `check`,
    SQLite's integrity check too (it reads every page: 0.8 s a GB). Light (no SQLAlchemy) for a current
    SQLite store."""
    policy = policy or Retention.resolve()
    integrity = None
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            integrity = light.integrity(conn) if check else None
            if integrity not in (None, "ok"):  # counting would read the damaged pages: say so, and stop
                damaged = {"schema_revision": HEAD, "schema_head": HEAD}
                damaged["integrity"] = f"DAMAGED: {integrity}; {RESTORE}"
                return _where(settings) | damaged | _file(settings)
            counts, revision = light.table_counts(conn, TABLES), HEAD
            sizes = light.table_bytes(conn)
            held = [Held(*row) for row in light.held_versions(conn)]
            decisions = decide(held, policy, named_versions(light.schedule_params(conn)))
    if conn is None:
        counts, revision, sizes = _orm_counts(settings)
        from pipelines.retention import plan

        decisions = plan(settings, policy)
    info = _where(settings) | {"schema_revision": revision}
    if integrity is not None:
        info["integrity"] = integrity
    info["schema_head"] = HEAD
    info["rows"] = counts
    info["table_bytes"] = dict(sorted(sizes.items(), key=lambda kv: -kv[1]))
    info |= _file(settings)
    info["retention"] = {"policy": vars(policy)} | summary(decisions)
    return info


def _where(settings: Settings) -> dict:
    return {"url": safe_url(settings.db_url), "home": str(settings.home)}


def _file(settings: Settings) -> dict:
    """For SQLite, the store's file and its bytes on disk (with the WAL)."""
    path = light.sqlite_file(settings.db_url)
    if path is None or not path.exists():
        return {}
    parts = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    return {"file": str(path), "bytes": sum(p.stat().st_size for p in parts if p.exists())}


def _orm_counts(settings: Settings) -> tuple[dict[str, int], str | None, dict[str, int]]:
    from sqlalchemy import func, select, table, text

    from db.engine import read_session
    from db.schema import current_revision

    with read_session(settings) as session:
        counts = {t: session.scalar(select(func.count()).select_from(table(t))) for t in TABLES}
        sizes: dict[str, int] = {}
        if session.bind.dialect.name == "postgresql":
            query = "SELECT relname, pg_total_relation_size(relid) FROM pg_catalog.pg_statio_user_tables"
            sizes = {name: int(size) for name, size in session.execute(text(query))}
        return counts, current_revision(session.connection()), sizes


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


VACUUM_WAIT_S = 2  # how long vacuum waits for a writer to finish before it refuses


def db_vacuum(settings: Settings) -> dict:
    """Give the space freed by pruning back to the disk (SQLite: VACUUM, which rewrites the file) or to
    the database (PostgreSQL: VACUUM (ANALYZE)). Refused, in a sentence, while a writer holds the store."""
    before = _store_bytes(settings)
    path = light.sqlite_file(settings.db_url)
    if path is not None and path.is_file():
        _vacuum_sqlite(path)
    else:
        from db.engine import engine_of

        engine = engine_of(settings)
        if engine.dialect.name != "postgresql":
            raise RecurError(f"recur db vacuum knows SQLite and PostgreSQL, not {engine.dialect.name}")
        raw = engine.raw_connection()  # VACUUM cannot run inside a transaction
        try:
            _vacuum_postgresql(raw.driver_connection)
        finally:
            raw.close()
    return {"url": safe_url(settings.db_url), "bytes_before": before, "bytes_after": _store_bytes(settings)}


BUSY = (
    "the store is being written (a training run, a schedule or the service holds its write lock); "
    "run `recur db vacuum` again when it is idle"
)


def _vacuum_sqlite(path: Path) -> None:
    """On a connection of its own (opening the engine would check the schema in a write transaction):
    waits VACUUM_WAIT_S for a writer, then refuses."""
    import sqlite3

    conn = sqlite3.connect(path, timeout=VACUUM_WAIT_S, isolation_level=None)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise RecurError(BUSY) from exc
        raise
    finally:
        conn.close()


def _vacuum_postgresql(conn) -> None:
    from db.engine import WRITE_LOCK

    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (WRITE_LOCK,))
        if not cur.fetchone()[0]:
            raise RecurError(BUSY)
        try:
            cur.execute("VACUUM (ANALYZE)")
        finally:
            cur.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))


def _store_bytes(settings: Settings) -> int | None:
    path = light.sqlite_file(settings.db_url)
    if path is not None and path.exists():
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    from sqlalchemy import text

    from db.engine import read_session

    with read_session(settings) as session:
        if session.bind.dialect.name != "postgresql":
            return None
        return int(session.scalar(text("SELECT pg_database_size(current_database())")))
