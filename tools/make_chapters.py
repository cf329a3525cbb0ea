#!/usr/bin/env python3
"""Generate the student notebooks (chapters/) from the solution notebooks (solutions/).

usage: make_chapters.py SRC DST [--check]

DST mirrors SRC: every SRC/**.ipynb becomes a student notebook at the same
relative path, other files (images) are copied, and files in DST with no
counterpart in SRC are deleted. Names starting with "." and __pycache__ are
ignored on both sides. Output is byte-identical across runs, so DST can be
committed and checked for staleness.

With --check nothing is written: the stale DST files are listed and the exit
status is 1 if there are any. A stale DST notebook with answers typed into it
is never overwritten or deleted without --force (exit status 3). Malformed
source (exit status 2) is reported per notebook, cell index (counting all
cells from 0) and grade_id.

The student notebook is built with nbgrader's own preprocessors (no gradebook,
no course directory): solutions and hidden tests are cleared, cells locked,
checksums computed. Outputs are cleared except in cells marked
"# NBVAL_CHECK_OUTPUT", and cells that raise while the exercises are unsolved
get the "raises-exception" tag so that nbval can run the blank notebook.
"""
from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

from execute_notebooks import strip_volatile_metadata

RAISES_TAG = "raises-exception"
CHECK_OUTPUT_MARKER = "NBVAL_CHECK_OUTPUT"
# Delimited regions nbgrader removes, and the nbgrader flag a cell needs for each.
REGIONS = {"SOLUTION": "solution", "HIDDEN TESTS": "grade", "MARK SCHEME": "task"}


class SourceError(ValueError):
    """Malformed solution notebook(s); the message lists every problem."""


# --- classifying cells --------------------------------------------------------


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded code that students do not edit."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def checks_output(source: str) -> bool:
    """True if nbval compares this cell's output, with nbval's own parsing rule."""
    return any(
        line.strip().startswith("#") and line.strip().lstrip("#").strip() == CHECK_OUTPUT_MARKER
        for line in source.splitlines()
    )


def _outside_functions(node: ast.AST):
    """Nodes that run when the cell runs: everything not inside a def or lambda."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield child
            yield from _outside_functions(child)


def _raises_not_implemented(node: ast.AST) -> bool:
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def raises_when_run(source: str) -> bool:
    """True if running the cell reaches nbgrader's `raise NotImplementedError()` stub.

    The stub raises at run time unless it sits inside a function body: a stub
    in a def (function exercise) only raises when the function is called.
    IPython syntax (magics) is translated first so that ast can parse it.
    """
    tree = ast.parse(TransformerManager().transform_cell(source))
    return any(_raises_not_implemented(node) for node in _outside_functions(tree))


# --- validating the source ----------------------------------------------------


def region_problems(source: str) -> list[str]:
    """Unbalanced or nested BEGIN/END markers, with nbgrader's substring matching."""
    problems = []
    for kind in REGIONS:
        begin, end, open_line = f"BEGIN {kind}", f"END {kind}", None
        for number, line in enumerate(source.split("\n"), 1):
            if begin in line:
                if open_line:
                    problems.append(f"'{begin}' on line {number} is nested in the one on line {open_line}")
                open_line = number
            elif end in line:
                if not open_line:
                    problems.append(f"'{end}' on line {number} has no '{begin}' before it")
                open_line = None
        if open_line:
            problems.append(f"'{begin}' on line {open_line} is never closed by '{end}'")
    return problems


def visible_test_code(source: str) -> list[str]:
    """Code lines of a test cell that students see (hidden region removed)."""
    lines, hidden = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden and line.strip() and not line.strip().startswith("#"):
            lines.append(line)
    return lines


def metadata_problems(cell) -> list[str]:
    meta = nbgrader_meta(cell)
    if not meta:
        return []
    try:
        MetadataValidator().validate_cell(cell)
    except (ValidationError, SchemaTooOldError, SchemaTooNewError) as err:
        return [f"invalid nbgrader metadata: {str(err).splitlines()[0]}"]
    if meta["grade"] and not meta["points"] > 0:
        return [f"graded cell has points {meta['points']}; it must be > 0"]
    return []


