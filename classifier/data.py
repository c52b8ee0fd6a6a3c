"""Stratified splits and text vectorisation (Keras' TextVectorization, adapted on the training texts only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    train: np.ndarray  # indices
    val: np.ndarray
    test: np.ndarray


def stratified(labels: np.ndarray, test: float, validation: float, seed: int) -> Split:
    """Each class is split in the same proportions: test, then validation out of the rest."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_test = max(1, round(len(idx) * test))
        n_val = max(1, round((len(idx) - n_test) * validation))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test : n_test + n_val])
        parts["train"].append(idx[n_test + n_val :])
    return Split(*(np.sort(np.concatenate(parts[k])) for k in ("train", "val", "test")))


def vectorizer(max_tokens: int, max_length: int, vocabulary: list[str] | None = None, mode: str = "int"):
    import keras

    kwargs = {"max_tokens": max_tokens, "output_mode": mode}
    if mode == "int":
        kwargs["output_sequence_length"] = max_length
    layer = keras.layers.TextVectorization(**kwargs)
    if vocabulary is not None:
        layer.set_vocabulary(vocabulary)
    return layer


def vectorize(layer, texts: list[str]) -> np.ndarray:
    return np.asarray(layer(np.array(texts, dtype=object)))


def class_weights(y: np.ndarray, k: int) -> dict[int, float]:
    """Balanced weights: n / (k * count) per class, so a rare class counts as much as a common one."""
    counts = np.bincount(y, minlength=k)
    return {c: float(len(y) / (k * counts[c])) if counts[c] else 1.0 for c in range(k)}
