"""From a raw grayscale picture of one digit to the input an MNIST model expects.

A model trained on MNIST has only ever seen images made by one recipe, so a
deployed reader must apply the same recipe to every new picture:

1. scale the pixel values to [0, 1] (``to_unit_range``);
2. make the ink bright on a dark background, as in MNIST (``ink_is_dark``, ``invert``),
   and push the paper's grey level and noise down to 0 (``remove_background``);
3. crop to the ink and resize it, keeping its aspect ratio, until its longer
   side fills a 20 x 20 box (``fit_in_box``; the area-averaging ``resize``
   gives the grey edge pixels MNIST's anti-aliasing gave);
4. paste it into a 28 x 28 field so that its centre of mass (the mean position
   weighted by ink) sits at the field's centre (``center_by_mass``);
5. flatten to 784 float32 values (``preprocess_digit`` does 1-5), and check
   the batch before it reaches the model (``check_model_input``).

Coordinates are (row, column) with row 0 at the top. MNIST puts the centre of
mass at pixel (14, 14) of its 28 x 28 field (``size // 2``; the mean over the
test set is (13.99, 14.01)), so ``center_by_mass`` does the same. NumPy only.
"""

import numbers

import numpy as np

from .errors import ConfigError, DataError, DTypeError, NonFiniteError, ShapeError


def check_image(image, *, where="image"):
    """A 2-D grayscale image (H, W) as float64, or a clear error naming the problem and fix."""
    image = np.asarray(image)
    if image.dtype.kind not in "buif":
        raise DTypeError(f"{where}: expected numeric pixel values, got dtype {image.dtype}. "
                         "Load the picture as a NumPy array of numbers first.")
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        raise ShapeError(f"{where} has shape {image.shape}: a colour image (H, W, channels)? "
                         "Convert it to grayscale first, e.g. image[..., :3].mean(axis=-1). "
                         "For a batch, preprocess one image at a time.")
    if image.ndim != 2:
        raise ShapeError(f"{where} must be one grayscale image of shape (H, W), got shape "
                         f"{image.shape}. For a batch, preprocess one image at a time.")
    if image.size == 0:
        raise ShapeError(f"{where} is empty (shape {image.shape}).")
    image = image.astype(np.float64)
    if not np.isfinite(image).all():
        raise NonFiniteError(f"{where} holds NaN or infinite pixels; the picture is damaged.")
    if image.min() < 0:
        raise DataError(f"{where} holds negative pixel values (min {image.min():g}); pixels are "
                        "brightness levels >= 0. Was it already normalised to mean 0?")
    return image


def to_unit_range(image, *, max_value=None):
    """Pixel values / ``max_value``, in [0, 1].

    ``max_value`` None: 255 for uint8 images and for whole numbers up to 255,
    1 for floats already in [0, 1]; anything else must say its maximum
    (e.g. max_value=65535 for 16-bit pictures).
    """
    raw = np.asarray(image)
    image = check_image(image)
    if max_value is None:
        top = image.max()
        if raw.dtype == np.uint8 or (1 < top <= 255 and np.array_equal(image, np.round(image))):
            max_value = 255.0
        elif top <= 1:
            max_value = 1.0
        else:
            raise DataError(f"image values reach {top:g}: not 8-bit pixels (0-255) and not already "
                            "in [0, 1]. Pass max_value, e.g. max_value=65535 for 16-bit pictures.")
    if not (isinstance(max_value, (int, float, np.number)) and max_value > 0):
        raise ConfigError(f"max_value must be a positive number, got {max_value!r}.")
    if image.max() > max_value:
        raise DataError(f"image values reach {image.max():g}, above max_value={max_value:g}.")
    return image / float(max_value)


def ink_is_dark(image):
    """True when the background is light (dark ink on paper): the image must be inverted.

    The border of a picture of one digit is background; MNIST's background is 0
    (dark) and its ink bright. ``image`` in [0, 1].
    """
    image = check_image(image)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return bool(np.median(border) > 0.5)


def invert(image):
    """1 - image, for images in [0, 1]: dark ink on light paper becomes MNIST's bright ink."""
    image = check_image(image)
    if image.max() > 1:
        raise DataError("invert expects values in [0, 1]; scale first with to_unit_range.")
    return 1.0 - image


