"""Mini-batch training loop and the metrics it reports."""

import time

import numpy as np

from .errors import ConfigError, NonFiniteError, ShapeError, TrainingDiverged
from .losses import LOSSES
from .optim import Optimizer, make_optimizer


def minibatches(n, *, batch_size, rng=None):
    """Yield index arrays covering range(n) in batches; shuffled when rng is given.

    The last batch may be smaller: with n = 60,000 and batch_size = 32 there are
    ceil(60000 / 32) = 1,875 steps per epoch.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}.")
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
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ShapeError(f"confusion_matrix: {y_true.shape} labels vs {y_pred.shape} predictions.")
    k = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


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
    if len(X) != len(y):
        raise ShapeError(f"fit: X has {len(X)} examples but y has {len(y)}.")
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
