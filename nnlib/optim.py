"""Optimizers that update a dict of parameter arrays in place.

    opt = Adam(model.params, lr=1e-3)
    loss, grads = model.loss(X, y)
    opt.step(grads)

The update rules follow torch.optim's defaults exactly (tests compare
trajectories), so a student can move between the two without surprises.
"""

import math
from collections.abc import Mapping

import numpy as np

from .errors import ConfigError, DTypeError, ShapeError
from .layers import as_numeric


def _real(value, what, owner):
    """``value`` as a float; ConfigError for text, bools, NaN and infinity."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ConfigError(f"{owner}: {what} must be a finite number, got {value!r}.")
    return float(value)


def _in_unit_interval(value, what, owner, *, hint):
    # 1 itself is excluded: beta1 = 1 divides by 1 - 1**t = 0; momentum 1 never forgets.
    value = _real(value, what, owner)
    if not 0 <= value < 1:
        raise ConfigError(f"{owner}: {what} must lie in [0, 1), got {value!r}. {hint}")
    return value


def _check_params(params, owner):
    if not isinstance(params, Mapping) or not params:
        kind = "a model; pass model.params" if hasattr(params, "params") else repr(type(params).__name__)
        raise ConfigError(f"{owner}: params must be a non-empty dict of parameter arrays, e.g. "
                          f"model.params, got {kind}.")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            got = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
            raise DTypeError(f"{owner}: parameter {name!r} must be a float NumPy array (updated in "
                             f"place), got {got}. Build it with np.asarray(..., dtype=np.float64).")
    return params


class Optimizer:
    """Base class: keeps the params dict and checks that grads match it."""

    def __init__(self, params, *, lr):
        owner = type(self).__name__
        lr = _real(lr, "the learning rate lr", owner)
        if not lr > 0:
            raise ConfigError(f"{owner}: learning rate must be positive, got lr={lr}. Typical "
                              "values are 0.1 for SGD and 1e-3 for Adam.")
        self.params, self.lr = _check_params(params, owner), lr

    def step(self, grads):
        """Update every parameter in place from ``grads`` (a dict keyed like params).

        Checks the dict and each gradient's shape, not its values: a NaN or inf gradient
        is applied as it is and turns the parameter NaN (a scan of every gradient would
        cost a pass per step). ``nnlib.train.fit`` catches that at the next loss
        (TrainingDiverged); in a hand-written loop, check ``np.isfinite(loss)``.
        """
        owner = f"{type(self).__name__}.step"
        if not isinstance(grads, Mapping):
            hint = (" model.loss returns (loss, grads): unpack it, loss, grads = model.loss(X, y)."
                    if isinstance(grads, tuple) else "")
            raise ConfigError(f"{owner}: grads must be a dict keyed like params, got "
                              f"{type(grads).__name__}.{hint}")
        for name, p in self.params.items():
            g = grads.get(name)
            got = None if g is None else np.shape(g)
            if got != p.shape:
                raise ShapeError(f"{owner}: gradient for {name!r} has shape {got}, parameter has "
                                 f"{p.shape}. Pass the grads of the model this optimizer was "
                                 "built for.")
            self.update(name, p, as_numeric(g, where=f"{owner}: gradient {name!r}"))

    def update(self, name, p, g):
        raise NotImplementedError

    def step_scratch(self, grads):
        """``step`` for gradients that are the caller's scratch (nnlib.step.TrainStep's
        buffers): unchecked, and each may be overwritten, so no temporary array is made.
        Same numbers as ``step`` bit for bit (tested)."""
        for name, p in self.params.items():
            self.update_scratch(name, p, grads[name])

    def update_scratch(self, name, p, g):
        """``update`` when ``g`` may be overwritten; optimizers without a cheaper form use update."""
        self.update(name, p, g)


class SGD(Optimizer):
    """Plain gradient descent: p <- p - lr * g. NaN in g becomes NaN in p (see ``step``)."""

    def update(self, name, p, g):
        p -= self.lr * g  # in place: model.params and this optimizer share the arrays

    def update_scratch(self, name, p, g):
        np.multiply(g, self.lr, out=g)  # lr * g in g's own buffer: no (D, M) temporary
        p -= g


class Momentum(Optimizer):
    """SGD with momentum, as torch.optim.SGD(momentum=mu):

        v <- mu * v + g   (v starts as g on the first step)
        p <- p - lr * v
    """

    def __init__(self, params, *, lr, momentum=0.9):
        super().__init__(params, lr=lr)
        self.momentum = _in_unit_interval(momentum, "momentum", "Momentum",
                                          hint="0.9 is the usual value.")
        self.velocity = {}

    def update(self, name, p, g):
        p -= self.lr * self._velocity(name, g)

    def update_scratch(self, name, p, g):
        np.multiply(self._velocity(name, g), self.lr, out=g)  # lr * v in the spent gradient's buffer
        p -= g

    def _velocity(self, name, g):
        """v <- mu v + g, in place (v starts as a copy of g)."""
        v = self.velocity.get(name)
        if v is None:
            self.velocity[name] = v = g.copy()
        else:
            v *= self.momentum  # in place: no new velocity array per step
            v += g
        return v


class Adam(Optimizer):
    """Adam with bias correction, as torch.optim.Adam:

        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
        p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, params, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr=lr)
        self.b1, self.b2 = _check_betas(betas)
        self.eps = _real(eps, "eps", "Adam")
        if not self.eps > 0:
            raise ConfigError(f"Adam: eps must be positive (it keeps the update from dividing by "
                              f"zero), got {eps!r}; the usual value is 1e-8.")
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads):
        self.t += 1  # one time step per call, shared by all parameters
        super().step(grads)

    def step_scratch(self, grads):
        self.t += 1
        super().step_scratch(grads)

    def update(self, name, p, g):
        m, v = self.m[name], self.v[name]
        m *= self.b1  # the moments are updated in place, like p
        m += (1 - self.b1) * g
        v *= self.b2
        v += (1 - self.b2) * g * g
        denom = np.sqrt(v / (1 - self.b2 ** self.t))  # sqrt(v_hat)
        denom += self.eps
        p -= (self.lr / (1 - self.b1 ** self.t)) * m / denom  # lr * m_hat / (sqrt(v_hat) + eps)


def _check_betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ConfigError(f"Adam: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999), got {betas!r}.")
    return tuple(_in_unit_interval(b, f"betas[{i}]", "Adam", hint="The usual values are (0.9, 0.999).")
                 for i, b in enumerate(betas))


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name, params, *, lr, **kwargs):
    """Build an optimizer by name: "sgd", "momentum" or "adam"."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}.")
    accepted = {"sgd": set(), "momentum": {"momentum"}, "adam": {"betas", "eps"}}[name]
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        hint = " Use optimizer='momentum' for momentum." if "momentum" in unknown else ""
        raise ConfigError(f"optimizer {name!r} takes no {', '.join(unknown)} (it accepts "
                          f"{sorted(accepted) or 'only lr'}).{hint}")
    return OPTIMIZERS[name](params, lr=lr, **kwargs)
