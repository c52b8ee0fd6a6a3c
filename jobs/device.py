"""Which backend and device the work runs on: the GPU when one is visible, with no flag."""

from __future__ import annotations


def device_info() -> tuple[str, str]:
    """The backend and the device the work runs on (GPU when one is visible)."""
    import keras

    backend = keras.backend.backend()
    gpus: list[str] = []
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    elif backend == "jax":
        import jax

        gpus = [str(d) for d in jax.devices() if d.platform == "gpu"]
    return backend, (gpus[0] if gpus else "cpu")
