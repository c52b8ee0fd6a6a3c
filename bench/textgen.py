"""The text generator on tinyshakespeare: quality and time of `--preset cpu`, training throughput against a
bare Keras fit, sampling speed against the window re-prediction loop, and time to the first character.

    python bench/textgen.py [--time-limit 1200] [--skip-train]
    python bench/textgen.py --streams --overlap  # sampling for 1, 4, 16, 64 streams; the memorisation check
    python bench/textgen.py --side-by-side 600 [--corpus data/moby_dick.txt] [--back-to-back]
        # `recur textgen train --preset cpu --time-limit 600` and a bare Keras loop of the same model, at
        # once, each pinned to its own core (or one after the other with both cores)
    python bench/textgen.py --pair 1200 -- "" "--carry-state"  # two variants of --preset cpu, one core each
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
BARE_LEARNING_RATE = 2e-3


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


def bare_fit(seconds: float, corpus: Path) -> dict:
    """A bare Keras loop of `--preset cpu`'s model: windows of seq_len re-cut at a random offset every
    epoch, shuffled, batch 64, Adam at a constant BARE_LEARNING_RATE (2e-3: the reference run's rate, and
    recur's until these runs measured better), no callbacks but a stop after `seconds` of fit's
    wall time; then scored once on recur's validation windows (the corpus's last 10%, 1,000 characters
    each)."""
    import keras

    from textgen.config import preset
    from textgen.data import split, windows
    from textgen.model import build
    from textgen.vocab import Vocabulary

    text = corpus.read_text()
    vocab = Vocabulary.of(text)
    cfg = preset("cpu")
    arrays = split(text, vocab, cfg)
    keras.utils.set_random_seed(cfg.seed)
    model = build(cfg, len(vocab))
    model.compile(
        optimizer=keras.optimizers.Adam(BARE_LEARNING_RATE, clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    steps = [0]

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps[0] += 1
            if time.perf_counter() - started >= seconds:
                self.model.stop_training = True

    rng, epochs, started = np.random.default_rng(cfg.seed), 0, time.perf_counter()
    count = (len(arrays.train_ids) - cfg.seq_len) // cfg.seq_len
    while time.perf_counter() - started < seconds:
        x, y = windows(arrays.train_ids, cfg.seq_len, int(rng.integers(cfg.seq_len)))
        epochs += 1
        model.fit(x[:count], y[:count], batch_size=cfg.batch_size, epochs=1, callbacks=[Stop()], verbose=0)
        if model.stop_training:
            break
    trained = time.perf_counter() - started
    loss = float(model.evaluate(arrays.x_val, arrays.y_val, batch_size=cfg.batch_size, verbose=0))
    chars = steps[0] * cfg.batch_size * cfg.seq_len
    return {"val_loss": loss, "epochs": epochs, "seconds": trained, "chars_per_s": chars / trained}


def _recur_train(env: dict, seconds: float, pin: list[str], options: str = "") -> subprocess.Popen:
    command = [*pin, sys.executable, "-m", "cli", "--json", "textgen", "train", "c", "--preset", "cpu"]
    command += ["--time-limit", str(seconds), *options.split()]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _bare(seconds: float, corpus: Path, pin: list[str]) -> subprocess.Popen:
    command = [*pin, sys.executable, __file__, "--bare-fit", str(seconds), "--corpus", str(corpus)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _store(corpus: Path) -> tuple[Path, dict]:
    """A fresh store holding `corpus` as "c", and the environment that points recur at it."""
    home = Path(tempfile.mkdtemp(prefix="recur-bench-"))
    env = os.environ | {"RECUR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    ingest = [sys.executable, "-m", "cli", "corpus", "ingest", str(corpus), "--name", "c"]
    subprocess.run(ingest, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return home, env


def pair(seconds: float, corpus: Path, variants: list[str]) -> list[dict]:
    """Two `textgen train --preset cpu` runs that differ in the options given (a regulariser and the
    preset as it is, say), at once, each pinned to its own core, for the same wall time."""
    import json

    home, env = _store(corpus)
    try:
        runs = [_recur_train(env, seconds, ["taskset", "-c", str(i)], v) for i, v in enumerate(variants)]
        out = [json.loads(run.communicate()[0]) for run in runs]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"{corpus.name}, {seconds:.0f} s, at once, one core each, --preset cpu with:")
    print("| options | validation nats | epochs | training chars/s |\n|---|---:|---:|---:|")
    for options, r in zip(variants, out, strict=True):
        print(f"| {options or '(none)'} | {r['val_loss']:.4f} | {r['epochs']} | {r['chars_per_s']:,.0f} |")
    print(f"second - first: {out[1]['val_loss'] - out[0]['val_loss']:+.4f} nats")
    return out


def side_by_side(seconds: float, corpus: Path, back_to_back: bool) -> dict:
    """recur's CLI and the bare loop for the same wall time: at once, each pinned to its own core
    (`taskset -c 0` / `-c 1`), or one after the other with both cores (recur first)."""
    import json

    home, env = _store(corpus)
    try:
        if back_to_back:
            ours = _recur_train(env, seconds, []).communicate()[0]
            bare = _bare(seconds, corpus, []).communicate()[0]
        else:
            recur_run = _recur_train(env, seconds, ["taskset", "-c", "0"])
            bare_run = _bare(seconds, corpus, ["taskset", "-c", "1"])
            ours, bare = recur_run.communicate()[0], bare_run.communicate()[0]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    r, b = json.loads(ours), json.loads(bare.decode().strip().splitlines()[-1])
    how = "one after the other, both cores" if back_to_back else "at once, one core each"
    print(f"{corpus.name}, {seconds:.0f} s, {how}:")
    print("| | validation nats | epochs | training chars/s |\n|---|---:|---:|---:|")
    print(f"| recur | {r['val_loss']:.4f} | {r['epochs']} | {r['chars_per_s']:,.0f} |")
    print(f"| bare Keras | {b['val_loss']:.4f} | {b['epochs']} begun | {b['chars_per_s']:,.0f} |")
    print(
        f"recur/bare: chars/s {r['chars_per_s'] / b['chars_per_s']:.3f} (target >= 0.98); validation "
        f"{r['val_loss'] - b['val_loss']:+.4f} nats (target <= 0); recur's validations took "
        f"{r['validation_s']:.0f} s"
    )
    return {"recur": r, "bare": b}


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
    parser.add_argument("--streams", action="store_true", help="Only: sampling speed for 1 to 64 streams.")
    parser.add_argument("--overlap", action="store_true", help="Only: the memorisation check on ~3.3 MB.")
    parser.add_argument("--side-by-side", type=float, help="Only: recur's CLI and a bare loop, this many s.")
    parser.add_argument("--back-to-back", action="store_true", help="--side-by-side one after the other.")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="The corpus for --side-by-side.")
    parser.add_argument("--pair", type=float, help="Only: two --preset cpu runs, this many s, at once.")
    parser.add_argument("variants", nargs="*", help="--pair's two option strings, after --.")
    parser.add_argument("--bare-fit", type=float, help=argparse.SUPPRESS)  # the bare side's process
    args = parser.parse_args()
    if args.bare_fit:
        import json

        print(json.dumps(bare_fit(args.bare_fit, args.corpus)))
        return
    if args.pair:
        if len(args.variants) != 2:
            parser.error('--pair takes two option strings after --: --pair 1200 -- "" "--carry-state"')
        pair(args.pair, args.corpus.resolve(), args.variants)
        return
    if args.side_by_side:
        side_by_side(args.side_by_side, args.corpus.resolve(), args.back_to_back)
        return
    if args.overlap or args.streams:  # the parts asked for, alone
        if args.streams:
            streams()
        if args.overlap:
            overlap()
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
