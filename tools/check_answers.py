#!/usr/bin/env python3
"""Check your notebook before you hand it in: which exercises pass their visible tests.

usage: check_answers.py NOTEBOOK [NOTEBOOK ...]      (or: make check NB=my-work/03_xor.ipynb)

Runs a copy of the notebook top to bottom in a fresh kernel, exactly as saved
(save it first), and prints one line per exercise: ✔ when its visible tests
pass, ✘ with the first line of the message when they do not. Your file is not
changed. A ✔ means full points from the grader: the hidden tests use new
inputs but ask for nothing more than the exercise says. Written answers are
graded by your instructor and are listed as such.

Exit status: 0 all visible tests pass, 1 some fail, 2 the file is not a
notebook of this course.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import grading  # noqa: E402
from execute_notebooks import run_notebook  # noqa: E402
from wrong_answers import autograded_exercises, test_cell_outcome  # noqa: E402


def check(path: Path) -> tuple[int, list[str]]:
    """(number of failing exercises, lines to print) for one notebook."""
    known = grading.course_chapters(REPO / "solutions")
    nb = grading.read_submission(path, None, known)
    exercises = autograded_exercises(nb)
    executed = run_notebook(nb, cwd=path.parent, allow_errors=True, timeout=600)
    cells = {grading.meta(c).get("grade_id"): c for c in executed.cells}
    lines, failing = [], 0
    for solution_id, test_id in exercises.items():
        passed, error = test_cell_outcome(cells[test_id])
        if passed:
            lines.append(f"  ✔ {solution_id}")
        else:
            failing += 1
            first = error.splitlines()[0] if error else "the test cell did not finish"
            if first.startswith("NotImplementedError"):
                first = "not answered yet (your answer cell still raises NotImplementedError)"
            lines.append(f"  ✘ {solution_id}: {first[:200]}")
    written = [grading.meta(c)["grade_id"] for c in nb.cells
               if c.cell_type == "markdown" and grading.meta(c).get("solution")]
    lines += [f"  · {gid}: written answer, graded by your instructor" for gid in written]
    return failing, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            failing, lines = check(path)
        except (grading.Rejected, OSError) as err:
            print(f"{path}: cannot check it: {err}", file=sys.stderr)
            status = 2
            continue
        print(f"{path}: " + ("every visible test passes" if not failing else f"{failing} exercise(s) not passing yet"))
        print("\n".join(lines))
        status = max(status, 1 if failing else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
