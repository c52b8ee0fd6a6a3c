"""Thirty nights of a many-series store, measured: what the store grows by with and without retention, and
what a night costs, on a three-node local Ray cluster over one PostgreSQL store.

    tools/pg.sh run .venv/bin/python bench/night.py [--nights 30] [--arms without,with] [--m4 359] [--m3 1428]

One cluster: `ray start --head` (no CPUs: it schedules, runs no tasks) and two `ray start --address`
workers of one CPU each. M4 Weekly (359 series, h 13) and M3 Monthly (1,428 series, h 18) are two groups,
each with the last N points of every series (training and test parts joined) held back; --m4/--m3 take
every k-th series for a smaller night (the files run from short series to long). Set-up: each group
trained once with recur's defaults (`forecast train GROUP --horizon H --season M`: auto, the statistical
peers, the combination), both at once on the cluster — the champion a user starts with. Each arm then runs
on a copy of that store (`CREATE DATABASE ... TEMPLATE`), the arms one after the other. A night is what a
user's schedules run:

1. each group's next point (one row per series, the long layout) is dropped into incoming/<group>.csv;
2. the two groups' `nightly` schedules run at once (`recur --executor ray jobs run`, one Ray task each on
   the workers): ingest → retrain a challenger (a GRU, 5 epochs, no peers: seconds, not the set-up's
   minutes) → gate (promote only if it beats the baselines and the champion) → forecast with the
   champion → score every past vintage → report;
3. with retention, the `maintenance` schedule (models prune, forecast prune, vacuum) under recur's default
   policy; without, nothing (PostgreSQL's autovacuum as always).

The store ages a data step per night: a night of weekly data stands for a week of a user's calendar, of
monthly data for a month (30 days), so each group's rows (versions' creation and promotion times, vintages'
issue times) are moved back that far after each night's runs, before its maintenance (only the rows
whose age retention still decides on: see Store.age). The policy's ages (14 days, 90 days) then mean what
they would for a user, with a run per new data point. Measured per night: wall seconds of the nightlies
and of the maintenance, CPU seconds of the whole machine (/proc/stat: Ray, PostgreSQL and the commands,
nothing else running), the store's bytes (recur's tables, `db info`), and failed runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
RECUR = [sys.executable, str(ROOT / "cli.py")]
LONG = ("unique_id", "ds", "y")
CHALLENGER_EPOCHS = 5  # the nightly challenger: a GRU, no statistical peers (the champion has them)


@dataclass(frozen=True)
class Group:
    name: str
    data: str  # ../shared/data/<data>_{train,test}.csv
    horizon: int
    season: int
    step_days: int  # the calendar a night of this data stands for


GROUPS = (Group("m4", "m4_weekly", 13, 52, 7), Group("m3", "m3_monthly", 18, 12, 30))


def held_back(group: Group, n_series: int, nights: int, work: Path) -> list:
    """Writes <work>/<group>.csv (each series but its last `nights` points); returns each night's rows."""
    import pandas as pd

    parts = [pd.read_csv(SHARED / f"{group.data}_{p}.csv") for p in ("train", "test")]
    frame = pd.concat(parts).sort_values(["unique_id", "ds"], kind="stable")
    ids = list(dict.fromkeys(parts[0]["unique_id"]))
    keep = ids[:: max(1, len(ids) // n_series)][:n_series]  # spread over the set: its files run by length
    frame = frame[frame["unique_id"].isin(keep)]
    rank = frame.groupby("unique_id").cumcount(ascending=False)  # 0: the series' last point
    frame[rank >= nights].to_csv(work / f"{group.name}.csv", index=False)
    return [frame[rank == nights - k] for k in range(1, nights + 1)]


def cpu_seconds() -> float:
    """Every CPU's busy time since boot (user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7))
    return busy / os.sysconf("SC_CLK_TCK")


class Store:
    """recur's commands against one store, on the cluster."""

    def __init__(self, home: Path, url: str, address: str) -> None:
        self.env = os.environ | {"RECUR_HOME": str(home), "RECUR_DB": url, "PYTHONPATH": str(ROOT)}
        self.ray = ["--executor", "ray", "--ray-address", address]
        self.url = url

    def run(self, *args: str, ray: bool = False) -> subprocess.Popen:
        command = [*RECUR, "--json", *(self.ray if ray else []), *args]
        return subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def __call__(self, *args: str, ray: bool = False) -> dict:
        proc = self.run(*args, ray=ray)
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"recur {' '.join(args)} failed:\n{out[-2000:]}{err[-2000:]}")
        return json.loads(out)

    def age(self, group: Group) -> None:
        """The group's versions and vintages a data step older (the calendar moves on). Only the rows whose
        age retention still decides on: versions holding their bytes, vintages holding their points. A
        pruned version's or a frozen vintage's date decides nothing any more, and re-dating every row
        each night would leave a dead copy of each (PostgreSQL writes a new row version on every UPDATE)
        that a real store, whose rows age without being written, never has."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        days = f"interval '{group.step_days} days'"
        subject = "(subject = :g OR subject LIKE :members) AND status = 'ready'"
        series = "series_id IN (SELECT id FROM series WHERE name LIKE :members) AND scores IS NULL"
        with engine.begin() as conn:
            names = {"g": group.name, "members": f"{group.name}/%"}
            conn.execute(
                text(
                    f"UPDATE model_version SET created_at = created_at - {days}, "
                    f"promoted_at = promoted_at - {days} WHERE {subject}"
                ),
                names,
            )
            conn.execute(text(f"UPDATE forecast SET issued_at = issued_at - {days} WHERE {series}"), names)
        engine.dispose()


def schedules(store: Store, work: Path, retention: bool) -> None:
    for g in GROUPS:
        params = {"subject": g.name, "path": work / "incoming" / f"{g.name}.csv", "horizon": g.horizon}
        params |= {
            "season": g.season,
            "model": "gru",
            "epochs": CHALLENGER_EPOCHS,
            "windows": 2,
            "peers": "none",
        }
        params |= {"budget": 0, "id_col": LONG[0], "time_col": LONG[1], "value_col": LONG[2]}
        pairs = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
        store("jobs", "add", f"{g.name}-nightly", "--task", "nightly", "--cron", "0 2 * * *", *pairs)
    if retention:
        store("jobs", "add", "tidy", "--task", "maintenance", "--cron", "0 5 * * *", "--param", "vacuum=true")


def one_night(store: Store, work: Path, rows: dict, retention: bool) -> dict:
    for g in GROUPS:
        rows[g.name].to_csv(work / "incoming" / f"{g.name}.csv", index=False)
    cpu, started = cpu_seconds(), time.perf_counter()
    procs = {g.name: store.run("jobs", "run", f"{g.name}-nightly", ray=True) for g in GROUPS}
    runs = {name: json.loads(p.communicate()[0] or "{}") for name, p in procs.items()}
    night = {"nightly_s": round(time.perf_counter() - started, 1)}
    night["failed"] = [n for n, r in runs.items() if r.get("status") != "succeeded"]
    night["errors"] = {n: r.get("error") for n, r in runs.items() if r.get("status") != "succeeded"}
    night["promoted"] = [
        n for n, r in runs.items() if (r.get("outputs") or {}).get("retrain", {}).get("promoted")
    ]
    for g in GROUPS:  # before the maintenance, whose vacuum then reclaims the re-dated rows' old copies
        store.age(g)
    began = time.perf_counter()
    if retention:
        tidy = store("jobs", "run", "tidy")
        night["failed"] += [] if tidy.get("status") == "succeeded" else ["tidy"]
        night["pruned"] = (tidy.get("outputs") or {}).get("pruned", 0)
        night["points_deleted"] = (tidy.get("outputs") or {}).get("points_deleted", 0)
    night["maintenance_s"] = round(time.perf_counter() - began, 1)
    night["cpu_s"] = round(cpu_seconds() - cpu, 1)
    sizes = store("db", "info")["table_bytes"]
    night["bytes"] = sum(sizes.values())
    night["top"] = dict(list(sizes.items())[:4])
    return night


def set_up(store: Store, work: Path) -> dict:
    """Each group ingested and trained once with recur's defaults, both at once on the cluster: the
    champion a user starts the nights with."""
    for g in GROUPS:
        store("series", "ingest", str(work / f"{g.name}.csv"), "--name", g.name, "--id-col", LONG[0])
    started = time.perf_counter()
    train = {
        g.name: ["forecast", "train", g.name, "--horizon", str(g.horizon), "--season", str(g.season)]
        for g in GROUPS
    }
    procs = {name: store.run(*args, ray=True) for name, args in train.items()}
    done = {}
    for name, p in procs.items():
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"set-up of {name} failed:\n{out[-2000:]}{err[-2000:]}")
        done[name] = json.loads(out)
    out = {name: {k: d[k] for k in ("model", "promoted", "served")} for name, d in done.items()}
    return out | {"wall_s": round(time.perf_counter() - started, 1)}


def arm(store: Store, work: Path, each: dict, nights: int, retention: bool) -> list[dict]:
    for g in GROUPS:
        each[g.name][0].to_csv(work / "incoming" / f"{g.name}.csv", index=False)  # a schedule's path exists
    schedules(store, work, retention)
    done = []
    for k in range(nights):
        night = one_night(store, work, {g: each[g][k] for g in each}, retention)
        done.append(night | {"night": k + 1})
        print(json.dumps(done[-1]), flush=True)
    return done


def bench(admin: str, nights: int, series: dict, arms: list[str]) -> dict[str, list[dict]]:
    from bench.pg_locks import store as fresh_database
    from tests.cluster import Cluster

    cluster = Cluster(head_cpus=0)
    try:
        for i in range(2):
            cluster.add_node(f"worker{i}")
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "incoming").mkdir()
            each = {g.name: held_back(g, series[g.name], nights, work) for g in GROUPS}
            base = fresh_database(admin)
            print(
                "# set-up:", json.dumps(set_up(Store(work / "home", base, cluster.address), work)), flush=True
            )
            results = {}
            for which in arms:
                print(f"# {which} retention", flush=True)
                store = Store(work / which, fresh_database(admin, base), cluster.address)
                results[which] = arm(store, work, each, nights, which == "with")
            return results
    finally:
        cluster.stop()


def table(label: str, done: list[dict]) -> None:
    first, last = done[0]["bytes"], done[-1]["bytes"]
    walls = [n["nightly_s"] + n["maintenance_s"] for n in done]
    failed = sum(len(n["failed"]) for n in done)
    print(
        f"| {label} | {first / 1e6:.1f} | {last / 1e6:.1f} | {last / first:.2f}x | "
        f"{sum(walls) / len(walls):.0f} ({max(walls):.0f}) | "
        f"{sum(n['cpu_s'] for n in done) / len(done):.0f} | {failed} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--arms", default="without,with", help="without, with, or both in that order")
    parser.add_argument("--m4", type=int, default=359, help="M4 Weekly series (of 359)")
    parser.add_argument("--m3", type=int, default=1428, help="M3 Monthly series (of 1,428)")
    args = parser.parse_args()
    admin = os.environ.get("RECUR_TEST_PG")
    if not admin:
        sys.exit("run it under tools/pg.sh run: it needs a PostgreSQL server (RECUR_TEST_PG)")
    series = {"m4": args.m4, "m3": args.m3}
    results = bench(admin, args.nights, series, args.arms.split(","))
    print(f"\n{args.nights} nights, M4 Weekly {args.m4} + M3 Monthly {args.m3} series")
    head = "| retention | MB after night 1 | MB after the last | ratio | wall s a night, mean (max) |"
    print(head + " CPU s a night | failed runs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for which, done in results.items():
        table(which, done)


if __name__ == "__main__":
    main()
