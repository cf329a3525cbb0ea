"""Rosenblatt's perceptron: a step-activated linear unit and its mistake-driven learning rule.

A perceptron with weights ``w`` (D,) and bias ``b`` computes the net input
``z = x @ w + b`` and fires (outputs 1) only when ``z`` is strictly positive:

    y_hat = step(z) = 1 if z > 0 else 0

Labels are 0 or 1. The learning rule looks at one example at a time and moves
the weights only when that example is misclassified:

    w <- w + lr * (y - y_hat) * x
    b <- b + lr * (y - y_hat)

The module also makes the small 2-D data sets the notebooks train on: the
truth tables of logic gates and a seeded, linearly separable point cloud.
Nothing runs at import time.
"""

import numbers

import numpy as np

from .errors import ConfigError, DTypeError, LabelError, NonFiniteError, ShapeError

GATES = {
    # Truth tables over the inputs (0,0), (0,1), (1,0), (1,1), in that order.
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}


def step(z):
    """Heaviside step with step(0) = 0: 1 where ``z > 0``, else 0. Same shape as ``z``, dtype int."""
    return (np.asarray(z) > 0).astype(np.int64)


def _as_float(a, name):
    """``a`` as a float64 array, or a DTypeError naming the argument (text, objects...)."""
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"perceptron: {name} must hold numbers, got values of type "
                         f"{np.asarray(a).dtype} ({exc}); convert it first, e.g. "
                         f"np.asarray({name}, dtype=float).") from None


def _check_xwb(X, w, b):
    X, w = _as_float(X, "X"), _as_float(w, "w")
    if w.ndim != 1:
        raise ShapeError(f"perceptron: w must be 1-D (D,), got shape {w.shape}.")
    if X.ndim not in (1, 2) or X.shape[-1] != w.shape[0]:
        raise ShapeError(
            f"perceptron: X must be (D,) or (N, D) with D = len(w) = {w.shape[0]}, got shape {X.shape}."
        )
    if np.ndim(b) != 0:
        raise ShapeError(f"perceptron: b must be a scalar, got shape {np.shape(b)}.")
    return X, w, float(_as_float(b, "b"))


def net_input(X, w, b):
    """Weighted sum plus bias, ``z = X @ w + b``. X: (N, D) or (D,); w: (D,); b: scalar -> (N,) or scalar."""
    X, w, b = _check_xwb(X, w, b)
    return X @ w + b


def perceptron_predict(X, w, b):
    """Class (0 or 1) for each row of X: ``step(X @ w + b)``. X: (N, D) or (D,) -> (N,) ints or one int."""
    return step(net_input(X, w, b))


def _check_labels(y, n):
    y = np.asarray(y)
    if y.shape != (n,):
        raise ShapeError(f"perceptron: y must have shape ({n},) to match X, got {y.shape}.")
    if not np.all((y == 0) | (y == 1)):
        raise LabelError(
            f"perceptron: labels must be 0 or 1, got values {np.unique(y)[:6].tolist()}. "
            "Map -1/+1 labels with (y + 1) // 2."
        )
    return y.astype(np.int64)


def perceptron_update(w, b, x, y, *, lr=1.0):
    """One step of Rosenblatt's rule on a single example; inputs are not modified.

    w: (D,) weights; b: scalar bias; x: (D,) one example; y: its label, 0 or 1.
    Returns (new_w (D,), new_b float). When the example is already classified
    correctly, ``y - y_hat = 0`` and the weights come back unchanged.
    """
    x, w, b = _check_xwb(x, w, b)
    if x.ndim != 1:
        raise ShapeError(f"perceptron_update: x must be one example of shape (D,), got {x.shape}.")
    if np.ndim(y) != 0:
        raise ShapeError(f"perceptron_update: y must be ONE label (0 or 1), got an array of shape "
                         f"{np.shape(y)}; pass y[i], not y[i:i+1] or the whole y.")
    if y not in (0, 1):
        raise LabelError(f"perceptron_update: y must be 0 or 1, got {y!r}.")
    error = int(y) - int(step(x @ w + b))  # +1: should have fired, -1: should not have, 0: correct
    return w + lr * error * x, b + lr * error


