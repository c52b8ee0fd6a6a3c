"""Commands that need no model stay light: no TensorFlow or Keras, and for a SQLite store not even
SQLAlchemy or pandas (the issue's 0.5 s budget; timings themselves live in bench/)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jobs.catalog import list_corpora, list_series
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
    from db import light
    from db.settings import Settings

    settings = Settings.resolve(home)
    fast = (list_series(settings), list_corpora(settings))
    monkeypatch.setattr(light, "sqlite_file", lambda url: None)
    slow = (list_series(settings), list_corpora(settings))
    assert fast == slow and fast[0][0]["name"] == "airline"
