"""The GPU measurement kit behind ``benchmarks/gpu.py``: timing and memory of 784-128-64-10.

What it measures (notebooks 08 and 09 show the recorded files, labelled with the device):

* launch versus completion of one large matmul: the host clock right after the call,
  the host clock after ``synchronize``, and a pair of CUDA events;
* the training step (forward, cross-entropy, backward, SGD step) and inference of a
  784-128-64-10 MLP at batch sizes 1, 2, 4, ..., 4096: ``torch.utils.benchmark.Timer``
  (``blocked_autorange``) median and IQR, and CUDA events around single calls, with and
  without an L2-cache flush before each call (a buffer larger than L2 is zeroed, as
  Triton's ``do_bench`` does);
* 08's memory (``measure_config``, the course's one GPU memory measurement): tensor bytes
  (``max_memory_allocated``), the caching allocator's reserve (``memory_reserved``), the
  CUDA context and the cuBLAS workspace, for SGD, momentum and Adam at batch 1 and 32 and
  for one-image inference, next to ``nnlib.liveness``'s prediction; notebook 08 shows the
  recorded file with ``load_results("gpu_memory")`` and ``memory_lines``;
* the device fingerprint, the date, the command, and ``nvidia-smi``'s clocks, temperature
  and power before and after (read only: nothing here sets a clock).

Without CUDA the same functions run on the CPU (the *fallback*): host-clock events stand
in for CUDA events, a small flush buffer for the 256 MB one, ``nnlib.memtrace`` for the
allocator counters. Every fallback record says ``"fallback": true`` and is never written
to ``results/``, so a CPU run cannot pass for a GPU measurement.

Nothing runs at import, and torch is imported only by the functions that need it.
"""

import datetime
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

SIZES = (784, 128, 64, 10)
BATCHES = tuple(2 ** k for k in range(13))          # 1, 2, 4, ..., 4096
QUICK_BATCHES = (1, 8, 64)
OPTIMIZERS = ("sgd", "momentum", "adam")
MEMORY_BATCHES = (1, 32)
LR = 0.01
GPU_FLUSH_MIN = 256 * 2 ** 20       # Triton's do_bench zeroes a 256 MB buffer
CPU_FLUSH_BYTES = 4 * 2 ** 20       # fallback: small, so the test stays fast
SMI_FIELDS = ("clocks.sm", "clocks.mem", "temperature.gpu", "power.draw")
SMI_KEYS = ("sm_clock_mhz", "mem_clock_mhz", "temperature_c", "power_w")
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
NAMES = ("gpu_timing", "gpu_memory")
TOP_KEYS = ("device", "date", "command", "fallback", "notes")
ROW_KEYS = ("batch", "timer_median_us", "timer_iqr_us", "event_median_us",
            "event_flushed_median_us", "samples_per_s")
CONFIG_KEYS = ("optimizer", "batch", "phase", "tensor_bytes", "reserved_bytes",
               "context_bytes", "workspace_bytes", "model_bytes")
FALLBACK_LINE = ("FALLBACK: no CUDA GPU visible to torch; the same code paths run on the "
                 "CPU. These are NOT GPU numbers.")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How long and how often to measure (``settings`` picks them)."""

    batches: tuple
    min_run_time: float     # seconds of Timer.blocked_autorange per measurement
    event_budget: float     # seconds of event-timed calls per measurement (as do_bench's rep)
    min_reps: int
    max_reps: int
    warmup: int             # calls before anything is timed
    launch_n: int           # the launch test multiplies two launch_n x launch_n matrices
    launch_repeat: int


def settings(*, quick=False, fallback=False):
    """The measurement settings: the full sweep, or ``quick`` (a smoke test of the code)."""
    if quick:
        return Settings(batches=QUICK_BATCHES, min_run_time=0.02, event_budget=0.005,
                        min_reps=3, max_reps=5, warmup=2, launch_n=256, launch_repeat=3)
    return Settings(batches=BATCHES, min_run_time=0.2, event_budget=0.1, min_reps=10,
                    max_reps=1000, warmup=10, launch_n=1024 if fallback else 8192,
                    launch_repeat=10)


# --- the device ----------------------------------------------------------------------

class HostEvent:
    """CPU stand-in for ``torch.cuda.Event(enable_timing=True)``: ``record`` stamps the
    host clock. Right on the CPU, where every call has finished when it returns."""

    def __init__(self):
        self.stamp = None

    def record(self):
        self.stamp = time.perf_counter()

    def synchronize(self):
        """Nothing is queued on the CPU."""

    def elapsed_time(self, end):
        """Milliseconds from this event to ``end``, like CUDA's."""
        return (end.stamp - self.stamp) * 1e3


