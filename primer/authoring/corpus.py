"""The wrong-answer corpus: plausible mistakes that every visible test must catch.

usage: primer corpus [NN_name ...]
example: primer corpus 03_xor

For every autograded exercise of a solution notebook, tests/wrong_answers/NN_name.yaml
lists at least MIN_WRONG plausible wrong answers and MIN_CORRECT correct alternatives:

    ex1-weighted-sum:                 # grade_id of the solution cell
      - why: forgets the bias b       # one line: the mistake
        expect: "equals the bias"     # a piece of the visible test's message
        source: |                     # what the student types in place of
          return float(np.dot(w, x))  #   raise NotImplementedError()
      - why: the @ operator           # a correct alternative: it must pass the
        correct: true                 #   visible test AND the full test cell,
        source: |                     #   hidden tests included (= full points)
          return float(w @ x + b)

The whole corpus of a notebook is checked in one execution of the student
notebook (corpus_run): at each exercise's test cell, the reference answer runs
and must pass the visible test, then each wrong answer in turn must fail it
with its `expect` text, each correct alternative must pass the visible test and then
the solution's whole test cell, hidden tests included (that is what nbgrader awards
points for), and the reference runs again after every answer,
so a mistake that damaged the kernel's state shows up as a failing reference
instead of passing for a caught answer. Narrative cells run once, as students
run them (narrative never reads an exercise's names). tests/authoring/test_wrong_answers_caught.py
runs this for every notebook; tests/grading/test_nbgrader_roundtrip.py grades batch 1
(the first wrong answer of every exercise) with nbgrader itself, to show that a
failed visible test costs the points. This command prints each verdict.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from primer.authoring.release import RAISES_TAG
from primer.authoring.release import nbgrader_meta as meta

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO / "tests" / "wrong_answers"
MIN_WRONG = 8
MIN_CORRECT = 2
STUB = "raise NotImplementedError()"
PASSED_MARK = "✔"


@dataclass(frozen=True)
class WrongAnswer:
    grade_id: str
    index: int
    why: str
    expect: str
    source: str
    correct: bool = False

    @property
    def label(self) -> str:
        kind = "correct alternative " if self.correct else ""
        return f"{self.grade_id}[{self.index}] ({kind}{self.why})"


def autograded_exercises(nb) -> dict[str, str]:
    """grade_id of each code solution cell -> grade_id of the test cell after it."""
    exercises, pending = {}, None
    for cell in nb.cells:
        m = meta(cell)
        if cell.cell_type == "code" and m.get("solution"):
            pending = m["grade_id"]
        elif cell.cell_type == "code" and m.get("grade") and pending:
            exercises[pending], pending = m["grade_id"], None
    return exercises


def corpus_path(stem: str) -> Path:
    return CORPUS_DIR / f"{stem}.yaml"


def load_corpus(stem: str) -> dict[str, list[WrongAnswer]]:
    """grade_id -> its wrong answers; a clear error for a malformed file."""
    path = corpus_path(stem)
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping from grade_id to a list of wrong answers")
    corpus = {}
    for grade_id, entries in data.items():
        if not isinstance(entries, list):
            raise ValueError(f"{path}: {grade_id} should hold a list of wrong answers")
        corpus[grade_id] = [entry_of(path, grade_id, index, entry) for index, entry in enumerate(entries)]
    return corpus


def entry_of(path: Path, grade_id: str, index: int, entry) -> WrongAnswer:
    """One corpus entry; a correct alternative (correct: true) needs no `expect`."""
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: {grade_id}[{index}] should be a mapping with why, expect, source")
    correct = entry.get("correct", False)
    if correct not in (True, False):
        raise ValueError(f"{path}: {grade_id}[{index}]: correct must be true or false")
    missing = {"why", "source"} | (set() if correct else {"expect"})
    missing -= set(entry)
    if missing:
        raise ValueError(f"{path}: {grade_id}[{index}] lacks {', '.join(sorted(missing))}")
    return WrongAnswer(grade_id, index, str(entry["why"]), str(entry.get("expect", "")),
                       str(entry["source"]), correct)


def wrong_only(corpus: dict[str, list[WrongAnswer]]) -> dict[str, list[WrongAnswer]]:
    return {gid: [a for a in answers if not a.correct] for gid, answers in corpus.items()}


def alternatives_only(corpus: dict[str, list[WrongAnswer]]) -> dict[str, list[WrongAnswer]]:
    return {gid: [a for a in answers if a.correct] for gid, answers in corpus.items()}


def substitute(cell_source: str, answer: str) -> str:
    """Replace the stub line with the answer, indented as the stub was."""
    lines = cell_source.split("\n")
    for number, line in enumerate(lines):
        if line.strip() == STUB:
            indent = line[: len(line) - len(line.lstrip())]
            lines[number] = textwrap.indent(answer.rstrip("\n"), indent, lambda _: True)
            return "\n".join(lines)
    raise ValueError(f"no '{STUB}' line in the student's cell")


def batches(corpus: dict[str, list[WrongAnswer]]) -> list[dict[str, WrongAnswer]]:
    """Batch k holds the k-th entry of every exercise that has one (pass wrong_only(corpus)
    or alternatives_only(corpus) to keep one kind)."""
    depth = max((len(entries) for entries in corpus.values()), default=0)
    return [{gid: entries[k] for gid, entries in corpus.items() if k < len(entries)} for k in range(depth)]


def student_notebook(chapter, batch: dict[str, WrongAnswer]):
    """A copy of the student notebook with the batch's answers typed in."""
    nb = nbformat.from_dict(chapter)
    for cell in nb.cells:
        answer = batch.get(meta(cell).get("grade_id"))
        if answer is not None:
            cell.source = substitute(cell.source, answer.source)
    return nb


