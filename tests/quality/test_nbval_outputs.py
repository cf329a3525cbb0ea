"""nbval's output comparison as the browser test applies it (primer/quality/nbval_outputs.py)."""
from __future__ import annotations

import copy

import nbformat
import pytest

from primer.quality import nbval_outputs
from primer.quality.lab_server import REPO


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(REPO / "solutions" / "03_xor.ipynb", as_version=4)


def checked_stream_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if nbval_outputs.checks_output(c)
                and any(o.get("output_type") == "stream" for o in c.outputs))


def test_a_notebook_agrees_with_itself(notebook):
    assert sum(nbval_outputs.checks_output(c) for c in notebook.cells) >= 3
    assert nbval_outputs.differences(notebook, notebook) == []


def test_a_changed_number_in_a_checked_cell_is_reported(notebook):
    ran = copy.deepcopy(notebook)
    index = checked_stream_cell(ran)
    stream = next(o for o in ran.cells[index].outputs if o.output_type == "stream")
    stream.text = stream.text.replace("0", "1", 1) if "0" in stream.text else stream.text + "x"
    problems = nbval_outputs.differences(ran, notebook)
    assert len(problems) == 1 and problems[0].startswith(f"cell {index} (NBVAL_CHECK_OUTPUT)")


def test_a_missing_output_in_a_checked_cell_is_reported(notebook):
    ran = copy.deepcopy(notebook)
    index = checked_stream_cell(ran)
    ran.cells[index].outputs = []
    assert nbval_outputs.differences(ran, notebook)


def test_unchecked_cells_and_stream_splits_are_not_compared(notebook):
    ran = copy.deepcopy(notebook)
    index = checked_stream_cell(ran)
    first = next(o for o in ran.cells[index].outputs if o.output_type == "stream")
    half = len(first.text) // 2
    second = copy.deepcopy(first)
    first.text, second.text = first.text[:half], first.text[half:]
    ran.cells[index].outputs.insert(ran.cells[index].outputs.index(first) + 1, second)
    free = next(i for i, c in enumerate(ran.cells) if c.cell_type == "code" and c.outputs
                and not nbval_outputs.checks_output(c))
    ran.cells[free].outputs = []
    assert nbval_outputs.differences(ran, notebook) == []
    assert nbval_outputs.differences(notebook, notebook) == []  # the reference is untouched


def test_a_different_cell_count_is_reported(notebook):
    ran = copy.deepcopy(notebook)
    ran.cells.pop()
    assert "cells" in nbval_outputs.differences(ran, notebook)[0]
