"""XOR: the data set, a common tutorial training recipe, and a batched experiment runner.

A common tutorial recipe trains one 2-2-1 sigmoid network on XOR with a dozen lines of
plain NumPy. This module reimplements that recipe (called "the article" in the names
below, e.g. ``article_init`` and ``init="article"``, for the tutorial it comes from):

* no biases (optionally added here, to compare),
* error ``y - out`` with ``sigmoid_derivative`` applied to the OUTPUTS,
  ``s * (1 - s)`` (the gradient of the summed squared error ``0.5 * sum((y - out)^2)``),
* full batch (all four points at once), ``W += lr * (input^T @ delta)``, lr 0.1,
* initial weights from ``np.random.uniform(size=...)``: uniform on [0, 1), drawn
  with NumPy's legacy global generator, hidden weights first, then output weights.

``train_xor_single`` is that rule written as a plain loop for one network;
``run_xor_experiment`` trains S networks (one per seed) at once, with every
weight stacked along a leading seed axis, e.g. ``W1`` shaped (S, 2, H), so
10,000 epochs of 100 networks cost about as many NumPy calls as one network.

Nothing runs at import time.
"""

import numbers

import numpy as np

from .errors import ConfigError, ShapeError

INITS = ("article", "symmetric")


def xor_data(*, dtype=np.float64):
    """The four XOR points. Returns X (4, 2) and y (4,) with y = x1 XOR x2."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([0, 1, 1, 0], dtype=dtype)
    return X, y


def _sigmoid(x):
    # The article's formula 1 / (1 + exp(-x)); exp overflows to inf for x < -709,
    # which correctly gives 0, so the warning is silenced rather than avoided.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _check_seed(seed, where):
    # NumPy's legacy RandomState takes whole numbers in [0, 2**32); a float such as 1.7
    # would be truncated to another seed by int(), so it is refused, not converted.
    if (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)
            or not 0 <= seed < 2**32):
        raise ConfigError(f"{where}: each seed must be a whole number from 0 to 2**32 - 1 (NumPy's "
                          f"legacy generator takes no other), got {seed!r}; e.g. seeds=range(10).")
    return int(seed)


def _check_seeds(seeds):
    if isinstance(seeds, (str, bytes)) or (np.isscalar(seeds) and not isinstance(seeds, numbers.Number)):
        raise ConfigError(f"seeds must be an integer or a non-empty collection of integers, got "
                          f"{seeds!r}; e.g. seeds=range(10).")
    if np.ndim(seeds) > 1:
        raise ConfigError(f"seeds must be 1-D, got shape {np.shape(seeds)}.")
    items = [seeds] if np.ndim(seeds) == 0 else list(seeds)
    if not items:
        raise ConfigError("seeds must be a non-empty 1-D collection of integers, got none; "
                          "e.g. seeds=range(10).")
    return np.array([_check_seed(s, "seeds") for s in items], dtype=np.int64)


def _check_config(*, hidden, lr, epochs, init):
    if isinstance(hidden, (bool, np.bool_)) or not isinstance(hidden, (int, np.integer)) or hidden < 1:
        raise ConfigError(f"hidden must be a positive integer, got {hidden!r}.")
    if (isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real)
            or not np.isfinite(lr) or not lr > 0):
        raise ConfigError(f"lr must be positive (a finite number), got {lr!r}; e.g. lr=0.1.")
    if int(epochs) != epochs or epochs < 0:
        raise ConfigError(f"epochs must be a non-negative integer, got {epochs!r}.")
    if init not in INITS:
        raise ConfigError(f"init must be one of {INITS}, got {init!r}.")


def article_init(seed, *, hidden=2, bias=False, init="article"):
    """Initial weights of one 2-H-1 network, drawn the way the tutorial recipe draws them.

    The article calls ``np.random.uniform(size=(2, 2))`` then ``np.random.uniform(size=(2, 1))``:
    uniform on [0, 1) from NumPy's legacy generator. Here that generator is
    ``np.random.RandomState(seed)``, which gives the same numbers as
    ``np.random.seed(seed)`` followed by the article's calls, without touching global state.
    Biases (the article has none) are drawn AFTER the weights, the same way, so a seed
    gives identical weights with and without biases.
    init="symmetric" maps every draw u to 2u - 1, i.e. uniform on [-1, 1): mean 0, which is
    what the article's comment says ("randomly with mean 0") but its code does not do.

    Returns dict W1 (2, H), W2 (H,), b1 (H,) or None, b2 scalar array () or None (float64).
    """
    _check_config(hidden=hidden, lr=1.0, epochs=0, init=init)
    rs = np.random.RandomState(_check_seed(seed, "article_init"))
    scale = (lambda u: u) if init == "article" else (lambda u: 2.0 * u - 1.0)
    W1 = scale(rs.uniform(size=(2, hidden)))
    W2 = scale(rs.uniform(size=(hidden, 1)))[:, 0]
    b1 = b2 = None
    if bias:
        b1 = scale(rs.uniform(size=(1, hidden)))[0]
        b2 = scale(rs.uniform(size=(1, 1)))[0, 0]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def xor_forward(X, params):
    """Forward pass of one or many 2-H-1 sigmoid networks.

    X: (N, 2). params: W1 (2, H) or (S, 2, H); W2 (H,) or (S, H); b1 (H,)/(S, H) or None;
    b2 ()/(S,) or None. Returns (hidden, output): (N, H), (N,) for one network,
    (S, N, H), (S, N) for S networks.
    """
    missing = [k for k in ("W1", "W2") if not hasattr(params, "get") or params.get(k) is None]
    if missing:
        raise ConfigError(f"xor_forward: params lacks {' and '.join(missing)}; pass a dict with "
                          "W1 and W2 (b1, b2 optional), e.g. the one article_init returns.")
    X = np.asarray(X, dtype=np.float64)
    W1, W2 = np.asarray(params["W1"]), np.asarray(params["W2"])
    if X.ndim != 2 or X.shape[1] != 2:
        raise ShapeError(f"xor_forward: X must have shape (N, 2), got {X.shape}.")
    if W1.shape[-2] != 2 or W2.shape != W1.shape[:-2] + W1.shape[-1:]:
        raise ShapeError(f"xor_forward: W1 {W1.shape} and W2 {W2.shape} do not form 2-H-1 networks; "
                         "expected W1 (2, H) with W2 (H,), or W1 (S, 2, H) with W2 (S, H).")
    z1 = X @ W1                                    # (N, H) or (S, N, H)
    if params.get("b1") is not None:
        z1 = z1 + np.asarray(params["b1"])[..., None, :]
    h = _sigmoid(z1)
    z2 = (h @ W2[..., :, None])[..., 0]            # (N,) or (S, N)
    if params.get("b2") is not None:
        z2 = z2 + np.asarray(params["b2"])[..., None]
    return h, _sigmoid(z2)


def xor_success(outputs, y=None):
    """True where all four outputs are on the right side of 0.5 (exactly 0.5 counts as wrong).

    outputs: (4,) or (S, 4), in the order of ``xor_data``. Returns bool or (S,) bool array.
    """
    outputs = np.asarray(outputs)
    y = xor_data()[1] if y is None else np.asarray(y)
    if outputs.shape[-1] != y.shape[0]:
        raise ShapeError(f"xor_success: outputs end in {outputs.shape[-1]} values, labels have {y.shape[0]}.")
    right = np.where(y > 0.5, outputs > 0.5, outputs < 0.5)
    return right.all(axis=-1)


def train_xor_single(seed, *, hidden=2, bias=False, lr=0.1, epochs=10_000, init="article"):
    """The tutorial recipe's training loop for ONE network, written plainly (the reference).

    Each epoch: forward on all four points, error = y - out, delta_out = error * out(1-out),
    delta_hidden = (delta_out @ W2^T) * h(1-h) (with W2 before its update), then
    W2 += lr h^T delta_out, W1 += lr X^T delta_hidden (and biases += lr * column sums).
    Returns dict: output (4,) of the trained network, loss (epochs,) mean squared error
    at each epoch's forward pass, params (as ``article_init``).
    """
    _check_config(hidden=hidden, lr=lr, epochs=epochs, init=init)
    X, y = xor_data()
    Y = y[:, None]
    p = article_init(seed, hidden=hidden, bias=bias, init=init)
    W1, W2 = p["W1"].copy(), p["W2"][:, None].copy()
    b1 = None if p["b1"] is None else p["b1"][None, :].copy()
    b2 = None if p["b2"] is None else np.array([[p["b2"]]])
    losses = np.empty(int(epochs))
    for epoch in range(int(epochs)):
        h = _sigmoid(X @ W1 + (0.0 if b1 is None else b1))
        out = _sigmoid(h @ W2 + (0.0 if b2 is None else b2))
        error = Y - out
        losses[epoch] = np.mean(error ** 2)
        d_out = error * out * (1.0 - out)
        d_hidden = (d_out @ W2.T) * h * (1.0 - h)
        W2 += lr * (h.T @ d_out)
        W1 += lr * (X.T @ d_hidden)
        if bias:
            b2 += lr * d_out.sum(axis=0, keepdims=True)
            b1 += lr * d_hidden.sum(axis=0, keepdims=True)
    params = {"W1": W1, "W2": W2[:, 0], "b1": None if b1 is None else b1[0],
              "b2": None if b2 is None else b2[0, 0]}
    return {"output": xor_forward(X, params)[1], "loss": losses, "params": params}


def _train_stacked(W1, b1, W2, b2, *, unit_mask, bias_mask, lr, epochs, record_every):
    """The article's update rule on S networks stored seed-axis-LAST, updated in place.

    W1 (2, H, S), b1 (H, S), W2 (H, S), b2 (S,). Keeping the seed axis last and contiguous
    turns every step into a broadcast elementwise op on a (4, H, S) block, which is much
    cheaper than S tiny matrix products. unit_mask (H, S) is 0 for padding units (their
    output weight stays 0, so they contribute nothing); bias_mask (S,) is 0 for networks
    without biases (their biases stay exactly 0, and x + 0.0 == x, so they compute what a
    bias-free network computes). Returns the loss array (S, number of recorded epochs).
    """
    X, y = xor_data()
    x0, x1 = X[:, 0, None, None], X[:, 1, None, None]     # (4, 1, 1) each
    Y = y[:, None]                                         # (4, 1) against outputs (4, S)
    n_rec = -(-int(epochs) // int(record_every))
    losses = np.empty((W1.shape[-1], n_rec))
    for epoch in range(int(epochs)):
        h = _sigmoid(x0 * W1[0] + x1 * W1[1] + b1)          # (4, H, S)
        out = _sigmoid((h * W2).sum(axis=1) + b2)          # (4, S)
        error = Y - out
        if epoch % record_every == 0:
            losses[:, epoch // record_every] = np.mean(error ** 2, axis=0)
        d_out = error * out * (1.0 - out)                  # (4, S)
        d_hidden = d_out[:, None, :] * W2 * h * (1.0 - h)  # (4, H, S), uses W2 before its update
        W2 += lr * unit_mask * (h * d_out[:, None, :]).sum(axis=0)
        W1[0] += lr * (x0 * d_hidden).sum(axis=0)
        W1[1] += lr * (x1 * d_hidden).sum(axis=0)
        b2 += lr * bias_mask * d_out.sum(axis=0)
        b1 += lr * bias_mask * d_hidden.sum(axis=0)
    return losses


def run_xor_grid(*, seeds, hidden=(2, 3, 4), bias=(False, True), lr=0.1, epochs=10_000,
                 record_every=1, init="article"):
    """Train every (bias, H) configuration x every seed in ONE stacked batch.

    Narrower networks are padded to max(hidden) with units whose output weight is fixed
    at 0 (they change nothing), so all len(hidden) * len(bias) * len(seeds) networks share
    each NumPy call. Each network's numbers are those of ``train_xor_single`` (up to
    floating-point rounding).

    Returns dict {(bias, H): result}, each result as described in ``run_xor_experiment``.
    """
    hidden, bias = list(np.atleast_1d(hidden)), [bool(b) for b in np.atleast_1d(bias)]
    for h in hidden:  # checked before any int(): 2.5 must be refused, not truncated to 2
        _check_config(hidden=h, lr=lr, epochs=epochs, init=init)
    hidden = [int(h) for h in hidden]
    seeds = _check_seeds(seeds)
    if int(record_every) != record_every or record_every < 1:
        raise ConfigError(f"record_every must be a positive integer, got {record_every!r}.")
    configs = [(b, h) for b in bias for h in hidden]
    Hmax, S = max(hidden), len(configs) * seeds.size
    W1, b1 = np.zeros((2, Hmax, S)), np.zeros((Hmax, S))
    W2, b2 = np.zeros((Hmax, S)), np.zeros(S)
    unit_mask, bias_mask = np.zeros((Hmax, S)), np.zeros(S)
    for c, (b, h) in enumerate(configs):
        for j, s in enumerate(seeds):
            k = c * seeds.size + j
            p = article_init(s, hidden=h, bias=b, init=init)
            W1[:, :h, k], W2[:h, k], unit_mask[:h, k] = p["W1"], p["W2"], 1.0
            if b:
                b1[:h, k], b2[k], bias_mask[k] = p["b1"], p["b2"], 1.0
    losses = _train_stacked(W1, b1, W2, b2, unit_mask=unit_mask, bias_mask=bias_mask,
                            lr=lr, epochs=epochs, record_every=record_every)
    X, y = xor_data()
    results = {}
    for c, (b, h) in enumerate(configs):
        cols = slice(c * seeds.size, (c + 1) * seeds.size)
        params = {"W1": W1[:, :h, cols].transpose(2, 0, 1).copy(), "W2": W2[:h, cols].T.copy(),
                  "b1": b1[:h, cols].T.copy() if b else None, "b2": b2[cols].copy() if b else None}
        outputs = xor_forward(X, params)[1]
        results[(b, h)] = {"seeds": seeds.copy(), "outputs": outputs, "success": xor_success(outputs, y),
                           "loss": losses[cols], "loss_epochs": np.arange(0, int(epochs), int(record_every)),
                           "params": params}
    return results


def run_xor_experiment(*, seeds, hidden=2, bias=False, lr=0.1, epochs=10_000, record_every=1,
                       init="article"):
    """Train one 2-H-1 sigmoid network per seed, all at once, with the article's rule.

    Same arithmetic as ``train_xor_single``, but the S networks (one per seed) are stacked
    into arrays and updated together; the networks never interact, batching only removes
    Python and NumPy call overhead.

    Args:
        seeds: iterable of ints (or one int), one network each, initialised by ``article_init``.
        hidden: H, hidden width. bias: add trainable biases. lr, epochs: as in the article.
        record_every: keep the mean squared error of every k-th epoch (1 = every epoch).
        init: "article" (uniform [0, 1)) or "symmetric" (uniform [-1, 1)).
    Returns dict:
        seeds (S,); outputs (S, 4) of the trained networks; success (S,) bool (all four
        outputs on the right side of 0.5); loss (S, ceil(epochs / record_every)), the mean
        squared error at each recorded epoch's forward pass (before that epoch's update);
        loss_epochs (epoch index of each loss column); params: W1 (S, 2, H), W2 (S, H),
        b1 (S, H) or None, b2 (S,) or None.
    """
    return run_xor_grid(seeds=seeds, hidden=(hidden,), bias=(bias,), lr=lr, epochs=epochs,
                        record_every=record_every, init=init)[(bool(bias), int(hidden))]
