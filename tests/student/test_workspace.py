"""Students work in their own folder; nothing there is ever overwritten or deleted.

The student's folder is filled by primer/student/workspace.py (run by `make lab`) from the
release in chapters/, which primer/authoring/release.py regenerates. Every kind of
student file below must stay byte-identical through both, with the release
unchanged and changed.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.authoring import release as mc  # noqa: E402
from primer.student import workspace as ws  # noqa: E402

NOTEBOOK = "01_perceptron.ipynb"


def edited(path: Path, edit) -> bytes:
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    return (nbformat.writes(nb) + "\n").encode()


def first_stub(nb):
    return next(c for c in nb.cells if "raise NotImplementedError()" in c.source)


def answer_above_stub(nb):
    cell = first_stub(nb)
    cell.source = cell.source.replace("raise NotImplementedError()", "x = 1\n    raise NotImplementedError()")


def stub_commented_out(nb):
    cell = first_stub(nb)
    cell.source = cell.source.replace("raise NotImplementedError()", "# raise NotImplementedError()\n    return w, b")


def written_answer(nb):
    cell = next(c for c in nb.cells if "YOUR ANSWER HERE" in c.source)
    cell.source += "\n\nBecause the line through both points has slope 2."


def own_cells_only(nb):
    nb.cells.append(nbformat.v4.new_code_cell("my_note = 'try lr = 0.3 next'"))


def student_files(release: Path) -> dict[str, bytes]:
    """Every case that a regeneration or update once destroyed, as name -> bytes."""
    base = release / NOTEBOOK
    conflict = b"<<<<<<< HEAD\n" + base.read_bytes()[:200] + b"\n=======\n{}\n>>>>>>> theirs\n"
    return {
        "00_welcome.ipynb": edited(release / "00_welcome.ipynb", answer_above_stub),
        "01_perceptron.ipynb": edited(base, stub_commented_out),
        "02_activation_functions.ipynb": edited(release / "02_activation_functions.ipynb", written_answer),
        "03_xor.ipynb": edited(release / "03_xor.ipynb", own_cells_only),
        "04_forward_pass.ipynb": base.read_bytes()[:500],                     # damaged JSON
        "05_loss_functions.ipynb": conflict,                                  # merge-conflict markers
        "my_experiments.ipynb": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        "01_perceptron-Copy1.ipynb": edited(base, answer_above_stub),
        "mlp_weights.npz": b"PK\x03\x04 saved model",
        "figure.png": b"\x89PNG\r\n\x1a\n my plot",
    }


@pytest.fixture
def course(tmp_path):
    """A copy of the sources and the release, and a student folder filled from it."""
    shutil.copytree(REPO / "solutions", tmp_path / "solutions", ignore=shutil.ignore_patterns(".*"))
    shutil.copytree(REPO / "chapters", tmp_path / "chapters", ignore=shutil.ignore_patterns(".*"))
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ws.STATE}


def test_first_use_copies_the_release(course, capsys):
    work = course / "my-work"
    assert ws.main([str(course / "chapters"), str(work)]) == 0
    assert snapshot(work) == snapshot(course / "chapters")
    assert "notebook(s) copied in" in capsys.readouterr().out
    assert ws.sync(course / "chapters", work) == []                       # second start: nothing to do


@pytest.mark.parametrize("release_changes", [False, True], ids=["same release", "new release"])
def test_student_files_survive_make_chapters_and_updates(course, capsys, release_changes):
    work = course / "my-work"
    ws.sync(course / "chapters", work)
    mine = student_files(course / "chapters")
    for name, data in mine.items():
        (work / name).write_bytes(data)
    if release_changes:
        for path in (course / "solutions").glob("*.ipynb"):
            nb = nbformat.read(path, as_version=4)
            nb.cells[0].source += "\n\n(Corrected in the second release.)"
            nbformat.write(nb, path)
    assert mc.main([str(course / "solutions"), str(course / "chapters")]) == 0
    assert ws.main([str(course / "chapters"), str(work)]) == 0
    after = snapshot(work)
    assert {name: after.get(name) for name in mine} == mine, "a student file changed"
    out = capsys.readouterr().out
    beside = sorted(name for name in after if ws.NEW_RELEASE in name)
    if release_changes:
        released = snapshot(course / "chapters")                          # every one changed, every one was given
        assert beside == sorted(ws.beside_name(n, 1) for n in released)
        assert all(after[ws.beside_name(n, 1)] == data for n, data in released.items())
        assert out.count("new release of") == len(released) and "01_perceptron.NEW-RELEASE.ipynb" in out
    else:
        assert beside == [] and "new release" not in out
    assert ws.sync(course / "chapters", work) == []                       # said once, not at every start
    assert snapshot(work) == after


def test_a_taken_name_gets_a_number(course):
    work = course / "my-work"
    ws.sync(course / "chapters", work)
    (work / ws.beside_name(NOTEBOOK, 1)).write_bytes(b"the student's edits to an older new release")
    (work / ws.STATE).write_text('{"01_perceptron.ipynb": "0000"}')         # the student has an older release
    lines = ws.sync(course / "chapters", work)
    assert lines == [f"new release of {NOTEBOOK}: it is in {work / ws.beside_name(NOTEBOOK, 2)}; "
                     f"your {NOTEBOOK} is unchanged (copy your answers across, or keep working where you are)"]
    assert (work / ws.beside_name(NOTEBOOK, 1)).read_bytes() == b"the student's edits to an older new release"


def test_lost_state_is_safe(course):
    """Without the record, a copy that differs from the release is treated as the student's work."""
    work = course / "my-work"
    ws.sync(course / "chapters", work)
    (work / NOTEBOOK).write_bytes(b"my answers")
    (work / ws.STATE).write_text("{damaged")
    ws.sync(course / "chapters", work)
    assert (work / NOTEBOOK).read_bytes() == b"my answers"
    assert (work / ws.beside_name(NOTEBOOK, 1)).read_bytes() == (course / "chapters" / NOTEBOOK).read_bytes()


