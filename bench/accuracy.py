"""What recur issues, scored the M4 way on held-out data it never trained on, beside every baseline.

    python bench/accuracy.py [--sets m4,m3,etth1-cut,airline,sunspots,melbourne] [--model auto]
                             [--ensemble 1] [--loss mae] [--budget MINUTES] [--tune] [--statsforecast]
                             [--json F]

Each set runs `recur forecast evaluate` (pipelines.evaluation.evaluate_holdout): the last `holdout` points of
every series are hidden, the whole training pipeline (backtest, gate, per-series choice, refit) runs on the
rest with recur's defaults (`--model auto`, `--budget 6`), and the issued forecast, the network alone, each
baseline, the statistical peers (AutoETS, AutoTheta) and the combination are scored by sMAPE, MASE and OWA
(relative to naive2), with the issued intervals' coverage and the time taken (wall, and CPU of this process
and its finished children). `--statsforecast` then runs statsforecast's own API on the same series (AutoETS,
AutoTheta, AutoARIMA, one model at a time, n_jobs=1) as a reference, with each model's CPU seconds.

M4 Weekly: the training part and the official test part (`../shared/data/m4_weekly_*.csv`, 359 series,
h = 13) are ingested as one long-format group, so the holdout is exactly the official test horizon. With
`--tune` the test part is left out and the holdout is the last 13 points of the training part: the set
to choose settings on, before the one number reported on the test part. Frequency m = 1 (integer weeks),
as M4 scores weekly data. M3 Monthly likewise (1,428 series, h = 18, m = 12). `etth1-cut` has the shape of
M4 Hourly (399 series of 700 or 960 hours to train on, h = 48, m = 24), cut from ETTh1's seven columns.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared" / "data"

# name: (files, ingest options, subject, holdout, config)
SETS = {
    "m4": (
        ["m4_weekly_train.csv", "m4_weekly_test.csv"],
        {"id_col": "unique_id", "time_col": "ds", "value_cols": ("y",), "name": "m4"},
        "m4",
        13,
        {},
    ),
    "m3": (
        ["m3_monthly_train.csv", "m3_monthly_test.csv"],
        {"id_col": "unique_id", "time_col": "ds", "value_cols": ("y",), "name": "m3"},
        "m3",
        18,
        {"season": 12},
    ),
    "etth1-cut": (
        ["etth1_cut.csv"],
        {"id_col": "unique_id", "time_col": "ds", "value_cols": ("y",), "name": "etth1-cut"},
        "etth1-cut",
        48,
        {},
    ),
    "airline": (["airline_passengers.csv"], {"name": "airline"}, "airline", 12, {}),
    "sunspots": (["sunspots_yearly.csv"], {"name": "sunspots"}, "sunspots", 11, {"season": 11}),
    "melbourne": (
        ["daily_min_temperatures_melbourne.csv"],
        {"name": "melbourne", "fill": "interpolate"},
        "melbourne",
        14,
        {},
    ),
}


def etth1_cut(path: Path) -> Path:
    """The shape of M4 Hourly from public data: ETTh1's seven columns cut into 399 hourly series, every
    290 hours a new one, alternately 748 and 1,008 hours long (700 or 960 to train on, 48 to hide), in
    long format."""
    import pandas as pd

    frame = pd.read_csv(SHARED / "ETTh1.csv")
    parts = []
    for column in frame.columns[1:]:
        for k, start in enumerate(range(0, len(frame) - 1008 + 1, 290)):
            piece = frame.iloc[start : start + (748 if k % 2 else 1008)]
            parts.append(
                pd.DataFrame({"unique_id": f"{column}_{k:02d}", "ds": piece["date"], "y": piece[column]})
            )
    pd.concat(parts).to_csv(path, index=False)
    return path


def run(name: str, home: Path, args: argparse.Namespace) -> dict:
    from core.settings import Settings
    from forecaster.config import BacktestConfig, ForecastConfig
    from pipelines.evaluation import evaluate_holdout
    from pipelines.forecast import Run
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    files, opts, subject, holdout, extra = SETS[name]
    settings = Settings.resolve(home)
    for file in files[:1] if args.tune else files:
        path = SHARED / file if (SHARED / file).exists() and not (DATA / file).exists() else DATA / file
        if file == "etth1_cut.csv":
            path = etth1_cut(home / file)
        ingest_series(settings, path, IngestOptions(**opts))
    cfg = ForecastConfig(model=args.model, horizon=holdout, ensemble=args.ensemble, loss=args.loss, **extra)
    start, wall = cpu_seconds(), time.monotonic()
    run = Run(progress=lambda line: print(line, flush=True))
    out = evaluate_holdout(settings, subject, cfg, holdout, BacktestConfig(budget=args.budget), run)
    out["cpu_seconds"] = round(cpu_seconds() - start, 1)
    out["wall_seconds"] = round(time.monotonic() - wall, 1)
    out.pop("forecasts")
    if args.statsforecast:
        out["statsforecast"] = statsforecast_reference(settings, subject, holdout, out["season"])
    return out


def cpu_seconds() -> float:
    """This process's CPU time and its finished children's (the statistical peers' worker processes)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def statsforecast_reference(settings, subject: str, holdout: int, season: int) -> dict:
    """statsforecast's own API on the same series, one model at a time in this process (n_jobs=1):
    AutoETS, AutoTheta and AutoARIMA fitted on each series' known part, scored on the hidden points the
    way `evaluate` scores, with each model's CPU seconds."""
    import numpy as np
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    from forecaster import metrics
    from pipelines import forecast_data as fd

    full, known = fd.load(settings, subject), fd.load(settings, subject, holdout=holdout)
    frame = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": np.arange(len(v)), "y": v}) for i, v in enumerate(known.values)
    )
    models = {
        "AutoETS": AutoETS(season_length=season if season <= 24 else 1),
        "AutoTheta": AutoTheta(season_length=season),
        "AutoARIMA": AutoARIMA(season_length=season),
    }
    out = {}
    for label, model in models.items():
        start = time.process_time()
        pred = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame, h=holdout)
        cpu = time.process_time() - start
        forecasts = (
            pred.sort_values(["unique_id", "ds"])[label].to_numpy().reshape(len(known.values), holdout)
        )
        actual = [v[-holdout:] for v in full.values]
        scales = [metrics.naive_scale(v, season) for v in known.values]
        smape = np.mean([metrics.smape(a, f) for a, f in zip(actual, forecasts, strict=True)])
        mase = np.mean([metrics.mase(a, f, c) for a, f, c in zip(actual, forecasts, scales, strict=True)])
        out[label] = {"smape": float(smape), "mase": float(mase), "cpu_seconds": round(cpu, 1)}
        print(f"statsforecast {label}: sMAPE {smape:.3f}, MASE {mase:.3f}, {cpu:.1f} CPU s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="m4,m3,airline,sunspots,melbourne")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--ensemble", type=int, default=1)
    parser.add_argument("--loss", default="mae", help="mae, mse, or pinball (quantile heads).")
    parser.add_argument("--budget", type=float, default=6.0, help="Minutes of network training (0: none).")
    parser.add_argument("--tune", action="store_true", help="M4: hold out the training part's last 13")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument(
        "--statsforecast",
        action="store_true",
        help="Also run statsforecast's own API, timed, as a reference.",
    )
    args = parser.parse_args()
    results = {}
    for name in args.sets.split(","):
        home = Path(tempfile.mkdtemp(prefix=f"recur-acc-{name}-"))
        try:
            results[name] = run(name, home, args)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        r = results[name]
        print(f"\n## {name}: holdout {r['holdout']}, {r['series']} series, season {r['season']}")
        print(f"model {r['model']}, promoted {r['promoted']}: {r['reason']}")
        print(f"served: {r['served']}; {r['wall_seconds']} s wall, {r['cpu_seconds']} s CPU")
        print("| method | sMAPE | MASE | OWA | WQL | MSIS |\n|---|---:|---:|---:|---:|---:|")
        for method, s in r["scores"].items():
            row = f"{s['smape']:.3f} | {s['mase']:.3f} | {s['owa']:.3f} | {s['wql']:.4f} | {s['msis']:.3f}"
            print(f"| {method} | {row} |")
        print(f"coverage: {r['coverage']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
