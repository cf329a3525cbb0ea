"""Friendly assertions for exercise test cells.

A failed check says what was expected and what was found, in words a student
can act on, instead of a bare ``AssertionError``.
"""

import numpy as np


def check_close(actual, expected, *, what, rtol=1e-6, atol=1e-8):
    """Assert ``actual`` is numerically close to ``expected``; ``what`` names the quantity."""
    if actual is None:
        raise AssertionError(f"{what}: got None. Did you forget to return or assign a value?")
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: expected shape {e.shape}, got {a.shape}.")
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(a - e)))
        shown = f"expected {e.tolist()}, got {a.tolist()}" if a.size <= 8 else f"largest difference {worst:.3g}"
        raise AssertionError(f"{what}: {shown}.")


def check_shape(array, shape, *, what):
    """Assert ``array.shape == shape``."""
    got = getattr(array, "shape", None)
    if got != tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got {got}.")


def passed(what):
    """Print the one-line confirmation that a test cell reached its end."""
    print(f"✔ {what}: all visible checks passed.")
