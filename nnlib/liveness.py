"""A liveness model of memory: which arrays exist at the same time during one training step.

Adding up "parameters + gradients + optimizer state + activations" ignores *when*
each array is alive: the saved activations are gone before the optimizer runs,
gradients appear one layer at a time during the backward pass, and every
operation briefly needs temporaries. This module replays one step of an MLP,
operation by operation, as a list of allocations and frees, and reports the
bytes alive at every moment. The peak of a step is the largest of those sums.

Two implementations are modelled, because they keep different things alive:

* ``impl="nnlib"``: ``loss, grads = model.loss(X, y); opt.step(grads)`` with
  ``nnlib.MLP`` (cross-entropy) and ``nnlib.optim`` (SGD, Momentum, Adam). nnlib
  keeps every layer's pre-activation *and* output in its caches until the
  backward pass returns, and NumPy creates a temporary for every ``a * b``
  (NumPy reuses a temporary in place once it is at least 256 KiB).
* ``impl="torch"``: eager PyTorch on the CPU, ``nn.Sequential`` of ``Linear``
  and ``ReLU``/``Tanh``/``Sigmoid`` (``torch_mlp``), ``F.cross_entropy`` and
  ``torch.optim`` (SGD, SGD with momentum, Adam), gradients reset with
  ``zero_grad()`` (set to None) before the step. Autograd saves only what the
  backward formulas need (each activation's output, the log-softmax) and
  releases each saved tensor as soon as its backward node has run.

Both are modelled in their steady state (from the second step on: momentum
buffers and Adam's moments already exist). Labels are int64.

Categories (``CATEGORIES``): "parameters", "gradients", "optimizer" (momentum
buffer; Adam's m and v, plus torch's 4-byte step count per tensor), "input"
(the batch X and labels y), "activations" (layer outputs, kept or not) and
"temporaries" (everything else: upstream gradients, masks, the optimizer's
scratch arrays, the loss's intermediate arrays).

Phases of a training step: "forward" (forward pass and loss), "backward" and
"optimizer". Inference (``inference_memory``) has one phase, "forward".

Bytes are counted exactly as array data (``shape product x itemsize``); the
few bytes of 0-d scalars and Python object headers are not modelled.
"""

import dataclasses

from .errors import ConfigError
from .memory import _check_count, _check_sizes, itemsize, param_count

CATEGORIES = ("parameters", "gradients", "optimizer", "input", "activations", "temporaries")
IMPLS = ("nnlib", "torch")
OPTIMIZERS = ("sgd", "momentum", "adam")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
LABEL_BYTES = 8  # int64 class labels
ELIDE_BYTES = 256 * 1024  # NumPy reuses a temporary operand in place from this size on


@dataclasses.dataclass(frozen=True)
class PhasePeak:
    """The busiest moment of one phase.

    peak: bytes alive then; at: the operation at which it happens (e.g.
    "backward layer 1: dW"); breakdown: {category: bytes} adding up to peak.
    """

    phase: str
    peak: int
    at: str
    breakdown: dict


@dataclasses.dataclass(frozen=True)
class MemoryReport:
    """Result of ``step_memory`` or ``inference_memory``.

    Fields:
        impl, sizes, batch, optimizer (None for inference), activation, dtype:
            what was modelled.
        phases: {phase: PhasePeak}, in order ("forward", "backward",
            "optimizer"; only "forward" for inference).
        peak: the largest bytes alive at any moment; peak_phase: its phase.
        saved: bytes kept for the backward pass at the end of the forward pass
            (input and saved activations; 0 for inference).
        persistent: {"parameters", "gradients", "optimizer"} bytes when all exist.
        timeline: list of (phase, operation, bytes alive after it), one per
            allocation or free, starting with the arrays alive before the step.
    """

    impl: str
    sizes: tuple
    batch: int
    optimizer: object
    activation: str
    dtype: str
    phases: dict
    peak: int
    peak_phase: str
    saved: int
    persistent: dict
    timeline: list

    def breakdown(self):
        """{category: bytes} at the peak of the step."""
        return dict(self.phases[self.peak_phase].breakdown)


