"""The text generator on tinyshakespeare: quality and time of `--preset cpu`, training throughput against a
bare Keras fit, sampling speed against the window re-prediction loop, and time to the first character.

    python bench/textgen.py [--time-limit 1200] [--skip-train]
    python bench/textgen.py --equal-time 600     # recur's train vs a bare Keras fit, same model and wall time
    python bench/textgen.py --streams --overlap  # sampling for 1, 4, 16, 64 streams; the memorisation check
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "data" / "tinyshakespeare.txt"


def train_cpu_preset(settings, time_limit: float) -> dict:
    from pipelines.textgen import TextgenRun, train_textgen
    from textgen.config import preset

    cfg = preset("cpu", time_limit=time_limit)
    started = time.perf_counter()
    out = train_textgen(settings, "shakespeare", cfg, TextgenRun(say=lambda m: print("  " + m, flush=True)))
    out["wall_s"] = time.perf_counter() - started
    print(
        f"--preset cpu: validation {out['val_loss']:.4f} nats = {out['val_bpc']:.3f} bits/char after "
        f"{out['epochs']} epochs, {out['wall_s'] / 60:.1f} min wall (target <= 1.60 nats within 20 min)"
    )
    return out


def throughput(chars: int = 300_000) -> dict:
    """recur's `train` against `model.fit` of the same model on the same arrays, one epoch each, twice."""
    import keras

    from textgen.config import preset
    from textgen.data import split
    from textgen.model import build
    from textgen.train import train
    from textgen.vocab import Vocabulary

    text = CORPUS.read_text()
    vocab = Vocabulary.of(text)
    cfg = replace(preset("cpu"), epochs=1, time_limit=0)
    arrays = split(text[:chars], vocab, cfg)
    ours, bare = [], []
    for _ in range(2):
        result = train(cfg, arrays, len(vocab))
        ours.append(result.chars_per_s)
        keras.utils.set_random_seed(cfg.seed)
        model = build(cfg, len(vocab))
        model.compile(
            optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=5.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        started = time.perf_counter()
        model.fit(
            arrays.x_train,
            arrays.y_train,
            validation_data=(arrays.x_val, arrays.y_val),
            epochs=1,
            batch_size=cfg.batch_size,
            verbose=0,
        )
        bare.append(arrays.x_train.size / (time.perf_counter() - started))
    o, b = max(ours), max(bare)
    print(
        f"training throughput (--preset cpu model, {arrays.x_train.size:,} chars/epoch): "
        f"recur {o:,.0f} chars/s, "
        f"bare fit {b:,.0f} chars/s, time ratio {b / o:.3f}x (target <= 1.10x)"
    )
    return {"recur_chars_per_s": o, "bare_chars_per_s": b, "ratio": b / o}


def sampling(settings) -> dict:
    """NumPy sampler, 1 and 64 streams, against the guide's loop (re-predict a 100-char window per char)."""
    from pipelines.sampling import load
    from runtime.artifacts import load_model
    from textgen.sampler import SamplingParams, generate

    loaded = load(settings, "shakespeare", None)
    prompt = loaded.vocab.encode("ROMEO:\n")
    rates = {}
    for streams, length in ((1, 3000), (64, 500)):
        started = time.perf_counter()
        for _ in generate(loaded.model, prompt, length, streams, SamplingParams(0.8), seed=1):
            pass
        rates[streams] = streams * length / (time.perf_counter() - started)
    from db import registry
    from db.engine import read_session

    with read_session(settings) as session:
        keras_model = load_model(registry.get_version(session, loaded.version))
    window = list(loaded.vocab.encode(loaded.text[:100]))
    rng = np.random.default_rng(0)
    started, n = time.perf_counter(), 40
    for _ in range(n):
        logits = keras_model.predict(np.array([window[-100:]]), verbose=0)[0, -1]
        p = np.exp((logits - logits.max()) / 0.8)
        window.append(int(rng.choice(len(p), p=p / p.sum())))
    loop = n / (time.perf_counter() - started)
    print(
        f"sampling: 1 stream {rates[1]:,.0f} chars/s (target >= 5,000), 64 streams {rates[64]:,.0f} chars/s; "
        f"window re-prediction loop {loop:,.1f} chars/s; ratio {rates[1] / loop:,.0f}x (target >= 100x)"
    )
    return {"one_stream": rates[1], "streams_64": rates[64], "window_loop": loop, "ratio": rates[1] / loop}


def equal_time(seconds: float) -> dict:
    """recur's `train` with `--preset cpu` and a time limit against a bare Keras `fit` of the same model on
    fixed windows, stopped after the same wall time at a batch; both scored on recur's 1,000-character
    validation windows. Run back to back, recur first."""
    import keras

    from textgen.config import preset
    from textgen.data import split
    from textgen.model import build
    from textgen.train import train
    from textgen.vocab import Vocabulary

    text = CORPUS.read_text()
    vocab = Vocabulary.of(text)
    cfg = replace(preset("cpu"), time_limit=seconds, epochs=1000)
    arrays = split(text, vocab, cfg)
    ours = train(cfg, arrays, len(vocab))
    ours_loss = float(min(ours.history["val_loss"]))
    keras.utils.set_random_seed(cfg.seed)
    model = build(cfg, len(vocab))
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - started >= seconds:
                self.model.stop_training = True

    started = time.perf_counter()
    model.fit(
        arrays.x_train, arrays.y_train, batch_size=cfg.batch_size, epochs=1000, callbacks=[Stop()], verbose=0
    )
    bare_s = time.perf_counter() - started
    bare_loss = float(model.evaluate(arrays.x_val, arrays.y_val, batch_size=cfg.batch_size, verbose=0))
    print(
        f"equal wall time ({seconds:.0f} s budget, --preset cpu model): recur {ours_loss:.4f} nats in "
        f"{ours.seconds:.0f} s ({ours.epochs_run} epochs, the last cut short), bare fit {bare_loss:.4f} nats "
        f"in {bare_s:.0f} s; ratio {ours_loss / bare_loss:.3f} (target <= 1.00)"
    )
    return {"recur": ours_loss, "recur_s": ours.seconds, "bare": bare_loss, "bare_s": bare_s}


def streams(length: int = 1000) -> dict:
    """Sampling speed in all, in characters per second, for 1, 4, 16 and 64 streams, with a `--preset cpu`
    model's weights (speed does not depend on what they learnt)."""
    from textgen.config import preset
    from textgen.model import build, export_weights
    from textgen.sampler import CharModel, SamplingParams, generate
    from textgen.vocab import Vocabulary

    cfg = preset("cpu")
    vocab = Vocabulary.of(CORPUS.read_text())
    model = CharModel.from_arrays(cfg.cell, export_weights(build(cfg, len(vocab)), cfg))
    prompt = vocab.encode("ROMEO:\n")
    rates = {}
    for n in (1, 4, 16, 64):
        best = 0.0
        for _ in range(3):
            started = time.perf_counter()
            for _ in generate(model, prompt, length, n, SamplingParams(0.8), seed=1):
                pass
            best = max(best, n * length / (time.perf_counter() - started))
        rates[n] = best
    print(
        "sampling in all, best of 3: " + ", ".join(f"{n} streams {r:,.0f} chars/s" for n, r in rates.items())
    )
    return rates


def overlap(copies: int = 3) -> dict:
    """The memorisation check of a 20,000-character sample against ~3.3 MB (tinyshakespeare's lines
    shuffled three times): building the index once, then the check, beside the search it replaced."""
    import random

    from textgen.overlap import CorpusIndex, longest_shared

    lines = CORPUS.read_text().splitlines(keepends=True)
    rng = random.Random(0)
    corpus = "".join("".join(rng.sample(lines, len(lines))) for _ in range(copies))
    started = time.perf_counter()
    index = CorpusIndex.build(corpus)
    build_s = time.perf_counter() - started
    pieces = [corpus[p : p + rng.randint(3, 30)] for p in rng.sample(range(len(corpus) - 40), 1500)]
    sample = "".join(pieces)[:20_000]
    started = time.perf_counter()
    found = longest_shared(index, sample)
    check_s = time.perf_counter() - started
    started, old = time.perf_counter(), sample[:2000]
    best, j = 0, 0
    for i in range(len(old)):  # the search it replaced, on the first 2,000 characters only
        j = max(j, i)
        while j < len(old) and old[i : j + 1] in corpus:
            j += 1
        best = max(best, j - i)
    old_s = time.perf_counter() - started
    print(
        f"memorisation check, {len(corpus):,}-character corpus: index built in {build_s:.1f} s; "
        f"a 20,000-character sample checked in {check_s:.3f} s (longest run {found[1]}; target <= 1 s); "
        f"the old search took {old_s:.1f} s for its first 2,000 characters"
    )
    return {"build_s": build_s, "check_s": check_s, "old_2000_s": old_s}


def first_character(home: Path, runs: int = 5) -> dict:
    """From invoking `recur textgen sample` to the first character of generated text on stdout."""
    env = os.environ | {"RECUR_HOME": str(home)}
    times = []
    for seed in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "cli.py"),
                "textgen",
                "sample",
                "shakespeare",
                "--length",
                "200",
                "--seed",
                str(seed),
            ],
            stdout=subprocess.PIPE,
            env=env,
        )
        proc.stdout.read(1)
        times.append(time.perf_counter() - started)
        proc.communicate()
    median = statistics.median(times)
    print(f"time to first character: median {median:.2f} s over {runs} runs (target <= 2 s)")
    return {"median_s": median, "runs": times}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--time-limit", type=float, default=20 * 60)
    parser.add_argument("--home", type=Path, help="Keep the store here (default: a temporary directory).")
    parser.add_argument("--skip-train", action="store_true", help="Reuse the model trained in --home.")
    parser.add_argument("--equal-time", type=float, help="Only: recur vs bare Keras for this many seconds.")
    parser.add_argument("--streams", action="store_true", help="Only: sampling speed for 1 to 64 streams.")
    parser.add_argument("--overlap", action="store_true", help="Only: the memorisation check on ~3.3 MB.")
    args = parser.parse_args()
    if args.equal_time or args.overlap or args.streams:  # the parts asked for, alone
        if args.streams:
            streams()
        if args.overlap:
            overlap()
        if args.equal_time:
            equal_time(args.equal_time)
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="recur-bench-"))
    from core.settings import Settings
    from pipelines.ingest import ingest_corpus

    settings = Settings.resolve(home)
    try:
        if not args.skip_train:
            ingest_corpus(settings, CORPUS, "shakespeare")
            train_cpu_preset(settings, args.time_limit)
        sampling(settings)
        first_character(home)
        throughput()
    finally:
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
