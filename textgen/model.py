"""Embedding → layers × LSTM/GRU → Dense(vocabulary): a next-character distribution at every position.
cuDNN-compatible (no recurrent dropout, dropout as separate layers, GRU reset_after=True)."""

from __future__ import annotations

import keras
from keras import layers

from textgen.config import TextGenConfig


def build(cfg: TextGenConfig, vocab_size: int) -> keras.Model:
    inputs = keras.Input(shape=(None,), dtype="int32", name="chars")
    x = layers.Embedding(vocab_size, cfg.embedding, name="embedding")(inputs)
    for i in range(cfg.layers):
        options = {"return_sequences": True, "name": f"{cfg.cell}_{i}"}
        if cfg.cell == "gru":
            options["reset_after"] = True
        x = (layers.GRU if cfg.cell == "gru" else layers.LSTM)(cfg.units, **options)(x)
        if cfg.dropout:
            x = layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    logits = layers.Dense(vocab_size, name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name=f"char_{cfg.cell}")


def export_weights(model: keras.Model, cfg: TextGenConfig) -> dict:
    """Plain arrays by role, fetched by layer name: what the NumPy sampler needs."""
    out = {"embedding": model.get_layer("embedding").get_weights()[0]}
    for i in range(cfg.layers):
        kernel, recurrent, bias = model.get_layer(f"{cfg.cell}_{i}").get_weights()
        out |= {f"kernel_{i}": kernel, f"recurrent_{i}": recurrent, f"bias_{i}": bias}
    out["dense_kernel"], out["dense_bias"] = model.get_layer("logits").get_weights()
    return out
