"""primer test: every test and every notebook, as CI runs them.

usage: primer test [--jobs N] [-- PYTEST-OPTIONS...]

Runs pytest over tests/, solutions/ and chapters/ (nbval executes every notebook) in
N worker processes, each limited to one BLAS/OpenMP thread: several workers with
multi-threaded BLAS oversubscribe a small machine (OpenBLAS threads spin while they
wait; one corpus run stalled for 5 minutes that way). The data sets are taken from
$NNLIB_DATA, or from ../shared/data when it sits beside the course folder. Prints the
ten slowest tests at the end.

examples: primer test
          primer test --jobs 1 -- tests/nnlib/test_data.py -q
Exit status: pytest's (0 all passed, 1 some failed, 2-4 usage or internal errors, 5 no tests).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def test_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update({var: "1" for var in ONE_THREAD})
    shared = REPO.parent / "shared" / "data"
    if "NNLIB_DATA" not in env and shared.is_dir():
        env["NNLIB_DATA"] = str(shared)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(own)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    # --no-loadscope-reorder: hand files out in collection order (conftest.py puts the
    # longest first); xdist's default puts files with many tests first, which left the two
    # one-test browser files, the longest of all, to end the run.
    command = [sys.executable, "-m", "pytest", "-n", str(args.jobs), "--dist", "loadfile",
               "--no-loadscope-reorder", "--durations=10", *extra]
    return subprocess.call(command, cwd=REPO, env=test_environment())
