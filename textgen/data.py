"""Turning a corpus into training arrays: chronological split, windows with a target at every position.
Validation windows are long (VAL_CONTEXT characters): the sampler carries its state from character to
character, so the loss that matters is the one with context, not the one that restarts every seq_len."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from textgen.config import TextGenConfig
from textgen.vocab import Vocabulary

MIN_WINDOWS = 4
VAL_CONTEXT = 1000


@dataclass
class Arrays:
    train_ids: np.ndarray  # the training text, encoded: each epoch cuts its own windows from it
    x_train: np.ndarray  # windows at offset 0
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def windows(ids: np.ndarray, seq_len: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive windows: x is seq_len characters, y the same shifted by one (reshapes, no loop)."""
    ids = ids[offset:]
    n = (len(ids) - 1) // seq_len
    x = ids[: n * seq_len].reshape(n, seq_len)
    y = ids[1 : n * seq_len + 1].reshape(n, seq_len)
    return x, y


def streams(rows: np.ndarray, batch: int) -> np.ndarray:
    """Consecutive windows laid out for truncated backpropagation through time: row j of batch i+1
    continues row j of batch i, so the text is read as `batch` contiguous streams side by side."""
    per = len(rows) // batch
    return rows[: per * batch].reshape(batch, per, -1).transpose(1, 0, 2).reshape(per * batch, -1)


def split(text: str, vocab: Vocabulary, cfg: TextGenConfig) -> Arrays:
    """The last `validation` share of the text is held out (chronologically, not shuffled)."""
    needed = (MIN_WINDOWS * 2) * (cfg.seq_len + 1)
    cut = int(len(text) * (1 - cfg.validation))
    val_windows = (len(text) - cut - 1) // cfg.seq_len
    if len(text) < needed or val_windows < 1:
        raise InputError(
            f"the corpus has {len(text):,} characters; --seq-len {cfg.seq_len} needs at least {needed:,} "
            f"({MIN_WINDOWS} training windows and a validation share of {cfg.validation:.0%} with at least "
            "one window); add text or lower --seq-len"
        )
    ids = vocab.encode(text)
    x_train, y_train = windows(ids[:cut], cfg.seq_len)
    val_len = max(cfg.seq_len, min(VAL_CONTEXT, len(text) - cut - 1))
    x_val, y_val = windows(ids[cut:], val_len)
    return Arrays(ids[:cut], x_train, y_train, x_val, y_val)
