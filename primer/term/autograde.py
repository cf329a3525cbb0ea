"""primer autograde: grade collected submissions into the term's gradebook.

usage: primer autograde COURSE [CHAPTER ...] [--student ID ...] [--exercise GRADE_ID]
                               [--jobs N]

Runs nbgrader's own autograde (submitted/ -> autograded/ and gradebook.db) for every
collected submission of the chapters named (default: all), with the grading command's
resilience inside it (primer.grading.autograde): deleted test and answer cells are put
back from the release, a crash, an endless loop or an exit costs only the exercises that
depend on it (the kernel is restarted and the clean cells are replayed), kernels run
boxed in their own scratch folders, huge outputs are truncated. The reason for every lost
point goes into the gradebook as the exercise's automatic comment (formgrader and the
feedback show it), and the rubric of each written answer (COURSE/rubrics/) is placed
beside the answer in the graded notebook, for formgrader.

Regrading: --student regrades only those students; --exercise keeps every other
exercise's points as they were. Grading twice gives the same gradebook. Points given by
hand in formgrader are kept (nbgrader marks them for review again).

example: primer autograde ~/term-2027 03_xor --jobs 2
         primer autograde ~/term-2027 03_xor --student alice --exercise ex2-xor-forward
Exit status: 0 every submission graded, 1 some could not be graded (each is named), 2 bad input.
"""
from __future__ import annotations

import argparse
import json
import re
import warnings
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Unicode

from primer import exits
from primer.exits import CourseError
from primer.grading.grade import WORKER_START  # fresh interpreters, never forks (see there)
from primer.term.course import AUTOGRADE_STEPS, Course, meta

RUBRIC_MARK = "primer_rubric"


class RestoreDeletedCells(Preprocessor):
    """First of nbgrader's sanitizing steps: note edited test cells (nbgrader then puts back
    the original) and re-insert the graded cells a student deleted."""

    release = Unicode("").tag(config=True)
    notes_file = Unicode("").tag(config=True)

    def preprocess(self, nb, resources):
        from primer.grading import autograde as resilient

        release = nbformat.read(self.release, as_version=4)
        notes = resilient.edited_test_notes(nb, release) + resilient.restore_deleted_cells(nb, release)
        if self.notes_file:
            Path(self.notes_file).write_text(json.dumps(notes))
        return nb, resources


def nbgrader_config(course: Course, chapter: str, student: str, work: Path):
    """The course's config with the resilient steps put into nbgrader's autograde."""
    from copy import deepcopy

    from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells,
                                        OverwriteKernelspec)

    from primer.grading.autograde import ResilientExecute

    config = deepcopy(course.config)
    config.Autograde.sanitize_preprocessors = [RestoreDeletedCells, ClearOutput, DeduplicateIds,
                                               OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
    # The folder's own steps (nbgrader's, primer/term/course.py) with the resilient Execute first.
    config.Autograde.autograde_preprocessors = [ResilientExecute, *AUTOGRADE_STEPS[1:]]
    config.RestoreDeletedCells.release = str(course.path("release", ".", chapter).resolve())
    config.RestoreDeletedCells.notes_file = str(work / "notes.json")
    config.ResilientExecute.scratch_root = str(work / "scratch")
    config.ResilientExecute.events_dir = str(work)
    return config


def exercise_of(nb) -> dict[str, str]:
    """grade_id of each graded cell -> the answer cell it grades (itself for a written answer)."""
    owner, pending = {}, None
    for cell in nb.cells:
        m = meta(cell)
        if m.get("solution"):
            pending = owner[m["grade_id"]] = m["grade_id"]
        if m.get("grade"):
            owner[m["grade_id"]] = m["grade_id"] if m.get("solution") else (pending or m["grade_id"])
    return owner


def record_reasons(course: Course, chapter: str, student: str, notes: list[str], events: list[str]) -> list[str]:
    """Each reason into the automatic comment of the answer cell it concerns; returns all reasons."""
    from primer.grading import autograde as resilient

    path = course.path("autograded", student, chapter)
    nb = nbformat.read(path, as_version=4)
    owner = exercise_of(nb)
    reasons = notes + events + resilient.error_notes(nb)
    by_answer: dict[str, list[str]] = {}
    for reason in reasons:
        target = next((owner[g] for g in owner if re.search(rf"(?<![\w-]){re.escape(g)}(?![\w-])", reason)), None)
        by_answer.setdefault(target, []).append(reason)
    general = by_answer.pop(None, [])
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission_notebook(chapter, chapter, student)
        for comment in submission.comments:
            own = by_answer.get(comment.name, [])
            if comment.name == next(iter(owner.values()), None):
                own = general + own  # notes about the whole notebook: on its first answer
            base = comment.auto_comment if comment.auto_comment == "No response." else None
            comment.auto_comment = "\n".join(filter(None, [base, *own])) or None
        gradebook.db.commit()
    return reasons


def add_rubrics(course: Course, chapter: str, student: str) -> None:
    """Put each written answer's rubric right after it in the graded notebook (formgrader shows it)."""
    rubric = course.rubric(chapter)
    path = course.path("autograded", student, chapter)
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if RUBRIC_MARK not in c.metadata]
    for index in reversed(range(len(nb.cells))):
        gid = meta(nb.cells[index]).get("grade_id")
        if gid in rubric and nb.cells[index].cell_type == "markdown":
            text = "> **Rubric (for graders; from the model answer)**\n>\n" + "\n".join(
                "> " + line for line in rubric[gid].splitlines())
            cell = nbformat.v4.new_markdown_cell(text, metadata={RUBRIC_MARK: gid})
            nb.cells.insert(index + 1, cell)
    nbformat.write(nb, path)