@dataclass(frozen=True)
class Backend:
    """The device everything runs on: CUDA, or the CPU fallback, behind one interface."""

    torch: object
    device: object
    fallback: bool

    def synchronize(self):
        """Wait for queued GPU work (a no-op on the CPU)."""
        if not self.fallback:
            self.torch.cuda.synchronize(self.device)

    def event(self):
        """A timing event: a CUDA event, or a host-clock one on the fallback."""
        if self.fallback:
            return HostEvent()
        return self.torch.cuda.Event(enable_timing=True)


def pick_backend():
    """CUDA when ``torch.cuda.is_available()``, otherwise the CPU fallback."""
    import torch

    if torch.cuda.is_available():
        return Backend(torch, torch.device("cuda", 0), False)
    return Backend(torch, torch.device("cpu"), True)


def fingerprint(backend):
    """What the device is: GPU properties and versions, or the CPU's on the fallback."""
    from . import sysinfo

    torch = backend.torch
    common = {"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
              "cpu": sysinfo.cpu_model(), "processor": platform.processor(),
              "cpu_count": os.cpu_count()}
    if backend.fallback:
        return {"kind": "cpu", "name": f"CPU fallback ({common['cpu']})", **common}
    props = torch.cuda.get_device_properties(backend.device)
    smi = query_smi(fields=("driver_version",), target=smi_target(props), numeric=False)
    return {"kind": "cuda", "name": props.name, "total_memory_bytes": props.total_memory,
            "sm_count": props.multi_processor_count,
            "l2_cache_bytes": getattr(props, "L2_cache_size", None),
            "capability": f"{props.major}.{props.minor}", "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "driver": smi["driver_version"] if smi else None,
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
            "uuid": str(getattr(props, "uuid", "")) or None, **common}


# --- nvidia-smi (read only) -----------------------------------------------------------

def canonical_uuid(text):
    """``GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`` (nvidia-smi's form) from a UUID written
    with or without the prefix and dashes, in any case; None if it is not 32 hex digits."""
    import re

    if not re.fullmatch(r"(gpu-)?[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12}",
                        str(text or "").strip().lower()):
        return None
    digits = str(text).strip().lower().removeprefix("gpu-").replace("-", "")
    parts = (digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:])
    return "GPU-" + "-".join(parts)


def smi_target(props):
    """The ``nvidia-smi -i`` id of a device (``GPU-<uuid>``), or None to take the first."""
    return canonical_uuid(getattr(props, "uuid", None))


