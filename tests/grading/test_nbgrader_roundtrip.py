"""nbgrader itself accepts the course: release, submit, autograde, gradebook.

All solution notebooks form one assignment in a temporary course directory
with a sqlite gradebook. nbgrader's own release must equal chapters/ (same
sources, same checksums), and a blank submission autogrades to zero, so that
instructors can grade what students receive. (Every chapter's reference is
autograded to full marks through primer/grading/grade.py, which runs nbgrader, in
tests/grading/test_grade_every_chapter.py; grading it here too would cost the suite a
run of every notebook.)

The first wrong answer of every exercise (tests/wrong_answers/, see
primer/authoring/corpus.py) is graded here too, as student "wrong-1": each must fail
its visible test (no ✔) with a message that names the mistake, and score less
than full points; so a ✔ means full points. Correct alternatives get full points from
nbgrader's autograde in tests/grading/test_grade_every_chapter.py (through primer/grading/grade.py), and
every alternative passes the full test cells in tests/authoring/test_wrong_answers_caught.py. The rest of the corpus is checked in
tests/authoring/test_wrong_answers_caught.py, one execution per notebook: every notebook
run here costs the suite as much as all of those answers together.
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

REPO = Path(__file__).resolve().parents[2]
from primer.authoring import corpus as wa  # noqa: E402
from primer.term.course import AUTOGRADE_STEPS  # noqa: E402

NOTEBOOKS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENT = "dl_primer"
BLANK_SAMPLE = "00_welcome.ipynb"
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
        yield grade_everything(tmp_path_factory.mktemp("course"), references=True, wrong=first_batch)


def first_batch(k: int, depth: int) -> bool:
    """Only batch 1 goes through nbgrader (see the module docstring)."""
    return k == 1


def grade_everything(root: Path, *, references: bool, wrong) -> tuple[Path, str]:
    """Release the solutions, then autograde students: "blank" (00 only; if references),
    and "wrong-k" for the wrong-answer batches k for which wrong(k, depth) is true."""
    shutil.copytree(REPO / "solutions", root / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".*", "__pycache__"))
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root}/gradebook.db"
    config.CourseDirectory.course_id = "dl_primer"
    # nbgrader's autograde steps as a term's course folder configures them (primer term-init):
    # its Execute reads replies in short polls (primer/kernel_poll.py), nothing else changed.
    config.Autograde.autograde_preprocessors = AUTOGRADE_STEPS
    api = NbGraderAPI(config=config)
    result = api.generate_assignment(ASSIGNMENT)
    assert result["success"], result["error"]
    if references:  # a blank submission: the cheapest notebook, the others missing (also zero)
        shutil.copy(REPO / "chapters" / BLANK_SAMPLE, submission_folder(root, "blank") / BLANK_SAMPLE)
    batches = wrong_answer_batches()
    for k, batch in enumerate(batches, start=1):
        if wrong(k, len(batches)):
            submit_batch(root, f"wrong-{k}", batch)
    for student in sorted(p.name for p in (root / "submitted").iterdir()):
        result = api.autograde(ASSIGNMENT, student)
        assert result["success"], result["error"][-3000:]
    return root, config.CourseDirectory.db_url


def submit_batch(root: Path, student: str, batch: dict[str, dict]) -> None:
    """Submit, for each notebook of the batch, the student notebook with its answers typed in."""
    submitted = submission_folder(root, student)
    for stem, answers in batch.items():
        chapter = nbformat.read(REPO / "chapters" / f"{stem}.ipynb", as_version=4)
        nbformat.write(wa.student_notebook(chapter, answers), submitted / f"{stem}.ipynb")


def submission_folder(root: Path, student: str) -> Path:
    submitted = root / "submitted" / student / ASSIGNMENT
    submitted.mkdir(parents=True)
    (submitted / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    return submitted


def wrong_answer_batches(keep=wa.wrong_only) -> list[dict[str, dict]]:
    """Batch k: notebook stem -> {grade_id: its k-th wrong answer (or, with
    keep=wa.alternatives_only, correct alternative)}; notebooks without one are left out."""
    per_notebook = {path.stem: wa.batches(keep(wa.load_corpus(path.stem))) for path in NOTEBOOKS}
    depth = max((len(b) for b in per_notebook.values()), default=0)
    return [{stem: b[k] for stem, b in per_notebook.items() if k < len(b)} for k in range(depth)]


def exercises(stem: str) -> dict[str, str]:
    return wa.autograded_exercises(nbformat.read(REPO / "solutions" / f"{stem}.ipynb", as_version=4))


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


def test_blank_chapters_autograde_to_zero(course):
    _, db_url = course
    assert points("auto") > 0
    assert scores(db_url, "blank") == (0.0, points("auto") + points("manual"))


def graded_batches(root: Path):
    """(k, batch) for the wrong-answer batches submitted to this course (asserted non-empty)."""
    graded = [(k, b) for k, b in enumerate(wrong_answer_batches(), start=1)
              if (root / "submitted" / f"wrong-{k}").is_dir()]
    assert graded, "no wrong-answer batch was graded"
    return graded


def test_no_wrong_answer_passes_a_visible_test(course):
    check_visible_tests_fail(course)


def test_no_wrong_answer_gets_full_points(course):
    check_points_lost(course)


def check_visible_tests_fail(course):
    """Every corpus answer fails its visible test with a message that names the mistake."""
    root, _ = course
    problems = []
    for k, batch in graded_batches(root):
        for stem, answers in batch.items():
            graded = nbformat.read(root / "autograded" / f"wrong-{k}" / ASSIGNMENT / f"{stem}.ipynb", as_version=4)
            problems += [f"{stem} {answer.label}: {problem}"
                         for answer, problem in wa.verdicts(graded, answers, exercises(stem)) if problem]
    assert not problems, "\n".join(problems)


def check_points_lost(course):
    root, db_url = course
    problems, counted = [], 0
    with Gradebook(db_url) as gradebook:
        for k, batch in graded_batches(root):
            for stem, answers in batch.items():
                tests = exercises(stem)
                for grade_id, answer in answers.items():
                    grade = gradebook.find_grade(tests[grade_id], stem, ASSIGNMENT, f"wrong-{k}")
                    counted += 1
                    if not grade.score < grade.max_score:
                        problems.append(f"{stem} {answer.label}: {grade.score} of {grade.max_score} points")
    assert counted > 0 and not problems, "\n".join(problems)
