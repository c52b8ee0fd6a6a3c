"""Training and batched prediction. Arrays in, a TrainResult out; storing it is the pipeline's job."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.smoke import smoke_callbacks
from forecaster.config import ForecastConfig
from forecaster.intervals import heads_of
from forecaster.windows import Windows

PREDICT_BATCH = 256  # one predict shape per model: batches of this size, the last padded


@dataclass
class TrainResult:
    model: object  # keras.Model (one network, or the median of an ensemble)
    history: dict[str, list[float]]  # the first network's
    epochs_run: int
    best_epochs: list[int] = field(default_factory=list)  # per network: the epoch whose weights were kept
    members: list = field(default_factory=list)  # the networks themselves (one, or an ensemble's)
    best_losses: list[float] = field(default_factory=list)  # per network: its best validation loss
    histories: list[dict] = field(default_factory=list)  # per network
    finished: bool = True  # every network stopped by itself (early stopping or --epochs), not by the clock


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
    seconds: float = 0.0,
) -> TrainResult:
    """`cfg.ensemble` networks from seeds seed, seed+1, ..., each stopped early on the validation windows
    with its best weights restored; with `seconds`, all of them stop by then (and can be `resume`d)."""
    members = [_compiled(cfg, train_w.x.shape[-1], season, cfg.seed + j) for j in range(cfg.ensemble)]
    start = TrainResult(
        None, {}, 0, [0] * len(members), members, [np.inf] * len(members), [{}] * len(members)
    )
    start.finished = False
    return resume(cfg, start, train_w, val_w, seconds, (verbose, tensorboard))


def resume(
    cfg: ForecastConfig, result: TrainResult, train_w: Windows, val_w: Windows, seconds: float, show=(0, None)
) -> TrainResult:
    """Train each network on from where it stopped, for `seconds` in all (0: until it stops by itself);
    a network whose validation loss does not improve keeps the weights it had."""
    import time

    if result.finished:
        return result
    deadline = time.monotonic() + seconds if seconds else None
    verbose, tensorboard = show
    members, best, losses, histories, finished = [], [], [], [], True
    for j, model in enumerate(result.members):
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0) / (len(result.members) - j)
        board = tensorboard if j == 0 else None
        one = _fit_on(
            cfg, model, (train_w, val_w), (result.histories[j], result.best_losses[j]), left, (verbose, board)
        )
        history, kept, loss, stopped = one
        members.append(model)
        histories.append(history)
        best.append(kept or result.best_epochs[j])
        losses.append(loss)
        finished = finished and stopped
    epochs = len(histories[0].get("loss", []))
    return TrainResult(
        combine(cfg, members), histories[0], epochs, best, members, losses, histories, finished
    )


def _fit_on(cfg: ForecastConfig, model, data, before: tuple[dict, float], seconds, show):
    """One network trained on: (its whole history, the epoch kept (0: none better than before), its best
    validation loss, whether it stopped by itself)."""
    import keras

    from nn.callbacks import Deadline

    train_w, val_w = data
    history, best_before = before
    verbose, tensorboard = show
    kept_weights = model.get_weights()
    done = len(history.get("loss", []))
    stopper = keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True)
    callbacks = [
        stopper,
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=max(cfg.patience // 2, 1), min_lr=1e-5),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=tensorboard))
    clock = Deadline(seconds) if seconds is not None else None
    fit = model.fit(
        model_inputs(cfg, train_w.x, train_w.y),
        train_w.y,
        validation_data=(model_inputs(cfg, val_w.x, val_w.y), val_w.y) if len(val_w) else None,
        initial_epoch=done,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        shuffle=True,
        callbacks=(callbacks if len(val_w) else []) + ([clock] if clock else []) + smoke_callbacks(),
        verbose=verbose,
    )
    new = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    merged = {k: history.get(k, []) + new.get(k, []) for k in new}
    losses = new.get("val_loss") or new.get("loss") or [np.inf]
    stopped = clock is None or not clock.fired
    if min(losses) >= best_before:  # no better than before this stretch: keep what it had
        model.set_weights(kept_weights)
        return merged, 0, best_before, stopped
    return merged, done + int(np.argmin(losses)) + 1, float(min(losses)), stopped


def refit(cfg: ForecastConfig, windows: Windows, season: int, backtested: TrainResult, verbose: int = 0):
    """The issued networks, trained on every window up to the last observation so they have seen the latest
    data: `full` trains fresh ones, each for the epochs its backtest counterpart kept; `tune` continues the
    backtest networks for a tenth of those epochs at a tenth of the learning rate."""
    import keras

    members, history = [], {}
    for j, best in enumerate(backtested.best_epochs):
        if cfg.refit == "tune":
            model, epochs = backtested.members[j], max(1, -(-best // 10))
            compile_for(cfg, model, cfg.learning_rate / 10)
        else:
            model, epochs = _compiled(cfg, windows.x.shape[-1], season, cfg.seed + j), best
        plateau = keras.callbacks.ReduceLROnPlateau(
            monitor="loss", factor=0.5, patience=max(cfg.patience // 2, 1), min_lr=1e-5
        )
        fit = model.fit(
            model_inputs(cfg, windows.x, windows.y),
            windows.y,
            epochs=epochs,
            batch_size=cfg.batch_size,
            shuffle=True,
            callbacks=[plateau, *smoke_callbacks()],
            verbose=verbose,
        )
        history = history or {k: [float(v) for v in vals] for k, vals in fit.history.items()}
        members.append(model)
    epochs_run = len(history.get("loss", []))
    return TrainResult(combine(cfg, members), history, epochs_run, list(backtested.best_epochs), members)


def _compiled(cfg: ForecastConfig, features: int, season: int, seed: int):
    import keras

    from forecaster.networks import build

    keras.utils.set_random_seed(seed)
    model = build(cfg, features, season)
    compile_for(cfg, model, cfg.learning_rate)
    return model


def compile_for(cfg: ForecastConfig, model, learning_rate: float) -> None:
    """Adam on `cfg.loss`: mae or mse (MAE tracked beside), or the quantile heads' pinball loss."""
    import keras

    if cfg.loss == "pinball":
        from forecaster.networks import Pinball

        loss, tracked = Pinball(), []
    else:
        loss, tracked = cfg.loss, ["mae"]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=tracked)


