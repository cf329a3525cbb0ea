"""Bad input N8 (review bad-input-2026-12): the raw errors, misleading messages and silent
acceptances left in nnlib each get a clear nnlib error that names the argument and the fix."""

import re
import warnings

import numpy as np
import pytest

from nnlib import MLP, activations, liveness, memory, memtrace, perceptron, preprocess, timing
from nnlib import train, xor
from nnlib.errors import (ConfigError, DTypeError, LabelError, NonFiniteError, ShapeError,
                          UnscaledInputWarning)
from nnlib.losses import check_labels


def raises(kind, call, *patterns):
    """``call()`` raises exactly an nnlib ``kind`` whose message matches every pattern."""
    with pytest.raises(kind) as info:
        call()
    assert issubclass(info.type, kind), info.type
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"
    return str(info.value)


# --- xor -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seeds, shown", [
    ([-1], "-1"), ("abc", "'abc'"), ([1.7], "1.7"), ([2**32], str(2**32)), ([True], "True"),
    ([], "none"), (np.zeros((2, 2), dtype=int), r"shape \(2, 2\)"),
])
def test_xor_seeds_refused(seeds, shown):
    raises(ConfigError, lambda: xor.run_xor_experiment(seeds=seeds, epochs=1), "seeds", shown,
           r"seeds=range\(10\)|1-D")


def test_xor_float_seed_no_longer_trains_another_seed():
    # 1.7 was truncated to 1 silently; whole numbers of any integer type still work.
    assert xor.run_xor_experiment(seeds=np.arange(2), epochs=1)["seeds"].tolist() == [0, 1]
    assert xor.run_xor_experiment(seeds=np.int64(3), epochs=1)["seeds"].tolist() == [3]
    raises(ConfigError, lambda: xor.train_xor_single(1.7, epochs=1), "article_init", "1.7")


@pytest.mark.parametrize("lr", ["0.1", float("inf"), float("nan"), 0, True])
def test_xor_lr_refused(lr):
    raises(ConfigError, lambda: xor.train_xor_single(0, lr=lr, epochs=1), "lr must be positive",
           re.escape(repr(lr)))
    raises(ConfigError, lambda: xor.run_xor_experiment(seeds=[0], lr=lr, epochs=1), "lr")


def test_xor_forward_names_missing_weights():
    X = xor.xor_data()[0]
    raises(ConfigError, lambda: xor.xor_forward(X, {"W1": np.ones((2, 2))}), "xor_forward",
           "lacks W2", "article_init")
    raises(ConfigError, lambda: xor.xor_forward(X, {"W2": np.ones(2)}), "lacks W1")


# --- perceptron ------------------------------------------------------------------------------

def test_perceptron_update_array_label():
    raises(ShapeError, lambda: perceptron.perceptron_update(np.zeros(2), 0.0, np.ones(2),
                                                            np.array([1])),
           "ONE label", r"\(1,\)", r"y\[i\]")
    w, b = perceptron.perceptron_update(np.zeros(2), 0.0, np.ones(2), np.array(1))
    assert w.tolist() == [1.0, 1.0] and b == 1.0  # a 0-d label still works


def test_perceptron_predict_text():
    raises(DTypeError, lambda: perceptron.perceptron_predict(np.array([["a", "b"]]), np.zeros(2),
                                                             0.0),
           "X must hold numbers", "dtype=float")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_perceptron_non_finite_data(bad):
    X = np.array([[0.0, 1.0], [bad, 1.0], [1.0, 0.0]])
    msg = raises(NonFiniteError, lambda: perceptron.train_perceptron(X, [0, 1, 1]),
                 "train_perceptron", "NaN or infinite", r"first \[1\]", "isfinite")
    assert "converged" not in msg


def test_train_perceptron_nan_lr():
    raises(ConfigError, lambda: perceptron.train_perceptron(np.eye(2), [0, 1], lr=float("nan")),
           "lr must be positive", "nan")


