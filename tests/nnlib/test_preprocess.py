"""nnlib.preprocess: raw picture -> MNIST-style model input, and its clear errors."""
import numpy as np
import pytest

from nnlib import preprocess as pp
from nnlib.errors import DataError, DTypeError, NonFiniteError, ShapeError


def _digit():
    im = np.zeros((28, 28))
    im[6:22, 12:16] = 1.0                  # a vertical bar, 16 x 4
    im[6:9, 9:16] = 0.5
    return im


def test_pipeline_output_shape_dtype_range_and_centre():
    raw = np.full((60, 90), 220, dtype=np.uint8)      # light paper
    raw[5:45, 60:70] = 30                              # dark, off-centre stroke
    x = pp.preprocess_digit(raw)
    assert x.shape == (784,) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    field = x.reshape(28, 28)
    top, bottom, left, right = pp.bounding_box(field)
    assert max(bottom - top, right - left) == 20
    r, c = pp.center_of_mass(field)
    assert abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5


def test_mnist_like_image_is_left_unchanged():
    im = pp.center_by_mass(pp.fit_in_box(_digit()))
    assert np.allclose(pp.preprocess_digit(im), im.reshape(-1), atol=1e-6)


def test_inversion_is_detected_and_background_removed():
    paper = np.full((40, 40), 0.8) + 0.02 * np.random.default_rng(0).standard_normal((40, 40))
    paper[10:30, 18:22] = 0.1
    paper = np.clip(paper, 0, 1)
    assert pp.ink_is_dark(paper)
    clean = pp.remove_background(pp.invert(paper))
    assert clean[0].max() == 0 and clean.max() == pytest.approx(1.0)


def test_resize_preserves_mean_and_shift_moves():
    im = np.random.default_rng(1).random((40, 30))
    assert pp.resize(im, (20, 15)).mean() == pytest.approx(im.mean())
    moved = pp.shift(_digit(), 2, -3)
    assert np.array_equal(moved[8:24, 9:13], _digit()[6:22, 12:16])


@pytest.mark.parametrize("bad, error, text", [
    (np.zeros((4, 4, 3)), ShapeError, "colour"),
    (np.zeros((2, 4, 4)), ShapeError, "one image at a time"),
    (np.zeros((2, 5, 6)), ShapeError, "(H, W)"),
    (np.array([["a"]]), DTypeError, "numeric"),
    (np.full((4, 4), np.nan), NonFiniteError, "NaN"),
    (-np.ones((4, 4)), DataError, "negative"),
])
def test_bad_images_are_refused(bad, error, text):
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        pp.check_image(bad)


def test_blank_and_unscalable_images():
    with pytest.raises(DataError, match="no ink"):
        pp.preprocess_digit(np.zeros((10, 10)), invert_ink=False)
    with pytest.raises(DataError, match="max_value"):
        pp.to_unit_range(np.full((3, 3), 1000.0))
    assert pp.to_unit_range(np.full((3, 3), 1000.0), max_value=2000).max() == 0.5


@pytest.mark.parametrize("X, error, text", [
    (np.zeros((2, 784), dtype=np.uint8), DTypeError, "/ 255"),
    (np.zeros((2, 28, 28), dtype=np.float32), ShapeError, "Flatten"),
    (np.zeros(784, dtype=np.float32), ShapeError, "reshape"),
    (np.zeros((2, 1024), dtype=np.float32), ShapeError, "28x28"),
    (np.full((2, 784), 255.0), DataError, "divide by 255"),
    (np.full((2, 784), np.inf), NonFiniteError, "NaN"),
])
def test_check_model_input(X, error, text):
    with pytest.raises(error, match=text):
        pp.check_model_input(X)
    ok = np.zeros((3, 784), dtype=np.float32)
    assert pp.check_model_input(ok) is ok
