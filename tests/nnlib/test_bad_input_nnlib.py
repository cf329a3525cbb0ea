"""Bad input to layers, MLP, optimizers, gradcheck and metrics gets a clear nnlib error
naming the argument or layer and saying how to fix it (issue 16)."""

import re
import warnings

import numpy as np
import pytest

from nnlib import MLP, gradcheck, layers, optim, train
from nnlib.errors import (ConfigError, DataError, DTypeError, LabelError, PrecisionWarning,
                          ShapeError)


def clear(info, kind, *patterns):
    """The error is ``kind`` and its message matches every pattern (the name, the fix)."""
    assert issubclass(info.type, kind), info.type
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"


def raises(kind, call, *patterns):
    with pytest.raises(kind) as info:
        call()
    clear(info, kind, *patterns)


RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((3, 4))


# --- backward passes check dout and cache ---------------------------------------------------

def _aff():
    return layers.affine_forward(X4, RNG.standard_normal((4, 2)), np.zeros(2))


@pytest.mark.parametrize("layer, x, dout", [
    ("affine", None, np.ones((3, 3))),
    ("affine", None, np.ones(3)),
    ("relu", X4, np.ones(4)),             # silently broadcast before
    ("relu", X4, np.ones((1, 4))),
    ("sigmoid", X4, np.ones((3, 1))),
    ("tanh", X4, np.ones(())),
    ("identity", X4, np.ones((4, 3))),
])
def test_backward_checks_dout_shape(layer, x, dout):
    fwd, bwd = layers.ACTIVATIONS.get(layer, (None, layers.affine_backward))
    out, cache = _aff() if layer == "affine" else fwd(x)
    raises(ShapeError, lambda: bwd(dout, cache), rf"{layer} backward", re.escape(str(dout.shape)),
           re.escape(str(out.shape)), "must have the output's shape")


@pytest.mark.parametrize("bwd, cache", [
    (layers.affine_backward, np.ones((3, 4))),     # out passed instead of cache
    (layers.affine_backward, (1, 2)),
    (layers.relu_backward, [1.0, 2.0]),
    (layers.sigmoid_backward, None),
])
def test_backward_checks_cache(bwd, cache):
    raises(ShapeError, lambda: bwd(np.ones((3, 2)), cache), "backward: cache must be",
           r"out, cache = <layer>_forward")


def test_mlp_backward_with_1d_dout_names_the_layer():
    net = MLP((4, 3, 1), loss="mse", dtype=np.float64)
    out, caches = net.forward(X4, keep_cache=True)
    raises(ShapeError, lambda: net.backward(np.ones(3), caches), r"layer 2 \(affine 3->1\)",
           r"\(3,\)", r"\(3, 1\)", "reshape")
    raises(ShapeError, lambda: net.backward(np.ones((3, 1)), caches[:1]), "caches must be the list of 2",
           "keep_cache=True")


@pytest.mark.parametrize("call, where", [
    (lambda: layers.affine_forward(np.array([["a"] * 4]), np.ones((4, 2))), "affine: x"),
    (lambda: layers.affine_forward(np.ones((1, 4)), np.ones((4, 2)) * 1j), "affine: W"),
    (lambda: layers.affine_forward(np.ones((1, 4)), np.ones((4, 2)), np.array(["0", "0"])), "affine: b"),
    (lambda: layers.relu_forward(["1", "2"]), "relu: x"),
    (lambda: layers.sigmoid(np.array([None, 1.0])), "sigmoid: x"),
    (lambda: layers.tanh_forward("0.5"), "tanh: x"),
    (lambda: MLP((4, 2)).forward(np.full((2, 4), "x")), "MLP input"),
    (lambda: layers.relu_backward(np.array(["1"] * 4), X4[0]), "relu backward: dout"),
])
def test_non_numeric_arrays(call, where):
    raises(DTypeError, call, re.escape(where), "expected numbers", r"np\.asarray\(x, dtype=np\.float64\)")


def test_nan_weights_are_named():
    w = np.ones((4, 2))
    w[0, 0] = np.nan
    raises(FloatingPointError, lambda: layers.affine_forward(X4, w, name="layer 1"),
           "layer 1 weights W", "lower learning rate")


def test_single_example_says_reshape():
    raises(ShapeError, lambda: MLP((4, 2)).forward(np.ones(4)), r"\(4,\)", r"reshape\(1, -1\)")


