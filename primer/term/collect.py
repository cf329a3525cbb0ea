"""primer collect: put one chapter's submissions into the course folder's submitted/.

usage: primer collect COURSE CHAPTER FROM [--at "2027-01-18 21:05:00 UTC"]
       primer collect COURSE CHAPTER --exchange [ROOT]

FROM is either what a learning-management system's bulk download gives (a folder of
.ipynb files named by student: alice.ipynb, alice_03_xor.ipynb, or Canvas's
name_userid_submissionid_file.ipynb), or nbgrader's submitted/<student>/<chapter>/ layout.
--exchange reads nbgrader's exchange instead (what students submit from the Assignments
tab of JupyterLab on a hub): ROOT/<course id>/inbound/, ROOT defaulting to Exchange.root
of COURSE/nbgrader_config.py. Unlike `nbgrader collect`, which copies each student's
newest submission, it archives every one; like it, it refuses a submission whose folder
is not owned by the student it names (on a shared exchange anyone can write a folder
called bob+03_xor+...). The time of a submission is its timestamp.txt when it has one,
else --at, else the file's modification time.

Every file received is archived byte for byte in COURSE/archive/<student>/<chapter>/.
A submission replaces the one in submitted/ only when it is newer; a file that is not a
notebook of CHAPTER is archived and reported, never put into submitted/.

examples: primer collect ~/term-2027 03_xor ~/Downloads/xor-submissions/
          primer collect ~/term-2027 03_xor --exchange /srv/nbgrader/exchange
Exit status: 0 collected, 1 some files could not be collected (each is named), 2 bad input.
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
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


def from_exchange(root: Path, course_id: str, chapter: str) -> list[tuple[str, Path, str | None]]:
    """(student, notebook path, timestamp text) for every submission of CHAPTER in
    nbgrader's exchange, oldest first (a time that does not parse sorts first; place()
    reports it). The notebook may be missing: place() reports that too."""
    inbound = root / course_id / "inbound"
    if not inbound.is_dir():
        raise CourseError(f"no exchange inbound folder at {inbound}",
                          "give the exchange's root (Exchange.root, e.g. /srv/nbgrader/exchange) "
                          "and check CourseDirectory.course_id in nbgrader_config.py")
    found = []
    for folder in inbound.glob(f"*+{glob.escape(chapter)}+*"):
        parts = folder.name.rsplit("+", 3)  # student+chapter+timestamp+random, as nbgrader writes
        if len(parts) < 3 or parts[1] != chapter or not folder.is_dir():
            continue
        student, stamp = parts[0], parts[2]
        try:
            when = parse_time(stamp)
        except Exception:  # noqa: BLE001 -- dateutil raises several kinds; place() reports it
            when = dt.datetime.min
        found.append((when, student, folder, stamp))
    found.sort(key=lambda item: item[0])
    return [(student, folder / f"{chapter}.ipynb", stamp) for _, student, folder, stamp in found]


def owner_problem(path: Path, student: str) -> str:
    """Why the exchange folder holding PATH does not belong to STUDENT, or ''."""
    try:
        import pwd
    except ImportError:  # Windows: no owners to compare (nbgrader skips the check too)
        return ""
    uid = path.parent.stat().st_uid
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = str(uid)
    return "" if owner == student else f"the folder is owned by {owner}, not by {student}"


def parse_time(text: str) -> dt.datetime:
    from nbgrader.utils import parse_utc
    return parse_utc(text)


def collect(course: Course, chapter: str, folder: Path, at: str | None = None) -> list[tuple[str, str]]:
    """Archive and place every file; returns (student, what happened) per file."""
    return place(course, chapter, received(folder, chapter), at)


def collect_exchange(course: Course, chapter: str, root: Path, *, check_owner: bool = True,
                     at: str | None = None) -> list[tuple[str, str]]:
    """Archive and place every exchange submission of CHAPTER, oldest first."""
    found, refused = [], []
    for student, path, stamp in from_exchange(root, course.config.CourseDirectory.course_id, chapter):
        why = owner_problem(path, student) if check_owner else ""
        if why:
            refused.append((student, f"not collected: {why} ({path.parent.name})"))
        else:
            found.append((student, path, stamp))
    return refused + place(course, chapter, found, at)


def place(course: Course, chapter: str, found, at: str | None) -> list[tuple[str, str]]:
    """Archive each (student, file, timestamp) and let the newest valid one be submitted."""
    from primer.grading import autograde as resilient

    chapters = {name: resilient.grade_ids(nbformat.read(course.root / "source" / name / f"{name}.ipynb",
                                                        as_version=4)) for name in course.chapters}
    outcome = []
    for student, path, stamp in found:
        if not path.is_file():
            outcome.append((student, f"not collected: no {path.name} in {path.parent.name}"))
            continue
        data = path.read_bytes()
        try:
            when = parse_time(stamp or at) if (stamp or at) else dt.datetime.fromtimestamp(
                path.stat().st_mtime, dt.timezone.utc).replace(tzinfo=None)
        except Exception:  # noqa: BLE001 -- dateutil raises several kinds
            outcome.append((student, f"not collected: its time {stamp!r} is not a time ({path})"))
            continue
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
    parser.add_argument("source", type=Path, metavar="FROM", nargs="?",
                        help="a bulk download or a submitted/ layout")
    parser.add_argument("--exchange", nargs="?", const="", metavar="ROOT",
                        help="collect from nbgrader's exchange (ROOT: default Exchange.root)")
    parser.add_argument("--no-owner-check", action="store_true",
                        help="with --exchange: accept folders whatever their owner (one-user tests)")
    parser.add_argument("--at", help='time of files without a timestamp.txt, e.g. "2027-01-18 21:05:00 UTC"')
    args = parser.parse_args(argv)
    course = Course(args.course)
    chapter = course.chapter(args.chapter)
    if (args.source is None) == (args.exchange is None):
        raise CourseError("give either FROM (a folder) or --exchange, not both or neither",
                          f"e.g. primer collect {args.course} {chapter} ~/Downloads/{chapter}/")
    if args.source is not None and not args.source.is_dir():
        raise CourseError(f"{args.source} is not a folder", "give the folder of the bulk download")
    if args.at:
        try:
            parse_time(args.at)
        except Exception:  # noqa: BLE001 -- dateutil raises several kinds
            raise CourseError(f"--at {args.at!r} is not a time", 'write e.g. "2027-01-18 21:05:00 UTC"') from None
    if args.exchange is not None:
        root = Path(args.exchange or course.config.Exchange.get("root", "") or "")
        if not str(root) or str(root) == ".":
            raise CourseError("no exchange root: --exchange without ROOT needs Exchange.root "
                              "in nbgrader_config.py", "give it: --exchange /srv/nbgrader/exchange")
        outcome = collect_exchange(course, chapter, root, check_owner=not args.no_owner_check,
                                   at=args.at)
        where = root / course.config.CourseDirectory.course_id / "inbound"
    else:
        outcome, where = collect(course, chapter, args.source, args.at), args.source
    if not outcome:
        raise CourseError(f"no submissions of {chapter} in {where}",
                          "a folder of .ipynb files, or of <student>/<chapter>/<chapter>.ipynb")
    for student, what in outcome:
        print(f"{student:<20} {what}")
    failed = sum(what.startswith("not collected") for _, what in outcome)
    print(f"{len(outcome) - failed} of {len(outcome)} files collected into {course.root / 'submitted'}")
    return exits.FAILED if failed else exits.OK
