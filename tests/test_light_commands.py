"""Commands that need no model stay light: no TensorFlow or Keras, and for a SQLite store not even
SQLAlchemy or pandas (the issue's 0.5 s budget; timings themselves live in bench/)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipelines.catalog import list_corpora, list_series
from tests.conftest import DATA, ROOT

HEAVY = ("tensorflow", "keras", "jax", "torch", "sqlalchemy", "pandas", "numpy", "matplotlib")

PROBE = """
import sys
from cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("MODULES", " ".join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)
"""


def loaded_modules(*args: str) -> set[str]:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("MODULES"))
    return set(line.split()[1:])


@pytest.fixture
def filled_store(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("corpus", "ingest", DATA / "tinyshakespeare.txt", "--name", "shakespeare")


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["series", "list"],
        ["corpus", "list"],
        ["db", "info"],
        ["jobs", "list"],
        ["--json", "series", "list"],
    ],
)
def test_light_commands_import_nothing_heavy(filled_store, args):
    heavy = loaded_modules(*args) & set(HEAVY)
    assert heavy == set(), f"recur {' '.join(args)} imported {heavy}"


def test_the_light_path_and_the_sqlalchemy_path_agree(filled_store, home, monkeypatch):
    from core.settings import Settings
    from db import light

    settings = Settings.resolve(home)
    fast = (list_series(settings), list_corpora(settings))
    monkeypatch.setattr(light, "sqlite_file", lambda url: None)
    slow = (list_series(settings), list_corpora(settings))
    assert fast == slow and fast[0][0]["name"] == "airline"


def test_every_light_query_equals_its_orm_query(filled_store, recur, home, monkeypatch):
    """The listing commands read a current SQLite store through sqlite3; each of those queries is checked
    here against the ORM's answer on the same store, so the two read paths cannot drift apart."""
    from sqlalchemy import func, select, text

    from core.settings import Settings
    from db import corpus as cq
    from db import light, registry
    from db import schedules as sq
    from db.engine import compact_json, read_session, write_session
    from db.generators import StoredGenerator, sampling_inputs
    from db.tables import JobRun, utcnow
    from pipelines.store import TABLES

    recur("jobs", "add", "nightly", "--task", "forecast", "--cron", "0 2 * * *", "--param", "subject=airline")
    settings = Settings.resolve(home)
    with write_session(settings) as session:  # a champion and a run, so no query answers empty
        version = registry.add_version(
            session,
            artifact=b"a",
            inference=b"i",
            kind="textgen",
            subject="shakespeare",
            architecture="gru",
            config={"cell": "gru"},
            alias="challenger",
        )
        registry.promote(session, version)
        [schedule] = sq.all_schedules(session)
        session.add(
            JobRun(
                schedule_id=schedule.id,
                logical_date="2026-01-01",
                attempt=1,
                status="failed",
                started_at=utcnow(),
                finished_at=utcnow(),
            )
        )
    columns = (
        "id",
        "kind",
        "subject",
        "architecture",
        "status",
        "alias",
        "config",
        "inference",
        "inference_sha256",
    )
    with light.reader(settings.db_url) as conn, read_session(settings) as session:
        assert conn is not None
        assert light.corpus_names(conn) == cq.list_names(session) == ["shakespeare"]
        assert light.corpus_text(conn, "shakespeare") == cq.corpus_text(
            session, cq.find_corpus(session, "shakespeare")
        )
        assert light.corpus_text(conn, "nope") is None and cq.find_corpus(session, "nope") is None
        counts = {t: session.scalar(select(func.count()).select_from(text(f'"{t}"'))) for t in TABLES}
        assert light.table_counts(conn, list(TABLES)) == counts
        for asked in (None, version.id):
            row = light.model_row(conn, "textgen", "shakespeare", asked)
            orm = (
                registry.get_version(session, asked)
                if asked
                else registry.champion(session, "textgen", "shakespeare")
            )
            as_stored = {c: getattr(orm, c) for c in columns}
            assert {c: row[c] for c in columns} == as_stored | {"config": compact_json({"cell": "gru"})}
            assert StoredGenerator.of(row) == StoredGenerator.of(orm)  # sampling's one typed row
        assert light.model_row(conn, "textgen", "other", None) is None
        assert registry.champion(session, "textgen", "other") is None
        [light_schedule] = light.schedule_rows(conn)
        last = sq.runs(session, schedule.id, limit=1)[0]
        assert (light_schedule["name"], light_schedule["last_date"], light_schedule["last_status"]) == (
            schedule.name,
            last.logical_date,
            last.status,
        )
        orm_check = session.execute(text("PRAGMA integrity_check(5)")).scalars().all()
        assert light.integrity(conn) == "ok" and orm_check == ["ok"]
    # and the commands built on them answer the same both ways
    from jobs.schedules import list_schedules
    from pipelines.store import db_info

    inputs = [sampling_inputs(settings, "shakespeare", v) for v in (None, version.id)]
    fast = (list_schedules(settings), db_info(settings), inputs)
    monkeypatch.setattr(light, "sqlite_file", lambda url: None)
    inputs = [sampling_inputs(settings, "shakespeare", v) for v in (None, version.id)]
    slow = (list_schedules(settings), db_info(settings), inputs)
    assert fast[2] == slow[2] and fast[2][0].version.id == version.id
    assert fast[0] == slow[0] and fast[0][0]["last_status"] == "failed"
    assert fast[1]["rows"] == slow[1]["rows"] and fast[1]["schema_revision"] == slow[1]["schema_revision"]
