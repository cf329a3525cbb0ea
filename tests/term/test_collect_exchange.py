"""`primer collect --exchange`: nbgrader's exchange as a third source of submissions.

Real nbgrader: the instructor releases with `nbgrader release_assignment`, students
submit with `nbgrader submit` (as one Unix user, naming each student with
--CourseDirectory.student_id, which nbgrader allows on the command line), and
`primer collect --exchange` archives every submission, places each student's newest and
refuses folders that are not owned by the student they name.
"""
from __future__ import annotations

import getpass
import subprocess
import sys
from pathlib import Path

import pytest

from primer import cli
from primer.term import synthetic
from primer.term.course import COURSE_ID, Course

CHAPTER = "00_welcome"
NBGRADER = [sys.executable, "-m", "nbgrader"]


def primer(*args) -> int:
    return cli.main([str(a) for a in args])


def nbgrader(*args, cwd: Path) -> None:
    done = subprocess.run([*NBGRADER, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def submit(root: Path, exchange: Path, student: str, data: bytes) -> None:
    work = root / "homes" / student / CHAPTER
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{CHAPTER}.ipynb").write_bytes(data)
    nbgrader("submit", CHAPTER, "--course", COURSE_ID, f"--Exchange.root={exchange}",
             f"--CourseDirectory.student_id={student}", cwd=work.parent)


@pytest.fixture(scope="module")
def exchange_term(tmp_path_factory):
    root = tmp_path_factory.mktemp("exchange-term")
    folder, exchange = root / "course", root / "exchange"
    exchange.mkdir()
    assert primer("term-init", folder, "--chapters", CHAPTER, "--first-due", "2027-01-18") == 0
    with open(folder / "nbgrader_config.py", "a") as config:
        config.write(f"c.Exchange.root = {str(exchange)!r}\n")
    nbgrader("release_assignment", CHAPTER, "--force", cwd=folder)
    course = Course(folder)
    blank = synthetic.submission(course, CHAPTER)
    right = synthetic.submission(course, CHAPTER, all_correct=True)
    me = getpass.getuser()
    submit(root, exchange, "alice", blank)
    submit(root, exchange, "alice", right)  # her second, newer submission
    submit(root, exchange, "bob", blank)
    submit(root, exchange, me, right)  # the one folder owned by the student it names
    return {"course": course, "exchange": exchange, "me": me, "blank": blank, "right": right}


def test_folders_not_owned_by_their_student_are_refused(exchange_term, capsys):
    course, me = exchange_term["course"], exchange_term["me"]
    assert primer("collect", course.root, CHAPTER, "--exchange") == 1  # root from the config
    out = capsys.readouterr().out
    assert f"owned by {me}, not by alice" in out and f"owned by {me}, not by bob" in out
    assert course.path("submitted", me, CHAPTER).read_bytes() == exchange_term["right"]
    assert not (course.root / "submitted" / "alice").exists()
    assert not (course.root / "submitted" / "bob").exists()


def test_every_submission_archived_and_the_newest_placed(exchange_term, capsys):
    course, exchange = exchange_term["course"], exchange_term["exchange"]
    assert primer("collect", course.root, CHAPTER, "--exchange", exchange, "--no-owner-check") == 0
    out = capsys.readouterr().out
    assert "4 of 4 files collected" in out
    assert course.path("submitted", "alice", CHAPTER).read_bytes() == exchange_term["right"]
    assert course.path("submitted", "bob", CHAPTER).read_bytes() == exchange_term["blank"]
    archived = sorted((course.root / "archive" / "alice" / CHAPTER).glob("*.ipynb"))
    assert [p.read_bytes() for p in archived] == [exchange_term["blank"], exchange_term["right"]]
    stamp = (course.root / "submitted" / "alice" / CHAPTER / "timestamp.txt").read_text()
    inbound = sorted((exchange / COURSE_ID / "inbound").glob(f"alice+{CHAPTER}+*"))
    assert stamp.strip() == inbound[-1].name.rsplit("+", 3)[2]
    # Again: nothing changes, and it says so.
    assert primer("collect", course.root, CHAPTER, "--exchange", exchange, "--no-owner-check") == 0
    assert "unchanged (same file)" in capsys.readouterr().out


def test_bad_exchange_input_is_a_clear_error(exchange_term, tmp_path, capsys):
    course = exchange_term["course"]
    assert primer("collect", course.root, CHAPTER, "--exchange", tmp_path) == 2
    assert "no exchange inbound folder" in capsys.readouterr().err
    assert primer("collect", course.root, CHAPTER, tmp_path, "--exchange") == 2
    assert "not both" in capsys.readouterr().err
