"""Regularising layers for character models, active in training only (inference sees the plain weights,
so the NumPy sampler needs nothing of them):

- `CharDropout`: embedding dropout (Gal & Ghahramani) — a character type dropped from a whole window, every
  place it occurs, each window its own draw;
- `WeightDroppedGRU` / `WeightDroppedLSTM`: DropConnect on the recurrent matrix (AWD-LSTM's weight drop) —
  one mask a step, applied to the matrix before the loop runs, so the fused (cuDNN) kernel is kept.
Locked (variational) dropout, one mask across a window's time steps, is Keras' `SpatialDropout1D`."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="recur")
class CharDropout(layers.Layer):
    """[ids, embedded] → embedded, with each window's characters of a dropped type zeroed everywhere."""

    def __init__(self, rate: float, vocab_size: int, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate, self.vocab_size, self.seed = rate, vocab_size, seed
        self._seeds = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        ids, embedded = inputs
        if not training or not self.rate:
            return embedded
        batch = ops.shape(ids)[0]
        kept = keras.random.uniform((batch, self.vocab_size), seed=self._seeds) >= self.rate
        scale = ops.cast(kept, embedded.dtype) / (1.0 - self.rate)
        return embedded * ops.expand_dims(ops.take_along_axis(scale, ops.cast(ids, "int32"), axis=1), -1)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self) -> dict:
        return super().get_config() | {"rate": self.rate, "vocab_size": self.vocab_size, "seed": self.seed}


def _weight_dropped(base: type) -> type:
    """`base` (GRU or LSTM) whose recurrent matrix is dropped out, one mask a training step: the cell's
    matrix is swapped for the dropped one while the loop is built, as AWD-LSTM's WeightDrop does."""

    class WeightDropped(base):
        def __init__(self, *args, weight_drop: float = 0.0, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.weight_drop = weight_drop
            self._drop_seeds = keras.random.SeedGenerator(kwargs.get("seed"))

        def inner_loop(self, sequences, initial_state, mask, training=False):
            if not (training and self.weight_drop):
                return super().inner_loop(sequences, initial_state, mask, training=training)
            cell, kept = self.cell, self.cell.recurrent_kernel
            dropped = keras.random.dropout(
                ops.convert_to_tensor(kept), self.weight_drop, seed=self._drop_seeds
            )
            object.__setattr__(cell, "recurrent_kernel", dropped)  # untracked: the variable stays the weight
            try:
                return super().inner_loop(sequences, initial_state, mask, training=training)
            finally:
                object.__setattr__(cell, "recurrent_kernel", kept)

        def get_config(self) -> dict:
            return super().get_config() | {"weight_drop": self.weight_drop}

    name = f"WeightDropped{base.__name__}"
    WeightDropped.__name__ = WeightDropped.__qualname__ = name
    return keras.saving.register_keras_serializable(package="recur", name=name)(WeightDropped)


WeightDroppedGRU = _weight_dropped(layers.GRU)
WeightDroppedLSTM = _weight_dropped(layers.LSTM)