class _Tape:
    """Allocations and frees in program order; tracks the busiest moment of every phase."""

    def __init__(self):
        self.live, self.by_cat = {}, dict.fromkeys(CATEGORIES, 0)
        self.total, self.phase, self.next_key = 0, "before", 0
        self.timeline, self.peaks = [], {}

    def start(self, phase):
        self.phase = phase
        self._record(f"{phase} starts")

    def alloc(self, label, nbytes, category):
        key = self.next_key
        self.next_key += 1
        self.live[key] = (int(nbytes), category)
        self.total += int(nbytes)
        self.by_cat[category] += int(nbytes)
        self._record(label)
        return key

    def free(self, *keys, label="free"):
        for key in keys:
            nbytes, category = self.live.pop(key)
            self.total -= nbytes
            self.by_cat[category] -= nbytes
        self._record(label)

    def _record(self, label):
        self.timeline.append((self.phase, label, self.total))
        best = self.peaks.get(self.phase)
        if self.phase != "before" and (best is None or self.total > best.peak):
            self.peaks[self.phase] = PhasePeak(self.phase, self.total, label, dict(self.by_cat))


def _elides(nbytes):
    return nbytes >= ELIDE_BYTES


def _binary(t, label, nbytes, temp=None):
    """``out = a op b`` where ``temp`` (if any) is a temporary operand NumPy may reuse."""
    if temp is not None and _elides(nbytes):
        return temp
    out = t.alloc(label, nbytes, "temporaries")
    if temp is not None:
        t.free(temp, label=f"{label}: operand freed")
    return out


def _check(sizes, batch, activation, dtype, impl):
    sizes = _check_sizes(sizes)
    batch = _check_count(batch, "batch", minimum=1)
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    if impl not in IMPLS:
        raise ConfigError(f"impl must be one of {IMPLS}, got {impl!r}.")
    return sizes, batch, itemsize(dtype)


def _params(t, sizes, e):
    keys = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        keys.append((f"W{i}", d_in * d_out * e))
        keys.append((f"b{i}", d_out * e))
    for name, nbytes in keys:
        t.alloc(f"parameter {name}", nbytes, "parameters")
    return keys


def _optimizer_state(t, params, optimizer, impl):
    per_tensor = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer]
    for name, nbytes in params:
        for _ in range(per_tensor):
            t.alloc(f"{optimizer} state of {name}", nbytes, "optimizer")
        if optimizer == "adam" and impl == "torch":
            t.alloc(f"adam step count of {name}", 4, "optimizer")  # float32 scalar tensor


# --- nnlib ------------------------------------------------------------------------------

def _nnlib_act_forward(t, i, z, n_bytes, activation):
    """Returns (output key, whether z stays alive in the cache)."""
    if activation == "relu":
        return t.alloc(f"layer {i}: relu output", n_bytes, "activations"), True
    if activation == "tanh":
        return t.alloc(f"layer {i}: tanh output", n_bytes, "activations"), False
    # sigmoid: exp(minimum(x, 0)) / (1 + exp(-abs(x)))
    a = t.alloc(f"layer {i}: sigmoid minimum", n_bytes, "temporaries")
    b = t.alloc(f"layer {i}: sigmoid exp", n_bytes, "temporaries")
    t.free(a)
    c = t.alloc(f"layer {i}: sigmoid abs", n_bytes, "temporaries")
    d = _binary(t, f"layer {i}: sigmoid negate", n_bytes, temp=c)
    f = t.alloc(f"layer {i}: sigmoid exp", n_bytes, "temporaries")
    t.free(d)
    g = _binary(t, f"layer {i}: sigmoid 1 + e", n_bytes, temp=f)
    if _elides(n_bytes):
        out = b
    else:
        out = t.alloc(f"layer {i}: sigmoid output", n_bytes, "activations")
        t.free(b)
    t.free(g, label=f"layer {i}: sigmoid temporaries freed")
    if out == b:  # the reused buffer is now the layer's output
        nbytes, _ = t.live[out]
        t.live[out] = (nbytes, "activations")
        t.by_cat["temporaries"] -= nbytes
        t.by_cat["activations"] += nbytes
    return out, False


def _nnlib_forward(t, sizes, B, e, activation, *, training):
    """MLP.forward: returns (list of keys held by the caches, logits key)."""
    x_key, kept = None, []
    n_layers = len(sizes) - 1
    for i in range(1, n_layers + 1):
        n_bytes = B * sizes[i] * e
        z = t.alloc(f"layer {i}: x @ W + b", n_bytes, "activations")
        if i == n_layers:
            kept.append(z)
            logits = z
            break
        h, keep_z = _nnlib_act_forward(t, i, z, n_bytes, activation)
        if keep_z:
            kept.append(z)
        else:
            t.free(z, label=f"layer {i}: pre-activation freed")
        kept.append(h)
        x_key = h
    del x_key
    C = sizes[-1]
    fin = t.alloc("isfinite(output)", B * C, "temporaries")
    t.free(fin)
    return kept, logits


