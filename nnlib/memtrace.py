"""Measuring the memory of one training step on the CPU, to check nnlib.liveness against.

* nnlib (NumPy): NumPy reports every array allocation to Python's ``tracemalloc``
  (in its own domain), so the bytes alive before the step are read from a
  snapshot and the peak of each phase from ``tracemalloc.get_traced_memory``.
  The phase peaks include the Python objects (frames, dicts, array headers)
  the step creates, a few kB; the model counts array data only.
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

_NP_DOMAIN = np.lib.tracemalloc_domain


def random_batch(sizes, batch, seed=0):
    """(X float32 (batch, sizes[0]) in [0, 1), y int64 (batch,)): a stand-in batch."""
    rng = np.random.default_rng(seed)
    X = rng.random((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=batch).astype(np.int64)
    return X, y


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


def measure_nnlib_step(sizes, *, batch, optimizer="sgd", activation="relu", seed=0):
    """Traced peak bytes of one nnlib training step (steady state: after one warm-up step)."""
    from .losses import softmax_cross_entropy
    from .model import MLP
    from .optim import make_optimizer

    _check(optimizer, activation)
    lr = 1e-3 if optimizer == "adam" else 0.01
    # A throwaway step first: lazy imports and caches must not land in the trace.
    warm = MLP(sizes, activation=activation, seed=seed)
    _nnlib_step(warm, make_optimizer(optimizer, warm.params, lr=lr), *random_batch(sizes, batch, seed))
    del warm
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
    from .model import MLP

    _check(None, activation)
    warm = MLP(sizes, activation=activation, seed=seed)
    warm.forward(random_batch(sizes, batch, seed)[0])
    del warm
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


# --- GPU memory, with a CPU fallback --------------------------------------------------

GPU_MEMORY_FIELDS = ("tensor_bytes", "reserved_bytes", "context_bytes")


def _configs(batch, optimizer):
    return {f"train B={batch} {optimizer}": ("train", batch),
            "inference B=1": ("inference", 1),
            f"inference B={batch}": ("inference", batch)}


def _cuda_run(torch, net, X, y, opt):
    if opt is None:
        with torch.no_grad():
            out = net(X)
        del out
        return
    loss = torch.nn.functional.cross_entropy(net(X), y)
    loss.backward()
    del loss
    opt.step()
    opt.zero_grad(set_to_none=True)  # as in measure_torch_step: no gradients between steps


def _cuda_config(torch, dev, kind, sizes, batch, optimizer, activation, seed):
    gc.collect()
    torch.cuda.synchronize(dev)
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated(dev)  # cuBLAS workspaces etc. from the warm-up
    net = torch_mlp(sizes, activation=activation, seed=seed).to(dev)
    Xn, yn = random_batch(sizes, batch, seed)
    X, y = torch.from_numpy(Xn).to(dev), torch.from_numpy(yn).to(dev)
    opt = torch_optimizer(optimizer, net.parameters()) if kind == "train" else None
    _cuda_run(torch, net, X, y, opt)  # optimizer state exists from the first step on
    torch.cuda.synchronize(dev)  # kernels run asynchronously: wait before reading counters
    torch.cuda.reset_peak_memory_stats(dev)
    _cuda_run(torch, net, X, y, opt)
    torch.cuda.synchronize(dev)
    tensor = torch.cuda.max_memory_allocated(dev) - before
    reserved = torch.cuda.memory_reserved(dev)
    free, total = torch.cuda.mem_get_info(dev)
    del net, X, y, opt
    return {"tensor_bytes": int(tensor), "reserved_bytes": int(reserved),
            "context_bytes": int(total - free - reserved),
            "workspace_bytes": int(before)}


def measure_gpu_memory(sizes, *, batch=32, optimizer="adam", activation="relu", seed=0,
                       device=None):
    """Memory of one eager PyTorch training step and of inference, on a GPU if there is one.

    Configurations: the training step at ``batch`` with ``optimizer``, inference of one
    example, and inference at ``batch``. Returns ``{"device", "fallback", "configs"}``,
    ``configs`` mapping a label to a dict of bytes.

    On CUDA (``device`` None with a GPU visible, or ``"cuda"``): every configuration runs
    once first as a warm-up (kernels loaded, cuBLAS handle and workspace created); then,
    one configuration at a time, the model is built on the device, run once (optimizer
    state created), the peak counters are reset, and it runs again:

    * ``tensor_bytes``: ``max_memory_allocated`` during that run, minus what the allocator
      held before the model was built (the warm-up's cuBLAS workspace): the tensors;
    * ``reserved_bytes``: ``memory_reserved`` after it: what the caching allocator holds
      (freed blocks kept, requests rounded up), the workspace included;
    * ``context_bytes``: device memory in use (``mem_get_info``) minus ``reserved_bytes``:
      the CUDA context, loaded kernel images, and any other process on the device;
    * ``workspace_bytes``: allocated before the model was built.

    Without a GPU (``device`` None or ``"cpu"``) this is the CPU fallback, and says so
    (``fallback`` True): the same configurations measured with ``measure_torch_step`` and
    ``measure_torch_inference`` (tensor bytes only; the other fields are None).
    """
    import torch

    _check(optimizer, activation)
    configs = _configs(batch, optimizer)
    use_cuda = torch.cuda.is_available() if device is None else str(device).startswith("cuda")
    if use_cuda and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r}, but no CUDA GPU is visible to PyTorch.")
    if not use_cuda:
        out = {}
        for label, (kind, b) in configs.items():
            if kind == "train":
                peak = measure_torch_step(sizes, batch=b, optimizer=optimizer,
                                          activation=activation, seed=seed)["peak"]
            else:
                peak = measure_torch_inference(sizes, batch=b, activation=activation,
                                               seed=seed)["peak"]
            out[label] = {"tensor_bytes": int(peak), "reserved_bytes": None,
                          "context_bytes": None, "workspace_bytes": None}
        return {"device": "CPU (fallback: no CUDA GPU)", "fallback": True, "configs": out}
    dev = torch.device(device or "cuda")
    torch.cuda.init()
    for kind, b in configs.values():  # warm-up: first CUDA calls pay for setup
        _cuda_config(torch, dev, kind, sizes, b, optimizer, activation, seed)
    out = {label: _cuda_config(torch, dev, kind, sizes, b, optimizer, activation, seed)
           for label, (kind, b) in configs.items()}
    return {"device": torch.cuda.get_device_name(dev), "fallback": False, "configs": out}


def format_gpu_memory(result):
    """Lines describing ``measure_gpu_memory``'s (or a recorded file's) result."""
    head = result["device"]
    if result.get("fallback"):
        head += ": tensor bytes of the same configurations on the CPU; no GPU here"
    lines = [head]
    for label, row in result["configs"].items():
        parts = [f"{k.replace('_bytes', '')} {row[k]:,} B" for k in
                 ("tensor_bytes", "reserved_bytes", "context_bytes", "workspace_bytes")
                 if row.get(k) is not None]
        lines.append(f"  {label:22s} " + ", ".join(parts))
    return lines


def load_gpu_memory(path):
    """A recorded GPU memory file (JSON) as ``{"device", "date", "command", "configs"}``,
    or None if the file does not exist.

    The file names ``device``, ``date`` and ``command``; its configurations are the
    dicts holding ``tensor_bytes``, at the top level or under any one key (a dict of
    labelled dicts, or a list of dicts with a ``label``/``name``/``config``).
    """
    import json

    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    missing = [k for k in ("device", "date", "command") if k not in record]
    if missing:
        raise ConfigError(f"{os.path.basename(path)}: missing field(s) {missing}.")

    def rows(obj):
        if isinstance(obj, dict):
            return {str(k): v for k, v in obj.items()
                    if isinstance(v, dict) and "tensor_bytes" in v}
        if isinstance(obj, list):
            return {str(v.get("label", v.get("name", v.get("config", i)))): v
                    for i, v in enumerate(obj) if isinstance(v, dict) and "tensor_bytes" in v}
        return {}

    configs = rows(record)
    for value in record.values():
        configs.update(rows(value))
    if not configs:
        raise ConfigError(f"{os.path.basename(path)}: no configuration with tensor_bytes.")
    return {"device": record["device"], "date": record["date"],
            "command": record["command"], "fallback": False, "configs": configs}


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
