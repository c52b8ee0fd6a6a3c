"""The store: connection settings (RELIABILITY 2, 3), file modes (5), migrations, backups, info."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.settings import Settings
from db.engine import engine_of, read_session, write_session
from db.revision import HEAD
from tests.conftest import DATA


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def settings(home) -> Settings:
    return Settings.resolve(home)


def test_every_pooled_connection_has_the_pragmas(settings):
    engine = engine_of(settings)
    conns = [engine.connect() for _ in range(3)]  # three distinct pooled connections
    try:
        for conn in conns:
            pragmas = {
                p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "foreign_keys")
            }
            pragmas["busy_timeout"] = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}
            conn.rollback()
    finally:
        for conn in conns:
            conn.close()


def test_foreign_keys_are_enforced_on_every_connection(settings):
    for _ in range(3):
        with pytest.raises(IntegrityError), write_session(settings) as session:
            session.execute(text("INSERT INTO observation (series_id, ts, value) VALUES (999, 1, 1.0)"))
        engine_of(settings).dispose()  # the next round gets a brand-new connection


def test_writes_begin_immediate_and_reads_do_not(settings):
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine_of(settings), "before_cursor_execute", lambda *a: seen.append(a[2]))
    with write_session(settings) as session:
        session.execute(text("SELECT 1"))
    with read_session(settings) as session:
        session.execute(text("SELECT 1"))
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]


def test_database_file_and_directory_modes(recur, home):
    recur("series", "ingest", DATA / "airline_passengers.csv")
    # A second connection keeps -wal and -shm alive while we look at them.
    keep = sqlite3.connect(home / "recur.db")
    keep.execute("SELECT count(*) FROM series").fetchone()
    try:
        assert mode(home) == 0o700
        for name in ("recur.db", "recur.db-wal", "recur.db-shm"):
            assert mode(home / name) == 0o600, name
    finally:
        keep.close()


def test_migrations_head_matches_the_code_and_upgrade_is_idempotent(recur):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from db.schema import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD
    assert recur.json("db", "upgrade") == {"before": HEAD, "after": HEAD}


def test_models_and_migrations_agree(settings):
    """Autogenerate against the migrated store finds nothing to do: no model change without a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.tables import Base

    with engine_of(settings).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_backup_is_a_complete_consistent_copy(recur, tmp_path):
    recur("series", "ingest", DATA / "ETTh1.csv")
    out = recur.json("db", "backup", "--out", tmp_path / "backup.db")
    assert out["path"] == str(tmp_path / "backup.db") and mode(tmp_path / "backup.db") == 0o600
    copy = sqlite3.connect(tmp_path / "backup.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM observation").fetchone()[0] == 7 * 17420
    assert not list(tmp_path.glob(".backup.db*"))


def test_backup_refuses_a_directory(recur, tmp_path):
    assert "is a directory" in recur.fails("db", "backup", "--out", tmp_path, code=2)


def test_db_info_counts_rows(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv")
    info = recur.json("db", "info")
    assert info["schema_revision"] == HEAD and info["rows"]["observation"] == 144
    assert info["rows"]["series"] == 1 and info["bytes"] > 0


def test_db_option_and_environment_pick_the_database(recur, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    recur("--db", url, "series", "ingest", DATA / "airline_passengers.csv")
    assert recur.json("series", "list") == []
    monkeypatch.setenv("RECUR_DB", url)
    assert [s["name"] for s in recur.json("series", "list")] == ["airline_passengers"]


def test_doctor_reports_versions_and_store(recur):
    out = recur.json("doctor", "--no-devices")
    assert out["python"].startswith("3.11") and out["keras"] and out["tensorflow"]
    assert out["schema"].startswith(HEAD) and out["disk_free_gb"] > 0


@pytest.mark.slow
def test_doctor_lists_devices(recur):
    out = recur.json("doctor")
    assert out["backend"] == "tensorflow" and isinstance(out["gpus"], list)


def test_an_older_store_is_migrated_on_first_use_and_keeps_its_data(home, recur):
    """A store at revision 0001 (before promoted_at) is upgraded automatically by any command."""
    from alembic import command

    from db.schema import _alembic_config

    settings = Settings.resolve(home)
    from db.engine import prepare_sqlite_file

    prepare_sqlite_file(home / "recur.db", home)
    from sqlalchemy import create_engine

    engine = create_engine(settings.db_url)
    with engine.connect() as conn, conn.begin():
        command.upgrade(_alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO series (name, time_kind, position, n_obs, n_gaps, created_at, updated_at) "
            "VALUES ('old', 'int', 0, 0, 0, '2026-01-01', '2026-01-01')"
        )
    engine.dispose()
    assert recur.json("db", "info")["schema_revision"] == HEAD  # the light path saw 0001 and handed over
    assert [s["name"] for s in recur.json("series", "list")] == ["old"]
    with sqlite3.connect(home / "recur.db") as conn:
        assert "promoted_at" in [r[1] for r in conn.execute("PRAGMA table_info(model_version)")]


@pytest.mark.usefixtures("backend")
def test_vintages_stored_as_rows_of_points_are_packed_on_upgrade_and_read_back_the_same(
    home, recur, tmp_path
):
    """A store from before packed vintages (revision 0010: a row per point) keeps every forecast: the
    upgrade packs each vintage's points, and a downgrade gives the rows back."""
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from db.schema import _alembic_config

    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("forecast", "predict", "airline", "--horizon", "12")
    before = recur.json("forecast", "export", "airline", "--all", "--out", tmp_path / "before.json")
    engine = create_engine(Settings.resolve(home).db_url)
    with engine.connect() as conn, conn.begin():
        command.downgrade(_alembic_config(conn), "0010")
    with engine.connect() as conn:
        assert "vintage_points" not in inspect(conn).get_table_names()
    assert recur.count("forecast_point") == 12
    after = recur.json("forecast", "export", "airline", "--all", "--out", tmp_path / "after.json")
    assert recur.json("db", "info")["schema_revision"] == HEAD
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    assert "forecast_point" not in tables and "vintage_points" in tables
    engine.dispose()
    assert before["rows"] == after["rows"] == 12 and len(recur.points()) == 1
    assert (tmp_path / "before.json").read_text() == (tmp_path / "after.json").read_text()


def test_a_packed_vintage_reads_back_exactly_and_a_newer_layout_is_refused():
    import json
    import zlib

    from core.errors import RecurError
    from db.packing import pack, unpack

    stamps, values = [10, 20, 30], [1.5, 123456.78, -0.000123]
    bounds = [{"80": [v - 1, v + 1], "95": [v - 2.25, v + 2.25]} for v in values]
    quantiles = [{"0.1": v - 1, "0.5": v, "0.9": v + 1} for v in values]
    points = unpack(pack(stamps, values, bounds, quantiles))
    assert [(p.ts, p.step, p.value) for p in points] == [(10, 1, 1.5), (20, 2, 123456.78), (30, 3, -0.000123)]
    assert [p.intervals for p in points] == bounds and [p.quantiles for p in points] == quantiles
    bare = unpack(pack(stamps, values, [{}, {}, {}], None))
    assert [(p.intervals, p.quantiles) for p in bare] == [(None, None)] * 3 and unpack(None) == []
    with pytest.raises(ValueError, match="the same interval levels"):
        pack(stamps, values, [{"80": [0, 1]}, {}, {}], None)
    newer = zlib.compress(json.dumps({"format": 99}).encode())
    with pytest.raises(RecurError, match="format 99: upgrade recur"):
        unpack(newer)