def cell_problems(cell) -> list[str]:
    meta = nbgrader_meta(cell)
    problems = metadata_problems(cell) + region_problems(cell.source)
    for kind, flag in REGIONS.items():
        if f"BEGIN {kind}" in cell.source and not meta.get(flag, False):
            problems.append(f"'BEGIN {kind}' in a cell without nbgrader metadata {flag}: true")
    if RAISES_TAG in cell.metadata.get("tags", []):
        problems.append(f"solutions must not carry the '{RAISES_TAG}' tag: make_chapters adds it to the chapter")
    if checks_output(cell.source) and (meta.get("grade") or meta.get("solution")):
        problems.append(f"{CHECK_OUTPUT_MARKER} in an nbgrader cell: its output differs while unsolved")
    if checks_output(cell.source) and cell.get("execution_count") is None:
        problems.append(f"{CHECK_OUTPUT_MARKER} cell was never executed: run tools/execute_notebooks.py --inplace")
    if is_test_cell(cell) and not visible_test_code(cell.source):
        problems.append("test cell has no visible test code: students would see an empty cell")
    return problems


def where(label: str, index: int, cell) -> str:
    grade_id = nbgrader_meta(cell).get("grade_id")
    return f"{label}, cell {index}" + (f" (grade_id '{grade_id}')" if grade_id else "")


def source_problems(nb: nbformat.NotebookNode, label: str) -> list[str]:
    """Every problem in a solution notebook, each prefixed with its location."""
    problems, first_use = [], {}
    for index, cell in enumerate(nb.cells):
        problems += [f"{where(label, index, cell)}: {problem}" for problem in cell_problems(cell)]
        if _has_grade_id(cell):
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id in first_use:
                problems.append(f"{where(label, index, cell)}: duplicate grade_id, already used by cell {first_use[grade_id]}")
            first_use.setdefault(grade_id, index)
    return problems


def _has_grade_id(cell) -> bool:
    """Cells nbgrader tracks by grade_id (it checks uniqueness on all but tasks)."""
    meta = nbgrader_meta(cell)
    return any(meta.get(flag, False) for flag in ("solution", "grade", "locked", "task"))


# --- building the student notebook --------------------------------------------


class ClearUncheckedOutput(ClearOutput):
    """Clear outputs, except in cells nbval compares (# NBVAL_CHECK_OUTPUT).

    Those keep their outputs so that nbval compares the chapter against the
    expected values (which students see too) and their execution_count:
    nbval skips the comparison for a cell whose execution_count is None and
    fails one that has outputs with "Unrun reference cell has outputs".
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and checks_output(cell.source):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


# Order as in nbgrader's GenerateAssignment, minus the gradebook steps: the
# checksums are computed once everything is cleared, as its last pass does.
PREPROCESSORS = (
    ClearSolutions,
    ClearHiddenTests,
    ClearMarkScheme,
    LockCells,
    ClearUncheckedOutput,
    ComputeChecksums,
    CheckCellMetadata,
)


def tag_raising_cells(nb: nbformat.NotebookNode, label: str) -> None:
    """Tag the cells that raise in the blank notebook (see docs/AUTHORING.md).

    A solution cell raises iff its cleared source runs the stub (see
    raises_when_run). A test cell raises iff it comes after a code solution
    cell, because every test must exercise an exercise above it.
    """
    after_solution = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if nbgrader_meta(cell).get("solution", False):
            after_solution = True
            raises = _raises_when_run_or_fail(cell, label, index)
        else:
            raises = after_solution and is_test_cell(cell)
        if raises:
            cell.metadata["tags"] = cell.metadata.get("tags", []) + [RAISES_TAG]


def _raises_when_run_or_fail(cell, label: str, index: int) -> bool:
    try:
        return raises_when_run(cell.source)
    except SyntaxError as err:
        raise SourceError(f"{where(label, index, cell)}: the cleared cell is not valid Python: {err}") from None


def render_notebook(path: Path, label: str) -> bytes:
    """The student notebook for one solution notebook, as the bytes to write."""
    nb = nbformat.read(path, as_version=4)
    problems = source_problems(nb, label)
    if problems:
        raise SourceError("\n".join(problems))
    for preprocessor in PREPROCESSORS:
        nb, _ = preprocessor().preprocess(nb, {})
    tag_raising_cells(nb, label)
    strip_volatile_metadata(nb)
    return (nbformat.writes(nb) + "\n").encode("utf-8")


# --- mirroring the tree ------------------------------------------------------


def _ignored(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


def tree_files(root: Path) -> list[Path]:
    """Relative paths of the files under root that take part in the mirror."""
    if not root.is_dir():
        return []
    files = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return sorted(p for p in files if not _ignored(p))


def render_tree(src: Path) -> dict[Path, bytes]:
    """Relative path -> content of every file DST must hold."""
    if not src.is_dir():
        raise SourceError(f"{src} is not a folder")
    files, problems = {}, []
    for relative in tree_files(src):
        path = src / relative
        try:
            files[relative] = render_notebook(path, str(path)) if path.suffix == ".ipynb" else path.read_bytes()
        except SourceError as err:
            problems.append(str(err))
    if problems:
        raise SourceError("\n".join(problems))
    return files


def stale_files(dst: Path, files: dict[Path, bytes]) -> list[Path]:
    """Relative paths in DST that differ from, lack or are absent from `files`."""
    changed = [rel for rel, data in files.items() if not (dst / rel).is_file() or (dst / rel).read_bytes() != data]
    extra = [rel for rel in tree_files(dst) if rel not in files]
    return sorted(changed + extra)


class WorkAtRisk(RuntimeError):
    """DST holds notebooks with answers typed in; regenerating would erase them."""


STUBS = ("raise NotImplementedError()", "YOUR ANSWER HERE")


def answered_cells(path: Path) -> list[str]:
    """grade_ids of answer cells in an existing chapter that no longer hold nbgrader's stub."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # unreadable: not a notebook anyone can have worked in
        return []
    return [nbgrader_meta(cell).get("grade_id", f"cell {index}") for index, cell in enumerate(nb.cells)
            if nbgrader_meta(cell).get("solution") and not any(stub in cell.source for stub in STUBS)]


