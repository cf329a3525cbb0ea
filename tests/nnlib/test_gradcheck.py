"""Every layer and loss against centered finite differences in float64."""

import numpy as np
import pytest

from nnlib import MLP, gradcheck, layers, losses

TOL = 1e-7


def away_from_zero(rng, shape, margin=1e-2):
    """Random inputs with |x| >= margin.

    ReLU is not differentiable at 0: a finite difference that straddles the
    kink sees a slope of 0.5 where the analytic gradient says 0 or 1. Keeping
    inputs at least 1e-2 from 0 (much more than h = 1e-5) avoids that; this is
    the only adjustment made for kinks, and the bound stays 1e-7.
    """
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, margin * np.sign(x + 1e-12), x)


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def test_rel_error_detects_a_wrong_gradient():
    assert gradcheck.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert gradcheck.rel_error([1.0, 2.0], [1.0, 2.2]) > 0.04


def test_check_layer_flags_a_broken_backward(rng):
    def bad_backward(dout, cache):  # forgets the sigmoid derivative entirely
        return dout
    err, = gradcheck.check_layer(layers.sigmoid_forward, bad_backward, rng.standard_normal((3, 4)))
    assert err > 1e-2


def test_affine(rng):
    x, w, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3)), rng.standard_normal(3)
    errors = gradcheck.check_layer(layers.affine_forward, layers.affine_backward, x, w, b)
    assert max(errors) < TOL, errors


def test_affine_without_bias(rng):
    fwd = lambda x, w: layers.affine_forward(x, w, None)  # noqa: E731
    bwd = lambda dout, cache: layers.affine_backward(dout, cache)[:2]  # noqa: E731
    errors = gradcheck.check_layer(fwd, bwd, rng.standard_normal((4, 6)), rng.standard_normal((6, 2)))
    assert max(errors) < TOL, errors


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation(name, rng):
    fwd, bwd = layers.ACTIVATIONS[name]
    err, = gradcheck.check_layer(fwd, bwd, away_from_zero(rng, (6, 5)))
    assert err < TOL, (name, err)


def test_softmax_cross_entropy(rng):
    y = rng.integers(0, 4, size=6)
    assert gradcheck.check_loss(losses.softmax_cross_entropy, rng.standard_normal((6, 4)), y) < TOL


def test_mse(rng):
    target = rng.standard_normal((5, 3))
    assert gradcheck.check_loss(losses.mse_loss, rng.standard_normal((5, 3)), target) < TOL


def test_binary_cross_entropy_on_probabilities(rng):
    p = rng.uniform(0.05, 0.95, size=(6, 1))
    y = rng.integers(0, 2, size=(6, 1)).astype(float)
    assert gradcheck.check_loss(losses.binary_cross_entropy, p, y) < TOL


def test_bce_with_logits(rng):
    z = rng.standard_normal((6, 2)) * 3
    y = rng.integers(0, 2, size=(6, 2)).astype(float)
    assert gradcheck.check_loss(losses.bce_with_logits, z, y) < TOL


@pytest.mark.parametrize("activation,loss,out", [
    ("relu", "cross_entropy", 4), ("tanh", "cross_entropy", 4), ("sigmoid", "bce", 1), ("tanh", "mse", 2)])
def test_whole_mlp(activation, loss, out, rng):
    model = MLP((5, 6, 4, out), activation=activation, loss=loss, seed=1, dtype=np.float64)
    for name in model.params:  # nonzero biases so their gradients are exercised too
        if name.startswith("b"):
            model.params[name] = rng.standard_normal(model.params[name].shape)
    X = rng.standard_normal((7, 5))
    y = rng.integers(0, out, size=7) if loss == "cross_entropy" else rng.integers(0, 2, size=(7, out)).astype(float)
    errors = gradcheck.check_model(model, X, y)
    assert max(errors.values()) < TOL, errors


def test_sigmoid_accepts_scalars_and_does_not_overflow():
    assert float(layers.sigmoid(-6.0)) == pytest.approx(1 / (1 + np.exp(6.0)), rel=1e-15)
    with np.errstate(over="raise"):
        assert layers.sigmoid(np.array([-800.0, 0.0, 800.0])).tolist() == [0.0, 0.5, 1.0]
