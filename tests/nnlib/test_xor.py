"""nnlib.xor: the XOR data, a common tutorial recipe's rule, and the batched experiment runner."""

import numpy as np
import pytest

from nnlib import MLP, xor
from nnlib.errors import ConfigError, ShapeError
from nnlib.gradcheck import numerical_gradient, rel_error


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_data_is_the_xor_truth_table():
    X, y = xor.xor_data()
    assert X.shape == (4, 2) and y.shape == (4,)
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]).astype(float))


def test_init_reproduces_the_articles_global_uniform_draws():
    state = np.random.get_state()
    try:
        np.random.seed(7)
        hidden_weights = np.random.uniform(size=(2, 3))   # the article's two calls, in order
        output_weights = np.random.uniform(size=(3, 1))
        hidden_bias = np.random.uniform(size=(1, 3))
    finally:
        np.random.set_state(state)
    p = xor.article_init(7, hidden=3, bias=True)
    np.testing.assert_array_equal(p["W1"], hidden_weights)
    np.testing.assert_array_equal(p["W2"], output_weights[:, 0])
    np.testing.assert_array_equal(p["b1"], hidden_bias[0])
    no_bias = xor.article_init(7, hidden=3, bias=False)
    np.testing.assert_array_equal(no_bias["W1"], p["W1"])      # same weights with or without biases
    assert no_bias["b1"] is None and no_bias["b2"] is None
    assert (p["W1"] >= 0).all() and (p["W1"] < 1).all()        # uniform on [0, 1), not mean 0
    sym = xor.article_init(7, hidden=3, bias=True, init="symmetric")
    np.testing.assert_allclose(sym["W1"], 2 * p["W1"] - 1)


def test_one_update_is_gradient_descent_on_half_the_summed_squared_error():
    X, y = xor.xor_data()
    for bias in (False, True):
        p = xor.article_init(3, hidden=2, bias=bias)
        params = {k: (None if v is None else np.array(v, dtype=float)) for k, v in p.items()}

        def half_sse():
            return 0.5 * np.sum((y - xor.xor_forward(X, params)[1]) ** 2)

        grads = {k: numerical_gradient(half_sse, v) for k, v in params.items() if v is not None}
        after = xor.train_xor_single(3, hidden=2, bias=bias, lr=0.1, epochs=1)["params"]
        for k, g in grads.items():
            expected = params[k] - 0.1 * g
            assert rel_error(after[k], expected) < 1e-7, k


@pytest.mark.parametrize("hidden,bias,init", [(2, False, "article"), (3, True, "article"),
                                              (4, False, "symmetric")])
