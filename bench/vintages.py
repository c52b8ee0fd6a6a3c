"""A vintage's bytes in the store: its points packed into one row, against the row per point they
replaced, the same vintages side by side.

    python bench/vintages.py [--series 80] [--nights 15]

80 M3 Monthly series (every 17th of the file: its series run from short to long), the last 15 points of
each held back, in one SQLite store. Each night one more point of every series is ingested and
`forecast predict` issues the group's vintages (no network: each series' best baseline or statistical
peer by backtest, with 80 and 95% intervals and nine quantiles, h = 18). After the nights, the store's
vintages are measured: the `forecast` and `vintage_points` tables, bytes with their indexes (SQLite's
dbstat through `db info`), after a vacuum. The reference: a
copy of the same store taken back to revision 0010 — a row per point (its bounds and quantiles as compact
JSON at the same eight digits), the layout before — vacuumed and measured the same way. Also timed on the
packed store (median of three): `forecast score` (every vintage read and scored) and `forecast export
--all` (every point written out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.night import GROUPS, held_back  # noqa: E402
from db import light  # noqa: E402

RECUR = [sys.executable, str(ROOT / "cli.py")]
M3 = GROUPS[1]


def recur(home: Path, *args: str) -> dict:
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("RECUR_DB", None)
    done = subprocess.run([*RECUR, "--json", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"recur {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def ingest(home: Path, path: Path) -> None:
    long = ("--id-col", "unique_id", "--time-col", "ds", "--value-col", "y")
    recur(home, "series", "ingest", str(path), "--name", M3.name, *long)


def build(home: Path, work: Path, n_series: int, nights: int) -> None:
    each = held_back(M3, n_series, nights, work)
    ingest(home, work / f"{M3.name}.csv")
    for k, rows in enumerate(each, 1):
        rows.to_csv(work / "night.csv", index=False)
        ingest(home, work / "night.csv")
        recur(home, "forecast", "predict", M3.name, "--horizon", str(M3.horizon), "--season", str(M3.season))
        print(f"  night {k}: {len(rows)} vintages", flush=True)


def table_bytes(home: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Rows and bytes per table with its indexes, after a vacuum (what `db info` lists)."""
    recur(home, "db", "vacuum")
    info = recur(home, "db", "info")
    return info["rows"], info["table_bytes"]


def as_rows(home: Path, copy: Path) -> dict[str, int]:
    """The same store taken back to the row-per-point layout (revision 0010), then measured."""
    from alembic import command
    from sqlalchemy import create_engine

    from db.schema import _alembic_config

    copy.mkdir(mode=0o700)
    shutil.copy(home / "recur.db", copy / "recur.db")
    engine = create_engine(f"sqlite:///{copy / 'recur.db'}")
    with engine.connect() as conn, conn.begin():
        command.downgrade(_alembic_config(conn), "0010")
    engine.dispose()
    with sqlite3.connect(copy / "recur.db") as conn:
        conn.execute("VACUUM")
        return light.table_bytes(conn)


def timed(home: Path, *args: str) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        recur(home, *args)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=80)
    parser.add_argument("--nights", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp) / "home", Path(tmp)
        build(home, work, args.series, args.nights)
        counts, packed = table_bytes(home)
        vintages = counts["forecast"]
        points = vintages * M3.horizon
        rows = as_rows(home, Path(tmp) / "rows")
        score_s = timed(home, "forecast", "score", M3.name)
        export_s = timed(home, "forecast", "export", M3.name, "--all", "--out", str(work / "all.csv"))
    before = rows.get("forecast", 0) + rows.get("forecast_point", 0)
    after = packed["forecast"] + packed.get("vintage_points", 0)
    print(f"{vintages} vintages, {points} points (M3 Monthly, {args.series} series, {args.nights} nights)")
    print(f"  rows of points (revision 0010): {before / 1e6:6.2f} MB  {before / points:6.1f} bytes a point")
    print(f"  packed, a row a vintage:        {after / 1e6:6.2f} MB  {after / points:6.1f} bytes a point")
    print(f"  ratio {before / after:.2f}x smaller")
    print(f"  forecast score {score_s:.2f} s, forecast export --all {export_s:.2f} s (median of 3)")


if __name__ == "__main__":
    main()
