"""Grade a class: a folder of submissions of one chapter -> grades.csv and feedback.

usage: primer grade CHAPTER SUBMISSIONS [--out DIR] [--jobs N] [--timeout S]
example: primer grade 03_xor submissions/ --out grades
                [--notebook-timeout S] [--memory GIB]

CHAPTER is a notebook name such as 03_xor. SUBMISSIONS is either what a
learning-management system's bulk download gives (a folder of .ipynb files,
one per student, named by student) or nbgrader's submitted/<student>/<assignment>/
layout. Submissions are never modified: each is copied into a temporary
nbgrader course built from solutions/, where nbgrader restores edited test
cells and grades. Added here (primer/grading/autograde.py): deleted test cells are put back
and graded, a crash, timeout or exit costs only the exercises that depend on
it, every row has a reason, each kernel runs boxed (primer/grading/sandbox.py) in its
own scratch folder, and huge outputs are truncated.

Writes DIR/grades.csv (atomically; the same submissions give the same file) and
DIR/feedback/<student>.html. Exit status 0, or 2 for a usage error.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
from primer.grading import autograde as grading  # noqa: E402
from primer.grading import sandbox  # noqa: E402
from primer.authoring.corpus import autograded_exercises  # noqa: E402

TIMESTAMP = "2026-01-01 00:00:00.000000 UTC"


@dataclass
class Row:
    student: str
    points: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    maximum: float = 0.0
    status: str = "graded"
    reason: str = ""


@dataclass(frozen=True)
class Settings:
    chapter: str
    timeout: int = 60
    notebook_timeout: int = 1800
    memory_bytes: int = 4 << 30


# --- the chapter ------------------------------------------------------------------


def chapter_points(chapter: str) -> dict[str, float]:
    """Solution grade_id -> points of its autograded test, declared once in solutions/."""
    nb = nbformat.read(REPO / "solutions" / f"{chapter}.ipynb", as_version=4)
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if grading.meta(c).get("grade") and c.cell_type == "code"}
    return {sol: points[test] for sol, test in autograded_exercises(nb).items()}


def release_notebook(chapter: str) -> nbformat.NotebookNode:
    """The student release of the chapter, generated from solutions/ as chapters/ is."""
    from primer.authoring.release import render_notebook
    path = REPO / "solutions" / f"{chapter}.ipynb"
    return nbformat.reads(render_notebook(path, str(path)).decode("utf-8"), as_version=4)


def all_chapters() -> dict[str, list[str]]:
    return grading.course_chapters(REPO / "solutions")


# --- finding the submissions ----------------------------------------------------


def find_submissions(folder: Path, chapter: str) -> list[tuple[str, Path]]:
    """(student, file) pairs from a flat folder or nbgrader's submitted/ layout."""
    if not folder.is_dir():
        raise SystemExit(f"error: {folder} is not a folder of submissions")
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix == ".ipynb":
            add_unique(found, student_name(path.stem, chapter), path)
        elif path.is_dir():
            nested = sorted(path.glob(f"*/{chapter}.ipynb")) or sorted(path.glob("*/*.ipynb"))
            if nested:
                add_unique(found, student_name(path.name, chapter), nested[0])
    return sorted(found.items())


def add_unique(found: dict, name: str, path: Path) -> None:
    """Two files that clean up to one name (alice.ipynb, alice_03_xor.ipynb) both get a row."""
    key, number = name, 2
    while key in found:
        key, number = f"{name}-{number}", number + 1
    found[key] = path


def student_name(stem: str, chapter: str) -> str:
    """A file stem as a student id: the chapter name and odd characters removed."""
    name = stem.replace(chapter, "").strip("_- .") or stem
    return re.sub(r"[^\w.-]+", "_", name)


# --- one worker's nbgrader course ------------------------------------------------


_COURSE: dict = {}


# Workers start as fresh interpreters, never as forks: a fork of a process that has
# run kernels before (a test worker, a notebook) inherits its zmq and asyncio state,
# and such a child was seen spinning at 100 % CPU on a dead socket for 20 minutes.
WORKER_START = multiprocessing.get_context("spawn")


