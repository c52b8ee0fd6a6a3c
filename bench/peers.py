"""recur beside NeuralForecast's LSTM, GRU and NHITS on the same rolling-origin windows.

    python bench/peers.py [--sets airline,etth1,etth1-cov] [--peers-python /path/to/python]

NeuralForecast is an optional dependency, not one of recur's: install it into any environment
(`python -m venv /tmp/peers && /tmp/peers/bin/pip install neuralforecast`) and pass that interpreter as
`--peers-python`; its part runs in a child process, each set on its own, so nothing else shares the cores.

Each set is one series with its windows: the last `windows` origins every `horizon` steps, the last one
`horizon` steps before the end (recur's backtest and NeuralForecast's `cross_validation(refit=False)` place
them the same way), every model trained once on what comes before the first origin. Scores: MASE (the MAE
over the in-sample seasonal-naive MAE before the first origin, as recur's backtest scales it) and sMAPE,
for recur's network (`--model auto`, the default), what recur would issue there (the network if the gate
promotes it, else the baseline it serves), the best baseline, and each NeuralForecast model (its defaults,
robust scaling) at each lookback recur's `auto` tried. CPU seconds are the process's own (all threads).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# name: (file, target column, covariate columns, season, horizon, windows); the series is the file's stem,
# or stem/column when the file has several value columns
ETT_LOADS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]
SETS = {
    "airline": ("airline_passengers.csv", "Passengers", [], 12, 12, 5),
    "etth1": ("ETTh1.csv", "OT", [], 24, 24, 30),
    "etth1-cov": ("ETTh1.csv", "OT", ETT_LOADS, 24, 24, 30),
}
PEERS = ("LSTM", "GRU", "NHITS")


def recur_part(name: str) -> dict:
    """recur's backtest of `--model auto` on the set's windows, and what it would issue there."""
    from core.settings import Settings
    from forecaster.config import ForecastConfig
    from forecaster.issue import issue
    from forecaster.search import Request
    from pipelines import forecast_data as fd
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    file, target, covs, season, horizon, windows = SETS[name]
    home = Path(tempfile.mkdtemp(prefix=f"recur-peers-{name}-"))
    try:
        settings = Settings.resolve(home)
        ingest_series(settings, ROOT / "data" / file, IngestOptions(name=Path(file).stem))
        subject_name = f"{Path(file).stem}/{target}" if name.startswith("etth1") else Path(file).stem
        cfg = ForecastConfig(horizon=horizon, season=season, covariates=("group",) if covs else ())
        subject = fd.load(settings, subject_name, cfg.covariates)
        start = time.process_time()
        decided = issue(subject, cfg, Request(windows, None, budget=0.0), progress=print)
        cpu = time.process_time() - start
    finally:
        shutil.rmtree(home, ignore_errors=True)
    from forecaster.scores import Scoreboard

    overall = Scoreboard.of(decided.metrics).overall
    served = decided.metrics["serve"][subject_name]
    issued = overall[served]
    baselines = {m: s for m, s in overall.items() if m not in ("model", "combination")}
    best = min(baselines, key=lambda m: baselines[m]["mase"])
    used = decided.config
    return {
        "network": overall["model"] | {"what": f"{decided.model} (lookback {used['lookback']})"},
        "issued": issued | {"what": "network" if served == "model" else served},
        "best baseline": baselines[best] | {"what": best},
        "cpu_seconds": round(cpu, 1),
        "lookbacks": sorted({int(re.search(r"lookback (\d+)", k)[1]) for k in decided.metrics["auto"]}),
        "lookback": used["lookback"],
    }


def peers_part(name: str, lookbacks: list[int]) -> dict:
    """Runs in the peers' interpreter: each NeuralForecast model's forecasts of the set's windows, at each
    of the lookbacks recur tried."""
    import logging

    import pandas as pd
    from neuralforecast import NeuralForecast
    from neuralforecast.models import GRU, LSTM, NHITS

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    file, target, covs, _season, horizon, windows = SETS[name]
    raw = pd.read_csv(ROOT / "data" / file)
    df = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(raw)), "y": raw[target].astype(float)})
    for c in covs:
        df[c] = raw[c].astype(float)
    kinds = {"LSTM": LSTM, "GRU": GRU, "NHITS": NHITS}
    out = {}
    for lookback in lookbacks:
        for peer in PEERS:
            extra = {"hist_exog_list": covs} if covs else {}
            model = kinds[peer](h=horizon, input_size=lookback, scaler_type="robust", **extra)
            start = time.process_time()
            nf = NeuralForecast(models=[model], freq=1)
            cv = nf.cross_validation(df, n_windows=windows, step_size=horizon, refit=False)
            cpu = time.process_time() - start
            pred = cv.sort_values(["cutoff", "ds"])[peer].to_numpy().reshape(windows, horizon)
            out[f"{peer} (lookback {lookback})"] = {"forecasts": pred.tolist(), "cpu_seconds": round(cpu, 1)}
    return out


def score_peers(name: str, peers: dict) -> dict:
    import pandas as pd

    from forecaster import metrics

    file, target, _covs, season, horizon, windows = SETS[name]
    y = pd.read_csv(ROOT / "data" / file)[target].to_numpy(float)
    origins = len(y) - horizon - horizon * np.arange(windows)[::-1]
    actual = np.stack([y[o : o + horizon] for o in origins])
    scale = metrics.naive_scale(y[: origins[0]], season)
    return {
        peer: metrics.score(actual, np.asarray(p["forecasts"]), scale) | {"cpu_seconds": p["cpu_seconds"]}
        for peer, p in peers.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--peers-python", default=sys.executable, help="An interpreter with neuralforecast.")
    parser.add_argument("--peer-set", help=argparse.SUPPRESS)
    parser.add_argument("--lookbacks", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_set:  # the child: NeuralForecast's side only
        print(json.dumps(peers_part(args.peer_set, [int(x) for x in args.lookbacks.split(",")])))
        return
    for name in args.sets.split(","):
        ours = recur_part(name)
        child = subprocess.run(
            [
                args.peers_python,
                __file__,
                "--peer-set",
                name,
                "--lookbacks",
                ",".join(map(str, ours["lookbacks"])),
            ],
            capture_output=True,
            text=True,
            env=os.environ | {"PYTHONPATH": ""},
            cwd=tempfile.gettempdir(),  # PyTorch Lightning writes its logs into the working directory
            check=False,
        )
        if child.returncode:
            sys.exit(f"NeuralForecast's part failed ({args.peers_python}):\n{child.stderr[-3000:]}")
        theirs = score_peers(name, json.loads(child.stdout.strip().splitlines()[-1]))
        _, _t, covs, season, horizon, windows = SETS[name]
        print(
            f"\n## {name}: h = {horizon}, season {season}, {windows} windows every {horizon} steps, "
            f"recur issued lookback {ours['lookback']}{', six load covariates' if covs else ''}"
        )
        print("| method | MASE | sMAPE | CPU s |\n|---|---:|---:|---:|")
        for label in ("network", "issued", "best baseline"):
            s = ours[label]
            cpu = ours["cpu_seconds"] if label == "network" else ""
            print(f"| recur {label}: {s['what']} | {s['mase']:.4f} | {s['smape']:.2f} | {cpu} |")
        for peer, s in theirs.items():
            print(f"| NeuralForecast {peer} | {s['mase']:.4f} | {s['smape']:.2f} | {s['cpu_seconds']} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
