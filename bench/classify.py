"""Sentiment classification on the bundled 3,000 sentences: every architecture and both baselines on one
fixed stratified 80/20 split (validation for early stopping comes out of the 80%), accuracy, macro F1 and
training time. With --series: the seasons of Melbourne's temperatures from 28-day windows (516 windows,
4 classes) against the majority class and a linear model on window statistics.

    python bench/classify.py [--epochs 20] [--series]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sentences() -> tuple[list[str], list[str]]:
    from db.labels import read_labelled

    return read_labelled(ROOT / "data" / "sentiment_labelled_sentences.csv", "text", "label")


def season_windows() -> tuple[list, list[str]]:
    """Through the store, as `recur labels ingest --series` makes them."""
    import tempfile

    from core.settings import Settings
    from db import labels as lq
    from db.engine import read_session
    from pipelines.classify import SeriesLabels, ingest_labels
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions

    settings = Settings.resolve(Path(tempfile.mkdtemp(prefix="recur-bench-")))
    temps = ROOT / "data" / "daily_min_temperatures_melbourne.csv"
    ingest_series(settings, temps, IngestOptions(name="temp", fill="interpolate"))
    windows = SeriesLabels("temp", "date", 28)
    ingest_labels(settings, ROOT / "data" / "melbourne_seasons.csv", "", "season", "seasons", windows)
    with read_session(settings) as session:
        s = lq.get_set(session, "seasons")
        return lq.window_values(session, s.id), lq.items(session, s.id)[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--archs", default="rnn,lstm,gru,bilstm,bigru,attention,deep")
    parser.add_argument("--series", action="store_true", help="Melbourne seasons from 28-day windows")
    parser.add_argument("--ensemble", type=int, default=1, help="networks averaged per model")
    args = parser.parse_args()
    from classifier.config import ClassifyConfig
    from classifier.data import stratified
    from classifier.train import fit, fit_series

    inputs, labels = season_windows() if args.series else sentences()
    train = fit_series if args.series else fit
    classes = sorted(set(labels))
    y = np.array([classes.index(lb) for lb in labels])
    base = ClassifyConfig(epochs=args.epochs, ensemble=args.ensemble)
    split = stratified(y, base.test, base.validation, base.seed)
    print(
        f"{len(inputs)} {'windows' if args.series else 'sentences'}; train {len(split.train)}, "
        f"validation {len(split.val)}, test {len(split.test)}"
    )
    print(f"{'model':18s} {'accuracy':>9s} {'macro F1':>9s} {'seconds':>8s}")
    baselines_shown = False
    for arch in args.archs.split(","):
        started = time.perf_counter()
        trained = train(replace(base, model=arch), inputs, y, classes, split)
        seconds = time.perf_counter() - started
        if not baselines_shown:
            for name in [k for k in trained.scores if k != "model"]:
                s = trained.scores[name]
                print(f"{name:18s} {s['accuracy']:9.4f} {s['macro_f1']:9.4f} {'':>8s}")
            baselines_shown = True
        s = trained.scores["model"]
        print(f"{arch:18s} {s['accuracy']:9.4f} {s['macro_f1']:9.4f} {seconds:8.0f}", flush=True)


if __name__ == "__main__":
    main()
