"""Every test gets a fresh home (and so a fresh database) under its tmp_path."""

from __future__ import annotations

import json
import sqlite3
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

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.home / "recur.db")

    def count(self, table: str) -> int:
        if not (self.home / "recur.db").exists():
            return 0
        with self.db() as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


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
