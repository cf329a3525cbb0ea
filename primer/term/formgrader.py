"""primer formgrader: open nbgrader's formgrader on the term's course folder.

usage: primer formgrader COURSE 

Starts a Jupyter server in COURSE with nbgrader's server extension (formgrader), on
127.0.0.1 with a fresh token, and prints the address to open. Grade the written answers
there ("Manual Grading"): each one has the course's rubric right below it (from
COURSE/rubrics/), the points box and a comment box; the gradebook is COURSE/gradebook.db,
the same one `primer autograde` fills. Ctrl-C stops the server.

example: primer formgrader ~/term-2027
Exit status: 0 stopped, 2 bad input, 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from primer import exits
from primer.term.course import Course


def command(course: Course) -> list[str]:
    # The login cookie's path: Jupyter gives it the path of the handler that read the token,
    # and nbgrader's handlers report their base URL without its slash (""), so a formgrader
    # page opened with ?token= (a submission's page, say) got a cookie for that page's folder
    # only: its calls to /formgrader/api/ were sent without it, redirected to the login page,
    # and the grades and comments never loaded, so nothing typed there was saved. "/" is the
    # server's base URL (it sets none); XSRF checks stay on.
    return [sys.executable, "-m", "jupyter", "server", f"--ServerApp.root_dir={course.root}",
            "--ServerApp.jpserver_extensions=nbgrader=True", "--ServerApp.allow_root=True",
            "--IdentityProvider.cookie_options=path=/"]


@contextmanager
def formgrader(course: Course, *, start_timeout: float = 120):
    """A running formgrader on the course; yields primer.quality.lab_server's Lab (url, get, token)."""
    from primer.quality.lab_server import lab_server

    with lab_server(command(course), cwd=course.root, start_timeout=start_timeout) as lab:
        yield lab


def submission_ids(course: Course, chapter: str) -> dict[str, str]:
    """student -> the id formgrader's pages use for their notebook of the chapter."""
    with course.gradebook() as gradebook:
        return {s.student.id: s.notebooks[0].id for s in gradebook.find_assignment(chapter).submissions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer formgrader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    args = parser.parse_args(argv)
    course = Course(args.course)
    with formgrader(course) as lab:
        print(f"formgrader on {course.root}:\n  {lab.url('/formgrader')}\nCtrl-C stops it.")
        while True:
            time.sleep(3600)
    return exits.OK