def _nnlib_loss(t, B, C, e):
    """softmax_cross_entropy: returns the key of dlogits."""
    tmp = t.alloc("loss: isfinite(logits)", B * C, "temporaries")
    t.free(tmp)
    rows = t.alloc("loss: arange(B)", B * 8, "temporaries")
    am = t.alloc("loss: argmax", B * 8, "temporaries")
    mx = t.alloc("loss: row maxima", B * e, "temporaries")
    t.free(am)
    shifted = t.alloc("loss: shifted logits", B * C * e, "temporaries")
    t.free(mx)
    ex = t.alloc("loss: exp(shifted)", B * C * e, "temporaries")
    s = t.alloc("loss: row sums", B * e, "temporaries")
    t.free(ex)
    lg = t.alloc("loss: log(row sums)", B * e, "temporaries")
    t.free(s)
    logp = t.alloc("loss: log-probabilities", B * C * e, "temporaries")
    t.free(lg)
    pick = t.alloc("loss: logp[rows, y]", B * e, "temporaries")
    t.free(pick)
    dlogits = t.alloc("loss: dlogits = exp(logp)", B * C * e, "temporaries")
    pick = t.alloc("loss: dlogits[rows, y] -= 1", B * e, "temporaries")
    t.free(pick)
    t.free(shifted, logp, rows, label="loss returns")
    return dlogits