# --- MLP constructor, save and load -------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(dtype=np.int32), "dtype"), (dict(dtype=np.complex128), "dtype"), (dict(dtype=bool), "dtype"),
    (dict(dtype="flaot"), "dtype"), (dict(dtype=np.uint8), "dtype"),
    (dict(sizes=(784.7, 10)), r"sizes\[0\] = 784\.7"), (dict(sizes=(4, True, 2)), r"sizes\[1\] = True"),
    (dict(sizes=("784", 10)), r"sizes\[0\]"), (dict(sizes=(4, 0, 2)), r"sizes\[1\] = 0"),
    (dict(sizes=(4, -3)), r"sizes\[1\]"), (dict(sizes=(4, float("nan"))), r"sizes\[1\]"),
    (dict(sizes=784), "sizes must be a sequence"), (dict(sizes="784,10"), "sizes must be a sequence"),
    (dict(sizes=(4,)), "at least an input and an output"),
    (dict(bias="False"), "bias must be True or False"), (dict(bias=None), "bias must be True or False"),
    (dict(seed="a"), "seed must be a non-negative integer"), (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"),
    (dict(activation=["relu"]), "activation must be one of"), (dict(init=None), "init must be one of"),
    (dict(loss=None), "loss must be one of"),
])
def test_mlp_constructor_refuses_nonsense(kwargs, name):
    sizes = kwargs.pop("sizes", (4, 3, 2))
    raises(ConfigError, lambda: MLP(sizes, **kwargs), name, r"e\.g\.|np\.float|must be|one of")


def test_whole_float_widths_and_float_dtypes_are_fine():
    assert MLP((4.0, np.int64(3), 2), dtype=np.float64).sizes == (4, 3, 2)
    assert MLP((4, 2), dtype="float16").params["W1"].dtype == np.float16


def test_save_and_load_agree_on_the_suffix(tmp_path):
    net = MLP((4, 3, 2), seed=1)
    assert net.save(tmp_path / "model") == tmp_path / "model.npz"
    for name in ("model", "model.npz"):
        np.testing.assert_array_equal(MLP.load(tmp_path / name).params["W1"], net.params["W1"])
    assert MLP.load(str(tmp_path / "model")).sizes == (4, 3, 2)


def _npz_without_config(p):
    np.savez(p, W1=np.ones((2, 2)))


def _npy(p):
    np.save(p.with_suffix(".npy"), np.ones(3))
    p.with_suffix(".npy").rename(p)


@pytest.mark.parametrize("make", [
    _npz_without_config, _npy,
    lambda p: p.write_text("not a model"),
    lambda p: p.write_bytes(b""),
    lambda p: np.savez(p, __config__=np.array("{'sizes': (4, 2)")),     # cut-off config
    lambda p: np.savez(p, __config__=np.array("[1, 2]")),
    lambda p: np.savez(p, __config__=np.array(repr(dict(sizes=(4, 2), activation="relu6", loss="mse",
                       output_activation="identity", bias=True, init="he", dtype="float32")))),
])
def test_load_of_something_that_is_not_a_model(tmp_path, make):
    make(tmp_path / "thing.npz")
    raises(DataError, lambda: MLP.load(tmp_path / "thing.npz"), re.escape(str(tmp_path / "thing.npz")),
           "not an nnlib model|not valid", "MLP.save")


def test_load_of_a_missing_file(tmp_path):
    raises(DataError, lambda: MLP.load(tmp_path / "gone"), re.escape(str(tmp_path / "gone.npz")),
           "does not exist", r"\.npz")
    raises(ConfigError, lambda: MLP.load(42), "path must be a file name")


# --- optimizers ------------------------------------------------------------------------

@pytest.fixture
def params():
    return MLP((4, 3, 2), seed=0).params


