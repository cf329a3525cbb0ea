"""Optimizers that update a dict of parameter arrays in place.

    opt = Adam(model.params, lr=1e-3)
    loss, grads = model.loss(X, y)
    opt.step(grads)

The update rules follow torch.optim's defaults exactly (tests compare
trajectories), so a student can move between the two without surprises.
"""

import numpy as np

from .errors import ConfigError, ShapeError


class Optimizer:
    """Base class: keeps the params dict and checks that grads match it."""

    def __init__(self, params, *, lr):
        if not lr > 0:
            raise ConfigError(f"learning rate must be positive, got lr={lr}.")
        self.params, self.lr = params, float(lr)

    def step(self, grads):
        for name, p in self.params.items():
            g = grads.get(name)
            if g is None or g.shape != p.shape:
                got = None if g is None else g.shape
                raise ShapeError(f"{type(self).__name__}.step: gradient for {name!r} has shape {got}, "
                                 f"parameter has {p.shape}.")
            self.update(name, p, g)

    def update(self, name, p, g):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: p <- p - lr * g."""

    def update(self, name, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """SGD with momentum, as torch.optim.SGD(momentum=mu):

        v <- mu * v + g   (v starts as g on the first step)
        p <- p - lr * v
    """

    def __init__(self, params, *, lr, momentum=0.9):
        super().__init__(params, lr=lr)
        self.momentum, self.velocity = float(momentum), {}

    def update(self, name, p, g):
        v = self.velocity.get(name)
        v = g.copy() if v is None else self.momentum * v + g
        self.velocity[name] = v
        p -= self.lr * v


class Adam(Optimizer):
    """Adam with bias correction, as torch.optim.Adam:

        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
        p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, params, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr=lr)
        self.b1, self.b2 = betas
        self.eps, self.t = eps, 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads):
        self.t += 1  # one time step per call, shared by all parameters
        super().step(grads)

    def update(self, name, p, g):
        m, v = self.m[name], self.v[name]
        m *= self.b1
        m += (1 - self.b1) * g
        v *= self.b2
        v += (1 - self.b2) * g * g
        m_hat = m / (1 - self.b1 ** self.t)
        v_hat = v / (1 - self.b2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name, params, *, lr, **kwargs):
    """Build an optimizer by name: "sgd", "momentum" or "adam"."""
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}.")
    return OPTIMIZERS[name](params, lr=lr, **kwargs)
