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
    return f"none ({build} of torch): GPU cells fall back to the CPU"


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
