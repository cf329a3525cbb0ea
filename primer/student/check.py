"""Check your notebook before you hand it in: which exercises pass their visible tests.

usage: primer check [--timeout SECONDS] NOTEBOOK [NOTEBOOK ...]
example: primer check my-work/03_xor.ipynb
       (or: make check NB=my-work/03_xor.ipynb)

Runs a copy of the notebook top to bottom in a fresh kernel, exactly as saved
(save it first), and prints one line per exercise: ✔ when its visible tests
pass, ✘ with the first line of the message when they do not. Your file is not
changed. A ✔ means full points from the grader: the hidden tests use new
inputs but ask for nothing more than the exercise says. Written answers are
graded by your instructor and are listed as such.

The copy is checked the way the grader will see it: the notebook is compared
with the release of the chapter its file name names (chapters/NN_name.ipynb).
A test cell you deleted or changed is put back as released (the grader does
the same, so a cut-down test cannot give a ✔), and this is said; an answer
cell you deleted is put back empty (0 points). A cell that runs longer than
--timeout seconds (default 60; an infinite loop?) or a kernel that dies
(os._exit, a crash, too much memory) is reported against its exercise, and the
exercises after it are listed as not checked.

Exit status:
  0  every visible test passes;
  1  some exercises do not pass (or were not checked because the kernel died);
  2  the file cannot be checked: not a notebook of this course, or it holds
     another chapter than its name says (the grader would reject it);
  3  a cell ran past the time limit (an infinite loop?): the exercises from
     there on were not checked. Fix the loop, or give a longer --timeout.
With several notebooks, the highest status wins.
"""
from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError

REPO = Path(__file__).resolve().parents[2]
from primer.grading import autograde as grading  # noqa: E402
from primer.authoring.execute import KERNEL_NAME, CurrentEnvKernelSpecs, PolledClient, shut_down  # noqa: E402
from primer.authoring.corpus import autograded_exercises, test_cell_outcome  # noqa: E402

DEFAULT_TIMEOUT_S = 60
PASS, FAIL, REJECTED, TIMED_OUT = 0, 1, 2, 3
HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.DOTALL)


class Stopped(Exception):
    """The run stopped at a cell: a timeout or a dead kernel."""

    def __init__(self, index: int | None, why: str, status: int):
        super().__init__(why)
        self.index, self.why, self.status = index, why, status


def chapter_named(path: Path, chapters) -> str | None:
    """The chapter the file name names (03_xor.ipynb, 03_xor.NEW-RELEASE.ipynb, 03_xor-Copy1.ipynb)."""
    return next((name for name in sorted(chapters, key=len, reverse=True)
                 if re.match(rf"{re.escape(name)}(\b|[-_.])", path.stem)), None)


def reference(path: Path, nb, chapters, release: Path) -> tuple[str, nbformat.NotebookNode | None]:
    """(the chapter, its released notebook); Rejected if the file holds another chapter."""
    named, held = chapter_named(path, chapters), grading.which_chapter(nb, chapters)
    if named and held and held != named:
        theirs = set(chapters[held]) & set(grading.grade_ids(nb))
        raise grading.Rejected(
            f"this file is named like chapter {named}, but it holds the exercises of chapter {held} "
            f"({', '.join(sorted(theirs)[:3])}); the grader would reject it as the wrong chapter. "
            f"Save your work for {held} as {held}.ipynb, and your work for {named} as {named}.ipynb.")
    chapter = named or held
    released = release / f"{chapter}.ipynb"
    return chapter, (nbformat.read(released, as_version=4) if released.is_file() else None)


def same_visible(source: str, released: str) -> bool:
    """True for the solution's test cell: the released one plus hidden tests."""
    return "### BEGIN HIDDEN TESTS" in source and HIDDEN.sub("", source).strip() == released.strip()


def as_the_grader_sees_it(nb, released) -> dict[str, str]:
    """Put back deleted and changed test cells (and deleted answer cells) from the release.

    Returns grade_id -> a note for the student. The grader does the same, so
    the check gives the grade's verdict.
    """
    if released is None:
        return {}
    meta = grading.meta
    notes, present = {}, set(grading.grade_ids(nb))
    originals = {meta(c)["grade_id"]: c.source for c in released.cells
                 if meta(c).get("grade") and not meta(c).get("solution") and meta(c).get("grade_id")}
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if gid in originals and cell.source != originals[gid] and not same_visible(cell.source, originals[gid]):
            cell.source = originals[gid]
            notes[gid] = "this test cell was changed: the grader restores it (checked here as released)"
    wanted = [meta(c)["grade_id"] for c in released.cells
              if meta(c).get("grade_id") and (meta(c).get("grade") or meta(c).get("solution"))]
    grading.restore_deleted_cells(nb, released)
    for gid in wanted:
        if gid not in present:
            kind = "answer" if any(meta(c).get("grade_id") == gid and meta(c).get("solution")
                                   for c in released.cells) else "test"
            notes[gid] = (f"this {kind} cell was deleted: the grader restores it"
                          + (" empty (no answer, 0 points)" if kind == "answer" else " (checked here as released)"))
    return notes