def test_batched_runner_agrees_with_the_plain_loop(hidden, bias, init):
    seeds = [0, 1, 5]
    res = xor.run_xor_experiment(seeds=seeds, hidden=hidden, bias=bias, epochs=1500, record_every=1,
                                 init=init)
    assert res["params"]["W1"].shape == (3, 2, hidden) and res["outputs"].shape == (3, 4)
    assert res["loss"].shape == (3, 1500)
    for i, s in enumerate(seeds):
        ref = xor.train_xor_single(s, hidden=hidden, bias=bias, epochs=1500, init=init)
        np.testing.assert_allclose(res["outputs"][i], ref["output"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(res["loss"][i], ref["loss"], rtol=1e-9, atol=1e-12)
        for k in ("W1", "W2", "b1", "b2"):
            if ref["params"][k] is None:
                assert res["params"][k] is None
            else:
                np.testing.assert_allclose(res["params"][k][i], ref["params"][k], rtol=1e-9, atol=1e-10)


def test_grid_padding_and_bias_masks_change_nothing():
    grid = xor.run_xor_grid(seeds=range(4), hidden=(2, 3), bias=(False, True), epochs=800, record_every=100)
    assert sorted(grid) == [(False, 2), (False, 3), (True, 2), (True, 3)]
    for (bias, hidden), res in grid.items():
        alone = xor.run_xor_experiment(seeds=range(4), hidden=hidden, bias=bias, epochs=800, record_every=100)
        np.testing.assert_allclose(res["outputs"], alone["outputs"], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(res["success"], alone["success"])
        assert res["loss"].shape == (4, 8)
        np.testing.assert_array_equal(res["loss_epochs"], np.arange(0, 800, 100))


def test_training_reduces_the_loss():
    res = xor.run_xor_experiment(seeds=range(10), hidden=3, bias=True, lr=0.5, epochs=3000)
    assert np.median(res["loss"][:, -1]) < 0.5 * np.median(res["loss"][:, 0])


def test_hand_set_sigmoid_weights_solve_xor():
    # h1 ~ OR, h2 ~ AND, output ~ h1 AND NOT h2, all scaled up so the sigmoids act like steps.
    params = {"W1": np.array([[20.0, 20.0], [20.0, 20.0]]), "b1": np.array([-10.0, -30.0]),
              "W2": np.array([20.0, -20.0]), "b2": np.array(-10.0)}
    X, y = xor.xor_data()
    h, out = xor.xor_forward(X, params)
    np.testing.assert_allclose(out, y, atol=1e-4)
    np.testing.assert_allclose(h, [[0, 0], [1, 0], [1, 0], [1, 1]], atol=1e-4)
    assert xor.xor_success(out)
    assert not xor.xor_success(1 - out)


def test_forward_matches_nnlib_mlp_and_handles_stacks():
    model = MLP((2, 3, 1), activation="sigmoid", output_activation="sigmoid", loss="mse", seed=2,
                dtype=np.float64)
    model.params["b1"] = np.array([0.3, -0.2, 0.1])
    model.params["b2"] = np.array([-0.4])
    X = np.random.default_rng(0).uniform(-1, 2, (7, 2))
    params = {"W1": model.params["W1"], "b1": model.params["b1"], "W2": model.params["W2"][:, 0],
              "b2": model.params["b2"][0]}
    np.testing.assert_allclose(xor.xor_forward(X, params)[1], model.forward(X)[:, 0], rtol=1e-12)
    stacked = {k: np.stack([v, 2 * v]) for k, v in params.items()}
    h, out = xor.xor_forward(X, stacked)
    assert h.shape == (2, 7, 3) and out.shape == (2, 7)
    np.testing.assert_allclose(out[0], xor.xor_forward(X, params)[1])


def test_without_bias_the_origin_sees_half_and_output_depends_only_on_sum_of_v():
    rng = np.random.default_rng(1)
    for _ in range(5):
        params = {"W1": rng.normal(0, 5, (2, 4)), "W2": rng.normal(0, 5, 4), "b1": None, "b2": None}
        h, out = xor.xor_forward(np.zeros((1, 2)), params)
        np.testing.assert_array_equal(h, 0.5)
        np.testing.assert_allclose(out[0], _sig(0.5 * params["W2"].sum()), rtol=1e-14)


def test_success_needs_every_point_on_the_right_side():
    assert xor.xor_success([0.1, 0.9, 0.8, 0.2])
    assert not xor.xor_success([0.1, 0.9, 0.8, 0.5])          # exactly 0.5 is not a decision
    np.testing.assert_array_equal(xor.xor_success(np.array([[0.1, 0.9, 0.8, 0.2], [0.6, 0.9, 0.8, 0.2]])),
                                  [True, False])
    with pytest.raises(ShapeError):
        xor.xor_success([0.1, 0.9, 0.8])


@pytest.mark.parametrize("kwargs", [dict(hidden=0), dict(lr=0.0), dict(epochs=-1), dict(init="normal"),
                                    dict(record_every=0), dict(seeds=[])])
def test_bad_configuration_is_rejected(kwargs):
    args = dict(seeds=[0], hidden=2, bias=False, lr=0.1, epochs=5) | kwargs
    with pytest.raises(ConfigError):
        xor.run_xor_experiment(**args)


def test_forward_rejects_wrong_shapes():
    params = xor.article_init(0, hidden=2)
    with pytest.raises(ShapeError, match=r"\(N, 2\)"):
        xor.xor_forward(np.zeros((4, 3)), params)
    with pytest.raises(ShapeError, match="2-H-1"):
        xor.xor_forward(np.zeros((4, 2)), {"W1": np.zeros((2, 3)), "W2": np.zeros(2)})