def start_worker(settings: Settings, root: str) -> None:
    """Build this worker's nbgrader course (its own gradebook: sqlite dislikes sharing)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader creates the gradebook by running `alembic` from PATH: make it this environment's.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    logging.disable(logging.WARNING)  # nbgrader's log goes to the reason column instead
    warnings.simplefilter("ignore")   # nbformat's DuplicateCellId and friends: fixed silently
    course = Path(tempfile.mkdtemp(prefix="course-", dir=root))
    shutil.copy(REPO / "solutions" / f"{settings.chapter}.ipynb", mkdir(course / "source" / settings.chapter))
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course}/gradebook.db"
    config.CourseDirectory.course_id = "dl_primer"
    config.Autograde.autograde_preprocessors = [
        grading.ResilientExecute, *_nbgrader_autograde_steps()[1:]]
    config.ResilientExecute.timeout = settings.timeout
    config.ResilientExecute.notebook_timeout = settings.notebook_timeout
    config.ResilientExecute.memory_bytes = settings.memory_bytes
    config.ResilientExecute.scratch_root = str(mkdir(course / "scratch"))
    config.ResilientExecute.events_dir = str(mkdir(course / "events"))
    api = NbGraderAPI(config=config)
    result = api.generate_assignment(settings.chapter)
    if not result["success"]:
        raise RuntimeError(result["error"])
    release = nbformat.read(course / "release" / settings.chapter / f"{settings.chapter}.ipynb", as_version=4)
    _COURSE.update(api=api, course=course, settings=settings, release=release)


def _nbgrader_autograde_steps():
    """nbgrader's Autograde.autograde_preprocessors, in its order (Execute first)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)
    return [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
            AssignLatePenalties, CheckCellMetadata]


def mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def grade_one(student: str, nb_json: str, notes: list[str]) -> tuple[Row, bytes | None]:
    """Autograde one (already checked and repaired) submission in this worker's course."""
    from nbgrader.api import Gradebook

    api, course, settings = _COURSE["api"], _COURSE["course"], _COURSE["settings"]
    chapter = settings.chapter
    submitted = mkdir(course / "submitted" / student / chapter)
    (submitted / f"{chapter}.ipynb").write_text(nb_json, encoding="utf-8")
    (submitted / "timestamp.txt").write_text(TIMESTAMP)
    result = api.autograde(chapter, student, force=True)
    events_file = course / "events" / f"{student}.json"
    events = json.loads(events_file.read_text()) if events_file.is_file() else []
    row = Row(student)
    if not result["success"]:
        row.status, row.reason = "error", "; ".join(notes + events + [last_line(result["error"])])
        return row, None
    tests = autograded_exercises(nbformat.reads(nb_json, as_version=4))
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gradebook:
        for solution_id, test_id in tests.items():
            grade = gradebook.find_grade(test_id, chapter, chapter, student)
            row.points[solution_id] = float(grade.score)
    api.generate_feedback(chapter, student, force=True)
    html = course / "feedback" / student / chapter / f"{chapter}.html"
    autograded = nbformat.read(course / "autograded" / student / chapter / f"{chapter}.ipynb", as_version=4)
    row.reason = "; ".join(notes + events + grading.error_notes(autograded)) or "ok"
    row.status = "graded with notes" if notes or events else "graded"
    return row, html.read_bytes() if html.is_file() else None


def last_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[-1][:300] if lines else "nbgrader failed"


# --- the whole class --------------------------------------------------------------


def prepare(student: str, path: Path, settings: Settings, chapters, release) -> tuple[str | None, list[str]]:
    """(notebook JSON to grade, notes), or (None, [reason]) for a submission that cannot be graded."""
    try:
        nb = grading.read_submission(path, settings.chapter, chapters)
    except grading.Rejected as err:
        return None, [str(err)]
    notes = grading.edited_test_notes(nb, release) + grading.restore_deleted_cells(nb, release)
    return nbformat.writes(nb), notes


