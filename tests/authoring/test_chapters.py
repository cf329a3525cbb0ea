"""chapters/ is generated from solutions/ by primer/authoring/release.py.

Checks that the committed chapters are current, that generation is
deterministic and leaks nothing, and unit-tests the generator on a small
notebook built here (a .ipynb file under tests/ would be collected by nbval).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbval.plugin import find_comment_markers

REPO = Path(__file__).resolve().parents[2]
from primer.authoring import release as mc  # noqa: E402
from primer.authoring.execute import run_notebook  # noqa: E402

SOLUTIONS, CHAPTERS = REPO / "solutions", REPO / "chapters"
SOLUTION_NOTEBOOKS = [SOLUTIONS / p for p in mc.tree_files(SOLUTIONS) if p.suffix == ".ipynb"]
MARKERS = [f"{edge} {kind}" for kind in mc.REGIONS for edge in ("BEGIN", "END")]


# --- the fixture notebook ----------------------------------------------------------


def graded(cell, grade_id, *, solution=False, grade=False, locked=False, points=None):
    cell.metadata["nbgrader"] = {
        "grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
    } | ({"points": points} if points is not None else {})
    return cell


def code(source, count=None, outputs=()):
    return new_code_cell(source, execution_count=count, outputs=list(outputs))


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def fixture_notebook() -> nbformat.NotebookNode:
    """One cell of each kind; the comments give what the chapter must do with it."""
    cells = [
        # 0: plain narrative with an output -> output and count cleared
        code("import math\nfrom nnlib import checks\nmath.pi", 1, [new_output("execute_result", {"text/plain": "3.141592653589793"}, execution_count=1)]),
        # 1: checked output -> output and count kept
        code("# NBVAL_CHECK_OUTPUT\nprint(math.sqrt(16))", 2, [stdout("4.0\n")]),
        # 2: test before any exercise -> not tagged
        graded(code('assert math.pi > 3, "math.pi looks wrong"\nchecks.passed("env")', 3), "env_tests", grade=True, points=1),
        # 3: function stub -> defining it does not raise, not tagged
        graded(code("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", 4),
               "double", solution=True),
        # 4: its test, with hidden tests -> tagged
        graded(code('assert double(2) == 4, "double(2) should be 4"\nchecks.passed("double")\n'
                    "### BEGIN HIDDEN TESTS\nassert double(-1.5) == -3.0\n### END HIDDEN TESTS", 5),
               "double_tests", grade=True, points=2),
        # 5: top-level numeric answer -> the stub raises, tagged
        graded(code("### BEGIN SOLUTION\nanswer = 6 * 7\n### END SOLUTION", 6), "answer", solution=True),
        # 6: its test -> tagged
        graded(code('assert isinstance(answer, int), "answer should be an int"\nchecks.passed("answer")\n'
                    "### BEGIN HIDDEN TESTS\nassert answer == 42\n### END HIDDEN TESTS", 7),
               "answer_tests", grade=True, points=1),
        # 7: manually graded written answer -> "YOUR ANSWER HERE"
        graded(new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause 42 is the answer.\n### END SOLUTION"),
               "why", solution=True, grade=True, points=1),
        # 8: read-only code -> locked, not tagged
        graded(code("SIZE = 3", 8), "size", locked=True),
        # 9: stub inside a top-level loop, after a magic -> runs at top level, tagged
        graded(code("%time total = 0\nfor i in range(SIZE):\n    ### BEGIN SOLUTION\n    total += i\n    ### END SOLUTION", 9),
               "loop", solution=True),
        # 10: narrative after the exercises -> not tagged
        code("print(SIZE)", 10, [stdout("3\n")]),
    ]
    cells[0].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
    }
    return new_notebook(cells=cells, metadata=metadata)


EXPECTED_TAGGED = {4, 5, 6, 9}


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def render(path: Path) -> nbformat.NotebookNode:
    return nbformat.reads(mc.render_notebook(path, path.name).decode("utf-8"), as_version=4)


def tagged(nb) -> set[int]:
    return {i for i, cell in enumerate(nb.cells) if mc.RAISES_TAG in cell.metadata.get("tags", [])}


@pytest.fixture
def fixture_path(tmp_path) -> Path:
    return write(fixture_notebook(), tmp_path / "src" / "fixture.ipynb")


def read_tree(root: Path) -> dict[Path, bytes]:
    return {relative: (root / relative).read_bytes() for relative in mc.tree_files(root)}


def tree_differences(expected: dict, actual: dict) -> list[str]:
    return sorted(
        [f"differs: {p}" for p in expected if p in actual and actual[p] != expected[p]]
        + [f"missing: {p}" for p in expected if p not in actual]
        + [f"extra: {p}" for p in actual if p not in expected]
    )


# --- the committed chapters ----------------------------------------------------------


def test_chapters_up_to_date(tmp_path):
    """Runs even when solutions/ has no notebooks: then chapters/ must be empty too."""
    mc.make_chapters(SOLUTIONS, tmp_path)
    differences = tree_differences(read_tree(tmp_path), read_tree(CHAPTERS))
    assert not differences, "chapters/ is stale; run `make chapters`:\n" + "\n".join(differences)


def test_generator_is_deterministic(tmp_path, fixture_path):
    """Two processes with different hash seeds write identical bytes."""
    src = tmp_path / "src"
    if SOLUTIONS.is_dir():
        shutil.copytree(SOLUTIONS, src / "solutions", ignore=shutil.ignore_patterns(".*", "__pycache__"))
    (src / "img").mkdir()
    (src / "img" / "figure.png").write_bytes(b"\x89PNG fake")
    runs = [
        subprocess.Popen([sys.executable, "-m", "primer", "release", str(src), str(tmp_path / seed)],
                         env=os.environ | {"PYTHONHASHSEED": seed}, stderr=subprocess.PIPE, text=True)
        for seed in ("1", "2")
    ]
    for run in runs:
        assert run.wait() == 0, run.stderr.read()
    first, second = read_tree(tmp_path / "1"), read_tree(tmp_path / "2")
    assert Path("fixture.ipynb") in first
    assert not tree_differences(first, second)


def secret_lines(source: str) -> set[str]:
    """Stripped lines inside solution / hidden-test regions that occur nowhere else in the cell."""
    inside, outside, region = set(), set(), False
    for line in source.split("\n"):
        if any(f"BEGIN {kind}" in line for kind in ("SOLUTION", "HIDDEN TESTS")):
            region = True
        elif any(f"END {kind}" in line for kind in ("SOLUTION", "HIDDEN TESTS")):
            region = False
        elif line.strip():
            (inside if region else outside).add(line.strip())
    return inside - outside


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in SOLUTION_NOTEBOOKS] + [pytest.param(None, id="fixture")])
def test_no_solution_or_hidden_test_leaks(path, fixture_path):
    """Checks the rendered chapter, which test_chapters_up_to_date equates with chapters/."""
    path = path or fixture_path
    source, chapter = nbformat.read(path, as_version=4), render(path)
    assert len(chapter.cells) == len(source.cells)
    for index, (src_cell, cell) in enumerate(zip(source.cells, chapter.cells)):
        left = [m for m in MARKERS if m in cell.source]
        assert not left, f"{path.name} cell {index}: marker(s) {left} left in the chapter"
        leaked = secret_lines(src_cell.source) & {line.strip() for line in cell.source.split("\n")}
        assert not leaked, f"{path.name} cell {index}: solution/hidden-test lines in the chapter: {sorted(leaked)}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in SOLUTION_NOTEBOOKS])
def test_solutions_carry_no_raises_exception_tag(path):
    """Solution tests run under nbval untagged, so they must really pass."""
    nb = nbformat.read(path, as_version=4)
    assert not tagged(nb), f"{path.name}: cells {sorted(tagged(nb))} carry '{mc.RAISES_TAG}'; remove it"


# --- the generator on the fixture -------------------------------------------------


def test_tags_exactly_the_cells_that_raise_while_unsolved(fixture_path):
    chapter = render(fixture_path)
    assert tagged(chapter) == EXPECTED_TAGGED
    assert "raise NotImplementedError()" in chapter.cells[3].source  # stub inside the def: untagged
    assert chapter.cells[7].source.endswith("YOUR ANSWER HERE")


def test_keeps_outputs_only_in_check_output_cells(fixture_path):
    source, chapter = nbformat.read(fixture_path, as_version=4), render(fixture_path)
    for index, cell in enumerate(chapter.cells):
        if cell.cell_type != "code":
            continue
        if index == 1:
            assert (cell.outputs, cell.execution_count) == (source.cells[1].outputs, 2)
        else:
            assert (cell.outputs, cell.execution_count) == ([], None), f"cell {index} kept its output"


def test_strips_volatile_metadata_and_locks_cells(fixture_path):
    chapter = render(fixture_path)
    assert "widgets" not in chapter.metadata
    assert all("execution" not in cell.metadata for cell in chapter.cells)
    assert chapter.cells[4].metadata["editable"] is False
    assert len(chapter.cells[4].metadata["nbgrader"]["checksum"]) == 32


@pytest.mark.parametrize("source", [
    "# NBVAL_CHECK_OUTPUT\nx", "  ## NBVAL_CHECK_OUTPUT  \nx", "x  # NBVAL_CHECK_OUTPUT",
    "# NBVAL_CHECK_OUTPUT: sums\nx", "s = '# NBVAL_CHECK_OUTPUT'",
])
def test_check_output_marker_is_parsed_like_nbval(source):
    assert mc.checks_output(source) == dict(find_comment_markers(source)).get("check", False)


def test_mirror_copies_files_and_deletes_only_orphaned_chapters(tmp_path, fixture_path, capsys):
    src, dst = fixture_path.parent, tmp_path / "dst"
    (src / "img").mkdir()
    (src / "img" / "figure.png").write_bytes(b"\x89PNG fake")
    (src / "gone.ipynb").write_bytes(fixture_path.read_bytes())
    mc.make_chapters(src, dst)
    (src / "gone.ipynb").unlink()                                        # its source is removed
    shutil.copy(dst / "gone.ipynb", dst / "gone-Copy1.ipynb")             # a Jupyter duplicate of it
    foreign = {"mine.ipynb": b'{"cells": []}', "model.npz": b"PK\x03\x04", "plot.png": b"\x89PNG",
               "broken.ipynb": b"{not json"}
    for name, data in foreign.items():
        (dst / name).write_bytes(data)
    (dst / ".ipynb_checkpoints").mkdir()
    report = mc.make_chapters(src, dst)
    assert report == {"created": [], "updated": [], "deleted": [Path("gone.ipynb")]}
    assert all((dst / name).read_bytes() == data for name, data in foreign.items())
    assert (dst / "gone-Copy1.ipynb").is_file() and (dst / ".ipynb_checkpoints").is_dir()
    assert mc.make_chapters(src, dst) == {"created": [], "updated": [], "deleted": []}
    assert mc.main([str(src), str(dst), "--check"]) == 0
    (dst / "img" / "figure.png").write_bytes(b"changed")
    assert mc.main([str(src), str(dst), "--check"]) == 1
    assert f"stale: {dst / 'img' / 'figure.png'}" in capsys.readouterr().out
    assert mc.main([str(src), str(dst)]) == 0
    assert f"updated: {dst / 'img' / 'figure.png'}" in capsys.readouterr().out


def _set(index, key, value):
    def mutate(nb):
        nb.cells[index].metadata["nbgrader"][key] = value
    return mutate


def _edit_source(index, old, new):
    def mutate(nb):
        nb.cells[index].source = nb.cells[index].source.replace(old, new)
    return mutate


def _drop_points(nb):
    del nb.cells[4].metadata["nbgrader"]["points"]


def _tag(nb):
    nb.cells[3].metadata["tags"] = [mc.RAISES_TAG]


def _unexecute(nb):
    nb.cells[1].execution_count = None


MALFORMED = {
    "unclosed solution": (_edit_source(3, "    ### END SOLUTION", ""),
                          "cell 3 (grade_id 'double'): 'BEGIN SOLUTION' on line 2 is never closed"),
    "nested solution": (_edit_source(5, "answer = 6 * 7", "### BEGIN SOLUTION"),
                        "cell 5 (grade_id 'answer'): 'BEGIN SOLUTION' on line 2 is nested in the one on line 1"),
    "end without begin": (_edit_source(4, "### BEGIN HIDDEN TESTS\n", ""),
                          "cell 4 (grade_id 'double_tests'): 'END HIDDEN TESTS' on line 4 has no 'BEGIN HIDDEN TESTS'"),
    "duplicate grade_id": (_set(6, "grade_id", "double_tests"),
                           "cell 6 (grade_id 'double_tests'): duplicate grade_id, already used by cell 4"),
    "graded without points": (_drop_points, "cell 4 (grade_id 'double_tests'): invalid nbgrader metadata"),
    "zero points": (_set(4, "points", 0), "cell 4 (grade_id 'double_tests'): graded cell has points 0"),
    "old schema": (_set(8, "schema_version", 2), "cell 8 (grade_id 'size'): invalid nbgrader metadata: Outdated"),
    "solution markers, no metadata": (_edit_source(0, "math.pi", "### BEGIN SOLUTION\n### END SOLUTION"),
                                      "cell 0: 'BEGIN SOLUTION' in a cell without nbgrader metadata solution: true"),
    "hidden tests, not graded": (_edit_source(3, "SOLUTION", "HIDDEN TESTS"),
                                 "cell 3 (grade_id 'double'): 'BEGIN HIDDEN TESTS' in a cell without nbgrader metadata grade: true"),
    "raises-exception in source": (_tag, "cell 3 (grade_id 'double'): solutions must not carry"),
    "checked output in test cell": (_edit_source(2, "assert", "# NBVAL_CHECK_OUTPUT\nassert"),
                                    "cell 2 (grade_id 'env_tests'): NBVAL_CHECK_OUTPUT in an nbgrader cell"),
    "checked output never run": (_unexecute, "cell 1: NBVAL_CHECK_OUTPUT cell was never executed"),
    "only hidden tests": (_edit_source(6, 'assert isinstance(answer, int), "answer should be an int"\nchecks.passed("answer")',
                                       "# see below"),
                          "cell 6 (grade_id 'answer_tests'): test cell has no visible test code"),
    "no solution markers": (_edit_source(3, "    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "    return 2 * x"),
                            "cell 3 (grade_id 'double'): solution cell has no '### BEGIN SOLUTION'"),
    "lower-case marker": (_edit_source(5, "### BEGIN SOLUTION", "### begin solution"),
                          "cell 5 (grade_id 'answer'): line 1: '### begin solution' is not a marker nbgrader recognizes; "
                          "write exactly '### BEGIN SOLUTION'"),
    "mistyped marker": (_edit_source(3, "### END SOLUTION", "### END SOLUTOIN"),
                        "cell 3 (grade_id 'double'): line 4: '### END SOLUTOIN' is not a marker nbgrader recognizes; write exactly '### END SOLUTION'"),
    "two hashes": (_edit_source(4, "### BEGIN HIDDEN TESTS", "## BEGIN HIDDEN TESTS"),
                   "cell 4 (grade_id 'double_tests'): line 3: '## BEGIN HIDDEN TESTS' is not a marker"),
    "marker not alone": (_edit_source(5, "### BEGIN SOLUTION", "x = 1  ### BEGIN SOLUTION"),
                         "cell 5 (grade_id 'answer'): line 1: a marker must stand alone on its line"),
    "written answer without markers": (_edit_source(7, "### BEGIN SOLUTION\nBecause 42 is the answer.\n### END SOLUTION",
                                                    "Because."), "cell 7 (grade_id 'why'): solution cell has no"),
    "test without passed": (_edit_source(4, 'checks.passed("double")\n', ""),
                            "cell 4 (grade_id 'double_tests'): test cell has no visible `checks.passed(...)` line"),
    "stub not python": (_edit_source(5, "### BEGIN", "answer = (\n### BEGIN"),
                        "cell 5 (grade_id 'answer'): the cleared cell is not valid Python"),
}


@pytest.mark.parametrize("mutate, message", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_source_is_reported(tmp_path, mutate, message):
    nb = fixture_notebook()
    mutate(nb)
    path = write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(mc.SourceError) as error:
        mc.render_notebook(path, "bad.ipynb")
    assert f"bad.ipynb, {message}" in str(error.value)


def test_all_problems_of_all_notebooks_are_reported(tmp_path):
    for name, (mutate, _) in [("a.ipynb", MALFORMED["zero points"]), ("b.ipynb", MALFORMED["old schema"])]:
        nb = fixture_notebook()
        mutate(nb)
        write(nb, tmp_path / "src" / name)
    with pytest.raises(mc.SourceError) as error:
        mc.make_chapters(tmp_path / "src", tmp_path / "dst")
    assert "a.ipynb, cell 4" in str(error.value) and "b.ipynb, cell 8" in str(error.value)
    assert not (tmp_path / "dst").exists()


# --- executing the fixture ------------------------------------------------------


def test_blank_chapter_raises_exactly_in_tagged_cells(fixture_path, tmp_path):
    """nbval passes a raises-exception cell that does not raise, so check both directions here."""
    chapter = render(fixture_path)
    run_notebook(chapter, cwd=tmp_path, allow_errors=True, timeout=60)
    raised = {i for i, cell in enumerate(chapter.cells)
              if any(out.output_type == "error" for out in cell.get("outputs", []))}
    assert raised == EXPECTED_TAGGED


def run_nbval(tmp_path, *paths):
    """pytest + nbval as the suite runs it, with the repository's conftest.py (the raises rule)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # keep the repository's addopts/testpaths out
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
         "--nbval-lax", "--nbval-current-env", *map(str, paths)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )


def test_solution_and_chapter_pass_nbval(fixture_path, tmp_path):
    """The pipeline end to end: both notebooks pass nbval as the suite runs it."""
    chapter = tmp_path / "chapters" / "fixture.ipynb"
    mc.make_chapters(fixture_path.parent, chapter.parent)
    result = run_nbval(tmp_path, fixture_path, chapter)
    assert result.returncode == 0, result.stdout[-3000:]
    code_cells = sum(cell.cell_type == "code" for cell in fixture_notebook().cells)
    assert f"{2 * code_cells} passed" in result.stdout


def test_nbval_fails_a_tagged_cell_that_does_not_raise(fixture_path, tmp_path):
    """nbval alone passes it; conftest.py makes it a failure (a test that cannot fail)."""
    chapter = render(fixture_path)
    clean = next(i for i, c in enumerate(chapter.cells)
                 if c.cell_type == "code" and i not in EXPECTED_TAGGED and "checks" in c.source)
    chapter.cells[clean].metadata.setdefault("tags", []).append(mc.RAISES_TAG)
    path = write(chapter, tmp_path / "chapters" / "fixture.ipynb")
    result = run_nbval(tmp_path, path)
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout[-3000:]
    assert "ran without an error" in result.stdout and "cannot fail" in result.stdout