def test_deleted_notebook_is_copied_back(course):
    work = course / "my-work"
    ws.sync(course / "chapters", work)
    (work / NOTEBOOK).unlink()
    assert ws.sync(course / "chapters", work) == [f"copied: {work / NOTEBOOK}"]


def test_unwritable_workspace_is_a_clear_error(course, capsys, monkeypatch):
    work = course / "my-work"
    ws.sync(course / "chapters", work)
    (work / NOTEBOOK).write_bytes(b"my answers")
    before = snapshot(work)
    shutil.copy(course / "chapters" / NOTEBOOK, course / "chapters" / "06_new.ipynb")

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(ws, "create_new", refuse)     # root ignores chmod, so refuse as a read-only disk would
    assert ws.main([str(course / "chapters"), str(work)]) == 2
    err = capsys.readouterr().err
    assert "cannot write to" in err and "Permission denied" in err and "unchanged" in err and "Traceback" not in err
    assert snapshot(work) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_read_only_workspace_with_chmod(course, capsys):
    work = course / "my-work"
    ws.sync(course / "chapters", work)
    shutil.copy(course / "chapters" / NOTEBOOK, course / "chapters" / "06_new.ipynb")
    work.chmod(0o555)
    try:
        assert ws.main([str(course / "chapters"), str(work)]) == 2
    finally:
        work.chmod(0o755)


def test_workspace_that_is_a_file(course, capsys):
    (course / "my-work").write_text("oops")
    assert ws.main([str(course / "chapters"), str(course / "my-work")]) == 2
    assert "exists but is not a folder" in capsys.readouterr().err
    assert (course / "my-work").read_text() == "oops"


def test_make_lab_opens_the_student_folder():
    from primer.student import lab

    makefile = (REPO / "Makefile").read_text()
    assert "$(BIN)/primer lab --folder $(WORK)" in makefile
    assert lab.RELEASE == REPO / "chapters"
    command = lab.lab_command(Path("my-work"), ["--port", "9"])
    assert command[1:4] == ["-m", "jupyterlab", "--notebook-dir=my-work"] and command[-2:] == ["--port", "9"]
    assert "/my-work/" in (REPO / ".gitignore").read_text().split()
