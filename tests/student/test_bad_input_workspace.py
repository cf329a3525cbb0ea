"""Bad input to the student workspace (`make lab`, primer/student/workspace.py): probe 2026-12, N4.

Full disk, odd files named like notebooks, unreadable release, damaged or
missing state: never a half-written notebook, never a hang, a message that
names the real cause, and no spurious NEW-RELEASE copy.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.student import workspace as ws  # noqa: E402

NAMES = ("00_welcome.ipynb", "03_xor.ipynb")


@pytest.fixture
def release(tmp_path) -> Path:
    folder = tmp_path / "chapters"
    folder.mkdir()
    for name in NAMES:
        shutil.copy(REPO / "chapters" / name, folder / name)
    return folder


def answered(path: Path) -> None:
    """The student writes an answer into the first answer cell and adds a cell of their own."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    cell.source = cell.source.replace("raise NotImplementedError()", "pass  # my answer")
    nb.cells.append(nbformat.v4.new_code_cell("print('my own experiment')"))
    nbformat.write(nb, path)


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def run(release, work, capsys):
    rc = ws.main([str(release), str(work)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return rc, out.out, out.err


def test_full_disk_leaves_no_half_notebook_and_says_so(release, tmp_path, capsys, monkeypatch):
    work = tmp_path / "my-work"
    real_fsync, calls = os.fsync, []

    def full_on_second(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(ws.os, "fsync", full_on_second)
    rc, out, err = run(release, work, capsys)
    assert rc == 2 and "the disk is full" in err and "Free some space" in err and "permissions" not in err
    assert listing(work) == [NAMES[0]], "the second notebook must not exist, even truncated; no temp files"
    monkeypatch.setattr(ws.os, "fsync", real_fsync)
    rc, out, err = run(release, work, capsys)                            # space again
    assert rc == 0 and "NEW-RELEASE" not in out + err
    assert listing(work) == sorted([ws.STATE, *NAMES])
    assert all((work / n).read_bytes() == (release / n).read_bytes() for n in NAMES)


def test_truncated_notebook_from_an_older_version_is_named_as_damaged(release, tmp_path, capsys):
    work = tmp_path / "my-work"
    work.mkdir()
    (work / NAMES[1]).write_bytes((release / NAMES[1]).read_bytes()[:300])
    rc, out, err = run(release, work, capsys)
    assert rc == 0 and "is not a readable notebook" in out and "open the new copy" in out
    assert (work / NAMES[1]).read_bytes() == (release / NAMES[1]).read_bytes()[:300], "never overwritten"


def make_odd(path: Path, kind: str) -> None:
    if kind == "folder":
        path.mkdir()
    elif kind == "dangling symlink":
        path.symlink_to(path.parent / "nowhere.ipynb")
    else:
        os.mkfifo(path)


@pytest.mark.parametrize("kind, says", [("folder", "a folder"), ("dangling symlink", "a dangling symlink"),
                                        ("fifo", "a FIFO")])
def test_odd_file_named_like_a_notebook_is_skipped_not_blocking(release, tmp_path, kind, says):
    """Run in a subprocess with a timeout: a FIFO once blocked the tool forever."""
    work = tmp_path / "my-work"
    work.mkdir()
    make_odd(work / NAMES[0], kind)
    result = subprocess.run([sys.executable, "-m", "primer.student.workspace", str(release), str(work)],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert f"skipped {NAMES[0]}" in result.stderr and says in result.stderr and "rename or remove" in result.stderr
    assert "permissions" not in result.stderr and "Traceback" not in result.stderr
    assert (work / NAMES[1]).read_bytes() == (release / NAMES[1]).read_bytes(), "the others are still copied"
    assert json.loads((work / ws.STATE).read_text()).keys() == {NAMES[1]}


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_odd_state_file_is_named_and_nothing_left_behind(release, tmp_path, capsys, kind):
    work = tmp_path / "my-work"
    work.mkdir()
    make_odd(work / ws.STATE, kind)
    rc, out, err = run(release, work, capsys)                            # a FIFO here must not block
    assert rc == 0 and f"{ws.STATE} is a" in err and "rename or remove it" in err
    assert listing(work) == sorted([ws.STATE, *NAMES]), "no .release.json.tmp left behind"


def test_unreadable_release_notebook_is_skipped_with_its_cause(release, tmp_path, capsys, monkeypatch):
    real = Path.read_bytes

    def denied(self):
        if self.name == NAMES[0] and self.parent == release:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)             # root ignores chmod 000
    rc, out, err = run(release, tmp_path / "my-work", capsys)
    assert rc == 0 and f"skipped the release's {NAMES[0]}" in err and "Permission denied" in err
    assert "chmod a+r" in err and listing(tmp_path / "my-work") == sorted([ws.STATE, NAMES[1]])


def test_unreadable_release_folder_is_an_error_not_silence(release, tmp_path, capsys, monkeypatch):
    real = os.listdir

    def denied(path="."):
        if Path(path) == release:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(ws.os, "listdir", denied)
    rc, out, err = run(release, tmp_path / "my-work", capsys)
    assert rc == 2 and "cannot read the course release" in err and "Permission denied" in err


@pytest.mark.parametrize("state", ["damaged", "deleted"])
def test_lost_state_with_an_unchanged_release_makes_no_new_release(release, tmp_path, capsys, state):
    work = tmp_path / "my-work"
    ws.sync(release, work)
    answered(work / NAMES[1])
    mine = (work / NAMES[1]).read_bytes()
    if state == "damaged":
        (work / ws.STATE).write_text("{damaged")
    else:
        (work / ws.STATE).unlink()
    rc, out, err = run(release, work, capsys)
    assert rc == 0 and "new release" not in out and listing(work) == sorted([ws.STATE, *NAMES])
    assert (work / NAMES[1]).read_bytes() == mine


def test_lost_state_with_a_changed_release_still_says_new_release(release, tmp_path, capsys):
    work = tmp_path / "my-work"
    ws.sync(release, work)
    answered(work / NAMES[1])
    (work / ws.STATE).unlink()
    nb = nbformat.read(release / NAMES[1], as_version=4)
    nb.cells[0].source += "\n\n(Corrected in the second release.)"
    nbformat.write(nb, release / NAMES[1])
    rc, out, err = run(release, work, capsys)
    assert rc == 0 and f"new release of {NAMES[1]}" in out
