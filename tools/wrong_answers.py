#!/usr/bin/env python3
"""The wrong-answer corpus: plausible mistakes that every visible test must catch.

usage: wrong_answers.py [NN_name ...]

For every autograded exercise of a solution notebook, tests/wrong_answers/NN_name.yaml
lists at least MIN_ENTRIES plausible wrong answers:

    ex1-weighted-sum:                 # grade_id of the solution cell
      - why: forgets the bias b       # one line: the mistake
        expect: "equals the bias"     # a piece of the visible test's message
        source: |                     # what the student types in place of
          return float(np.dot(w, x))  #   raise NotImplementedError()

Wrong answers are run in batches: batch k puts the k-th wrong answer of every
exercise into one copy of the student notebook, so one execution checks one
mistake per exercise (exercises are independent by design: narrative never
reads an exercise's names). The suite (tests/test_nbgrader_roundtrip.py) grades
every batch with nbgrader; this command runs them without nbgrader, which is
quicker while writing a corpus, and prints each answer's verdict.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from make_chapters import nbgrader_meta as meta

REPO = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO / "tests" / "wrong_answers"
MIN_ENTRIES = 3
STUB = "raise NotImplementedError()"
PASSED_MARK = "✔"


@dataclass(frozen=True)
class WrongAnswer:
    grade_id: str
    index: int
    why: str
    expect: str
    source: str

    @property
    def label(self) -> str:
        return f"{self.grade_id}[{self.index}] ({self.why})"


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
        corpus[grade_id] = []
        for index, entry in enumerate(entries):
            missing = {"why", "expect", "source"} - set(entry or {})
            if missing:
                raise ValueError(f"{path}: {grade_id}[{index}] lacks {', '.join(sorted(missing))}")
            corpus[grade_id].append(WrongAnswer(grade_id, index, str(entry["why"]), str(entry["expect"]),
                                                str(entry["source"])))
    return corpus


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
    """Batch k holds the k-th wrong answer of every exercise that has one."""
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
    """(answer, problem) for every answer of the batch; problem is '' when caught as it should be."""
    cells = {meta(c).get("grade_id"): c for c in executed.cells}
    results = []
    for grade_id, answer in batch.items():
        passed, error = test_cell_outcome(cells[exercises[grade_id]])
        if passed:
            problem = "passes the visible test (the student would see ✔)"
        elif not error:
            problem = "the visible test neither passed nor raised"
        elif answer.expect.lower() not in error.lower():
            problem = f"caught, but the message does not mention {answer.expect!r}: {error[-300:]}"
        else:
            problem = ""
        results.append((answer, problem))
    return results


def corpus_problems(stem: str, nb) -> list[str]:
    """Exercises without enough wrong answers, and entries for unknown exercises."""
    corpus, exercises = load_corpus(stem), autograded_exercises(nb)
    problems = [f"{stem}: {gid} has {len(corpus.get(gid, []))} wrong answers in {corpus_path(stem).name}, "
                f"needs at least {MIN_ENTRIES}" for gid in exercises if len(corpus.get(gid, [])) < MIN_ENTRIES]
    problems += [f"{stem}: {corpus_path(stem).name} names {gid}, which is not an autograded exercise"
                 for gid in corpus if gid not in exercises]
    return problems


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO / "tools"))
    from execute_notebooks import run_notebook

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stems", nargs="*", help="notebook names such as 02_activation_functions (default: all)")
    args = parser.parse_args(argv)
    stems = args.stems or sorted(p.stem for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
    bad = 0
    for stem in stems:
        chapter = nbformat.read(REPO / "chapters" / f"{stem}.ipynb", as_version=4)
        exercises = autograded_exercises(nbformat.read(REPO / "solutions" / f"{stem}.ipynb", as_version=4))
        for problem in corpus_problems(stem, nbformat.read(REPO / "solutions" / f"{stem}.ipynb", as_version=4)):
            print(problem)
            bad += 1
        for k, batch in enumerate(batches(load_corpus(stem))):
            executed = run_notebook(student_notebook(chapter, batch), cwd=REPO / "chapters", allow_errors=True)
            for answer, problem in verdicts(executed, batch, exercises):
                print(f"{stem} batch {k}: {answer.label}: {problem or 'caught'}")
                bad += bool(problem)
    print(f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