def test_cell_outcome(cell) -> tuple[bool, str]:
    """(did the visible part pass, the error text) for an executed test cell."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
    errors = [f"{o.ename}: {o.evalue}" for o in cell.get("outputs", []) if o.output_type == "error"]
    return PASSED_MARK in text, "\n".join(errors)


def verdicts(executed, batch: dict[str, WrongAnswer], exercises: dict[str, str]) -> list[tuple[WrongAnswer, str]]:
    """(answer, problem) for every answer of a graded batch; problem is '' when caught as it should be."""
    cells = {meta(c).get("grade_id"): c for c in executed.cells}
    return [(answer, verdict(answer, *test_cell_outcome(cells[exercises[gid]]))) for gid, answer in batch.items()]


def corpus_problems(stem: str, nb) -> list[str]:
    """Exercises without enough wrong answers or correct alternatives, and entries for
    unknown exercises."""
    corpus, exercises = load_corpus(stem), autograded_exercises(nb)
    problems = []
    for kind, keep, least in (("wrong answers", wrong_only, MIN_WRONG),
                              ("correct alternatives", alternatives_only, MIN_CORRECT)):
        counts = {gid: len(answers) for gid, answers in keep(corpus).items()}
        problems += [f"{stem}: {gid} has {counts.get(gid, 0)} {kind} in {corpus_path(stem).name}, "
                     f"needs at least {least}" for gid in exercises if counts.get(gid, 0) < least]
    problems += [f"{stem}: {corpus_path(stem).name} names {gid}, which is not an autograded exercise"
                 for gid in corpus if gid not in exercises]
    return problems


ROLE = "wrong_answers_role"  # cell metadata key of the cells corpus_run adds


def _tagged(source: str, role: str, grade_id: str, index: int | None = None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[ROLE] = {"role": role, "grade_id": grade_id, "index": index}
    return cell


def corpus_notebook(chapter, solution, corpus: dict[str, list[WrongAnswer]]):
    """The student notebook with, at each corpus exercise's test cell, the sequence
    reference, test, then (answer, test, reference, test) for every wrong answer and
    (answer, test, full test with the hidden part, reference, test) for every correct
    alternative."""
    references = {meta(c).get("grade_id"): c.source for c in solution.cells if meta(c).get("solution")}
    full_tests = {meta(c).get("grade_id"): c.source for c in solution.cells if meta(c).get("grade")}
    exercises = autograded_exercises(solution)
    tests_of = {test: gid for gid, test in exercises.items() if gid in corpus}
    nb = nbformat.from_dict(chapter)
    cells, stubs = [], {}  # stubs: the student's cell of each exercise, as released
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if gid in corpus:
            stubs[gid] = cell.source
            cells.append(_tagged(references[gid], "reference", gid))
        elif gid in tests_of:
            exercise = tests_of[gid]
            cells.append(_tagged(cell.source, "reference-test", exercise))
            for answer in corpus[exercise]:
                cells += [_tagged(substitute(stubs[exercise], answer.source), "wrong", exercise,
                                  answer.index),
                          _tagged(cell.source, "wrong-test", exercise, answer.index)]
                if answer.correct:
                    cells.append(_tagged(full_tests[gid], "full-test", exercise, answer.index))
                cells += [_tagged(references[exercise], "reference", exercise),
                          _tagged(cell.source, "reference-test", exercise)]
        else:
            cells.append(cell)
    nb.cells = cells
    return nb


def corpus_verdicts(executed, corpus: dict[str, list[WrongAnswer]]) -> list[tuple[str, str]]:
    """(label, problem) for every wrong answer, every reference run and every narrative
    cell of an executed corpus_notebook; problem is '' when all is as it should be."""
    results, previous = [], "the start"
    for number, cell in enumerate(executed.cells):
        tag = cell.metadata.get(ROLE)
        if cell.cell_type != "code":
            continue
        if tag is None:
            errors = [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]
            if errors and RAISES_TAG not in cell.metadata.get("tags", []):
                results.append((f"cell {number}", f"raises {errors} after {previous}"))
            continue
        gid, index = tag["grade_id"], tag["index"]
        if tag["role"] == "reference-test":
            passed, error = test_cell_outcome(cell)
            results.append((f"{gid} reference after {previous}",
                            "" if passed and not error else f"the reference fails its visible test: {error[-300:]}"))
        elif tag["role"] == "wrong-test":
            answer = corpus[gid][index]
            results.append((answer.label, verdict(answer, *test_cell_outcome(cell))))
            previous = answer.label
        elif tag["role"] == "full-test":
            _, error = test_cell_outcome(cell)
            results.append((f"{corpus[gid][index].label} hidden tests",
                            f"a correct alternative loses points in the hidden tests: {error[-300:]}"
                            if error else ""))
    return results


def verdict(answer: WrongAnswer, passed: bool, error: str) -> str:
    if answer.correct:
        return "" if passed and not error else (
            f"a correct alternative is rejected by the visible test: {error[-300:] or 'no ✔'}")
    if passed:
        return "passes the visible test (the student would see ✔)"
    if not error:
        return "the visible test neither passed nor raised"
    if answer.expect.lower() not in error.lower():
        return f"caught, but the message does not mention {answer.expect!r}: {error[-300:]}"
    return ""


def corpus_run(stem: str, *, repo: Path = REPO, timeout: int = 300) -> list[tuple[str, str]]:
    """Check a notebook's whole corpus in one kernel: [(label, problem or '')]."""
    from primer.authoring.execute import run_notebook

    chapter = nbformat.read(repo / "chapters" / f"{stem}.ipynb", as_version=4)
    solution = nbformat.read(repo / "solutions" / f"{stem}.ipynb", as_version=4)
    corpus = load_corpus(stem)
    nb = corpus_notebook(chapter, solution, corpus)
    executed = run_notebook(nb, cwd=repo / "chapters", allow_errors=True, timeout=timeout)
    return corpus_verdicts(executed, corpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stems", nargs="*", help="notebook names such as 02_activation_functions (default: all)")
    args = parser.parse_args(argv)
    stems = args.stems or sorted(p.stem for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
    bad = 0
    for stem in stems:
        for problem in corpus_problems(stem, nbformat.read(REPO / "solutions" / f"{stem}.ipynb", as_version=4)):
            print(problem)
            bad += 1
        for label, problem in corpus_run(stem):
            if problem or "reference" not in label:
                fine = "passes" if "correct alternative" in label else "caught"
                print(f"{stem}: {label}: {problem or fine}")
            bad += bool(problem)
    print(f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
