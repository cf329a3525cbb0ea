"""Checking the chapter's numbers: evaluate and judge entries of the claims registry.

The registry (``docs/claims/dl_primer.yaml``) lists every numeric claim of the
DL Primer chapter with a ``check``: a short Python expression evaluated with
``memory``, ``math``, ``np`` and this module (as ``claims``) in scope. This
module evaluates a check, judges the value against the entry's verdict, and
holds the few computations and measurements that nnlib's other modules lack.
Nothing runs at import; measurements run only when a check calls them.
It lives in primer/quality/ because it checks the book, not course content.

Verdict rules (``judge``), so that the registry stays true as nnlib changes:

* every checked entry: the value must match ``expected`` (a number within
  ``tolerance``, a ``[lo, hi]`` range for measurements, or an exact value);
* ``holds``: the value must also lie within the chapter's figure;
* ``wrong`` / ``mislabelled``: the value must lie outside the chapter's figure;
* ``inconsistent``: the value must contradict at least one of the chapter's
  ``chapter_values``.
"""

import functools
import math
import os
import platform
from pathlib import Path

import numpy as np

from nnlib import memory

REGISTRY = Path(__file__).resolve().parents[2] / "docs" / "claims" / "dl_primer.yaml"
# Timing checks depend on the machine and its load: CI runs them only when
# this variable is set; their recorded values are judged every time.
TIMING_ENV = "NNLIB_CLAIMS_TIMING"
VERDICTS = ("holds", "wrong", "mislabelled", "inconsistent", "needs GPU", "not checkable")
PROVENANCES = ("computed", "measured", "published")


class NeedsGPU(Exception):
    """Raised by a check that needs a CUDA GPU when none is visible."""


# ---------------------------------------------------------------- registry

def load(path=REGISTRY):
    """The registry's entries, a list of dicts (needs PyYAML)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)["claims"]


def evaluate(entry):
    """Run the entry's ``check`` expression and return its value.

    Raises NeedsGPU for a GPU check on a machine without one.
    """
    import sys

    scope = {"memory": memory, "math": math, "np": np,
             "claims": sys.modules[__name__], "__builtins__": __builtins__}
    # Registry checks are short expressions written by the course team;
    # one globals dict so that comprehensions in a check see the names too.
    return eval(entry["check"], scope)


def _close(value, target, tol):
    if isinstance(target, (list, tuple)) and isinstance(value, (list, tuple)):
        return len(value) == len(target) and all(
            _close(v, t, tol) for v, t in zip(value, target))
    if isinstance(target, bool) or isinstance(value, bool):
        return value == target
    return abs(value - target) <= tol * abs(target) + 1e-12


def _inside(value, figure, tol):
    """Is ``value`` within the chapter's figure (a number or [lo, hi])?"""
    if isinstance(figure, (list, tuple)) and len(figure) == 2 and not isinstance(value, (list, tuple)):
        lo, hi = figure
        return lo * (1 - tol) <= value <= hi * (1 + tol)
    return _close(value, figure, tol)


def _matches_expected(entry, value):
    expected, tol = entry["expected"], entry.get("tolerance", 0)
    if entry.get("expected_is_range"):
        lo, hi = expected
        return lo <= value <= hi
    return _close(value, expected, tol)


def judge(entry, value):
    """Return a list of problems (empty when the value agrees with the verdict)."""
    problems, tol = [], entry.get("tolerance", 0)
    if not _matches_expected(entry, value):
        problems.append(f"computed {value!r}, registry expects {entry['expected']!r}")
    verdict = entry["verdict"]
    if verdict == "holds" and not _inside(value, entry["chapter_number"], tol):
        problems.append(f"verdict holds, but {value!r} is outside the chapter's "
                        f"{entry['chapter_number']!r}")
    if verdict in ("wrong", "mislabelled") and _inside(value, entry["chapter_number"], tol):
        problems.append(f"verdict {verdict}, but {value!r} agrees with the chapter's "
                        f"{entry['chapter_number']!r}")
    if verdict == "inconsistent" and all(
            _inside(value, v, tol) for v in entry["chapter_values"]):
        problems.append(f"verdict inconsistent, but {value!r} fits all of "
                        f"{entry['chapter_values']!r}")
    return problems


def fingerprint():
    """Where a measurement was taken: CPU, cores, platform and library versions."""
    from nnlib import sysinfo

    cpu = platform.processor() or platform.machine()
    try:  # the model name is more telling than the architecture on Linux
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    v = sysinfo.versions(("numpy", "nnlib"))
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "numpy": v["numpy"], "nnlib": v["nnlib"]}


# ------------------------------------------------- arithmetic nnlib lacks

