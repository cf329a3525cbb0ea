"""Bad submissions to `make check` (primer/student/check.py): probe 2026-12, N3.

A tiny two-chapter course keeps each check to one short kernel run.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
from primer.student import check as ca  # noqa: E402
from primer.grading import autograde as grading  # noqa: E402
from primer.authoring import release as mc  # noqa: E402


def graded(cell, grade_id, *, solution=False, grade=False, locked=False, points=None):
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                                 "solution": solution} | ({"points": points} if points is not None else {})
    return cell


def chapter(prefix: str) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(f"# Chapter {prefix}"), new_code_cell("from nnlib import checks")]
    for n in (1, 2):
        cells += [
            graded(new_code_cell(f"### BEGIN SOLUTION\n{prefix}_a{n} = {n}\n### END SOLUTION"),
                   f"{prefix}-ex{n}", solution=True),
            graded(new_code_cell(f'assert {prefix}_a{n} == {n}, "{prefix}_a{n} should be {n}"\n'
                                 f'checks.passed("{prefix}-ex{n}")\n'
                                 f"### BEGIN HIDDEN TESTS\nassert {prefix}_a{n} + 0 == {n}\n### END HIDDEN TESTS"),
                   f"{prefix}-ex{n}-tests", grade=True, locked=True, points=1),
        ]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    for name in ("00_tiny", "01_other"):
        (root / "solutions").mkdir(exist_ok=True)
        nbformat.write(chapter({"00_tiny": "c0", "01_other": "c1"}[name]), root / "solutions" / f"{name}.ipynb")
    mc.make_chapters(root / "solutions", root / "chapters")
    return root


def student(course: Path, tmp_path: Path, name: str, edit=None, *, answered=True, source="00_tiny"):
    nb = nbformat.read(course / ("solutions" if answered else "chapters") / f"{source}.ipynb", as_version=4)
    if answered:  # the student's answers, in a student notebook (release test cells)
        released = nbformat.read(course / "chapters" / f"{source}.ipynb", as_version=4)
        for mine, theirs in zip(nb.cells, released.cells):
            if grading.meta(theirs).get("grade") and not grading.meta(theirs).get("solution"):
                mine.source = theirs.source
            mine.source = mine.source.replace("### BEGIN SOLUTION\n", "").replace("\n### END SOLUTION", "")
    if edit:
        edit(nb)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def check(course, path, timeout=30):
    before = path.read_bytes()
    result = ca.check(path, timeout=timeout, solutions=course / "solutions", release=course / "chapters")
    assert path.read_bytes() == before, "the student's file is never changed"
    return result


def cell_of(nb, gid):
    return next(c for c in nb.cells if grading.meta(c).get("grade_id") == gid)


def test_answered_notebook_passes(course, tmp_path):
    status, failing, lines = check(course, student(course, tmp_path, "00_tiny.ipynb"))
    assert (status, failing) == (0, 0) and lines == ["  ✔ c0-ex1", "  ✔ c0-ex2"]


def test_dead_kernel_is_reported_per_exercise(course, tmp_path):
    def die(nb):
        cell_of(nb, "c0-ex1").source = "import os\nos._exit(1)\n"
    status, failing, lines = check(course, student(course, tmp_path, "00_tiny.ipynb", die))
    assert status == ca.FAIL and failing == 2
    assert lines[0].startswith("  ✘ c0-ex1: its answer cell: the kernel died while running it (os._exit()")
    assert lines[1] == "  · c0-ex2: not checked (the run stopped at an earlier cell)"


def test_infinite_loop_is_stopped_by_the_per_cell_timeout(course, tmp_path):
    def loop(nb):
        cell_of(nb, "c0-ex2").source = "import time\nwhile True:\n    time.sleep(0.1)\n"
    start = time.monotonic()
    status, failing, lines = check(course, student(course, tmp_path, "00_tiny.ipynb", loop), timeout=2)
    assert time.monotonic() - start < 25
    assert status == ca.TIMED_OUT == 3 and failing == 1
    assert lines[0] == "  ✔ c0-ex1"
    assert lines[1].startswith("  ✘ c0-ex2: its answer cell: it ran for more than 2 s") and "--timeout" in lines[1]


def test_default_timeout_is_short_and_documented():
    assert ca.DEFAULT_TIMEOUT_S <= 60 and "--timeout" in ca.__doc__
    for status in ("0  every", "1  some", "2  the file cannot", "3  a cell ran past"):
        assert status in ca.__doc__


def test_another_chapter_under_a_wrong_name_is_refused(course, tmp_path):
    path = student(course, tmp_path, "01_other.ipynb")                    # holds chapter 00's exercises
    with pytest.raises(grading.Rejected, match=r"named like chapter 01_other, but it holds the exercises of "
                                               r"chapter 00_tiny.*wrong chapter.*00_tiny.ipynb"):
        check(course, path)


def test_deleted_cells_are_named_not_dropped(course, tmp_path):
    def delete(nb):
        nb.cells.remove(cell_of(nb, "c0-ex1-tests"))
        nb.cells.remove(cell_of(nb, "c0-ex2"))
    status, failing, lines = check(course, student(course, tmp_path, "00_tiny.ipynb", delete))
    text = "\n".join(lines)
    assert status == ca.FAIL and failing == 1
    assert "  ✔ c0-ex1" in lines and "this test cell was deleted: the grader restores it" in text
    assert "  ✘ c0-ex2:" in text and "this answer cell was deleted: the grader restores it empty" in text


def test_cut_down_test_cell_gives_no_tick(course, tmp_path):
    def cut(nb):
        cell_of(nb, "c0-ex1-tests").source = 'checks.passed("c0-ex1")'
    path = student(course, tmp_path, "00_tiny.ipynb", cut, answered=False)
    status, failing, lines = check(course, path)
    assert status == ca.FAIL and failing == 2
    assert lines[0].startswith("  ✘ c0-ex1:")
    assert lines[1] == "      note: this test cell was changed: the grader restores it (checked here as released)"


def test_fifo_named_like_a_notebook_is_refused_without_blocking(course, tmp_path):
    def blocked(signum, frame):
        raise TimeoutError("check_answers opened the FIFO and blocked")

    os.mkfifo(tmp_path / "00_tiny.ipynb")
    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    try:
        with pytest.raises(grading.Rejected, match="not a regular file"):
            ca.check(tmp_path / "00_tiny.ipynb", solutions=course / "solutions", release=course / "chapters")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