# --- memory, activations, liveness -----------------------------------------------------------

@pytest.mark.parametrize("digits", [-1, 1.5])
def test_human_bytes_digits(digits):
    raises(ConfigError, lambda: memory.human_bytes(10**6, digits=digits), "human_bytes",
           "digits", ">= 0")
    assert memory.human_bytes(10**6, digits=0) == "1 MB (977 KiB)"


@pytest.mark.parametrize("x", [np.array(["a", "b"]), np.array(["1.5"]), np.array([1 + 1j])])
def test_activation_value_text(x):
    raises(DTypeError, lambda: activations.value(x, name="relu"), "activations",
           "real numbers", re.escape(str(x.dtype)))
    raises(DTypeError, lambda: activations.derivative(x, name="tanh"), "real numbers")


def test_activation_value_still_takes_ints_and_lists():
    assert activations.value([-1, 2], name="relu").tolist() == [0.0, 2.0]


def test_liveness_unknown_optimizer():
    raises(ConfigError, lambda: liveness.naive_layer_outputs((4, 3, 2), batch=2,
                                                             optimizer="rmsprop"),
           "naive_layer_outputs", "'rmsprop'", "adam")


def test_naive_sum_not_a_report():
    raises(ConfigError, lambda: liveness.naive_sum("not a report"), "naive_sum",
           "MemoryReport", "str")


# --- memtrace --------------------------------------------------------------------------------

SIZES = (4, 3, 2)


@pytest.mark.parametrize("batch", [-1, 0, 2.5, True])
@pytest.mark.parametrize("fn", ["measure_nnlib_inference", "measure_nnlib_step",
                                "measure_torch_inference", "measure_torch_step"])
def test_memtrace_batch_refused(fn, batch):
    if "torch" in fn:
        pytest.importorskip("torch")
    raises(ConfigError, lambda: getattr(memtrace, fn)(SIZES, batch=batch), fn, "batch",
           re.escape(repr(batch)), "batch=64")


@pytest.mark.parametrize("batch", [-1, 0, 2.5])
def test_random_batch_refused(batch):
    raises(ConfigError, lambda: memtrace.random_batch(SIZES, batch), "random_batch",
           re.escape(repr(batch)))


@pytest.mark.parametrize("sizes, shown", [((4,), "at least an input and an output"),
                                          ((4, 0, 2), r"sizes\[1\] must be >= 1"),
                                          ((4, 2.5, 2), r"sizes\[1\] must be an integer"),
                                          ("abc", "sequence of layer widths")])
def test_torch_mlp_bad_sizes(sizes, shown):
    pytest.importorskip("torch")
    raises(ConfigError, lambda: memtrace.torch_mlp(sizes), "torch_mlp", shown)


# --- preprocess ------------------------------------------------------------------------------

def _digit():
    img = np.zeros((28, 28))
    img[5:20, 10:15] = 200.0
    return img


@pytest.mark.parametrize("dy, dx, name", [(1.5, 0, "dy"), (0, "1", "dx"), (0, True, "dx")])
def test_shift_fractional(dy, dx, name):
    raises(ConfigError, lambda: preprocess.shift(np.ones((2, 5, 5)), dy, dx), "shift",
           name, "whole number")


def test_shift_numpy_ints_still_work():
    assert preprocess.shift(np.eye(3), np.int64(1), -1)[1:, :].tolist() == [[0, 0, 0],
                                                                            [1, 0, 0]]


@pytest.mark.parametrize("kwargs, patterns", [
    (dict(box=40), ["box=40 is larger than size=28", "box=20, size=28"]),
    (dict(size=0), ["size", "got 0"]),
    (dict(box=0), ["box", "got 0"]),          # returned a 784-vector before
    (dict(box=2.5), ["box", "2.5"]),
    (dict(size=20, box=21), ["box=21 is larger than size=20"]),
])
def test_preprocess_digit_names_box_and_size(kwargs, patterns):
    msg = raises(ConfigError, lambda: preprocess.preprocess_digit(_digit(), **kwargs),
                 "preprocess_digit", *patterns)
    assert "center_by_mass" not in msg and "fit_in_box first" not in msg


