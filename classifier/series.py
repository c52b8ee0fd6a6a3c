"""Windows of series as classifier inputs: one scale for all (from the training windows, so the level
stays a signal), right-padding to the longest window, and the statistics the linear baseline sees."""

from __future__ import annotations

import numpy as np

PAD = -1e4  # fills a window after its end (scaled values never come near it); masked out by the model


def scale_of(windows: list[np.ndarray]) -> tuple[float, float]:
    values = np.concatenate(windows)
    std = float(values.std())
    return float(values.mean()), std if std > 0 else 1.0


def pad(windows: list[np.ndarray], length: int, mean: float, std: float) -> np.ndarray:
    """(n, length, 1) scaled values; a window shorter than `length` is PAD after its end."""
    out = np.full((len(windows), length, 1), PAD, dtype="float32")
    for i, w in enumerate(windows):
        w = np.asarray(w[-length:], dtype="float64")
        out[i, : len(w), 0] = (w - mean) / std
    return out


def _stats(w: np.ndarray) -> list[float]:
    steps = np.arange(len(w), dtype="float64")
    slope = float(np.polyfit(steps, w, 1)[0]) if len(w) > 1 else 0.0
    return [w.mean(), w.std(), w.min(), w.max(), w[0], w[-1], slope]


def summary(windows: list[np.ndarray], train: np.ndarray) -> np.ndarray:
    """Mean, spread, min, max, first, last and slope of each window, standardised on the training ones."""
    feats = np.array([_stats(np.asarray(w, dtype="float64")) for w in windows])
    mu, sd = feats[train].mean(axis=0), feats[train].std(axis=0)
    return ((feats - mu) / np.where(sd > 0, sd, 1.0)).astype("float32")