def work_at_risk(dst: Path, stale: list[Path]) -> list[str]:
    """One line per stale chapter in DST that a student (or author) has answered in."""
    lines = []
    for relative in stale:
        if relative.suffix == ".ipynb" and (dst / relative).is_file():
            answered = answered_cells(dst / relative)
            if answered:
                lines.append(f"{dst / relative}: answers in {', '.join(answered)}")
    return lines


def make_chapters(src: Path | str, dst: Path | str, *, force: bool = False) -> list[Path]:
    """Bring DST in line with SRC; return the relative paths written or deleted.

    Refuses (WorkAtRisk) to overwrite or delete a chapter with answers typed
    into it, unless force: students work in chapters/, and nothing they wrote
    should vanish because an author regenerated the folder.
    """
    src, dst = Path(src), Path(dst)
    files = render_tree(src)
    stale = stale_files(dst, files)
    at_risk = [] if force else work_at_risk(dst, stale)
    if at_risk:
        raise WorkAtRisk("\n".join(at_risk))
    for relative in stale:
        target = dst / relative
        if relative in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[relative])
        else:
            target.unlink()
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path, help="folder of solution notebooks")
    parser.add_argument("dst", type=Path, help="folder of generated student notebooks")
    parser.add_argument("--check", action="store_true", help="list stale files and exit 1 instead of writing")
    parser.add_argument("--force", action="store_true", help="overwrite chapters even if answers were typed into them")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if args.check:
            stale = stale_files(args.dst, render_tree(args.src))
        else:
            stale = make_chapters(args.src, args.dst, force=args.force)
    except SourceError as err:
        print(f"error: malformed source notebook(s):\n{err}", file=sys.stderr)
        return 2
    except WorkAtRisk as err:
        print(f"error: nothing written; these notebooks hold answers that regenerating would erase:\n{err}\n"
              f"Copy them somewhere safe (e.g. `cp {args.dst}/NN_name.ipynb ~/my-answers/`), "
              "then run again with --force.", file=sys.stderr)
        return 3
    verb = "stale" if args.check else "updated"
    for relative in stale:
        print(f"{verb}: {args.dst / relative}")
    if args.check and stale:
        print(f"{args.dst} is out of date: run `make chapters`", file=sys.stderr)
        return 1
    print(f"{args.dst}: {len(stale)} file(s) {verb} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
