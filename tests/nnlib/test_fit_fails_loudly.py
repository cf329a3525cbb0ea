"""fit fails loudly: arguments and data are checked before the first step, a blown-up run is
a TrainingDiverged even while its loss stays finite, and bad data is called bad data (issue 10).

Also the training step's shortcuts: the first layer's input gradient is skipped, and the
forward pass checks only its output for NaN."""

import re
import warnings

import numpy as np
import pytest

from nnlib import MLP, gradcheck, layers, optim, train
from nnlib.errors import (ConfigError, LabelError, NonFiniteError, ShapeError, TrainingDiverged,
                          UnscaledInputWarning)


def raises(kind, call, *patterns):
    with pytest.raises(kind) as info:
        call()
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"
    return info.value


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 3], [3, 0], [-3, -3]])
    return (centers[y] + rng.standard_normal((n, 2))).astype(np.float32), y


X, Y = blobs()


def fit(model=None, X_=X, y=Y, **kwargs):
    kwargs = {"epochs": 2, "batch_size": 32, "lr": 0.1, "progress": False, **kwargs}
    return train.fit(model or MLP((2, 8, 3), seed=0), X_, y, **kwargs)


# --- divergence ---------------------------------------------------------------------------

def test_blown_up_run_with_finite_losses_is_diverged():
    # tanh keeps every activation in [-1, 1], so lr = 1000 gives losses in the thousands, all finite.
    model = MLP((2, 16, 3), activation="tanh", seed=0)
    err = raises(TrainingDiverged, lambda: fit(model, lr=1000.0),
                 r"epoch 1, step \d+ of 10 \(lr=1000\)", "blown up", "still finite",
                 r"lower learning rate, e\.g\. lr=100\b")
    assert all(np.isfinite(p).all() for p in model.params.values()), "the weights really were finite"
    assert "inf" not in str(err).split("lr=1000")[1]


def test_healthy_and_spiky_runs_are_not_flagged():
    fit(MLP((2, 16, 3), activation="tanh", seed=0), lr=10.0, epochs=3)  # spikes to 30, recovers


def test_nan_in_the_data_is_bad_data_not_divergence():
    Xn = X.copy()
    Xn[[7, 42], 1] = np.nan
    err = raises(NonFiniteError, lambda: fit(X_=Xn), r"fit: X: 2 of 600 values", r"row\(s\): 7, 42",
                 "bad data", r"np\.isfinite\(X\)\.all\(axis=1\)")
    assert not isinstance(err, TrainingDiverged) and "learning rate" not in str(err)


def test_nan_in_validation_data_is_reported_before_training():
    model = MLP((2, 8, 3), seed=0)
    before = model.params["W1"].copy()
    Xv = X[:50].copy()
    Xv[3, 0] = np.inf
    raises(NonFiniteError, lambda: fit(model, val=(Xv, Y[:50])), r"fit: X_val", r"row\(s\): 3", "bad data")
    np.testing.assert_array_equal(model.params["W1"], before)  # not one step was taken


def test_suggested_learning_rate_is_never_inf():
    model = MLP((2, 8, 3), seed=0)
    opt = optim.SGD(model.params, lr=0.1)
    opt.lr = float("inf")  # set behind the constructor's back
    err = raises(TrainingDiverged, lambda: fit(model, optimizer=opt, lr=None), r"lr=inf\)", r"e\.g\. lr=0\.01\b")
    assert "lr=inf," not in str(err) and "e.g. lr=inf" not in str(err)


def test_epoch_end_overflow_is_training_diverged():
    # One step per epoch: its loss is finite, its update overflows float32, and the
    # evaluation at the end of the epoch is the first to see the infinite weights.
    model = MLP((2, 8, 3), seed=0)
    raises(TrainingDiverged, lambda: fit(model, batch_size=len(X), lr=1e38),
           r"epoch 1, step 1 of 1", "end of the epoch", "lower learning rate")


