"""Run a student's kernel in a box: its own scratch folder, resource limits, and
(where bubblewrap is installed) no network and a read-only view of everything else.

Used by primer/grading/grade.py. What is and is not isolated is documented in
docs/instructors.md; `describe()` says which of the two levels this machine has.

- Always: the kernel's working directory is the student's scratch folder, HOME
  and the caches point there too, and prlimit caps address space, CPU time,
  file size and (for non-root graders) the number of processes.
- With bubblewrap (`apt-get install bubblewrap`): the whole filesystem is
  mounted read-only except the scratch folder (TMPDIR points into it), the network
  is unshared (the kernel talks to the grader over Unix sockets in the scratch
  folder), and the kernel dies with the grader.
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 4 << 30        # address space; numpy + torch import needs ~2 GiB
    cpu_seconds: int = 600             # the whole kernel's CPU time
    file_bytes: int = 64 << 20         # largest file the kernel may write
    processes: int = 256               # enforced only when the grader is not root


def bubblewrap() -> str | None:
    """Path of a working bwrap, or None."""
    path = shutil.which("bwrap")
    if not path:
        return None
    probe = os.system(f"{path} --ro-bind / / --unshare-net --die-with-parent true >/dev/null 2>&1")
    return path if probe == 0 else None


def describe() -> str:
    """One line for the start of a grading run."""
    if bubblewrap():
        return ("sandbox: bubblewrap (read-only filesystem except the student's scratch folder, no network) "
                "+ resource limits")
    return ("sandbox: resource limits and a scratch folder only; bubblewrap is not installed, so submissions "
            "can read and write the grader's files and use the network (apt-get install bubblewrap, or grade "
            "in a container: docs/instructors.md)")


def wrapper(scratch: Path, limits: Limits) -> list[str]:
    """The command prefix that boxes a kernel."""
    prefix = []
    bwrap = bubblewrap()
    if bwrap:
        # No private /tmp: the course, its venv or the data may live under /tmp (CI clones
        # do); the kernel's TMPDIR points into its scratch folder instead.
        prefix += [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                   "--bind", str(scratch), str(scratch), "--chdir", str(scratch),
                   "--unshare-net", "--die-with-parent", "--new-session"]
    prefix += ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}",
               f"--fsize={limits.file_bytes}"]
    if os.geteuid() != 0:  # root is exempt from RLIMIT_NPROC anyway
        prefix.append(f"--nproc={limits.processes}")
    return prefix + ["--"]


class BoxedKernelManager(AsyncKernelManager):
    """An ipykernel of this Python, started inside the box around `scratch`."""

    scratch: Path = Path(".")
    limits: Limits = Limits()

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", os.path.realpath(self.connection_file)]
        return wrapper(self.scratch, self.limits) + cmd + list(extra_arguments or [])


def kernel_manager(scratch: Path, limits: Limits) -> BoxedKernelManager:
    """A kernel manager whose sockets and files live in scratch (no TCP: the box has no network)."""
    scratch.mkdir(parents=True, exist_ok=True)
    km = BoxedKernelManager(transport="ipc", ip=str(scratch / "kernel"),
                            connection_file=str(scratch / "kernel.json"))
    km.scratch, km.limits = scratch, limits
    return km


def kernel_env(scratch: Path) -> dict[str, str]:
    """Environment for the kernel: nothing of the grader's home, caches in scratch."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_TOKEN"))}
    (scratch / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(scratch), MPLCONFIGDIR=str(scratch / ".mpl"), XDG_CACHE_HOME=str(scratch / ".cache"),
               TMPDIR=str(scratch / "tmp"),
               MPLBACKEND="Agg", NNLIB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    return env
