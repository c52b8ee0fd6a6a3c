"""`recur demo`: the bundled data sets through the pipelines, in a home of its own."""

from __future__ import annotations

from pathlib import Path

from db.csvread import IngestOptions
from db.settings import Settings
from jobs.catalog import list_corpora, list_series
from jobs.ingest import ingest_corpus, ingest_series

DATA = Path(__file__).resolve().parent.parent / "data"

# (file, options): one monthly series, one daily series with two missing days, a yearly integer-indexed
# series, and ETTh1's seven hourly columns as a group.
SERIES = [
    ("airline_passengers.csv", IngestOptions(name="airline")),
    ("daily_min_temperatures_melbourne.csv", IngestOptions(name="melbourne_temp", fill="interpolate")),
    ("sunspots_yearly.csv", IngestOptions(name="sunspots")),
    ("ETTh1.csv", IngestOptions(name="ETTh1")),
]
CORPORA = [("tinyshakespeare.txt", "shakespeare")]


def demo_home() -> Path:
    from db.settings import default_home

    return default_home().parent / "recur-demo"


def run_demo(settings: Settings, say=print) -> dict:
    for file, opts in SERIES:
        report = ingest_series(settings, DATA / file, opts)
        added = sum(s.inserted for s in report.series)
        say(f"ingested {file}: {len(report.series)} series, {added} new points")
    for file, name in CORPORA:
        corpus = ingest_corpus(settings, DATA / file, name)
        say(f"ingested {file}: corpus {name!r}, {corpus.n_chars:,} characters")
    return {"home": str(settings.home), "series": list_series(settings), "corpora": list_corpora(settings)}
