"""Measuring the memory of one training step on the CPU, to check nnlib.liveness against.

* nnlib (NumPy): NumPy reports every array allocation to Python's ``tracemalloc``
  (in its own domain), so the bytes alive before the step are read from a
  snapshot and the peak of each phase from ``tracemalloc.get_traced_memory``.
  The phase peaks include the Python objects (frames, dicts, array headers)
  the step creates, a few kB; the model counts array data only.
  tracemalloc sees every thread: a thread that allocates during the step (a
  kernel's or pytest-xdist's message thread) once added 16 kB to a CI run's
  peak. So each nnlib measurement is repeated until two runs in a row agree
  within 1 kB; see ``_agreed``.
* torch: the bytes saved for backward are collected exactly with
  ``torch.autograd.graph.saved_tensors_hooks`` (each storage once, parameters
  excluded). The step's allocations and frees come from the profiler
  (``profile_memory=True``), one window over forward, backward and optimizer
  step, split into phases by ``record_function`` ranges. The profiler cannot
  see tensors that existed before the window, so those (parameters, optimizer
  state, the batch) are added from their exact sizes; they are allocated
  before the window and not freed in it.

Every function returns ``{"peak": bytes, "phases": {phase: bytes}, "saved": bytes}``
(``saved`` only for training). Phases are named as in nnlib.liveness.
"""

import gc
import os
import tracemalloc

import numpy as np

from .errors import ConfigError
from .liveness import ACTIVATIONS, OPTIMIZERS
from .memory import _check_count, _check_sizes

_NP_DOMAIN = np.lib.tracemalloc_domain


def random_batch(sizes, batch, seed=0):
    """(X float32 (batch, sizes[0]) in [0, 1), y int64 (batch,)): a stand-in batch."""
    sizes, batch = _check_sizes_batch(sizes, batch, "random_batch")
    rng = np.random.default_rng(seed)
    X = rng.random((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=batch).astype(np.int64)
    return X, y


def _check_sizes_batch(sizes, batch, where):
    """sizes as ints and batch as an int >= 1: an empty batch has no peak worth reporting."""
    try:
        sizes = _check_sizes(sizes)
        if batch is not None:
            batch = _check_count(batch, "batch", minimum=1)
    except ConfigError as exc:
        example = "sizes=(784, 100, 10)" + ("" if batch is None else ", batch=64")
        raise ConfigError(f"{where}: {exc} e.g. {example}.") from None
    return sizes, batch


def _check(optimizer, activation):
    if optimizer is not None and optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}.")
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")


# --- nnlib ------------------------------------------------------------------------------

def _numpy_bytes():
    snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, _NP_DOMAIN)])
    return sum(stat.size for stat in snap.statistics("filename"))


def _nnlib_saved(X, out, caches):
    arrays = {id(X): X.nbytes, id(out): out.nbytes}
    for c_aff, _act, c_act in caches:
        arrays[id(c_aff[0])] = c_aff[0].nbytes
        if isinstance(c_act, np.ndarray):
            arrays[id(c_act)] = c_act.nbytes
    return sum(arrays.values())


def _nnlib_step(model, opt, X, y):
    from .losses import softmax_cross_entropy

    loss, grads = model.loss(X, y)
    opt.step(grads)
    return softmax_cross_entropy  # imported here so the import is not traced later


_TRIES = 6
_JITTER = 1024  # bytes: Python's own bookkeeping moves a run by ~100; a stray burst by kB


def _agreed(measure):
    """``measure()`` repeated until two runs in a row agree (at most _TRIES runs).

    One step of a given model is deterministic: a quiet process gives the same bytes
    every time. With another thread alive, the step's own Python objects move a run by
    about a hundred bytes, and the thread's allocations land at random moments, rarely
    twice alike. So two runs in a row within _JITTER bytes agree, and the smaller is
    returned; without such a pair, the run with the smallest peak (a stray thread more
    often adds bytes than frees them).
    """
    runs = [measure()]
    for _ in range(_TRIES - 1):
        run, last = measure(), runs[-1]
        if abs(run["peak"] - last["peak"]) <= _JITTER:
            return min(run, last, key=lambda r: r["peak"])
        runs.append(run)
    return min(runs, key=lambda r: r["peak"])


