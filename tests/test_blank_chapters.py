"""The blank student notebooks raise exactly where they are tagged to.

nbval accepts a `raises-exception` cell that does not raise, so it cannot tell
us when a test cell passes against an unsolved exercise, i.e. a test that cannot
fail. Here each chapter runs once with errors allowed, and the cells that raised
must be exactly the tagged ones.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from execute_notebooks import run_notebook  # noqa: E402
from make_chapters import RAISES_TAG  # noqa: E402

CHAPTERS = sorted((REPO / "chapters").glob("[0-9][0-9]_*.ipynb"))


def error_names(cell) -> list[str]:
    return [out.ename for out in cell.get("outputs", []) if out.output_type == "error"]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CHAPTERS])
def test_blank_chapter_raises_exactly_in_tagged_cells(path):
    nb = run_notebook(nbformat.read(path, as_version=4), cwd=path.parent, allow_errors=True, timeout=300)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tagged, errors = RAISES_TAG in cell.metadata.get("tags", []), error_names(cell)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if tagged and not errors:
            problems.append(f"cell {index} ({grade_id}) passes while the exercise is unsolved: its test cannot fail")
        if errors and not tagged:
            problems.append(f"cell {index} ({grade_id}) raises {errors} in the blank notebook: "
                            "narrative must not depend on an exercise")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
