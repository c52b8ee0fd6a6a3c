"""The training_run rows around a fit: started before it, finished (or failed) after it, with the device
that did the work. No transaction stays open while a model trains."""

from __future__ import annotations

from core.settings import Settings
from db import registry
from db.engine import write_session
from db.tables import TrainingRun, utcnow


def start(settings: Settings, kind: str, subject: str) -> int:
    """A new run, after marking abandoned the runs of this host whose process is gone."""
    with write_session(settings) as session:
        registry.reap_runs(session)
        return registry.start_run(session, kind, subject).id


def succeed(session, run_id: int, epochs_run: int, history: dict, device: str) -> str:
    """Mark the run done inside the caller's transaction (the one that registers the model), with the
    device that trained it (the one `placed` chose, not merely the first one visible)."""
    import keras

    run = session.get(TrainingRun, run_id)
    run.backend, run.device = keras.backend.backend(), device
    run.status, run.finished_at, run.epochs_run, run.history = "succeeded", utcnow(), epochs_run, history
    return run.device


def fail(settings: Settings, run_id: int, exc: BaseException) -> None:
    with write_session(settings) as session:
        run = session.get(TrainingRun, run_id)
        run.status, run.finished_at = "failed", utcnow()
        run.error = f"{type(exc).__name__}: {exc}"[-4000:]


def register(session, run_id: int, result, promote: bool, device: str, **version) -> tuple:
    """The end of every training pipeline, in the caller's one transaction: the version (as a challenger),
    its promotion when the gate passed, and the run marked done. Returns (version, device)."""
    added = registry.add_version(session, alias="challenger", training_run_id=run_id, **version)
    if promote:
        registry.promote(session, added)
    return added, succeed(session, run_id, result.epochs_run, result.history, device)