def measure_nnlib_step(sizes, *, batch, optimizer="sgd", activation="relu", seed=0):
    """Traced peak bytes of one nnlib training step (steady state: after one warm-up step)."""
    _check(optimizer, activation)
    sizes, batch = _check_sizes_batch(sizes, batch, "measure_nnlib_step")
    from .model import MLP
    from .optim import make_optimizer

    lr = 1e-3 if optimizer == "adam" else 0.01
    # A throwaway step first: lazy imports and caches must not land in the trace.
    warm = MLP(sizes, activation=activation, seed=seed)
    _nnlib_step(warm, make_optimizer(optimizer, warm.params, lr=lr), *random_batch(sizes, batch, seed))
    del warm
    return _agreed(lambda: _nnlib_step_once(sizes, batch, optimizer, activation, seed, lr))


def _nnlib_step_once(sizes, batch, optimizer, activation, seed, lr):
    from .losses import softmax_cross_entropy
    from .model import MLP
    from .optim import make_optimizer

    gc.collect()
    tracemalloc.start()
    try:
        model = MLP(sizes, activation=activation, seed=seed)
        opt = make_optimizer(optimizer, model.params, lr=lr)
        X, y = random_batch(sizes, batch, seed)
        _nnlib_step(model, opt, X, y)  # momentum's velocity exists from the first step on
        gc.collect()
        base = _numpy_bytes()
        start, _ = tracemalloc.get_traced_memory()
        phases = {}
        tracemalloc.reset_peak()
        out, caches = model.forward(X, keep_cache=True)
        _loss, dout = softmax_cross_entropy(out, y)
        phases["forward"] = tracemalloc.get_traced_memory()[1]
        saved = _nnlib_saved(X, out, caches)
        tracemalloc.reset_peak()
        grads = model.backward(dout, caches)
        del out, caches, dout
        phases["backward"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        opt.step(grads)
        phases["optimizer"] = tracemalloc.get_traced_memory()[1]
        del grads
    finally:
        tracemalloc.stop()
    phases = {k: base + v - start for k, v in phases.items()}
    return {"peak": max(phases.values()), "phases": phases, "saved": saved}


def measure_nnlib_inference(sizes, *, batch=1, activation="relu", seed=0):
    """Traced peak bytes of ``model.forward(X)`` (parameters and batch included)."""
    _check(None, activation)
    sizes, batch = _check_sizes_batch(sizes, batch, "measure_nnlib_inference")
    from .model import MLP

    warm = MLP(sizes, activation=activation, seed=seed)
    warm.forward(random_batch(sizes, batch, seed)[0])
    del warm
    return _agreed(lambda: _nnlib_inference_once(sizes, batch, activation, seed))


def _nnlib_inference_once(sizes, batch, activation, seed):
    from .model import MLP

    gc.collect()
    tracemalloc.start()
    try:
        model = MLP(sizes, activation=activation, seed=seed)
        X = random_batch(sizes, batch, seed)[0]
        gc.collect()
        base = _numpy_bytes()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        out = model.forward(X)
        peak = tracemalloc.get_traced_memory()[1]
        del out
    finally:
        tracemalloc.stop()
    return {"peak": base + peak - start, "phases": {"forward": base + peak - start}}


# --- torch ------------------------------------------------------------------------------

def torch_mlp(sizes, *, activation="relu", seed=0):
    """nn.Sequential(Linear, activation, ..., Linear) with the widths ``sizes`` (float32)."""
    import torch

    _check(None, activation)
    sizes, _ = _check_sizes_batch(sizes, None, "torch_mlp")
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
    torch.manual_seed(seed)
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(d_in, d_out))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def torch_optimizer(name, params, *, lr=None):
    """torch.optim.SGD, SGD(momentum=0.9) or Adam, by nnlib's names."""
    import torch

    _check(name, "relu")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr or 1e-3)
    return torch.optim.SGD(params, lr=lr or 0.01, momentum=0.9 if name == "momentum" else 0.0)


def _storage_bytes(tensors):
    seen = {}
    for t in tensors:
        st = t.untyped_storage()
        seen[st.data_ptr()] = st.nbytes()
    return seen


