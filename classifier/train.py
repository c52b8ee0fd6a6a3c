"""Training a classifier and its baselines on the same stratified split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifier import metrics
from classifier.config import ClassifyConfig
from classifier.data import Split, class_weights, vectorize, vectorizer


@dataclass
class Trained:
    model: object
    vocabulary: list[str]
    history: dict
    scores: dict  # "model", "majority", "bag_of_words" -> metrics.scores(...)
    epochs_run: int


def fit(cfg: ClassifyConfig, texts: list[str], y: np.ndarray, classes: list[str], split: Split) -> Trained:
    import keras

    from classifier.models import build

    keras.utils.set_random_seed(cfg.seed)
    tv = vectorizer(cfg.max_tokens, cfg.max_length)
    tv.adapt(np.array([texts[i] for i in split.train], dtype=object))  # the training texts only
    vocabulary = list(tv.get_vocabulary())
    x = vectorize(tv, texts)
    k = len(classes)
    weights = class_weights(y[split.train], k) if cfg.class_weights else None
    model = build(cfg, len(vocabulary), k)
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True)
    history = model.fit(
        x[split.train],
        y[split.train],
        validation_data=(x[split.val], y[split.val]),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        class_weight=weights,
        callbacks=[stop],
        verbose=0,
    )
    predicted = np.argmax(model.predict(x[split.test], verbose=0), axis=1)
    results = {"model": metrics.scores(y[split.test], predicted, classes)}
    results |= baselines(cfg, texts, y, classes, split, vocabulary, weights)
    hist = {k_: [float(v) for v in vals] for k_, vals in history.history.items()}
    return Trained(model, vocabulary, hist, results, len(hist.get("loss", [])))


def baselines(cfg, texts, y, classes, split: Split, vocabulary: list[str], weights) -> dict:
    """Majority class, and a bag-of-words linear model, scored on the same test items."""
    import keras

    from classifier.models import bag_of_words

    majority = np.full(len(split.test), np.bincount(y[split.train]).argmax())
    bag = vectorizer(cfg.max_tokens, cfg.max_length, vocabulary[1:], mode="multi_hot")  # no padding token
    xb = vectorize(bag, texts).astype("float32")
    keras.utils.set_random_seed(cfg.seed)
    linear = bag_of_words(xb.shape[1], len(classes))
    linear.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    linear.fit(
        xb[split.train],
        y[split.train],
        validation_data=(xb[split.val], y[split.val]),
        epochs=60,
        batch_size=64,
        class_weight=weights,
        verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )
    predicted = np.argmax(linear.predict(xb[split.test], verbose=0), axis=1)
    return {
        "majority": metrics.scores(y[split.test], majority, classes),
        "bag_of_words": metrics.scores(y[split.test], predicted, classes),
    }
