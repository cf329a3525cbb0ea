"""Exact matrix-multiply counts of an MLP's forward pass, backward pass and training step.

Every dense layer of a batch is one matrix product, and so is each of its two
gradients. For layer ``l`` with weights ``W_l`` of shape ``(D, M)`` (nnlib's
``(fan_in, fan_out)``) and a batch of ``B`` examples:

=========================  ===========================  ===========
product                    shapes                       MACs
=========================  ===========================  ===========
forward   ``Z = A @ W``     (B, D) @ (D, M) -> (B, M)    B * D * M
weights   ``dW = A.T @ dZ`` (D, B) @ (B, M) -> (D, M)    B * D * M
input     ``dA = dZ @ W.T`` (B, M) @ (M, D) -> (B, D)    B * D * M
=========================  ===========================  ===========

The input gradient of layer 1, ``dL/dX``, feeds nothing (the data are not
trained), so a training step may skip it: ``input_grad=False`` (the default)
leaves it out. One multiply-add (MAC) is 2 FLOPs. Bias additions, activation
functions, the loss and the optimizer update are O(B * M) or O(parameters) and
are not counted here; ``sizes`` are the layer widths, input and output included,
e.g. ``(784, 128, 64, 10)``.

Bytes: ``Matmul.bytes_moved(itemsize)`` is the least traffic of one product
(each operand read once, the result written once) and ``Matmul.intensity`` its
FLOPs per byte; ``forward_bytes`` / ``step_bytes`` add them up over a pass.
With a machine's peak FLOP/s and memory bandwidth, ``roofline_seconds`` gives
the least time a product can take and ``attainable_flops`` the rate the
roofline model allows at a given intensity.
"""

import math
import numbers
from fractions import Fraction
from typing import NamedTuple

from .errors import ConfigError
from .memory import macs as _forward_macs


def _itemsize(itemsize):
    if isinstance(itemsize, bool) or not isinstance(itemsize, numbers.Integral) or itemsize < 1:
        raise ConfigError(f"itemsize must be a whole number of bytes >= 1 (4 for float32, "
                          f"2 for bfloat16), got {itemsize!r}.")
    return int(itemsize)


class Matmul(NamedTuple):
    """One matrix product ``(m, k) @ (k, n) -> (m, n)``, named e.g. "dW2 = A1.T @ dZ2"."""

    name: str
    m: int
    k: int
    n: int

    @property
    def macs(self):
        """Multiply-adds: m * k * n."""
        return self.m * self.k * self.n

    @property
    def flops(self):
        """Floating-point operations: 2 * m * k * n."""
        return 2 * self.macs

    def bytes_moved(self, itemsize=4):
        """Least memory traffic in bytes: both operands read once, the result written once.

        ``itemsize * (m*k + k*n + m*n)``; a real kernel moves at least this much
        (more when its blocks do not fit in cache). itemsize 4 is float32.
        """
        return _itemsize(itemsize) * (self.m * self.k + self.k * self.n + self.m * self.n)

    def intensity(self, itemsize=4):
        """Arithmetic intensity, FLOPs per byte moved (a float): flops / bytes_moved."""
        return self.flops / self.bytes_moved(itemsize)


def _layers(sizes, batch):
    """[(l, D, M)] for each affine layer; sizes and batch checked by nnlib.memory."""
    _forward_macs(sizes, batch=batch)  # raises ConfigError for bad widths or batch
    sizes = [int(s) for s in sizes]
    return [(l, d, m) for l, (d, m) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)]


def forward_matmuls(sizes, *, batch=1):
    """The products of one forward pass, first layer first: ``Z_l = A_{l-1} @ W_l``, (B, D) @ (D, M)."""
    return [Matmul(f"Z{l} = A{l - 1} @ W{l}", batch, d, m) for l, d, m in _layers(sizes, batch)]


