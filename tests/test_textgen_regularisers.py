"""The text generator's regularisers (textgen/layers.py) act in training only: a model trained with all of
them exports the weights the NumPy sampler reads (equal to Keras within 1e-5), round-trips through the
store's safe loader, and each one drops what it says it drops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from textgen.config import TextGenConfig

ALL = {"dropout": 0.3, "locked": True, "input_dropout": 0.2, "embedding_dropout": 0.2, "weight_drop": 0.3}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_regularised_model_samples_and_loads_as_a_plain_one(cell):
    import keras

    from runtime.artifacts import model_bytes
    from textgen.model import build, export_weights
    from textgen.sampler import CharModel

    cfg = TextGenConfig(cell=cell, layers=2, units=24, embedding=8, seq_len=12, **ALL)
    keras.utils.set_random_seed(1)
    model = build(cfg, vocab_size=11)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 11, size=(16, 12))
    recurrent = model.get_layer(f"{cell}_0").cell.recurrent_kernel
    model.fit(ids, np.roll(ids, -1, axis=1), epochs=1, verbose=0)
    assert model.get_layer(f"{cell}_0").cell.recurrent_kernel is recurrent  # the weight, not a dropped copy
    expected = np.asarray(model.predict(ids[:3], verbose=0))
    np.testing.assert_allclose(np.asarray(model.predict(ids[:3], verbose=0)), expected, atol=0)
    training = [np.asarray(model(ids[:3], training=True)) for _ in range(2)]
    assert not np.allclose(training[0], training[1]) and not np.allclose(training[0], expected)
    got = CharModel.from_arrays(cell, export_weights(model, cfg)).sequence_logits(ids[:3])
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    loaded = _reloaded(model_bytes(model))
    np.testing.assert_allclose(np.asarray(loaded.predict(ids[:3], verbose=0)), expected, atol=1e-6)
    assert loaded.get_layer(f"{cell}_1").weight_drop == 0.3


def _reloaded(data: bytes):
    from hashlib import sha256

    from db.tables import ModelVersion
    from runtime.artifacts import load_model

    return load_model(ModelVersion(id=1, status="ready", artifact=data, sha256=sha256(data).hexdigest()))


def test_embedding_dropout_drops_a_character_wherever_it_occurs_in_a_window():
    import keras

    from textgen.layers import CharDropout

    ids = np.tile(np.arange(5), (64, 4))  # every window holds each of 5 characters 4 times
    embedded = keras.ops.ones((64, 20, 3))
    out = np.asarray(CharDropout(0.5, 5, seed=0)([ids, embedded], training=True))
    for window, row in zip(ids, out, strict=True):
        for char in range(5):
            values = row[window == char]
            assert np.allclose(values, 0) or np.allclose(values, 2.0)  # all dropped, or all kept (×1/(1-p))
    assert 0.3 < (out[:, :, 0] == 0).mean() < 0.7
    np.testing.assert_array_equal(np.asarray(CharDropout(0.5, 5)([ids, embedded], training=False)), 1.0)


def test_locked_dropout_keeps_its_mask_across_a_window():
    import keras

    from textgen.model import build

    model = build(TextGenConfig(layers=1, units=16, embedding=8, dropout=0.5, locked=True), 7)
    probe = keras.Model(model.input, model.get_layer("dropout_0").output)
    out = np.asarray(probe(np.zeros((4, 30), dtype="int32") + 3, training=True))
    dropped = out == 0
    assert dropped.any() and (dropped == dropped[:, :1, :]).all()  # the same units at every step


@pytest.mark.parametrize("option", ["weight_drop", "embedding_dropout", "input_dropout", "dropout"])
def test_each_rate_is_bounded(option):
    with pytest.raises(InputError, match=f"--{option.replace('_', '-')} 1"):
        TextGenConfig(**{option: 1.0})


def test_carried_state_batches_read_the_text_as_streams():
    from textgen.train import shifted_windows

    ids = np.arange(10_000)
    batches = shifted_windows(ids, seq_len=10, batch_size=8, seed=0, carried=True)
    for _ in range(2):  # a fresh offset each epoch, the streams still contiguous
        (x0, y0), (x1, _) = batches[0], batches[1]
        assert x0.shape == (8, 10) and (y0 == x0 + 1).all()
        assert (x1[:, 0] == x0[:, -1] + 1).all()  # row j of the next batch continues row j
        assert len(set(x0[:, 0])) == 8
        batches.on_epoch_end()


def test_training_with_the_state_carried_keeps_a_stateless_model():
    from dataclasses import replace

    from textgen.config import preset
    from textgen.data import split
    from textgen.model import export_weights
    from textgen.sampler import CharModel
    from textgen.train import train
    from textgen.vocab import Vocabulary

    text = (Path(__file__).resolve().parent.parent / "data" / "tinyshakespeare.txt").read_text()[:40_000]
    vocab = Vocabulary.of(text)
    cfg = replace(preset("tiny"), carry_state=True, epochs=2)
    result = train(cfg, split(text, vocab, cfg), len(vocab))
    assert len(result.history["val_loss"]) == 2 and result.model.input_shape == (None, None)
    ids = vocab.encode(text[:300])[None, :]
    expected = np.asarray(result.model.predict(ids, verbose=0))
    got = CharModel.from_arrays(cfg.cell, export_weights(result.model, cfg)).sequence_logits(ids)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
