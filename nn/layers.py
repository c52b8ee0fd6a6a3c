"""Keras layers shared by the forecasters and the classifiers: the recurrent cells by name, and additive
attention pooling over time (whose weights the reports draw)."""

from __future__ import annotations

import keras
from keras import layers, ops

CELLS = {"rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


@keras.saving.register_keras_serializable(package="recur")
class AttentionPooling(layers.Layer):
    """Additive attention over time (Bahdanau): a context vector and the weight of every step."""

    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        self.w = self.add_weight(name="w", shape=(features, self.units), initializer="glorot_uniform")
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
        self.v = self.add_weight(name="v", shape=(self.units, 1), initializer="glorot_uniform")

    def call(self, states, mask=None):
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(states, self.w) + self.b), self.v), axis=-1)
        if mask is not None:  # padding (a text shorter than its slot) gets no attention
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        context = ops.sum(states * ops.expand_dims(weights, -1), axis=1)
        return context, weights

    def compute_mask(self, states, mask=None):
        return [None, None]  # time is pooled away: nothing downstream is masked

    def get_config(self):
        return super().get_config() | {"units": self.units}


def attention_weights_model(model: keras.Model) -> keras.Model:
    """The same network, returning where its layer named "attention" looked: (batch, steps) weights."""
    attention = model.get_layer("attention")
    _context, weights = attention.output
    return keras.Model(model.input, weights)
