"""Sentiment classification on the bundled 3,000 sentences: every architecture and both baselines on one
fixed stratified 80/20 split (validation for early stopping comes out of the 80%), accuracy, macro F1 and
training time.

    python bench/classify.py [--epochs 20]
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--archs", default="rnn,lstm,gru,bilstm,bigru,attention,deep")
    args = parser.parse_args()
    from classifier.config import ClassifyConfig
    from classifier.data import stratified
    from classifier.train import fit
    from db.labels import read_labelled

    texts, labels = read_labelled(ROOT / "data" / "sentiment_labelled_sentences.csv", "text", "label")
    classes = sorted(set(labels))
    y = np.array([classes.index(lb) for lb in labels])
    base = ClassifyConfig(epochs=args.epochs)
    split = stratified(y, base.test, base.validation, base.seed)
    print(
        f"{len(texts)} sentences; train {len(split.train)}, validation {len(split.val)}, "
        f"test {len(split.test)}"
    )
    print(f"{'model':12s} {'accuracy':>9s} {'macro F1':>9s} {'seconds':>8s}")
    baselines_shown = False
    for arch in args.archs.split(","):
        started = time.perf_counter()
        trained = fit(replace(base, model=arch), texts, y, classes, split)
        seconds = time.perf_counter() - started
        if not baselines_shown:
            for name in ("majority", "bag_of_words"):
                s = trained.scores[name]
                print(f"{name:12s} {s['accuracy']:9.4f} {s['macro_f1']:9.4f} {'':>8s}")
            baselines_shown = True
        s = trained.scores["model"]
        print(f"{arch:12s} {s['accuracy']:9.4f} {s['macro_f1']:9.4f} {seconds:8.0f}", flush=True)


if __name__ == "__main__":
    main()
