"""What this machine is: versions, CPU/GPU, and where the data sets will be found.

Used by the welcome notebook's environment check and handy when reporting a
problem ("paste the output of nnlib.sysinfo.report()").
"""

import os
import platform
import sys
from importlib import metadata

PACKAGES = ("nnlib", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "torch", "nbval", "nbgrader")


def versions(packages=PACKAGES):
    """{package: installed version or None}."""
    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def accelerator():
    """A one-line description of the GPU torch can use, or why none is used."""
    try:
        import torch
    except ImportError:
        return "torch not installed: GPU notebooks will skip their GPU parts"
    except Exception as exc:  # noqa: BLE001 -- a broken CUDA install must not stop the report
        return f"torch failed to import ({type(exc).__name__}: {exc}); reinstall torch"
    if torch.cuda.is_available():
        return f"CUDA GPU: {torch.cuda.get_device_name(0)}"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "Apple GPU (MPS)"
    build = "CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build, no GPU visible"
    return f"none ({build} of torch): GPU cells are skipped and say so"


def data_locations(datasets=("mnist", "fashion-mnist")):
    """{dataset: folder where it was found, None if it would be downloaded, or the error}."""
    from . import data

    found = {}
    for name in datasets:
        try:
            found[name] = data.locate(name)
        except Exception as exc:  # noqa: BLE001 -- the report is for diagnosing, so it must not crash
            found[name] = f"error: {exc}"
    return found


def report():
    """Print versions, hardware and data locations; returns them as a dict too."""
    info = {
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu cores": os.cpu_count(),
        "accelerator": accelerator(),
        "versions": versions(),
        "NNLIB_DATA": os.environ.get("NNLIB_DATA"),
        "data": data_locations(),
    }
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"    {k:<14} {v if v is not None else '(not found)'}")
        else:
            print(f"{key:<18} {value}")
    return info


# ---------------------------------------------------------------- device fingerprint
# Every timing should say where it was taken: the same code runs at very
# different speeds on another CPU, with another BLAS or another thread count.

def cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux, else the platform module)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def blas_library():
    """'scipy-openblas 0.3.31 (kernel SkylakeX)': NumPy's BLAS, and the kernel OpenBLAS picked."""
    import numpy

    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text = f"{blas.get('name', 'BLAS')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 -- older NumPy has no mode="dicts"; the report must not crash
        text = "BLAS (unknown)"
    core = _openblas_corename()
    return f"{text} (kernel {core})" if core else text


def bundled_openblas():
    """The OpenBLAS libraries shipped inside NumPy's wheel (numpy.libs), loaded with ctypes.

    Its symbols carry a prefix (scipy_openblas_..., 64_ for 64-bit integers); callers look
    them up. Empty where NumPy uses another BLAS (conda's MKL, Apple's Accelerate).
    """
    import ctypes
    import glob

    import numpy

    pattern = os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs", "*openblas*")
    for path in sorted(glob.glob(pattern)):
        try:
            yield ctypes.CDLL(path)
        except OSError:
            continue


def _openblas_corename():
    import ctypes

    for lib in bundled_openblas():
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                     "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode(errors="replace")
    return None


def gpu_info():
    """[{name, memory_gib, driver, sm_clock_mhz, max_sm_clock_mhz}] of the CUDA GPUs, or [].

    Imports torch only if it is installed. Driver and clocks come from
    ``nvidia-smi`` when it is on the PATH (None otherwise).
    """
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    gpus = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        row = _smi_row(i)
        gpus.append({"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
                     "driver": row.get("driver"), "sm_clock_mhz": row.get("sm_clock_mhz"),
                     "max_sm_clock_mhz": row.get("max_sm_clock_mhz")})
    return gpus


def _smi_row(index):
    """Driver and SM clocks of GPU ``index`` through gpukit's nvidia-smi query; {} without it."""
    from .gpukit import query_smi

    row = query_smi(fields=SMI_INFO, target=str(index), numeric=False) or {}
    clock = lambda v: int(v) if v and v.isdigit() else None  # noqa: E731
    return {"driver": row.get("driver_version"), "sm_clock_mhz": clock(row.get("clocks.sm")),
            "max_sm_clock_mhz": clock(row.get("clocks.max.sm"))} if row else {}


SMI_INFO = ("driver_version", "clocks.sm", "clocks.max.sm")


def fingerprint():
    """Where timings are taken: CPU, cores, BLAS and its threads, torch and its threads, GPUs.

    torch's entries are filled only if torch is already imported (a NumPy-only
    session does not pay for importing it).
    """
    from .timing import blas_threads

    torch = sys.modules.get("torch")
    return {
        "cpu": cpu_model(),
        "cpu cores": os.cpu_count(),
        "blas": blas_library(),
        "blas threads": blas_threads()[0],
        "torch": getattr(torch, "__version__", None),
        "torch threads": torch.get_num_threads() if torch is not None else None,
        "gpus": gpu_info() if torch is not None else [],
    }


_CPU_LINE = None


def device_line(kind="cpu"):
    """One line naming the device a timing ran on, e.g. 'CPU: Intel ..., 2 cores, scipy-openblas ...'.

    kind: "cpu" or "cuda" (the first CUDA GPU, with driver and clocks where known).
    The CPU part is computed once per session.
    """
    global _CPU_LINE
    if kind == "cuda":
        gpus = gpu_info()
        if not gpus:
            return "CUDA: no GPU visible"
        g = gpus[0]
        extra = ", ".join(x for x in (f"driver {g['driver']}" if g["driver"] else "",
                                      f"SM clock {g['sm_clock_mhz']}/{g['max_sm_clock_mhz']} MHz"
                                      if g["sm_clock_mhz"] else "") if x)
        return f"GPU: {g['name']}, {g['memory_gib']} GiB" + (f", {extra}" if extra else "")
    if kind != "cpu":
        raise ValueError(f"device_line: kind must be 'cpu' or 'cuda', got {kind!r}.")
    if _CPU_LINE is None:
        _CPU_LINE = f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs, {blas_library()}"
    return _CPU_LINE


def cache_sizes():
    """{"L1d": bytes, "L1i": ..., "L2": ..., "L3": ...} of CPU 0 as the OS reports them, or {}.

    Read from /sys on Linux (elsewhere: {}). A virtual machine may report the
    host's caches, so treat the figures as what the OS says, not as measured.
    """
    import glob

    sizes = {}
    for index in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            with open(os.path.join(index, "level"), encoding="ascii") as f:
                level = f.read().strip()
            with open(os.path.join(index, "type"), encoding="ascii") as f:
                kind = f.read().strip()
            with open(os.path.join(index, "size"), encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:].upper(), 1)
        digits = text[:-1] if scale != 1 else text
        if not digits.isdigit():
            continue
        name = f"L{level}" + {"Data": "d", "Instruction": "i"}.get(kind, "")
        sizes[name] = int(digits) * scale
    return sizes
