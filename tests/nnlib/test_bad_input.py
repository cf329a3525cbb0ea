"""Bad input gets a clear nnlib error that names the problem and the fix."""

import numpy as np
import pytest

from nnlib import MLP, layers, losses, optim, train
from nnlib.errors import ConfigError, LabelError, NonFiniteError, ShapeError, TrainingDiverged


@pytest.fixture
def model():
    return MLP((4, 3, 2), seed=0)


def test_affine_mismatched_inner_size_names_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"layer 1.*5 features.*\(2, 5\).*expects 4.*\(4, 3\)"):
        layers.affine_forward(np.ones((2, 5)), np.ones((4, 3)), np.zeros(3), name="layer 1")


def test_affine_wrong_bias_shape():
    with pytest.raises(ShapeError, match=r"b must have shape \(3,\)"):
        layers.affine_forward(np.ones((2, 4)), np.ones((4, 3)), np.zeros(4))


def test_mlp_on_unflattened_images_says_how_to_flatten():
    net = MLP((784, 10))
    with pytest.raises(ShapeError, match="flatten_and_scale"):
        net.forward(np.zeros((3, 28, 28)))


def test_mlp_wrong_width_names_the_layer(model):
    with pytest.raises(ShapeError, match=r"layer 1 \(affine 4->3\)"):
        model.forward(np.zeros((2, 5)))


def test_non_finite_input(model):
    X = np.ones((3, 4))
    X[1, 2] = np.nan
    with pytest.raises(NonFiniteError, match="1 of 12 values are NaN"):
        model.forward(X)


@pytest.mark.parametrize("labels", [[0, 2], [-1, 1]])
def test_labels_outside_range(model, labels):
    with pytest.raises(LabelError, match=r"\[0, 2\)"):
        model.loss(np.ones((2, 4)), np.array(labels))


def test_one_hot_labels_are_explained():
    with pytest.raises(ShapeError, match="one-hot"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.eye(3)[:2])


def test_fractional_labels_rejected():
    with pytest.raises(LabelError, match="integers"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_mse_shape_mismatch_suggests_reshape():
    with pytest.raises(ShapeError, match=r"reshape\(-1, 1\)"):
        losses.mse_loss(np.zeros((4, 1)), np.zeros(4))


def test_divergence_names_epoch_step_and_suggests_lower_lr():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 4)) * 100, rng.integers(0, 2, 64)
    net = MLP((4, 16, 2), seed=0)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, step \d+ of 2 \(lr=1e\+06\).*lower learning rate"):
        train.fit(net, X, y, epochs=50, batch_size=32, lr=1e6, progress=False)


def test_optimizer_rejects_gradients_that_do_not_match(model):
    opt = optim.SGD(model.params, lr=0.1)
    with pytest.raises(ShapeError, match="'W1'"):
        opt.step({"W1": np.zeros((2, 2))})


@pytest.mark.parametrize("kwargs,match", [
    (dict(activation="relu6"), "activation must be one of"),
    (dict(loss="hinge"), "loss must be one of"),
    (dict(init="zeros"), "init must be one of"),
    (dict(output_activation="sigmoid"), "leave output_activation=None"),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        MLP((4, 2), **kwargs)


def test_nonpositive_learning_rate(model):
    with pytest.raises(ConfigError, match="positive"):
        optim.Adam(model.params, lr=0)


def test_fit_rejects_mismatched_lengths(model):
    with pytest.raises(ShapeError, match="3 examples but y has 2"):
        train.fit(model, np.ones((3, 4)), np.array([0, 1]), epochs=1, batch_size=2, lr=0.1, progress=False)
