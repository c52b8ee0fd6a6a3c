"""Keras 3 functional builders for every forecaster, registered by their --model name. Every layer is
named, so inference models (seq2seq decoding, attention weights) are assembled with get_layer(name)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import keras
from keras import layers, ops

from forecaster.baselines import LONGER
from forecaster.config import ForecastConfig
from forecaster.intervals import HEAD_QUANTILES, QUANTILES
from nn.layers import CELLS, AttentionPooling


@keras.saving.register_keras_serializable(package="recur")
class SeasonalNaive(layers.Layer):
    """The seasonal-naive forecast of the (normalised) target channel: the last `season` inputs repeated
    over the horizon. Added to a network's output, the network learns corrections to the baseline it must
    beat, and starts from it. With a `longer` cycle (a week's hours beside a day's), the forecast moves from
    the season's towards the longer cycle's by a weight learned per horizon step, zero to begin with: the
    untrained network is exactly seasonal naive, and training finds how much of the week to take."""

    def __init__(self, season: int, horizon: int, longer: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.season, self.horizon, self.longer = season, horizon, longer

    def build(self, input_shape):
        if self.longer:
            self.towards = self.add_weight(shape=(self.horizon,), initializer="zeros", name="towards_longer")

    def _repeated(self, history, season: int):
        reps = -(-self.horizon // season)
        return ops.tile(history[:, -season:, 0], (1, reps))[:, : self.horizon]

    def call(self, history):
        base = self._repeated(history, self.season)
        if not self.longer:
            return base
        weight = ops.cast(self.towards, base.dtype)
        return base + weight * (self._repeated(history, self.longer) - base)

    def get_config(self):
        return super().get_config() | {"season": self.season, "horizon": self.horizon, "longer": self.longer}


@keras.saving.register_keras_serializable(package="recur")
class EnsembleMedian(layers.Layer):
    """The median of several networks' forecasts, step by step."""

    def call(self, forecasts):
        return ops.median(ops.stack(forecasts, axis=0), axis=0)


@keras.saving.register_keras_serializable(package="recur")
class Pinball(keras.losses.Loss):
    """The mean pinball loss of quantile forecasts (batch, quantiles, horizon) against the actuals (batch,
    horizon), over every quantile of `quantiles` and every step."""

    def __init__(self, quantiles=QUANTILES, name: str = "pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        self.quantiles = tuple(float(q) for q in quantiles)

    def call(self, y_true, y_pred):
        q = ops.reshape(ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype), (1, -1, 1))
        error = ops.expand_dims(ops.cast(y_true, y_pred.dtype), 1) - y_pred
        return ops.mean(ops.maximum(q * error, (q - 1) * error), axis=(1, 2))

    def get_config(self):
        return super().get_config() | {"quantiles": list(self.quantiles)}


def _head(cfg: ForecastConfig, inputs, x, season: int):
    """Dense(horizon) — with --loss pinball, one per quantile of HEAD_QUANTILES, (quantiles, horizon) —
    plus the seasonal-naive skip when the config asks for it (zero-initialised, so the untrained network is
    exactly the baseline, at every quantile)."""
    heads = len(HEAD_QUANTILES) if cfg.loss == "pinball" else 1
    if cfg.skip == "none" and heads == 1:
        return layers.Dense(cfg.horizon, name="forecast", dtype="float32")(x)
    init = "glorot_uniform" if cfg.skip == "none" else "zeros"
    out = layers.Dense(heads * cfg.horizon, kernel_initializer=init, name="correction", dtype="float32")(x)
    if heads > 1:
        out = layers.Reshape((heads, cfg.horizon), name="quantiles", dtype="float32")(out)
    if cfg.skip == "none":
        return layers.Identity(name="forecast", dtype="float32")(out)
    skip = _skip(cfg, inputs, season)
    if heads > 1:
        skip = layers.Reshape((1, cfg.horizon), name="skip_per_quantile", dtype="float32")(skip)
    return layers.Add(name="forecast", dtype="float32")([skip, out])


def _skip(cfg: ForecastConfig, inputs, season: int):
    """The seasonal-naive skip, with the longer cycle the season implies where the lookback holds it."""
    longer = LONGER.get(season, 0)
    longer = longer if longer <= cfg.lookback else 0
    return SeasonalNaive(season, cfg.horizon, longer, name="seasonal_naive")(inputs)


