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
"""

from fractions import Fraction
from typing import NamedTuple

from .memory import macs as _forward_macs


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