def test_fit_in_box_and_center_by_mass_check_their_sizes():
    raises(ConfigError, lambda: preprocess.fit_in_box(_digit() / 255, box=0), "fit_in_box", "box")
    raises(ConfigError, lambda: preprocess.center_by_mass(np.ones((3, 3)), size=0),
           "center_by_mass", "size")


# --- timing ----------------------------------------------------------------------------------

def test_cpustream_submit_after_close():
    stream = timing.CPUStream()
    assert stream.submit(lambda: 3).result() == 3
    stream.close()
    raises(RuntimeError, lambda: stream.submit(lambda: 3), "CPUStream.submit", "closed",
           r"with CPUStream\(\)")
    with timing.CPUStream() as s2:
        pass
    raises(RuntimeError, lambda: s2.submit(print), "closed")


@pytest.mark.parametrize("fn", [timing.set_blas_threads,
                                lambda n: timing.limit_threads(n).__enter__()])
def test_thread_count_errors_name_their_function(fn):
    msg = raises(ConfigError, lambda: fn(0), r"^(set_blas_threads|limit_threads): ", "got 0")
    assert not msg.startswith("benchmark")


# --- MLP and labels --------------------------------------------------------------------------

def test_mlp_dtype_names_what_was_passed():
    raises(ConfigError, lambda: MLP((4, 3, 2), dtype="banana"), "got 'banana'")
    raises(ConfigError, lambda: MLP((4, 3, 2), dtype=np.int32), "int32")


def test_forward_overflow_is_not_called_bad_data():
    X = np.zeros((3, 4))
    X[1, 2] = 1e39
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the matmul's inf * 0 (layers.py)
        warnings.filterwarnings("error", message="overflow encountered in cast")
        msg = raises(NonFiniteError, lambda: MLP((4, 3, 2)).forward(X), "overflow float32",
                     "1e\\+39", "dtype=np.float64")
    assert "bad data" not in msg
    assert np.isfinite(MLP((4, 3, 2), dtype=np.float64).forward(X)).all()
    # A real NaN is still bad data.
    raises(NonFiniteError, lambda: MLP((4, 3, 2)).forward(np.full((1, 4), np.nan)), "bad data")


def test_fit_overflow_is_named_before_training():
    X = np.zeros((4, 4))
    X[0, 0] = -1e39
    raises(NonFiniteError, lambda: train.fit(MLP((4, 3, 2)), X, np.zeros(4, dtype=int),
                                             epochs=1, batch_size=2),
           "fit: X", "overflow the model's float32", "dtype=np.float64")


@pytest.mark.parametrize("y, shown", [(np.array([1e20, 1.0]), "1 to 1e\\+20"),
                                      (np.array([-3.0, 1.0]), "-3 to 1"),
                                      (np.array([5, 1]), "1 to 5")])
def test_label_range_shows_the_real_values(y, shown):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'invalid value encountered in cast'
        msg = raises(LabelError, lambda: check_labels(y, num_classes=2, batch_size=2),
                     r"labels must lie in \[0, 2\)", shown)
    assert "-9223372036854775808" not in msg


def test_forward_warns_on_integer_pixels():
    model = MLP((4, 3, 2))
    with pytest.warns(UnscaledInputWarning, match=r"0 to 255 \(uint8\).*X / 255"):
        model.forward(np.array([[0, 255, 3, 7]], dtype=np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.forward(np.array([[0, 1, 1, 0]], dtype=np.int64))   # 0/1 features: no warning
        model.forward(np.full((1, 4), 200.0, dtype=np.float32))   # float: not scanned (fit warns)
