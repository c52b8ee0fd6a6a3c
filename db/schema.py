"""Schema version checks and Alembic upgrades. Checking is one cheap query, so light commands stay fast;
Alembic is imported only when an upgrade is due."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from db.revision import HEAD

MIGRATIONS = Path(__file__).parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations inside one write transaction, so that concurrent first uses serialise."""
    from alembic import command

    with engine.connect() as conn, conn.begin():
        command.upgrade(_alembic_config(conn), revision)
    with engine.connect() as conn:
        return current_revision(conn)


def ensure_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision != HEAD:
        upgrade(engine)
