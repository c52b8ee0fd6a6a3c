"""recur beside statsforecast (AutoETS, AutoTheta, AutoARIMA, MSTL) and NeuralForecast's LSTM, GRU and NHITS
on the same rolling-origin windows.

    python bench/peers.py [--sets airline,etth1,etth1-cov] [--peers-python /path/to/python | none]

statsforecast is one of recur's dependencies: its part runs here, through its own API
(`StatsForecast.cross_validation(refit=False)`, one model at a time, `n_jobs=1`). NeuralForecast is not:
install it into any environment (`python -m venv /tmp/peers && /tmp/peers/bin/pip install neuralforecast`)
and pass that interpreter as `--peers-python` (`none` leaves it out); its part runs in a child process, each
set on its own, so nothing else shares the cores. Many-series sets (M4 Weekly, M3 Monthly, ETTh1 cut to
M4 Hourly's shape) are compared with statsforecast in `bench/accuracy.py --statsforecast`.

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


def statsforecast_part(name: str) -> dict:
    """statsforecast's own API on the set's windows: each model fitted once before the first origin and
    carried forward (refit=False), with its CPU seconds."""
    import warnings

    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta

    from forecaster.statistical import ETS_MAX_SEASON, seasons_of

    file, target, _covs, season, horizon, windows = SETS[name]
    raw = pd.read_csv(ROOT / "data" / file)
    df = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(raw)), "y": raw[target].astype(float)})
    models = {
        "AutoETS": AutoETS(season_length=season if season <= ETS_MAX_SEASON else 1),
        "AutoTheta": AutoTheta(season_length=season),
        "AutoARIMA": AutoARIMA(season_length=season),
    }
    first = len(df) - horizon * windows
    if len(seasons_of(season, first)) > 1:
        models["MSTL"] = MSTL(season_length=seasons_of(season, first), trend_forecaster=AutoETS(model="ZZN"))
    out = {}
    for label, model in models.items():
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sf = StatsForecast(models=[model], freq=1, n_jobs=1)
            cv = sf.cross_validation(df=df, h=horizon, n_windows=windows, step_size=horizon, refit=False)
        cpu = time.process_time() - start
        pred = cv.sort_values(["cutoff", "ds"])[label].to_numpy().reshape(windows, horizon)
        out[label] = {"forecasts": pred.tolist(), "cpu_seconds": round(cpu, 1)}
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


def neuralforecast_scores(python: str, name: str, ours: dict) -> dict:
    """NeuralForecast's part, run by `python` in a child process at the lookbacks recur tried."""
    lookbacks = ",".join(map(str, ours["lookbacks"]))
    child = subprocess.run(
        [python, __file__, "--peer-set", name, "--lookbacks", lookbacks],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": ""},
        cwd=tempfile.gettempdir(),  # PyTorch Lightning writes its logs into the working directory
        check=False,
    )
    if child.returncode:
        sys.exit(f"NeuralForecast's part failed ({python}):\n{child.stderr[-3000:]}")
    return score_peers(name, json.loads(child.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument(
        "--peers-python", default=sys.executable, help="A Python with neuralforecast; none: leave it out."
    )
    parser.add_argument("--peer-set", help=argparse.SUPPRESS)
    parser.add_argument("--lookbacks", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_set:  # the child: NeuralForecast's side only
        print(json.dumps(peers_part(args.peer_set, [int(x) for x in args.lookbacks.split(",")])))
        return
    for name in args.sets.split(","):
        ours = recur_part(name)
        stats = score_peers(name, statsforecast_part(name))
        theirs = {} if args.peers_python == "none" else neuralforecast_scores(args.peers_python, name, ours)
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
        for peer, s in stats.items():
            print(f"| statsforecast {peer} | {s['mase']:.4f} | {s['smape']:.2f} | {s['cpu_seconds']} |")
        for peer, s in theirs.items():
            print(f"| NeuralForecast {peer} | {s['mase']:.4f} | {s['smape']:.2f} | {s['cpu_seconds']} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
