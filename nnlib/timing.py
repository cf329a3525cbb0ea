"""Wall-clock benchmarking of small functions, in the spirit of ``timeit``.

``benchmark(fn, *args)`` calls ``fn(*args)`` in ``repeat`` batches of
``number`` calls each and returns a :class:`Timing` with per-call seconds.
The median is the number to quote (robust to a stray slow batch caused by the
OS or another process); the minimum is the best the machine managed; the
interquartile range (IQR) says how noisy the measurement was.

Only the CPU wall clock is used here. Asynchronous devices (GPUs) need their
work to finish before the clock is read; ``timer`` can be swapped for a clock
that does that, and the module is meant to grow such support later.
"""

import gc
import math
import time
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError


def format_seconds(seconds):
    """Human-readable duration with 3 significant digits, e.g. 0.00421 -> '4.21 ms'."""
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"format_seconds: expected a finite duration >= 0, got {seconds}.")
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


@dataclass(frozen=True)
class Timing:
    """Result of :func:`benchmark`.

    Attributes:
        times: tuple of ``repeat`` floats, the mean seconds per call in each batch.
        number: calls per batch.
        label: optional name used by ``__str__``.
    """

    times: tuple
    number: int
    label: str = ""

    @property
    def repeat(self):
        return len(self.times)

    @property
    def median(self):
        """Median seconds per call over the batches: the number to report."""
        return float(np.median(self.times))

    @property
    def min(self):
        """Fastest batch, seconds per call: closest to the cost without interference."""
        return float(np.min(self.times))

    @property
    def max(self):
        return float(np.max(self.times))

    @property
    def iqr(self):
        """Interquartile range (75th minus 25th percentile) of seconds per call: the spread."""
        q1, q3 = np.percentile(self.times, [25, 75])
        return float(q3 - q1)

    def rate(self, amount, *, stat="median"):
        """``amount`` per second, e.g. elements/s or bytes/s for one call that handles ``amount``.

        ``stat`` is "median" or "min" (the min gives the best-case rate).
        """
        if stat not in ("median", "min"):
            raise ConfigError(f"rate: stat must be 'median' or 'min', got {stat!r}.")
        seconds = getattr(self, stat)
        return float(amount) / seconds if seconds > 0 else math.inf

    def __str__(self):
        name = f"{self.label}: " if self.label else ""
        return (f"{name}{format_seconds(self.median)} per call (median; min "
                f"{format_seconds(self.min)}, IQR {format_seconds(self.iqr)}) "
                f"over {self.repeat} repeats x {self.number} calls")


def _check_int(value, *, what, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"benchmark: {what} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _run_batch(fn, args, number, timer):
    """Seconds taken by ``number`` back-to-back calls of fn(*args)."""
    start = timer()
    for _ in range(number):
        fn(*args)
    return timer() - start


def _auto_number(fn, args, min_time, timer):
    """Smallest n in 1, 2, 5, 10, 20, 50, ... whose batch takes at least min_time.

    A batch that short would be dominated by clock resolution and call
    overhead; the same 1-2-5 ladder as ``timeit.Timer.autorange``.
    """
    n = 1
    while True:
        for step in (1, 2, 5):
            number = n * step
            if _run_batch(fn, args, number, timer) >= min_time:
                return number
        n *= 10


def benchmark(fn, *args, repeat=7, number=None, warmup=1, min_time=0.05,
              timer=time.perf_counter, label=""):
    """Time ``fn(*args)`` and return a :class:`Timing` (seconds per call).

    Args:
        fn: the callable to time; its return value is discarded.
        *args: positional arguments passed to every call (prepare arrays
            beforehand so that their creation is not timed).
        repeat: number of timed batches (>= 1); statistics are over batches.
        number: calls per batch; None chooses it so one batch takes at least
            ``min_time`` seconds.
        warmup: untimed calls made first (>= 0): caches, lazy imports and
            first-touch page faults should not land in the measurement.
        min_time: target seconds per batch when ``number`` is None.
        timer: zero-argument clock returning seconds (default time.perf_counter).
        label: name shown by ``str(result)``.
    Returns:
        Timing with ``repeat`` per-call times.
    """
    if not callable(fn):
        raise TypeError(f"benchmark: fn must be callable, got {type(fn).__name__}.")
    repeat = _check_int(repeat, what="repeat", minimum=1)
    warmup = _check_int(warmup, what="warmup", minimum=0)
    if number is not None:
        number = _check_int(number, what="number", minimum=1)
    if not (isinstance(min_time, (int, float)) and math.isfinite(min_time) and min_time > 0):
        raise ConfigError(f"benchmark: min_time must be a positive number of seconds, got {min_time!r}.")

    for _ in range(warmup):
        fn(*args)
    # The garbage collector can pause at any allocation; keep it out of the
    # timed region (as timeit does) and restore the caller's setting after.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if number is None:
            number = _auto_number(fn, args, min_time, timer)
        times = tuple(_run_batch(fn, args, number, timer) / number for _ in range(repeat))
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(times=times, number=number, label=str(label))
