"""nbgrader's course folder and exchange for a `LocalHub` class, and the instructor's side.

The exchange is one folder with the permissions nbgrader documents
(`chmod ugo+rw`: drwxrwxrwx, owned by root); `nbgrader release_assignment` makes each
course's `inbound/` write-only for students (drwx-wx-wx), so a student can submit
but cannot list, hence cannot find, anyone else's submission. Each class member has
`~/.jupyter/nbgrader_config.py` naming the exchange and the course; the instructor's
also names the course folder, `~/course`, whose `source/<chapter>/` is copied from
`solutions/`. The instructor's steps run nbgrader's own command line under the
instructor's Unix id, in the course folder, with the course's environment.
"""
from __future__ import annotations

import os
import pwd
from pathlib import Path

from primer.hub.local import BIN, LocalHub, run_as

REPO = Path(__file__).resolve().parents[2]
COURSE_ID = "dl_primer"


def set_up(hub: LocalHub, chapters: list[str]) -> Path:
    """Create the exchange, everyone's nbgrader config and the instructor's course folder;
    returns the course folder."""
    exchange = hub.root / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)  # nbgrader's documented `chmod ugo+rw` on a new folder
    for short in [hub.instructor, *hub.students]:
        home = hub.home(short)
        lines = [f"c.Exchange.root = {str(exchange)!r}",
                 f"c.CourseDirectory.course_id = {COURSE_ID!r}"]
        if short == hub.instructor:
            lines += [f"c.CourseDirectory.root = {str(home / 'course')!r}",
                      "c.ExecutePreprocessor.timeout = 120"]
        write_owned(hub, short, home / ".jupyter" / "nbgrader_config.py", "\n".join(lines) + "\n")
    # The term's course folder, made by `primer term-init` (primer/term/course.py) as the
    # instructor: source/ from solutions/, release/ generated, gradebook, one config file.
    # Due dates far ahead: this test grades points, not lateness.
    course = hub.home(hub.instructor) / "course"
    run_as(hub.user(hub.instructor),
           [str(BIN / "python"), "-c", "import sys; from primer.term.course import main; "
            "sys.exit(main(sys.argv[1:]))", str(course), "--chapters", *chapters,
            "--first-due", "2099-01-05"],
           env={**hub.environment, "PYTHONPATH": str(REPO)}, timeout=300)
    return course


def write_owned(hub: LocalHub, short: str, path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    chown_tree(hub, short, path.parent)


def chown_tree(hub: LocalHub, short: str, top: Path) -> None:
    entry = pwd.getpwnam(hub.user(short))
    for folder, dirs, files in os.walk(top):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)


def instructor(hub: LocalHub, *args: str, timeout: float = 300) -> str:
    """Run `nbgrader ARGS` as the instructor, in the course folder; returns its output."""
    course = hub.home(hub.instructor) / "course"
    result = run_as(hub.user(hub.instructor), [str(BIN / "nbgrader"), *args],
                    env={**hub.environment, "PYTHONPATH": str(REPO)}, cwd=course, timeout=timeout)
    return result.stdout + result.stderr


def release(hub: LocalHub, chapter: str) -> str:
    """Release the chapter that term-init generated into the course folder's release/."""
    return instructor(hub, "release_assignment", chapter, "--force")


def collect_and_grade(hub: LocalHub, chapter: str) -> str:
    """Collect, autograde into the gradebook, generate and release feedback."""
    return "".join(instructor(hub, *step) for step in [
        ("collect", chapter),
        ("autograde", chapter, "--force"),
        ("generate_feedback", chapter, "--force"),
        ("release_feedback", chapter),
    ])


def gradebook_scores(hub: LocalHub, chapter: str) -> dict[str, float]:
    """Each hub student's (Unix name) autograded score in the instructor's gradebook."""
    from nbgrader.api import Gradebook

    db = hub.home(hub.instructor) / "course" / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(chapter)}
