"""`recur demo`: the whole loop on the bundled data, in a home of its own, in a few minutes on 2 cores:
ingest, train and backtest forecasters through the champion gate, forecast with intervals, train a small
text generator and sample from it, and export the HTML report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.settings import Settings, default_home
from forecaster.config import BacktestConfig, ForecastConfig
from pipelines.catalog import list_corpora, list_series
from pipelines.forecast import train_forecaster
from pipelines.ingest import ingest_corpus, ingest_series
from pipelines.sampling import SampleRequest, sample_text
from pipelines.textgen import TextgenRun, train_textgen
from pipelines.vintages import predict_forecast
from readers.csvread import IngestOptions
from textgen.config import preset

DATA = Path(__file__).resolve().parent.parent / "data"

# (file, options): one monthly series, one daily series with two missing days, a yearly integer-indexed
# series, and ETTh1's seven hourly columns as a group.
SERIES = [
    ("airline_passengers.csv", IngestOptions(name="airline", units=("thousand passengers",))),
    (
        "daily_min_temperatures_melbourne.csv",
        IngestOptions(name="melbourne_temp", fill="interpolate", units=("°C",)),
    ),
    ("sunspots_yearly.csv", IngestOptions(name="sunspots", units=("sunspot number",))),
    ("ETTh1.csv", IngestOptions(name="ETTh1", units=("OT=°C",))),
]
CORPORA = [("tinyshakespeare.txt", "shakespeare")]
# Forecasters small enough for the demo's time budget; `auto` would try three architectures each.
FORECASTS = [
    ("airline", ForecastConfig(model="gru", lookback=24, horizon=12, epochs=60, patience=8), 5),
    ("melbourne_temp", ForecastConfig(model="gru", lookback=56, horizon=14, epochs=15, patience=4), 10),
]


def demo_home() -> Path:
    return default_home().parent / "recur-demo"


def run_demo(settings: Settings, say=print, quick: bool = False, progress=None) -> dict:
    """Ingest, train, forecast, sample and report on the bundled data; `say` the steps and `progress` the
    training's lines (stderr by default, as every command's progress)."""
    import sys

    from pipelines.report import ReportRequest, export

    progress = progress or (lambda line: print(line, file=sys.stderr))

    for file, opts in SERIES:
        report = ingest_series(settings, DATA / file, opts)
        added = sum(s.inserted for s in report.series)
        say(f"ingested {file}: {len(report.series)} series, {added} new points")
    for file, name in CORPORA:
        chars = ingest_corpus(settings, DATA / file, name).n_chars
        say(f"ingested {file}: corpus {name!r}, {chars:,} characters")
    trained = []
    for subject, cfg, windows in FORECASTS:
        cfg = replace(cfg, epochs=2) if quick else cfg
        out = train_forecaster(settings, subject, cfg, BacktestConfig(windows=windows))
        trained.append(out)
        say(
            f"trained {subject}: version {out['version']} ({out['model']}) is {out['alias']}: {out['reason']}"
        )
        vintage = predict_forecast(settings, subject)
        steps = vintage["forecasts"][0]["points"]
        say(f"forecast {subject}: {steps} steps by {vintage['method']}, with 80/95% intervals")
    text = _textgen(settings, (say, progress), quick)
    path = settings.subdir("reports") / "demo-report.html"
    export(settings, ReportRequest(path, "html"))
    say(f"report: {path}")
    return {
        "home": str(settings.home),
        "report": str(path),
        "series": list_series(settings),
        "corpora": list_corpora(settings),
        "forecasters": trained,
        "textgen": text,
    }


def _textgen(settings: Settings, says: tuple, quick: bool) -> dict:
    say, progress = says
    sizes = (
        {"units": 16, "embedding": 8, "batch_size": 256, "epochs": 1}
        if quick
        else {"units": 128, "epochs": 3}
    )
    cfg = preset("tiny", cell="gru", seq_len=64, **({"embedding": 32, "batch_size": 64} | sizes))
    out = train_textgen(settings, "shakespeare", cfg, TextgenRun(say=lambda m: progress("  " + m)))
    say(
        f"trained a text generator: version {out['version']}, {out['val_bpc']:.2f} bits/char ({out['alias']})"
    )
    sample = sample_text(
        settings, "shakespeare", SampleRequest(prompt="ROMEO:", length=160, temperature=0.7, seed=1)
    )
    say("sample (temperature 0.7):\nROMEO:" + sample["samples"][0]["text"])
    return {"version": out["version"], "val_bpc": out["val_bpc"], "sample": sample["samples"][0]["text"]}
