"""Engine and sessions. SQLite gets WAL, a 30 s busy timeout, foreign keys on every connection and
`BEGIN IMMEDIATE` for every write transaction (deferred BEGIN lets two read-then-write transactions
deadlock into "database is locked"). The schema is migrated on first use."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from core.errors import InputError, RecurError
from db.schema import ensure_schema

if TYPE_CHECKING:
    from core.settings import Settings

BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "recur_read_only"
WRITE_LOCK = 0x72656375  # the advisory lock key of recur's write transactions on PostgreSQL


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def prepare_sqlite_file(path: Path, home: Path | None = None) -> None:
    """Create the file 0600 before SQLite does (its -wal/-shm copy this mode), and its directory 0700 only
    when it is recur's home: a --db URL naming a folder that does not exist is a typo, not a request."""
    if not path.parent.exists():
        if home is None or path.parent.resolve() != Path(home).resolve():
            raise InputError(
                f"--db {path}: the directory {path.parent} does not exist; create it first or fix the URL"
            )
        path.parent.mkdir(parents=True, mode=0o700)
        os.chmod(path.parent, 0o700)
    if not path.exists():
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite's own implicit BEGIN is switched off so that the "begin" event decides the kind of BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode: committed transactions survive an application crash (not a power cut).
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _on_sqlite_begin(conn) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def engine_of(settings: Settings) -> Engine:
    """The engine of these settings' store, opened (and its schema checked) on first use."""
    engine = settings.__dict__.get("_engine")
    if engine is None:
        engine = open_engine(settings)
        object.__setattr__(settings, "_engine", engine)  # one engine per Settings, as a cached attribute
    return engine


def compact_json(value) -> str:
    """JSON columns as compact text (no spaces after , and :): a forecast point's bounds and quantiles
    are JSON, and the spaces were a tenth of a vintage's bytes."""
    return json.dumps(value, separators=(",", ":"))


def open_engine(settings: Settings) -> Engine:
    path = sqlite_path(settings.db_url)
    if path is not None:
        prepare_sqlite_file(path, settings.home)
    try:
        engine = create_engine(settings.db_url, json_serializer=compact_json)
    except Exception as exc:  # bad URL or missing driver: the user's to fix
        raise RecurError(f"cannot open database {settings.db_url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)

    ensure_schema(engine)
    return engine


@contextmanager
def write_session(settings: Settings) -> Iterator[Session]:
    """One write transaction, committed on success, rolled back on error. Write transactions are
    serialised on every store, so that a read-then-write (count, then insert; find the champion, then
    replace it) sees every earlier write: BEGIN IMMEDIATE on SQLite, a transaction-level advisory lock on
    PostgreSQL (whose READ COMMITTED would otherwise let two of them interleave)."""
    engine = engine_of(settings)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "postgresql":  # waiting as long as SQLite's busy timeout, then an error
            session.execute(text(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}"))
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})
        yield session


@contextmanager
def read_session(settings: Settings) -> Iterator[Session]:
    """A read transaction: a consistent snapshot that does not take the write lock."""
    engine = engine_of(settings).execution_options(**{READ_ONLY: True})
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