def torch_saved_bytes(net, X, y):
    """Bytes autograd saves for backward in ``cross_entropy(net(X), y)``, parameters excluded."""
    import torch

    packed = []

    def pack(t):
        packed.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = torch.nn.functional.cross_entropy(net(X), y)
    params = _storage_bytes(net.parameters())
    saved = {k: v for k, v in _storage_bytes(packed).items() if k not in params}
    del loss, packed
    return sum(saved.values())


def _memory_events(prof, ranges):
    """Memory events of a profile, in time order, with the phase each falls in."""
    events = list(prof.profiler.kineto_results.events())
    spans = {}
    for ev in events:
        if ev.name() in ranges:
            spans[ev.name()] = (ev.start_ns(), ev.start_ns() + ev.duration_ns())
    mem = sorted((ev.start_ns(), ev.nbytes()) for ev in events if ev.name() == "[memory]")
    mem = sorted(mem + [(a, 0) for a, _ in spans.values()])  # a phase with no allocation
    out = []
    for ts, nbytes in mem:
        phase = next((p for p, (a, b) in spans.items() if a <= ts <= b), None)
        out.append((phase, nbytes))
    return out


def _phase_peaks(base, events, phases):
    peaks, total = dict.fromkeys(phases, base), base
    for phase, nbytes in events:
        total += nbytes
        if phase in peaks:
            peaks[phase] = max(peaks[phase], total)
    return peaks


def _profile(fn, phases):
    from torch.profiler import ProfilerActivity, profile

    # Kineto writes start/stop lines to file descriptor 2; keep them out of notebooks.
    saved_fd = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                fn()
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
    return _memory_events(prof, phases)


def measure_torch_step(sizes, *, batch, optimizer="sgd", activation="relu", seed=0):
    """Peak bytes of one eager PyTorch CPU training step (steady state, gradients set to
    None before it) from the profiler's allocation events."""
    import torch
    from torch.profiler import record_function

    _check(optimizer, activation)
    sizes, batch = _check_sizes_batch(sizes, batch, "measure_torch_step")
    net = torch_mlp(sizes, activation=activation, seed=seed)
    opt = torch_optimizer(optimizer, net.parameters())
    Xn, yn = random_batch(sizes, batch, seed)
    X, y = torch.from_numpy(Xn.copy()), torch.from_numpy(yn.copy())  # own storage, made before

    def step():
        with record_function("forward"):
            loss = torch.nn.functional.cross_entropy(net(X), y)
        with record_function("backward"):
            loss.backward()
            del loss
        with record_function("optimizer"):
            opt.step()

    step()  # optimizer state exists from the first step on
    opt.zero_grad(set_to_none=True)
    state = [t for s in opt.state.values() for t in s.values() if torch.is_tensor(t)]
    base = sum(_storage_bytes([*net.parameters(), *state, X, y]).values())
    phases = _phase_peaks(base, _profile(step, ("forward", "backward", "optimizer")),
                          ("forward", "backward", "optimizer"))
    opt.zero_grad(set_to_none=True)
    saved = torch_saved_bytes(net, X, y)
    return {"peak": max(phases.values()), "phases": phases, "saved": saved}


def measure_torch_inference(sizes, *, batch=1, activation="relu", seed=0):
    """Peak bytes of ``net(X)`` under ``torch.no_grad()`` (parameters and batch included)."""
    import torch
    from torch.profiler import record_function

    sizes, batch = _check_sizes_batch(sizes, batch, "measure_torch_inference")
    net = torch_mlp(sizes, activation=activation, seed=seed)
    X = torch.from_numpy(random_batch(sizes, batch, seed)[0].copy())

    def run():
        with torch.no_grad(), record_function("forward"):
            out = net(X)
        del out

    run()
    base = sum(_storage_bytes([*net.parameters(), X]).values())
    phases = _phase_peaks(base, _profile(run, ("forward",)), ("forward",))
    return {"peak": phases["forward"], "phases": phases}


# GPU memory (tensor bytes, allocator reserve, CUDA context, workspace) is measured in one
# place, nnlib.gpukit.measure_config, whose CPU fallback calls the two functions above.


def peak_rss_bytes():
    """The process's peak resident memory so far (``resource.getrusage``), in bytes.

    That is everything the process touched: interpreter, libraries, allocator caches,
    arrays. None where the ``resource`` module does not exist (Windows).
    """
    import sys

    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # Linux reports KiB
