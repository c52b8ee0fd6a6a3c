"""The GPU path: the text generator's `--preset gpu` and a global forecaster trained on the accelerator,
with training throughput against the same models on two CPU cores, and proof that the device did the work.

    python bench/gpu.py [--minutes 5] [--out results.json]     # where a GPU is visible
    python bench/gpu.py --cpu-only                             # the CPU figures alone (any machine)

On a machine without TensorFlow run it with KERAS_BACKEND=jax. Throughput is steady-state training steps
(compilation excluded) of the same model and batch on each device. The CPU figures come from a child
process that sees no GPU and is pinned to two cores (the reference machine has two), running while the
GPU work runs on the other cores, so both are measured in the same run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "data" / "tinyshakespeare.txt"
CPU_CORES = {0, 1}


def memory_in_use() -> int | None:
    """Bytes the framework holds on the first GPU: nonzero means the work really ran there."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            return None
        return int(tf.config.experimental.get_memory_info("GPU:0")["current"])
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return int(stats.get("bytes_in_use", 0))
    if backend == "torch":
        import torch

        return int(torch.cuda.memory_allocated())
    return None


def textgen_gpu(
    home: Path, minutes: float, device: str = "gpu", name: str = "gpu", overrides: dict | None = None
) -> dict:
    """The whole pipeline, as `recur textgen train shakespeare --preset gpu --device gpu` runs it (with
    any option overridden as on the command line)."""
    from core.settings import Settings
    from pipelines.ingest import ingest_corpus
    from pipelines.textgen import TextgenRun, train_textgen
    from textgen.config import preset

    settings = Settings.resolve(home)
    ingest_corpus(settings, CORPUS, "shakespeare")
    out = train_textgen(
        settings,
        "shakespeare",
        preset(name, time_limit=minutes * 60, **(overrides or {})),
        TextgenRun(say=lambda m: print("  " + m, flush=True), device=device),
    )
    out["gpu_bytes_in_use"] = memory_in_use()
    out["val_loss_by_context"] = context_losses(settings, out["version"])
    print(f"  validation loss by context length: {out['val_loss_by_context']}", flush=True)
    print(
        f"textgen --preset {name} on {out['device']}: {out['val_loss']:.4f} nats "
        f"({out['val_bpc']:.3f} bits/char) in {out['seconds'] / 60:.1f} min, "
        f"{out['chars_per_s']:,.0f} chars/s over the run; target <= 1.45 nats within 5 min",
        flush=True,
    )
    return out


def context_losses(settings, version: int) -> dict:
    """The trained model's validation loss when every window restarts from no context (seq_len
    characters, as in training) and with the 1,000 characters of context recur validates with."""
    import keras

    from db import registry
    from db.engine import read_session
    from runtime.artifacts import load_model
    from textgen.data import VAL_CONTEXT, windows
    from textgen.vocab import Vocabulary

    with read_session(settings) as session:
        v = registry.get_version(session, version)
        model, config = load_model(v), dict(v.config)
    text = CORPUS.read_text()
    ids = Vocabulary(config["vocabulary"]).encode(text)[int(len(text) * (1 - config["validation"])) :]
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    out = {}
    for length in (config["seq_len"], VAL_CONTEXT):
        x, y = windows(ids, length)
        out[length] = float(model.evaluate(x, y, batch_size=256, verbose=0))
    return out


def _timed_steps(model, x, y, steps: int) -> float:
    """Seconds per training step after a warm-up step (which compiles)."""
    model.train_on_batch(x, y)
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)  # returns host floats: each step has finished when it returns
    return (time.perf_counter() - started) / steps


def textgen_steps(steps: int, name: str = "gpu") -> dict:
    """A preset's model on one batch of the corpus: characters per second of training."""
    import keras
    import numpy as np

    from textgen.config import preset
    from textgen.model import build
    from textgen.vocab import Vocabulary

    text = CORPUS.read_text()
    vocab = Vocabulary.of(text)
    cfg = preset(name)
    n = cfg.batch_size * cfg.seq_len
    ids = vocab.encode(text[: n + 1])
    x = np.asarray(ids[:n]).reshape(cfg.batch_size, cfg.seq_len)
    y = np.asarray(ids[1 : n + 1]).reshape(cfg.batch_size, cfg.seq_len)
    model = build(cfg, len(vocab))
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    per_step = _timed_steps(model, x, y, steps)
    return {"chars_per_s": n / per_step, "step_s": per_step, "steps": steps}


FORECASTER = {"model": "gru", "lookback": 96, "horizon": 24, "units": 128, "layers": 2, "batch_size": 256}


def forecaster_steps(steps: int) -> dict:
    """A global GRU on ETTh1's shape (7 features, lookback 96, horizon 24): windows per second."""
    import keras
    import numpy as np

    from forecaster.config import ForecastConfig
    from forecaster.networks import build

    cfg = ForecastConfig(**FORECASTER)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cfg.batch_size, cfg.lookback, 7)).astype("float32")
    y = rng.standard_normal((cfg.batch_size, cfg.horizon)).astype("float32")
    model = build(cfg, 7, 24)
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss="mse")
    per_step = _timed_steps(model, x, y, steps)
    return {"windows_per_s": cfg.batch_size / per_step, "step_s": per_step, "steps": steps}