def remove_background(image):
    """Set the background to 0 and stretch the ink to [0, 1]; clean images are returned as they are.

    ``image`` has bright ink, in [0, 1]. The background level is the median of
    the border, its noise 5 robust standard deviations (1.4826 x the median
    absolute deviation); everything at or below level + noise becomes 0. An
    image whose border is exactly 0 (MNIST) is returned unchanged.
    """
    image = check_image(image)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    level = np.median(border)
    floor = level + 5 * 1.4826 * np.median(np.abs(border - level))
    if floor <= 0:
        return image
    if image.max() <= floor:
        raise DataError("the image holds no ink above the background level: nothing to "
                        "recognise. Check the inversion: MNIST wants bright ink on 0.")
    return np.clip((image - floor) / (image.max() - floor), 0.0, 1.0)


def bounding_box(image, *, threshold=0.0):
    """(top, bottom, left, right), end-exclusive, of pixels above threshold x the maximum ink.

    The default 0 keeps every pixel with ink (MNIST's faint anti-aliased edges
    included); after ``remove_background`` the background is exactly 0.
    """
    image = check_image(image)
    ink = image > threshold * image.max()
    if image.max() <= 0 or not ink.any():
        raise DataError("the image holds no ink (every pixel is background): nothing to "
                        "recognise. Check the inversion: MNIST wants bright ink on 0.")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _area_matrix(n_in, n_out):
    """(n_out, n_in) weights: output pixel i averages the input interval it covers."""
    edges = np.linspace(0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    left, right = np.arange(n_in)[None, :], np.arange(1, n_in + 1)[None, :]
    overlap = np.clip(np.minimum(hi, right) - np.maximum(lo, left), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize(image, shape):
    """Area-averaging resize of a 2-D image to ``shape`` = (rows, cols).

    Each output pixel is the mean of the input area it covers (exact for
    shrinking, block-wise for enlarging); two matrix products, NumPy only.
    """
    image = check_image(image)
    rows, cols = shape
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"resize: shape must be two positive integers, got {shape!r}.")
    return _area_matrix(image.shape[0], rows) @ image @ _area_matrix(image.shape[1], cols).T


def _whole(value, name, where, *, minimum):
    """``value`` as an int >= minimum, or a ConfigError naming the argument (1.5, '3', True)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ConfigError(f"{where}: {name} must be a whole number{bound}, got {value!r}.")
    return int(value)


def fit_in_box(image, *, box=20, threshold=0.0):
    """Crop to the ink and resize so the longer side is ``box`` pixels, keeping the aspect ratio.

    ``image`` has bright ink on a dark background, in [0, 1]. Returns (h, w), max(h, w) == box.
    """
    box = _whole(box, "box (the digit's longer side, in pixels)", "fit_in_box", minimum=1)
    top, bottom, left, right = bounding_box(image, threshold=threshold)
    crop = check_image(image)[top:bottom, left:right]
    h, w = crop.shape
    scale = box / max(h, w)
    return resize(crop, (max(1, round(h * scale)), max(1, round(w * scale))))


def center_of_mass(image):
    """(row, col) of the ink-weighted mean position of a 2-D image."""
    image = check_image(image)
    total = image.sum()
    if total <= 0:
        raise DataError("center_of_mass: the image holds no ink.")
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def center_by_mass(image, *, size=28):
    """Paste ``image`` (h, w <= size) into a (size, size) field, centre of mass at the centre.

    The centre is pixel (size // 2, size // 2), where MNIST puts it. The shift
    is rounded to whole pixels and limited so that the whole image stays
    inside the field.
    """
    size = _whole(size, "size (the field's side, in pixels)", "center_by_mass", minimum=1)
    image = check_image(image)
    h, w = image.shape
    if h > size or w > size:
        raise ShapeError(f"center_by_mass: image {image.shape} does not fit a {size}x{size} "
                         "field; use fit_in_box first.")
    r, c = center_of_mass(image)
    centre = size // 2
    top = int(np.clip(np.round(centre - r), 0, size - h))
    left = int(np.clip(np.round(centre - c), 0, size - w))
    out = np.zeros((size, size))
    out[top:top + h, left:left + w] = image
    return out


def shift(images, dy, dx):
    """Move images (…, H, W) by whole pixels (down dy, right dx), filling with 0.

    Used to simulate off-centre digits; ink pushed past the edge is lost.
    """
    dy = _whole(dy, "dy (pixels down; negative moves up)", "shift", minimum=None)
    dx = _whole(dx, "dx (pixels right; negative moves left)", "shift", minimum=None)
    images = np.asarray(images)
    if images.ndim < 2:
        raise ShapeError(f"shift: images must be (..., H, W), got shape {images.shape}.")
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    src_r, dst_r = slice(max(0, -dy), min(h, h - dy)), slice(max(0, dy), min(h, h + dy))
    src_c, dst_c = slice(max(0, -dx), min(w, w - dx)), slice(max(0, dx), min(w, w + dx))
    out[..., dst_r, dst_c] = images[..., src_r, src_c]
    return out


def preprocess_digit(image, *, invert_ink="auto", max_value=None, box=20, size=28,
                     threshold=0.0, return_steps=False):
    """One raw grayscale picture of a digit -> model input (size * size,) float32 in [0, 1].

    invert_ink: "auto" (decide from the border with ``ink_is_dark``), True or False.
    return_steps: also return a dict of the intermediate images ("unit", "ink",
    "clean", "box", "field") for plotting.
    """
    if invert_ink not in ("auto", True, False):
        raise ConfigError(f"invert_ink must be 'auto', True or False, got {invert_ink!r}.")
    # Checked here, before any work, so the message names box/size, not a helper deep inside.
    size = _whole(size, "size (the output field's side, 28 for MNIST)", "preprocess_digit",
                  minimum=1)
    box = _whole(box, "box (the digit's longer side inside the field, 20 for MNIST)",
                 "preprocess_digit", minimum=1)
    if box > size:
        raise ConfigError(f"preprocess_digit: box={box} is larger than size={size}; the digit "
                          "must fit inside the field, e.g. box=20, size=28 as in MNIST.")
    unit = to_unit_range(image, max_value=max_value)
    flip = ink_is_dark(unit) if invert_ink == "auto" else invert_ink
    ink = invert(unit) if flip else unit
    clean = remove_background(ink)
    boxed = fit_in_box(clean, box=box, threshold=threshold)
    field = center_by_mass(boxed, size=size)
    x = field.reshape(-1).astype(np.float32)
    if return_steps:
        return x, {"unit": unit, "ink": ink, "clean": clean, "box": boxed, "field": field}
    return x


def check_model_input(X, *, features=784):
    """Check a batch (B, features) before inference: float, finite, in [0, 1]. Returns X.

    Every mistake a missing preprocessing step leaves behind gets its own message.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise DTypeError(f"model input: expected numbers, got dtype {X.dtype}.")
    side = int(round(np.sqrt(features)))
    if X.ndim == 1 and X.size == features:
        raise ShapeError(f"model input has shape {X.shape}, one image; the model expects a batch "
                         f"(B, {features}). Use X.reshape(1, -1).")
    if X.ndim == 3 and X.shape[1] * X.shape[2] == features:
        raise ShapeError(f"model input has shape {X.shape}: images, not vectors. Flatten them: "
                         "X.reshape(len(X), -1).")
    if X.ndim != 2 or X.shape[1] != features:
        raise ShapeError(f"model input has shape {X.shape}, expected (B, {features}). Resize each "
                         f"picture to {side}x{side} first (nnlib.preprocess.preprocess_digit).")
    if X.dtype.kind != "f":
        raise DTypeError(f"model input has dtype {X.dtype}: raw pixels. Scale them to [0, 1]: "
                         "X.astype(np.float32) / 255.")
    if not np.isfinite(X).all():
        raise NonFiniteError("model input holds NaN or infinite values.")
    if X.max() > 1 or X.min() < 0:
        hint = (" They look like 0-255 pixels: divide by 255." if X.max() > 1 else
                " Negative values: was the input normalised to mean 0? The model was trained on "
                "[0, 1].")
        raise DataError(f"model input values range from {X.min():g} to {X.max():g}, outside "
                        f"[0, 1].{hint}")
    return X
