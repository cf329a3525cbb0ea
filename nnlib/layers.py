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

from .errors import DTypeError, NonFiniteError, ShapeError


def check_finite(x, *, where):
    """Raise NonFiniteError if ``x`` holds NaN or infinity; ``where`` names the place."""
    x = as_numeric(x, where=where)
    if not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteError(
            f"{where}: {bad} of {np.size(x)} values are NaN or infinite. "
            "Check the input data (e.g. scale images to [0, 1]) and, during "
            "training, try a lower learning rate."
        )


def check_finite_rows(X, *, where):
    """Raise NonFiniteError naming the rows of the data ``X`` that hold NaN or infinity.

    For data, not for values training produced: the message says to fix the
    data, since a lower learning rate cannot help.
    """
    X = np.atleast_1d(as_numeric(X, where=where))
    finite = np.isfinite(X)
    if finite.all():
        return
    rows = np.flatnonzero(~finite.reshape(len(X), -1).all(axis=1)) if X.ndim > 1 else np.flatnonzero(~finite)
    shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
    raise NonFiniteError(
        f"{where}: {X.size - np.count_nonzero(finite)} of {X.size} values are NaN or infinite, in "
        f"{len(rows)} row(s): {shown}. This is bad data, not a training problem: fix how the data "
        "were loaded or computed, or drop those rows, e.g. keep = np.isfinite(X).all(axis=1); "
        "X, y = X[keep], y[keep].")


