"""Which device runs the work: the GPU when one is visible (no flag needed), or what --device asks for;
memory growth so several runs can share a card; --precision mixed with float32 outputs."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from db.errors import RecurError

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("float32", "mixed")


def visible_gpus() -> tuple[str, list[str]]:
    """The Keras backend and the GPUs it sees (this imports the backend: seconds, not milliseconds)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return backend, [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return backend, [str(d) for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return backend, [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return backend, []


def device_info() -> tuple[str, str]:
    """The backend and the device the work runs on."""
    backend, gpus = visible_gpus()
    return backend, (gpus[0] if gpus else "cpu")


def _hide_gpus(backend: str) -> None:
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.set_visible_devices([], "GPU")
    elif backend == "jax":
        import jax

        jax.config.update("jax_default_device", jax.devices("cpu")[0])


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
    backend, gpus = visible_gpus()
    if device == "gpu" and not gpus:
        raise RecurError(
            f"--device gpu: the {backend} backend sees no GPU; `recur doctor` lists devices and the README "
            "says how to install for a GPU (tensorflow[and-cuda])"
        )
    if device == "cpu" and gpus:
        _hide_gpus(backend)
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
    try:
        yield (gpus[0] if gpus else "cpu"), policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def cudnn_eligible(recurrent_dropout: float = 0.0) -> bool:
    """recur's recurrent layers use tanh/sigmoid, no unrolling, biases, GRU reset_after=True: the fused
    kernel applies unless recurrent dropout is asked for."""
    return recurrent_dropout == 0
