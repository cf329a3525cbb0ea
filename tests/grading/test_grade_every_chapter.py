"""Through primer/grading/grade.py (nbgrader's autograde), every chapter answered with the first
correct alternative of every exercise (tests/wrong_answers/, `correct: true`) scores full,
and the gradebook's maximum equals the points declared once in solutions/.

The submission is a real student notebook (chapters/ with the answers typed in place of
the stubs), not the solution file: so a ✔-worthy answer that is not the reference is
shown to get every point, hidden tests included. The references themselves pass their
hidden tests under nbval (solutions/ is executed with them). The other alternatives are
checked against the full test cells in tests/authoring/test_wrong_answers_caught.py.

Blank releases are not graded again here: nbgrader grades every blank chapter to zero in
tests/grading/test_nbgrader_roundtrip.py, and primer/grading/grade.py grades a blank 00 in the hostile batch
(tests/grading/test_grade.py). Each notebook run costs the suite time.

A file of its own so that pytest-xdist runs it beside the hostile batch (tests/grading/test_grade.py).
"""
from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.grading import grade  # noqa: E402
import nbformat  # noqa: E402
from primer.authoring import corpus as wa  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("chapter", [p.stem for p in sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))])
def test_every_chapter_answered_with_correct_alternatives_scores_full(chapter, tmp_path):
    alternatives = wa.batches(wa.alternatives_only(wa.load_corpus(chapter)))
    assert alternatives, f"{chapter}: no correct alternative in tests/wrong_answers/{chapter}.yaml"
    release = nbformat.read(REPO / "chapters" / f"{chapter}.ipynb", as_version=4)
    (tmp_path / "in").mkdir()
    nbformat.write(wa.student_notebook(release, alternatives[0]), tmp_path / "in" / "alternative.ipynb")
    assert grade.main([chapter, str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1"]) == 0
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    declared = sum(grade.chapter_points(chapter).values())
    row = rows["alternative"]
    # written answers are graded by hand: the automatic maximum is what an answer can earn here
    assert float(row["total"]) == float(row["max"]), row
    assert float(row["max"]) == declared, row
