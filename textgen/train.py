"""Training a character model: validation loss in nats and bits per character every epoch, early stopping
with the best weights restored, an optional time budget honoured to the step. Arrays in, a result out.
Each epoch cuts the training text at a fresh random offset and shuffles the windows, so no window boundary
is seen twice in a row (the model meets far more distinct contexts than fixed windows give it)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from core.smoke import smoke_callbacks, smoke_rows
from textgen.config import TextGenConfig
from textgen.data import Arrays, streams, windows

LN2 = math.log(2)


@dataclass
class TextTrainResult:
    model: object  # keras.Model
    history: dict[str, list[float]]
    epochs_run: int
    seconds: float
    chars_per_s: float  # characters a second of training (validation's time excluded)
    best_val_loss: float
    last_step_s: float = 0.0  # what the budget's last decision knew: a step's time (smoothed) and the
    last_validation_s: float = 0.0  # last validation's; a slower machine than measured overruns by these
    validation_s: float = 0.0  # every validation's, together


def bits(nats: float) -> float:
    return nats / LN2


PROGRESS_S = 10.0  # seconds between progress lines inside an epoch, when nobody watches a progress bar
MIN_LR_SHARE = 0.05  # the schedule over a time budget ends at this share of the learning rate


def train(
    cfg: TextGenConfig,
    arrays: Arrays,
    vocab_size: int,
    verbose: int = 0,
    on_epoch: Callable[[int, dict, object], None] | None = None,
    initial_weights: list | None = None,
    on_progress: Callable[[dict], None] | None = None,
) -> TextTrainResult:
    """Fit until early stopping, the epoch limit or the time limit. A time limit is a budget for training
    and validation together, checked after every step: the last epoch is cut short and still validated,
    and the learning rate holds, then decays by a half cosine over the budget's last `decay` share of wall
    time (from the first epoch that does not improve, if earlier), instead of halving on plateaus."""
    import keras

    rows = smoke_rows(cfg.batch_size)
    if rows:
        arrays = replace(arrays, x_val=arrays.x_val[:rows], y_val=arrays.y_val[:rows])
    batches = shifted_windows(arrays.train_ids, cfg.seq_len, cfg.batch_size, cfg.seed, cfg.carry_state)
    model, trained = _models(cfg, vocab_size, batches.batch, initial_weights)
    val_batches = -(-len(arrays.x_val) // cfg.batch_size)
    per_val_batch = _validation_cost(model, arrays, cfg.batch_size) if cfg.time_limit and not rows else 0.0
    clock = _Clock(cfg, batches, val_batches * per_val_batch, on_epoch, on_progress)
    callbacks = [keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True), clock]
    if not cfg.time_limit:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=cfg.lr_patience, min_lr=1e-4))
    validation = {"validation_data": (arrays.x_val, arrays.y_val), "validation_batch_size": cfg.batch_size}
    if cfg.carry_state:  # the stateful model validates through its stateless twin (any number of rows)
        callbacks.insert(0, _carried(model, arrays, cfg.batch_size, clock))
        validation = {}
    fit = trained.fit(
        batches,
        epochs=cfg.epochs,
        callbacks=[*callbacks, *smoke_callbacks()],
        verbose=verbose,
        **validation,
    )
    if trained is not model:
        model.set_weights(trained.get_weights())
    seconds = time.perf_counter() - clock.started
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    history["val_bpc"] = [bits(v) for v in history.get("val_loss", [])]
    epochs = len(history.get("loss", []))
    chars = clock.steps * batches.batch * cfg.seq_len
    return TextTrainResult(
        model,
        history,
        epochs,
        seconds,
        chars / max(seconds - clock.validating, 1e-9),  # training's rate: validation excluded
        float(np.min(history["val_loss"])),
        clock.step_s,
        clock.validation_s,
        clock.validating,
    )


def _models(cfg: TextGenConfig, vocab_size: int, batch: int, initial_weights: list | None):
    """The model scored, saved and exported, and the one trained: the same, or with the state carried,
    a stateful twin for batches of `batch` rows (same weights). Both compiled."""
    import keras

    from textgen.model import build

    keras.utils.set_random_seed(cfg.seed)
    model = build(cfg, vocab_size)
    trained = build(cfg, vocab_size, batch) if cfg.carry_state else model
    if initial_weights is not None:
        trained.set_weights(initial_weights)
    elif trained is not model:
        trained.set_weights(model.get_weights())
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(loss=loss)
    trained.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate, clipnorm=5.0), loss=loss)
    return model, trained


def _carried(scored, arrays: Arrays, batch_size: int, clock):
    """With the state carried: every epoch starts from zero state, and ends validated by `scored` (the
    stateless model) given the trained weights; the loss goes into the epoch's logs before early stopping,
    the clock and the history read them."""
    import keras

    class Carried(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            for layer in self.model.layers:
                if getattr(layer, "stateful", False):
                    layer.reset_states()

        def on_epoch_end(self, epoch, logs=None):
            clock.on_test_begin()
            scored.set_weights(self.model.get_weights())
            x, y = arrays.x_val, arrays.y_val
            logs["val_loss"] = float(scored.evaluate(x, y, batch_size=batch_size, verbose=0))
            clock.on_test_end()

    return Carried()


def _validation_cost(model, arrays: Arrays, batch_size: int) -> float:
    """Seconds one validation batch takes, measured before the clock starts (the first call traces)."""
    x, y = arrays.x_val[:batch_size], arrays.y_val[:batch_size]
    model.evaluate(x, y, batch_size=batch_size, verbose=0)
    rest = len(arrays.x_val) % batch_size
    if rest and len(arrays.x_val) > batch_size:  # the last, smaller batch has a shape of its own
        model.evaluate(arrays.x_val[:rest], arrays.y_val[:rest], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    model.evaluate(x, y, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start


def _progress(clock, step: int, now: float, limit: float, chars_per_step: int, steps: int) -> dict:
    """Where an epoch stands: the step, characters per second of training (validation excluded), and the
    seconds left in the epoch (or in the budget, if that ends first)."""
    training = now - clock.started - clock.validating
    rate = clock.steps * chars_per_step / max(training, 1e-9)
    left = (steps - step) * chars_per_step / rate
    if limit:
        left = min(left, limit - (now - clock.started))
    return {"epoch": clock.epoch, "step": step, "steps": steps, "chars_per_s": rate, "eta_s": max(left, 0.0)}


def budget_share(elapsed: float, budget: float, decay_from: float) -> float:
    """The share of the learning rate at `elapsed` seconds of a `budget`: 1 until `decay_from`, then a half
    cosine down to MIN_LR_SHARE at the budget's end ("stable, then decay"; from 0, a cosine over it all)."""
    span = max(budget - decay_from, 1e-9)
    into = min(max(elapsed - decay_from, 0.0) / span, 1.0)
    return MIN_LR_SHARE + (1 - MIN_LR_SHARE) * 0.5 * (1 + math.cos(math.pi * into))