@pytest.mark.parametrize("make, name", [
    (lambda p: optim.SGD(p, lr=float("inf")), "lr must be a finite number"),
    (lambda p: optim.SGD(p, lr=float("nan")), "lr must be a finite number"),
    (lambda p: optim.SGD(p, lr="0.1"), "lr must be a finite number"),
    (lambda p: optim.SGD(p, lr=True), "lr must be a finite number"),
    (lambda p: optim.SGD(p, lr=-0.1), "learning rate must be positive.*Typical values"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\] must lie in \[0, 1\).*\(0\.9, 0\.999\)"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.5)), r"betas\[1\] must lie in \[0, 1\)"),
    (lambda p: optim.Adam(p, betas=(-0.1, 0.999)), r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=0.9), r"betas must be a pair.*e\.g\. \(0\.9, 0\.999\)"),
    (lambda p: optim.Adam(p, betas=(0.9,)), r"betas must be a pair"),
    (lambda p: optim.Adam(p, betas=(0.9, float("nan"))), r"betas\[1\] must be a finite number"),
    (lambda p: optim.Adam(p, eps=0), "eps must be positive.*1e-8"),
    (lambda p: optim.Momentum(p, lr=0.1, momentum=-0.5), r"momentum must lie in \[0, 1\).*0\.9"),
    (lambda p: optim.Momentum(p, lr=0.1, momentum=1.0), r"momentum must lie in \[0, 1\)"),
    (lambda p: optim.Momentum(p, lr=0.1, momentum=50), r"momentum must lie in \[0, 1\)"),
    (lambda p: optim.SGD(MLP((4, 2)), lr=0.1), "pass model.params"),
    (lambda p: optim.SGD({}, lr=0.1), "params must be a non-empty dict"),
    (lambda p: optim.make_optimizer("sgd", p, lr=0.1, momentum=0.9), "takes no momentum.*optimizer='momentum'"),
    (lambda p: optim.make_optimizer("adam", p, lr=0.1, beta1=0.9), "takes no beta1.*accepts"),
    (lambda p: optim.make_optimizer(["sgd"], p, lr=0.1), "optimizer must be one of"),
])
def test_optimizers_refuse_nonsense(params, make, name):
    raises(ConfigError, lambda: make(params), name)


def test_optimizer_parameter_and_gradient_types(params):
    raises(DTypeError, lambda: optim.SGD({"W": np.ones(3, int)}, lr=0.1), "parameter 'W'", "float",
           r"np\.asarray")
    opt = optim.SGD(params, lr=0.1)
    raises(ConfigError, lambda: opt.step((0.5, {})), "grads must be a dict", r"loss, grads = model\.loss")
    raises(ShapeError, lambda: opt.step({k: [0.0] for k in params}), "gradient for 'W1'", "Pass the grads")


def test_adam_beta1_of_one_used_to_make_nan(params):
    with pytest.raises(ConfigError):
        optim.Adam(params, betas=(1, 0.999))
    opt = optim.Adam(params, betas=(0.0, 0.0))  # the edges that work
    opt.step({k: np.ones_like(v) for k, v in params.items()})
    assert all(np.isfinite(v).all() for v in params.values())


# --- gradient checks --------------------------------------------------------------------

