"""Every test gets a fresh home (and so a fresh database) under its tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def gpu_visible() -> bool:
    """Without importing a framework: an NVIDIA device node and its driver tool."""
    import shutil

    return Path("/dev/nvidia0").exists() and shutil.which("nvidia-smi") is not None


def program(*names: str, package: str) -> str:
    """The path of the first of `names` on PATH. Missing, the test is skipped with the Debian package to
    install (`make test` installs it when run as root with apt), or fails where RECUR_REQUIRE_PROGRAMS is
    set (CI)."""
    import os
    import shutil

    for name in names:
        if found := shutil.which(name):
            return found
    message = f"{names[0]} is not installed: apt-get install {package} (make test does, as root)"
    if os.environ.get("RECUR_REQUIRE_PROGRAMS"):
        pytest.fail(message)
    pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    # xdist hands tests out in this order: the longest first, then the slow ones, so that a long test
    # begun near the end does not leave the other worker idle for minutes
    items.sort(key=lambda item: ("longest" not in item.keywords, "slow" not in item.keywords))
    if gpu_visible():
        return
    skip = pytest.mark.skip(reason="no GPU visible")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RECUR_HOME", str(home))
    monkeypatch.delenv("RECUR_DB", raising=False)
    return home


class Recur:
    """Runs the CLI in-process, the way a user types it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, input: str | None = None):
        result = self.runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"recur {' '.join(map(str, args))} failed ({result.exit_code}):\n{result.output}"
            )
        return result

    def json(self, *args: str):
        return json.loads(self("--json", *args).output)

    def fails(self, *args: str, code: int = 1) -> str:
        result = self(*args, ok=False)
        assert result.exit_code == code, result.output
        return result.output

    def db(self):
        """The store this test writes, for reading it directly: SQLite's file, or the test's PostgreSQL
        database when the `backend` fixture chose one (the same `execute(sql, params)` either way)."""
        url = os.environ.get("RECUR_DB")
        return Store(url) if url else sqlite3.connect(self.home / "recur.db")

    def count(self, table: str) -> int:
        if not os.environ.get("RECUR_DB") and not (self.home / "recur.db").exists():
            return 0
        with self.db() as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def points(self) -> dict:
        """Each stored vintage's points as read back from the store's packed column, by forecast id
        (a vintage whose points were pruned has none)."""
        from db.packing import unpack

        with self.db() as conn:
            rows = conn.execute("SELECT forecast_id, points FROM vintage_points").fetchall()
        return {fid: unpack(bytes(blob)) for fid, blob in rows}


class Store:
    """A PostgreSQL store read the way the tests read SQLite's (`?` placeholders, `with` commits)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url)

    def __enter__(self):
        self.conn = self.engine.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.conn.commit()
        self.conn.close()
        self.engine.dispose()

    def execute(self, sql: str, params: tuple = ()):
        return self.conn.exec_driver_sql(sql.replace("?", "%s"), tuple(params))


PG_MISSING = "no PostgreSQL server for the tests: `make test` starts one where its binaries are installed"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, home: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the test on each store: SQLite in the test's home, and a fresh database on the PostgreSQL
    server named by RECUR_TEST_PG (`make test` and CI start one with tools/pg.sh). Without a server the
    PostgreSQL run is skipped, or fails where RECUR_REQUIRE_PROGRAMS is set (CI)."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    with pg_database() as url:
        monkeypatch.setenv("RECUR_DB", url)
        yield "postgresql"


@contextmanager
def pg_database():
    """A fresh database on the test server (RECUR_TEST_PG), its URL; dropped afterwards."""
    admin = os.environ.get("RECUR_TEST_PG")
    if not admin:
        if os.environ.get("RECUR_REQUIRE_PROGRAMS"):
            pytest.fail(PG_MISSING)
        pytest.skip(PG_MISSING)
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        import gc

        gc.collect()  # the engines of the CLI calls, and their pooled connections
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def ray_cluster():
    """A Ray cluster of two nodes of one CPU each (a head and a second node joined to it), started with
    `ray start` for the tests marked `ray` (one xdist worker runs them all: --dist loadgroup)."""
    from tests.cluster import Cluster

    cluster = Cluster(head_cpus=1)
    try:
        cluster.add_node("second")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def recur(home: Path) -> Recur:
    return Recur(home)


@pytest.fixture
def write(tmp_path: Path):
    """Write a file (text or bytes) under tmp_path and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def daily_csv(
    days: int, start: str = "2024-01-01", skip: tuple[int, ...] = (), value=lambda i: float(i)
) -> str:
    import pandas as pd

    dates = pd.date_range(start, periods=days, freq="D")
    lines = ["date,value"] + [f"{d:%Y-%m-%d},{value(i)}" for i, d in enumerate(dates) if i not in skip]
    return "\n".join(lines) + "\n"


def fill_store(recur: Recur, corpus: Path, name: str = "c") -> None:
    """airline with a GRU champion and a forecast, a corpus (`name`) with a tiny text generator, a
    succeeded and a failed job run."""
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    small = ["--lookback", "12", "--horizon", "6", "--units", "4", "--epochs", "2", "--windows", "3"]
    recur("forecast", "train", "airline", "--model", "gru", "--force", *small)
    recur("forecast", "predict", "airline")
    recur("corpus", "ingest", corpus, "--name", name)
    recur("textgen", "train", name, "--preset", "tiny", "--epochs", "2")
    recur("jobs", "add", "nap", "--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=0")
    recur("jobs", "run", "nap")
    fail = ["--param", "seconds=0", "--param", "fail=true"]
    recur("jobs", "add", "broken", "--task", "sleep", "--cron", "0 3 * * *", *fail)
    recur("jobs", "run", "broken", ok=False)
