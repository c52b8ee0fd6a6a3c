"""Forecast accuracy of every architecture, of `auto` and of the baselines on the bundled data sets, and
training throughput of recur's pipeline against a bare Keras `fit`.

    python bench/forecast.py [--sets airline,sunspots,melbourne,etth1] [--archs gru,lstm] [--epochs 40]

For each set: a rolling-origin backtest through the same functions `recur forecast train` runs (one model
trained before the first origin, every origin forecast in one batch), sMAPE and MASE per method. `auto`
is what `--model auto` keeps: the best of its candidates (gru, lstm, attention) by backtest MASE.
Throughput: the pipeline's `train` (callbacks, validation) against `model.fit` of the same model on the
same train and validation arrays, same epochs, side by side; windows/s and the ratio.
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

# name: (file, ingest options, config, windows, stride)
SETS = {
    "airline": ("airline_passengers.csv", {}, {"lookback": 24, "horizon": 12}, 5, 12),
    "sunspots": ("sunspots_yearly.csv", {}, {"lookback": 33, "horizon": 11, "season": 11}, 5, 11),
    "melbourne": (
        "daily_min_temperatures_melbourne.csv",
        {"fill": "interpolate"},
        {"lookback": 56, "horizon": 14},
        20,
        14,
    ),
    # ETTh1: OT from its own history and the six load columns; rolling windows over the last 20%.
    "etth1": ("ETTh1.csv", {}, {"lookback": 96, "horizon": 24, "covariates": ("group",)}, 145, 24),
}
ARCHS = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "seq2seq")


def load_set(name: str, home: Path):
    from core.settings import Settings
    from pipelines import forecast_data as fd
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    file, opts, cfg, windows, stride = SETS[name]
    settings = Settings.resolve(home)
    ingest_series(settings, DATA / file, IngestOptions(name=name, **opts))
    subject_name = f"{name}/OT" if name == "etth1" else name
    subject = fd.load(settings, subject_name, cfg.get("covariates", ()))
    return subject, cfg, windows, stride


def accuracy(name: str, home: Path, epochs: int, archs: tuple[str, ...]) -> dict:
    from forecaster.config import AUTO_CANDIDATES as AUTO
    from forecaster.config import ForecastConfig
    from forecaster.search import evidence, fit_candidate, prepare

    subject, cfg_args, windows, stride = load_set(name, home)
    base = ForecastConfig(epochs=epochs, patience=8, units=32, **cfg_args)
    prep = prepare(base, subject, windows, stride)
    rows, timings = {}, {}
    for arch in archs:
        started = time.perf_counter()
        board, _losses = evidence(prep, fit_candidate(prep, arch))
        timings[arch] = time.perf_counter() - started
        overall = board.overall
        rows[arch] = overall["model"]
        rows.setdefault("seasonal_naive", overall["seasonal_naive"])
        rows.setdefault("naive", overall["naive"])
        print(
            f"  {name:10s} {arch:10s} MASE {overall['model']['mase']:.3f} "
            f"sMAPE {overall['model']['smape']:.2f} ({timings[arch]:.0f} s)",
            flush=True,
        )
    candidates = [a for a in AUTO if a in rows]
    if candidates:
        best = min(candidates, key=lambda a: rows[a]["mase"])
        rows["auto"] = rows[best] | {"picked": best}
    return {"rows": rows, "seconds": timings, "windows": windows, "stride": stride}


def throughput(home: Path, epochs: int = 3) -> dict:
    """Pipeline `train` against bare `fit`, same model, arrays and epochs (ETTh1 OT, gru)."""
    import keras

    from forecaster.config import ForecastConfig
    from forecaster.networks import build
    from forecaster.search import prepare
    from forecaster.train import train

    subject, cfg_args, windows, stride = load_set("etth1", home)
    cfg = ForecastConfig(model="gru", epochs=epochs, patience=epochs + 1, units=32, **cfg_args)
    prep = prepare(cfg, subject, windows, stride)
    sp = prep.sp
    cfg = prep.cfg.batch_for(len(sp.train))
    n = len(sp.train.x)
    pipeline, bare = [], []
    for _ in range(2):
        started = time.perf_counter()
        train(cfg, sp.train, sp.val, sp.season)
        pipeline.append(time.perf_counter() - started)
        keras.utils.set_random_seed(cfg.seed)
        model = build(cfg, sp.train.x.shape[-1], sp.season)
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=cfg.loss, metrics=["mae"])
        started = time.perf_counter()
        model.fit(
            sp.train.x,
            sp.train.y,
            validation_data=(sp.val.x, sp.val.y),
            epochs=epochs,
            batch_size=cfg.batch_size,
            verbose=0,
        )
        bare.append(time.perf_counter() - started)
    p, b = min(pipeline), min(bare)
    out = {
        "train_windows": n,
        "epochs": epochs,
        "pipeline_s": p,
        "bare_s": b,
        "pipeline_windows_per_s": n * epochs / p,
        "bare_windows_per_s": n * epochs / b,
        "ratio": p / b,
    }
    print(
        f"throughput (ETTh1 OT, gru, {n} windows x {epochs} epochs): "
        f"pipeline {out['pipeline_windows_per_s']:.0f} windows/s, bare fit {out['bare_windows_per_s']:.0f} "
        f"windows/s, ratio {out['ratio']:.3f}x (target <= 1.10x)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--json", type=Path, help="Also write the numbers here.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recur-bench-"))
    results = {}
    try:
        for name in args.sets.split(","):
            results[name] = accuracy(name, work / name, args.epochs, tuple(args.archs.split(",")))
            table(name, results[name])
        results["throughput"] = throughput(work / "throughput")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


def table(name: str, result: dict) -> None:
    rows = result["rows"]
    naive = rows["seasonal_naive"]["mase"]
    print(f"\n{name}: {result['windows']} windows, stride {result['stride']}")
    print(f"  {'method':15s} {'sMAPE':>7s} {'MASE':>7s}  vs seasonal naive")
    for method, r in rows.items():
        label = method + (f" ({r['picked']})" if "picked" in r else "")
        print(f"  {label:15s} {r['smape']:7.2f} {r['mase']:7.3f}  {'beats' if r['mase'] < naive else '-'}")
    print(flush=True)


if __name__ == "__main__":
    main()
