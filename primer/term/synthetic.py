"""Made-up submissions of a chapter, for the term's test and the grading benchmark.

Built from the course folder's release and source: each answer cell is the release's
stub (blank), the model answer (correct), or a given piece of code (a crash, a loop).
"""
from __future__ import annotations

import json
import re

import nbformat

from primer.term.course import Course, meta

MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
CRASH = "import os\nos._exit(1)  # the kernel dies"
LOOP = "while True:  # never ends\n    pass"


def answers(course: Course, chapter: str) -> dict[str, str]:
    """grade_id of each answer cell -> the model answer, without nbgrader's markers."""
    nb = nbformat.read(course.root / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    return {meta(c)["grade_id"]: MARKERS.sub("", c.source).strip() for c in nb.cells if meta(c).get("solution")}


def submission(course: Course, chapter: str, *, correct=(), replace: dict | None = None,
               all_correct: bool = False) -> bytes:
    """The release with the answers named in `correct` (or all) filled in, and `replace`
    {grade_id: source} for anything else; every other answer is left blank."""
    nb = nbformat.read(course.path("release", ".", chapter), as_version=4)
    model = answers(course, chapter)
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if gid in (replace or {}):
            cell.source = replace[gid]
        elif gid in model and (all_correct or gid in correct):
            cell.source = model[gid]
    return json.dumps(nbformat.from_dict(nb), indent=1).encode()


def code_answers(course: Course, chapter: str) -> list[str]:
    nb = nbformat.read(course.root / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    return [meta(c)["grade_id"] for c in nb.cells if meta(c).get("solution") and c.cell_type == "code"]


def written_answers(course: Course, chapter: str) -> list[str]:
    nb = nbformat.read(course.root / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    return [meta(c)["grade_id"] for c in nb.cells if meta(c).get("solution") and c.cell_type == "markdown"]