def execute(nb, cwd: Path, timeout: int) -> None:
    """Run nb in place; Stopped(index, why, status) at a timeout or a dead kernel."""
    for cell in nb.cells:  # saved outputs must not pass for this run's (a ✔ from last week)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=CurrentEnvKernelSpecs())
    client = PolledClient(nb, km=km, timeout=timeout, allow_errors=True, record_timing=False,
                            resources={"metadata": {"path": str(Path(cwd).resolve())}})
    current = [None]
    client.on_cell_execute = lambda cell, cell_index: current.__setitem__(0, cell_index)
    try:
        client.execute()
    except CellTimeoutError:
        raise Stopped(current[0], f"it ran for more than {timeout} s and was stopped (an infinite loop? "
                      "if your code is only slow, check again with a longer --timeout)", TIMED_OUT) from None
    except DeadKernelError:
        raise Stopped(current[0], "the kernel died while running it (os._exit(), exit(), a crash in "
                      "compiled code, or too much memory); the grader gives it 0", FAIL) from None
    finally:
        shut_down(km)


def check(path: Path, *, timeout: int = DEFAULT_TIMEOUT_S, solutions: Path = REPO / "solutions",
          release: Path = REPO / "chapters") -> tuple[int, int, list[str]]:
    """(exit status, number of exercises not passing, lines to print); Rejected if it cannot be checked."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):  # a FIFO would block the read forever
        raise grading.Rejected(f"it is {'a folder' if stat.S_ISDIR(mode) else 'not a regular file'}, "
                               "not a notebook; give the path of your .ipynb file")
    chapters = grading.course_chapters(solutions)
    nb = grading.read_submission(path, None, chapters)
    chapter, released = reference(path, nb, chapters, release)
    notes = as_the_grader_sees_it(nb, released)
    exercises = autograded_exercises(released if released is not None else nb)
    stopped = None
    try:
        execute(nb, path.parent, timeout)
    except Stopped as stop:
        stopped = stop
    cells = {grading.meta(c).get("grade_id"): c for c in nb.cells}
    positions = grading.grade_ids_positions(nb)
    lines, failing, status = [], 0, PASS
    stop_owner = None
    if stopped is not None and stopped.index is not None:
        stop_owner = next((sid for sid, tid in exercises.items()
                           if stopped.index in (positions.get(sid), positions.get(tid))), None)
        if stop_owner is None:
            lines.append(f"  ✘ cell {stopped.index} (not an exercise cell): {stopped.why}")
    for solution_id, test_id in exercises.items():
        after_stop = stopped is not None and (stopped.index is None or positions.get(test_id, 0) >= stopped.index)
        if solution_id == stop_owner:
            failing += 1
            where = "answer" if positions.get(solution_id) == stopped.index else "test"
            lines.append(f"  ✘ {solution_id}: its {where} cell: {stopped.why}")
        elif after_stop:
            failing += 1
            lines.append(f"  · {solution_id}: not checked (the run stopped at an earlier cell)")
        else:
            passed, error = test_cell_outcome(cells[test_id]) if test_id in cells else (False, "")
            if passed:
                lines.append(f"  ✔ {solution_id}")
            else:
                failing += 1
                first = error.splitlines()[0] if error else "the test cell did not finish"
                unanswered = ("is not answered yet", "You have not set", "You have not defined")
                if first.startswith("NotImplementedError"):
                    first = "not answered yet (your answer cell still raises NotImplementedError)"
                elif any(mark in first for mark in unanswered):  # checks.answer's message
                    first = "not answered yet: " + first.split(": ", 1)[-1]
                lines.append(f"  ✘ {solution_id}: {first[:200]}")
        for gid in (solution_id, test_id):
            if gid in notes:
                lines.append(f"      note: {notes[gid]}")
    written = [grading.meta(c)["grade_id"] for c in nb.cells
               if c.cell_type == "markdown" and grading.meta(c).get("solution")]
    lines += [f"  · {gid}: written answer, graded by your instructor" for gid in written]
    if failing:
        status = FAIL
    if stopped is not None:
        status = max(status, stopped.status, FAIL)
    return status, failing, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds one cell may run before it counts as stuck (default {DEFAULT_TIMEOUT_S})")
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be a whole number of seconds >= 1, got {args.timeout}")
    status = PASS
    for path in args.notebooks:
        try:
            result, failing, lines = check(path, timeout=args.timeout)
        except grading.Rejected as err:
            print(f"{path}: cannot check it: {err}", file=sys.stderr)
            status = max(status, REJECTED)
            continue
        except OSError as err:
            print(f"{path}: cannot check it: cannot read {err.filename or path} ({err.strerror}); "
                  "check the path (e.g. NB=my-work/03_xor.ipynb)", file=sys.stderr)
            status = max(status, REJECTED)
            continue
        heading = ("every visible test passes" if result == PASS
                   else f"stopped: a cell ran past the time limit; {failing} exercise(s) not passing or not checked"
                   if result == TIMED_OUT
                   else f"{failing} exercise(s) not passing yet")
        print(f"{path}: {heading}")
        print("\n".join(lines))
        status = max(status, result)
    return status


if __name__ == "__main__":
    sys.exit(main())
