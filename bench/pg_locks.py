"""Two nightly runs of different subjects at once on one PostgreSQL store: how long each waits for recur's
write lock (the one transaction-level advisory lock every write transaction takes), against its wall time.
If the waits are a small share of the night, one lock for every write is not the bottleneck.

    tools/pg.sh run .venv/bin/python bench/pg_locks.py [--epochs 2]

The subjects are M4 Weekly (359 series) and M3 Monthly (1,428 series) as groups, their training parts; each
night is retrain (a global GRU, no statistical peers: cheap, the writes are what is measured) → predict →
score, as the `nightly` task runs them, in a process of its own, both started together on the two cores.
Each process times every `pg_advisory_xact_lock` statement (SQLAlchemy's cursor events): the time from
asking for the lock to holding it, and from holding it to the transaction's end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
SUBJECTS = {"m4": ("m4_weekly_train.csv", 13, 52), "m3": ("m3_monthly_train.csv", 18, 12)}


def night(subject: str, epochs: int) -> dict:
    """One night of `subject` in this process, every wait for the write lock timed."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from core.settings import Settings
    from jobs.tasks import _forecast, _retrain, _score

    waits: list[float] = []  # asking for the lock to holding it
    holds: list[float] = []  # holding it to the end of the transaction

    @event.listens_for(Engine, "before_cursor_execute")
    def _asked(conn, cursor, statement, params, context, many) -> None:
        if "pg_advisory_xact_lock" in statement:
            conn.info["asked"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _held(conn, cursor, statement, params, context, many) -> None:
        if "pg_advisory_xact_lock" in statement:
            conn.info["held"] = time.perf_counter()
            waits.append(conn.info["held"] - conn.info.pop("asked"))

    @event.listens_for(Engine, "commit")
    @event.listens_for(Engine, "rollback")
    def _released(conn) -> None:
        if "held" in conn.info:
            holds.append(time.perf_counter() - conn.info.pop("held"))

    _, horizon, season = SUBJECTS[subject]
    params = {"subject": subject, "model": "gru", "epochs": str(epochs), "horizon": str(horizon)}
    params |= {"season": str(season), "peers": "none", "windows": "2"}
    settings = Settings.resolve()
    started = time.perf_counter()
    steps = {}
    for name, step in (("retrain", _retrain), ("forecast", _forecast), ("score", _score)):
        began = time.perf_counter()
        step(settings, params)
        steps[name] = round(time.perf_counter() - began, 1)
    wall = time.perf_counter() - started
    return {"subject": subject, "wall_s": round(wall, 1), "steps_s": steps, "writes": len(waits)} | {
        "lock_wait_s": round(sum(waits), 3),
        "longest_wait_s": round(max(waits, default=0.0), 3),
        "held_s": round(sum(holds), 3),
        "longest_hold_s": round(max(holds, default=0.0), 3),
    }


def store(admin: str, template: str | None = None) -> str:
    """A fresh database on the server `admin` names (a copy of the database `template` names, when
    given: PostgreSQL's CREATE DATABASE ... TEMPLATE); its URL."""
    from sqlalchemy import create_engine, text

    name = f"bench_{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--night", choices=list(SUBJECTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.night:
        print(json.dumps(night(args.night, args.epochs)))
        return
    admin = os.environ.get("RECUR_TEST_PG")
    if not admin:
        sys.exit("run it under tools/pg.sh run: it needs a PostgreSQL server (RECUR_TEST_PG)")
    with tempfile.TemporaryDirectory() as home:
        env = os.environ | {"RECUR_HOME": home, "RECUR_DB": store(admin)}
        for subject, (file, _, _) in SUBJECTS.items():
            ingest = [sys.executable, str(ROOT / "cli.py"), "series", "ingest", str(SHARED / file)]
            ingest += ["--id-col", "unique_id", "--time-col", "ds", "--value-col", "y", "--name", subject]
            subprocess.run(ingest, env=env, check=True, capture_output=True)
        me = [sys.executable, __file__, "--epochs", str(args.epochs), "--night"]
        started = time.perf_counter()
        procs = [subprocess.Popen([*me, s], env=env, stdout=subprocess.PIPE, text=True) for s in SUBJECTS]
        rows = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        both = time.perf_counter() - started
    print(f"two nights at once on one PostgreSQL store: {both:.1f} s wall in all")
    head = (
        "| subject | wall s | retrain / forecast / score s | writes | waited s (longest) | held s (longest) |"
    )
    print(head + "\n|---|---:|---:|---:|---:|---:|")
    for r in rows:
        s = r["steps_s"]
        steps = f"{s['retrain']} / {s['forecast']} / {s['score']}"
        waited = f"{r['lock_wait_s']} ({r['longest_wait_s']})"
        held = f"{r['held_s']} ({r['longest_hold_s']})"
        print(f"| {r['subject']} | {r['wall_s']} | {steps} | {r['writes']} | {waited} | {held} |")


if __name__ == "__main__":
    main()
