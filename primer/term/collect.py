"""primer collect: put one chapter's submissions into the course folder's submitted/.

usage: primer collect COURSE CHAPTER FROM [--at "2027-01-18 21:05:00 UTC"]

FROM is either what a learning-management system's bulk download gives (a folder of
.ipynb files named by student: alice.ipynb, alice_03_xor.ipynb, or Canvas's
name_userid_submissionid_file.ipynb), or nbgrader's submitted/<student>/<chapter>/ layout
(the exchange's `nbgrader collect` leaves it in COURSE/submitted/ already). The time of a
submission is its timestamp.txt when it has one, else --at, else the file's modification time.

Every file received is archived byte for byte in COURSE/archive/<student>/<chapter>/.
A submission replaces the one in submitted/ only when it is newer; a file that is not a
notebook of CHAPTER is archived and reported, never put into submitted/.

example: primer collect ~/term-2027 03_xor ~/Downloads/xor-submissions/
Exit status: 0 collected, 1 some files could not be collected (each is named), 2 bad input.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import nbformat

from primer import exits
from primer.exits import CourseError
from primer.term.course import Course

CANVAS = re.compile(r"^(?P<name>[a-z0-9-]+?)_(?:late_)?\d+_\d+_", re.I)
STAMP = "%Y-%m-%d %H:%M:%S.%f UTC"


def student_of(stem: str, chapter: str) -> str:
    found = CANVAS.match(stem)
    if found:
        return found.group("name")
    from primer.grading.grade import student_name
    return student_name(stem, chapter)


def received(folder: Path, chapter: str) -> list[tuple[str, Path, str | None]]:
    """(student, file, its timestamp.txt or None) from a flat folder or a submitted/ layout."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix == ".ipynb":
            found.append((student_of(path.stem, chapter), path, None))
        elif path.is_dir() and (path / chapter).is_dir():
            notebook = path / chapter / f"{chapter}.ipynb"
            stamp = path / chapter / "timestamp.txt"
            if notebook.is_file():
                found.append((path.name, notebook, stamp.read_text().strip() if stamp.is_file() else None))
    return found


def parse_time(text: str) -> dt.datetime:
    from nbgrader.utils import parse_utc
    return parse_utc(text)


def collect(course: Course, chapter: str, folder: Path, at: str | None = None) -> list[tuple[str, str]]:
    """Archive and place every file; returns (student, what happened) per file."""
    from primer.grading import autograde as resilient

    chapters = {name: resilient.grade_ids(nbformat.read(course.root / "source" / name / f"{name}.ipynb",
                                                        as_version=4)) for name in course.chapters}
    outcome = []
    for student, path, stamp in received(folder, chapter):
        data = path.read_bytes()
        when = parse_time(stamp or at) if (stamp or at) else dt.datetime.fromtimestamp(
            path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
        digest = hashlib.sha256(data).hexdigest()[:12]
        archive = course.root / "archive" / student / chapter
        archive.mkdir(parents=True, exist_ok=True)
        (archive / f"{when:%Y%m%dT%H%M%S}-{digest}.ipynb").write_bytes(data)
        try:
            resilient.read_submission(path, chapter, chapters)
        except resilient.Rejected as why:
            outcome.append((student, f"not collected: {why} ({path.name})"))
            continue
        target = course.path("submitted", student, chapter)
        stamp_file = target.parent / "timestamp.txt"
        if target.is_file() and stamp_file.is_file():
            previous = parse_time(stamp_file.read_text().strip())
            if target.read_bytes() == data:
                outcome.append((student, "unchanged (same file)"))
                continue
            if when <= previous:
                outcome.append((student, f"kept the newer submission of {previous:%Y-%m-%d %H:%M} UTC"))
                continue
            verb = f"replaced the submission of {previous:%Y-%m-%d %H:%M} UTC"
        else:
            verb = "collected"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        stamp_file.write_text(when.strftime(STAMP))
        outcome.append((student, f"{verb} (submitted {when:%Y-%m-%d %H:%M} UTC)"))
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer collect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("chapter")
    parser.add_argument("source", type=Path, metavar="FROM")
    parser.add_argument("--at", help='time of files without a timestamp.txt, e.g. "2027-01-18 21:05:00 UTC"')
    args = parser.parse_args(argv)
    course = Course(args.course)
    chapter = course.chapter(args.chapter)
    if not args.source.is_dir():
        raise CourseError(f"{args.source} is not a folder", "give the folder of the bulk download")
    if args.at:
        try:
            parse_time(args.at)
        except Exception:  # noqa: BLE001 -- dateutil raises several kinds
            raise CourseError(f"--at {args.at!r} is not a time", 'write e.g. "2027-01-18 21:05:00 UTC"') from None
    outcome = collect(course, chapter, args.source, args.at)
    if not outcome:
        raise CourseError(f"no submissions of {chapter} in {args.source}",
                          "a folder of .ipynb files, or of <student>/<chapter>/<chapter>.ipynb")
    for student, what in outcome:
        print(f"{student:<20} {what}")
    failed = sum(what.startswith("not collected") for _, what in outcome)
    print(f"{len(outcome) - failed} of {len(outcome)} files collected into {course.root / 'submitted'}")
    return exits.FAILED if failed else exits.OK