def smi_command(*, fields, target=None):
    """The ``nvidia-smi`` query command for ``fields`` (csv, no header, no units)."""
    cmd = ["nvidia-smi"] + (["-i", str(target)] if target else [])
    return cmd + [f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"]


def parse_smi(text, *, fields, numeric=True):
    """The first line of ``nvidia-smi``'s csv output as ``{field: value}``.

    Numbers become floats; ``[N/A]``, ``[Not Supported]`` and empty fields become None.
    Returns None when there is no line or the field count does not match.
    """
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    if not lines:
        return None
    values = [v.strip() for v in lines[0].split(",")]
    if len(values) != len(fields):
        return None
    out = {}
    for field, value in zip(fields, values):
        if not value or value.startswith("["):
            out[field] = None
        elif numeric:
            try:
                out[field] = float(value)
            except ValueError:
                out[field] = None
        else:
            out[field] = value
    return out


def query_smi(*, fields, target=None, numeric=True, run=subprocess.run):
    """Run the query (never a setting) and parse it; None without ``nvidia-smi``."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        done = run(smi_command(fields=fields, target=target), capture_output=True, text=True,
                   timeout=15, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_smi(done.stdout, fields=fields, numeric=numeric)


def read_clocks(*, target=None):
    """SM and memory clocks (MHz), temperature (C) and power (W) now, or None."""
    row = query_smi(fields=SMI_FIELDS, target=target)
    return None if row is None else dict(zip(SMI_KEYS, (row[f] for f in SMI_FIELDS)))


# --- statistics and the cache flush ---------------------------------------------------

def iqr(values):
    """``[q1, q3]``: the 25th and 75th percentiles (NumPy's linear interpolation)."""
    import numpy as np

    xs = np.asarray([float(v) for v in values])
    if not xs.size:
        raise ConfigError("iqr: no values.")
    return [float(q) for q in np.percentile(xs, [25, 75])]


def flush_bytes(l2_bytes, *, minimum=GPU_FLUSH_MIN):
    """Size of the buffer to zero between repetitions: at least ``minimum`` and at least
    twice the L2 cache (``l2_bytes``; None when unknown), rounded up to whole MiB."""
    need = max(int(minimum), 2 * int(l2_bytes or 0))
    mib = 2 ** 20
    return -(-need // mib) * mib


def flush_buffer(backend, *, nbytes):
    """An int8 tensor of ``nbytes`` on the device; ``.zero_()`` evicts the cache."""
    return backend.torch.empty(int(nbytes), dtype=backend.torch.int8, device=backend.device)


def repetitions(seconds_per_call, *, budget, min_reps, max_reps):
    """How many event-timed calls fit in ``budget`` seconds, clamped to the limits."""
    if seconds_per_call <= 0:
        return max_reps
    return max(min_reps, min(max_reps, int(budget / seconds_per_call)))


# --- timing ---------------------------------------------------------------------------

def event_times(fn, backend, *, reps, flush=None):
    """Seconds of each of ``reps`` calls of ``fn`` between two events (GPU timeline on
    CUDA); ``flush`` (a buffer) is zeroed before each call, outside the events."""
    pairs = [(backend.event(), backend.event()) for _ in range(reps)]
    for start, end in pairs:
        if flush is not None:
            flush.zero_()
        start.record()
        fn()
        end.record()
    backend.synchronize()
    return [start.elapsed_time(end) / 1e3 for start, end in pairs]


def timer_times(fn, backend, *, min_run_time):
    """Per-call seconds of each block of ``torch.utils.benchmark.Timer.blocked_autorange``
    (the Timer synchronizes CUDA before each clock read)."""
    from torch.utils.benchmark import Timer

    timer = Timer(stmt="fn()", globals={"fn": fn},
                  num_threads=backend.torch.get_num_threads())
    return [float(t) for t in timer.blocked_autorange(min_run_time=min_run_time).times]


def time_launch(backend, *, n, repeat):
    """Median microseconds of one ``n x n`` float32 matmul: the host clock right after
    the call (launch), after ``synchronize`` (completion), and between CUDA events."""
    torch = backend.torch
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(backend.device)
    b = torch.randn(n, n, generator=gen).to(backend.device)
    torch.mm(a, b)                                   # warm-up: cuBLAS handle, kernel
    backend.synchronize()
    launch, completion = [], []
    for _ in range(repeat):
        backend.synchronize()
        t0 = time.perf_counter()
        torch.mm(a, b)
        launch.append(time.perf_counter() - t0)      # the call has returned: queued only
        backend.synchronize()
        completion.append(time.perf_counter() - t0)
    events = event_times(lambda: torch.mm(a, b), backend, reps=repeat)
    return {k: statistics.median(v) * 1e6 for k, v in
            (("launch_us", launch), ("completion_us", completion), ("event_us", events))}


def mlp_functions(backend, *, batch, optimizer="sgd", seed=0):
    """``(step, infer)`` closures for 784-128-64-10 on the device at ``batch``.

    step: zero_grad(set_to_none), forward, cross-entropy, backward, optimizer step.
    infer: the forward pass under ``torch.no_grad()``.
    """
    from . import memtrace

    torch = backend.torch
    net = memtrace.torch_mlp(SIZES, seed=seed).to(backend.device)
    opt = memtrace.torch_optimizer(optimizer, net.parameters(), lr=LR)
    Xn, yn = memtrace.random_batch(SIZES, batch, seed)
    X, y = torch.from_numpy(Xn).to(backend.device), torch.from_numpy(yn).to(backend.device)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(X), y).backward()
        opt.step()

    def infer():
        with torch.no_grad():
            net(X)

    return step, infer


def time_one(fn, backend, *, batch, config, flush):
    """One row of the sweep: warm-up, Timer median and IQR, event medians, samples/s."""
    for _ in range(config.warmup):
        fn()
    backend.synchronize()
    blocks = timer_times(fn, backend, min_run_time=config.min_run_time)
    median = statistics.median(blocks)
    reps = repetitions(median, budget=config.event_budget, min_reps=config.min_reps,
                       max_reps=config.max_reps)
    plain = event_times(fn, backend, reps=reps)
    flushed = event_times(fn, backend, reps=reps, flush=flush)
    return {"batch": batch, "timer_median_us": median * 1e6,
            "timer_iqr_us": [q * 1e6 for q in iqr(blocks)],
            "event_median_us": statistics.median(plain) * 1e6,
            "event_flushed_median_us": statistics.median(flushed) * 1e6,
            "samples_per_s": batch / median}


def time_sweep(backend, *, config, flush, echo=print):
    """``(step_rows, inference_rows)`` over ``config.batches``."""
    steps, infers = [], []
    for batch in config.batches:
        step, infer = mlp_functions(backend, batch=batch)
        steps.append(time_one(step, backend, batch=batch, config=config, flush=flush))
        infers.append(time_one(infer, backend, batch=batch, config=config, flush=flush))
        echo(format_row("step", steps[-1]) + "\n" + format_row("inference", infers[-1]))
    return steps, infers


def format_row(what, row):
    """One printed line of the sweep."""
    q1, q3 = row["timer_iqr_us"]
    return (f"  {what:9s} B={row['batch']:5d}  Timer {row['timer_median_us']:10.1f} us "
            f"(IQR {q1:.1f}-{q3:.1f})  events {row['event_median_us']:10.1f} us, flushed "
            f"{row['event_flushed_median_us']:10.1f} us  {row['samples_per_s']:12,.0f} "
            "samples/s")


# --- memory ---------------------------------------------------------------------------

def smi_memory(*, target):
    """``(bytes, uuid)`` of the device memory in use on ``target``, from ``nvidia-smi``
    (MiB resolution), or ``(None, None)``. Starts no CUDA context, so it can be read
    before CUDA starts. (``torch.cuda.mem_get_info`` cannot: it creates the context, and
    ``torch.cuda.device_memory_used()`` without an index starts CUDA too.)"""
    row = query_smi(fields=("memory.used", "uuid"), target=target, numeric=False)
    if row is None or row["memory.used"] is None:
        return None, None
    try:
        return int(float(row["memory.used"]) * 2 ** 20), row["uuid"]
    except ValueError:
        return None, None


def visible_target():
    """``nvidia-smi -i`` id of CUDA device 0 before CUDA starts (CUDA_VISIBLE_DEVICES)."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return first or "0"


def model_bytes(*, optimizer, batch, phase):
    """``nnlib.liveness``'s peak for PyTorch (``impl="torch"``), float32."""
    from . import liveness

    if phase == "inference":
        return liveness.inference_memory(SIZES, batch=batch, impl="torch").peak
    return liveness.step_memory(SIZES, batch=batch, optimizer=optimizer, impl="torch").peak


def memory_configs():
    """``(optimizer, batch, phase)``: each optimizer at each batch, then one-image inference."""
    return [(o, b, "train") for o in OPTIMIZERS for b in MEMORY_BATCHES] + \
        [(None, 1, "inference")]


def measure_config(backend, *, optimizer, batch, phase, used_before=None, target=None):
    """The memory of one configuration (``optimizer`` None for inference) as
    ``{tensor_bytes, reserved_bytes, context_bytes, workspace_bytes}``.

    On CUDA, after ``measure_memory``'s warm-up of every configuration (kernels loaded,
    cuBLAS handle and workspace created): the model is built on the device and run once
    (optimizer state created), the peak counters are reset, and it runs again.

    * ``tensor_bytes``: ``max_memory_allocated`` during that run, minus what was allocated
      before the model was built;
    * ``reserved_bytes``: ``memory_reserved`` after it (freed blocks kept, requests rounded
      up; the workspace included);
    * ``context_bytes``: device memory in use (``nvidia-smi``) minus ``used_before`` (read
      before CUDA started) minus ``reserved_bytes``; None when either read is missing;
    * ``workspace_bytes``: allocated before the model was built (the cuBLAS workspace).

    On the CPU fallback: tensor bytes from ``nnlib.memtrace`` (the profiler); the other
    fields are None, as the CPU has no caching allocator, CUDA context or workspace.
    """
    if backend.fallback:
        from . import memtrace

        if phase == "inference":
            peak = memtrace.measure_torch_inference(SIZES, batch=batch)["peak"]
        else:
            peak = memtrace.measure_torch_step(SIZES, batch=batch,
                                               optimizer=optimizer)["peak"]
        return {"tensor_bytes": int(peak), "reserved_bytes": None, "context_bytes": None,
                "workspace_bytes": None}
    cuda = backend.torch.cuda
    gc.collect()
    backend.synchronize()
    cuda.empty_cache()
    base = cuda.memory_allocated(backend.device)   # what earlier runs left (cuBLAS workspace)
    step, infer = mlp_functions(backend, batch=batch, optimizer=optimizer or "sgd")
    fn = infer if phase == "inference" else step
    fn()                                          # optimizer state exists from here on
    backend.synchronize()                         # kernels are asynchronous: wait first
    cuda.reset_peak_memory_stats(backend.device)
    fn()                                          # the measured call
    backend.synchronize()
    tensor = cuda.max_memory_allocated(backend.device) - base
    reserved = cuda.memory_reserved(backend.device)
    used, _ = smi_memory(target=target)
    context = None if used is None or used_before is None else used - used_before - reserved
    return {"tensor_bytes": int(tensor), "reserved_bytes": int(reserved),
            "context_bytes": None if context is None else int(context),
            "workspace_bytes": int(base)}


def measure_memory(backend, *, used_before=None, target=None):
    """One row per ``memory_configs()`` entry, with the liveness model's bytes. On CUDA
    every configuration runs once first, unrecorded: the first CUDA calls pay for setup."""
    if not backend.fallback:
        for optimizer, batch, phase in memory_configs():
            measure_config(backend, optimizer=optimizer, batch=batch, phase=phase,
                           used_before=used_before, target=target)
    rows = []
    for optimizer, batch, phase in memory_configs():
        got = measure_config(backend, optimizer=optimizer, batch=batch, phase=phase,
                             used_before=used_before, target=target)
        rows.append({"optimizer": optimizer, "batch": batch, "phase": phase, **got,
                     "model_bytes": model_bytes(optimizer=optimizer, batch=batch,
                                                phase=phase)})
    return rows


def memory_record(backend, *, command, device, notes, used_before=None, target=None):
    """The gpu_memory record: ``base_record``'s fields and ``configs`` (``measure_memory``)."""
    return {**base_record(device=device, command=command, fallback=backend.fallback,
                          notes=notes),
            "configs": measure_memory(backend, used_before=used_before, target=target)}


def format_config(row):
    """One printed line: model against measured tensor bytes, then reserve and context."""
    what = f"{row['phase']} {row['optimizer'] or ''} B={row['batch']}"
    line = (f"  {what:20s} model {row['model_bytes']:>11,} B  measured "
            f"{row['tensor_bytes']:>11,} B ({row['model_bytes'] / row['tensor_bytes'] - 1:+.1%})")
    for key in ("reserved_bytes", "context_bytes", "workspace_bytes"):
        if row.get(key) is not None:
            line += f"  {key.split('_')[0]} {row[key]:,} B"
    return line


# --- records --------------------------------------------------------------------------

def now_iso():
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def base_record(*, device, command, fallback, notes):
    """The fields every record starts with."""
    return {"device": device, "date": now_iso(), "command": str(command),
            "fallback": bool(fallback), "notes": [str(n) for n in notes]}


def check_record(record, *, name):
    """Raise ConfigError unless ``record`` has the schema of ``name`` (gpu_timing or
    gpu_memory); return it."""
    if name not in NAMES:
        raise ConfigError(f"check_record: name must be one of {NAMES}, got {name!r}.")
    want = TOP_KEYS + (("launch", "step", "inference", "clocks")
                       if name == "gpu_timing" else ("configs",))
    missing = [k for k in want if k not in record]
    rows = []
    if not missing and name == "gpu_timing":
        rows = [(r, ROW_KEYS) for r in record["step"] + record["inference"]]
        missing += [k for k in ("launch_us", "completion_us", "event_us")
                    if k not in record["launch"]]
        missing += [k for k in ("before", "after") if k not in record["clocks"]]
    elif not missing:
        rows = [(r, CONFIG_KEYS) for r in record["configs"]]
    missing += sorted({k for r, keys in rows for k in keys if k not in r})
    if missing:
        raise ConfigError(f"{name}: missing field(s) {missing}.")
    return record


def output_folder(*, out=None, fallback):
    """Where to write: ``out``, else results/ for CUDA and a new temporary folder for the
    fallback. A fallback run may never write into results/ (ConfigError)."""
    if out is None:
        return RESULTS_DIR if not fallback else Path(tempfile.mkdtemp(prefix="gpukit-cpu-"))
    folder = Path(out).resolve()
    if fallback and (folder == RESULTS_DIR or RESULTS_DIR in folder.parents):
        raise ConfigError("a CPU fallback run may not write to results/: that folder holds "
                          "CUDA measurements only. Pass another --out.")
    return folder


def write_record(record, *, name, folder):
    """Check and write ``record`` as ``folder/name.json``; return the path."""
    check_record(record, name=name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def load_results(name, *, folder=None):
    """A recorded ``gpu_timing`` or ``gpu_memory`` file as a dict, or None if absent.

    ``folder`` defaults to the repository's results/, which holds CUDA runs only: a
    fallback record found there raises ConfigError.
    """
    name = str(name).removesuffix(".json")
    path = Path(folder if folder is not None else RESULTS_DIR) / f"{name}.json"
    if not path.exists():
        return None
    record = check_record(json.loads(path.read_text(encoding="utf-8")), name=name)
    if folder is None and record["fallback"]:
        raise ConfigError(f"{path} is a CPU fallback run; results/ holds CUDA runs only.")
    return record


def describe(record):
    """The label to show with recorded numbers: 'measured on <device>, <date>'."""
    where = f"measured on {record['device']['name']}, {record['date']}"
    if record["fallback"]:
        where += " (CPU fallback: not a GPU measurement)"
    return where


NOT_RECORDED = ("No GPU measurement has been recorded (no results/{name}.json).\n"
                "To record one, run `make gpu` (or `python benchmarks/gpu.py`) on a "
                "machine with a CUDA GPU.")


def memory_lines(record):
    """Lines showing a ``load_results("gpu_memory")`` record (labelled by ``describe``),
    or, for None, that none was recorded and how to record one."""
    if record is None:
        return [NOT_RECORDED.format(name="gpu_memory")]
    lines = [describe(record) + f", with: {record['command']}"]
    lines += [format_config(row) for row in record["configs"]]
    return lines + [f"  note: {n}" for n in record["notes"]]


# --- the whole run --------------------------------------------------------------------

def run(*, command, out=None, quick=False, echo=print):
    """Measure everything, write gpu_timing.json and gpu_memory.json; return their paths.

    The device memory in use is read first, before anything starts CUDA, so that the
    context can be told apart from the allocator's reserve.
    """
    used_before, uuid_before = smi_memory(target=visible_target())
    backend = pick_backend()
    folder = output_folder(out=out, fallback=backend.fallback)
    if backend.fallback:
        echo(FALLBACK_LINE)
        target = None
    else:
        backend.torch.cuda.init()
        target = smi_target(backend.torch.cuda.get_device_properties(backend.device))
        if target is None or canonical_uuid(uuid_before) != target:
            used_before = None              # not sure it was the same GPU: no context figure
    config = settings(quick=quick, fallback=backend.fallback)
    device = fingerprint(backend)
    echo(f"device: {device['name']}; writing to {folder}")
    notes = run_notes(backend, quick=quick, context=used_before is not None, device=device)
    mem_rec = memory_record(backend, command=command, device=device,
                            notes=notes["memory"], used_before=used_before, target=target)
    echo("memory (liveness model against measured tensor bytes):")
    for row in mem_rec["configs"]:
        echo(format_config(row))
    timing = measure_timing(backend, config=config, device=device, target=target, echo=echo)
    time_rec = {**base_record(device=device, command=command, fallback=backend.fallback,
                              notes=notes["timing"]), **timing}
    paths = [write_record(time_rec, name="gpu_timing", folder=folder),
             write_record(mem_rec, name="gpu_memory", folder=folder)]
    for p in paths:
        echo(f"wrote {p}")
    if backend.fallback:
        echo(FALLBACK_LINE)
    return paths


def measure_timing(backend, *, config, device, target, echo=print):
    """The timing record's measurements: clocks, launch, the step and inference sweeps."""
    before = read_clocks(target=target) if not backend.fallback else None
    launch = time_launch(backend, n=config.launch_n, repeat=config.launch_repeat)
    echo("launch vs completion of a {0}x{0} matmul: ".format(config.launch_n)
         + ", ".join(f"{k} {v:,.1f}" for k, v in launch.items()))
    nbytes = (CPU_FLUSH_BYTES if backend.fallback
              else flush_bytes(device.get("l2_cache_bytes"), minimum=GPU_FLUSH_MIN))
    flush = flush_buffer(backend, nbytes=nbytes)
    steps, infers = time_sweep(backend, config=config, flush=flush, echo=echo)
    del flush
    after = read_clocks(target=target) if not backend.fallback else None
    return {"launch": launch, "step": steps, "inference": infers,
            "clocks": {"before": before, "after": after}}


def run_notes(backend, *, quick, context, device):
    """The notes each record carries: how it was measured and what it cannot say."""
    timing = [f"784-128-64-10 MLP, float32, SGD lr={LR}; events time single calls; "
              "Timer figures are per-call means of blocked_autorange blocks"]
    memory = ["tensor_bytes: peak of one measured call after a warm-up call, minus what "
              "was allocated before the model was built (workspace_bytes); model_bytes: "
              "nnlib.liveness, impl='torch'"]
    if quick:
        timing.append("--quick: few batch sizes and repetitions; a smoke test, not a "
                      "measurement to quote")
    if backend.fallback:
        timing += ["CPU fallback: no CUDA GPU; events are host-clock stamps, and a CPU "
                   "call returns when its work is done, so launch ~ completion",
                   f"CPU fallback: the flush buffer is {CPU_FLUSH_BYTES // 2 ** 20} MiB, "
                   "not sized to the caches; flushed figures are not cache-cold"]
        memory.append("CPU fallback: tensor bytes from nnlib.memtrace (the profiler's "
                      "allocations); reserved_bytes, context_bytes and workspace_bytes are "
                      "null: the CPU has no caching allocator, CUDA context or cuBLAS "
                      "workspace")
    else:
        nbytes = flush_bytes(device.get("l2_cache_bytes"), minimum=GPU_FLUSH_MIN)
        timing.append(f"L2 flush: {nbytes:,} B int8 "
                      "zeroed before each flushed call (Triton do_bench)")
        memory.append("context_bytes: device memory used (nvidia-smi, MiB resolution) "
                      "after the call minus before CUDA started, minus reserved_bytes; "
                      "it includes loaded kernels and any other process's change"
                      if context else "context_bytes: null: nvidia-smi could not read the "
                      "device memory in use before CUDA started (or not of this GPU)")
        memory.append("CUDA rounds every allocation up to 512 B blocks, and its kernels "
                      "(e.g. foreach optimizers) may keep other temporaries than the CPU "
                      "path nnlib.liveness replays")
    return {"timing": timing, "memory": memory}
