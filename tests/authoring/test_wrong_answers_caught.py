"""Every wrong answer in tests/wrong_answers/ fails its visible test with the message
its entry expects, and every reference answer passes, checked in one execution of each
student notebook (primer/authoring/corpus.py, corpus_run).

nbgrader itself grades the first wrong answer of every exercise in
tests/grading/test_nbgrader_roundtrip.py: a failed visible test scores zero there.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
from primer.authoring import release as mc  # noqa: E402
from primer.authoring import corpus as wa  # noqa: E402

NOTEBOOKS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_every_wrong_answer_is_caught_and_every_reference_passes(stem):
    results = wa.corpus_run(stem)
    problems = [f"{label}: {problem}" for label, problem in results if problem]
    assert not problems, f"{stem}:\n" + "\n".join(problems)
    answers = [label for label, _ in results if "reference" not in label and not label.startswith("cell ")
               and not label.endswith(" hidden tests")]
    hidden = [label for label, _ in results if label.endswith(" hidden tests")]
    corpus = wa.load_corpus(stem)
    assert len(answers) == sum(len(v) for v in corpus.values()) > 0
    assert len(hidden) == sum(len(v) for v in wa.alternatives_only(corpus).values()) > 0


# --- the method itself, on a small course -----------------------------------------

def _nbgrader(cell, grade_id, *, solution, points=None):
    cell.metadata["nbgrader"] = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
                                 "schema_version": 3, "solution": solution, **({"points": points} if points else {})}
    return cell


def small_course(root: Path, corpus_yaml: str) -> None:
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np\nfrom nnlib import checks\ndata = np.arange(3.0)"),
        _nbgrader(new_code_cell("def total(x):\n    ### BEGIN SOLUTION\n    return float(np.sum(x))\n"
                                "    ### END SOLUTION"), "ex1-total", solution=True),
        _nbgrader(new_code_cell('f = checks.answer("total", callable_=True)\n'
                                'assert f(data) == 3.0, "total(data) should be 3"\n'
                                'assert f(np.array([1.0, 2.0])) == 3.0, "total([1, 2]) should be 3"\n'
                                'checks.passed("Exercise 1")\n'
                                '### BEGIN HIDDEN TESTS\n'
                                'assert f(np.array([2.5, -1.0])) == 1.5, "hidden"\n'
                                '### END HIDDEN TESTS'), "ex1-total-tests", solution=False, points=1),
        new_code_cell('assert data.tolist() == [0.0, 1.0, 2.0], "the narrative needs data unchanged"'),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / "solutions").mkdir(parents=True)
    nbformat.write(nb, root / "solutions" / "99_small.ipynb")
    mc.make_chapters(root / "solutions", root / "chapters")
    (root / "wrong").mkdir()
    (root / "wrong" / "99_small.yaml").write_text(corpus_yaml)


def test_corpus_run_reports_a_pass_a_damaging_answer_and_a_wrong_message(tmp_path, monkeypatch):
    small_course(tmp_path, """
ex1-total:
  - {why: returns zero, expect: "should be 3", source: "return 0.0"}
  - {why: not wrong at all, expect: "should be 3", source: "return float(sum(x))"}
  - {why: zeroes its input, expect: "should be 3", source: "x *= 0\\nreturn 0.0"}
  - {why: message not named, expect: "transposed", source: "return 1.0"}
""")
    monkeypatch.setattr(wa, "CORPUS_DIR", tmp_path / "wrong")
    results = dict(wa.corpus_run("99_small", repo=tmp_path, timeout=60))
    assert results["ex1-total[0] (returns zero)"] == ""
    assert "passes the visible test" in results["ex1-total[1] (not wrong at all)"]
    assert results["ex1-total[2] (zeroes its input)"] == ""  # caught, but ...
    damaged = results["ex1-total reference after ex1-total[2] (zeroes its input)"]
    assert "the reference fails its visible test" in damaged and "should be 3" in damaged
    assert any(label.startswith("cell ") and "raises ['AssertionError']" in problem
               for label, problem in results.items())  # ... and the narrative saw the damage
    assert "does not mention 'transposed'" in results["ex1-total[3] (message not named)"]
    assert results["ex1-total reference after the start"] == ""


def test_corpus_run_checks_correct_alternatives_against_the_hidden_tests(tmp_path, monkeypatch):
    small_course(tmp_path, """
ex1-total:
  - {why: a loop, correct: true, source: "t = 0.0\\nfor v in x:\\n    t += v\\nreturn t"}
  - {why: rounds to integers, correct: true, source: "return float(np.sum(np.round(x)))"}
  - {why: off by everything, correct: true, source: "return 0.0"}
""")
    monkeypatch.setattr(wa, "CORPUS_DIR", tmp_path / "wrong")
    results = dict(wa.corpus_run("99_small", repo=tmp_path, timeout=60))
    loop = "ex1-total[0] (correct alternative a loop)"
    assert results[loop] == "" and results[loop + " hidden tests"] == ""
    rounded = "ex1-total[1] (correct alternative rounds to integers)"
    assert results[rounded] == ""  # passes the visible test ...
    assert "loses points in the hidden tests" in results[rounded + " hidden tests"]  # ... not all
    assert "rejected by the visible test" in results["ex1-total[2] (correct alternative off by everything)"]
