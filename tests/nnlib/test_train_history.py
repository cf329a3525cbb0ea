"""nnlib.train.join_histories and nnlib.plot.plot_step_losses (notebook 07)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from nnlib import MLP, plot, train
from nnlib.errors import ConfigError


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 3], [3, 0], [-3, -3]])
    return (centers[y] + rng.standard_normal((n, 2))).astype(np.float32), y


def test_join_histories_concatenates_two_runs_in_order():
    X, y = blobs()
    model = MLP((2, 8, 3), seed=0)
    a = train.fit(model, X, y, epochs=2, batch_size=32, lr=0.1, val=(X[:50], y[:50]),
                  progress=False)
    b = train.fit(model, X, y, epochs=1, batch_size=32, lr=0.01, val=(X[:50], y[:50]),
                  progress=False, seed=1)
    h = train.join_histories(a, b)
    assert h["loss"] == a["loss"] + b["loss"] and len(h["val_acc"]) == 3
    assert h["batch_loss"] == a["batch_loss"] + b["batch_loss"]
    assert len(h["batch_loss"]) == 21
    assert h["seconds"] == pytest.approx(a["seconds"] + b["seconds"])
    assert a["loss"] and len(a["loss"]) == 2  # the inputs are not changed


def test_join_histories_refuses_what_is_not_a_history():
    with pytest.raises(ConfigError, match="at least one"):
        train.join_histories()
    with pytest.raises(ConfigError, match="argument 1 is not a history"):
        train.join_histories({"loss": [], "acc": [], "val_loss": [], "val_acc": [],
                              "batch_loss": [], "seconds": 0.0}, {"loss": []})


def test_plot_step_losses_draws_raw_and_running_mean():
    ax = plot.plot_step_losses({"a": [4.0, 2.0, 0.0, 2.0], "b": [1.0, 1.0]}, smooth=2)
    lines = ax.get_lines()
    assert len(lines) == 4  # raw and smoothed, for each curve
    np.testing.assert_allclose(lines[1].get_ydata(), [4.0, 3.0, 1.0, 1.0])
    ax = plot.plot_step_losses({"a": [3.0, 2.0]}, smooth=0, logy=True)
    assert len(ax.get_lines()) == 1 and ax.get_yscale() == "log"


def test_after_step_sees_every_step_after_its_update():
    """fit(after_step=...) is called once per step, after the update, with (epoch, step, steps)."""
    import numpy as np

    from nnlib import MLP
    from nnlib.train import fit

    rng = np.random.default_rng(0)
    X, y = rng.random((10, 4)), rng.integers(0, 3, 10)
    model = MLP((4, 5, 3), seed=0)
    seen, weights = [], []

    def probe(epoch, step, steps):
        seen.append((epoch, step, steps))
        weights.append(model.params["W1"].copy())

    fit(model, X, y, epochs=2, batch_size=4, lr=0.1, progress=False, after_step=probe)
    assert seen == [(e, s, 3) for e in (1, 2) for s in (1, 2, 3)]  # 10 = 4 + 4 + 2: 3 steps
    assert all(not np.array_equal(a, b) for a, b in zip(weights, weights[1:]))  # each after an update
    assert np.array_equal(weights[-1], model.params["W1"])
