"""The GPU path, where a GPU is visible (skipped elsewhere): training really runs there, the fused
recurrent kernel's conditions hold, mixed precision keeps float32 outputs, --device cpu hides the card."""

from __future__ import annotations

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.gpu
TINY = ["--lookback", "12", "--horizon", "6", "--units", "16", "--epochs", "2", "--windows", "3"]


def test_forecaster_trains_on_the_gpu_without_a_flag(recur):
    from bench.gpu import memory_in_use

    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    out = recur.json("forecast", "train", "airline", "--model", "lstm", *TINY)
    # Every backend runs an unmasked LSTM as cuDNN's fused kernel; the framework holds memory on the card.
    assert out["device"] != "cpu" and out["metrics"]["cudnn"] is True
    assert memory_in_use() > 0


def test_device_cpu_hides_the_gpu(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    out = recur.json("forecast", "train", "airline", "--model", "gru", "--device", "cpu", *TINY)
    assert out["device"] == "cpu" and out["metrics"]["cudnn"] is False


def test_mixed_precision_keeps_float32_outputs(recur, write):
    from pipelines.sampling import load

    recur(
        "corpus", "ingest", write("c.txt", (DATA / "tinyshakespeare.txt").read_text()[:50_000]), "--name", "c"
    )
    out = recur.json("textgen", "train", "c", "--preset", "tiny", "--epochs", "1", "--precision", "mixed")
    assert out["precision"] == "mixed_float16" and out["device"] != "cpu"
    shown = recur.json("models", "show", str(out["version"]))
    assert shown["metrics"]["val_loss"] == out["val_loss"]
    from core.settings import Settings

    loaded = load(Settings.resolve(recur.home), "c", None)
    assert loaded.model.dense_kernel.dtype.name == "float32"


def test_doctor_names_the_gpu(recur):
    out = recur.json("doctor")
    assert out["gpus"] and "(" in out["gpus"][0]  # the device and its model, e.g. "cuda:0 (NVIDIA H200)"
    assert out["gpus"][0] in recur("doctor").output
