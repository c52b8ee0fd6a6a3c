"""Read-only queries for the listing commands through the standard library's sqlite3.

Importing SQLAlchemy alone takes ~0.4 s on a 2-core machine, and `series list`, `corpus list`, `db info`
must answer in well under half a second. For a SQLite store at the current schema these read it directly;
for any other database, or a store that needs migrating, callers fall back to the SQLAlchemy path."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from db.revision import HEAD


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL; None for anything this module should not touch."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    return None if path in ("", ":memory:") else Path(path)


@contextmanager
def reader(url: str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection when the light path applies, else None."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        yield None
        return
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")  # one snapshot for all the queries of a command
        try:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            revision = None
        yield conn if revision is not None and revision[0] == HEAD else None
    finally:
        conn.close()


def series_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT s.name, g.name AS group_name, s.time_kind, s.freq, s.n_obs, s.first_ts, s.last_ts, s.n_gaps "
        "FROM series s LEFT JOIN series_group g ON g.id = s.group_id ORDER BY s.name"
    ).fetchall()


def corpus_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT name, n_chars, n_lines, sha256, updated_at, "
        "json_array_length(json_extract(vocabulary, '$.counts')) AS vocabulary_size "
        "FROM corpus ORDER BY name"
    ).fetchall()


def table_counts(conn: sqlite3.Connection, tables: list[str]) -> dict[str, int]:
    # Table names come from the model, never from input.
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def corpus_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM corpus ORDER BY name")]


def corpus_text(conn: sqlite3.Connection, name: str) -> str | None:
    rows = conn.execute(
        "SELECT t.text FROM corpus_text t JOIN corpus c ON c.id = t.corpus_id "
        "WHERE c.name = ? ORDER BY t.seq",
        (name,),
    ).fetchall()
    return "".join(r[0] for r in rows) if rows else None


def model_row(
    conn: sqlite3.Connection, kind: str, subject: str, version_id: int | None
) -> sqlite3.Row | None:
    """A version by id, or the subject's ready champion."""
    columns = "id, kind, subject, architecture, status, alias, config, inference, inference_sha256"
    if version_id is not None:
        return conn.execute(f"SELECT {columns} FROM model_version WHERE id = ?", (version_id,)).fetchone()
    return conn.execute(
        f"SELECT {columns} FROM model_version WHERE kind = ? AND subject = ? AND alias = 'champion' "
        "AND status = 'ready'",
        (kind, subject),
    ).fetchone()


def schedule_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Schedules with their latest run (by id)."""
    return conn.execute(
        "SELECT s.name, s.task, s.cron, s.timezone, s.enabled, s.retries, s.timeout_s, "
        "r.logical_date AS last_date, r.status AS last_status "
        "FROM schedule s LEFT JOIN job_run r ON r.id = "
        "(SELECT max(id) FROM job_run WHERE schedule_id = s.id) ORDER BY s.name"
    ).fetchall()


def integrity(conn: sqlite3.Connection, limit: int = 5) -> str:
    """'ok', or the first problems SQLite's integrity check finds (a damaged index, a torn page)."""
    rows = [r[0] for r in conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()]
    return "ok" if rows == ["ok"] else "; ".join(r.replace("\n", " ") for r in rows)


def table_bytes(conn: sqlite3.Connection) -> dict[str, int]:
    """Bytes of each table with its indexes, as its pages on disk (SQLite's dbstat)."""
    rows = conn.execute(
        "SELECT s.tbl_name, sum(d.pgsize) FROM dbstat AS d JOIN sqlite_schema AS s ON s.name = d.name "
        "GROUP BY s.tbl_name"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def held_versions(conn: sqlite3.Connection) -> list[tuple]:
    """What db.retention.held_versions gives, as plain tuples: (id, kind, subject, alias, created_at,
    promoted_at, bytes), newest first."""
    rows = conn.execute(
        "SELECT id, kind, subject, alias, created_at, promoted_at, "
        "coalesce(length(artifact), 0) + coalesce(length(inference), 0) FROM model_version "
        "WHERE status = 'ready' ORDER BY id DESC"
    ).fetchall()
    when = lambda t: None if t is None else datetime.fromisoformat(t)  # noqa: E731
    return [(r[0], r[1], r[2], r[3], when(r[4]), when(r[5]), r[6]) for r in rows]


def schedule_params(conn: sqlite3.Connection) -> list[dict]:
    return [json.loads(r[0] or "{}") for r in conn.execute("SELECT params FROM schedule")]