def test_gradcheck_warns_for_float32():
    X, y = RNG.standard_normal((3, 4)), np.array([0, 1, 0])
    with pytest.warns(PrecisionWarning, match=r"float32.*dtype=np\.float64"):
        gradcheck.check_model(MLP((4, 3, 2), seed=0), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck.check_model(MLP((4, 3, 2), seed=0, dtype=np.float64), X, y)
    x32 = np.ones(3, np.float32)
    with pytest.warns(PrecisionWarning, match="numerical_gradient: x is float32"):
        gradcheck.numerical_gradient(lambda: float(np.sum(x32 ** 2)), x32)


@pytest.mark.parametrize("call, kind, name", [
    (lambda: gradcheck.numerical_gradient(lambda: 0.0, np.ones(3, int)), DTypeError, "x must be a float"),
    (lambda: gradcheck.numerical_gradient(lambda: 0.0, [1.0, 2.0]), DTypeError, "x must be a float"),
    (lambda: gradcheck.numerical_gradient(lambda: 0.0, np.ones(3), h=0), ConfigError, "h must be a small positive"),
    (lambda: gradcheck.numerical_gradient(lambda: np.ones(2), np.ones(3)), ShapeError, "f must return one number"),
    (lambda: gradcheck.rel_error(np.ones((3, 4)), np.ones(4)), ShapeError, r"a has shape \(3, 4\) but b has \(4,\)"),
])
def test_gradcheck_arguments(call, kind, name):
    raises(kind, call, name, r"e\.g\.|Use|Wrap")


# --- metrics and the training loop ----------------------------------------------------------

@pytest.mark.parametrize("y_true, y_pred, kwargs, kind, name", [
    ([0, -1, 2], [0, 1, 2], {}, LabelError, r"y_true contains -1.*start at 0"),
    ([0, 1, 2], [0, 1, -2], {}, LabelError, r"y_pred contains -2"),
    ([0, 0.5, 1], [0, 1, 1], {}, LabelError, r"y_true must hold integer.*argmax"),
    ([0, np.nan, 1], [0, 1, 1], {}, LabelError, r"y_true contains NaN labels"),
    ([0, 1, 5], [0, 1, 1], dict(num_classes=3), LabelError, r"y_true contains 5.*num_classes=3"),
    (np.eye(3), [0, 1, 2], {}, ShapeError, r"y_true must be 1-D.*argmax\(axis=1\)"),
    (["a", "b"], [0, 1], {}, LabelError, r"y_true must hold integer"),
    ([0, 1], [0, 1], dict(num_classes=0), ConfigError, r"num_classes must be a whole number >= 1"),
    ([0, 1], [0, 1], dict(num_classes=2.5), ConfigError, r"num_classes"),
    ([0, 1], [0, 1, 1], {}, ShapeError, r"one label and one prediction per example"),
])
def test_confusion_matrix_refuses_bad_labels(y_true, y_pred, kwargs, kind, name):
    raises(kind, lambda: train.confusion_matrix(y_true, y_pred, **kwargs), name)


def test_confusion_matrix_still_counts():
    cm = train.confusion_matrix([0, 1.0, 2], np.array([0, 2, 2], np.uint8))
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
    assert train.confusion_matrix([], [], num_classes=2).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("call, name", [
    (lambda: list(train.minibatches(10, batch_size=2.5)), "batch_size must be a whole number >= 1"),
    (lambda: list(train.minibatches(10, batch_size=True)), "batch_size must be a whole number"),
    (lambda: train.fit(MLP((4, 2)), X4, [0, 1, 0], epochs=1.5, batch_size=2, lr=0.1, progress=False),
     "epochs must be a whole number"),
    (lambda: train.fit(MLP((4, 2)), X4, [0, 1, 0], epochs=1, batch_size=2, lr=0.1, progress=False, val=X4),
     r"val must be a pair \(X_val, y_val\)"),
    (lambda: train.fit(MLP((4, 2)), X4, [0, 1, 0], epochs=1, batch_size=2, lr=0.1, progress=False,
                       optimizer="sgd", optimizer_kwargs=dict(momentum=0.9)), "optimizer='momentum'"),
])
def test_training_arguments(call, name):
    raises(ConfigError, call, name)


# --- losses, xor and checks (the rest of issue 16) ------------------------------------

from nnlib import checks, losses, xor  # noqa: E402
from nnlib.errors import ConfigError, LabelError  # noqa: E402


@pytest.mark.parametrize("call, words", [
    (lambda: losses.mse_loss(np.zeros((2, 1)), np.array([[np.nan], [0.0]])), "mse_loss target"),
    (lambda: losses.mse_loss(np.zeros((2, 1)), np.array([[np.inf], [0.0]])), "mse_loss target"),
    (lambda: losses.bce_with_logits(np.zeros((2, 1)), np.array([[np.nan], [1.0]])), "bce_with_logits target"),
    (lambda: losses.binary_cross_entropy(np.array([[0.5]]), np.array([[np.nan]])), "binary_cross_entropy target"),
    (lambda: losses.binary_cross_entropy(np.array([[2.0]]), np.array([[1.0]])), "bce_with_logits"),
    (lambda: losses.binary_cross_entropy(np.array([[-0.1]]), np.array([[0.0]])), "probabilities must lie in [0, 1]"),
    (lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, np.nan])), "NaN or infinite labels"),
])
def test_losses_refuse_non_finite_targets_and_bad_probabilities(call, words):
    with pytest.raises((LabelError, ValueError)) as error:
        call()
    assert words in str(error.value)


@pytest.mark.parametrize("hidden", [2.5, True, "2", 0, -1])
def test_xor_helpers_agree_on_hidden(hidden):
    for call in (lambda: xor.train_xor_single(0, hidden=hidden, epochs=1),
                 lambda: xor.run_xor_grid(seeds=1, hidden=(hidden,), epochs=1)):
        with pytest.raises(ConfigError, match="hidden must be a positive integer"):
            call()


def test_check_close_with_nan_says_what_it_found():
    with pytest.raises(AssertionError, match="non-finite values"):
        checks.check_close(np.nan, 1.0, what="x")
    with pytest.raises(AssertionError, match="expected value itself is not finite"):
        checks.check_close(np.nan, np.nan, what="x")
