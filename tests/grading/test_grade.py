"""primer/grading/grade.py grades a hostile class fairly, safely, and with a reason in every row.

One batch of submissions of 00_welcome (the quickest chapter) built here: each
hostile student solved exercise 1 and put the attack in exercise 2's cell, so a
fair grader keeps exercise 1's points whatever exercise 2 does.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.grading import grade  # noqa: E402
from primer.grading import sandbox  # noqa: E402

CHAPTER = "00_welcome"
pytestmark = pytest.mark.filterwarnings("ignore")


def solution() -> nbformat.NotebookNode:
    """The released notebook as a student who solved everything hands it in."""
    reference = nbformat.read(REPO / "solutions" / f"{CHAPTER}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in reference.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = grade.release_notebook(CHAPTER)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def ids(nb) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def exercises() -> list[str]:
    return list(grade.chapter_points(CHAPTER))


def with_cell(source: str, *, exercise: int = 1) -> bytes:
    """The solved notebook with exercise `exercise`'s answer cell replaced by source."""
    nb = solution()
    nb.cells[ids(nb).index(exercises()[exercise])].source = source
    return nbformat.writes(nb).encode()


def edited_test() -> bytes:
    nb = solution()
    first = exercises()[0]
    nb.cells[ids(nb).index(first)].source = "def weighted_sum(x, w, b):\n    return 0.0"
    nb.cells[ids(nb).index(first) + 1].source = "print('all good')"
    return nbformat.writes(nb).encode()


def deleted(grade_id_suffix: str, *, exercise: int) -> bytes:
    nb = solution()
    del nb.cells[ids(nb).index(exercises()[exercise] + grade_id_suffix)]
    return nbformat.writes(nb).encode()


def with_extra_cells() -> bytes:
    nb = solution()
    nb.cells.insert(3, nbformat.v4.new_code_cell("scratch = [i * i for i in range(10)]\nprint(scratch)"))
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes"))
    return nbformat.writes(nb).encode()


def hostile_class(outside: Path, submissions: Path) -> dict[str, bytes]:
    escape = f"open({str(outside / 'absolute.txt')!r}, 'w').write('escaped')"
    return {
        "loop": with_cell("while True:\n    pass"),
        "deaf_loop": with_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
        "sys_exit": with_cell("import sys\nsys.exit(3)"),
        "os_exit": with_cell("import os\nos._exit(1)"),
        "segfault": with_cell("import ctypes\nctypes.string_at(0)"),
        "edited_tests": edited_test(),
        "deleted_test": deleted("-tests", exercise=0),
        "deleted_answer": deleted("", exercise=1),
        "bad_json": b'{"cells": [',
        "wrong_chapter": (REPO / "chapters" / "02_activation_functions.ipynb").read_bytes(),
        "empty": b"",
        "huge_print": with_cell("print('x' * 50_000_000)"),
        "relative_writes": with_cell("open('../../../escape.txt', 'w').write('x')\n"
                                     f"open({str(submissions / 'zz_planted.ipynb')!r}, 'w').write('{{}}')"),
        "absolute_write": with_cell(escape),
        "memory_hog": with_cell("hog = bytearray(16 << 30)"),
        "extra_cells": with_extra_cells(),
        "correct": nbformat.writes(solution()).encode(),
        "blank": nbformat.writes(grade.release_notebook(CHAPTER)).encode(),
    }


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    submissions, outside, out = root / "submissions", root / "outside", root / "out"
    submissions.mkdir(), outside.mkdir()
    for student, data in hostile_class(outside, submissions).items():
        (submissions / f"{student}_{CHAPTER}.ipynb").write_bytes(data)
    before = tree(submissions)
    args = [CHAPTER, str(submissions), "--out", str(out), "--jobs", "2", "--timeout", "8", "--quiet",
            "--memory", "3"]
    assert grade.main(args) == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    return rows, before, tree(submissions), root, out, args


def points(row, exercise: int) -> float:
    return float(row[exercises()[exercise]])


def test_every_student_has_a_row_with_a_reason(graded):
    rows = graded[0]
    assert len(rows) == 18
    assert all(row["reason"] and row["total"] != "" for row in rows.values())


def test_correct_full_blank_zero(graded):
    rows = graded[0]
    assert rows["correct"]["total"] == rows["correct"]["max"] and rows["correct"]["reason"] == "ok"
    assert float(rows["blank"]["total"]) == 0 and rows["extra_cells"]["total"] == rows["extra_cells"]["max"]
    assert "You have not" in rows["blank"]["reason"]