def _recurrent(cell: str, cfg: ForecastConfig, name: str, return_sequences: bool, **kw):
    """cuDNN-compatible by default: tanh/sigmoid, no recurrent dropout, GRU reset_after=True."""
    options = {"recurrent_dropout": cfg.recurrent_dropout, "return_sequences": return_sequences, "name": name}
    if cell == "gru":
        options["reset_after"] = True
    return CELLS[cell](cfg.units, **options, **kw)


def _stack(x, cfg: ForecastConfig, cell: str, last_sequences: bool, bidirectional: bool = False):
    for i in range(cfg.layers):
        keep_seq = last_sequences or i < cfg.layers - 1
        layer = _recurrent(cell, cfg, f"{cell}_{i}", keep_seq)
        x = layers.Bidirectional(layer, name=f"bi{cell}_{i}")(x) if bidirectional else layer(x)
        if cfg.norm == "batch":
            x = layers.BatchNormalization(name=f"norm_{i}")(x)
        elif cfg.norm == "layer":
            x = layers.LayerNormalization(name=f"norm_{i}")(x)
        if cfg.dropout:
            x = layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    return x


def _inputs(cfg: ForecastConfig, features: int):
    return keras.Input(shape=(cfg.lookback, features), name="history")


def _direct(cell: str, bidirectional: bool = False) -> Callable[[ForecastConfig, int, int], keras.Model]:
    def build(cfg: ForecastConfig, features: int, season: int) -> keras.Model:
        inputs = _inputs(cfg, features)
        x = _stack(inputs, cfg, cell, last_sequences=False, bidirectional=bidirectional)
        outputs = _head(cfg, inputs, x, season)
        return keras.Model(inputs, outputs, name=f"{'bi' if bidirectional else ''}{cell}")

    return build


def build_attention(cfg: ForecastConfig, features: int, season: int) -> keras.Model:
    inputs = _inputs(cfg, features)
    states = _stack(inputs, cfg, "lstm", last_sequences=True)
    context, _weights = AttentionPooling(cfg.units, name="attention")(states)
    outputs = _head(cfg, inputs, context, season)
    return keras.Model(inputs, outputs, name="attention")


def build_seq2seq(cfg: ForecastConfig, features: int, season: int) -> keras.Model:
    """LSTM encoder hands its state to an LSTM decoder fed the previous target value (teacher forcing in
    training; its own previous output when decoding, see `decode_seq2seq`)."""
    encoder_in = _inputs(cfg, features)
    decoder_in = keras.Input(shape=(cfg.horizon, 1), name="decoder_input")
    _seq, h, c = layers.LSTM(cfg.units, return_state=True, name="encoder")(encoder_in)
    seq = layers.LSTM(cfg.units, return_sequences=True, return_state=True, name="decoder")(
        decoder_in, initial_state=[h, c]
    )[0]
    if cfg.dropout:
        seq = layers.Dropout(cfg.dropout, name="decoder_dropout")(seq)
    out = layers.Dense(1, name="step", dtype="float32")(seq)
    steps = layers.Reshape((cfg.horizon,), name="steps")(out)
    if cfg.skip == "none":
        outputs = layers.Identity(name="forecast")(steps)
    else:
        outputs = layers.Add(name="forecast", dtype="float32")([_skip(cfg, encoder_in, season), steps])
    return keras.Model([encoder_in, decoder_in], outputs, name="seq2seq")


BUILDERS: dict[str, Callable[[ForecastConfig, int, int], keras.Model]] = {
    "rnn": _direct("rnn"),
    "lstm": _direct("lstm"),
    "gru": _direct("gru"),
    "bilstm": _direct("lstm", bidirectional=True),
    "bigru": _direct("gru", bidirectional=True),
    "attention": build_attention,
    "seq2seq": build_seq2seq,
}


def build(cfg: ForecastConfig, features: int, season: int = 1) -> keras.Model:
    """The network of `cfg.model`; `season` feeds the seasonal-naive skip (capped at the lookback)."""
    if cfg.recurrent_dropout > 0:
        warnings.warn(
            f"recurrent_dropout={cfg.recurrent_dropout} disables the fused cuDNN kernel on GPU (often ~25x "
            "slower); --dropout adds dropout between layers instead",
            stacklevel=2,
        )
    return BUILDERS[cfg.model](cfg, features, max(1, min(season, cfg.lookback)))
