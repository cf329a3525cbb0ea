"""The wrong-answer corpus is complete and well-formed (the grading itself is in test_nbgrader_roundtrip).

Every autograded exercise needs at least wrong_answers.MIN_WRONG plausible
wrong answers and MIN_CORRECT correct alternatives, so a new exercise without a
corpus fails here.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.authoring import corpus as wa  # noqa: E402

NOTEBOOKS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in NOTEBOOKS])
def test_every_exercise_has_a_corpus(path):
    problems = wa.corpus_problems(path.stem, nbformat.read(path, as_version=4))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in NOTEBOOKS])
def test_every_wrong_answer_fits_its_cell(path):
    chapter = nbformat.read(REPO / "chapters" / path.name, as_version=4)
    for batch in wa.batches(wa.load_corpus(path.stem)):
        nb = wa.student_notebook(chapter, batch)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in batch:
                assert wa.STUB not in cell.source
                compile(cell.source, path.stem, "exec")


def test_substitution_keeps_the_indentation():
    cell = "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\nprint(1)"
    assert wa.substitute(cell, "y = x\nreturn y\n") == "def f(x):\n    # YOUR CODE HERE\n    y = x\n    return y\nprint(1)"


def test_an_exercise_without_corpus_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(wa, "CORPUS_DIR", tmp_path)
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    problems = wa.corpus_problems(NOTEBOOKS[0].stem, nb)
    assert problems and all("needs at least" in p for p in problems)
    assert any("correct alternatives" in p for p in problems)


def test_a_correct_alternative_needs_no_expect_but_a_wrong_answer_does(tmp_path, monkeypatch):
    monkeypatch.setattr(wa, "CORPUS_DIR", tmp_path)
    (tmp_path / "99_x.yaml").write_text(
        "ex1:\n  - {why: alt, correct: true, source: 'return 1'}\n"
        "  - {why: wrong, source: 'return 0'}\n")
    with pytest.raises(ValueError, match=r"ex1\[1\] lacks expect"):
        wa.load_corpus("99_x")
    (tmp_path / "99_x.yaml").write_text("ex1:\n  - {why: alt, correct: yes please, source: x}\n")
    with pytest.raises(ValueError, match="correct must be true or false"):
        wa.load_corpus("99_x")
