"""Mini-batch training loop and the metrics it reports."""

import time

import numpy as np

from .errors import ConfigError, LabelError, NonFiniteError, ShapeError, TrainingDiverged
from .losses import LOSSES
from .optim import Optimizer, make_optimizer


def _whole(value, what, *, minimum):
    """``value`` as an int >= minimum; 32.5 or True are refused rather than truncated."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{what} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def minibatches(n, *, batch_size, rng=None):
    """Yield index arrays covering range(n) in batches; shuffled when rng is given.

    The last batch may be smaller: with n = 60,000 and batch_size = 32 there are
    ceil(60000 / 32) = 1,875 steps per epoch.
    """
    _whole(batch_size, "batch_size", minimum=1)
    _whole(n, "n", minimum=0)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def accuracy(y_pred, y_true):
    """Fraction of predictions equal to the labels. Both (B,) -> float in [0, 1]."""
    y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
    if y_pred.shape != y_true.shape:
        raise ShapeError(f"accuracy: predictions {y_pred.shape} and labels {y_true.shape} differ in shape.")
    return float(np.mean(y_pred == y_true))


def confusion_matrix(y_true, y_pred, *, num_classes=None):
    """Counts[i, j] = number of examples of true class i predicted as class j."""
    y_true, y_pred = _class_labels(y_true, "y_true"), _class_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ShapeError(f"confusion_matrix: {y_true.shape} labels vs {y_pred.shape} predictions; "
                         "pass one label and one prediction per example, both shape (N,).")
    if num_classes is None:
        k = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    else:
        k = _whole(num_classes, "confusion_matrix: num_classes", minimum=1)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and y.max() >= k:
            raise LabelError(f"confusion_matrix: {name} contains {y.max()}, but num_classes={k}; "
                             f"labels must lie in [0, {k}). Pass the right num_classes.")
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def _class_labels(y, name):
    """Integer class labels (N,); negative, fractional or NaN labels are refused, not wrapped."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ShapeError(f"confusion_matrix: {name} must be 1-D class indices (N,), got shape "
                         f"{y.shape}. For one-hot rows or scores use {name}.argmax(axis=1).")
    if y.dtype.kind in "fc" and np.isnan(y).any():
        raise LabelError(f"confusion_matrix: {name} contains NaN labels; every example needs a "
                         "class index.")
    if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise LabelError(f"confusion_matrix: {name} must hold integer class indices, got dtype "
                         f"{y.dtype}. Convert predictions first, e.g. probs.argmax(axis=1).")
    if y.size and y.min() < 0:
        raise LabelError(f"confusion_matrix: {name} contains {y.min()}; class indices start at "
                         "0 (negative ones would be counted in the wrong row).")
    return y.astype(np.int64)


def evaluate(model, X, y, *, batch_size=1024):
    """Mean loss and accuracy of ``model`` on (X, y), in chunks to bound memory.

    Returns (loss: float, acc: float or None); acc is None for mse models.
    """
    loss_fn = LOSSES[model.loss_name]
    total, correct, n = 0.0, 0, len(X)
    for idx in minibatches(n, batch_size=batch_size):
        out = model.forward(X[idx])
        total += loss_fn(out, y[idx])[0] * len(idx)
        if model.loss_name != "mse":
            correct += int(np.sum(_labels_from_output(model, out) == np.asarray(y[idx]).ravel()))
    return total / n, (correct / n if model.loss_name != "mse" else None)


def _labels_from_output(model, out):
    return out.argmax(axis=1) if model.loss_name == "cross_entropy" else (out > 0).astype(np.int64).ravel()


def _progress(total, *, enabled, desc):
    """A tqdm bar (widget in notebooks, text in terminals), or None when disabled."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=True, mininterval=0.5)


def fit(model, X, y, *, epochs, batch_size, lr, optimizer="sgd", val=None, seed=0,
        progress=True, optimizer_kwargs=None):
    """Train ``model`` with mini-batch gradient descent.

    Args:
        model: an nnlib.model.MLP (anything with params, loss, forward, loss_name).
        X: (N, D) inputs; y: (N,) labels (or (N, C) targets for bce/mse).
        epochs, batch_size, lr: the usual; the data are reshuffled every epoch.
        optimizer: "sgd", "momentum", "adam", or an nnlib.optim.Optimizer instance.
        val: optional (X_val, y_val), evaluated after every epoch.
        seed: seeds the shuffling, so a run is reproducible.
        progress: show a progress bar.
    Returns:
        history dict: "loss", "acc" (on the whole training set after each epoch),
        "val_loss", "val_acc" (one value per epoch, empty without val),
        "batch_loss" (one per step), "seconds" (training wall time).
    Raises:
        TrainingDiverged when the loss becomes NaN or infinite, naming epoch and step.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ShapeError(f"fit: X has {len(X) if X.ndim else 'no'} examples but y has "
                         f"{len(y) if y.ndim else 'no'}; pass one row of X per label.")
    _whole(epochs, "fit: epochs", minimum=1)
    _whole(batch_size, "fit: batch_size", minimum=1)
    if val is not None and not (isinstance(val, (tuple, list)) and len(val) == 2):
        raise ConfigError("fit: val must be a pair (X_val, y_val) or None.")
    opt = optimizer if isinstance(optimizer, Optimizer) else make_optimizer(
        optimizer, model.params, lr=lr, **(optimizer_kwargs or {}))
    rng = np.random.default_rng(seed)
    steps = -(-len(X) // batch_size)
    history = {"loss": [], "acc": [], "val_loss": [], "val_acc": [], "batch_loss": []}
    bar = _progress(epochs * steps, enabled=progress, desc="training")
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            for step, idx in enumerate(minibatches(len(X), batch_size=batch_size, rng=rng), start=1):
                loss, grads = _train_step_loss(model, X[idx], y[idx], where=(epoch, step, steps, opt.lr))
                opt.step(grads)
                history["batch_loss"].append(loss)
                if bar is not None:
                    bar.update(1)
            _record_epoch(history, model, X, y, val)
            if bar is not None:
                bar.set_postfix(_postfix(history, epoch))
    finally:
        if bar is not None:
            bar.close()
    history["seconds"] = time.perf_counter() - start
    return history


def _train_step_loss(model, Xb, yb, *, where):
    """model.loss on one batch, turning any NaN/inf into one TrainingDiverged error."""
    epoch, step, steps, lr = where
    try:
        # Overflow warnings would only repeat what the error below says.
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads = model.loss(Xb, yb)
        reason = None if np.isfinite(loss) else f"the loss became {loss}"
    except NonFiniteError as err:
        reason = f"values became NaN or infinite ({err})"
    if reason:
        raise TrainingDiverged(
            f"Training diverged at epoch {epoch}, step {step} of {steps} (lr={lr:g}): {reason}. "
            f"Try a lower learning rate, e.g. lr={lr / 10:g}, and check that inputs are scaled.")
    return loss, grads


def _record_epoch(history, model, X, y, val):
    loss, acc = evaluate(model, X, y)
    history["loss"].append(loss)
    history["acc"].append(acc)
    if val is not None:
        vloss, vacc = evaluate(model, *val)
        history["val_loss"].append(vloss)
        history["val_acc"].append(vacc)


def _postfix(history, epoch):
    info = {"epoch": epoch, "loss": f"{history['loss'][-1]:.4f}"}
    if history["acc"][-1] is not None:
        info["acc"] = f"{history['acc'][-1]:.3f}"
    if history["val_acc"] and history["val_acc"][-1] is not None:
        info["val_acc"] = f"{history['val_acc'][-1]:.3f}"
    return info
