"""nbgrader itself accepts the course: release, submit, autograde, gradebook.

All solution notebooks form one assignment in a temporary course directory
with a sqlite gradebook. nbgrader's own release must equal chapters/ (same
sources, same checksums), the solutions must autograde to full marks and the
blank chapters to zero, so that instructors can grade what students receive.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.apps import NbGraderAPI  # noqa: E402
from traitlets.config import Config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENT = "dl_primer"
# nbgrader's own gradebook code triggers SQLAlchemy session warnings; they are not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def points(kind: str) -> float:
    """Total points of autograded test cells ("auto") or hand-graded answers ("manual")."""
    total = 0.0
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                manual = meta.get("solution", False)
                total += meta["points"] if manual == (kind == "manual") else 0
    return total


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    # nbgrader creates the gradebook by running the `alembic` script, found on PATH:
    # make sure it is this environment's, even when pytest is run without activating .venv.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        yield grade_everything(tmp_path_factory.mktemp("course"))


def grade_everything(root: Path) -> tuple[Path, str]:
    """Release the solutions, then autograde them and the blank chapters as two students."""
    shutil.copytree(REPO / "solutions", root / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".*", "__pycache__"))
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root}/gradebook.db"
    config.CourseDirectory.course_id = "dl_primer"
    api = NbGraderAPI(config=config)
    result = api.generate_assignment(ASSIGNMENT)
    assert result["success"], result["error"]
    for student, folder in [("solved", "solutions"), ("blank", "chapters")]:
        submitted = root / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        for path in NOTEBOOKS:
            shutil.copy(REPO / folder / path.name, submitted / path.name)
        (submitted / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
        result = api.autograde(ASSIGNMENT, student)
        assert result["success"], result["error"][-3000:]
    return root, config.CourseDirectory.db_url


def scores(db_url: str, student: str) -> tuple[float, float]:
    with Gradebook(db_url) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return submission.score, submission.max_score


def test_nbgrader_release_equals_chapters(course):
    root, _ = course
    for path in NOTEBOOKS:
        release = nbformat.read(root / "release" / ASSIGNMENT / path.name, as_version=4)
        chapter = nbformat.read(REPO / "chapters" / path.name, as_version=4)
        assert [c.source for c in release.cells] == [c.source for c in chapter.cells], path.name
        checksums = [[c.metadata.get("nbgrader", {}).get("checksum") for c in nb.cells] for nb in (release, chapter)]
        assert checksums[0] == checksums[1], f"{path.name}: nbgrader checksums differ from chapters/"


def test_solutions_autograde_to_full_marks(course):
    _, db_url = course
    assert points("auto") > 0
    assert scores(db_url, "solved") == (points("auto"), points("auto") + points("manual"))


def test_blank_chapters_autograde_to_zero(course):
    _, db_url = course
    assert scores(db_url, "blank") == (0.0, points("auto") + points("manual"))
