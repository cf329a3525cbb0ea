"""Mini-batch training loop and the metrics it reports."""

import math
import time
import warnings

import numpy as np

from .errors import (ConfigError, LabelError, NonFiniteError, ShapeError, TrainingDiverged,
                     UnscaledInputWarning)
from .layers import as_numeric, check_finite_rows
from .losses import LOSSES, check_labels, check_targets_finite
from .optim import Optimizer, make_optimizer
from .step import TrainStep, applies


def _whole(value, what, *, minimum, example=None):
    """``value`` as an int >= minimum; 32.5 or True are refused rather than truncated."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        hint = f", e.g. {example}" if example else ""
        raise ConfigError(f"{what} must be a whole number >= {minimum}{hint}, got {value!r}.")
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
    if not hasattr(model, "forward") or not hasattr(model, "loss_name"):
        raise ConfigError(f"evaluate: model must be an nnlib MLP, got {type(model).__name__}.")
    loss_fn = LOSSES[model.loss_name]
    total, correct, n = 0.0, 0, len(X)
    if n == 0:
        raise ShapeError("evaluate: X is empty (0 examples); there is nothing to evaluate. "
                         "Check the split or filter that produced it.")
    if len(y) != n:
        raise ShapeError(f"evaluate: X has {n} examples but y has {len(y)} labels; pass the "
                         "labels that belong to X (one per row).")
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


def fit(model, X, y, *, epochs, batch_size, lr=None, optimizer="sgd", val=None, seed=0,
        progress=True, optimizer_kwargs=None, after_step=None):
    """Train ``model`` with mini-batch gradient descent.

    Args:
        model: an nnlib.model.MLP (anything with params, loss, forward, loss_name).
        X: (N, D) inputs; y: (N,) labels (or (N, C) targets for bce/mse).
        epochs, batch_size, lr: the usual; the data are reshuffled every epoch.
            With an Optimizer instance, lr may be left out (the optimizer has one).
        optimizer: "sgd", "momentum", "adam", or an nnlib.optim.Optimizer built
            on ``model.params``.
        val: optional (X_val, y_val), evaluated after every epoch.
        seed: seeds the shuffling, so a run is reproducible.
        progress: show a progress bar.
        after_step: optional callable, called after every step (its update done) as
            after_step(epoch, step, steps), steps being the steps per epoch; a way to
            look inside an epoch, e.g. evaluate the model before its last batch.
    Returns:
        history dict: "loss", "acc" (on the whole training set after each epoch),
        "val_loss", "val_acc" (one value per epoch, empty without val),
        "batch_loss" (one per step), "seconds" (training wall time).
    Raises:
        ConfigError, ShapeError, LabelError before the first step for bad
        arguments; NonFiniteError naming the rows for NaN or inf in X or X_val
        (bad data, which no learning rate fixes).
        TrainingDiverged, naming epoch and step, when the loss or the weights
        become NaN or infinite, or when the smoothed loss stays finite but rises
        10x above both its start and a constant guess's (the run has blown up).
    Warns:
        UnscaledInputWarning when X looks like raw 0-255 pixels.
    """
    if not all(hasattr(model, a) for a in ("params", "forward", "loss", "loss_name")):
        raise ConfigError(f"fit: model must be an nnlib MLP (with params, forward, loss), got "
                          f"{type(model).__name__}; e.g. model = MLP((784, 100, 10)).")
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ConfigError(f"fit: seed must be a whole number >= 0 (or None), got {seed!r}; e.g. seed=0.")
    X, y = _check_data(model, X, y, names=("X", "y"))
    _whole(epochs, "fit: epochs", minimum=1, example="epochs=5")
    _check_batch_size(batch_size, len(X))
    val = _check_val(model, val)
    opt = _build_optimizer(model, optimizer, lr, optimizer_kwargs)
    # The same numbers as model.loss + opt.step, without an array allocated per step
    # (nnlib.step); the labels were checked above, once for the whole set.
    stepper = (TrainStep(model, opt, check_labels=False) if applies(model, opt)
               else _ReadableStep(model, opt))
    rng = np.random.default_rng(seed)
    steps = -(-len(X) // batch_size)
    history = {"loss": [], "acc": [], "val_loss": [], "val_acc": [], "batch_loss": []}
    watch = _BlowUpWatch(_constant_guess_loss(model, y))
    bar = _progress(epochs * steps, enabled=progress, desc="training")
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            for step, idx in enumerate(minibatches(len(X), batch_size=batch_size, rng=rng), start=1):
                loss = _train_step(stepper, X[idx], y[idx], watch,
                                   where=(epoch, step, steps, opt.lr))
                history["batch_loss"].append(loss)
                if after_step is not None:
                    after_step(epoch, step, steps)
                if bar is not None:
                    bar.update(1)
            end = (epoch, steps, steps, opt.lr)
            _record_epoch(history, model, X, y, val, where=end)
            watch.check_epoch(history["loss"][-1], where=end)
            if bar is not None:
                bar.set_postfix(_postfix(history, epoch))
    finally:
        if bar is not None:
            bar.close()
    history["seconds"] = time.perf_counter() - start
    return history


# --- arguments, checked before the first step -------------------------------------------

def _check_data(model, X, y, *, names):
    """(X, y) checked against the model: shapes, lengths, NaN rows, labels; X in the model's dtype."""
    xn, yn = names
    X, y = as_numeric(X, where=f"fit: {xn}"), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ShapeError(f"fit: {xn} has {len(X) if X.ndim else 'no'} examples but {yn} has "
                         f"{len(y) if y.ndim else 'no'}; pass one row of {xn} per label.")
    if len(X) == 0:
        raise ShapeError(f"fit: {xn} holds no examples; pass at least one row.")
    sizes = getattr(model, "sizes", None)
    if sizes is not None and (X.ndim != 2 or X.shape[1] != sizes[0]):
        raise ShapeError(f"fit: {xn} has shape {X.shape} but the model expects rows of {sizes[0]} "
                         f"features, shape (N, {sizes[0]}). Flatten images first, e.g. "
                         "nnlib.data.flatten_and_scale(images) or X.reshape(len(X), -1).")
    check_finite_rows(X, where=f"fit: {xn}")
    y = _check_targets(model, y, name=yn)
    _warn_if_unscaled(X, xn)
    # Once here rather than in every step: float64 data for a float32 model is converted once.
    dtype = np.dtype(getattr(model, "dtype", X.dtype))
    with np.errstate(over="ignore"):  # explained below instead of a bare RuntimeWarning
        Xc = X.astype(dtype, copy=False)
    if (dtype.kind == "f" and X.dtype.kind == "f" and dtype.itemsize < X.dtype.itemsize
            and not np.isfinite(Xc).all()):
        raise NonFiniteError(
            f"fit: {xn} holds finite values up to {float(np.abs(X).max()):.3g} that overflow the "
            f"model's {dtype} (largest {np.finfo(dtype).max:.3g}) when cast, so they would become "
            "infinite. Scale the data (e.g. to [0, 1]) or build the model with dtype=np.float64.")
    return Xc, y