def as_numeric(x, *, where):
    """``x`` as an array of bools, integers or floats; DTypeError naming ``where`` otherwise."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise DTypeError(f"{where}: expected numbers, got an array of dtype {x.dtype} "
                         f"(e.g. {x.ravel()[:1].tolist()}). Convert it first, e.g. "
                         "np.asarray(x, dtype=np.float64).")
    return x


def check_dout(dout, shape, *, where):
    """``dout`` as an array of ``shape`` (the forward output's); ShapeError naming the layer."""
    dout = as_numeric(dout, where=f"{where}: dout")
    if dout.shape != tuple(shape):
        raise ShapeError(f"{where}: dout has shape {dout.shape} but the layer's output had shape "
                         f"{tuple(shape)}; the upstream gradient must have the output's shape "
                         "(e.g. reshape a (B,) gradient to (B, 1)).")
    return dout


def _unpack_cache(cache, size, where):
    if not isinstance(cache, tuple) or len(cache) != size:
        raise ShapeError(f"{where}: cache must be the tuple of {size} that the forward pass "
                         f"returned as its second value, got {type(cache).__name__}. Call "
                         "out, cache = <layer>_forward(...) and pass that cache.")
    return cache


def _array_cache(cache, where):
    # Scalars are fine: sigmoid_forward(0.5) caches a NumPy scalar.
    if isinstance(cache, (np.generic, int, float)) and not isinstance(cache, bool):
        return np.asarray(cache)
    if not isinstance(cache, np.ndarray):
        raise ShapeError(f"{where}: cache must be the array the forward pass returned as its "
                         f"second value, got {type(cache).__name__}. Call out, cache = "
                         "<layer>_forward(x) and pass that cache.")
    return cache


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


def affine_forward(x, w, b=None, *, name="affine", check=True):
    """Fully connected layer: ``out = x @ w + b``.

    Inputs:
        x: (B, D) batch of inputs.
        w: (D, M) weights; nnlib stores weights as (fan_in, fan_out).
        b: (M,) biases, or None for a layer without bias.
        name: used in error messages, e.g. "layer 2 (affine)".
        check: look for NaN/inf in x, W and b. Each look is a pass over the
            array (for W of layer 1 as long as a small matmul), so MLP passes
            False and checks its output once instead: NaN and inf reach it.
    Returns:
        out: (B, M)
        cache: (x, w, b)
    """
    x, w = as_numeric(x, where=f"{name}: x"), as_numeric(w, where=f"{name}: W")
    b = None if b is None else as_numeric(b, where=f"{name}: b")
    _check_affine_shapes(x, w, b, name)
    if check:
        check_finite(x, where=f"{name} input")
        check_finite(w, where=f"{name} weights W")  # diverged parameters show up here first
        if b is not None:
            check_finite(b, where=f"{name} bias b")
    out = x @ w
    if b is not None:
        out = _add_bias(out, b)
    return out, (x, w, b)


def _add_bias(out, b):
    """out + b, in place when the dtypes allow it: no second (B, M) array."""
    if np.result_type(out, b) != out.dtype:
        return out + b  # e.g. float32 x @ W with a float64 b: the sum is float64
    out += b
    return out


def affine_backward(dout, cache, *, name="affine", need_dx=True):
    """Gradients of the affine layer.

    Inputs:
        dout: (B, M) upstream gradient dL/dout.
        cache: (x, w, b) from affine_forward.
        name: used in error messages, as in affine_forward.
        need_dx: False skips dx = dout @ W.T. The first layer's input is the
            data, whose gradient nothing uses; for 784-128-64-10 that product
            is 46% of the backward pass's FLOPs.
    Returns:
        dx: (B, D) or None when not need_dx, dw: (D, M), db: (M,) or None
        when the layer has no bias.

    dout is checked for its shape, not its values: NaN or inf in dout or the cache gives
    NaN gradients without an error (a value check would cost a pass per step); fit
    catches it at the next loss.
    """
    x, w, b = _unpack_cache(cache, 3, f"{name} backward")
    dout = check_dout(dout, (x.shape[0], w.shape[1]), where=f"{name} backward")
    dx = dout @ w.T if need_dx else None
    dw = _weight_grad(x, dout)
    db = dout.sum(axis=0) if b is not None else None
    return dx, dw, db


def _weight_grad(x, dout):
    """dW = x.T @ dout, (D, M).

    At batch 1 this is an outer product (k = 1), which np.matmul computes in its
    own loop outside BLAS: about 7x slower than np.dot's BLAS call for 784 x 128,
    enough to make a batch-1 step slower than a batch-8 one. np.dot is slower than
    matmul for B > 1 here (it copies the transposed view), so only B = 1 uses it.
    """
    if x.shape[0] == 1:
        return np.dot(x.T, dout)
    return x.T @ dout


def relu_forward(x):
    """ReLU: ``max(0, x)`` elementwise. x: any shape. Returns out (same shape), cache.

    NaN passes through unchanged (np.maximum keeps NaN): nothing is checked here, to
    keep the layer one pass; MLP.forward checks its (B, C) output once.
    """
    x = as_numeric(x, where="relu: x")
    out = np.maximum(x, 0)
    return out, x


def relu_backward(dout, cache, *, name="relu"):
    """dx = dout where x > 0, else 0. The derivative at exactly 0 is taken as 0."""
    x = _array_cache(cache, f"{name} backward")
    return check_dout(dout, x.shape, where=f"{name} backward") * (x > 0)


def sigmoid(x):
    """Numerically stable logistic function 1 / (1 + exp(-x)), any shape.

    Accepts scalars too (returns a 0-d NumPy value, so f-strings format it).
    """
    x = as_numeric(x, where="sigmoid: x")
    # sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|)): both exponents are <= 0, so
    # nothing overflows, and for x < 0 this is e^x / (1 + e^x) at full precision.
    # It is branch-free: boolean masks or np.where made it 10-50x slower.
    out = np.exp(np.minimum(x, 0)) / (1.0 + np.exp(-np.abs(x)))
    out = out.astype(np.result_type(x, np.float32), copy=False)
    return out[()] if out.ndim == 0 else out


def sigmoid_forward(x):
    """Sigmoid layer. x: any shape. Returns out (same shape), cache = out.

    NaN in x gives NaN out; +-inf gives exactly 1 or 0, so an overflow upstream can come
    out looking finite. Unchecked, for speed (MLP.forward checks its output once).
    """
    out = sigmoid(np.asarray(x))
    return out, out


def sigmoid_backward(dout, cache, *, name="sigmoid"):
    """sigma'(x) = sigma(x) (1 - sigma(x)), computed from the stored output."""
    s = _array_cache(cache, f"{name} backward")
    return check_dout(dout, s.shape, where=f"{name} backward") * s * (1.0 - s)


def tanh_forward(x):
    """Tanh layer. x: any shape. Returns out (same shape), cache = out."""
    out = np.tanh(as_numeric(x, where="tanh: x"))
    return out, out


def tanh_backward(dout, cache, *, name="tanh"):
    """tanh'(x) = 1 - tanh(x)^2, computed from the stored output."""
    t = _array_cache(cache, f"{name} backward")
    return check_dout(dout, t.shape, where=f"{name} backward") * (1.0 - t * t)


def identity_forward(x):
    """No-op activation, so an output layer can be treated like the others.

    The cache is the shape, so the backward pass can check dout against it.
    """
    x = as_numeric(x, where="identity: x")
    return x, x.shape


def identity_backward(dout, cache, *, name="identity"):
    if cache is None:  # a cache from before the shape was stored
        return as_numeric(dout, where=f"{name} backward: dout")
    return check_dout(dout, cache, where=f"{name} backward")


# name -> (forward, backward); used by nnlib.model.MLP to look activations up.
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "identity": (identity_forward, identity_backward),
}
