"""`RECUR_SMOKE_STEPS=N`: every training run stops after N batches (one partial epoch, still validated and
registered as usual; a text generator validates on its first N batches of validation windows and does not
time a validation batch ahead for its time limit), and the statistical peers fit, and are carried forward
to later backtest origins, on each series' last SMOKE_POINTS points. It makes the README's examples
runnable as written in a test, in seconds; a real run never sets it."""

from __future__ import annotations

import os

ENV = "RECUR_SMOKE_STEPS"
SMOKE_POINTS = 100


def _steps() -> int:
    return int(os.environ.get(ENV, "0") or 0)


def smoke_points() -> int | None:
    """None normally; under RECUR_SMOKE_STEPS, how many of a series' last points a statistical fit sees."""
    return SMOKE_POINTS if _steps() > 0 else None


def smoke_rows(batch_size: int) -> int | None:
    """None normally; under RECUR_SMOKE_STEPS, how many validation rows a run scores: that many batches."""
    steps = _steps()
    return steps * batch_size if steps > 0 else None


def smoke_callbacks() -> list:
    """[] normally; under RECUR_SMOKE_STEPS, a Keras callback that ends training after that many batches."""
    steps = _steps()
    if steps <= 0:
        return []
    import keras

    class _StopAfter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seen = 0

        def on_train_batch_end(self, batch, logs=None) -> None:
            self.seen += 1
            if self.seen >= steps:
                self.model.stop_training = True

    return [_StopAfter()]