def backward_matmuls(sizes, *, batch=1, input_grad=False):
    """The products of one backward pass, last layer first.

    Per layer ``dW_l = A_{l-1}.T @ dZ_l``, (D, B) @ (B, M), then
    ``dA_{l-1} = dZ_l @ W_l.T``, (B, M) @ (M, D); the latter for layer 1 only
    when ``input_grad`` is True (``A0`` is the input batch X).
    """
    products = []
    for l, d, m in reversed(_layers(sizes, batch)):
        products.append(Matmul(f"dW{l} = A{l - 1}.T @ dZ{l}", d, batch, m))
        if l > 1 or input_grad:
            products.append(Matmul(f"dA{l - 1} = dZ{l} @ W{l}.T", batch, m, d))
    return products


def forward_flops(sizes, *, batch=1):
    """FLOPs of the forward products: 2 * B * sum of D * M (an int)."""
    return sum(p.flops for p in forward_matmuls(sizes, batch=batch))


def backward_flops(sizes, *, batch=1, input_grad=False):
    """FLOPs of the backward products (an int); see ``backward_matmuls``."""
    return sum(p.flops for p in backward_matmuls(sizes, batch=batch, input_grad=input_grad))


def step_flops(sizes, *, batch=1, input_grad=False):
    """FLOPs of the products of one training step: forward + backward (an int)."""
    return forward_flops(sizes, batch=batch) + backward_flops(sizes, batch=batch, input_grad=input_grad)


def ratios(sizes, *, batch=1):
    """Exact ratios to the forward pass, as Fractions (they do not depend on ``batch``).

    Returns a dict: "backward" (without dL/dX), "backward_with_input_grad",
    "step" (forward + backward without dL/dX) and "step_with_input_grad".
    """
    fwd = forward_flops(sizes, batch=batch)
    bwd = backward_flops(sizes, batch=batch)
    bwd_x = backward_flops(sizes, batch=batch, input_grad=True)
    return {"backward": Fraction(bwd, fwd), "backward_with_input_grad": Fraction(bwd_x, fwd),
            "step": Fraction(fwd + bwd, fwd), "step_with_input_grad": Fraction(fwd + bwd_x, fwd)}


def forward_bytes(sizes, *, batch=1, itemsize=4):
    """Least bytes moved by the forward products (sum of ``Matmul.bytes_moved``), an int."""
    return sum(p.bytes_moved(itemsize) for p in forward_matmuls(sizes, batch=batch))


def step_bytes(sizes, *, batch=1, itemsize=4, input_grad=False):
    """Least bytes moved by the products of one training step (forward + backward), an int.

    Each product is counted on its own, as if nothing stayed in cache between
    products: an upper bound on what a step must move, a lower bound on what a
    product-by-product implementation does move.
    """
    return forward_bytes(sizes, batch=batch, itemsize=itemsize) + sum(
        p.bytes_moved(itemsize)
        for p in backward_matmuls(sizes, batch=batch, input_grad=input_grad))


def _positive(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value > 0):
        raise ConfigError(f"{what} must be a positive finite number, got {value!r}.")
    return float(value)


def attainable_flops(intensity, *, peak_flops, bandwidth):
    """The roofline: min(peak_flops, intensity * bandwidth), in FLOP/s.

    intensity in FLOPs per byte, peak_flops in FLOP/s, bandwidth in bytes/s.
    Below the ridge point ``peak_flops / bandwidth`` the product is memory-bound.
    """
    intensity = _positive(intensity, "intensity")
    return min(_positive(peak_flops, "peak_flops"), intensity * _positive(bandwidth, "bandwidth"))


def roofline_seconds(flops, nbytes, *, peak_flops, bandwidth):
    """Least time for ``flops`` operations on ``nbytes`` of traffic: max(compute, memory) time."""
    return max(_positive(flops, "flops") / _positive(peak_flops, "peak_flops"),
               _positive(nbytes, "nbytes") / _positive(bandwidth, "bandwidth"))
