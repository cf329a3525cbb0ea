"""The training step planned once: every array allocated ahead, every write in place.

``loss, grads = model.loss(X, y)`` then ``optimizer.step(grads)`` is the readable
step, the one the notebooks teach: each layer returns fresh arrays, the gradients come
back in a new dict and each update makes a temporary. A library can keep that structure
and still skip the allocations: ``TrainStep`` allocates every activation, gradient and
scratch array once per batch size and writes into them on every call, computing the
same numbers bit for bit (``tests/nnlib/test_step.py``). ``nnlib.train.fit`` uses it
wherever it applies; ``benchmarks/train_step.py`` times both against a hand-fused step.

    step = TrainStep(model, optimizer)
    loss = step(X_batch, y_batch)        # forward, loss, backward, update

It plans the course's classifiers: an ``MLP`` with loss="cross_entropy", hidden
activation relu, sigmoid or tanh, no output activation, with or without biases, and an
``SGD``, ``Momentum`` or ``Adam`` optimizer built on ``model.params`` (``applies`` says
whether a pair qualifies). The price is memory held between steps: one set of buffers
for each of the last two batch sizes, where the readable step's arrays die after each
step (``nnlib.liveness`` models that one).
"""

import numpy as np

from . import aligned
from .errors import ConfigError, DTypeError, ShapeError
from .losses import check_labels
from .model import MLP
from .optim import SGD, Adam, Momentum

OPTIMIZERS = (SGD, Momentum, Adam)
HIDDEN = ("relu", "sigmoid", "tanh")
KEPT_BATCH_SIZES = 2  # fit sees two: the batch size and a smaller last batch


def why_not(model, optimizer):
    """None when TrainStep plans this pair, else the reason it does not, as a sentence."""
    if type(model) is not MLP:
        return f"the model is a {type(model).__name__}, not an nnlib MLP"
    if model.loss_name != "cross_entropy" or model.output_activation != "identity":
        return f"it plans loss='cross_entropy' only, not {model.loss_name!r}"
    if model.activation not in HIDDEN:
        return f"it plans hidden activations {HIDDEN}, not {model.activation!r}"
    if type(optimizer) not in OPTIMIZERS:
        return f"it plans SGD, Momentum and Adam, not {type(optimizer).__name__}"
    if optimizer.params is not model.params:
        return "the optimizer was not built on this model's params dict"
    return None


def applies(model, optimizer):
    """Whether TrainStep(model, optimizer) computes this pair's step."""
    return why_not(model, optimizer) is None


class _Buffers:
    """Every array one step at batch size B writes.

    At B = 1 each weight gradient x.T @ d is an outer product, which np.matmul computes
    outside BLAS (113 us for 784 x 128 here) and np.dot through a BLAS call that is still
    2.5x slower than a k = 2 matrix product (21 against 8.5 us). So at B = 1 the
    activations and gradients live in the first row of two-row blocks whose second row
    stays zero, and the weight gradient is the k = 2 product: x d + 0 0, the same numbers.
    """

    def __init__(self, model, batch):
        sizes, dtype = model.sizes, model.dtype
        self.rows = np.arange(batch)
        padded = 2 if batch == 1 else batch

        def blocks(widths, kind=dtype):
            return [aligned.zeros((padded, n), kind) for n in widths]
        self.x_block = blocks(sizes[:1])[0] if batch == 1 else None  # the batch, copied in
        self.out_block = blocks(sizes[1:])        # activations; [-1]: logits
        self.grad_block = blocks(sizes[1:])       # dL/d out[i]; [-1]: dL/dlogits
        self.out = [a[:batch] for a in self.out_block]
        self.grad = [a[:batch] for a in self.grad_block]
        scratch = bool if model.activation == "relu" else dtype  # relu: a mask; else f'(z)
        self.scratch = [a[:batch] for a in blocks(sizes[1:-1], scratch)]
        self.params = {k: aligned.empty(p.shape, dtype) for k, p in model.params.items()}  # dW, db


