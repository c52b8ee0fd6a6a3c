"""`recur db info` on a store of about 1 GB (900 model versions of 1 MB of artifact bytes, 4 million
observations), three times, with and without `--check` (SQLite's integrity check, which reads every page).
The reference is the target of an answer within a second.

    python bench/store_info.py
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECUR = [sys.executable, str(ROOT / "cli.py")]


def build(home: Path) -> Path:
    env = os.environ | {"RECUR_HOME": str(home)}
    subprocess.run(
        [*RECUR, "series", "ingest", str(ROOT / "data" / "airline_passengers.csv")], env=env, check=True
    )
    db = home / "recur.db"
    with sqlite3.connect(db) as conn:
        for i in range(900):
            conn.execute(
                "INSERT INTO model_version (kind, subject, architecture, config, status, alias, sha256, "
                "artifact, created_at) VALUES ('forecaster', 'airline_passengers', 'gru', '{}', 'ready', "
                "'none', 'x', ?, datetime('now', ?))",
                (os.urandom(1_000_000), f"-{900 - i} days"),
            )
        for s in range(40):
            conn.execute(
                "INSERT INTO series (name, time_kind, n_obs, n_gaps, position, created_at, updated_at) "
                "VALUES (?, 'datetime', 0, 0, 0, datetime('now'), datetime('now'))",
                (f"s{s}",),
            )
            sid = conn.execute("SELECT id FROM series WHERE name = ?", (f"s{s}",)).fetchone()[0]
            rows = ((sid, t, float(t)) for t in range(100_000))
            conn.executemany("INSERT INTO observation (series_id, ts, value) VALUES (?, ?, ?)", rows)
    return db


def timed(home: Path, *args: str) -> float:
    env = os.environ | {"RECUR_HOME": str(home)}
    started = time.perf_counter()
    subprocess.run([*RECUR, "db", "info", *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = build(home)
        print(f"store: {db.stat().st_size / 1e9:.2f} GB")
        for args in ((), ("--check",)):
            runs = [timed(home, *args) for _ in range(3)]
            median = statistics.median(runs)
            shown = " ".join(["recur db info", *args])
            each = ", ".join(f"{r:.2f}" for r in runs)
            print(f"{shown}: median {median:.2f} s of {each}; {median:.2f}× the 1 s target")


if __name__ == "__main__":
    main()
