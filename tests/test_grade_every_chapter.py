"""Through tools/grade.py, every chapter's reference scores full, and the gradebook's
maximum equals the points declared once in solutions/.

Blank releases are not graded again here: nbgrader grades every blank chapter to zero in
tests/test_nbgrader_roundtrip.py, and tools/grade.py grades a blank 00 in the hostile batch
(tests/test_grade.py). Each notebook run costs the suite time.

A file of its own so that pytest-xdist runs it beside the hostile batch (tests/test_grade.py).
"""
from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import grade  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("chapter", [p.stem for p in sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))])
def test_every_chapter_reference_scores_full(chapter, tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(REPO / "solutions" / f"{chapter}.ipynb", tmp_path / "in" / "reference.ipynb")
    assert grade.main([chapter, str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "2"]) == 0
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    declared = sum(grade.chapter_points(chapter).values())
    assert float(rows["reference"]["total"]) == float(rows["reference"]["max"]) == declared, rows["reference"]