def test_diverged_weights_are_named_by_forward():
    model = MLP((2, 8, 3), seed=0)
    model.params["W2"][0, 0] = np.nan
    raises(NonFiniteError, lambda: model.forward(X[:4]), "parameter W2", "lower learning rate")
    model = MLP((2, 8, 3), seed=0)
    model.params["W2"] *= 1e37  # finite weights, overflowing activations
    with np.errstate(over="ignore"):
        raises(NonFiniteError, lambda: model.forward(X[:4] * 1e3), "overflowed", "lower learning rate")


# --- arguments, checked before the first step ------------------------------------------------

@pytest.mark.parametrize("kwargs, kind, pattern", [
    (dict(epochs=0), ConfigError, r"epochs must be a whole number >= 1, e\.g\. epochs=5, got 0"),
    (dict(epochs=-2), ConfigError, r"epochs must be a whole number >= 1"),
    (dict(epochs=2.5), ConfigError, r"epochs must be a whole number"),
    (dict(epochs=True), ConfigError, r"epochs must be a whole number"),
    (dict(batch_size=0), ConfigError, r"batch_size must be a whole number >= 1, e\.g\. batch_size=32, got 0"),
    (dict(batch_size=-8), ConfigError, r"batch_size must be a whole number >= 1"),
    (dict(batch_size=16.0), ConfigError, r"batch_size must be a whole number"),
    (dict(batch_size="32"), ConfigError, r"batch_size must be a whole number"),
    (dict(batch_size=301), ConfigError, r"batch_size=301 is larger than the 300 training examples.*batch_size <= 300"),
    (dict(lr=0), ConfigError, r"learning rate must be positive.*Typical values"),
    (dict(lr=-0.1), ConfigError, r"learning rate must be positive"),
    (dict(lr=float("nan")), ConfigError, r"lr must be a finite number"),
    (dict(lr=float("inf")), ConfigError, r"lr must be a finite number"),
    (dict(lr="0.1"), ConfigError, r"lr must be a finite number"),
    (dict(lr=None), ConfigError, r"fit: lr is required with optimizer='sgd'; e\.g\. lr=0\.1"),
    (dict(val=X), ConfigError, r"val must be a pair \(X_val, y_val\)"),
    (dict(val=(X[:10], Y[:9])), ShapeError, r"X_val has 10 examples but y_val has 9"),
    (dict(val=(X[:0], Y[:0])), ShapeError, r"X_val holds no examples"),
    (dict(val=(X[:10, :1], Y[:10])), ShapeError, r"X_val has shape \(10, 1\).*rows of 2 features.*flatten"),
    (dict(val=(X[:10], Y[:10] + 5)), LabelError, r"fit: y_val: labels must lie in \[0, 3\)"),
    (dict(val=(X[:10], np.eye(3)[Y[:10]])), ShapeError, r"fit: y_val.*one-hot"),
])
def test_bad_arguments_are_refused_before_training(kwargs, kind, pattern):
    model = MLP((2, 8, 3), seed=0)
    before = {k: v.copy() for k, v in model.params.items()}
    raises(kind, lambda: fit(model, **kwargs), pattern)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v)


def test_images_that_are_not_flattened():
    raises(ShapeError, lambda: fit(MLP((4, 3)), np.zeros((6, 2, 2), np.float32), np.zeros(6, int), batch_size=2),
           r"X has shape \(6, 2, 2\)", r"flatten_and_scale")


def test_training_labels_are_checked_before_training():
    raises(LabelError, lambda: fit(y=np.where(np.arange(300) == 299, 7, Y)), r"fit: y: labels must lie in \[0, 3\)")
    raises(ShapeError, lambda: fit(MLP((2, 4, 1), loss="bce"), y=(Y > 0).astype(float)),
           r"fit: y has shape \(300,\).*reshape\(-1, 1\)")


