"""primer feedback: write and release each student's feedback page for a chapter.

usage: primer feedback COURSE [CHAPTER ...] [--student ID ...]

First recomputes the late penalties with the written answers' points (the policy in
nbgrader_config.py), then runs nbgrader's generate_feedback: COURSE/feedback/<student>/
<chapter>/<chapter>.html shows the points of every exercise, the reason for each lost
point (the grader's automatic comment), the comments given in formgrader, and the late
penalty. The rubrics are left out of the students' pages. Releasing: with an nbgrader
exchange configured (c.Exchange.root), nbgrader's release_feedback puts the pages where
students fetch them; otherwise they are copied into COURSE/outbox/<student>/, one folder
per student to upload to the learning-management system.

example: primer feedback ~/term-2027 03_xor
Exit status: 0 written, 1 some pages could not be written (each is named), 2 bad input.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import nbformat

from primer import exits
from primer.exits import CourseError
from primer.term import late
from primer.term.autograde import RUBRIC_MARK, add_rubrics
from primer.term.course import Course


def feedback(course: Course, chapters: list[str], students: list[str] | None = None) -> list[tuple[str, str, str]]:
    with course.gradebook() as gradebook:
        late.apply(gradebook, course.late_policy())
    api = course.api()
    exchange = bool(course.config.get("Exchange", {}).get("root"))
    done = []
    for chapter in chapters:
        for folder in sorted((course.root / "autograded").glob(f"*/{chapter}")):
            student = folder.parent.name
            if students and student not in students:
                continue
            graded = course.path("autograded", student, chapter)
            nb = nbformat.read(graded, as_version=4)
            nb.cells = [c for c in nb.cells if RUBRIC_MARK not in c.metadata]
            nbformat.write(nb, graded)  # the rubrics are put back right after
            try:
                result = api.generate_feedback(chapter, student, force=True)
            finally:
                add_rubrics(course, chapter, student)
            page = course.root / "feedback" / student / chapter / f"{chapter}.html"
            if not result["success"] or not page.is_file():
                done.append((chapter, student, f"NOT WRITTEN: {str(result.get('error', '')).strip()[-300:]}"))
                continue
            if exchange:
                api.release_feedback(chapter, student)
                where = "released to the exchange"
            else:
                outbox = course.root / "outbox" / student
                outbox.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(page, outbox / f"{chapter}.html")
                where = f"copied to {outbox.relative_to(course.root)}/"
            done.append((chapter, student, f"{page.relative_to(course.root)}, {where}"))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer feedback", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every chapter")
    parser.add_argument("--student", nargs="+")
    args = parser.parse_args(argv)
    course = Course(args.course)
    chapters = [course.chapter(c) for c in args.chapters] or course.chapters
    done = feedback(course, chapters, args.student)
    if not done:
        raise CourseError("nothing graded yet", f"first: primer autograde {args.course}")
    for chapter, student, what in done:
        print(f"{chapter:<16} {student:<16} {what}")
    return exits.FAILED if any("NOT WRITTEN" in w for *_, w in done) else exits.OK
