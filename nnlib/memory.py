"""Counting what a fully connected network costs: parameters, multiply-adds, activations, bytes.

Every function takes the layer widths of an MLP, input and output included,
e.g. ``sizes = (784, 100, 100, 10)``, and uses nnlib's convention: affine layer
``l`` has a weight matrix of shape ``(sizes[l-1], sizes[l])`` (fan_in, fan_out)
and a bias of shape ``(sizes[l],)``.

Conventions, stated once so that every notebook counts the same way:

* one multiply-add (MAC) is ``acc += w * x``; a dense layer does
  ``fan_in * fan_out`` of them per example. Bias additions and activation
  functions are O(fan_out) and are not counted.
* FLOPs = 2 x MACs (one multiply and one add).
* "activations" are the values each layer outputs, one per unit per example
  (after the activation function); the input batch is counted only when asked,
  because whether it must be kept depends on the use (training needs it for the
  first layer's weight gradient, inference does not).
* bytes: ``human_bytes`` prints SI units (kB = 1000 B, MB = 10**6 B) next to
  binary units (KiB = 1024 B, MiB = 2**20 B), because books and tools mix them.
"""

import numbers

import numpy as np

from .errors import ConfigError

# Formats NumPy has no dtype for, by their size in bytes.
_EXTRA_ITEMSIZES = {"bfloat16": 2, "fp8": 1, "float8": 1}
_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def _check_sizes(sizes):
    """Return ``sizes`` as a tuple of Python ints, or raise ConfigError saying what is wrong."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ConfigError(f"sizes must be a sequence of layer widths such as (784, 100, 10), got {sizes!r}.")
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ConfigError(f"sizes needs at least an input and an output width, got {sizes}.")
    for i, s in enumerate(sizes):
        # bool is an int subclass; True as a width is surely a mistake.
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise ConfigError(f"sizes[{i}] must be an integer width, got {s!r} in {sizes}.")
        if s < 1:
            raise ConfigError(f"sizes[{i}] must be >= 1, got {s} in {sizes}.")
    return tuple(int(s) for s in sizes)


def _check_count(value, what, *, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _pairs(sizes):
    sizes = _check_sizes(sizes)
    return list(zip(sizes[:-1], sizes[1:]))


def param_count(sizes, *, bias=True, per_layer=False):
    """Trainable scalars: sum over layers of fan_in * fan_out (+ fan_out biases).

    Returns an int, or with ``per_layer=True`` a list with one int per affine layer.
    """
    counts = [d_in * d_out + (d_out if bias else 0) for d_in, d_out in _pairs(sizes)]
    return counts if per_layer else sum(counts)


def macs(sizes, *, batch=1, per_layer=False):
    """Multiply-adds of one forward pass over ``batch`` examples: batch * sum of fan_in * fan_out.

    Returns an int, or with ``per_layer=True`` a list with one int per affine layer.
    """
    batch = _check_count(batch, "batch", minimum=1)
    counts = [batch * d_in * d_out for d_in, d_out in _pairs(sizes)]
    return counts if per_layer else sum(counts)


def flops(sizes, *, batch=1, per_layer=False):
    """Floating-point operations of one forward pass: 2 x ``macs`` (same arguments)."""
    counts = macs(sizes, batch=batch, per_layer=True)
    counts = [2 * c for c in counts]
    return counts if per_layer else sum(counts)


def activation_count(sizes, *, batch, include_input=False, per_layer=False):
    """Values the layers output for a batch: batch * sum of sizes[1:].

    Each affine layer (+ its activation) outputs a (batch, fan_out) array; the
    output layer counts too. ``include_input=True`` adds the (batch, sizes[0])
    input. Pre-activations and other implementation-specific caches are not
    counted. Returns an int, or with ``per_layer=True`` a list: one entry per
    layer output, preceded by the input's entry when ``include_input``.
    """
    sizes = _check_sizes(sizes)
    batch = _check_count(batch, "batch", minimum=1)
    widths = sizes if include_input else sizes[1:]
    counts = [batch * w for w in widths]
    return counts if per_layer else sum(counts)


def itemsize(dtype):
    """Bytes per value of ``dtype`` (a NumPy dtype or name, or "bfloat16"/"fp8")."""
    if isinstance(dtype, str) and dtype.lower() in _EXTRA_ITEMSIZES:
        return _EXTRA_ITEMSIZES[dtype.lower()]
    try:
        return np.dtype(dtype).itemsize
    except TypeError as exc:
        known = ", ".join(["float64", "float32", "float16", "int8", *_EXTRA_ITEMSIZES])
        raise ConfigError(f"unknown dtype {dtype!r}; try one of {known}.") from exc


def nbytes(count, *, dtype="float32"):
    """Bytes needed to store ``count`` values of ``dtype`` (count * bytes per value)."""
    count = _check_count(count, "count", minimum=0)
    return count * itemsize(dtype)


def _scaled(n, base, units, digits):
    value, unit = float(n), units[0]
    for unit in units:
        # Compare the rounded value so 999,999 B prints as "1.00 MB", not "1000.00 kB".
        if round(value, digits) < base or unit == units[-1]:
            break
        value /= base
    return f"{int(n)} B" if unit == "B" else f"{value:.{digits}f} {unit}"


def human_bytes(n, *, units="both", digits=2):
    """Format a byte count: ``units`` = "si" (kB = 1000 B), "binary" (KiB = 1024 B) or "both".

    "both" gives e.g. "358.44 kB (350.04 KiB)"; counts under 1000 B print as "840 B".
    """
    n = _check_count(n, "number of bytes", minimum=0)
    if units not in ("si", "binary", "both"):
        raise ConfigError(f"units must be 'si', 'binary' or 'both', got {units!r}.")
    digits = _check_count(digits, "human_bytes: digits (decimal places)", minimum=0)
    si = _scaled(n, 1000, _SI_UNITS, digits)
    binary = _scaled(n, 1024, _BINARY_UNITS, digits)
    if units == "si":
        return si
    if units == "binary":
        return binary
    return si if si == binary else f"{si} ({binary})"


def layer_table(sizes, *, batch=1, bias=True, dtype="float32"):
    """One dict per affine layer with its shapes and costs, for printing or plotting.

    Keys: layer (1-based), w_shape (fan_in, fan_out), weights, biases, params,
    macs (for ``batch`` examples), out_shape (batch, fan_out), activations
    (= batch * fan_out), param_bytes and activation_bytes (in ``dtype``).
    """
    batch = _check_count(batch, "batch", minimum=1)
    rows = []
    for layer, (d_in, d_out) in enumerate(_pairs(sizes), start=1):
        n_w, n_b = d_in * d_out, (d_out if bias else 0)
        rows.append(dict(layer=layer, w_shape=(d_in, d_out), weights=n_w, biases=n_b,
                         params=n_w + n_b, macs=batch * n_w, out_shape=(batch, d_out),
                         activations=batch * d_out, param_bytes=nbytes(n_w + n_b, dtype=dtype),
                         activation_bytes=nbytes(batch * d_out, dtype=dtype)))
    return rows
