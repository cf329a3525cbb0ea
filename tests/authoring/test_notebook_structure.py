"""Every solution notebook follows the course spine (docs/AUTHORING.md).

Checks headings, the seeded first code cell, graded exercises and widgets,
so that a notebook missing a part of the spine fails CI instead of review.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
NOTEBOOKS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
# In order; each is a regular expression matched against markdown heading lines.
SPINE = [r"# \d\d · \S", r"## Learning goals", r"## Chapter sections", r"## Exercises?\b",
         r"## Systems analysis", r"## Summary"]
MIN_GRADED = 3


def headings(nb) -> list[str]:
    return [line.strip() for cell in nb.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")]


def spine_problems(nb) -> list[str]:
    """Missing or out-of-order spine headings."""
    problems, position, found = [], 0, headings(nb)
    for pattern in SPINE:
        hits = [i for i, h in enumerate(found) if re.match(pattern, h)]
        later = [i for i in hits if i >= position]
        if not hits:
            problems.append(f"missing heading matching '{pattern}'")
        elif not later:
            problems.append(f"heading '{found[hits[0]]}' is out of order")
        else:
            position = later[0]
    return problems


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def graded_cells(nb):
    return [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade")]


def number(path: Path) -> int:
    return int(path.name[:2])


def params(filter_=lambda p: True):
    return [pytest.param(p, id=p.stem) for p in NOTEBOOKS if filter_(p)]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no solution notebooks found in {SOLUTIONS}"


@pytest.mark.parametrize("path", params())
def test_spine(path):
    problems = spine_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems) + " (see docs/AUTHORING.md)"


@pytest.mark.parametrize("path", params())
def test_title_number_matches_file_name(path):
    title = headings(nbformat.read(path, as_version=4))[0]
    assert title.startswith(f"# {path.name[:2]} "), f"{path.name}: title '{title}' should start with '# {path.name[:2]} '"


@pytest.mark.parametrize("path", params(lambda p: number(p) >= 1))
def test_first_code_cell_fixes_the_seed(path):
    first = code_cells(nbformat.read(path, as_version=4))[0].source
    assert re.search(r"\bseed\(\d+\)", first), f"{path.name}: the first code cell must call nnlib.seed(<n>)"


@pytest.mark.parametrize("path", params(lambda p: True))
def test_first_code_cell_sets_up_inline_figures(path):
    """The same sharp, small figures everywhere; a magic turned into a comment by a code
    formatter (\"# %matplotlib\") would silently drop the inline backend's settings."""
    first = code_cells(nbformat.read(path, as_version=4))[0].source
    assert "%matplotlib inline" in first.splitlines(), f"{path.name}: no `%matplotlib inline` line"
    assert "nnlib.plot.setup()" in first, f"{path.name}: the first code cell must call nnlib.plot.setup()"
    commented = [line for line in first.splitlines() if re.match(r"#\s*\S*%", line)]
    assert not commented, f"{path.name}: commented-out magics {commented}"


@pytest.mark.parametrize("path", params(lambda p: number(p) >= 1))
def test_has_graded_exercises_with_points(path):
    nb = nbformat.read(path, as_version=4)
    graded = graded_cells(nb)
    assert len(graded) >= MIN_GRADED, f"{path.name}: {len(graded)} graded cells, need at least {MIN_GRADED}"
    assert all(cell.metadata["nbgrader"].get("points", 0) > 0 for cell in graded)


@pytest.mark.parametrize("path", params(lambda p: number(p) >= 1))
def test_has_a_widget(path):
    sources = "\n".join(cell.source for cell in code_cells(nbformat.read(path, as_version=4)))
    assert re.search(r"\bipywidgets\b", sources), f"{path.name}: no ipywidgets control"


@pytest.mark.parametrize("path", params(lambda p: number(p) >= 1))
def test_has_checked_numbers(path):
    nb = nbformat.read(path, as_version=4)
    checked = [c for c in code_cells(nb) if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, f"{path.name}: no '# NBVAL_CHECK_OUTPUT' cell: key numbers must be checked by CI"


def test_spine_check_can_fail():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 07 · Title\n## Learning goals"),
        nbformat.v4.new_markdown_cell("## Summary\n## Chapter sections\n## Exercises"),
    ])
    problems = spine_problems(nb)
    assert "missing heading matching '## Systems analysis'" in problems
    assert "heading '## Summary' is out of order" in problems


MAX_CODE_LINE = 88  # what fits a laptop's JupyterLab without scrolling sideways


@pytest.mark.parametrize("path", params())
def test_code_lines_fit_a_laptop_screen(path):
    long = [(index, len(line)) for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
            if cell.cell_type == "code" for line in cell.source.split("\n") if len(line) > MAX_CODE_LINE]
    assert not long, f"{path.name}: code lines over {MAX_CODE_LINE} characters (cell, length): {long[:10]}"
