"""Classification scores: accuracy, macro F1, per-class precision and recall, the confusion matrix."""

from __future__ import annotations

import numpy as np


def confusion(actual: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """Rows are the true classes, columns the predicted ones."""
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix


def scores(actual: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    m = confusion(actual, predicted, len(classes))
    tp = np.diag(m).astype(float)
    precision = np.divide(tp, m.sum(axis=0), out=np.zeros_like(tp), where=m.sum(axis=0) > 0)
    recall = np.divide(tp, m.sum(axis=1), out=np.zeros_like(tp), where=m.sum(axis=1) > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0
    )
    return {
        "accuracy": float(tp.sum() / m.sum()),
        "macro_f1": float(f1.mean()),
        "per_class": {
            c: {"precision": float(p), "recall": float(r), "f1": float(f)}
            for c, p, r, f in zip(classes, precision, recall, f1, strict=True)
        },
        "confusion": m.tolist(),
    }
