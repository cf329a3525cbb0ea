"""Generate the student release (chapters/) from the solution notebooks (solutions/).

usage: primer release SRC DST [--check]
example: primer release solutions chapters

DST is the release: generated, committed, never a place where students work
(they work in their own copy, see primer/student/workspace.py). Every SRC/**.ipynb
becomes a student notebook at the same relative path and other files (images)
are copied. A notebook in DST is deleted only if it was generated (it carries
the release mark in its metadata) and its source is gone; nothing else in DST
is ever deleted. Names starting with "." and __pycache__ are ignored on both
sides. Output is byte-identical across runs, so DST can be committed and
checked for staleness.

Exit status: 0 done (or, with --check, up to date); 1 with --check, stale
files listed; 2 malformed source or an unusable DST, reported per notebook,
cell index (counting all cells from 0) and grade_id, every problem of every
notebook at once. Also 2, with nothing written, when DST is SRC, lies inside
SRC or contains it (symlinks resolved: the release would overwrite the
solutions), and when SRC holds no notebook at all (a wrong or empty SRC would
otherwise delete the whole release).

The student notebook is built with nbgrader's own preprocessors (no gradebook,
no course directory): solutions and hidden tests are cleared, cells locked,
checksums computed. Outputs are cleared except in cells marked
"# NBVAL_CHECK_OUTPUT", and cells that raise while the exercises are unsolved
get the "raises-exception" tag so that nbval can run the blank notebook.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
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

from primer.authoring.execute import strip_volatile_metadata

RAISES_TAG = "raises-exception"
CHECK_OUTPUT_MARKER = "NBVAL_CHECK_OUTPUT"
# Delimited regions nbgrader removes, and the nbgrader flag a cell needs for each.
REGIONS = {"SOLUTION": "solution", "HIDDEN TESTS": "grade", "MARK SCHEME": "task"}
# The one spelling of each marker; nbgrader matches substrings and silently
# ignores anything else (a mistyped marker stubs out the whole cell).
CANONICAL_MARKERS = {f"### {edge} {kind}" for kind in REGIONS for edge in ("BEGIN", "END")}
MARKER_LIKE = re.compile(r"^[#\s]*(begin|end)\b[\s_:-]*(.*?)[\s#]*$", re.IGNORECASE)
PASSED_CALL = "checks.passed("
# Notebook metadata that marks a generated chapter (so only those are ever deleted).
RELEASE_MARK = "dl_primer_release"


class SourceError(ValueError):
    """Malformed solution notebook(s); the message lists every problem."""


class FolderError(ValueError):
    """SRC and DST cannot be used together (same folder, nested, empty SRC)."""


def linked(*paths: Path) -> bool:
    """False if a symlink changes where one of paths points."""
    return all(Path(os.path.abspath(p)) == p.resolve() for p in paths)


def check_folders(src: Path, dst: Path) -> None:
    """Refuse a DST that is, contains or lies inside SRC (symlinks resolved)."""
    real_src, real_dst = src.resolve(), dst.resolve()
    usage = "usage: primer release solutions chapters"
    if real_dst == real_src:
        problem = f"DST {dst} is the source folder {src}"
    elif real_dst.is_relative_to(real_src):
        problem = f"DST {dst} lies inside the source folder {src}"
    elif real_src.is_relative_to(real_dst):
        problem = f"DST {dst} contains the source folder {src}"
    else:
        return
    raise FolderError(f"{problem}{'' if linked(src, dst) else ' (after following symlinks)'}: "
                      "writing the student release there would overwrite the solution notebooks. "
                      f"Give a DST outside {src}, e.g. `{usage.removeprefix('usage: ')}`.")


def check_has_notebooks(src: Path, files: dict[Path, bytes]) -> None:
    """Refuse an SRC without notebooks: every generated chapter would be deleted."""
    if not any(relative.suffix == ".ipynb" for relative in files):
        raise FolderError(f"SRC {src} holds no notebook (*.ipynb), so the whole release would be deleted. "
                          "Check the SRC argument: it is the folder of solution notebooks, "
                          "e.g. `make_chapters.py solutions chapters`.")


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


def marker_problems(source: str) -> list[str]:
    """Lines that look like a region marker but are not spelled as nbgrader needs.

    nbgrader only sees the exact upper-case text, anywhere in a line; a
    lower-case or mistyped marker is silently ignored, and a solution cell
    without markers is replaced whole (its def line and prompt vanish).
    """
    problems = []
    for number, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        if stripped in CANONICAL_MARKERS:
            continue
        match = MARKER_LIKE.match(stripped)
        rest = match.group(2).upper().replace("_", " ") if match else ""
        close = difflib.get_close_matches(rest, list(REGIONS), n=1, cutoff=0.6) if match else []
        if close:
            problems.append(f"line {number}: {stripped!r} is not a marker nbgrader recognizes; "
                            f"write exactly '### {match.group(1).upper()} {close[0]}'")
        elif any(marker[4:] in line for marker in CANONICAL_MARKERS):
            problems.append(f"line {number}: a marker must stand alone on its line as '### ...', got {stripped!r}")
    return problems


def has_line(source: str, text: str) -> bool:
    return any(line.strip() == text for line in source.split("\n"))


def cell_problems(cell) -> list[str]:
    meta = nbgrader_meta(cell)
    problems = metadata_problems(cell) + marker_problems(cell.source) + region_problems(cell.source)
    for kind, flag in REGIONS.items():
        if f"BEGIN {kind}" in cell.source and not meta.get(flag, False):
            problems.append(f"'BEGIN {kind}' in a cell without nbgrader metadata {flag}: true")
    if meta.get("solution") and not has_line(cell.source, "### BEGIN SOLUTION"):
        problems.append("solution cell has no '### BEGIN SOLUTION' ... '### END SOLUTION' region: "
                        "nbgrader would replace the whole cell, prompt and def line included, with a stub")
    if RAISES_TAG in cell.metadata.get("tags", []):
        problems.append(f"solutions must not carry the '{RAISES_TAG}' tag: make_chapters adds it to the chapter")
    if checks_output(cell.source) and (meta.get("grade") or meta.get("solution")):
        problems.append(f"{CHECK_OUTPUT_MARKER} in an nbgrader cell: its output differs while unsolved")
    if checks_output(cell.source) and cell.get("execution_count") is None:
        problems.append(f"{CHECK_OUTPUT_MARKER} cell was never executed: run primer/authoring/execute.py --inplace")
    if is_test_cell(cell):
        problems += test_cell_problems(cell.source)
    return problems


def test_cell_problems(source: str) -> list[str]:
    visible = visible_test_code(source)
    checking = [line for line in visible if PASSED_CALL not in line]
    if not checking:
        return ["test cell has no visible test code: students would see an empty cell (or a ✔ that checks nothing)"]
    if len(checking) == len(visible):
        return [f"test cell has no visible `{PASSED_CALL}...)` line: students who are right would see no ✔"]
    return []


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


def render_notebook(path: Path, label: str, *, relative: Path | None = None) -> bytes:
    """The student notebook for one solution notebook, as the bytes to write."""
    nb = read_source(path, label)
    problems = source_problems(nb, label)
    if problems:
        raise SourceError("\n".join(problems))
    for preprocessor in PREPROCESSORS:
        nb, _ = preprocessor().preprocess(nb, {})
    tag_raising_cells(nb, label)
    strip_volatile_metadata(nb)
    # Where this chapter was generated to: only a notebook that still sits there
    # is ours to delete (a student's "-Copy1" of it carries the mark too).
    nb.metadata[RELEASE_MARK] = {"path": (relative or Path(path.name)).as_posix()}
    return (nbformat.writes(nb) + "\n").encode("utf-8")


# --- reading the source robustly ------------------------------------------------

CONFLICT_LINE = re.compile(r"^(<{7}|={7}|>{7})(\s|$)")


def read_source(path: Path, label: str) -> nbformat.NotebookNode:
    """The notebook at path, or a SourceError that says what is wrong with the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SourceError(f"{label}: not UTF-8 text (byte {err.start}): is it really a notebook?") from None
    except OSError as err:
        raise SourceError(f"{label}: cannot read it ({err.strerror})") from None
    if not text.strip():
        raise SourceError(f"{label}: the file is empty; restore it from git (git checkout -- {label})")
    conflicts = [n for n, line in enumerate(text.split("\n"), 1) if CONFLICT_LINE.match(line)]
    if conflicts:
        shown = ", ".join(map(str, conflicts[:6])) + (" ..." if len(conflicts) > 6 else "")
        raise SourceError(f"{label}: merge-conflict markers on line(s) {shown}: resolve the conflict, then run again")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(f"{label}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or data.get("nbformat") != 4:
        raise SourceError(f"{label}: not a Jupyter notebook (nbformat 4 with a list of 'cells')")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several kinds; all mean "not a valid notebook"
        raise SourceError(f"{label}: not a valid notebook: {str(err).splitlines()[0][:200]}") from None
    return nb


# --- mirroring the tree ------------------------------------------------------


# What running the notebooks leaves beside them (07 and 10 save trained models in models/):
# outputs of a run, not part of the release.
RUN_OUTPUTS = ("__pycache__", "models")


def _ignored(relative: Path) -> bool:
    return any(part.startswith(".") or part in RUN_OUTPUTS for part in relative.parts)


def tree_files(root: Path) -> list[Path]:
    """Relative paths of the files under root that take part in the mirror."""
    if not root.is_dir():
        return []
    files = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return sorted(p for p in files if not _ignored(p))


def render_tree(src: Path) -> dict[Path, bytes]:
    """Relative path -> content of every file DST must hold."""
    if not src.is_dir():
        raise SourceError(f"{src}: not a folder of solution notebooks")
    files, problems = {}, []
    for relative in tree_files(src):
        path = src / relative
        try:
            files[relative] = (render_notebook(path, str(path), relative=relative) if path.suffix == ".ipynb"
                               else path.read_bytes())
        except SourceError as err:
            problems.append(str(err))
        except OSError as err:
            problems.append(f"{path}: cannot read it ({err.strerror})")
    if problems:
        raise SourceError("\n".join(problems))
    return files


def generated_here(dst: Path, relative: Path) -> bool:
    """True if DST/relative is a chapter this tool generated at that very path."""
    try:
        data = json.loads((dst / relative).read_text(encoding="utf-8"))
        return data["metadata"][RELEASE_MARK]["path"] == relative.as_posix()
    except (OSError, ValueError, KeyError, TypeError):
        return False  # unreadable or foreign: not ours, never deleted


def plan(dst: Path, files: dict[Path, bytes]) -> tuple[list[Path], list[Path]]:
    """(files to write, generated notebooks whose source is gone) in DST."""
    if dst.exists() and not dst.is_dir():
        raise SourceError(f"{dst}: exists but is a file, not a folder; move it away or choose another DST")
    changed = [rel for rel, data in files.items() if not (dst / rel).is_file() or (dst / rel).read_bytes() != data]
    orphans = [rel for rel in tree_files(dst)
               if rel not in files and rel.suffix == ".ipynb" and generated_here(dst, rel)]
    return sorted(changed), sorted(orphans)


def stale_files(dst: Path, files: dict[Path, bytes]) -> list[Path]:
    """Relative paths in DST that make_chapters would write or delete."""
    changed, orphans = plan(dst, files)
    return sorted(changed + orphans)


def make_chapters(src: Path | str, dst: Path | str) -> dict[str, list[Path]]:
    """Bring DST in line with SRC; return {"created"|"updated"|"deleted": relative paths}.

    Nothing is written unless every source notebook is well-formed. Files in
    DST that SRC did not generate (a student's own notebook, a figure, a
    Jupyter "-Copy1") are never touched.
    """
    src, dst = Path(src), Path(dst)
    check_folders(src, dst)
    files = render_tree(src)
    check_has_notebooks(src, files)
    changed, orphans = plan(dst, files)
    report = {"created": [], "updated": [], "deleted": []}
    for relative in changed:
        target = dst / relative
        report["updated" if target.exists() else "created"].append(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[relative])
    for relative in orphans:
        (dst / relative).unlink()
        report["deleted"].append(relative)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path, help="folder of solution notebooks")
    parser.add_argument("dst", type=Path, help="folder of generated student notebooks (the release)")
    parser.add_argument("--check", action="store_true", help="list stale files and exit 1 instead of writing")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if args.check:
            check_folders(args.src, args.dst)
            files = render_tree(args.src)
            check_has_notebooks(args.src, files)
            stale = stale_files(args.dst, files)
            report = {"stale": stale}
        else:
            report = make_chapters(args.src, args.dst)
    except SourceError as err:
        print(f"error: nothing written; fix these problems in the source notebooks:\n{err}", file=sys.stderr)
        return 2
    except FolderError as err:
        print(f"error: nothing written: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot write {err.filename or args.dst}: {err.strerror}", file=sys.stderr)
        return 2
    for verb, paths in report.items():
        for relative in paths:
            print(f"{verb}: {args.dst / relative}")
    if args.check and report["stale"]:
        print(f"{args.dst} is out of date: run `make chapters`", file=sys.stderr)
        return 1
    counts = ", ".join(f"{len(paths)} {verb}" for verb, paths in report.items())
    print(f"{args.dst}: {counts} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
