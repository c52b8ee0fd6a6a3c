"""Training a character model: validation loss in nats and bits per character every epoch, early stopping
with the best weights restored, an optional time limit. Arrays in, a result out. Each epoch cuts the
training text at a fresh random offset and shuffles the windows, so no window boundary is seen twice in a
row (the model meets far more distinct contexts than fixed windows give it)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.smoke import smoke_callbacks
from textgen.config import TextGenConfig
from textgen.data import Arrays, windows

LN2 = math.log(2)


@dataclass
class TextTrainResult:
    model: object  # keras.Model
    history: dict[str, list[float]]
    epochs_run: int
    seconds: float
    chars_per_s: float
    best_val_loss: float


def bits(nats: float) -> float:
    return nats / LN2


def train(
    cfg: TextGenConfig,
    arrays: Arrays,
    vocab_size: int,
    verbose: int = 0,
    on_epoch: Callable[[int, dict, object], None] | None = None,
    initial_weights: list | None = None,
) -> TextTrainResult:
    import keras

    from textgen.model import build

    keras.utils.set_random_seed(cfg.seed)
    model = build(cfg, vocab_size)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    started = time.perf_counter()
    callbacks = [
        keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=cfg.lr_patience, min_lr=1e-4),
        _Report(on_epoch, started, cfg.time_limit),
        *smoke_callbacks(),
    ]
    batches = shifted_windows(arrays.train_ids, cfg.seq_len, cfg.batch_size, cfg.seed)
    fit = model.fit(
        batches,
        validation_data=(arrays.x_val, arrays.y_val),
        validation_batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    history["val_bpc"] = [bits(v) for v in history.get("val_loss", [])]
    epochs = len(history.get("loss", []))
    chars = batches.chars_per_epoch * epochs
    return TextTrainResult(
        model, history, epochs, seconds, chars / seconds, float(np.min(history["val_loss"]))
    )


class _Report:
    """Calls back with nats and bits per character after each epoch; stops at the time limit."""

    def __new__(cls, on_epoch, started: float, time_limit: float):
        import keras

        class Report(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = dict(logs or {})
                logs["val_bpc"] = bits(logs.get("val_loss", float("nan")))
                logs["seconds"] = time.perf_counter() - started
                if on_epoch is not None:
                    on_epoch(epoch + 1, logs, self.model)
                # Stop when another epoch like the ones so far would overrun the limit.
                if time_limit and logs["seconds"] * (epoch + 2) / (epoch + 1) > time_limit:
                    self.model.stop_training = True

        return Report()


def shifted_windows(ids: np.ndarray, seq_len: int, batch_size: int, seed: int):
    """Batches of training windows, re-cut at a random offset and reshuffled after every epoch. The number
    of windows is the same for every offset (those that fit after the largest one), and batches are full
    (the shuffled remainder waits for another epoch), so every step has one shape."""
    import keras

    class Shifted(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.count = max(1, (len(ids) - seq_len) // seq_len)
            self.batch = min(batch_size, self.count)
            self.chars_per_epoch = len(self) * self.batch * seq_len
            self.on_epoch_end()

        def __len__(self) -> int:
            return self.count // self.batch

        def __getitem__(self, index: int):
            rows = self.order[index * self.batch : (index + 1) * self.batch]
            return self.x[rows], self.y[rows]

        def on_epoch_end(self) -> None:
            spare = len(ids) - 1 - self.count * seq_len  # characters left over after the windows
            offset = int(self.rng.integers(min(seq_len, spare + 1)))
            x, y = windows(ids, seq_len, offset)
            self.x, self.y = x[: self.count], y[: self.count]
            self.order = self.rng.permutation(self.count)

    return Shifted()