def _nnlib_act_backward(t, i, n_bytes, e, activation):
    """Returns the key of dL/dz for hidden layer i (dout of the activation is freed by the caller)."""
    if activation == "relu":
        mask = t.alloc(f"backward layer {i}: relu mask", n_bytes // e, "temporaries")
        out = t.alloc(f"backward layer {i}: dout * mask", n_bytes, "temporaries")
        t.free(mask)
        return out
    if activation == "sigmoid":  # dout * s * (1 - s)
        t1 = t.alloc(f"backward layer {i}: dout * s", n_bytes, "temporaries")
        t2 = t.alloc(f"backward layer {i}: 1 - s", n_bytes, "temporaries")
        out = t1 if _elides(n_bytes) else t.alloc(f"backward layer {i}: product", n_bytes,
                                                  "temporaries")
        if out != t1:
            t.free(t1)
        t.free(t2)
        return out
    # tanh: dout * (1 - t * t)
    t1 = t.alloc(f"backward layer {i}: t * t", n_bytes, "temporaries")
    t2 = t.alloc(f"backward layer {i}: 1 - t * t", n_bytes, "temporaries")
    t.free(t1)
    return _binary(t, f"backward layer {i}: dout * (1 - t * t)", n_bytes, temp=t2)


def _nnlib_backward(t, sizes, B, e, activation, dlogits):
    n_layers = len(sizes) - 1
    dout = dlogits
    for i in range(n_layers, 0, -1):
        n_bytes = B * sizes[i] * e
        if i < n_layers:
            d = _nnlib_act_backward(t, i, n_bytes, e, activation)
            t.free(dout, label=f"backward layer {i}: upstream gradient freed")
        else:
            d = dout  # identity output: dlogits itself (still held by MLP.loss)
        dx = None
        if i > 1:
            dx = t.alloc(f"backward layer {i}: dx = dout @ W.T", B * sizes[i - 1] * e, "temporaries")
        t.alloc(f"backward layer {i}: dW", sizes[i - 1] * sizes[i] * e, "gradients")
        t.alloc(f"backward layer {i}: db", sizes[i] * e, "gradients")
        if d != dlogits:
            t.free(d, label=f"backward layer {i}: dout freed")
        dout = dx


def _nnlib_optimizer(t, params, optimizer):
    for name, s in params:
        if optimizer == "sgd":
            tmp = t.alloc(f"sgd {name}: lr * g", s, "temporaries")
            t.free(tmp)
        elif optimizer == "momentum":
            tmp = t.alloc(f"momentum {name}: lr * v", s, "temporaries")
            t.free(tmp)
        else:
            tmp = t.alloc(f"adam {name}: (1 - b1) * g", s, "temporaries")
            t.free(tmp)
            t1 = t.alloc(f"adam {name}: (1 - b2) * g", s, "temporaries")
            t2 = _binary(t, f"adam {name}: * g", s, temp=t1)
            t.free(t2)
            t3 = t.alloc(f"adam {name}: v / (1 - b2^t)", s, "temporaries")
            denom = t.alloc(f"adam {name}: sqrt", s, "temporaries")
            t.free(t3)
            t5 = t.alloc(f"adam {name}: step * m", s, "temporaries")
            t6 = _binary(t, f"adam {name}: / denom", s, temp=t5)
            t.free(t6)
            t.free(denom, label=f"adam {name}: done")


# --- torch ------------------------------------------------------------------------------

def _torch_forward(t, sizes, B, e, *, training):
    """nn.Sequential forward (+ cross_entropy when training). Returns (saved keys, loss keys)."""
    n_layers = len(sizes) - 1
    prev, saved = None, []
    for i in range(1, n_layers + 1):
        n_bytes = B * sizes[i] * e
        z = t.alloc(f"layer {i}: addmm", n_bytes, "activations")
        if prev is not None and not training:
            t.free(prev, label=f"layer {i}: input freed")
        if i == n_layers:
            prev = z
            break
        h = t.alloc(f"layer {i}: activation output", n_bytes, "activations")
        t.free(z, label=f"layer {i}: pre-activation freed")
        if training:
            saved.append(h)
        prev = h
    if not training:
        return saved, [prev]
    C = sizes[-1]
    logp = t.alloc("loss: log_softmax", B * C * e, "activations")
    loss = t.alloc("loss: nll_loss output", e, "temporaries")
    total_weight = t.alloc("loss: nll_loss total_weight", e, "activations")
    t.free(prev, label="logits freed")
    return saved + [logp, total_weight], [loss]


def _torch_backward(t, sizes, B, e, saved, loss_keys):
    n_layers = len(sizes) - 1
    C = sizes[-1]
    hidden, (logp, total_weight) = saved[:-2], saved[-2:]
    seed = t.alloc("backward: ones_like(loss)", e, "temporaries")
    g_nll = t.alloc("backward: nll_loss_backward", B * C * e, "temporaries")
    t.free(seed)
    d = t.alloc("backward: log_softmax_backward", B * C * e, "temporaries")
    t.free(g_nll, logp, label="backward: log_softmax released")
    for i in range(n_layers, 0, -1):
        if i < n_layers:
            d_new = t.alloc(f"backward layer {i}: activation backward", B * sizes[i] * e,
                            "temporaries")
            t.free(d, hidden[i - 1], label=f"backward layer {i}: saved output released")
            d = d_new
        dx = None
        if i > 1:
            dx = t.alloc(f"backward layer {i}: dx = dout @ W", B * sizes[i - 1] * e, "temporaries")
        t.alloc(f"backward layer {i}: dW", sizes[i - 1] * sizes[i] * e, "gradients")
        t.alloc(f"backward layer {i}: db", sizes[i] * e, "gradients")
        t.free(d, label=f"backward layer {i}: dout freed")
        d = dx
    t.free(total_weight, *loss_keys, label="backward: loss freed")


def _torch_optimizer(t, params, optimizer):
    if optimizer != "adam":
        return  # param.add_(grad or buf) and buf.mul_().add_() work in place
    for name, s in params:
        root = t.alloc(f"adam {name}: exp_avg_sq.sqrt()", s, "temporaries")
        denom = t.alloc(f"adam {name}: / sqrt(bias correction)", s, "temporaries")
        t.free(root)
        t.free(denom, label=f"adam {name}: done")


# --- public API -------------------------------------------------------------------------

def _report(t, *, impl, sizes, batch, optimizer, activation, dtype, saved, persistent):
    phases = {p: t.peaks[p] for p in ("forward", "backward", "optimizer") if p in t.peaks}
    peak_phase = max(phases, key=lambda p: phases[p].peak)
    return MemoryReport(impl=impl, sizes=sizes, batch=batch, optimizer=optimizer,
                        activation=activation, dtype=str(dtype), phases=phases,
                        peak=phases[peak_phase].peak, peak_phase=peak_phase, saved=saved,
                        persistent=persistent, timeline=t.timeline)


def step_memory(sizes, *, batch, optimizer="sgd", impl="nnlib", activation="relu",
                dtype="float32"):
    """Bytes alive through one training step (forward + loss, backward, optimizer).

    Args:
        sizes: layer widths, input and output included, e.g. (784, 128, 64, 10).
        batch: examples per step (B).
        optimizer: "sgd", "momentum" or "adam".
        impl: "nnlib" (NumPy, nnlib.MLP + nnlib.optim) or "torch" (eager CPU).
        activation: hidden activation, "relu", "tanh" or "sigmoid".
        dtype: storage type of parameters and activations ("float32", "float64",
            "float16", "bfloat16", ...); labels stay int64.
    Returns:
        MemoryReport; ``.peak`` is the prediction, ``.phases`` the per-phase peaks
        with their breakdown by category.
    """
    sizes, batch, e = _check(sizes, batch, activation, dtype, impl)
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}.")
    t = _Tape()
    params = _params(t, sizes, e)
    _optimizer_state(t, params, optimizer, impl)
    x = t.alloc("batch X", batch * sizes[0] * e, "input")
    t.alloc("labels y", batch * LABEL_BYTES, "input")
    t.start("forward")
    if impl == "nnlib":
        kept, _logits = _nnlib_forward(t, sizes, batch, e, activation, training=True)
        saved = sum(t.live[k][0] for k in kept) + t.live[x][0]
        dlogits = _nnlib_loss(t, batch, sizes[-1], e)
        t.start("backward")
        _nnlib_backward(t, sizes, batch, e, activation, dlogits)
        t.free(*kept, dlogits, label="MLP.loss returns: caches freed")
        t.start("optimizer")
        _nnlib_optimizer(t, params, optimizer)
    else:
        saved_keys, loss_keys = _torch_forward(t, sizes, batch, e, training=True)
        saved = sum(t.live[k][0] for k in saved_keys) + t.live[x][0] + batch * LABEL_BYTES
        t.start("backward")
        _torch_backward(t, sizes, batch, e, saved_keys, loss_keys)
        t.start("optimizer")
        _torch_optimizer(t, params, optimizer)
    p = sum(n for _, n in params)
    state = sum(n for k, (n, c) in t.live.items() if c == "optimizer")
    persistent = {"parameters": p, "gradients": p, "optimizer": state}
    return _report(t, impl=impl, sizes=sizes, batch=batch, optimizer=optimizer,
                   activation=activation, dtype=dtype, saved=saved, persistent=persistent)