def scores(course: Course, chapter: str, student: str) -> dict[str, tuple]:
    from nbgrader.api import MissingEntry
    with course.gradebook() as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(chapter, chapter, student)
        except MissingEntry:
            return {}
        return {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in notebook.grades}


def keep_other_exercises(course: Course, chapter: str, student: str, exercise: str, before: dict) -> None:
    owner = exercise_of(nbformat.read(course.path("autograded", student, chapter), as_version=4))
    with course.gradebook() as gradebook:
        notebook = gradebook.find_submission_notebook(chapter, chapter, student)
        for grade in notebook.grades:
            if owner.get(grade.name) != exercise and grade.name != exercise and grade.name in before:
                grade.auto_score, grade.manual_score, grade.needs_manual_grade = before[grade.name]
        gradebook.db.commit()


def grade_one(root: str, chapter: str, student: str, exercise: str | None = None) -> tuple[str, str, bool, str]:
    """(chapter, student, success, what happened) for one submission."""
    from nbgrader.apps import NbGraderAPI

    warnings.filterwarnings("ignore", module="sqlalchemy")  # nbgrader's own session warnings
    warnings.filterwarnings("ignore", message=".*not in session.*")
    course = Course(Path(root))
    # Short: the kernels' Unix sockets live in the scratch folder (paths of at most 107 bytes).
    work = Path(tempfile.mkdtemp(prefix="primer-"))
    (work / "scratch").mkdir()
    before = scores(course, chapter, student) if exercise else {}
    api = NbGraderAPI(config=nbgrader_config(course, chapter, student, work))
    for attempt in range(5):  # other workers write the same sqlite file; it may be locked a moment
        result = api.autograde(chapter, student, force=True)
        if result["success"] or "database is locked" not in str(result.get("error", "")):
            break
        time.sleep(1 + attempt)
    if not result["success"]:
        shutil.rmtree(work, ignore_errors=True)
        lines = [line for line in str(result["error"]).splitlines() if line.strip()]
        lines = [line for line in lines if re.match(r"\w+(Error|Exception): ", line)] or lines
        return chapter, student, False, f"nbgrader failed: {lines[-1][:300] if lines else '?'}"
    notes = json.loads((work / "notes.json").read_text()) if (work / "notes.json").is_file() else []
    events_file = work / f"{student}.json"
    events = json.loads(events_file.read_text()) if events_file.is_file() else []
    reasons = record_reasons(course, chapter, student, notes, events)
    add_rubrics(course, chapter, student)
    if exercise:
        keep_other_exercises(course, chapter, student, exercise, before)
    shutil.rmtree(work, ignore_errors=True)
    return chapter, student, True, "; ".join(reasons) or "ok"


def submitted(course: Course, chapters: list[str], students: list[str] | None) -> list[tuple[str, str]]:
    pairs = []
    for chapter in chapters:
        for folder in sorted((course.root / "submitted").glob(f"*/{chapter}")):
            if (folder / f"{chapter}.ipynb").is_file() and (not students or folder.parent.name in students):
                pairs.append((chapter, folder.parent.name))
    return pairs


def autograde(course: Course, pairs: list[tuple[str, str]], *, jobs: int = 1, exercise: str | None = None,
              progress=print) -> list[tuple[str, str, bool, str]]:
    """Grade every (chapter, student); a worker per job, all writing the one gradebook."""
    if jobs <= 1:
        results = []
        for chapter, student in pairs:
            results.append(grade_one(str(course.root), chapter, student, exercise))
            progress(format_row(results[-1]))
        return results
    results = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=WORKER_START) as pool:
        futures = [pool.submit(grade_one, str(course.root), chapter, student, exercise) for chapter, student in pairs]
        for (chapter, student), future in zip(pairs, futures):
            try:
                results.append(future.result())
            except Exception as error:  # a worker that died: the row says so, the class goes on
                results.append((chapter, student, False, f"grader error: {type(error).__name__}: {error}"))
            progress(format_row(results[-1]))
    return results


def format_row(result) -> str:
    chapter, student, success, what = result
    return f"{chapter:<16} {student:<16} {'graded' if success else 'NOT GRADED'}: {what[:300]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer autograde", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every chapter")
    parser.add_argument("--student", nargs="+", help="regrade only these students")
    parser.add_argument("--exercise", help="regrade only this exercise (a grade_id); the others keep their points")
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1; at most the cores)")
    args = parser.parse_args(argv)
    course = Course(args.course)
    chapters = [course.chapter(c) for c in args.chapters] or course.chapters
    if args.jobs < 1:
        raise CourseError("--jobs must be at least 1", "e.g. --jobs 2")
    if args.exercise and len(chapters) != 1:
        raise CourseError("--exercise needs exactly one chapter", "e.g. primer autograde COURSE 03_xor --exercise ID")
    pairs = submitted(course, chapters, args.student)
    if not pairs:
        raise CourseError(f"nothing collected for {', '.join(chapters)}"
                          + (f" from {', '.join(args.student)}" if args.student else ""),
                          f"first: primer collect {args.course} CHAPTER FOLDER")
    from primer.grading import sandbox
    print(sandbox.describe())
    start = time.perf_counter()
    results = autograde(course, pairs, jobs=args.jobs, exercise=args.exercise)
    failed = [r for r in results if not r[2]]
    elapsed = time.perf_counter() - start
    print(f"{len(results) - len(failed)} of {len(results)} submissions graded into {course.root / 'gradebook.db'} "
          f"in {elapsed:.0f} s (--jobs {args.jobs})")
    return exits.FAILED if failed else exits.OK