class TrainStep:
    """One planned SGD/Momentum/Adam step of an MLP classifier; see the module docstring.

    Args:
        model: an nnlib MLP with loss="cross_entropy" (``why_not`` says what else).
        optimizer: an nnlib.optim SGD, Momentum or Adam built on ``model.params``; its
            state (velocity, moments, step count) is the same one ``optimizer.step`` uses.
        check_labels: check each batch's labels (integers in [0, C)). fit checks its whole
            data set once and passes False.
    """

    def __init__(self, model, optimizer, *, check_labels=True):
        reason = why_not(model, optimizer)
        if reason is not None:
            raise ConfigError(f"TrainStep: {reason}. Use loss, grads = model.loss(X, y) and "
                              "optimizer.step(grads) for this model.")
        self.model, self.optimizer, self.check = model, optimizer, bool(check_labels)
        n = model.num_layers
        self._weights = [f"W{i}" for i in range(1, n + 1)]
        self._biases = [f"b{i}" if model.bias else None for i in range(1, n + 1)]
        self._buffers = {}
        self._known = None
        self._pending = self._last = None
        self._check_params()

    def __call__(self, X, y):
        """One step on the batch (X (B, D) in the model's dtype, y (B,) labels); the loss."""
        loss = self.loss(X, y)
        self.update()
        return loss

    def loss(self, X, y):
        """Forward pass and loss on the batch; keeps what ``update`` needs. Returns the loss.

        Raises NonFiniteError (the model's own explanation) when the logits are not finite,
        before any parameter changes, as model.loss does.
        """
        self._check_params()
        y = self._check_batch(X, y)
        buf = self._batch_buffers(len(X))
        self._forward(X, buf)
        logits = buf.out[-1]
        if not np.isfinite(logits).all():
            self.model._explain_non_finite(X, X)
        self._pending = (X, buf)
        return self._cross_entropy(logits, y, buf)

    def update(self):
        """Backward pass and the optimizer's update, for the batch of the last ``loss``."""
        if self._pending is None:
            raise ConfigError("TrainStep.update: call loss(X, y) first; update applies the "
                              "gradients of that batch, once.")
        X, buf = self._pending
        self._pending = None
        self._backward(X, buf)
        self.optimizer.step_scratch(buf.params)

    # --- the maths: the same operations as nnlib.layers and nnlib.losses, into buffers ---

    def _forward(self, X, buf):
        params, act, last = self.model.params, self.model.activation, self.model.num_layers - 1
        h = X
        for i, (w, b) in enumerate(zip(self._weights, self._biases)):
            out = buf.out[i]
            np.matmul(h, params[w], out=out)
            if b is not None:
                out += params[b]
            if i < last:
                _activate(act, out, buf.scratch[i])
            h = out

    def _cross_entropy(self, z, y, buf):
        """losses.softmax_cross_entropy in place: z becomes log p, buf.grad[-1] dL/dz."""
        rows, dz = buf.rows, buf.grad[-1]
        z -= z[rows, z.argmax(axis=1), None]            # shift each row by its maximum
        np.exp(z, out=dz)
        total = dz.sum(axis=1, keepdims=True)
        z -= np.log(total, out=total)                   # log softmax
        picked = z[rows, y]
        loss = float(-(np.add.reduce(picked) / len(picked)))  # ndarray.mean's own sum and division
        np.exp(z, out=dz)                               # softmax
        dz[rows, y] -= 1.0
        dz /= len(z)
        return loss

    def _backward(self, X, buf):
        params, act = self.model.params, self.model.activation
        if buf.x_block is None:
            inputs, grads = [X, *buf.out[:-1]], buf.grad
        else:                   # batch 1: k = 2 products on the zero-padded blocks
            buf.x_block[0] = X[0]
            inputs, grads = [buf.x_block, *buf.out_block[:-1]], buf.grad_block
        for i in range(self.model.num_layers - 1, -1, -1):
            d, w, b = buf.grad[i], self._weights[i], self._biases[i]
            if i < self.model.num_layers - 1:
                _activation_grad(act, d, buf.out[i], buf.scratch[i])
            np.matmul(inputs[i].T, grads[i], out=buf.params[w])
            if b is not None:
                d.sum(axis=0, out=buf.params[b])
            if i > 0:
                np.matmul(d, params[w].T, out=buf.grad[i - 1])

    # --- checks and buffers --------------------------------------------------------

    def _check_batch(self, X, y):
        """The labels as integers; ShapeError, DTypeError or LabelError naming what is wrong."""
        model = self.model
        if not isinstance(X, np.ndarray) or X.dtype != model.dtype:
            got = X.dtype if isinstance(X, np.ndarray) else type(X).__name__
            raise DTypeError(f"TrainStep: X must be a NumPy array of the model's dtype "
                             f"{model.dtype}, got {got}; convert once, before training: "
                             f"X = X.astype(np.{model.dtype.name}).")
        if X.ndim != 2 or X.shape[1] != model.sizes[0] or len(X) == 0:
            raise ShapeError(f"TrainStep: X has shape {X.shape}; the model expects a batch "
                             f"(B, {model.sizes[0]}) with B >= 1.")
        if self.check:
            return check_labels(y, num_classes=model.sizes[-1], batch_size=len(X),
                                where="TrainStep: y")
        if not isinstance(y, np.ndarray) or y.shape != (len(X),) or y.dtype.kind not in "iu":
            raise ShapeError(f"TrainStep: y must be ({len(X)},) integer labels; got "
                             f"{getattr(y, 'shape', type(y).__name__)}.")
        return y

    def _batch_buffers(self, batch):
        if self._last is not None and len(self._last.rows) == batch:
            return self._last
        buf = self._buffers.pop(batch, None) or _Buffers(self.model, batch)
        self._last = buf
        self._buffers[batch] = buf                      # the most recent batch size last
        while len(self._buffers) > KEPT_BATCH_SIZES:
            del self._buffers[next(iter(self._buffers))]
        return buf

    def _check_params(self):
        """The parameters must keep their shapes and dtype; checked again only if replaced."""
        current = tuple(map(id, self.model.params.values()))
        if current == self._known:
            return
        model, params = self.model, self.model.params
        for name, shape in _param_shapes(model.sizes, bias=model.bias):
            got = params.get(name)
            if not isinstance(got, np.ndarray) or got.shape != shape or got.dtype != model.dtype:
                desc = ("missing" if got is None else
                        f"{getattr(got, 'shape', type(got).__name__)} {getattr(got, 'dtype', '')}")
                raise ShapeError(f"TrainStep: parameter {name!r} is {desc.strip()}; it must be "
                                 f"{shape} {model.dtype}. Replace parameters with arrays of that "
                                 "shape and dtype, or build a new model and TrainStep.")
        self._known = current
        self._buffers.clear()
        self._last = None


