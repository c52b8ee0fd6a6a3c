"""The GPU path: the text generator's `--preset gpu` and a global forecaster trained on the accelerator,
with throughput against the same models on the CPU, and proof that the device did the work.

    python bench/gpu.py [--minutes 5] [--out results.json]

Run where a GPU is visible (on a machine without TensorFlow: KERAS_BACKEND=jax). The CPU figures come from
child processes told `--device cpu`, on a slice of the same data, so both are measured in the same run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "data" / "tinyshakespeare.txt"


def memory_in_use() -> int | None:
    """Bytes the framework holds on the first GPU: nonzero means the work really ran there."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return int(tf.config.experimental.get_memory_info("GPU:0")["current"])
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return int(stats.get("bytes_in_use", 0))
    if backend == "torch":
        import torch

        return int(torch.cuda.memory_allocated())
    return None


def textgen_gpu(home: Path, minutes: float) -> dict:
    from db.settings import Settings
    from jobs.ingest import ingest_corpus
    from jobs.textgen import train_textgen
    from textgen.config import preset

    settings = Settings.resolve(home)
    ingest_corpus(settings, CORPUS, "shakespeare")
    out = train_textgen(
        settings,
        "shakespeare",
        preset("gpu", time_limit=minutes * 60),
        device="gpu",
        say=lambda m: print("  " + m, flush=True),
    )
    out["gpu_bytes_in_use"] = memory_in_use()
    print(
        f"textgen --preset gpu on {out['device']}: {out['val_loss']:.4f} nats "
        f"({out['val_bpc']:.3f} bits/char) in {out['seconds'] / 60:.1f} min, "
        f"{out['chars_per_s']:,.0f} chars/s; "
        "target <= 1.45 nats within 5 min"
    )
    return out


def textgen_throughput(device: str, chars: int) -> float:
    """One epoch of the gpu preset's model on a slice of the corpus, in chars/s."""
    from jobs.device import placed
    from textgen.config import preset
    from textgen.data import split
    from textgen.train import train
    from textgen.vocab import Vocabulary

    text = CORPUS.read_text()
    vocab = Vocabulary.of(text)
    cfg = replace(preset("gpu"), epochs=2, time_limit=0)
    arrays = split(text[:chars], vocab, cfg)
    with placed(device):
        result = train(cfg, arrays, len(vocab))
    return result.chars_per_s  # includes the first epoch's compilation: the same for both devices


def forecaster_throughput(device: str, epochs: int) -> dict:
    """A global GRU over ETTh1's seven series (lookback 96, horizon 24): windows/s and validation loss."""
    from db.csvread import IngestOptions
    from db.settings import Settings
    from forecaster.config import ForecastConfig
    from jobs import forecast_data as fd
    from jobs.device import placed
    from jobs.forecast import evaluate
    from jobs.ingest import ingest_series

    home = Path(tempfile.mkdtemp(prefix="recur-gpu-"))
    settings = Settings.resolve(home)
    ingest_series(settings, ROOT / "data" / "ETTh1.csv", IngestOptions(name="ETTh1"))
    subject = fd.load(settings, "ETTh1")
    cfg = ForecastConfig(
        model="gru",
        lookback=96,
        horizon=24,
        units=128,
        layers=2,
        epochs=epochs,
        patience=epochs + 1,
        batch_size=256 if device == "gpu" else 64,
    )
    with placed(device) as (used, _policy):
        started = time.perf_counter()
        result, metrics, _extra, sp = evaluate(cfg, subject, 20, 24)
        seconds = time.perf_counter() - started
    return {
        "device": used,
        "windows_per_s": len(sp.train.x) * result.epochs_run / seconds,
        "val_loss": min(result.history["val_loss"]),
        "mase": metrics["backtest"]["overall"]["model"]["mase"],
    }


def on_cpu(function: str, *args) -> dict | float:
    """Run one of these functions in a child process that hides the GPU."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.gpu import {function}; "
        f"print('RESULT', json.dumps({function}('cpu', *{list(args)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"CUDA_VISIBLE_DEVICES": ""},
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(line.split(" ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict = {}
    results["textgen"] = textgen_gpu(Path(tempfile.mkdtemp(prefix="recur-gpu-")), args.minutes)
    gpu_cps, cpu_cps = textgen_throughput("gpu", 200_000), on_cpu("textgen_throughput", 200_000)
    results["textgen_throughput"] = {"gpu": gpu_cps, "cpu": cpu_cps, "ratio": gpu_cps / cpu_cps}
    print(
        f"textgen training throughput: GPU {gpu_cps:,.0f} chars/s, CPU {cpu_cps:,.0f} chars/s, "
        f"{gpu_cps / cpu_cps:.1f}x (target >= 20x)"
    )
    gpu_fc, cpu_fc = forecaster_throughput("gpu", 3), on_cpu("forecaster_throughput", 1)
    results["forecaster"] = {
        "gpu": gpu_fc,
        "cpu": cpu_fc,
        "ratio": gpu_fc["windows_per_s"] / cpu_fc["windows_per_s"],
    }
    print(
        f"global forecaster (ETTh1, 7 series): GPU {gpu_fc['windows_per_s']:,.0f} windows/s, "
        f"CPU {cpu_fc['windows_per_s']:,.0f} windows/s, {results['forecaster']['ratio']:.1f}x"
    )
    results["gpu_bytes_in_use"] = memory_in_use()
    print(f"GPU memory held by the framework after training: {results['gpu_bytes_in_use']:,} bytes")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
