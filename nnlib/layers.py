"""Layers as forward/backward pairs.

Every layer follows one contract:

    out, cache = <layer>_forward(x, ...)
    grads      = <layer>_backward(dout, cache)

``cache`` holds exactly what the backward pass needs, and each derivative sits
right below its forward function so the two can be read together. Shapes use
``B`` for the batch size, ``D`` for input features and ``M`` for output
features.
"""

import numpy as np

from .errors import NonFiniteError, ShapeError


def check_finite(x, *, where):
    """Raise NonFiniteError if ``x`` holds NaN or infinity; ``where`` names the place."""
    if not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteError(
            f"{where}: {bad} of {np.size(x)} values are NaN or infinite. "
            "Check the input data (e.g. scale images to [0, 1]) and, during "
            "training, try a lower learning rate."
        )


def _check_affine_shapes(x, w, b, name):
    if w.ndim != 2:
        raise ShapeError(f"{name}: W must be 2-D (D, M), got shape {w.shape}.")
    if x.ndim != 2:
        hint = " Flatten images first, e.g. X.reshape(len(X), -1)." if x.ndim > 2 else ""
        raise ShapeError(f"{name}: x must be 2-D (B, D), got shape {x.shape}.{hint}")
    if x.shape[1] != w.shape[0]:
        raise ShapeError(
            f"{name}: x has {x.shape[1]} features per example (shape {x.shape}) "
            f"but W expects {w.shape[0]} (W shape {w.shape}). The inner sizes of "
            "x @ W must agree."
        )
    if b is not None and b.shape != (w.shape[1],):
        raise ShapeError(f"{name}: b must have shape ({w.shape[1]},), got {b.shape}.")


def affine_forward(x, w, b=None, *, name="affine"):
    """Fully connected layer: ``out = x @ w + b``.

    Inputs:
        x: (B, D) batch of inputs.
        w: (D, M) weights; nnlib stores weights as (fan_in, fan_out).
        b: (M,) biases, or None for a layer without bias.
        name: used in error messages, e.g. "layer 2 (affine)".
    Returns:
        out: (B, M)
        cache: (x, w, b)
    """
    x, w = np.asarray(x), np.asarray(w)
    _check_affine_shapes(x, w, b, name)
    check_finite(x, where=f"{name} input")
    out = x @ w
    if b is not None:
        out = out + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Gradients of the affine layer.

    Inputs:
        dout: (B, M) upstream gradient dL/dout.
        cache: (x, w, b) from affine_forward.
    Returns:
        dx: (B, D), dw: (D, M), db: (M,) or None when the layer has no bias.
    """
    x, w, b = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0) if b is not None else None
    return dx, dw, db


def relu_forward(x):
    """ReLU: ``max(0, x)`` elementwise. x: any shape. Returns out (same shape), cache."""
    out = np.maximum(x, 0)
    return out, x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0. The derivative at exactly 0 is taken as 0."""
    x = cache
    return dout * (x > 0)


def sigmoid(x):
    """Numerically stable logistic function 1 / (1 + exp(-x)), any shape.

    Accepts scalars too (returns a 0-d NumPy value, so f-strings format it).
    """
    x = np.asarray(x)
    # sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|)): both exponents are <= 0, so
    # nothing overflows, and for x < 0 this is e^x / (1 + e^x) at full precision.
    # It is branch-free: boolean masks or np.where made it 10-50x slower.
    out = np.exp(np.minimum(x, 0)) / (1.0 + np.exp(-np.abs(x)))
    out = out.astype(np.result_type(x, np.float32), copy=False)
    return out[()] if out.ndim == 0 else out


def sigmoid_forward(x):
    """Sigmoid layer. x: any shape. Returns out (same shape), cache = out."""
    out = sigmoid(np.asarray(x))
    return out, out


def sigmoid_backward(dout, cache):
    """sigma'(x) = sigma(x) (1 - sigma(x)), computed from the stored output."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x):
    """Tanh layer. x: any shape. Returns out (same shape), cache = out."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """tanh'(x) = 1 - tanh(x)^2, computed from the stored output."""
    t = cache
    return dout * (1.0 - t * t)


def identity_forward(x):
    """No-op activation, so an output layer can be treated like the others."""
    return x, None


def identity_backward(dout, cache):
    return dout


# name -> (forward, backward); used by nnlib.model.MLP to look activations up.
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "identity": (identity_forward, identity_backward),
}
