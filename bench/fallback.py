"""Nightly forecasts with no champion: each series' method kept from the backtest that chose it, against
the backtest of every method on every series run again every night (what recur did before).

    python bench/fallback.py [--nights 3] [--m4 359] [--m3 1428]

For each group (M4 Weekly, 359 series, h 13, m 52; M3 Monthly, 1,428 series, h 18, m 12; --m4/--m3 take
every k-th series), the last N points of every series are held back and the rest ingested into two SQLite
stores with no model. Each night one more point of every series is ingested into both, and `forecast
predict GROUP --horizon H --season M` runs in each, back to back, nothing else running: in "kept" as recur
runs it; in "afresh" after the stored choices are cleared (`forecast.chosen_ts` set to NULL), so its
backtest chooses again, as it did every night before. Printed per night: the wall seconds of each, whether
the kept store kept its choice, and the series whose issued method differs between the two.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.night import GROUPS, held_back  # noqa: E402
from bench.vintages import recur  # noqa: E402

LONG = ("--id-col", "unique_id", "--time-col", "ds", "--value-col", "y")


def predict(home: Path, group, afresh: bool) -> tuple[float, dict]:
    if afresh:
        with sqlite3.connect(home / "recur.db") as conn:
            conn.execute("UPDATE forecast SET chosen_ts = NULL")
    started = time.perf_counter()
    out = recur(
        home,
        "forecast",
        "predict",
        group.name,
        "--horizon",
        str(group.horizon),
        "--season",
        str(group.season),
    )
    return time.perf_counter() - started, out


def one_group(group, n_series: int, nights: int, work: Path) -> None:
    each = held_back(group, n_series, nights, work)
    homes = {arm: work / arm for arm in ("kept", "afresh")}
    for home in homes.values():
        recur(home, "series", "ingest", str(work / f"{group.name}.csv"), "--name", group.name, *LONG)
    print(f"\n{group.name}: {each[0].shape[0]} series, h {group.horizon}, m {group.season}")
    print("| night | kept: s | kept the choice | afresh: s | afresh / kept | methods that differ |")
    print("|---:|---:|---|---:|---:|---:|")
    for night, rows in enumerate(each, 1):
        rows.to_csv(work / "night.csv", index=False)
        for home in homes.values():
            recur(home, "series", "ingest", str(work / "night.csv"), "--name", group.name, *LONG)
        kept_s, kept = predict(homes["kept"], group, afresh=False)
        afresh_s, afresh = predict(homes["afresh"], group, afresh=True)
        methods = [
            (a["method"], b["method"]) for a, b in zip(kept["forecasts"], afresh["forecasts"], strict=True)
        ]
        differ = sum(a != b for a, b in methods)
        how = "yes" if kept["chosen"]["kept"] else "no (chose)"
        print(
            f"| {night} | {kept_s:.1f} | {how} | {afresh_s:.1f} | {afresh_s / kept_s:.1f}× | "
            f"{differ} of {len(methods)} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--m4", type=int, default=359, help="M4 Weekly series (of 359)")
    parser.add_argument("--m3", type=int, default=1428, help="M3 Monthly series (of 1,428)")
    args = parser.parse_args()
    for group, n in zip(GROUPS, (args.m4, args.m3), strict=True):
        with tempfile.TemporaryDirectory() as tmp:
            one_group(group, n, args.nights, Path(tmp))


if __name__ == "__main__":
    main()