def grade_class(settings: Settings, submissions: list[tuple[str, Path]], out: Path, *, jobs: int,
                progress=True) -> list[Row]:
    from nbgrader.apps import NbGraderAPI  # noqa: F401  (fail early if nbgrader is missing)
    from tqdm.auto import tqdm

    warnings.simplefilter("ignore")   # nbformat's DuplicateCellId: nbgrader fixes ids anyway
    chapters = all_chapters()
    release = release_notebook(settings.chapter)
    points = chapter_points(settings.chapter)
    rows, feedback = [], mkdir(out / "feedback")
    with tempfile.TemporaryDirectory(prefix="grade-") as root:
        prepared = [(s, *prepare(s, p, settings, chapters, release)) for s, p in submissions]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=WORKER_START, initializer=start_worker,
                                 initargs=(settings, root)) as pool:
            futures = {student: pool.submit(grade_one, student, nb_json, notes)
                       for student, nb_json, notes in prepared if nb_json is not None}
            bar = tqdm(total=len(prepared), desc=f"grading {settings.chapter}", unit="student", disable=not progress)
            for student, nb_json, notes in prepared:
                if nb_json is None:
                    row = Row(student, status="not graded", reason=notes[0])
                else:
                    try:
                        row, html = futures[student].result()
                    except Exception as err:  # a worker that died: the row says so, the class goes on
                        row, html = Row(student, status="error", reason=f"grader error: {err}"), None
                    if html:
                        (feedback / f"{student}.html").write_bytes(html)
                rows.append(finish(row, points))
                bar.update()
            bar.close()
    write_csv(out / "grades.csv", rows, points)
    return rows


def finish(row: Row, points: dict[str, float]) -> Row:
    row.points = {gid: row.points.get(gid, 0.0) for gid in points}
    row.total, row.maximum = sum(row.points.values()), float(sum(points.values()))
    return row


def write_csv(path: Path, rows: list[Row], points: dict[str, float]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *points, "total", "max", "status", "reason"])
    for row in sorted(rows, key=lambda r: r.student):
        writer.writerow([row.student, *(fmt(row.points[g]) for g in points), fmt(row.total), fmt(row.maximum),
                         row.status, row.reason])
    temporary = path.with_suffix(".csv.tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)


def fmt(value: float) -> str:
    return f"{value:g}"


def summary(rows: list[Row], points: dict[str, float]) -> str:
    graded = [r for r in rows if r.status.startswith("graded")]
    lines = [f"{len(graded)} graded, {len(rows) - len(graded)} not graded or failed, of {len(rows)} submissions"]
    for gid, maximum in points.items():
        mean = sum(r.points[gid] for r in graded) / len(graded) if graded else 0.0
        lines.append(f"  {gid}: mean {mean:.2f} of {maximum:g}")
    return "\n".join(lines)


def digests(submissions) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for _, p in submissions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", help="e.g. 03_xor")
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--out", type=Path, default=Path("grades"), help="output folder (default: grades/)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers (default: cores)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    parser.add_argument("--notebook-timeout", type=int, default=1800, help="seconds per notebook (default 1800)")
    parser.add_argument("--memory", type=float, default=4.0, help="GiB of address space per kernel (default 4)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not (REPO / "solutions" / f"{args.chapter}.ipynb").is_file():
        names = ", ".join(all_chapters())
        parser.error(f"no chapter {args.chapter!r}; the chapters are: {names}")
    if args.jobs < 1 or args.timeout < 1 or args.notebook_timeout < 1:
        parser.error("--jobs, --timeout and --notebook-timeout must be positive")
    submissions = find_submissions(args.submissions, args.chapter)
    if not submissions:
        parser.error(f"no .ipynb files in {args.submissions} (nor in submitted/<student>/<assignment>/ folders)")
    print(sandbox.describe())
    settings = Settings(args.chapter, args.timeout, args.notebook_timeout, int(args.memory * (1 << 30)))
    before = digests(submissions)
    start = time.perf_counter()
    rows = grade_class(settings, submissions, mkdir(args.out), jobs=args.jobs, progress=not args.quiet)
    assert digests(submissions) == before, "a submission file changed during grading"
    elapsed = time.perf_counter() - start
    print(summary(rows, chapter_points(args.chapter)))
    print(f"{len(rows)} submissions in {elapsed:.0f} s ({elapsed / len(rows):.1f} s each, --jobs {args.jobs})")
    print(f"wrote {args.out / 'grades.csv'} and {len(list((args.out / 'feedback').glob('*.html')))} feedback file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
