"""Wall-clock benchmarking of small functions, in the spirit of ``timeit``.

``benchmark(fn, *args)`` calls ``fn(*args)`` in ``repeat`` batches of
``number`` calls each and returns a :class:`Timing` with per-call seconds.
The median is the number to quote (robust to a stray slow batch caused by the
OS or another process); the minimum is the best the machine managed; the
interquartile range (IQR) says how noisy the measurement was.

Every ``Timing`` says where it was taken: the thread counts of the BLAS
library and of torch at measurement time (``thread_counts``) and a one-line
device description (``nnlib.sysinfo.device_line``).

``benchmark`` reads the CPU wall clock, which is right for NumPy and for torch
on the CPU: both finish their work before returning. Work on an asynchronous
device (a GPU) is only queued when the call returns, so its timing goes through
the tools made for it, wrapped into the same ``Timing``:

* ``benchmark_torch``: ``torch.utils.benchmark.Timer`` (warm-up, its own
  thread setting, and a clock that synchronizes the accelerator);
* ``benchmark_cuda_events``: ``torch.cuda.Event(enable_timing=True)`` pairs
  recorded on the GPU's own timeline.

``CPUStream`` is a CPU stand-in for a GPU stream (a one-worker queue), used to
show what happens when a clock is read before queued work has finished.
``limit_threads(n)`` runs a block with a fixed thread count, so that two
implementations are compared on equal terms.
``save_results`` / ``load_results`` write and read a JSON record of timings
that names the device, the date and the command (e.g. results measured on a GPU).
"""

