"""The text generator's pure parts: windows, vocabulary rules, sampling rules, and the NumPy sampler held
equal to the Keras model within 1e-5 for LSTM and GRU."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from textgen.config import TextGenConfig, preset
from textgen.data import split, windows
from textgen.sampler import CharModel, SamplingParams, choose, generate
from textgen.vocab import Vocabulary


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_numpy_sampler_equals_keras(cell):
    import keras

    from textgen.model import build, export_weights

    cfg = TextGenConfig(cell=cell, layers=2, units=24, embedding=8)
    keras.utils.set_random_seed(1)
    model = build(cfg, vocab_size=11)
    # Random weights of a realistic spread (fresh biases are zero, which would hide bias-layout mistakes).
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in model.get_weights()])
    ids = rng.integers(0, 11, size=(3, 40))
    expected = np.asarray(model.predict(ids, verbose=0))
    got = CharModel.from_arrays(cell, export_weights(model, cfg)).sequence_logits(ids)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_scoring_a_text_is_the_keras_models_log_likelihood():
    import keras

    from textgen.model import build, export_weights
    from textgen.sampler import score

    cfg = TextGenConfig(cell="gru", layers=2, units=24, embedding=8)
    keras.utils.set_random_seed(2)
    model = build(cfg, vocab_size=11)
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in model.get_weights()])
    ids = rng.integers(0, 11, size=300)
    logits = np.asarray(model.predict(ids[None, :], verbose=0))[0, :-1].astype(np.float64)
    expected = logits[np.arange(299), ids[1:]] - np.log(np.exp(logits).sum(axis=1))
    scored = score(CharModel.from_arrays("gru", export_weights(model, cfg)), ids, top=3)
    np.testing.assert_allclose(scored.logprobs, expected, atol=1e-5, rtol=0)
    assert (scored.top_logprobs[:, 0] >= scored.logprobs - 1e-12).all()
    assert (np.diff(scored.top_logprobs, axis=1) <= 0).all()


def test_windows_have_a_target_at_every_position():
    ids = np.arange(23)
    x, y = windows(ids, 5)
    assert x.shape == (4, 5) and (y == x + 1).all()


def test_training_windows_are_recut_every_epoch():
    from textgen.train import shifted_windows

    ids = np.arange(1000)
    batches = shifted_windows(ids, seq_len=10, batch_size=8, seed=0)
    starts = []
    for _epoch in range(4):
        x, y = zip(*(batches[i] for i in range(len(batches))), strict=True)
        x, y = np.concatenate(x), np.concatenate(y)
        assert x.shape == (96, 10) and (y == x + 1).all() and len({tuple(r) for r in x}) == 96
        starts.append(int(x[:, 0].min() % 10))
        batches.on_epoch_end()
    assert len(set(starts)) > 1  # the window boundaries move between epochs


def test_split_is_chronological_and_refuses_short_corpora():
    vocab = Vocabulary.of("abcdefgh")
    text = "abcdefgh" * 200
    arrays = split(text, vocab, TextGenConfig(seq_len=10))
    held_out = len(text) - int(len(text) * 0.9)
    assert arrays.x_train.shape[1] == 10 and (arrays.train_ids == vocab.encode(text[:-held_out])).all()
    assert arrays.x_val.shape == (1, held_out - 1)  # validation keeps its context: one long window here
    with pytest.raises(InputError, match="the corpus has 80 characters; --seq-len 10 needs at least 88"):
        split("abcdefgh" * 10, vocab, TextGenConfig(seq_len=10))


def test_unknown_prompt_characters_are_named_or_skipped():
    vocab = Vocabulary.of("hello world")
    with pytest.raises(InputError, match="'Z', 'é'.*--unknown skip"):
        vocab.prompt_ids("héllo Z", "error")
    assert vocab.decode(vocab.prompt_ids("héllo Z", "skip")) == "hllo "


def test_sampling_rules():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 2000))
    assert (choose(logits, SamplingParams(temperature=0), rng) == 0).all()
    top2 = choose(logits, SamplingParams(top_k=2), rng)
    assert set(top2) == {0, 1}
    nucleus = choose(logits, SamplingParams(top_p=0.7), rng)  # 0.5 + 0.3 reaches 0.7
    assert set(nucleus) == {0, 1}
    free = choose(logits, SamplingParams(), rng)
    assert abs((free == 0).mean() - 0.5) < 0.05 and set(free) == {0, 1, 2, 3}


def test_same_seed_same_text_and_streams_differ():
    cfg_arrays = {
        "embedding": np.random.default_rng(1).normal(size=(5, 3)),
        "kernel_0": np.random.default_rng(2).normal(size=(3, 16)),
        "recurrent_0": np.random.default_rng(3).normal(size=(4, 16)),
        "bias_0": np.zeros(16),
        "dense_kernel": np.random.default_rng(4).normal(size=(4, 5)),
        "dense_bias": np.zeros(5),
    }
    model = CharModel.from_arrays("lstm", cfg_arrays)
    run = lambda seed: np.stack(list(generate(model, np.array([1, 2]), 30, 4, SamplingParams(), seed)))  # noqa: E731
    a, b = run(7), run(7)
    assert (a == b).all() and a.shape == (30, 4)
    assert len({tuple(a[:, s]) for s in range(4)}) > 1


@pytest.mark.parametrize("params", [SamplingParams(0.8), SamplingParams(1.0, top_k=3, top_p=0.9)])
def test_the_seed_defines_each_stream_not_the_batch_layout(params):
    """Stream i of --seed S --n N is stream i of --seed S --n M, on both sampling paths."""
    arrays = {
        "embedding": np.random.default_rng(1).normal(size=(6, 3)),
        "kernel_0": np.random.default_rng(2).normal(size=(3, 12)),
        "recurrent_0": np.random.default_rng(3).normal(size=(4, 12)),
        "bias_0": np.zeros((2, 12)),
        "dense_kernel": np.random.default_rng(4).normal(size=(4, 6)),
        "dense_bias": np.zeros(6),
    }
    model = CharModel.from_arrays("gru", arrays)
    run = lambda n: np.stack(list(generate(model, np.array([1]), 300, n, params, 11)))  # noqa: E731
    one, three, five = run(1), run(3), run(5)
    assert (three == five[:, :3]).all() and (one[:, 0] == five[:, 0]).all()
    assert not (five[:, 3] == five[:, 4]).all()


def test_presets():
    assert preset("tiny").units == 32 and preset("cpu", epochs=3).epochs == 3
    with pytest.raises(InputError, match="--preset 'huge'"):
        preset("huge")
