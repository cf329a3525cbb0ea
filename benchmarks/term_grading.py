#!/usr/bin/env python3
"""Benchmark: grade N generated submissions of 03_xor into a term's gradebook.

usage: python benchmarks/term_grading.py [--n 100] [--jobs 2 [4 ...]] [--timeout 60]
                                         [--cores 0,1] [--dry-run]

Creates a temporary course folder (primer term-init), generates N submissions with a
realistic mix (40 % correct, 30 % partly right, the rest blank, one kernel crash and one
endless loop), collects them, then for each --jobs value grades all of them from scratch
(`primer autograde --jobs J`, the same code path) and prints submissions per minute, the
wall time, and the cores used. --cores pins the run to those CPUs (taskset semantics,
os.sched_setaffinity), e.g. --cores 0,1 for "2 cores". --dry-run stops after collecting
(the smoke test). Not a test: nothing is asserted about the figures.

example: python benchmarks/term_grading.py --n 100 --jobs 1 2 --cores 0,1
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from primer.term import autograde, collect, synthetic  # noqa: E402
from primer.term.course import Course, create  # noqa: E402

CHAPTER = "03_xor"


def mix(n: int) -> list[str]:
    kinds = ["crash", "loop"] + ["correct"] * round(0.4 * n) + ["partial"] * round(0.3 * n)
    return (kinds + ["blank"] * n)[:n]


def generate(course: Course, n: int, inbox: Path) -> dict[str, int]:
    inbox.mkdir(parents=True)
    code = synthetic.code_answers(course, CHAPTER)
    counts: dict[str, int] = {}
    for index, kind in enumerate(mix(n)):
        data = {"correct": lambda: synthetic.submission(course, CHAPTER, all_correct=True),
                "partial": lambda: synthetic.submission(course, CHAPTER, correct=code[:1]),
                "blank": lambda: synthetic.submission(course, CHAPTER),
                "crash": lambda: synthetic.submission(course, CHAPTER, correct=code[1:],
                                                      replace={code[0]: synthetic.CRASH}),
                "loop": lambda: synthetic.submission(course, CHAPTER, correct=code[:1],
                                                     replace={code[1]: synthetic.LOOP})}[kind]()
        (inbox / f"s{index:03d}.ipynb").write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (the loop costs this)")
    parser.add_argument("--cores", help="CPUs to run on, e.g. 0,1")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    if args.cores:
        os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import datetime as dt
    root = Path(tempfile.mkdtemp(prefix="term-bench-"))
    try:
        course = create(root / "course", [CHAPTER], dt.date(2027, 1, 18), 7, per_day=0.1, cap=0.5, method="per_day")
        config = (course.root / "nbgrader_config.py")
        config.write_text(config.read_text().replace("ResilientExecute.timeout = 60",
                                                     f"ResilientExecute.timeout = {args.timeout}"))
        course = Course(course.root)
        counts = generate(course, args.n, root / "inbox")
        collected = collect.collect(course, CHAPTER, root / "inbox", "2027-01-17 12:00:00 UTC")
        print(f"{len(collected)} submissions of {CHAPTER}: {counts}; cores {sorted(os.sched_getaffinity(0))}")
        if args.dry_run:
            return 0
        pairs = autograde.submitted(course, [CHAPTER], None)
        for jobs in args.jobs:
            shutil.rmtree(course.root / "autograded", ignore_errors=True)
            start = time.perf_counter()
            done = []

            def progress(line, *, total=len(pairs), start=start):
                done.append(line)  # one line per graded submission: a counter on stderr
                print(f"\r--jobs {jobs}: {len(done)}/{total} graded, "
                      f"{time.perf_counter() - start:.0f} s", end="", file=sys.stderr, flush=True)

            results = autograde.autograde(course, pairs, jobs=jobs, progress=progress)
            print(file=sys.stderr)
            elapsed = time.perf_counter() - start
            graded = sum(r[2] for r in results)
            print(f"--jobs {jobs}: {graded}/{len(results)} graded in {elapsed:.0f} s = "
                  f"{60 * len(results) / elapsed:.1f} submissions per minute "
                  f"({elapsed * jobs / len(results):.1f} worker-seconds per submission)")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
