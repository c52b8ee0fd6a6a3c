"""The guide's classifiers as Keras 3 functional builders keyed by --model: stacked SimpleRNN/LSTM/GRU with
a dense head, bidirectional LSTM/GRU, LSTM with attention (whose weights show which tokens mattered), and
the deep LSTM stack with batch normalisation. Token ids in (0 is padding), class probabilities out."""

from __future__ import annotations

import keras
from keras import layers, ops

from classifier.config import ClassifyConfig
from classifier.series import PAD
from nn.cells import recurrent_cell
from nn.layers import CELLS, AttentionPooling


@keras.saving.register_keras_serializable(package="recur")
class MaskedMaxPooling(layers.Layer):
    """The largest value of each feature over the steps that are not padding."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, states, mask=None):
        if mask is not None:
            states = ops.where(ops.expand_dims(mask, -1), states, ops.full_like(states, -1e9))
        return ops.max(states, axis=1)

    def compute_mask(self, states, mask=None):
        return None


def _embedded(cfg: ClassifyConfig, vocab_size: int):
    """Token embeddings; dropout drops whole embedding channels (SpatialDropout1D), so a word's meaning
    cannot hang on a few coordinates."""
    inputs = keras.Input(shape=(cfg.max_length,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, cfg.embedding, mask_zero=True, name="embedding")(inputs)
    if cfg.dropout:
        x = layers.SpatialDropout1D(cfg.dropout, name="embedding_dropout")(x)
    return inputs, x


def _series_input(length: int):
    """A window of scaled values, right-padded with PAD and masked there."""
    inputs = keras.Input(shape=(length, 1), name="window")
    return inputs, layers.Masking(mask_value=PAD, name="padding")(inputs)


def _head(cfg: ClassifyConfig, x, classes: int):
    x = layers.Dense(cfg.units, activation="relu", name="dense")(x)
    if cfg.dropout:
        x = layers.Dropout(cfg.dropout, name="head_dropout")(x)
    return layers.Dense(classes, activation="softmax", name="probabilities", dtype="float32")(x)


def build(
    cfg: ClassifyConfig,
    vocab_size: int,
    classes: int,
    series_length: int | None = None,
    name: str | None = None,
) -> keras.Model:
    """Tokens in (vocab_size), or with series_length a window of values in."""
    inputs, x = _series_input(series_length) if series_length else _embedded(cfg, vocab_size)
    cell = recurrent_cell(cfg.model)
    layers_n = max(cfg.layers, 3) if cfg.model == "deep" else cfg.layers
    pooled = cfg.model == "attention" or cfg.pool == "max"
    for i in range(layers_n):
        last = i == layers_n - 1
        keep = not last or pooled
        options = {"return_sequences": keep, "name": f"{cell}_{i}"}
        if cell == "gru":
            options["reset_after"] = True
        layer = CELLS[cell](cfg.units, **options)
        x = (
            layers.Bidirectional(layer, name=f"bi{cell}_{i}")(x)
            if cfg.model in ("bilstm", "bigru")
            else layer(x)
        )
        if cfg.model == "deep":
            x = layers.BatchNormalization(name=f"norm_{i}")(x)
        if cfg.dropout and not last:
            x = layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    if cfg.model == "attention":
        x, _weights = AttentionPooling(cfg.units, name="attention")(x)
    elif pooled:
        x = MaskedMaxPooling(name="max_pool")(x)
    return keras.Model(inputs, _head(cfg, x, classes), name=name or f"classify_{cfg.model}")


def linear(features: int, classes: int, name: str = "bag_of_words") -> keras.Model:
    """The linear baseline, logistic regression: multi-hot words (text) or window statistics (series)
    into one softmax layer."""
    inputs = keras.Input(shape=(features,), name="features")
    outputs = layers.Dense(classes, activation="softmax", name="probabilities")(inputs)
    return keras.Model(inputs, outputs, name=name)
