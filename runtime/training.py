"""The one training skeleton every model kind runs: a run record before the fit; the fit on the device the
run is placed on; the run marked failed on any error (nothing registered); then one transaction that
applies the gate, registers the version with the full library versions, and marks the run done."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

from core.errors import RecurError
from core.settings import Settings
from db.engine import write_session
from runtime import training_runs as runs
from runtime.artifacts import model_bytes
from runtime.device import fused_kernel, placed


@dataclass
class Fitted:
    """What a fit hands the skeleton: the trained result (`.model`, `.epochs_run`, `.history`) and what
    to register with it."""

    result: object
    architecture: str
    config: dict
    metrics: dict
    cell: str  # the recurrent cell, for the record of whether cuDNN's fused kernel ran
    recurrent_dropout: float = 0.0
    masked: bool = False
    inference: bytes | None = None
    extra: dict = field(default_factory=dict)  # what the pipeline wants back, not registered


# (session, fitted) -> (promote, the decision in words); runs inside the registering transaction, so
# the champion it compares with is the one current when the version is added
Gate = Callable[[object, Fitted], tuple[bool, str]]


@dataclass(frozen=True)
class Registered:
    version: int
    alias: str
    device: str
    reason: str
    metrics: dict
    fitted: Fitted


def still_held(gone: str | None) -> None:
    """In a gate: refuse to register a model of data the store no longer holds (`gone` says how it went)."""
    if gone:
        raise RecurError(f"{gone} while this run trained on it; nothing was registered (train again)")


def library_versions() -> dict[str, str]:
    """Everything a model needs to be reloaded and explained a year later: Python, Keras, its backend and
    that backend's own version, NumPy."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    out = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__}
    out["backend"] = backend
    package = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    if package:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # a CPU-only wheel under another name
            out[package] = __import__(package).__version__
    return out


def train_and_register(
    settings: Settings,
    kind: str,
    subject: str,
    fit: Callable[[], Fitted],
    gate: Gate,
    device: str = "auto",
    precision: str = "float32",
) -> Registered:
    run_id = runs.start(settings, kind, subject)
    try:
        with placed(device, precision) as (used, policy):
            fitted = fit()
        kernel = fused_kernel(used, fitted.cell, fitted.recurrent_dropout, fitted.masked, policy=policy)
        metrics = fitted.metrics | {"device": used, "precision": policy, "cudnn": kernel}
        config = fitted.config | {"versions": library_versions()}
        artifact = model_bytes(fitted.result.model)
        with write_session(settings) as session:
            promote, reason = gate(session, fitted)
            metrics["decision"] = reason
            version, device_used = runs.register(
                session,
                run_id,
                fitted.result,
                promote,
                used,
                artifact=artifact,
                inference=fitted.inference,
                kind=kind,
                subject=subject,
                architecture=fitted.architecture,
                config=config,
                metrics=metrics,
            )
            return Registered(version.id, version.alias, device_used, reason, metrics, fitted)
    except Exception as exc:
        runs.fail(settings, run_id, exc)
        raise
