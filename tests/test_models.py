"""Every architecture builds, trains a step, and survives the registry round trip (.keras bytes, sha256,
safe_mode) with identical predictions; attention exposes its weights. RELIABILITY 13 and 14."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from core.errors import RecurError
from db.tables import ModelVersion
from forecaster.config import ARCHITECTURES, ForecastConfig
from forecaster.networks import build
from forecaster.train import model_inputs
from nn.layers import attention_weights_model
from runtime.artifacts import load_model, model_bytes


def version_of(artifact: bytes, sha: str | None = None) -> ModelVersion:
    return ModelVersion(
        id=1, status="ready", artifact=artifact, sha256=sha or hashlib.sha256(artifact).hexdigest()
    )


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 12, 3)).astype("float32"), rng.normal(size=(16, 6)).astype("float32")


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_architecture_trains_saves_and_loads_identically(arch, batch):
    import keras

    x, y = batch
    # Without the skip the whole network shapes the output, so equal predictions mean equal weights.
    deep = arch in ("rnn", "lstm", "gru")
    cfg = ForecastConfig(
        model=arch,
        lookback=12,
        horizon=6,
        units=4,
        layers=2 if deep else 1,
        dropout=0.1,
        norm="layer" if deep else "none",
        skip="none",
    )
    keras.utils.set_random_seed(0)
    model = build(cfg, features=3, season=4)
    if arch == "lstm":  # one training step is enough to show trained weights travel too
        model.compile(optimizer="adam", loss="mse")
        model.fit(model_inputs(cfg, x, y), y, epochs=1, verbose=0)
    before = model.predict(model_inputs(cfg, x, y), verbose=0)
    loaded = load_model(version_of(model_bytes(model)))
    after = loaded.predict(model_inputs(cfg, x, y), verbose=0)
    assert before.shape == (16, 6)
    np.testing.assert_allclose(before, after, rtol=1e-6, atol=1e-6)


def test_untrained_network_with_skip_is_exactly_seasonal_naive(batch):
    x, _ = batch
    cfg = ForecastConfig(model="gru", lookback=12, horizon=6, units=4)
    pred = build(cfg, features=3, season=4).predict(x, verbose=0)
    expected = np.tile(x[:, -4:, 0], (1, 2))[:, :6]
    np.testing.assert_allclose(pred, expected, atol=1e-6)


def test_the_skip_learns_how_much_of_the_week_to_take_and_keeps_it():
    """Hourly (season 24) with a lookback that holds a week: untrained, exactly seasonal naive at the day;
    the weight towards the week is a model weight, saved and loaded with it."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 192, 1)).astype("float32")
    cfg = ForecastConfig(model="gru", lookback=192, horizon=48, units=4)
    model = build(cfg, features=1, season=24)
    day, week = np.tile(x[:, -24:, 0], (1, 2)), x[:, -168:-120, 0]
    np.testing.assert_allclose(model.predict(x, verbose=0), day, atol=1e-6)
    skip = model.get_layer("seasonal_naive")
    skip.set_weights([np.ones(48, dtype="float32")])  # all the way to the week
    np.testing.assert_allclose(model.predict(x, verbose=0), week, atol=1e-5)
    loaded = load_model(version_of(model_bytes(model)))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), week, atol=1e-5)
    short = build(ForecastConfig(model="gru", lookback=96, horizon=48, units=4), features=1, season=24)
    assert short.get_layer("seasonal_naive").longer == 0  # a lookback without a week: the day alone


@pytest.mark.parametrize("skip", ["seasonal", "none"])
def test_quantile_heads_start_at_the_baseline_and_survive_the_round_trip(batch, skip):
    """--loss pinball: one head per quantile, (windows, 9, horizon); with the skip every head starts as
    seasonal naive; the trained network (its pinball loss registered) saves and loads identically."""
    import keras

    from forecaster.train import compile_for

    x, y = batch
    cfg = ForecastConfig(model="lstm", lookback=12, horizon=6, units=4, loss="pinball", skip=skip)
    keras.utils.set_random_seed(0)
    model = build(cfg, features=3, season=4)
    if skip == "seasonal":
        expected = np.tile(x[:, -4:, 0], (1, 2))[:, :6]
        np.testing.assert_allclose(model.predict(x, verbose=0), np.repeat(expected[:, None], 9, 1), atol=1e-6)
    compile_for(cfg, model, 1e-3)
    model.fit(x, y, epochs=1, verbose=0)
    before = model.predict(x, verbose=0)
    assert before.shape == (16, 9, 6)
    np.testing.assert_allclose(
        load_model(version_of(model_bytes(model))).predict(x, verbose=0), before, atol=1e-6
    )


def test_quantile_heads_learn_each_series_spread():
    """Windows of calm and of wild noise: the heads trained by the pinball loss give the wild ones a band
    several times wider, and score a lower quantile loss on fresh windows than their own median with no
    spread (the point network's quantiles before calibration)."""
    import keras

    from forecaster import metrics
    from forecaster.intervals import HEAD_QUANTILES, heads_of
    from forecaster.train import compile_for

    rng = np.random.default_rng(2)

    def windows(n):
        sigma = np.repeat([0.2, 2.0], n // 2)[:, None]
        level = rng.normal(size=(n, 1))
        x = level + sigma * rng.normal(size=(n, 24))
        y = level + sigma * rng.normal(size=(n, 4))
        return x[:, :, None].astype("float32"), y.astype("float32"), sigma[:, 0]

    x, y, _ = windows(2000)
    cfg = ForecastConfig(model="gru", lookback=24, horizon=4, units=16, loss="pinball")
    keras.utils.set_random_seed(0)
    model = build(cfg, features=1, season=1)
    compile_for(cfg, model, 1e-2)
    model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    fx, fy, sigma = windows(1000)
    out = model.predict(fx, verbose=0)
    point, (lower, upper) = heads_of(out)
    width = np.mean(upper - lower, axis=1)
    assert np.median(width[sigma > 1]) > 4 * np.median(width[sigma < 1])
    heads = np.sort(out, axis=1).transpose(1, 0, 2)
    flat = np.repeat(point[None], len(HEAD_QUANTILES), axis=0)
    assert (
        metrics.quantile_loss(fy, heads, HEAD_QUANTILES).mean()
        < 0.9 * metrics.quantile_loss(fy, flat, HEAD_QUANTILES).mean()
    )


def test_attention_weights_are_a_distribution_over_the_lookback(batch):
    x, _ = batch
    model = build(ForecastConfig(model="attention", lookback=12, horizon=6, units=4), features=3, season=4)
    weights = attention_weights_model(model).predict(x, verbose=0)
    assert weights.shape == (16, 12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


def test_recurrent_dropout_warns_about_cudnn():
    with pytest.warns(UserWarning, match="cuDNN"):
        build(ForecastConfig(model="lstm", lookback=12, horizon=6, units=4, recurrent_dropout=0.2), 1)


def test_flipped_byte_is_refused(batch):
    data = bytearray(model_bytes(build(ForecastConfig(model="gru", lookback=12, horizon=6, units=4), 3)))
    sha = hashlib.sha256(data).hexdigest()
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(RecurError, match="sha256 .* does not match .* corrupt"):
        load_model(version_of(bytes(data), sha))


def test_lambda_layer_is_refused():
    import keras

    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    artifact = model_bytes(keras.Model(inputs, outputs))
    with pytest.raises(RecurError, match="refused to load .*(Lambda|safe_mode)"):
        load_model(version_of(artifact))


def test_h5_is_refused():
    with pytest.raises(RecurError, match="not a .keras archive"):
        load_model(version_of(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64))