def decay_start(scheduled: float, elapsed: float, improved: bool) -> float:
    """When the decay begins: at its scheduled second, or at the end of the first epoch whose validation
    did not improve, if that comes first (the rate is too high to make progress: spend what is left of the
    budget decaying it, rather than let early stopping end the run at the high rate)."""
    return scheduled if improved else min(scheduled, elapsed)


class _Clock:
    """Per step: the learning rate laid over the time budget, the stop that leaves room for the last
    validation, and progress lines (steps, characters/s, ETA). Per epoch: nats and bits per character."""

    def __new__(cls, cfg: TextGenConfig, batches, validation_s: float, on_epoch, on_progress):
        import keras

        limit, chars_per_step, steps_per_epoch = cfg.time_limit, batches.batch * cfg.seq_len, len(batches)

        class Clock(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.started = time.perf_counter()
                self.steps, self.validating, self.reported = 0, 0.0, self.started
                self.validation_s = validation_s  # estimated, then measured
                self.decay_from, self.best = limit * (1 - cfg.decay), math.inf

            def on_train_begin(self, logs=None):
                self.started = self.reported = self.last = time.perf_counter()
                self.step_s = 0.0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch + 1

            def on_train_batch_begin(self, batch, logs=None):
                if limit:
                    share = budget_share(time.perf_counter() - self.started, limit, self.decay_from)
                    self.model.optimizer.learning_rate.assign(cfg.learning_rate * share)

            def on_train_batch_end(self, batch, logs=None):
                self.steps += 1
                now = time.perf_counter()
                took, self.last = now - self.last, now
                self.step_s = took if self.steps == 1 else 0.9 * self.step_s + 0.1 * took
                # stop where the next step would end nearer the budget than this one, room left to validate
                if limit and now - self.started + self.validation_s + self.step_s / 2 >= limit:
                    self.model.stop_training = True
                if on_progress is not None and now - self.reported >= PROGRESS_S:
                    self.reported = now
                    on_progress(_progress(self, batch + 1, now, limit, chars_per_step, steps_per_epoch))

            def on_test_begin(self, logs=None):
                self.test_started = time.perf_counter()

            def on_test_end(self, logs=None):
                self.last = time.perf_counter()
                took = self.last - self.test_started
                self.validating += took
                self.validation_s = took

            def on_epoch_end(self, epoch, logs=None):
                logs = dict(logs or {})
                logs["val_bpc"] = bits(logs.get("val_loss", float("nan")))
                logs["seconds"] = time.perf_counter() - self.started
                improved, self.best = logs["val_loss"] < self.best, min(self.best, logs["val_loss"])
                self.decay_from = decay_start(self.decay_from, logs["seconds"], improved)
                # another epoch that could only take a few steps before validating again is not worth it
                if limit and limit - logs["seconds"] < self.validation_s + 3 * self.step_s:
                    self.model.stop_training = True
                if on_epoch is not None:
                    on_epoch(epoch + 1, logs, self.model)

        return Clock()


def shifted_windows(ids: np.ndarray, seq_len: int, batch_size: int, seed: int, carried: bool = False):
    """Batches of training windows, re-cut at a random offset and reshuffled after every epoch. The number
    of windows is the same for every offset (those that fit after the largest one), and batches are full
    (the shuffled remainder waits for another epoch), so every step has one shape. `carried`: not
    shuffled but laid out as streams (`data.streams`), each batch the next window of every stream."""
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
            if carried:
                self.x, self.y = streams(self.x, self.batch), streams(self.y, self.batch)
            self.order = np.arange(len(self.x)) if carried else self.rng.permutation(self.count)

    return Shifted()
