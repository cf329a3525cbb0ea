"""Elementwise activation functions as functions of their input, with derivatives.

``nnlib.layers`` holds the forward/backward pairs a network uses; this module
looks at the same functions one element at a time: ``value(x, name=...)`` and
``derivative(x, name=...)`` for plots and checks, and ``chain_gradients`` for
the vanishing-gradient experiment (how much gradient survives a deep chain).
Softmax is not elementwise; its stable form is ``nnlib.losses.softmax``.
"""

import numpy as np

from .errors import ConfigError, DTypeError
from .layers import ACTIVATIONS

NAMES = ("sigmoid", "tanh", "relu")
CHAIN_INITS = ("xavier", "he")


def _check_name(name, where):
    if name not in NAMES:
        raise ConfigError(f"{where}: name must be one of {NAMES}, got {name!r}.")


def _as_float(x):
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating):
        return x
    try:
        if x.dtype.kind in "USc":  # text ('1.5' too) and complex are refused, not converted
            raise TypeError
        return x.astype(np.float64)
    except (TypeError, ValueError):
        raise DTypeError(f"activations: x must hold real numbers, got an array of dtype {x.dtype} "
                         f"(e.g. {x.ravel()[:1].tolist()}); convert it first, e.g. "
                         "np.asarray(x, dtype=float).") from None


def value(x, *, name):
    """f(x) elementwise for f = "sigmoid", "tanh" or "relu". x: any shape -> same shape."""
    _check_name(name, "value")
    forward, _ = ACTIVATIONS[name]
    return forward(_as_float(x))[0]


def derivative(x, *, name):
    """f'(x) elementwise. x: any shape -> same shape, finite for any finite x.

    The layer's own backward pass fed a gradient of ones, so plots and checks use
    exactly the derivative that training uses: sigmoid' = s (1 - s), tanh' = 1 - tanh^2,
    relu' = 1 where x > 0 and 0 elsewhere (the value at exactly 0 is taken as 0).
    """
    _check_name(name, "derivative")
    forward, backward = ACTIVATIONS[name]
    out, cache = forward(_as_float(x))
    return backward(np.ones_like(out), cache)


def _check_positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"chain_gradients: {what} must be an integer >= 1, got {value!r}.")
    return int(value)


def chain_gradients(*, name, depth, width=100, batch=64, init="xavier", seed=0):
    """Gradient norms at every layer of a random deep chain, relative to the output.

    The chain is ``z(l) = h(l-1) @ W(l)``, ``h(l) = f(z(l))`` for l = 1..depth, with
    square (width, width) weights drawn by ``nnlib.model.init_weights`` ("xavier":
    std 1/sqrt(width) here; "he": std sqrt(2/width)), no biases, float64, and a
    standard-normal input batch ``h(0)`` of shape (batch, width). A standard-normal
    gradient G = dL/dh(depth) is fed in at the output and backpropagated.

    Returns:
        (depth,) float64 array; entry l-1 is ||dL/dz(l)|| / ||G|| (Frobenius norms),
        so entry 0 is the share of the output gradient that reaches layer 1.
    """
    from .model import init_weights  # model imports layers and losses; keep import light

    _check_name(name, "chain_gradients")
    depth = _check_positive_int(depth, "depth")
    width = _check_positive_int(width, "width")
    batch = _check_positive_int(batch, "batch")
    if init not in CHAIN_INITS:
        raise ConfigError(f"chain_gradients: init must be one of {CHAIN_INITS}, got {init!r}.")
    rng = np.random.default_rng(seed)
    weights = [init_weights(width, width, init=init, rng=rng, dtype=np.float64) for _ in range(depth)]
    h = rng.standard_normal((batch, width))
    pre = []
    for w in weights:                       # forward: keep every pre-activation
        z = h @ w
        pre.append(z)
        h = value(z, name=name)
    grad_h = rng.standard_normal((batch, width))
    norms = np.empty(depth)
    g_out = np.linalg.norm(grad_h)
    for l in range(depth - 1, -1, -1):      # backward: dz = dh * f'(z), dh_prev = dz @ W.T
        grad_z = grad_h * derivative(pre[l], name=name)
        norms[l] = np.linalg.norm(grad_z) / g_out
        grad_h = grad_z @ weights[l].T
    return norms
