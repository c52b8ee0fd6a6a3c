"""What one more node buys, and what the store costs: the numbers docs/SCALE.md stands on.

    python bench/scale.py [--series 300] [--epochs 2] [--postgres auto] [--skip-nightly]

(a) A nightly over --series M4 weekly series (../shared/data/m4_weekly_train.csv), each a subject of its
    own: `forecast train --all` then `forecast predict --all`, run as a user runs them, with `local` (one
    process, here) and with `ray` on 1 and on 2 worker nodes of one CPU each (a head that runs no tasks, as
    on a real cluster), each on a copy of the same SQLite store; wall seconds, series per minute, and the
    ratio against `local`, side by side in one run.
(b) The store: ingest of the whole M4 weekly training set (one long file, 359 series), model versions
    registered with a real forecaster's artifact, and forecast vintages of 13 points with intervals, on
    SQLite and on PostgreSQL; rows or versions per second.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
M4 = ROOT.parent / "shared" / "data" / "m4_weekly_train.csv"
RECUR = [sys.executable, str(ROOT / "cli.py")]


def split_m4(n: int, folder: Path) -> list[Path]:
    """The first n M4 weekly series, one file each (a subject of its own, not one group)."""
    import pandas as pd

    frame = pd.read_csv(M4)
    files = []
    for name in list(dict.fromkeys(frame["unique_id"]))[:n]:
        path = folder / f"{name}.csv"
        frame.loc[frame["unique_id"] == name, ["ds", "y"]].to_csv(path, index=False)
        files.append(path)
    return files


def prepared_store(n: int, work: Path) -> Path:
    from core.settings import Settings
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    (work / "series").mkdir()
    home = work / "prepared"
    settings = Settings.resolve(home)
    for path in split_m4(n, work / "series"):
        ingest_series(settings, path, IngestOptions(name=path.stem))
    return home


def nightly(home: Path, executor: list[str], epochs: int) -> tuple[float, float]:
    """(train seconds, predict seconds) of the nightly's two commands over every subject."""
    import os

    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    train = [*RECUR, *executor, "forecast", "train", "--all", "--horizon", "13", "--model", "gru"]
    train += ["--epochs", str(epochs), "--units", "16", "--windows", "2"]
    times = []
    for command in (train, [*RECUR, *executor, "forecast", "predict", "--all"]):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command[2:])} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return times[0], times[1]


def nightly_side_by_side(n: int, epochs: int, work: Path, configs: tuple[int, ...]) -> None:
    """Each configuration on a copy of the same store, one after another, each row printed when done
    (two worker nodes first, then local, then one node)."""
    from tests.cluster import Cluster

    prepared = prepared_store(n, work)
    print(f"(a) nightly over {n} M4 weekly series, each its own subject (train --all, then predict --all)")
    local = None
    for nodes in configs:
        home = work / f"nodes{nodes}"
        shutil.copytree(prepared, home)
        if nodes == 0:
            train, predict = nightly(home, [], epochs)
            name, local = "local (one warm worker process)", (train + predict) / n
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"  local: peak memory of one process of the nightly: {peak:.0f} MB")
        else:
            cluster = Cluster(head_cpus=0)
            try:
                for i in range(nodes):
                    cluster.add_node(f"worker{i}")
                executor = ["--executor", "ray", "--ray-address", cluster.address]
                train, predict = nightly(home, executor, epochs)
            finally:
                cluster.stop()
            name = f"ray, {nodes} worker node(s) x 1 CPU"
        per = (train + predict) / n
        ratio = f"  local / this {local / per:4.2f}x" if local else ""
        print(
            f"  {name:32s} train {train:7.1f} s  predict {predict:6.1f} s  "
            f"{60 / per:6.1f} series/min  {per:5.2f} s/series{ratio}",
            flush=True,
        )


def store_throughput(label: str, url: str | None, home: Path) -> None:
    """Ingest, registry and vintage writes into one store."""
    import numpy as np

    from core.settings import Settings
    from db import registry
    from db.engine import write_session
    from db.forecasts import Points, upsert_forecast
    from db.series import list_series
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    settings = Settings.resolve(home, url)
    started = time.perf_counter()
    opts = IngestOptions(name="m4", id_col="unique_id", time_col="ds", value_cols=("y",))
    n_rows = ingest_series(settings, M4, opts).rows_read
    ingest_s = time.perf_counter() - started
    artifact = np.random.default_rng(0).bytes(120_000)  # a GRU forecaster's weights are ~100 kB
    started = time.perf_counter()
    for i in range(200):
        with write_session(settings) as session:
            version = registry.add_version(
                session,
                artifact=artifact,
                kind="forecaster",
                subject=f"s{i}",
                architecture="gru",
                config={},
                metrics={},
            )
            registry.promote(session, version)
    registry_s = time.perf_counter() - started
    with write_session(settings) as session:
        ids = [s.id for s in list_series(session)]
    started = time.perf_counter()
    for sid in ids:
        with write_session(settings) as session:
            stamps = list(range(10_000, 10_013))
            bounds = [{"80": [0.0, 2.0], "95": [-1.0, 3.0]}] * 13
            quantiles = [{"0.1": 0.0, "0.5": 1.0, "0.9": 2.0}] * 13
            points = Points(stamps, [1.0] * 13, bounds, quantiles)
            upsert_forecast(session, sid, None, "naive", 9_999, points)
    vintage_s = time.perf_counter() - started
    print(
        f"  {label:10s} ingest {n_rows} rows in {ingest_s:5.2f} s ({n_rows / ingest_s:7.0f} rows/s)"
        f"  registry {200 / registry_s:6.1f} versions/s  vintages {len(ids) / vintage_s:6.1f}/s "
        f"({13 * len(ids) / vintage_s:7.0f} points/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--postgres", help="a server's URL, or auto (tools/pg.sh starts one); default: skip")
    parser.add_argument("--skip-nightly", action="store_true")
    parser.add_argument(
        "--nodes", default="2,0,1", help="the configurations, in order: Ray worker nodes, 0 for local"
    )
    args = parser.parse_args()
    from bench.ingest import fresh_database, postgres

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_nightly:
            configs = tuple(int(x) for x in args.nodes.split(","))
            nightly_side_by_side(args.series, args.epochs, work, configs)
        print("(b) the store: M4 weekly ingest (one long file), 200 model versions, a vintage per series")
        store_throughput("SQLite", None, work / "sqlite")
        if args.postgres:
            with postgres(args.postgres, work) as admin:
                store_throughput("PostgreSQL", fresh_database(admin, "scale_bench"), work / "pg")


if __name__ == "__main__":
    main()