def bias_share(sizes):
    """Biases as a fraction of all parameters of an MLP."""
    return 1 - memory.param_count(sizes, bias=False) / memory.param_count(sizes)


def width_doubling_ratio(sizes):
    """Parameter growth when every hidden width of ``sizes`` doubles."""
    wider = (sizes[0], *(2 * w for w in sizes[1:-1]), sizes[-1])
    return memory.param_count(wider) / memory.param_count(sizes)


def depth_doubling_ratio(sizes):
    """Parameter growth when the hidden layers of ``sizes`` are repeated once more."""
    hidden = sizes[1:-1]
    deeper = (sizes[0], *hidden, *hidden, sizes[-1])
    return memory.param_count(deeper) / memory.param_count(sizes)


def lenet5_params():
    """LeNet-5 as usually built today (full C3 table, 10-way dense output).

    C1 6@5x5, C3 16@5x5x6, C5 120@5x5x16, F6 84, output 10; pooling has no weights.
    """
    conv = 6 * (5 * 5 * 1 + 1) + 16 * (5 * 5 * 6 + 1) + 120 * (5 * 5 * 16 + 1)
    return conv + memory.param_count((120, 84, 10))


def doubling_months(c_start, c_end, *, months):
    """Doubling time in months of a quantity growing from c_start to c_end."""
    return months / math.log2(c_end / c_start)


def bandwidth_for(*, flops_per_s, bytes_per_flop):
    """Bytes per second needed to feed ``flops_per_s`` with no data reuse."""
    return flops_per_s * bytes_per_flop