BROKEN_FILES = {
    "empty": (b"", "the file is empty"),
    "blank": (b"  \n", "the file is empty"),
    "invalid JSON": (b'{"cells": [', "invalid JSON at line 1, column 12"),
    "empty object": (b"{}", "not a Jupyter notebook"),
    "a list": (b"[]", "not a Jupyter notebook"),
    "old format": (b'{"nbformat": 3, "worksheets": []}', "not a Jupyter notebook"),
    "not UTF-8": (b"\xff\xfe{", "not UTF-8 text"),
}


def conflicted(fixture_path: Path) -> bytes:
    lines = fixture_path.read_text().split("\n")
    lines[3:3] = ["<<<<<<< HEAD", '  "a": 1,', "=======", '  "a": 2,', ">>>>>>> theirs"]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("data, message", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_broken_source_files_are_reported_not_raised(tmp_path, fixture_path, capsys, data, message):
    (fixture_path.parent / "broken.ipynb").write_bytes(data)
    assert mc.main([str(fixture_path.parent), str(tmp_path / "dst")]) == 2
    err = capsys.readouterr().err
    assert f"broken.ipynb: {message}" in err and "Traceback" not in err
    assert not (tmp_path / "dst").exists(), "nothing may be written while a source is broken"
    assert mc.main([str(fixture_path.parent), str(tmp_path / "dst"), "--check"]) == 2


def test_merge_conflict_is_reported_with_its_lines(tmp_path, fixture_path, capsys):
    fixture_path.write_bytes(conflicted(fixture_path))
    assert mc.main([str(fixture_path.parent), str(tmp_path / "dst")]) == 2
    assert "fixture.ipynb: merge-conflict markers on line(s) 4, 6, 8" in capsys.readouterr().err


def test_every_problem_of_every_notebook_in_one_report(tmp_path, fixture_path, capsys):
    src = fixture_path.parent
    (src / "empty.ipynb").write_bytes(b"")
    nb = fixture_notebook()
    MALFORMED["zero points"][0](nb)
    MALFORMED["lower-case marker"][0](nb)
    write(nb, src / "bad.ipynb")
    assert mc.main([str(src), str(tmp_path / "dst")]) == 2
    err = capsys.readouterr().err
    assert "empty.ipynb: the file is empty" in err
    assert "bad.ipynb, cell 4 (grade_id 'double_tests'): graded cell has points 0" in err
    assert "bad.ipynb, cell 5 (grade_id 'answer'): line 1: '### begin solution'" in err


def test_dst_that_is_a_file_is_reported(tmp_path, fixture_path, capsys):
    dst = tmp_path / "chapters"
    dst.write_text("not a folder")
    assert mc.main([str(fixture_path.parent), str(dst)]) == 2
    assert "exists but is a file, not a folder" in capsys.readouterr().err
    assert dst.read_text() == "not a folder"


def test_stored_outputs_hold_no_machine_paths(monkeypatch):
    """execute_notebooks scrubs this machine's paths; the committed notebooks must not hold any."""
    from primer.authoring import execute as ex
    monkeypatch.setenv("NNLIB_DATA", "/srv/data")
    nb = fixture_notebook()
    nb.cells[1].outputs = [stdout(f"/srv/data/mnist and {ex.REPO}/x and /tmp/ipykernel_12/345.py:1: W\n")]
    ex.scrub_paths(nb)
    assert nb.cells[1].outputs[0].text == "$NNLIB_DATA/mnist and <course>/x and <cell>:1: W\n"
    for path in SOLUTION_NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "/tmp/ipykernel_" not in text and str(REPO) not in text, f"{path.name}: run primer/authoring/execute.py"


def test_stored_widget_outputs_are_a_plain_note():
    """A stored widget view needs the kernel that made it: in a static view it shows as
    "Error displaying widget" or as the raw `interactive(children=...)` repr."""
    from primer.authoring import execute as ex
    nb = fixture_notebook()
    nb.cells[1].outputs = [new_output("display_data", {"text/plain": "interactive(children=(IntSlider(value=1),))",
                                                       ex.WIDGET_VIEW_MIME: {"model_id": "abc"}})]
    ex.drop_widget_views(nb)
    assert nb.cells[1].outputs[0].data == {"text/plain": ex.WIDGET_PLACEHOLDER}
    # a tqdm progress bar (an HBox holding a FloatProgress) says it is one
    nb.metadata["widgets"] = {ex.WIDGET_STATE_MIME: {"state": {
        "box": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_t", "IPY_MODEL_bar"]}},
        "t": {"model_name": "HTMLModel", "state": {}},
        "bar": {"model_name": "FloatProgressModel", "state": {}}}}}
    nb.cells[1].outputs = [new_output("display_data", {"text/plain": "HBox(...)",
                                                       ex.WIDGET_VIEW_MIME: {"model_id": "box"}})]
    ex.drop_widget_views(nb)
    assert nb.cells[1].outputs[0].data == {"text/plain": ex.PROGRESS_PLACEHOLDER}
    for path in SOLUTION_NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                assert ex.WIDGET_VIEW_MIME not in data, f"{path.name}: run primer/authoring/execute.py"
                assert not str(data.get("text/plain", "")).startswith(("interactive(", "VBox(", "HBox(")), \
                    f"{path.name}: a raw widget repr is stored; run primer/authoring/execute.py"
