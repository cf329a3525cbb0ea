"""nnlib.step.TrainStep: the planned step computes model.loss + optimizer.step bit for bit,
allocates (almost) nothing per step, and refuses what it does not plan with a clear error."""

import itertools
import tracemalloc

import numpy as np
import pytest

from nnlib import MLP, aligned, optim, step, train
from nnlib.errors import ConfigError, DTypeError, LabelError, NonFiniteError, ShapeError

SIZES = (20, 16, 12, 5)


def pair(*, activation="relu", optimizer="sgd", bias=True, dtype=np.float32, seed=1):
    """Two identical models with their optimizers: one for each way of stepping."""
    models = [MLP(SIZES, activation=activation, bias=bias, dtype=dtype, seed=seed) for _ in range(2)]
    return [(m, optim.make_optimizer(optimizer, m.params, lr=0.05)) for m in models]


@pytest.mark.parametrize("activation,optimizer,bias,dtype", list(itertools.product(
    ("relu", "sigmoid", "tanh"), ("sgd", "momentum", "adam"), (True, False),
    (np.float32, np.float64))))
def test_the_same_numbers_as_model_loss_and_optimizer_step(activation, optimizer, bias, dtype):
    (ref, ref_opt), (model, opt) = pair(activation=activation, optimizer=optimizer, bias=bias,
                                        dtype=dtype)
    planned = step.TrainStep(model, opt)
    rng = np.random.default_rng(0)
    for batch in (1, 7, 64, 1, 7):      # batch 1's padded blocks and a return to a kept size
        X = rng.standard_normal((batch, SIZES[0])).astype(dtype)
        y = rng.integers(0, SIZES[-1], batch)
        expected, grads = ref.loss(X, y)
        ref_opt.step(grads)
        assert planned(X, y) == expected
        for name in ref.params:
            assert np.array_equal(model.params[name], ref.params[name]), name