import ctypes
import functools
import gc
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError, DeviceUnavailable  # noqa: F401  (DeviceUnavailable: re-exported for notebooks)


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
        threads: thread counts in use when it was measured, e.g.
            ``{"blas": 2, "torch": 2}`` (None where unknown), see ``thread_counts``.
        device: one line saying where it ran (CPU model, BLAS; GPU name).
        clock: what read the time ("perf_counter", "torch.utils.benchmark.Timer",
            "cuda.Event").
    """

    times: tuple
    number: int
    label: str = ""
    threads: dict = None
    device: str = ""
    clock: str = "perf_counter"

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

    @property
    def where(self):
        """'BLAS 2, torch 2 threads; <device>': what the timing depends on besides the code."""
        parts = [self.threads_text()] if self.threads else []
        if self.device:
            parts.append(self.device)
        return "; ".join(parts)

    def __str__(self):
        name = f"{self.label}: " if self.label else ""
        text = (f"{name}{format_seconds(self.median)} per call (median; min "
                f"{format_seconds(self.min)}, IQR {format_seconds(self.iqr)}) "
                f"over {self.repeat} repeats x {self.number} calls")
        return f"{text} [{self.threads_text()}]" if self.threads else text

    def threads_text(self):
        """'BLAS 2, torch 2 threads' (short form used by ``__str__``)."""
        counts = ", ".join(f"{'BLAS' if k == 'blas' else k} {v if v is not None else '?'}"
                           for k, v in (self.threads or {}).items())
        return f"{counts} threads" if counts else ""


def _check_int(value, *, what, minimum, where="benchmark"):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{where}: {what} must be an integer >= {minimum}, got {value!r}.")
    return int(value)



def _check_benchmark_args(where, fn, *, repeat, min_time, warmup=0, number=None):
    """The arguments every benchmark function shares, checked; returns (repeat, warmup, number)."""
    if not callable(fn):
        raise TypeError(f"{where}: fn must be callable, got {type(fn).__name__}.")
    repeat = _check_int(repeat, what="repeat", minimum=1)
    warmup = _check_int(warmup, what="warmup", minimum=0)
    if number is not None:
        number = _check_int(number, what="number", minimum=1)
    if not (isinstance(min_time, (int, float)) and math.isfinite(min_time) and min_time > 0):
        raise ConfigError(f"{where}: min_time must be a positive number of seconds, got {min_time!r}.")
    return repeat, warmup, number


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
    repeat, warmup, number = _check_benchmark_args("benchmark", fn, repeat=repeat, min_time=min_time,
                                                   warmup=warmup, number=number)

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
    return Timing(times=times, number=number, label=str(label), threads=thread_counts(),
                  device=_device_line("cpu"),
                  clock=getattr(timer, "__name__", type(timer).__name__))


# ------------------------------------------------------------------ threads

_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@functools.lru_cache(maxsize=1)
def _openblas():
    """(getter, setter) of the OpenBLAS bundled with NumPy's wheels, or None.

    Used only when threadpoolctl is not installed: the pip wheels ship OpenBLAS
    with prefixed symbol names (scipy_openblas_..., 64_ for 64-bit integers).
    """
    from .sysinfo import bundled_openblas

    for lib in bundled_openblas():
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "")):
            get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
            if get is not None and put is not None:
                return get, put
    return None


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def blas_threads():
    """(threads NumPy's BLAS uses, how that was found); (None, why) where it cannot be read.

    Order: threadpoolctl (if installed), NumPy's bundled OpenBLAS, then the
    usual environment variables (which only say what a library will use if it
    reads them at start).
    """
    tpc = _threadpoolctl()
    if tpc is not None:
        infos = [i for i in tpc.threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            return int(infos[0]["num_threads"]), "threadpoolctl"
    ob = _openblas()
    if ob is not None:
        return int(ob[0]()), "OpenBLAS"
    for var in _THREAD_ENV:
        if os.environ.get(var, "").strip().isdigit():
            return int(os.environ[var]), var
    return None, "unknown (install threadpoolctl to read it)"


def thread_counts():
    """{"blas": n, "torch": n}: the threads each library would use now.

    torch is reported only if it is already imported (importing it just to ask
    would cost a second and does not change a NumPy timing).
    """
    counts = {"blas": blas_threads()[0]}
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_num_threads"):
        counts["torch"] = int(torch.get_num_threads())
    return counts


def set_blas_threads(n):
    """Set the threads of NumPy's BLAS to ``n`` until changed again; returns the previous
    count, or None when the library cannot be controlled (then nothing changes).

    For a setting that spans several notebook cells; within one block prefer
    :func:`limit_threads`, which restores the count by itself.
    """
    n = _check_int(n, what="n (the number of BLAS threads)", minimum=1,
                   where="set_blas_threads")
    tpc = _threadpoolctl()
    if tpc is not None:
        old = blas_threads()[0]
        tpc.threadpool_limits(limits=n, user_api="blas")
        return old
    ob = _openblas()
    if ob is None:
        return None
    old = int(ob[0]())
    ob[1](ctypes.c_int(n))
    return old


@contextmanager
def limit_threads(n):
    """Run the ``with`` block with NumPy's BLAS and torch (if imported) on ``n`` threads.

    Restores the previous counts afterwards. Yields ``thread_counts()`` inside
    the block; its "blas" entry is None when the BLAS library cannot be
    controlled (neither threadpoolctl nor NumPy's bundled OpenBLAS found).
    Comparing two implementations is only fair with the same thread count.
    """
    n = _check_int(n, what="n (the number of threads)", minimum=1, where="limit_threads")
    torch = sys.modules.get("torch")
    old_torch = torch.get_num_threads() if torch is not None else None
    old_blas = set_blas_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    try:
        yield thread_counts()
    finally:
        if torch is not None:
            torch.set_num_threads(old_torch)
        if old_blas is not None:
            set_blas_threads(old_blas)


def _device_line(kind):
    from . import sysinfo

    return sysinfo.device_line(kind)


# ------------------------------------------------------------------ torch and CUDA

def benchmark_torch(fn, *args, repeat=5, min_time=0.05, num_threads=None, label=""):
    """Time ``fn(*args)`` with ``torch.utils.benchmark.Timer`` and return a :class:`Timing`.

    The Timer warms up, runs ``fn`` in blocks of calls sized so that its clock
    overhead is negligible, sets torch's thread count for the measurement and,
    when an accelerator is present, synchronizes it before every clock read, so
    queued GPU work is inside the measurement. ``times`` holds the per-call
    seconds of each block.

    Args:
        fn, *args: what to time (torch tensors prepared beforehand, on the device).
        repeat: at least this many blocks (a second, longer run is made if the
            first ``min_time`` seconds gave fewer).
        min_time: seconds of measurement of the first run.
        num_threads: torch threads during the measurement; None keeps the current
            ``torch.get_num_threads()`` (the Timer's own default would be 1).
        label: name shown by ``str(result)``.
    """
    import torch
    from torch.utils.benchmark import Timer

    repeat, _, _ = _check_benchmark_args("benchmark_torch", fn, repeat=repeat, min_time=min_time)
    threads = torch.get_num_threads() if num_threads is None else _check_int(
        num_threads, what="num_threads", minimum=1, where="benchmark_torch")
    timer = Timer(stmt="fn(*args)", globals={"fn": fn, "args": args}, num_threads=threads,
                  label=str(label) or None)
    m = timer.blocked_autorange(min_run_time=min_time)
    if len(m.times) < repeat:   # slow calls: one more run, long enough for `repeat` blocks
        m = timer.blocked_autorange(min_run_time=1.05 * repeat * m.median * m.number_per_run)
    cuda = torch.cuda.is_available()
    counts = dict(thread_counts(), torch=threads)
    return Timing(times=tuple(float(t) for t in m.times), number=int(m.number_per_run),
                  label=str(label), threads=counts, device=_device_line("cuda" if cuda else "cpu"),
                  clock="torch.utils.benchmark.Timer")


def cuda_available():
    """True when torch is installed and sees a CUDA GPU (imports torch)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _require_cuda():
    if not cuda_available():
        raise DeviceUnavailable("no CUDA GPU visible to torch: this timing needs one "
                                "(run it on a machine with an NVIDIA GPU and a CUDA build of torch).")
    import torch

    return torch.cuda


def benchmark_cuda_events(fn, *args, repeat=7, number=None, warmup=1, min_time=0.05, label="",
                          cuda=None, device=None):
    """Time GPU work with CUDA events and return a :class:`Timing` (seconds per call).

    A pair of ``torch.cuda.Event(enable_timing=True)`` is recorded into the
    stream around ``number`` calls; the GPU stamps them when it reaches them, and
    ``end.synchronize()`` waits for the second stamp before ``elapsed_time``
    reads the difference (milliseconds). The CPU clock is not used at all.

    Args are those of :func:`benchmark`. ``cuda`` replaces ``torch.cuda`` and
    ``device`` the device line (tests pass stand-ins); without a GPU, raises
    :class:`DeviceUnavailable`.
    """
    repeat, warmup, number = _check_benchmark_args("benchmark_cuda_events", fn, repeat=repeat,
                                                   min_time=min_time, warmup=warmup, number=number)
    cuda = _require_cuda() if cuda is None else cuda

    def batch(n):
        start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        start.record()
        for _ in range(n):
            fn(*args)
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3          # milliseconds -> seconds

    for _ in range(warmup):
        fn(*args)
    cuda.synchronize()
    if number is None:
        number = next(n * step for n in (10 ** e for e in range(12)) for step in (1, 2, 5)
                      if batch(n * step) >= min_time)
    times = tuple(batch(number) / number for _ in range(repeat))
    return Timing(times=times, number=number, label=str(label), threads=thread_counts(),
                  device=_device_line("cuda") if device is None else str(device),
                  clock="cuda.Event")


# ------------------------------------------------------------------ asynchronous queue

class CPUStream:
    """A CPU stand-in for a GPU stream: calls run in order on one background thread.

    ``submit(fn, *args)`` returns at once with a ``concurrent.futures.Future``,
    like a kernel launch; the work runs later on the worker thread (NumPy and
    torch release the GIL inside their kernels, so it really runs beside the
    caller). ``synchronize()`` waits until everything submitted so far is done,
    like ``torch.cuda.synchronize()``. Use it as a context manager, or call
    ``close()``, to stop the worker thread.
    """

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnlib-cpu-stream")
        self._last = None
        self._closed = False
        self._lock = threading.Lock()

    def submit(self, fn, *args):
        """Queue ``fn(*args)``; returns a Future whose ``result()`` waits for it."""
        if not callable(fn):
            raise TypeError(f"CPUStream.submit: fn must be callable, got {type(fn).__name__}.")
        with self._lock:
            if self._closed:
                raise RuntimeError("CPUStream.submit: this stream is closed (close() was called, "
                                   "or its 'with' block ended); make a new one, e.g. "
                                   "with CPUStream() as stream: stream.submit(fn).")
            self._last = self._pool.submit(fn, *args)
            return self._last

    def synchronize(self):
        """Block until all work submitted so far has finished (re-raises its error)."""
        with self._lock:
            last = self._last
        if last is not None:
            last.result()      # one worker runs calls in order: the last one finishes last

    def close(self):
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ------------------------------------------------------------------ recorded results

GPU_RESULT_FIELDS = ("device", "date", "command", "results")


def load_results(path):
    """A recorded timing file (JSON) as a dict, or None if the file does not exist.

    The file must name ``device``, ``date`` and ``command`` (so every number
    says where, when and how it was measured) and hold a list ``results``;
    anything else (malformed JSON included) raises ConfigError naming the file
    and what is wrong.
    """
    import json

    if not os.path.exists(path):
        return None
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise ConfigError(f"{name}: not a valid recorded-timing file ({err}). Restore it from git "
                          "(git checkout -- <file>) or record the timings again.") from None
    except OSError as err:
        raise ConfigError(f"{name}: cannot read it ({err.strerror}); check that it is a readable "
                          "file, e.g. `ls -l` it and `chmod u+r` it.") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{name}: holds a JSON {type(record).__name__}, not a recorded-timing "
                          "object; restore it from git or record the timings again.")
    missing = [k for k in GPU_RESULT_FIELDS if k not in record]
    if missing:
        raise ConfigError(f"{os.path.basename(path)}: missing field(s) {missing}; a recorded "
                          f"timing must say {', '.join(GPU_RESULT_FIELDS)}.")
    return record


def save_results(path, results, *, command, device=None):
    """Write timings to ``path`` as JSON with the device, the UTC date and the command.

    results: a list of JSON-serialisable rows (e.g. dicts with a label, the
    median seconds and the batch size). device: defaults to the first CUDA
    GPU's line when one is visible, else the CPU's. Returns the record written;
    ``load_results`` reads it back.
    """
    import datetime
    import json

    from . import sysinfo

    if not isinstance(command, str) or not command.strip():
        raise ConfigError("save_results: command must say how the timings were produced, "
                          "e.g. 'python benchmarks/gpu_timing.py'.")
    if device is None:
        device = sysinfo.device_line("cuda" if cuda_available() else "cpu")
    record = {"device": str(device),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": command, "results": list(results)}

    def plain(value):  # NumPy scalars and arrays (float32 timings, int64 sizes) as JSON
        if hasattr(value, "tolist") and hasattr(value, "dtype"):
            return value.tolist()
        raise TypeError(f"a value of type {type(value).__name__} ({value!r:.60})")

    try:  # serialise first: a bad row must not cost the file already there
        text = json.dumps(record, indent=1, default=plain) + "\n"
    except (TypeError, ValueError) as err:
        raise ConfigError(f"save_results: cannot write {os.fspath(path)} as JSON: {err}. Store "
                          "plain numbers and strings (e.g. float(t)); the "
                          "file was left as it was.") from None
    # A temporary file in the same folder, then an atomic rename: a crash or a
    # full disk leaves the old record or the new one, never half of one.
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return record