def _check_targets(model, y, *, name):
    """The loss's own label checks, on the whole set: errors now, not after an epoch.

    Returns y, class labels as int64 (the dtype every step would convert them to).
    """
    sizes = getattr(model, "sizes", None)
    if sizes is None:
        return y
    kind = model.loss_name
    if kind == "cross_entropy":
        return check_labels(y, num_classes=sizes[-1], batch_size=len(y), where=f"fit: {name}")
    if y.shape != (len(y), sizes[-1]):
        raise ShapeError(f"fit: {name} has shape {y.shape} but the model's {kind} output has shape "
                         f"(N, {sizes[-1]}); e.g. {name}.reshape(-1, 1) for one output unit.")
    y = as_numeric(y, where=f"fit: {name}")
    check_targets_finite(y, where=f"fit: {name}")
    if kind == "bce" and np.any((y < 0) | (y > 1)):
        raise LabelError(f"fit: {name} must hold targets in [0, 1] for loss='bce', found values from "
                         f"{y.min()} to {y.max()}.")
    return y


def _warn_if_unscaled(X, name):
    """Raw 0-255 pixels make the first layer's outputs ~255x too large; say how to scale them."""
    if X.size == 0 or not (X.min() >= 0 and 1 < X.max() <= 255):
        return
    sample = X[:100]
    if np.array_equal(sample, np.round(sample)):  # whole numbers from 0 to 255: pixels
        warnings.warn(f"fit: {name} holds whole numbers from 0 to {X.max():g}, like raw image pixels; "
                      "unscaled inputs make training unstable. Scale them to [0, 1] first: "
                      f"{name} = {name} / 255, or nnlib.data.flatten_and_scale(images).",
                      UnscaledInputWarning, stacklevel=4)


