"""Training a classifier and its baselines on the same stratified split: texts (TextVectorization, bag of
words) or windows of series (scaled and padded values, a linear model on window statistics)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from classifier import metrics
from classifier.config import ClassifyConfig
from classifier.data import Split, class_weights, vectorize, vectorizer


@dataclass
class Trained:
    model: object
    vocabulary: list[str]
    history: dict
    scores: dict  # "model", "majority" and the linear baseline -> metrics.scores(...)
    epochs_run: int
    inputs: dict = field(default_factory=dict)  # what prediction needs to rebuild the inputs


def _fit_network(cfg: ClassifyConfig, model, x: np.ndarray, y: np.ndarray, split: Split, weights):
    import keras

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
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _score(model, x: np.ndarray, y: np.ndarray, split: Split, classes: list[str]) -> dict:
    predicted = np.argmax(model.predict(x[split.test], verbose=0), axis=1)
    return metrics.scores(y[split.test], predicted, classes)


def fit(cfg: ClassifyConfig, texts: list[str], y: np.ndarray, classes: list[str], split: Split) -> Trained:
    import keras

    from classifier.models import build

    keras.utils.set_random_seed(cfg.seed)
    tv = vectorizer(cfg.max_tokens, cfg.max_length)
    tv.adapt(np.array([texts[i] for i in split.train], dtype=object))  # the training texts only
    vocabulary = list(tv.get_vocabulary())
    x = vectorize(tv, texts)
    weights = class_weights(y[split.train], len(classes)) if cfg.class_weights else None
    model = build(cfg, len(vocabulary), len(classes))
    hist = _fit_network(cfg, model, x, y, split, weights)
    results = {"model": _score(model, x, y, split, classes)}
    bag = vectorizer(cfg.max_tokens, cfg.max_length, vocabulary[1:], mode="multi_hot")  # no padding token
    xb = vectorize(bag, texts).astype("float32")
    results |= baselines(cfg, xb, y, classes, split, weights, "bag_of_words")
    return Trained(model, vocabulary, hist, results, len(hist.get("loss", [])))


def fit_series(
    cfg: ClassifyConfig, windows: list[np.ndarray], y: np.ndarray, classes: list[str], split: Split
) -> Trained:
    """Windows of values: scaled by the training windows' mean and spread, right-padded to the longest."""
    import keras

    from classifier.models import build
    from classifier.series import pad, scale_of, summary

    keras.utils.set_random_seed(cfg.seed)
    length = max(len(w) for w in windows)
    mean, std = scale_of([windows[i] for i in split.train])
    x = pad(windows, length, mean, std)
    weights = class_weights(y[split.train], len(classes)) if cfg.class_weights else None
    model = build(cfg, 0, len(classes), series_length=length)
    hist = _fit_network(cfg, model, x, y, split, weights)
    results = {"model": _score(model, x, y, split, classes)}
    results |= baselines(cfg, summary(windows, split.train), y, classes, split, weights, "window_statistics")
    inputs = {"input": "series", "length": length, "scale": [mean, std]}
    return Trained(model, [], hist, results, len(hist.get("loss", [])), inputs)


def baselines(cfg, features: np.ndarray, y, classes, split: Split, weights, name: str) -> dict:
    """Majority class, and a linear model (logistic regression) on `features`, on the same test items."""
    import keras

    from classifier.models import linear

    majority = np.full(len(split.test), np.bincount(y[split.train]).argmax())
    keras.utils.set_random_seed(cfg.seed)
    model = linear(features.shape[1], len(classes), name)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(
        features[split.train],
        y[split.train],
        validation_data=(features[split.val], y[split.val]),
        epochs=60,
        batch_size=64,
        class_weight=weights,
        verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )
    return {
        "majority": metrics.scores(y[split.test], majority, classes),
        name: _score(model, features, y, split, classes),
    }