@pytest.mark.parametrize("student, reason", [
    ("loop", "timed out after 8 s in cell"), ("deaf_loop", "timed out after 8 s in cell"),
    ("os_exit", "the kernel died"), ("segfault", "the kernel died"), ("sys_exit", "SystemExit: 3"),
    ("memory_hog", "MemoryError"), ("huge_print", "truncated"), ("absolute_write", "Error: [Errno"),
])
def test_a_crash_costs_only_its_own_exercise(graded, student, reason):
    if student == "absolute_write" and not sandbox.bubblewrap():
        pytest.skip("bubblewrap is not installed: the write is not confined")
    row = graded[0][student]
    assert points(row, 0) == float(grade.chapter_points(CHAPTER)[exercises()[0]]), row
    assert points(row, 1) == 0 and reason in row["reason"], row


@pytest.mark.parametrize("student, reason", [
    ("bad_json", "not valid JSON (line 1, column 12"), ("empty", "empty file"),
    ("wrong_chapter", "this is the notebook for 02_activation_functions, not 00_welcome"),
])
def test_ungradable_files_say_why(graded, student, reason):
    row = graded[0][student]
    assert row["status"] == "not graded" and row["reason"].startswith(reason) and float(row["total"]) == 0


def test_tests_cannot_be_edited_or_deleted_to_pass(graded):
    rows = graded[0]
    assert points(rows["edited_tests"], 0) == 0                      # nbgrader restored the real test
    assert "was edited (graded with the original)" in rows["edited_tests"]["reason"]
    assert points(rows["deleted_test"], 0) > 0 and "was deleted (restored from the release and graded)" in \
        rows["deleted_test"]["reason"]
    assert points(rows["deleted_answer"], 1) == 0 and points(rows["deleted_answer"], 0) > 0
    assert "solution cell" in rows["deleted_answer"]["reason"]


def test_submissions_are_never_modified(graded):
    _, before, after, *_ = graded
    assert {name: after.get(name) for name in before} == before


@pytest.mark.skipif(not sandbox.bubblewrap(), reason="bubblewrap is not installed: writes are not confined")
def test_nothing_is_written_outside_the_scratch_area(graded):
    _, _, _, root, out, _ = graded
    assert not list((root / "outside").iterdir())
    assert not (root / "escape.txt").exists() and not (REPO / "escape.txt").exists()
    assert not (root / "submissions" / "zz_planted.ipynb").exists()
    assert sorted(p.name for p in out.iterdir()) == ["feedback", "grades.csv"]


def test_huge_output_is_capped_in_the_feedback(graded):
    out = graded[4]
    assert (out / "feedback" / "huge_print.html").stat().st_size < 2_000_000


def test_rerun_is_idempotent(graded):
    *_, out, args = graded
    first = (out / "grades.csv").read_bytes()
    ungradable = [CHAPTER, str(out.parent / "submissions"), "--out", str(out), "--jobs", "1", "--quiet"]
    keep = {p.name for p in (out.parent / "submissions").iterdir() if p.name.startswith(("correct", "blank", "empty"))}
    subset = out.parent / "subset"
    subset.mkdir()
    for name in keep:
        shutil.copy(out.parent / "submissions" / name, subset / name)
    ungradable[1] = str(subset)
    for _ in range(2):
        assert grade.main(ungradable[:3] + [str(out.parent / "rerun")] + ungradable[4:]) == 0
    again = (out.parent / "rerun" / "grades.csv").read_bytes()
    assert again.splitlines()[0] == first.splitlines()[0]
    assert set(again.splitlines()[1:]) <= set(first.splitlines()[1:])


def test_students_can_check_their_notebook(tmp_path, capsys):
    from primer.student import check as check_answers
    solved, blank = tmp_path / "solved.ipynb", tmp_path / "blank.ipynb"
    solved.write_bytes(nbformat.writes(solution()).encode())
    blank.write_bytes(nbformat.writes(grade.release_notebook(CHAPTER)).encode())
    before = solved.read_bytes()
    assert check_answers.main([str(solved)]) == 0
    assert "every visible test passes" in capsys.readouterr().out and solved.read_bytes() == before
    assert check_answers.main([str(blank)]) == 1
    out = capsys.readouterr().out
    assert f"✘ {exercises()[0]}: not answered yet" in out
    assert "is not answered yet" in out or "You have not" in out
    (tmp_path / "bad.ipynb").write_text("{")
    assert check_answers.main([str(tmp_path / "bad.ipynb")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_names_that_collide_each_get_a_row(tmp_path):
    for name in ("alice.ipynb", f"alice_{CHAPTER}.ipynb", "bob.ipynb", "notes.txt"):
        (tmp_path / name).write_text("{}")
    nested = tmp_path / "carol" / CHAPTER
    nested.mkdir(parents=True)
    (nested / f"{CHAPTER}.ipynb").write_text("{}")
    found = grade.find_submissions(tmp_path, CHAPTER)
    assert [s for s, _ in found] == ["alice", "alice-2", "bob", "carol"]