def _check_batch_size(batch_size, n):
    _whole(batch_size, "fit: batch_size", minimum=1, example="batch_size=32")
    if batch_size > n:
        raise ConfigError(f"fit: batch_size={batch_size} is larger than the {n} training examples. "
                          f"Use batch_size <= {n}, e.g. batch_size={min(32, n)}.")


def _check_val(model, val):
    if val is None:
        return None
    if not (isinstance(val, (tuple, list)) and len(val) == 2):
        raise ConfigError("fit: val must be a pair (X_val, y_val) or None.")
    return _check_data(model, *val, names=("X_val", "y_val"))


def _build_optimizer(model, optimizer, lr, kwargs):
    if not isinstance(optimizer, Optimizer):
        if lr is None:
            raise ConfigError(f"fit: lr is required with optimizer={optimizer!r}; e.g. lr=0.1 for "
                              "'sgd' or lr=1e-3 for 'adam'.")
        return make_optimizer(optimizer, model.params, lr=lr, **(kwargs or {}))
    if kwargs:
        raise ConfigError("fit: optimizer_kwargs apply only when optimizer is a name such as "
                          "'momentum'; set them when building the optimizer instead.")
    if lr is not None and lr != optimizer.lr:
        raise ConfigError(f"fit: lr={lr!r} but the optimizer was built with lr={optimizer.lr!r}, and "
                          "fit does not change it. Leave lr out, or build the optimizer with it.")
    _check_optimizer_owns(model, optimizer)
    return optimizer


def _check_optimizer_owns(model, opt):
    """Every array the optimizer updates must be the model's own, or training changes nothing."""
    for name, p in opt.params.items():
        if model.params.get(name) is not p:
            raise ConfigError(
                f"fit: the optimizer's parameter {name!r} is not this model's array: it was built on "
                "another model's parameters (e.g. before MLP.load), or before model.params was "
                "reassigned, so training would leave this model unchanged. Build it from this model: "
                f"{type(opt).__name__}(model.params, lr=...).")


# --- divergence ----------------------------------------------------------------------------

def _constant_guess_loss(model, y):
    """The loss of predicting the same thing for every example: what "no better than guessing" costs."""
    if model.loss_name == "cross_entropy":
        return float(np.log(getattr(model, "sizes", (int(np.max(y)) + 1,))[-1]))
    if model.loss_name == "bce":
        return float(np.log(2.0))
    return float(np.mean(np.var(np.asarray(y, dtype=np.float64), axis=0)))  # mse: predict the mean


class _BlowUpWatch:
    """Flags a run whose loss has blown up while every number stays finite.

    lr = 1000 on MNIST gives losses of 400-500 and 10% accuracy, all finite. A
    run is called blown up when its smoothed loss is more than FACTOR times
    both its first loss and a constant guess's: single spikes are smoothed
    away, and a model that started badly (large first loss) gets room to improve.
    """

    FACTOR, DECAY = 10.0, 0.9

    def __init__(self, guess):
        self.guess, self.limit, self.smooth = guess, None, None

    def check(self, loss, *, where):
        if self.limit is None:
            self.limit, self.smooth = self.FACTOR * max(loss, self.guess), loss
        self.smooth = self.DECAY * self.smooth + (1 - self.DECAY) * loss
        if self.smooth > self.limit:
            _diverged(where, f"the loss rose to {loss:.4g} (smoothed {self.smooth:.4g}), more than "
                             f"{self.FACTOR:g}x both its start and a constant guess's {self.guess:.3g}; "
                             "the weights have blown up although every number is still finite")

    def check_epoch(self, loss, *, where):
        if self.limit is not None and loss > self.limit:
            _diverged(where, f"the training-set loss at the end of the epoch is {loss:.4g}, more than "
                             f"{self.FACTOR:g}x both the first batch's and a constant guess's "
                             f"{self.guess:.3g}")


