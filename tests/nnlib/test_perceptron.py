"""Rosenblatt's perceptron in nnlib.perceptron: prediction, update rule, training, data makers."""

import itertools

import numpy as np
import pytest

from nnlib import perceptron as P
from nnlib.errors import ConfigError, LabelError, ShapeError


def test_step_is_zero_at_zero_and_keeps_shape():
    z = np.array([[-2.0, 0.0], [1e-12, 3.0]])
    out = P.step(z)
    assert out.shape == z.shape and out.dtype == np.int64
    assert out.tolist() == [[0, 0], [1, 1]]


def test_predict_matches_explicit_weighted_sum():
    rng = np.random.default_rng(1)
    X, w, b = rng.normal(size=(50, 5)), rng.normal(size=5), 0.3
    z = np.array([sum(x[i] * w[i] for i in range(5)) + b for x in X])
    np.testing.assert_allclose(P.net_input(X, w, b), z)
    np.testing.assert_array_equal(P.perceptron_predict(X, w, b), (z > 0).astype(int))
    assert P.perceptron_predict(X[0], w, b) == int(z[0] > 0)  # one example -> one label


@pytest.mark.parametrize("y", [0, 1])
def test_update_leaves_correct_examples_alone_and_does_not_mutate(y):
    w, b, x = np.array([1.0, -2.0]), 0.5, np.array([3.0, 1.0])  # z = 1.5 -> predicts 1
    w_before = w.copy()
    new_w, new_b = P.perceptron_update(w, b, x, y, lr=0.1)
    np.testing.assert_array_equal(w, w_before)
    if y == 1:
        np.testing.assert_array_equal(new_w, w)
        assert new_b == b
    else:  # false positive: move away from x
        np.testing.assert_allclose(new_w, w - 0.1 * x)
        assert new_b == pytest.approx(b - 0.1)


def test_update_moves_net_input_towards_label():
    rng = np.random.default_rng(2)
    for _ in range(200):
        w, x, b = rng.normal(size=3), rng.normal(size=3), float(rng.normal())
        y = 1 - int(P.perceptron_predict(x, w, b))  # force a mistake
        new_w, new_b = P.perceptron_update(w, b, x, y, lr=0.5)
        change = P.net_input(x, new_w, new_b) - P.net_input(x, w, b)
        # z changes by lr * (||x||^2 + 1) in the direction of the correct label
        assert change == pytest.approx((1 if y == 1 else -1) * 0.5 * (x @ x + 1))


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
def test_training_converges_on_separable_gates(gate):
    X, y = P.logic_gate(gate)
    res = P.train_perceptron(X, y, lr=1.0, epochs=50)
    assert res["converged"]
    np.testing.assert_array_equal(P.perceptron_predict(X, res["w"], res["b"]), y)
    assert res["mistakes_per_epoch"][-1] == 0 and res["errors_per_epoch"][-1] == 0
    assert res["n_updates"] == res["mistakes_per_epoch"].sum()
    assert res["epochs_run"] == len(res["mistakes_per_epoch"])


def test_update_count_matches_a_hand_written_loop():
    X, y = P.logic_gate("and")
    w, b, count = np.zeros(2), 0.0, 0
    for _ in range(50):
        made = 0
        for xi, yi in zip(X, y):
            pred = 1 if xi @ w + b > 0 else 0
            if pred != yi:
                w, b, made = w + (yi - pred) * xi, b + (yi - pred), made + 1
        count += made
        if made == 0:
            break
    res = P.train_perceptron(X, y, lr=1.0, epochs=50)
    assert res["n_updates"] == count
    np.testing.assert_array_equal(res["w"], w)
    assert res["b"] == b


def test_xor_never_converges_and_no_line_fits():
    X, y = P.logic_gate("xor")
    res = P.train_perceptron(X, y, lr=1.0, epochs=40)
    assert not res["converged"] and res["epochs_run"] == 40
    assert res["errors_per_epoch"].min() >= 1 and res["mistakes_per_epoch"].min() >= 1
    grid = np.linspace(-3, 3, 25)
    best = max((P.perceptron_predict(X, np.array([a, c]), d) == y).sum()
               for a, c, d in itertools.product(grid, grid, grid))
    assert best == 3  # a line gets at most 3 of the 4 XOR points right


def test_history_snapshots():
    X, y, _, _ = P.separable_cloud(60, seed=0, margin=0.3, scale=1.5, center=(2, 2))
    res = P.train_perceptron(X, y, lr=1.0, epochs=200, seed=0, record_every=4)
    updates = [h["update"] for h in res["history"]]
    assert updates[0] == 0 and updates[-1] == res["n_updates"]
    assert all(u % 4 == 0 for u in updates[1:-1]) and updates == sorted(set(updates))
    np.testing.assert_array_equal(res["history"][-1]["w"], res["w"])
    assert res["history"][0]["b"] == 0.0


def test_seeded_shuffling_is_reproducible():
    X, y, _, _ = P.separable_cloud(80, seed=3, margin=0.2, center=(2, 2))
    a = P.train_perceptron(X, y, epochs=300, seed=5)
    b = P.train_perceptron(X, y, epochs=300, seed=5)
    assert a["n_updates"] == b["n_updates"] and np.array_equal(a["w"], b["w"])
    assert a["converged"]


def test_separable_cloud_respects_margin_and_mistake_bound():
    for s in range(5):
        X, y, w, b = P.separable_cloud(100, seed=s, margin=0.4, center=(1, -1))
        assert X.shape == (100, 2) and set(np.unique(y)) == {0, 1}
        dist = X @ w + b
        assert np.all(np.abs(dist) >= 0.4) and np.array_equal(y, (dist > 0).astype(int))
        res = P.train_perceptron(X, y, epochs=10_000, seed=s)
        assert res["converged"] and res["n_updates"] <= P.mistake_bound(X, y, w, b)


def test_logic_gate_tables():
    X, y = P.logic_gate("XOR")
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [int(a) ^ int(c) for a, c in X]


def test_bad_input_errors():
    with pytest.raises(ConfigError, match="unknown gate"):
        P.logic_gate("xnor3")
    with pytest.raises(ShapeError, match="D = len"):
        P.perceptron_predict(np.ones((3, 4)), np.ones(2), 0.0)
    with pytest.raises(LabelError, match="0 or 1"):
        P.train_perceptron(np.ones((2, 2)), np.array([-1, 1]))
    with pytest.raises(ConfigError, match="lr must be positive"):
        P.train_perceptron(np.ones((2, 2)), np.array([0, 1]), lr=0)
    with pytest.raises(ConfigError, match="does not separate"):
        P.mistake_bound(*P.logic_gate("and"), np.array([-1.0, -1.0]), 0.0)
