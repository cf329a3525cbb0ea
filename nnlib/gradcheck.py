"""Numerical gradient checks: the test oracle for every backward pass.

Centered differences, (f(x + h) - f(x - h)) / 2h, have truncation error O(h^2)
and round-off error O(eps / h); h = 1e-5 balances the two in float64, leaving
both far below the 1e-7 relative error the tests demand.
"""

import numpy as np


def rel_error(a, b):
    """Largest elementwise relative error max |a - b| / max(|a| + |b|, 1e-8)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, *, h=1e-5):
    """d f / d x by centered differences. f: () -> float, reading x; x: float64 array changed in place and restored."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
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
    """Relative error for each parameter of a float64 model: {name: error}."""
    _, grads = model.loss(X, y)
    return {name: rel_error(grads[name],
                            numerical_gradient(lambda: model.loss(X, y)[0], p, h=h))
            for name, p in model.params.items()}
