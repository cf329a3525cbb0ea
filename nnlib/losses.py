"""Loss functions. Each returns ``(loss, grad)``: the mean loss over the batch
and its gradient with respect to the loss's input, already divided by B.

Shapes: B examples, C classes.
"""

import numpy as np

from .errors import LabelError, ShapeError
from .layers import check_finite, sigmoid


def check_labels(y, *, num_classes, batch_size, where="labels"):
    """Validate integer class labels: shape (B,), values in [0, num_classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != batch_size:
        raise ShapeError(
            f"{where}: expected shape ({batch_size},) with one integer label per "
            f"example, got shape {y.shape}. Pass class indices, not one-hot rows "
            "(use y.argmax(axis=1) to convert)."
        )
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise LabelError(f"{where}: NaN or infinite labels (first at index {bad}); "
                         "check how the labels were loaded or computed.")
    if not np.issubdtype(y.dtype, np.integer) and not (
            np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0)):
        raise LabelError(f"{where}: labels must be integers, got dtype {y.dtype}.")
    # Range first, cast after: a float label such as 1e20 does not fit int64 and would be
    # reported as -9223372036854775808 if it were cast before being checked.
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        lo, hi = (f"{v:g}" if np.issubdtype(y.dtype, np.floating) else str(v)
                  for v in (y.min(), y.max()))
        raise LabelError(
            f"{where}: labels must lie in [0, {num_classes}), found values from "
            f"{lo} to {hi}. Does the output layer have one unit per class?"
        )
    return y.astype(np.int64, copy=False)


def log_softmax(z):
    """log softmax along the last axis, via log-sum-exp with the max subtracted.

    Subtracting the row maximum leaves the result unchanged mathematically but
    keeps exp() from overflowing for large logits (e.g. z = 1000).
    """
    z = np.asarray(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z):
    """Stable softmax along the last axis. z: (..., C) -> probabilities (..., C)."""
    return np.exp(log_softmax(z))


def softmax_cross_entropy(logits, y):
    """Softmax followed by cross-entropy, fused for stability.

    Inputs:
        logits: (B, C) unnormalised scores.
        y: (B,) integer labels in [0, C).
    Returns:
        loss: float, mean over the batch of -log p[y].
        dlogits: (B, C), equal to (softmax(logits) - onehot(y)) / B.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ShapeError(f"softmax_cross_entropy: logits must be (B, C), got {logits.shape}.")
    B, C = logits.shape
    y = check_labels(y, num_classes=C, batch_size=B)
    check_finite(logits, where="softmax_cross_entropy logits")
    rows = np.arange(B)
    # log_softmax(logits), with the row maxima picked by argmax: the same values as
    # logits.max(axis=1), which NumPy computes row by row, 3-4x slower on (512, 10).
    shifted = logits - logits[rows, logits.argmax(axis=1), None]
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -logp[rows, y].mean()
    dlogits = np.exp(logp)
    dlogits[rows, y] -= 1.0
    dlogits /= B  # in place: dlogits is a fresh array
    return float(loss), dlogits


def mse_loss(pred, target):
    """Mean squared error, averaged over every element.

    Inputs:
        pred, target: arrays of the same shape, e.g. (B, M).
    Returns:
        loss: float, mean of (pred - target)^2.
        dpred: same shape as pred, 2 (pred - target) / pred.size.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ShapeError(
            f"mse_loss: prediction shape {pred.shape} differs from target shape "
            f"{target.shape}. Reshape the target, e.g. y.reshape(-1, 1)."
        )
    check_finite(pred, where="mse_loss prediction")
    check_targets_finite(target, where="mse_loss target")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def check_targets_finite(y, *, where):
    """Targets are data, not something training produced: say so, not "lower the learning rate"."""
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        bad = np.argwhere(~np.isfinite(y))[0].tolist()
        raise LabelError(f"{where}: NaN or infinite values (first at index {bad}) in the targets; "
                         "check how the data were loaded or computed.")


def _check_binary_targets(pred, y, name):
    y = np.asarray(y)
    if y.shape != pred.shape:
        raise ShapeError(
            f"{name}: target shape {y.shape} differs from prediction shape "
            f"{pred.shape}. For one output unit use y.reshape(-1, 1)."
        )
    check_targets_finite(y, where=f"{name} target")  # NaN would slip through the range check below
    if np.any((y < 0) | (y > 1)):
        raise LabelError(f"{name}: targets must lie in [0, 1], found values from {y.min()} to {y.max()}.")
    return y


def binary_cross_entropy(p, y, *, eps=1e-12):
    """Binary cross-entropy on probabilities, averaged over every element.

    Inputs:
        p: predicted probabilities in (0, 1), any shape.
        y: targets in [0, 1], same shape.
        eps: clips p into [eps, 1 - eps] so that log(0) never happens.
    Returns:
        loss: float, mean of -(y log p + (1 - y) log(1 - p)).
        dp: same shape as p.
    """
    p = np.asarray(p)
    y = _check_binary_targets(p, y, "binary_cross_entropy")
    check_finite(p, where="binary_cross_entropy input")
    if np.any((p < 0) | (p > 1)):
        # Clipping would hide the mistake (p = 2.0 gave a loss of 1e-12): logits passed as probabilities.
        raise LabelError(f"binary_cross_entropy: probabilities must lie in [0, 1], found values from "
                         f"{p.min()} to {p.max()}. For raw scores (logits) use bce_with_logits.")
    pc = np.clip(p, eps, 1.0 - eps)
    loss = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    dp = (pc - y) / (pc * (1 - pc)) / p.size
    return float(loss), dp


def bce_with_logits(z, y):
    """Binary cross-entropy applied to logits z, with the sigmoid fused in.

    Fusing avoids log(sigmoid(z)) underflowing to -inf for very negative z and
    gives the simple gradient (sigmoid(z) - y) / N.

    Inputs:
        z: logits, any shape (e.g. (B, 1)).
        y: targets in [0, 1], same shape.
    Returns:
        loss: float; dz: same shape as z.
    """
    z = np.asarray(z)
    y = _check_binary_targets(z, y, "bce_with_logits")
    check_finite(z, where="bce_with_logits logits")
    # log(1 + exp(-|z|)) + max(z, 0) - z*y  is the stable form of the loss.
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    return float(loss), (sigmoid(z) - y) / z.size


# name -> loss function; used by nnlib.model.MLP.
LOSSES = {
    "cross_entropy": softmax_cross_entropy,
    "bce": bce_with_logits,
    "mse": mse_loss,
}
