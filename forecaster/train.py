"""Training and batched prediction. Arrays in, a TrainResult out; storing it is the pipeline's job."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from forecaster.config import ForecastConfig
from forecaster.windows import Windows


@dataclass
class TrainResult:
    model: object  # keras.Model
    history: dict[str, list[float]]
    epochs_run: int


def model_inputs(cfg: ForecastConfig, x: np.ndarray, y: np.ndarray | None = None):
    """seq2seq also takes the previous target value at each output step (teacher forcing)."""
    if cfg.model != "seq2seq":
        return x
    previous = np.zeros((len(x), cfg.horizon, 1), dtype=np.float32)
    previous[:, 0, 0] = x[:, -1, 0]
    if y is not None:
        previous[:, 1:, 0] = y[:, :-1]
    return [x, previous]


def train(
    cfg: ForecastConfig,
    train_w: Windows,
    val_w: Windows,
    season: int = 1,
    verbose: int = 0,
    tensorboard: str | None = None,
) -> TrainResult:
    import keras

    from forecaster.models import build

    keras.utils.set_random_seed(cfg.seed)
    model = build(cfg, train_w.x.shape[-1], season)
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss="mse", metrics=["mae"])
    callbacks = [
        keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=max(cfg.patience // 2, 1), min_lr=1e-5),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=tensorboard))
    fit = model.fit(
        model_inputs(cfg, train_w.x, train_w.y),
        train_w.y,
        validation_data=(model_inputs(cfg, val_w.x, val_w.y), val_w.y),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    return TrainResult(model, history, len(history.get("loss", [])))


def predict(cfg: ForecastConfig, model, windows: Windows, batch_size: int = 1024) -> np.ndarray:
    """Forecasts for every window at once, in the series' own units."""
    if cfg.model == "seq2seq":
        normalised = decode_seq2seq(cfg, model, windows.x)
    else:
        normalised = model.predict(windows.x, batch_size=batch_size, verbose=0)
    return windows.denormalise(np.asarray(normalised, dtype=np.float64))


def decode_seq2seq(cfg: ForecastConfig, model, x: np.ndarray) -> np.ndarray:
    """Autoregressive decoding: each step is fed the previous prediction, all windows in one batch."""
    previous = np.zeros((len(x), cfg.horizon, 1), dtype=np.float32)
    previous[:, 0, 0] = x[:, -1, 0]
    out = np.zeros((len(x), cfg.horizon), dtype=np.float32)
    for step in range(cfg.horizon):
        pred = np.asarray(model.predict([x, previous], batch_size=1024, verbose=0))
        out[:, step] = pred[:, step]
        if step + 1 < cfg.horizon:
            previous[:, step + 1, 0] = pred[:, step]
    return out


def interactive() -> int:
    """Keras' progress bar for a person at a terminal; nothing under the scheduler or in a pipe."""
    return 1 if sys.stdout.isatty() else 0
