"""MLP bookkeeping, save/load, and the training loop."""

import numpy as np
import pytest

from nnlib import MLP, losses, seed, train


@pytest.mark.parametrize("sizes,params,macs", [
    ((784, 100, 100, 10), 89_610, 89_400),
    ((784, 128, 64, 10), 109_386, 109_184),
    ((784, 1000, 1000, 10), 1_796_010, 1_794_000),
])
def test_parameter_and_mac_counts(sizes, params, macs):
    model = MLP(sizes)
    assert model.num_params() == params
    assert model.macs_per_example() == macs
    assert model.params["W1"].dtype == np.float32


def test_no_bias_model_has_only_weights():
    model = MLP((2, 2, 1), bias=False, loss="bce")
    assert sorted(model.params) == ["W1", "W2"] and model.num_params() == 6


@pytest.mark.parametrize("init,activation", [("he", "relu"), ("xavier", "tanh")])
def test_init_keeps_activation_scale(init, activation):
    X = np.random.default_rng(0).standard_normal((2000, 400))
    model = MLP((400, 400, 400, 400, 10), init=init, activation=activation, seed=0)
    _, caches = model.forward(X, keep_cache=True)
    first, last = np.std(caches[0][2]), np.std(caches[2][2])  # activation outputs, layers 1 and 3
    assert 0.5 < last / first < 2.0


def test_same_seed_same_weights_different_seed_different():
    a, b, c = MLP((5, 4, 3), seed=1), MLP((5, 4, 3), seed=1), MLP((5, 4, 3), seed=2)
    assert np.array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_save_and_load_round_trip(tmp_path):
    model = MLP((6, 5, 3), activation="tanh", seed=4)
    X = np.random.default_rng(1).standard_normal((4, 6))
    model.save(tmp_path / "m.npz")
    again = MLP.load(tmp_path / "m.npz")
    assert again.sizes == model.sizes and again.activation == "tanh"
    np.testing.assert_array_equal(again.forward(X), model.forward(X))


def test_untrained_network_starts_near_ln_10():
    X = np.random.default_rng(0).uniform(0, 1, (500, 784))
    loss, _ = MLP((784, 100, 10), seed=0).loss(X, np.arange(500) % 10)
    assert abs(loss - np.log(10)) < 0.3


def test_minibatches_cover_every_example_once():
    batches = list(train.minibatches(60_000, batch_size=32, rng=np.random.default_rng(0)))
    assert len(batches) == 1875
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(60_000))


def test_accuracy_and_confusion_matrix():
    y, p = np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2])
    assert train.accuracy(p, y) == 0.75
    cm = train.confusion_matrix(y, p, num_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]


def blobs(n=300, seed_=0):
    rng = np.random.default_rng(seed_)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 3], [3, 0], [-3, -3]])
    return (centers[y] + rng.standard_normal((n, 2))).astype(np.float32), y


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.01)])
def test_fit_learns_separable_blobs(optimizer, lr):
    X, y = blobs()
    model = MLP((2, 16, 3), seed=0)
    history = train.fit(model, X, y, epochs=15, batch_size=32, lr=lr, optimizer=optimizer,
                        val=blobs(100, 1), progress=False)
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["val_acc"][-1] > 0.95
    assert len(history["batch_loss"]) == 15 * 10 and len(history["acc"]) == 15


def test_fit_is_reproducible_with_a_seed():
    X, y = blobs()
    runs = [train.fit(MLP((2, 8, 3), seed=0), X, y, epochs=2, batch_size=16, lr=0.1, seed=5,
                      progress=False)["batch_loss"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_fit_solves_xor_with_bce():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    model = MLP((2, 8, 1), activation="tanh", loss="bce", seed=0)
    train.fit(model, X, y, epochs=500, batch_size=4, lr=0.5, progress=False)
    assert model.predict(X).ravel().tolist() == [0, 1, 1, 0]


def test_softmax_does_not_overflow_at_1000():
    p = losses.softmax(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.all(np.isfinite(p)) and abs(p[0, 0] - 1.0) < 1e-12


def test_seed_makes_numpy_and_torch_repeatable():
    torch = pytest.importorskip("torch")
    seed(3)
    a = (np.random.rand(), torch.rand(1).item())
    seed(3)
    assert (np.random.rand(), torch.rand(1).item()) == a