def _param_shapes(sizes, *, bias):
    """(name, shape) of every parameter of an MLP of these sizes."""
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        yield f"W{i}", (fan_in, fan_out)
        if bias:
            yield f"b{i}", (fan_out,)


def _activate(name, z, scratch):
    """z <- f(z) in place, as nnlib.layers' forward functions compute it."""
    if name == "relu":
        np.maximum(z, 0, out=z)
    elif name == "tanh":
        np.tanh(z, out=z)
    else:  # sigmoid, the stable form of layers.sigmoid: exp(min(z, 0)) / (1 + exp(-|z|))
        np.abs(z, out=scratch)
        np.negative(scratch, out=scratch)
        np.exp(scratch, out=scratch)
        np.add(1.0, scratch, out=scratch)
        np.minimum(z, 0, out=z)
        np.exp(z, out=z)
        z /= scratch


def _activation_grad(name, d, h, scratch):
    """d <- d * f'(z) in place, from the activation's output h (as nnlib.layers' backward)."""
    if name == "relu":
        d *= np.greater(h, 0, out=scratch)      # h > 0 exactly where z > 0
    elif name == "tanh":
        np.multiply(h, h, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        d *= scratch                            # d (1 - tanh^2)
    else:
        d *= h                                  # (d s)(1 - s), the order sigmoid_backward uses
        np.subtract(1.0, h, out=scratch)
        d *= scratch
