"""Which device runs the work: the GPU when one is visible (no flag needed), or what --device asks for;
memory growth so several runs can share a card; --precision mixed with float32 outputs."""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress

from core.errors import RecurError

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("float32", "mixed")
# The recurrent cells each backend runs as one fused cuDNN kernel on a GPU (tanh/sigmoid, no recurrent
# dropout, GRU reset_after=True): JAX has cuDNN's LSTM (jax.experimental.rnn) but no GRU. With a padding
# mask only TensorFlow keeps the fused kernel (for right-padded sequences, which TextVectorization makes).
FUSED_CELLS = {"tensorflow": ("lstm", "gru"), "jax": ("lstm",), "torch": ("lstm", "gru")}
FUSED_MASKED = {"tensorflow": ("lstm", "gru")}


def share_the_card() -> None:
    """JAX's counterpart of TensorFlow's memory growth: allocate on demand instead of taking 75% of the
    card up front. Must run before JAX first touches a device (the CLI calls it at start)."""
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def visible_gpus() -> tuple[str, list[str]]:
    """The Keras backend and the GPUs it sees (this imports the backend: seconds, not milliseconds)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        found = tf.config.list_physical_devices("GPU")
        return backend, [_named(d.name, tf.config.experimental.get_device_details(d)) for d in found]
    if backend == "jax":
        import jax

        return backend, [f"{d} ({d.device_kind})" for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return backend, [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return backend, []


def _named(name: str, details: dict) -> str:
    model = details.get("device_name")
    return f"{name} ({model})" if model else name


def device_info() -> tuple[str, str]:
    """The backend and the device the work runs on."""
    backend, gpus = visible_gpus()
    return backend, (gpus[0] if gpus else "cpu")


@contextmanager
def _keras_jax_without_cudnn() -> Iterator[None]:
    """Keras on JAX picks cuDNN's LSTM whenever JAX's default backend is the GPU, even for arrays placed
    on the CPU, and cuDNN's JAX kernel has no float16; for this block, Keras is told there is no GPU."""
    rnn = importlib.import_module("keras.src.backend.jax.rnn")
    previous = rnn._is_gpu_available
    rnn._is_gpu_available = lambda: False
    try:
        yield
    finally:
        rnn._is_gpu_available = previous


@contextmanager
def _on_cpu(backend: str) -> Iterator[None]:
    """Run the block on the CPU although a GPU is visible (--device cpu), and leave the process as it was."""
    if backend == "tensorflow":
        import tensorflow as tf

        # The whole process when nothing has run yet; once initialised, the device scope does it.
        with suppress(RuntimeError):
            tf.config.set_visible_devices([], "GPU")
        with tf.device("/CPU:0"):
            yield
    elif backend == "jax":
        import jax

        with _keras_jax_without_cudnn(), jax.default_device(jax.devices("cpu")[0]):
            yield
    else:
        yield


def _cpu_only_before_start(backend: str) -> None:
    """--device cpu on JAX, in a process that has not touched a device yet: start the CPU platform alone."""
    if backend != "jax":
        return
    with suppress(ImportError, AttributeError):
        import jax
        from jax._src import xla_bridge

        if not xla_bridge.backends_are_initialized():
            jax.config.update("jax_platforms", "cpu")


def _memory_growth(backend: str) -> None:
    if backend != "tensorflow":
        return  # JAX and PyTorch allocate on demand when told to by their own settings
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        # Growth can only be set before the device is initialised; later runs in one process keep it.
        with suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)


@contextmanager
def placed(device: str = "auto", precision: str = "float32") -> Iterator[tuple[str, str]]:
    """Choose the device and the dtype policy for one training run; yields (device name, policy)."""
    import keras

    if device not in DEVICES or precision not in PRECISIONS:
        raise RecurError(f"--device {device!r} / --precision {precision!r}: choose {DEVICES} / {PRECISIONS}")
    if device == "cpu":
        _cpu_only_before_start(keras.backend.backend())
    backend, gpus = visible_gpus()
    if device == "gpu" and not gpus:
        raise RecurError(
            f"--device gpu: the {backend} backend sees no GPU; `recur doctor` lists devices and the README "
            "says how to install for a GPU (tensorflow[and-cuda])"
        )
    hide = device == "cpu" and bool(gpus)
    if hide:
        gpus = []
    _memory_growth(backend)
    policy = "float32"
    if precision == "mixed":
        if gpus:
            policy = "mixed_float16"
        else:
            warnings.warn("--precision mixed needs a GPU; training in float32 on the CPU", stacklevel=3)
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    if hide:
        scope = _on_cpu(backend)
    elif backend == "jax" and policy != "float32":
        scope = _keras_jax_without_cudnn()
    else:
        scope = nullcontext()
    try:
        with scope:
            yield (gpus[0] if gpus else "cpu"), policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def fused_kernel(
    device: str, cell: str, recurrent_dropout: float = 0.0, masked: bool = False, policy: str = "float32"
) -> bool:
    """Whether this run's recurrent layers ran as cuDNN's fused kernel: on a GPU, for the cells the Keras
    backend fuses, without recurrent dropout (recur's layers meet the other conditions by construction);
    on JAX in float32 only (its cuDNN kernel has no float16)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax" and policy != "float32":
        return False
    fused = (FUSED_MASKED if masked else FUSED_CELLS).get(backend, ())
    return device != "cpu" and recurrent_dropout == 0 and cell in fused