def train_perceptron(X, y, *, lr=1.0, epochs=100, seed=None, record_every=1, w0=None, b0=0.0):
    """Run Rosenblatt's rule for up to ``epochs`` passes over the data.

    X: (N, D) inputs; y: (N,) labels 0/1. Each epoch visits the examples in the
    given order, or, when ``seed`` is an int, in an order shuffled per epoch by
    ``np.random.default_rng(seed)``. Training stops after the first epoch
    without a mistake (the rule has converged); on data that no line separates
    that never happens and all ``epochs`` run.

    ``w0`` (D,) and ``b0`` set the starting point (default: zeros).
    A snapshot of the weights is stored at the start, after every
    ``record_every``-th update and at the end, to plot the boundary moving.

    Returns a dict:
        w (D,), b: the final weights and bias.
        n_updates: how many times the weights changed (= mistakes made).
        converged: True if the last epoch made no mistake.
        epochs_run: number of epochs run, including the final mistake-free one.
        mistakes_per_epoch: (epochs_run,) updates made during each epoch.
        errors_per_epoch: (epochs_run,) points misclassified by the weights at the end of each epoch.
        history: list of dicts {"update", "epoch", "w", "b"} (the snapshots).
    """
    X = _as_float(X, "X")
    if X.ndim != 2:
        raise ShapeError(f"train_perceptron: X must be 2-D (N, D), got shape {X.shape}.")
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        # NaN compares False with everything, so step() never fires on it and the rule
        # would stop with converged=True on rows it never really classified.
        raise NonFiniteError(f"train_perceptron: X holds NaN or infinite values in "
                             f"{int(bad.sum())} row(s), first {np.flatnonzero(bad)[:5].tolist()}; "
                             "fix or drop them, e.g. keep = np.isfinite(X).all(axis=1).")
    y = _check_labels(y, len(X))
    if (isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real)
            or not np.isfinite(lr) or lr <= 0):
        raise ConfigError(f"train_perceptron: lr must be positive (a finite number), got {lr!r}.")
    if int(epochs) != epochs or epochs < 1:
        raise ConfigError(f"train_perceptron: epochs must be a positive integer, got {epochs}.")
    if int(record_every) != record_every or record_every < 1:
        raise ConfigError(f"train_perceptron: record_every must be a positive integer, got {record_every}.")
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ShapeError(f"train_perceptron: w0 must have shape ({X.shape[1]},), got {w.shape}.")
    b = float(b0)
    rng = None if seed is None else np.random.default_rng(seed)

    history = [{"update": 0, "epoch": 0, "w": w.copy(), "b": b}]
    n_updates, mistakes, errors = 0, [], []
    for epoch in range(1, int(epochs) + 1):
        order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
        made = 0
        for i in order:
            if step(X[i] @ w + b) != y[i]:  # the rule only acts on mistakes
                w, b = perceptron_update(w, b, X[i], int(y[i]), lr=lr)
                made += 1
                n_updates += 1
                if n_updates % record_every == 0:
                    history.append({"update": n_updates, "epoch": epoch, "w": w.copy(), "b": b})
        mistakes.append(made)
        errors.append(int(np.sum(perceptron_predict(X, w, b) != y)))
        if made == 0:
            break
    if history[-1]["update"] != n_updates:
        history.append({"update": n_updates, "epoch": epoch, "w": w.copy(), "b": b})
    return {
        "w": w, "b": b, "n_updates": n_updates, "converged": mistakes[-1] == 0,
        "epochs_run": len(mistakes), "mistakes_per_epoch": np.array(mistakes),
        "errors_per_epoch": np.array(errors), "history": history,
    }


def logic_gate(name):
    """Truth table of a two-input gate ("and", "or", "nand", "nor", "xor").

    Returns X (4, 2) float64 with rows (0,0), (0,1), (1,0), (1,1) and y (4,) int64.
    """
    key = str(name).lower()
    if key not in GATES:
        raise ConfigError(f"logic_gate: unknown gate {name!r}; choose one of {sorted(GATES)}.")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(GATES[key], dtype=np.int64)


def separable_cloud(n=100, *, seed=0, margin=0.5, scale=2.0, center=(0.0, 0.0)):
    """Seeded 2-D points that a known line separates with a gap of at least ``margin``.

    A random line ``x @ w_true + b_true = 0`` (``||w_true|| = 1``, so the signed
    distance of a point to it is ``x @ w_true + b_true``) labels points drawn from
    N(center, scale^2 I); the line passes within ``scale / 2`` of ``center``.
    Points closer than ``margin`` to the line are dropped and redrawn, which
    guarantees the perceptron converges.

    Returns X (n, 2) float64, y (n,) int64 labels 0/1, w_true (2,), b_true float.
    """
    if int(n) != n or n < 2:
        raise ConfigError(f"separable_cloud: n must be an integer >= 2, got {n}.")
    if margin < 0 or scale <= 0:
        raise ConfigError(f"separable_cloud: need margin >= 0 and scale > 0, got {margin}, {scale}.")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    w_true = np.array([np.cos(angle), np.sin(angle)])
    center = np.asarray(center, dtype=np.float64)
    if center.shape != (2,):
        raise ShapeError(f"separable_cloud: center must be a pair (x1, x2), got shape {center.shape}.")
    b_true = float(rng.uniform(-0.5, 0.5) * scale - center @ w_true)
    kept = np.empty((0, 2))
    while len(kept) < n:  # rejection sampling: keep points outside the margin band
        draw = center + rng.normal(0.0, scale, size=(2 * int(n), 2))
        kept = np.vstack([kept, draw[np.abs(draw @ w_true + b_true) >= margin]])
    X = kept[: int(n)]
    y = step(X @ w_true + b_true)
    if y.min() == y.max():
        raise ConfigError("separable_cloud: all points fell on one side; try another seed or a smaller scale.")
    return X, y, w_true, b_true


def mistake_bound(X, y, w, b):
    """Novikoff's bound on the number of updates from zero weights: ``(R / gamma)^2``.

    Treat the bias as a weight on a constant input 1, so each example is
    ``x~ = (x, 1)``. If the unit vector ``u = (w, b) / ||(w, b)||`` separates the
    data with margin ``gamma = min_i s_i * (u @ x~_i) > 0`` (``s_i = +1`` for
    label 1, ``-1`` for label 0) and ``R = max_i ||x~_i||``, the rule makes at
    most ``(R / gamma)^2`` updates, whatever the learning rate and order.

    X: (N, D); y: (N,) 0/1; w: (D,); b: scalar. Returns a float; raises
    ConfigError when (w, b) does not separate the data.
    """
    X = np.asarray(X, dtype=np.float64)
    y = _check_labels(y, len(X))
    Xa = np.column_stack([X, np.ones(len(X))])
    u = np.append(np.asarray(w, dtype=np.float64), float(b))
    u = u / np.linalg.norm(u)
    gamma = float(np.min((2 * y - 1) * (Xa @ u)))
    if gamma <= 0:
        raise ConfigError("mistake_bound: (w, b) does not separate the data, so no bound exists.")
    R = float(np.max(np.linalg.norm(Xa, axis=1)))
    return (R / gamma) ** 2
