"""nnlib.activations: values, derivatives against finite differences, the depth chain."""

import numpy as np
import pytest

from nnlib import activations
from nnlib.errors import ConfigError


@pytest.mark.parametrize("name", activations.NAMES)
def test_derivative_matches_centred_differences(name):
    x = np.linspace(-6, 6, 241)
    x = x[np.abs(x) > 1e-3]                      # relu has a kink at 0
    h = 1e-6
    numeric = (activations.value(x + h, name=name) - activations.value(x - h, name=name)) / (2 * h)
    assert np.allclose(activations.derivative(x, name=name), numeric, rtol=1e-6, atol=1e-9)


def test_known_values():
    assert activations.value(0.0, name="sigmoid") == pytest.approx(0.5)
    assert activations.derivative(0.0, name="sigmoid") == pytest.approx(0.25)
    assert activations.derivative(0.0, name="tanh") == pytest.approx(1.0)
    assert activations.value(np.array([-2.0, 3.0]), name="relu").tolist() == [0.0, 3.0]
    assert activations.derivative(np.array([-2.0, 0.0, 3.0]), name="relu").tolist() == [0.0, 0.0, 1.0]
    x = np.array([-3.0, 0.5, 2.0])
    assert np.allclose(activations.value(x, name="tanh"), 2 * activations.value(2 * x, name="sigmoid") - 1)


def test_integer_input_and_extremes_are_finite():
    assert activations.value(np.array([0, 2]), name="sigmoid").dtype == np.float64
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        for name in activations.NAMES:
            d = activations.derivative(np.array([-1000.0, 1000.0]), name=name)
            assert np.all(np.isfinite(d)) and np.all(d >= 0)
    assert np.allclose(activations.derivative(np.array([-1000.0, 1000.0]), name="sigmoid"), 0.0)


def test_sigmoid_derivative_is_at_most_a_quarter():
    x = np.linspace(-20, 20, 40_001)
    d = activations.derivative(x, name="sigmoid")
    assert d.max() == pytest.approx(0.25) and x[d.argmax()] == pytest.approx(0.0)


def _chain_by_hand(name, depth, width, batch, seed, std):
    """Independent re-implementation with explicit formulas, for comparison."""
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((width, width)) * std for _ in range(depth)]
    h = rng.standard_normal((batch, width))
    zs = []
    for w in ws:
        z = h @ w
        zs.append(z)
        h = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}[name](z)
    g = rng.standard_normal((batch, width))
    g0 = np.linalg.norm(g)
    out = []
    for w, z in zip(ws[::-1], zs[::-1]):
        s = 1 / (1 + np.exp(-z))
        fprime = {"sigmoid": s * (1 - s), "tanh": 1 - np.tanh(z) ** 2, "relu": (z > 0) * 1.0}[name]
        dz = g * fprime
        out.append(np.linalg.norm(dz) / g0)
        g = dz @ w.T
    return np.array(out[::-1])


@pytest.mark.parametrize("name", activations.NAMES)
@pytest.mark.parametrize("init", ["xavier", "he"])
def test_chain_gradients_match_an_independent_backprop(name, init):
    width = 8
    std = 1 / np.sqrt(width) if init == "xavier" else np.sqrt(2 / width)
    got = activations.chain_gradients(name=name, depth=6, width=width, batch=5, init=init, seed=3)
    assert got.shape == (6,)
    assert np.allclose(got, _chain_by_hand(name, 6, width, 5, 3, std), rtol=1e-12)


def test_chain_gradients_show_sigmoid_vanishing_and_are_reproducible():
    sig = activations.chain_gradients(name="sigmoid", depth=20, seed=0)
    relu_he = activations.chain_gradients(name="relu", depth=20, init="he", seed=0)
    assert sig[0] < 1e-9 < 0.1 < relu_he[0]
    assert np.array_equal(sig, activations.chain_gradients(name="sigmoid", depth=20, seed=0))


@pytest.mark.parametrize("kwargs", [
    {"name": "gelu", "depth": 3}, {"name": "relu", "depth": 0}, {"name": "relu", "depth": 2.5},
    {"name": "relu", "depth": True}, {"name": "relu", "depth": 3, "init": "lecun"},
    {"name": "relu", "depth": 3, "width": 0},
])
def test_chain_gradients_bad_config(kwargs):
    with pytest.raises(ConfigError):
        activations.chain_gradients(**kwargs)


def test_unknown_name_is_a_config_error():
    with pytest.raises(ConfigError, match="sigmoid"):
        activations.value(1.0, name="softmax")
    with pytest.raises(ConfigError):
        activations.derivative(1.0, name="Relu")