def inference_memory(sizes, *, batch=1, impl="nnlib", activation="relu", dtype="float32"):
    """Bytes alive through one forward pass without gradients (nnlib: ``model.forward(X)``;
    torch: ``net(X)`` under ``torch.no_grad()``). Same arguments as ``step_memory``."""
    sizes, batch, e = _check(sizes, batch, activation, dtype, impl)
    t = _Tape()
    params = _params(t, sizes, e)
    t.alloc("batch X", batch * sizes[0] * e, "input")
    t.start("forward")
    if impl == "nnlib":
        kept, logits = _nnlib_forward(t, sizes, batch, e, activation, training=False)
        t.free(*[k for k in kept if k != logits], label="forward returns: caches freed")
    else:
        _torch_forward(t, sizes, batch, e, training=False)
    p = sum(n for _, n in params)
    return _report(t, impl=impl, sizes=sizes, batch=batch, optimizer=None,
                   activation=activation, dtype=dtype, saved=0,
                   persistent={"parameters": p, "gradients": 0, "optimizer": 0})


# --- the rules the model replaces ------------------------------------------------------

def naive_layer_outputs(sizes, *, batch, optimizer="sgd", dtype="float32", training=True):
    """The textbook count: parameters (+ gradients + optimizer state when training) plus
    every layer's output for the batch, input included. No temporaries, no liveness."""
    sizes = _check_sizes(sizes)
    batch = _check_count(batch, "batch", minimum=1)
    e, p = itemsize(dtype), param_count(sizes)
    if not training:
        return (p + batch * sum(sizes)) * e
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"naive_layer_outputs: optimizer must be one of {OPTIMIZERS}, got "
                          f"{optimizer!r}.")
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * p
    return (2 * p + state + batch * sum(sizes)) * e


def naive_sum(report):
    """Parameters + gradients + optimizer state + saved bytes, all at once (for a training
    ``MemoryReport``); for an inference report: parameters + the layer outputs' bytes."""
    if not isinstance(report, MemoryReport):
        raise ConfigError(f"naive_sum: report must be the MemoryReport that step_memory or "
                          f"inference_memory returns, got {type(report).__name__}; e.g. "
                          "naive_sum(step_memory((784, 100, 10), batch=64)).")
    pers = report.persistent
    if report.optimizer is None:
        return pers["parameters"] + report.batch * sum(report.sizes) * itemsize(report.dtype)
    return pers["parameters"] + pers["gradients"] + pers["optimizer"] + report.saved