def combine(cfg: ForecastConfig, members: list):
    """One network as it is; several as one model whose output is their median (robust to one bad seed)."""
    if len(members) == 1:
        return members[0]
    import keras

    from forecaster.networks import EnsembleMedian

    inputs = [keras.Input(shape=t.shape[1:], name=t.name.split(":")[0]) for t in members[0].inputs]
    x = inputs if len(inputs) > 1 else inputs[0]
    for j, m in enumerate(members):
        m.name = f"member_{j}"
    outputs = EnsembleMedian(name="forecast_median")([m(x) for m in members])
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=f"ensemble_{cfg.model}")


def predict_normalised(
    cfg: ForecastConfig, model, windows: Windows, batch_size: int = PREDICT_BATCH
) -> np.ndarray:
    """Forecasts for every window at once, on the normalised scale (float64): a quantile network's median."""
    return predict_heads(cfg, model, windows, batch_size)[0]


def predict_heads(
    cfg: ForecastConfig, model, windows: Windows, batch_size: int = PREDICT_BATCH
) -> tuple[np.ndarray, tuple | None]:
    """(point, band) for every window at once, on the normalised scale: the band (lower, upper) a quantile
    network's heads give (intervals.heads_of), None for a point network."""
    if cfg.model == "seq2seq":
        out = decode_seq2seq(cfg, model, windows.x)
    else:
        out = padded_predict(model, [windows.x], batch_size)
    return heads_of(out)


def padded_predict(model, inputs: list[np.ndarray], batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """`model.predict` in batches of one size, the last (or only) one padded, so that a model compiles its
    predict step once, not once per call and remainder (TensorFlow's retracing)."""
    n = len(inputs[0])
    if n == 0:
        return model.predict([x[:0] for x in inputs] if len(inputs) > 1 else inputs[0][:0], verbose=0)
    size = batch_size
    pad = -n % size
    padded = [np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]) if pad else x for x in inputs]
    out = model.predict(padded if len(padded) > 1 else padded[0], batch_size=size, verbose=0)
    return np.asarray(out)[:n]


def predict(cfg: ForecastConfig, model, windows: Windows, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """Forecasts for every window at once, in the series' own units."""
    return windows.denormalise(predict_normalised(cfg, model, windows, batch_size))


def decode_seq2seq(cfg: ForecastConfig, model, x: np.ndarray) -> np.ndarray:
    """Autoregressive decoding: each step is fed the previous prediction, all windows in one batch."""
    previous = np.zeros((len(x), cfg.horizon, 1), dtype=np.float32)
    previous[:, 0, 0] = x[:, -1, 0]
    out = np.zeros((len(x), cfg.horizon), dtype=np.float32)
    for step in range(cfg.horizon):
        pred = padded_predict(model, [x, previous])
        out[:, step] = pred[:, step]
        if step + 1 < cfg.horizon:
            previous[:, step + 1, 0] = pred[:, step]
    return out
