"""One call that makes a notebook's random numbers reproducible."""

import importlib.util
import numbers
import random

import numpy as np


def seed(n=0):
    """Seed Python's random, NumPy's global RNG and (if installed) torch.

    Returns a fresh ``np.random.Generator`` seeded with ``n``, the preferred way
    to draw random numbers in new code.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or not 0 <= n < 2**32:
        from .errors import ConfigError

        raise ConfigError(f"seed: n must be a whole number from 0 to 2**32 - 1 (NumPy's legacy "
                          f"generator takes no other), got {n!r}; e.g. seed(0).")
    n = int(n)
    random.seed(n)
    np.random.seed(n)
    # torch is optional for nnlib's core: seed it only when it is installed.
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(n)
    return np.random.default_rng(n)
