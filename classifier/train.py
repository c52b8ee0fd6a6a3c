"""Training a classifier and its baselines on the same stratified split: texts (TextVectorization, bag of
words) or windows of series (scaled and padded values, a linear model on window statistics)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from classifier import metrics
from classifier.config import ClassifyConfig
from classifier.data import Split, class_weights, vectorize, vectorizer
from classifier.series import pad, scale_of, summary
from core.smoke import smoke_callbacks

BAG_TOKENS = 10_000


@dataclass
class Trained:
    model: object
    vocabulary: list[str]
    history: dict
    scores: dict  # "model", "majority" and the linear baseline -> metrics.scores(...)
    epochs_run: int
    member_epochs: list[int]  # epochs each network of an ensemble (or the one network) ran
    inputs: dict = field(default_factory=dict)  # what prediction needs to rebuild the inputs


def _fit_members(cfg: ClassifyConfig, make, x: np.ndarray, y: np.ndarray, split: Split, weights):
    """`cfg.ensemble` networks from seeds seed, seed+1, ..., each with its own early stopping; more than
    one become a single model that averages their probabilities. Returns (model, history of the first,
    epochs of each)."""
    import keras

    members, histories = [], []
    for j in range(cfg.ensemble):
        keras.utils.set_random_seed(cfg.seed + j)
        member = make(f"member_{j}" if cfg.ensemble > 1 else None)
        histories.append(_fit_network(cfg, member, x, y, split, weights))
        members.append(member)
    epochs = [len(h.get("loss", [])) for h in histories]
    if len(members) == 1:
        return members[0], histories[0], epochs
    inputs = keras.Input(shape=members[0].inputs[0].shape[1:], dtype=members[0].inputs[0].dtype)
    mean = keras.layers.Average(name="probabilities")([m(inputs) for m in members])
    return keras.Model(inputs, mean, name=f"ensemble_{cfg.model}"), histories[0], epochs


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
        callbacks=[stop, *smoke_callbacks()],
        verbose=0,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _score(model, x: np.ndarray, y: np.ndarray, split: Split, classes: list[str]) -> dict:
    predicted = np.argmax(model.predict(x[split.test], verbose=0), axis=1)
    return metrics.scores(y[split.test], predicted, classes)


def fit(cfg: ClassifyConfig, texts: list[str], y: np.ndarray, classes: list[str], split: Split) -> Trained:
    from classifier.networks import build

    tv = vectorizer(cfg.max_tokens, cfg.max_length)
    tv.adapt(np.array([texts[i] for i in split.train], dtype=object))  # the training texts only
    vocabulary = list(tv.get_vocabulary())
    x = vectorize(tv, texts)
    weights = class_weights(y[split.train], len(classes)) if cfg.class_weights else None
    model, hist, epochs = _fit_members(
        cfg, lambda name: build(cfg, len(vocabulary), len(classes), name=name), x, y, split, weights
    )
    results = {"model": _score(model, x, y, split, classes)}
    # The baseline gets its own, larger vocabulary: a linear model uses rare words well.
    bag = vectorizer(BAG_TOKENS, cfg.max_length, mode="multi_hot")
    bag.adapt(np.array([texts[i] for i in split.train], dtype=object))
    xb = vectorize(bag, texts).astype("float32")
    results |= baselines(cfg, xb, y, classes, split, weights, "bag_of_words")
    return Trained(model, vocabulary, hist, results, sum(epochs), epochs)


def fit_series(
    cfg: ClassifyConfig, windows: list[np.ndarray], y: np.ndarray, classes: list[str], split: Split
) -> Trained:
    """Windows of values: scaled by the training windows' mean and spread, right-padded to the longest."""
    from classifier.networks import build

    length = max(len(w) for w in windows)
    mean, std = scale_of([windows[i] for i in split.train])
    x = pad(windows, length, mean, std)
    weights = class_weights(y[split.train], len(classes)) if cfg.class_weights else None
    model, hist, epochs = _fit_members(
        cfg, lambda name: build(cfg, 0, len(classes), series_length=length, name=name), x, y, split, weights
    )
    results = {"model": _score(model, x, y, split, classes)}
    results |= baselines(cfg, summary(windows, split.train), y, classes, split, weights, "window_statistics")
    inputs = {"input": "series", "length": length, "scale": [mean, std]}
    return Trained(model, [], hist, results, sum(epochs), epochs, inputs)


def baselines(cfg, features: np.ndarray, y, classes, split: Split, weights, name: str) -> dict:
    """Majority class, and a linear model (logistic regression) on `features`, on the same test items."""
    import keras

    from classifier.networks import linear

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
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True), *smoke_callbacks()],
    )
    return {
        "majority": metrics.scores(y[split.test], majority, classes),
        name: _score(model, features, y, split, classes),
    }