def test_optimizer_built_on_another_models_parameters():
    model, other = MLP((2, 8, 3), seed=0), MLP((2, 8, 3), seed=1)
    raises(ConfigError, lambda: fit(model, optimizer=optim.SGD(other.params, lr=0.1), lr=None),
           "parameter 'W1' is not this model's array", "another model", r"SGD\(model\.params")


def test_optimizer_built_before_the_parameters_were_reassigned(tmp_path):
    model = MLP((2, 8, 3), seed=0)
    opt = optim.Adam(model.params)
    model.params = dict(MLP.load(model.save(tmp_path / "m")).params)  # new arrays, same names
    raises(ConfigError, lambda: fit(model, optimizer=opt, lr=None), "before model.params was reassigned")


def test_optimizer_instance_and_lr_must_agree():
    model = MLP((2, 8, 3), seed=0)
    opt = optim.SGD(model.params, lr=0.05)
    raises(ConfigError, lambda: fit(model, optimizer=opt, lr=0.1), r"lr=0\.1 but the optimizer was built with lr=0\.05")
    raises(ConfigError, lambda: fit(model, optimizer=opt, lr=None, optimizer_kwargs={"momentum": 0.9}),
           "optimizer_kwargs apply only")
    fit(model, optimizer=opt, lr=None, epochs=1)
    fit(model, optimizer=opt, lr=0.05, epochs=1)


def test_a_subset_of_the_parameters_may_be_trained():
    model = MLP((2, 8, 3), seed=0)
    b1 = model.params["b1"].copy()
    fit(model, optimizer=optim.SGD({"W1": model.params["W1"], "W2": model.params["W2"]}, lr=0.1), lr=None, epochs=1)
    np.testing.assert_array_equal(model.params["b1"], b1)


def test_unscaled_pixels_warn_with_the_fix():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (64, 4)).astype(np.uint8)
    labels = rng.integers(0, 2, 64)
    with pytest.warns(UnscaledInputWarning, match=r"0 to 255, like raw image pixels.*X = X / 255"):
        fit(MLP((4, 2)), pixels, labels, epochs=1, lr=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(MLP((4, 2)), pixels / 255, labels, epochs=1)       # scaled: no warning
        fit(MLP((4, 2)), pixels * 0.37, labels, epochs=1, lr=1e-3)  # not whole numbers: not pixels


# --- the training step's shortcuts --------------------------------------------------------------

def test_backward_skips_the_input_gradient_unless_asked():
    rng = np.random.default_rng(0)
    Xd, yd = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    model = MLP((4, 6, 3), activation="tanh", seed=0, dtype=np.float64)
    out, caches = model.forward(Xd, keep_cache=True)
    dout = rng.standard_normal(out.shape)
    plain = model.backward(dout, caches)
    full = model.backward(dout, caches, input_grad=True)
    assert "X" not in plain and set(full) == set(plain) | {"X"}
    for k in plain:
        np.testing.assert_array_equal(plain[k], full[k])
    num = gradcheck.numerical_gradient(lambda: float(np.sum(model.forward(Xd) * dout)), Xd)
    assert gradcheck.rel_error(full["X"], num) < 1e-7


def test_affine_backward_without_dx():
    rng = np.random.default_rng(1)
    out, cache = layers.affine_forward(rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), np.zeros(2))
    dout = rng.standard_normal(out.shape)
    dx, dw, db = layers.affine_backward(dout, cache, need_dx=False)
    assert dx is None
    _, dw_full, db_full = layers.affine_backward(dout, cache)
    np.testing.assert_array_equal(dw, dw_full)
    np.testing.assert_array_equal(db, db_full)


def test_float32_throughout_the_step():
    model = MLP((4, 5, 3), seed=0)
    loss, grads = model.loss(np.ones((2, 4), np.float32), np.array([0, 2]))
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_forward_names_the_nan_rows():
    Xn = np.ones((5, 4))
    Xn[3, 1] = np.nan
    raises(NonFiniteError, lambda: MLP((4, 2)).forward(Xn), r"MLP input: 1 of 20 values", r"row\(s\): 3", "bad data")