def test_fit_trains_to_the_same_weights_with_and_without_the_plan(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.random((203, SIZES[0]), dtype=np.float32)    # 203 = 6 x 32 + a last batch of 11
    y = rng.integers(0, SIZES[-1], 203).astype(np.uint8)
    runs = []
    for use_plan in (True, False):
        monkeypatch.setattr(train, "applies", lambda m, o, use=use_plan: use and step.applies(m, o))
        model = MLP(SIZES, seed=0)
        hist = train.fit(model, X, y, epochs=2, batch_size=32, lr=0.1, optimizer="momentum",
                         val=(X[:50], y[:50]), progress=False)
        runs.append((model, hist))
    (planned, h1), (readable, h2) = runs
    assert h1["batch_loss"] == h2["batch_loss"] and h1["val_acc"] == h2["val_acc"]
    for name in planned.params:
        assert np.array_equal(planned.params[name], readable.params[name])


def test_fit_uses_the_plan_for_classifiers_only(monkeypatch):
    built = []
    real = step.TrainStep

    def spy(*args, **kwargs):
        built.append(args[0].loss_name)
        return real(*args, **kwargs)
    monkeypatch.setattr(train, "TrainStep", spy)
    X = np.random.default_rng(0).random((40, 4), dtype=np.float32)
    train.fit(MLP((4, 3)), X, np.arange(40) % 3, epochs=1, batch_size=8, lr=0.1, progress=False)
    train.fit(MLP((4, 1), loss="mse"), X, X[:, :1], epochs=1, batch_size=8, lr=0.1, progress=False)
    assert built == ["cross_entropy"]


def steady_state_allocation(fn, *, steps=5):
    fn()
    fn()                                 # buffers exist from here on
    tracemalloc.start()
    try:
        for _ in range(steps):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def per_step_allocation(width, *, planned, batch=64):
    model = MLP((20, width, 5))
    opt = optim.SGD(model.params, lr=0.1)
    X = np.random.default_rng(0).random((batch, 20), dtype=np.float32)
    y = np.arange(batch) % 5
    if planned:
        plan = step.TrainStep(model, opt)
        return steady_state_allocation(lambda: plan(X, y))
    return steady_state_allocation(lambda: opt.step(model.loss(X, y)[1]))


def test_a_planned_step_allocates_nothing_that_grows_with_the_layers():
    # The readable step's fresh activations and gradients grow with the hidden width; what
    # the planned step allocates does not: (B,)-sized row maxima and NumPy's own fixed
    # 32 KiB buffer for casting the ReLU mask (8192 elements, the same in the fused step).
    readable = [per_step_allocation(w, planned=False) for w in (256, 1024)]
    planned = [per_step_allocation(w, planned=True) for w in (256, 1024)]
    assert readable[1] - readable[0] > 3 * 64 * 768 * 4
    assert abs(planned[1] - planned[0]) < 4096, planned
    assert planned[1] < readable[1] / 10


def test_at_most_two_batch_sizes_keep_buffers():
    (_, _), (model, opt) = pair()
    planned = step.TrainStep(model, opt)
    for batch in (4, 5, 6, 5):
        planned(np.zeros((batch, SIZES[0]), np.float32), np.zeros(batch, np.int64))
    assert sorted(planned._buffers) == [5, 6]


def test_what_it_does_not_plan_is_refused_with_the_readable_alternative():
    model = MLP(SIZES, loss="bce")
    with pytest.raises(ConfigError, match="cross_entropy.*model.loss"):
        step.TrainStep(model, optim.SGD(model.params, lr=0.1))
    model = MLP(SIZES)
    with pytest.raises(ConfigError, match="params dict"):
        step.TrainStep(model, optim.SGD(dict(model.params), lr=0.1))
    assert not step.applies(model, optim.SGD(dict(model.params), lr=0.1))
    assert step.applies(model, optim.Adam(model.params))


@pytest.mark.parametrize("X,y,error,message", [
    (np.zeros((4, 20)), np.zeros(4, int), DTypeError, "float32.*astype"),   # float64 batch
    (np.zeros((4, 19), np.float32), np.zeros(4, int), ShapeError, r"\(B, 20\)"),
    (np.zeros((0, 20), np.float32), np.zeros(0, int), ShapeError, "B >= 1"),
    ([[0.0] * 20], [0], DTypeError, "NumPy array"),
    (np.zeros((4, 20), np.float32), np.array([0, 1, 2, 5]), LabelError, r"\[0, 5\)"),
    (np.zeros((4, 20), np.float32), np.array([0, 1, -1, 2]), LabelError, r"\[0, 5\)"),
    (np.zeros((4, 20), np.float32), np.zeros(3, int), ShapeError, r"\(4,\)"),
])
def test_bad_batches_are_named(X, y, error, message):
    (_, _), (model, opt) = pair()
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(error, match=message):
        step.TrainStep(model, opt)(X, y)
    assert all(np.array_equal(before[k], model.params[k]) for k in before)


def test_checked_labels_may_be_whole_floats_as_in_model_loss():
    (ref, _), (model, opt) = pair()
    X, y = np.ones((3, 20), np.float32), np.array([0.0, 4.0, 2.0])
    assert step.TrainStep(model, opt)(X, y) == ref.loss(X, y)[0]


def test_unchecked_labels_still_need_an_integer_vector():
    (_, _), (model, opt) = pair()
    planned = step.TrainStep(model, opt, check_labels=False)
    with pytest.raises(ShapeError, match="integer labels"):
        planned(np.zeros((2, 20), np.float32), np.array([0.0, 1.0]))


def test_update_needs_a_loss_first_and_applies_it_once():
    (_, _), (model, opt) = pair()
    planned = step.TrainStep(model, opt)
    with pytest.raises(ConfigError, match="loss\\(X, y\\) first"):
        planned.update()
    planned.loss(np.ones((3, 20), np.float32), np.arange(3))
    planned.update()
    with pytest.raises(ConfigError, match="once"):
        planned.update()


def test_non_finite_weights_are_explained_before_anything_changes():
    (_, _), (model, opt) = pair()
    model.params["W2"][0, 0] = np.nan
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(NonFiniteError, match="W2.*lower learning rate"):
        step.TrainStep(model, opt)(np.ones((3, 20), np.float32), np.arange(3))
    assert all(np.array_equal(before[k], model.params[k], equal_nan=True) for k in before)


def test_replaced_parameters_are_used_or_refused():
    (ref, ref_opt), (model, opt) = pair()
    planned = step.TrainStep(model, opt)
    X, y = np.ones((3, 20), np.float32), np.arange(3)
    planned(X, y)
    ref_opt.step(ref.loss(X, y)[1])
    new = np.full((16, 12), 0.01, np.float32)
    model.params["W2"] = opt.params["W2"] = new          # the same dict: both see it
    ref.params["W2"] = new.copy()
    assert planned(X, y) == ref.loss(X, y)[0]
    model.params["W2"] = np.zeros((12, 16), np.float32)
    with pytest.raises(ShapeError, match="'W2' is \\(12, 16\\) float32; it must be \\(16, 12\\)"):
        planned(X, y)


@pytest.mark.parametrize("shape,dtype", [((784, 128), np.float32), ((1, 10), np.float64),
                                         ((3,), bool), ((0, 5), np.float32)])
def test_aligned_arrays_start_on_a_cache_line(shape, dtype):
    for _ in range(5):
        a = aligned.empty(shape, dtype)
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous
        assert a.size == 0 or aligned.is_aligned(a)
    assert not aligned.zeros(shape, dtype).any()
    src = (np.arange(int(np.prod(shape))) % 3).astype(dtype).reshape(shape)
    assert np.array_equal(aligned.copy(src), src)


def test_model_parameters_are_aligned_after_init_and_load(tmp_path):
    model = MLP((784, 128, 64, 10))
    assert all(aligned.is_aligned(p) for p in model.params.values())
    loaded = MLP.load(model.save(tmp_path / "m"))
    assert all(aligned.is_aligned(p) for p in loaded.params.values())
    assert all(np.array_equal(loaded.params[k], model.params[k]) for k in model.params)
