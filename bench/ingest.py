"""Ingest speed and memory, and how fast the light commands answer.

    python bench/ingest.py [--rows 1000000] [--repeat 3] [--big-rows 10000000]

1. A 1,000,000-row single-series CSV: recur's ingest (validation included) against the bare reference, a
   `pandas.read_csv` plus `sqlite3.executemany` into an equivalent table (same WAL/synchronous settings,
   same WITHOUT ROWID primary key), run alternately in the same process; medians and the ratio.
2. The same file into PostgreSQL (`--postgres URL` of a server, or `auto` to start one with tools/pg.sh):
   recur's ingest (COPY, in the ingest's one transaction) against `pandas.read_csv` plus a bare binary
   `COPY FROM STDIN` into an equivalent table, each into a fresh database on the same server, alternately.
3. Peak memory (max RSS of a child process) ingesting a --big-rows file (0 skips it).
4. Median wall time of `recur --help`, `series list`, `corpus list`, `db info` over 10 runs each.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
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


def make_csv(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    chunk = 1_000_000
    with open(path, "w") as fh:
        fh.write("time,value\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            stamps = pd.date_range("2000-01-01", periods=rows, freq="min")[start : start + n]
            values = np.round(np.sin(np.arange(start, start + n) / 100.0) * 50 + 100, 4)
            pd.DataFrame({"time": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": values}).to_csv(
                fh, header=False, index=False
            )


def reference(csv: Path, db: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE observation (series_id INTEGER, ts TEXT, value REAL, "
        "PRIMARY KEY (series_id, ts)) WITHOUT ROWID"
    )
    frame = pd.read_csv(csv)
    rows = zip([1] * len(frame), frame.iloc[:, 0].tolist(), frame.iloc[:, 1].tolist(), strict=True)
    with conn:
        conn.executemany("INSERT INTO observation VALUES (?, ?, ?)", rows)
    conn.close()
    return time.perf_counter() - started


def recur_ingest(csv: Path, home: Path) -> float:
    from core.settings import Settings
    from db.engine import engine_of
    from pipelines.ingest import IngestOptions, ingest_series

    settings = Settings.resolve(home)
    engine_of(settings).dispose()  # creates the schema: not part of an ingest
    started = time.perf_counter()
    report = ingest_series(settings, csv, IngestOptions(name="bench"))
    elapsed = time.perf_counter() - started
    assert report.series[0].n_obs > 0
    engine_of(settings).dispose()
    return elapsed


def speed(rows: int, repeat: int, work: Path) -> None:
    csv = work / "one.csv"
    make_csv(csv, rows)
    ref, ours = [], []
    for i in range(repeat):
        ref.append(reference(csv, work / f"ref{i}.db"))
        ours.append(recur_ingest(csv, work / f"home{i}"))
        (work / f"ref{i}.db").unlink()
        shutil.rmtree(work / f"home{i}")
    r, o = statistics.median(ref), statistics.median(ours)
    print(f"ingest {rows:,} rows: reference read_csv+executemany median {r:.2f} s, recur median {o:.2f} s")
    print(f"  runs: reference {[round(x, 2) for x in ref]}, recur {[round(x, 2) for x in ours]}")
    print(f"  ratio recur/reference: {o / r:.2f}x (target <= 1.50x)")


def fresh_database(admin: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def pg_reference(csv: Path, url: str, foreign_key: bool) -> float:
    """read_csv and a binary COPY into a table with recur's primary key, and (foreign_key) recur's
    reference to its series: PostgreSQL checks that reference row by row, which costs more than the COPY."""
    import pandas as pd
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("CREATE TABLE series (id int4 PRIMARY KEY)")
        conn.execute("INSERT INTO series VALUES (1)")
        ref = " REFERENCES series (id) ON DELETE CASCADE" if foreign_key else ""
        columns = f"series_id int4{ref}, ts int8, value float8, PRIMARY KEY (series_id, ts)"
        conn.execute(f"CREATE TABLE observation ({columns})")
    started = time.perf_counter()
    frame = pd.read_csv(csv)
    ts = pd.to_datetime(frame.iloc[:, 0]).astype("datetime64[s]").astype("int64")
    with (
        psycopg.connect(plain) as conn,
        conn.cursor() as cur,
        cur.copy("COPY observation FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int4", "int8", "float8"])
        for t, v in zip(ts.tolist(), frame.iloc[:, 1].tolist(), strict=True):
            copy.write_row((1, t, v))
    return time.perf_counter() - started


def pg_speed(rows: int, repeat: int, work: Path, admin: str) -> None:
    from core.settings import Settings
    from db.engine import engine_of
    from pipelines.ingest import IngestOptions, ingest_series

    csv = work / "one.csv"
    if not csv.exists():
        make_csv(csv, rows)
    ref, bare, ours = [], [], []
    for i in range(repeat):
        ref.append(pg_reference(csv, fresh_database(admin, f"bench_ref{i}"), foreign_key=True))
        bare.append(pg_reference(csv, fresh_database(admin, f"bench_bare{i}"), foreign_key=False))
        settings = Settings.resolve(work / f"pg{i}", fresh_database(admin, f"bench_recur{i}"))
        engine_of(settings).dispose()  # creates the schema: not part of an ingest
        started = time.perf_counter()
        ingest_series(settings, csv, IngestOptions(name="bench"))
        ours.append(time.perf_counter() - started)
        engine_of(settings).dispose()
    r, b, o = statistics.median(ref), statistics.median(bare), statistics.median(ours)
    print(
        f"PostgreSQL ingest {rows:,} rows, medians: recur {o:.2f} s; read_csv+COPY into an equivalent table "
        f"(primary key and foreign key) {r:.2f} s; the same without the foreign key {b:.2f} s"
    )
    runs = {k: [round(x, 2) for x in v] for k, v in (("recur", ours), ("equivalent", ref), ("bare", bare))}
    print(f"  runs: {runs}")
    print(
        f"  ratio recur/equivalent: {o / r:.2f}x (target <= 1.50x); "
        f"recur/without the foreign key {o / b:.2f}x"
    )


def memory(rows: int, work: Path) -> None:
    csv = work / "big.csv"
    make_csv(csv, rows)
    code = (
        "import sys; from core.settings import Settings;"
        "from pipelines.ingest import IngestOptions, ingest_series;"
        f"ingest_series(Settings.resolve({str(work / 'bighome')!r}), {str(csv)!r}, IngestOptions(name='big'))"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)}
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"ingest {rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB): {elapsed:.1f} s, "
        f"peak RSS {peak_mb:.0f} MB (target < 1024 MB)"
    )


def light_commands(work: Path) -> None:
    home = work / "lighthome"
    env = os.environ | {"RECUR_HOME": str(home)}
    recur = [sys.executable, str(ROOT / "cli.py")]
    subprocess.run(
        [*recur, "series", "ingest", str(ROOT / "data" / "ETTh1.csv")],
        env=env,
        check=True,
        capture_output=True,
    )
    for args in (["--help"], ["series", "list"], ["corpus", "list"], ["db", "info"]):
        times = []
        for _ in range(10):
            started = time.perf_counter()
            subprocess.run([*recur, *args], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        print(
            f"recur {' '.join(args):12s} median {statistics.median(times) * 1000:4.0f} ms (target < 500 ms)"
        )


@contextlib.contextmanager
def postgres(url: str, work: Path):
    if url != "auto":
        yield url
        return
    os.chmod(work, 0o755)  # the server runs as postgres when this runs as root
    started = subprocess.run([ROOT / "tools" / "pg.sh", "start", work / "pg"], capture_output=True, text=True)
    if started.returncode:
        raise SystemExit(f"could not start PostgreSQL: {started.stderr}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([ROOT / "tools" / "pg.sh", "stop", work / "pg"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--postgres", help="a server's URL, or auto (tools/pg.sh starts one); default: skip")
    parser.add_argument("--only-postgres", action="store_true", help="part 2 alone")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recur-bench-"))
    try:
        if args.postgres:
            with postgres(args.postgres, work) as admin:
                pg_speed(args.rows, args.repeat, work, admin)
            if args.only_postgres:
                return
        speed(args.rows, args.repeat, work)
        if args.big_rows:
            memory(args.big_rows, work)
        light_commands(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
