"""Training callbacks every model kind may use."""

from __future__ import annotations

import time

import keras


class Deadline(keras.callbacks.Callback):
    """Stops training once `seconds` of wall-clock time have passed, checked after every batch (the epoch's
    validation still runs, so early stopping keeps the best weights seen); `fired` says whether it did."""

    def __init__(self, seconds: float):
        super().__init__()
        self.until, self.fired = time.monotonic() + seconds, False

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() >= self.until:
            self.fired = True
            self.model.stop_training = True
