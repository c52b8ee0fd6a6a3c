"""Embedding → layers × LSTM/GRU → Dense(vocabulary): a next-character distribution at every position.
cuDNN-compatible (no recurrent dropout, dropout as separate layers, GRU reset_after=True); the regularisers
(textgen/layers.py) act in training only and keep the weights' names and shapes."""

from __future__ import annotations

import keras
from keras import layers

from textgen.config import TextGenConfig
from textgen.layers import CharDropout, WeightDroppedGRU, WeightDroppedLSTM


def build(cfg: TextGenConfig, vocab_size: int, stateful_batch: int = 0) -> keras.Model:
    """The model; with `stateful_batch`, the same weights in a model that carries its recurrent state from
    one batch (of exactly that many rows) to the next, for truncated backpropagation through time."""
    shape = {"batch_shape": (stateful_batch, None)} if stateful_batch else {"shape": (None,)}
    inputs = keras.Input(**shape, dtype="int32", name="chars")
    x = layers.Embedding(vocab_size, cfg.embedding, name="embedding")(inputs)
    if cfg.embedding_dropout:
        x = CharDropout(cfg.embedding_dropout, vocab_size, cfg.seed, name="embedding_dropout")([inputs, x])
    if cfg.input_dropout:
        x = layers.SpatialDropout1D(cfg.input_dropout, seed=cfg.seed, name="input_dropout")(x)
    for i in range(cfg.layers):
        x = _recurrent(cfg, i, bool(stateful_batch))(x)
        if cfg.dropout:
            dropout = layers.SpatialDropout1D if cfg.locked else layers.Dropout
            x = dropout(cfg.dropout, name=f"dropout_{i}")(x)
    logits = layers.Dense(vocab_size, name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name=f"char_{cfg.cell}")


def _recurrent(cfg: TextGenConfig, i: int, stateful: bool) -> layers.Layer:
    options = {"return_sequences": True, "name": f"{cfg.cell}_{i}", "stateful": stateful}
    if cfg.cell == "gru":
        options["reset_after"] = True
    if cfg.weight_drop:
        cls = WeightDroppedGRU if cfg.cell == "gru" else WeightDroppedLSTM
        return cls(cfg.units, weight_drop=cfg.weight_drop, seed=cfg.seed + i, **options)
    return (layers.GRU if cfg.cell == "gru" else layers.LSTM)(cfg.units, **options)


def export_weights(model: keras.Model, cfg: TextGenConfig) -> dict:
    """Plain arrays by role, fetched by layer name: what the NumPy sampler needs."""
    out = {"embedding": model.get_layer("embedding").get_weights()[0]}
    for i in range(cfg.layers):
        kernel, recurrent, bias = model.get_layer(f"{cfg.cell}_{i}").get_weights()
        out |= {f"kernel_{i}": kernel, f"recurrent_{i}": recurrent, f"bias_{i}": bias}
    out["dense_kernel"], out["dense_bias"] = model.get_layer("logits").get_weights()
    return out
