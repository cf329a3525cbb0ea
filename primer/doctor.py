"""primer doctor: what a student runs when the setup fails.

usage: primer doctor [--folder my-work]

Checks, in order, and prints one line each (ok, note or PROBLEM with its fix):
Python's version, the packages the course needs (and their versions), that nnlib
imports, where MNIST and Fashion-MNIST will be found (or how to get them), whether
a GPU is usable, the free disk space, and that the student's folder can be written.
Paste its output when you ask for help.

example: primer doctor
Exit status: 0 no problem found, 1 at least one PROBLEM (each names its fix).
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from primer import exits

MIN_PYTHON = (3, 10)
REQUIRED = ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "tqdm", "platformdirs", "torch")
FOR_AUTHORS = ("pytest", "nbval", "nbgrader", "nbclient", "playwright", "threadpoolctl")
MIN_FREE_BYTES = 1 << 30  # notebooks, data (about 70 MB) and saved models fit easily in 1 GiB
INSTALL = "python -m pip install -e '.[dev]'  (in the course folder, inside your environment)"


@dataclass
class Finding:
    level: str  # "ok", "note" or "PROBLEM"
    what: str
    fix: str = ""

    def __str__(self) -> str:
        line = f"{self.level:<8}{self.what}"
        return f"{line}\n{'':<8}fix: {self.fix}" if self.fix else line


def python_version(version=sys.version_info) -> Finding:
    text = ".".join(map(str, version[:3]))
    if tuple(version[:2]) < MIN_PYTHON:
        need = ".".join(map(str, MIN_PYTHON))
        return Finding("PROBLEM", f"Python {text} is too old for this course (needs {need} or newer)",
                       f"install Python {need}+ (python.org or conda), then recreate the environment")
    return Finding("ok", f"Python {text} ({sys.executable})")


def packages(names=REQUIRED, *, needed=True) -> list[Finding]:
    findings = []
    for name in names:
        try:
            findings.append(Finding("ok", f"{name} {metadata.version(name)}"))
        except metadata.PackageNotFoundError:
            level = "PROBLEM" if needed else "note"
            why = "" if needed else " (needed only to run the tests or grade)"
            findings.append(Finding(level, f"{name} is not installed{why}", INSTALL))
    return findings


def nnlib_imports() -> Finding:
    try:
        nnlib = importlib.import_module("nnlib")
    except Exception as error:  # noqa: BLE001 -- the doctor reports every failure, it never crashes
        return Finding("PROBLEM", f"nnlib does not import: {type(error).__name__}: {error}", INSTALL)
    return Finding("ok", f"nnlib imports ({Path(nnlib.__file__).parent})")


def data_sets() -> list[Finding]:
    try:
        from nnlib import data
    except Exception:  # noqa: BLE001 -- already reported by nnlib_imports
        return []
    findings = []
    for name in ("mnist", "fashion-mnist"):
        try:
            folder = data.locate(name)
        except Exception as error:  # noqa: BLE001
            findings.append(Finding("PROBLEM", f"{name}: {error}",
                                    "fix what the message names, or set NNLIB_DATA to another folder"))
            continue
        if folder is not None:
            findings.append(Finding("ok", f"{name} found in {folder}"))
        elif os.environ.get("NNLIB_OFFLINE"):
            findings.append(Finding("PROBLEM", f"{name} not found and NNLIB_OFFLINE is set (no download)",
                                    f"set NNLIB_DATA to a folder holding {name}/ with its four .gz files"))
        else:
            findings.append(Finding("note", f"{name} not found: the notebooks download it on first use "
                                    "(about 30 MB, needs internet)",
                                    f"offline? set NNLIB_DATA to a folder holding {name}/"))
    return findings


def accelerator() -> Finding:
    try:
        from nnlib import sysinfo
        return Finding("ok", f"GPU: {sysinfo.accelerator()}")
    except Exception as error:  # noqa: BLE001
        return Finding("note", f"GPU: could not tell ({type(error).__name__}: {error})")


def disk_space(folder: Path) -> Finding:
    probe = folder if folder.exists() else Path.cwd()
    free = shutil.disk_usage(probe).free
    text = f"{free / 2**30:.1f} GiB free on the disk of {probe.resolve()}"
    if free < MIN_FREE_BYTES:
        return Finding("PROBLEM", text, "free at least 1 GiB (data, notebooks and models need it)")
    return Finding("ok", text)


def writable(folder: Path) -> Finding:
    target = folder if folder.exists() else folder.resolve().parent
    if folder.exists() and not folder.is_dir():
        return Finding("PROBLEM", f"{folder} exists but is not a folder",
                       f"rename that file, then run `primer lab` again (it creates {folder}/)")
    if not os.access(target, os.W_OK | os.X_OK):
        return Finding("PROBLEM", f"cannot write in {target.resolve()}",
                       f"fix its permissions (e.g. chmod u+w {target}) or run the course from a folder you own")
    state = "exists" if folder.exists() else "will be created by `primer lab`"
    return Finding("ok", f"your folder {folder} {state} and can be written")


def diagnose(folder: Path) -> list[Finding]:
    findings = [python_version(), *packages(), *packages(FOR_AUTHORS, needed=False), nnlib_imports()]
    findings += [*data_sets(), accelerator(), disk_space(folder), writable(folder)]
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path("my-work"), help="your work folder (default my-work)")
    args = parser.parse_args(argv)
    findings = diagnose(args.folder)
    for finding in findings:
        print(finding)
    problems = sum(f.level == "PROBLEM" for f in findings)
    print(f"{problems} problem(s) found" + ("" if problems else ": the course should run here"))
    return exits.FAILED if problems else exits.OK