def xor_best_linear_accuracy(*, steps=181):
    """Best accuracy any line w.x + b > 0 reaches on XOR (grid over angle and offset)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    ang = np.linspace(0, 2 * np.pi, steps)
    W = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    b = np.linspace(-2, 2, steps)
    scores = (X @ W.T)[:, :, None] + b[None, None, :]  # (4, angles, offsets)
    acc = ((scores > 0) == y[:, None, None]).mean(axis=0)
    return float(acc.max())


def float32_log_rel_error(p):
    """Relative error of log(p) computed in float32 against float64."""
    exact = math.log(p)
    return abs(float(np.log(np.float32(p))) - exact) / abs(exact)


def fp32_fields():
    """[sign, exponent, mantissa] bits of float32, read from NumPy."""
    fi = np.finfo(np.float32)
    return [1, fi.nexp, fi.nmant]


def bfloat16_range_ratio():
    """Largest bfloat16 over largest float32 (torch's finfo; 1.0 means same range)."""
    import torch

    return torch.finfo(torch.bfloat16).max / torch.finfo(torch.float32).max


def training_values(sizes, *, batch, optimizer):
    """Values a training step keeps: params, grads, optimizer state, inputs and outputs."""
    p = memory.param_count(sizes)
    state = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * p
    return 2 * p + state + memory.activation_count(sizes, batch=batch, include_input=True)


def inference_values(sizes):
    """Values inference keeps for one example: params, input and layer outputs."""
    return memory.param_count(sizes) + memory.activation_count(sizes, batch=1, include_input=True)


def training_memory_ratio(sizes, *, batch, optimizer):
    """Training values over inference values for the same network."""
    return training_values(sizes, batch=batch, optimizer=optimizer) / inference_values(sizes)


# ------------------------------------------------------------ measurements

def _mnist(split):
    import warnings

    from nnlib import data

    with warnings.catch_warnings():  # the local training split is a subset; that is fine here
        warnings.simplefilter("ignore")
        images, labels = data.load_mnist(split)
    return data.flatten_and_scale(images), labels


def mnist_test_size():
    """Number of images in the MNIST test split found by nnlib.data."""
    return len(_mnist("test")[1])


def adam_state_per_param(*, sizes=(784, 100, 100, 10)):
    """Extra values nnlib's Adam keeps per parameter (its m and v arrays)."""
    from nnlib.model import MLP
    from nnlib.optim import Adam

    model = MLP(sizes)
    opt = Adam(model.params)
    extra = sum(a.size for d in (opt.m, opt.v) for a in d.values())
    return extra / model.num_params()


def weight_shape(sizes):
    """Shape of nnlib's first weight matrix, as a list."""
    from nnlib.model import MLP

    return list(MLP(sizes).params["W1"].shape)


def grad_shapes_match(sizes):
    """Do nnlib's gradients have the shapes of the parameters they belong to?"""
    from nnlib.model import MLP

    model = MLP(sizes)
    X = np.zeros((2, sizes[0]), dtype=np.float32)
    _, grads = model.loss(X, np.zeros(2, dtype=np.int64))
    return all(grads[k].shape == p.shape for k, p in model.params.items())


def relu_zero_fraction(*, sizes=(784, 100, 100, 10), n=1000, seed=0):
    """Share of first-layer ReLU outputs that are zero for MNIST images, untrained net."""
    from nnlib.model import MLP

    X, _ = _mnist("train")
    m = MLP(sizes, seed=seed)
    h = X[:n] @ m.params["W1"] + m.params["b1"]
    return float((h <= 0).mean())


def initial_loss(*, sizes=(784, 100, 100, 10), n=1000, seed=0):
    """Cross-entropy of an untrained nnlib MLP on n MNIST training images."""
    from nnlib.model import MLP

    X, y = _mnist("train")
    return float(MLP(sizes, seed=seed).loss(X[:n], y[:n])[0])


def sigmoid_relu_time_ratio(*, n=100_000, seed=0):
    """Measured time of sigmoid over time of ReLU on n float32 values (min of repeats)."""
    from nnlib.timing import benchmark

    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    relu = benchmark(lambda a: np.maximum(a, 0), x, repeat=5)
    sig = benchmark(lambda a: 1 / (1 + np.exp(-a)), x, repeat=5)
    return sig.min / relu.min


def batch_speedup(*, sizes=(784, 100, 100, 10), batch=32, seed=0):
    """Per-image speed-up of one batched forward pass over ``batch`` single passes."""
    from nnlib.model import MLP
    from nnlib.timing import benchmark

    m, X = MLP(sizes, seed=seed), _mnist("test")[0][:batch]
    one = benchmark(lambda: [m.forward(X[i:i + 1]) for i in range(batch)], repeat=5)
    many = benchmark(lambda: m.forward(X), repeat=5)
    return one.min / many.min


@functools.lru_cache(maxsize=None)
def _trained(sizes, epochs, optimizer, lr, batch, seed):
    from nnlib.model import MLP
    from nnlib.train import evaluate, fit

    X, y = _mnist("train")
    m = MLP(sizes, seed=seed)
    fit(m, X, y, epochs=epochs, batch_size=batch, lr=lr, optimizer=optimizer,
        seed=seed, progress=False)
    Xt, yt = _mnist("test")
    return evaluate(m, Xt, yt)  # (loss, accuracy) on the test split


def heldout_accuracy(*, sizes=(784, 100, 100, 10), epochs=7, optimizer="adam",
                  lr=1e-3, batch=32, seed=0):
    """Test accuracy after a short training run (cached per configuration)."""
    return float(_trained(tuple(sizes), epochs, optimizer, lr, batch, seed)[1])


def heldout_error(**config):
    """1 - heldout_accuracy(**config)."""
    return 1 - heldout_accuracy(**config)


def traced_training_step_bytes(*, sizes=(784, 128, 64, 10), batch=32, seed=0):
    """Steady-state peak bytes of one nnlib training step with Adam (tracemalloc, CPU).

    As ``nnlib.memtrace.measure_nnlib_step`` (which notebook 08 prints): a warm-up step
    first, then the model, Adam's state and the batch alive before the measured step are
    counted from NumPy's traced allocations, and the step's peak is added; building the
    model and creating Adam's state are not part of it.
    """
    from nnlib import memtrace

    return memtrace.measure_nnlib_step(sizes, batch=batch, optimizer="adam", seed=seed)["peak"]


# ------------------------------------------------------- GPU measurements

def _cuda():
    try:
        import torch
    except ImportError as exc:
        raise NeedsGPU("torch is not installed") from exc
    if not torch.cuda.is_available():
        raise NeedsGPU("no CUDA GPU visible")
    return torch


def _cuda_seconds(torch, fn, *, repeat=10):
    fn()
    torch.cuda.synchronize()  # GPU work is asynchronous: wait before reading the clock
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeat):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3 / repeat


def gpu_matmul_speedup(*, n=4096):
    """GPU float32 matmul speed over NumPy's on this CPU, n x n matrices."""
    from nnlib.timing import benchmark

    torch = _cuda()
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    cpu = benchmark(lambda: a @ a, repeat=3, number=1).min
    g = torch.from_numpy(a).cuda()
    return cpu / _cuda_seconds(torch, lambda: g @ g)


def gpu_copy_bandwidth_tb_s(*, n_bytes=2**30):
    """Device-to-device copy bandwidth in TB/s (read + write counted)."""
    torch = _cuda()
    src = torch.empty(n_bytes, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    return 2 * n_bytes / _cuda_seconds(torch, lambda: dst.copy_(src)) / 1e12


def gpu_total_memory_gb():
    """Memory of GPU 0 in GB (10**9 bytes)."""
    torch = _cuda()
    return torch.cuda.get_device_properties(0).total_memory / 1e9