def _lower_lr(lr):
    """A learning rate 10x lower, as text; never inf or nan whatever the optimizer holds."""
    try:
        lower = float(lr) / 10
    except (TypeError, ValueError):
        lower = math.nan
    return f"{lower:g}" if math.isfinite(lower) and lower > 0 else "0.01"


def _diverged(where, reason):
    epoch, step, steps, lr = where
    raise TrainingDiverged(
        f"Training diverged at epoch {epoch}, step {step} of {steps} (lr={lr:g}): {reason}. "
        f"Try a lower learning rate, e.g. lr={_lower_lr(lr)}, and check that inputs are scaled."
    ) from None  # the message already holds the NonFiniteError it may replace


class _ReadableStep:
    """model.loss + opt.step behind TrainStep's two calls, for what TrainStep does not plan."""

    def __init__(self, model, opt):
        self.model, self.opt, self._grads = model, opt, None

    def loss(self, X, y):
        loss, self._grads = self.model.loss(X, y)
        return loss

    def update(self):
        self.opt.step(self._grads)


def _train_step(stepper, Xb, yb, watch, *, where):
    """One step: loss, divergence checks, update (stepper: a TrainStep or a _ReadableStep).
    Returns the batch loss.

    fit has checked the data, so a NaN or inf met here was made by training.
    """
    try:
        # Overflow warnings would only repeat what TrainingDiverged says.
        with np.errstate(over="ignore", invalid="ignore"):
            loss = stepper.loss(Xb, yb)
    except NonFiniteError as err:
        _diverged(where, f"values became NaN or infinite ({err})")
    if not np.isfinite(loss):
        _diverged(where, f"the loss became {loss}")
    watch.check(loss, where=where)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by the next step's checks
        stepper.update()
    return loss


def _record_epoch(history, model, X, y, val, *, where):
    """Loss and accuracy on the training (and validation) set; an overflow here is divergence too."""
    sets = [("", X, y)] + ([("val_", *val)] if val is not None else [])
    for prefix, Xs, ys in sets:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                loss, acc = evaluate(model, Xs, ys)
        except NonFiniteError as err:
            _diverged(where, f"at the end of the epoch, evaluating the {prefix or 'training '}set "
                             f"overflowed ({err})")
        if not np.isfinite(loss):
            _diverged(where, f"at the end of the epoch the {prefix or 'training '}set loss is {loss}")
        history[f"{prefix}loss"].append(loss)
        history[f"{prefix}acc"].append(acc)


def _postfix(history, epoch):
    info = {"epoch": epoch, "loss": f"{history['loss'][-1]:.4f}"}
    if history["acc"][-1] is not None:
        info["acc"] = f"{history['acc'][-1]:.3f}"
    if history["val_acc"] and history["val_acc"][-1] is not None:
        info["val_acc"] = f"{history['val_acc'][-1]:.3f}"
    return info


def join_histories(*histories):
    """One history from consecutive ``fit`` runs on the same model, e.g. a few epochs at
    lr = 0.1 followed by one at lr = 0.01: the per-epoch and per-step lists are
    concatenated in order and "seconds" is summed.
    """
    if not histories:
        raise ConfigError("join_histories: pass at least one history returned by fit.")
    keys = ("loss", "acc", "val_loss", "val_acc", "batch_loss")
    for i, h in enumerate(histories):
        if not isinstance(h, dict) or any(k not in h for k in keys + ("seconds",)):
            raise ConfigError(f"join_histories: argument {i} is not a history returned by fit "
                              f"(a dict with {', '.join(keys)} and seconds).")
    joined = {k: [v for h in histories for v in h[k]] for k in keys}
    joined["seconds"] = float(sum(h["seconds"] for h in histories))
    return joined