def forecaster_gpu(epochs: int, device: str = "gpu") -> dict:
    """The forecaster pipeline end to end on ETTh1 (train, validate, backtest) on the GPU."""
    from core.settings import Settings
    from forecaster.config import ForecastConfig
    from forecaster.search import evidence, fit_candidate, prepare
    from pipelines import forecast_data as fd
    from pipelines.ingest import ingest_series
    from readers.csvread import IngestOptions
    from runtime.device import placed

    settings = Settings.resolve(Path(tempfile.mkdtemp(prefix="recur-gpu-")))
    ingest_series(settings, ROOT / "data" / "ETTh1.csv", IngestOptions(name="ETTh1"))
    subject = fd.load(settings, "ETTh1")
    cfg = ForecastConfig(**FORECASTER, epochs=epochs, patience=epochs + 1)
    with placed(device) as (used, _policy):
        started = time.perf_counter()
        prep = prepare(cfg, subject, 20, 24)
        cand = fit_candidate(prep, cfg.model)
        board, _losses = evidence(prep, cand)
        seconds = time.perf_counter() - started
    sp, result = prep.sp, cand.result
    return {
        "device": used,
        "train_windows": len(sp.train.x),
        "windows_per_s_pipeline": len(sp.train.x) * result.epochs_run / seconds,
        "val_loss": min(result.history["val_loss"]),
        "mase": board.score(),
        "seasonal_naive_mase": board.score("seasonal_naive"),
    }


def cpu_figures(textgen: int, forecaster: int, name: str = "gpu") -> dict:
    """Both models' steady-state throughput with the GPU hidden (run in a child: see `start_cpu_child`)."""
    from runtime.device import placed

    with placed("cpu"):
        return {"textgen": textgen_steps(textgen, name), "forecaster": forecaster_steps(forecaster)}


def start_cpu_child(textgen: int, forecaster: int, name: str = "gpu") -> subprocess.Popen:
    """A process that sees no GPU, pinned to two cores; it prints one RESULT line when done."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.gpu import cpu_figures; "
        f"print('RESULT', json.dumps(cpu_figures({textgen}, {forecaster}, {name!r})))"
    )
    env = os.environ | {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: os.sched_setaffinity(0, CPU_CORES),
    )


def collect(child: subprocess.Popen) -> dict:
    out, err = child.communicate()
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(err[-3000:])
    return json.loads(line.split(" ", 1)[1])


def ratio(gpu: dict, cpu: dict, key: str) -> float:
    return gpu[key] / cpu[key]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cpu-only", action="store_true", help="measure the CPU figures here and stop")
    parser.add_argument("--device", default="gpu", help="cpu, with --preset tiny: a smoke run, no GPU")
    parser.add_argument("--preset", default="gpu", help="the text generator preset (tiny for a smoke run)")
    args = parser.parse_args()
    from runtime.device import share_the_card

    share_the_card()
    if args.cpu_only:
        print(json.dumps(collect(start_cpu_child(2, 10, args.preset)), indent=1))
        return
    child = start_cpu_child(2, 10, args.preset)  # runs on two cores while the GPU works
    others = set(range(os.cpu_count() or 1)) - CPU_CORES
    if others:
        os.sched_setaffinity(0, others)
    results: dict = {}

    def save() -> None:
        if args.out:
            args.out.write_text(json.dumps(results, indent=1, default=str))

    from runtime.device import device_info, placed

    results["backend"], results["device"] = device_info()
    home = Path(tempfile.mkdtemp(prefix="recur-gpu-"))
    results["textgen"] = textgen_gpu(home, args.minutes, args.device, args.preset)
    results["gpu_bytes_in_use"] = memory_in_use()
    print(f"GPU memory held by the framework after training: {results['gpu_bytes_in_use']:,} bytes")
    save()
    with placed(args.device):
        results["gpu_steps"] = {
            "textgen": textgen_steps(20, args.preset),
            "forecaster": forecaster_steps(50),
        }
    save()
    results["forecaster_pipeline"] = forecaster_gpu(3, args.device)
    print(f"forecaster pipeline: {results['forecaster_pipeline']}", flush=True)
    save()
    results["cpu_steps"] = collect(child)
    gpu, cpu = results["gpu_steps"], results["cpu_steps"]
    results["ratios"] = {
        "textgen": ratio(gpu["textgen"], cpu["textgen"], "chars_per_s"),
        "forecaster": ratio(gpu["forecaster"], cpu["forecaster"], "windows_per_s"),
    }
    print(
        f"textgen training: GPU {gpu['textgen']['chars_per_s']:,.0f} chars/s, 2 CPU cores "
        f"{cpu['textgen']['chars_per_s']:,.0f} chars/s, {results['ratios']['textgen']:.1f}x (target >= 20x)\n"
        f"global forecaster: GPU {gpu['forecaster']['windows_per_s']:,.0f} windows/s, 2 CPU cores "
        f"{cpu['forecaster']['windows_per_s']:,.0f} windows/s, {results['ratios']['forecaster']:.1f}x",
        flush=True,
    )
    save()


if __name__ == "__main__":
    main()
