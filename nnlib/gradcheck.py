"""Numerical gradient checks: the test oracle for every backward pass.

Centered differences, (f(x + h) - f(x - h)) / 2h, have truncation error O(h^2)
and round-off error O(eps / h); h = 1e-5 balances the two in float64, leaving
both far below the 1e-7 relative error the tests demand.
"""

import math
import warnings

import numpy as np

from .errors import ConfigError, DTypeError, PrecisionWarning, ShapeError
from .layers import as_numeric

_FLOAT32_ADVICE = ("centered differences with h = 1e-5 lose most digits in float32 (errors up "
                   "to ~0.5 for a correct backward pass). Use float64, e.g. "
                   "MLP(..., dtype=np.float64) or x.astype(np.float64).")


def rel_error(a, b):
    """Largest elementwise relative error max |a - b| / max(|a| + |b|, 1e-8)."""
    a = as_numeric(a, where="rel_error: a").astype(np.float64)
    b = as_numeric(b, where="rel_error: b").astype(np.float64)
    if a.shape != b.shape:  # broadcasting would compare the wrong entries and still say "small"
        raise ShapeError(f"rel_error: a has shape {a.shape} but b has {b.shape}; compare two "
                         "gradients of the same shape (e.g. grads['W1'] with its numerical one).")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, *, h=1e-5):
    """d f / d x by centered differences. f: () -> float, reading x; x: float64 array changed in place and restored.

    Warns (PrecisionWarning) when x is not float64, since the result is then unreliable.
    """
    _check_probe(x, h, where="numerical_gradient")
    if x.dtype != np.float64:
        warnings.warn(f"numerical_gradient: x is {x.dtype}; {_FLOAT32_ADVICE}", PrecisionWarning,
                      stacklevel=2)
    return _numerical_gradient(f, x, h)


def _check_probe(x, h, *, where):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise DTypeError(f"{where}: x must be a float NumPy array that f reads (it is nudged in "
                         f"place), got {got}. Use x = np.array(x, dtype=np.float64).")
    if isinstance(h, bool) or not isinstance(h, (int, float, np.number)) or not (math.isfinite(h) and h > 0):
        raise ConfigError(f"{where}: h must be a small positive step, e.g. h=1e-5, got {h!r}.")


def _value(f, where):
    """f() as a float; a clear error when f returns an array or nothing."""
    value = f()
    if np.size(value) != 1:
        raise ShapeError(f"{where}: f must return one number (the loss), got shape "
                         f"{np.shape(value)}. Wrap it, e.g. lambda: float(np.sum(...)).")
    return float(np.asarray(value).ravel()[0])


def _numerical_gradient(f, x, h):
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = _value(f, "numerical_gradient")
        x[i] = old - h
        fm = _value(f, "numerical_gradient")
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def check_layer(forward, backward, *inputs, seed=0, h=1e-5):
    """Compare a layer's analytic gradients with numerical ones.

    ``forward(*inputs) -> (out, cache)`` and ``backward(dout, cache)`` returning
    one gradient or a tuple with one gradient per input (None for inputs that
    get none). The scalar checked is sum(out * dout) for a random dout, so
    every output element contributes.

    Returns: list of relative errors, one per input (None where no gradient).
    """
    inputs = [np.array(a, dtype=np.float64) for a in inputs]
    out, cache = forward(*inputs)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    errors = []
    for x, g in zip(inputs, grads):
        if g is None:
            errors.append(None)
            continue
        num = numerical_gradient(lambda: float(np.sum(forward(*inputs)[0] * dout)), x, h=h)
        errors.append(rel_error(g, num))
    return errors


def check_loss(loss_fn, x, *args, h=1e-5):
    """Relative error of a loss's returned gradient w.r.t. its first argument."""
    x = np.array(x, dtype=np.float64)
    _, grad = loss_fn(x, *args)
    num = numerical_gradient(lambda: loss_fn(x, *args)[0], x, h=h)
    return rel_error(grad, num)


def check_model(model, X, y, *, h=1e-5):
    """Relative error for each parameter of a float64 model: {name: error}.

    Warns (PrecisionWarning) for a model in any other dtype, whose errors mean nothing.
    """
    for p in model.params.values():
        _check_probe(p, h, where="check_model")
    low = sorted({p.dtype.name for p in model.params.values()} - {"float64"})
    if low:
        warnings.warn(f"check_model: the model's parameters are {', '.join(low)}; {_FLOAT32_ADVICE}",
                      PrecisionWarning, stacklevel=2)
    _, grads = model.loss(X, y)
    return {name: rel_error(grads[name], _numerical_gradient(lambda: model.loss(X, y)[0], p, h))
            for name, p in model.params.items()}
