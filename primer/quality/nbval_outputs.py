"""nbval's output check, for a notebook that was run somewhere else (the browser test).

`pytest --nbval-lax` compares a cell's new outputs with the stored ones only when the
cell says `# NBVAL_CHECK_OUTPUT`. The browser test already runs every notebook once in
JupyterLab; with this module it makes the same comparison on what JupyterLab saved, so
CI need not run each notebook a second time under nbval (conftest.py hands the
notebooks to the browser test when it will run). The comparison is nbval's own code
(`IPyNbCell.compare_outputs`), with nbval's default set of ignored keys, so the rule is
the same in both paths.
"""
from __future__ import annotations

import copy
from types import SimpleNamespace

from nbval import plugin as nbval


def checks_output(cell) -> bool:
    """True when nbval would compare this cell's outputs (a NBVAL_CHECK_OUTPUT comment)."""
    if cell.get("cell_type") != "code":
        return False
    markers = dict(nbval.find_comment_markers(cell.get("source", "")))
    return bool(markers.get("check"))


def compared(reference) -> list[int]:
    """Indices of the cells nbval compares: marked, and run when the file was saved
    (nbval skips a marked cell that has no execution count)."""
    return [index for index, cell in enumerate(reference.cells)
            if checks_output(cell) and cell.get("execution_count") is not None]


def _comparer() -> SimpleNamespace:
    """The attributes compare_outputs reads from an nbval cell item, nothing more."""
    skip = ("metadata", "traceback", "prompt_number", "output_type", "name",
            "execution_count", "application/vnd.jupyter.widget-view+json",
            "image/png", "image/jpeg")  # nbval's defaults without --nbdime
    me = SimpleNamespace(parent=SimpleNamespace(skip_compare=skip, sanitize_patterns={}),
                         colors=nbval.nocolors)
    me.sanitize = lambda s: nbval.IPyNbCell.sanitize(me, s)
    me.format_output_compare = lambda key, left, right: me.comparison_traceback.extend(
        _diff(key, left, right))
    return me


def _diff(key: str, stored, new) -> list[str]:
    """The changed lines of one output field (nbval's own printer needs pytest's hooks)."""
    import difflib

    lines = difflib.unified_diff(str(stored).splitlines(), str(new).splitlines(),
                                 "stored", "this run", lineterm="", n=1)
    return [f"mismatch in {key!r}:", *list(lines)[:30]]


def differences(ran, reference) -> list[str]:
    """One line per NBVAL_CHECK_OUTPUT cell whose outputs in `ran` differ from `reference`.

    ran, reference: nbformat notebooks with the same cells (the saved run and the file).
    """
    if len(ran.cells) != len(reference.cells):
        return [f"the run has {len(ran.cells)} cells, the file {len(reference.cells)}"]
    problems = []
    for index in compared(reference):
        new, old = ran.cells[index], reference.cells[index]
        me = _comparer()
        # coalesce_streams edits stream outputs in place: compare copies.
        same = nbval.IPyNbCell.compare_outputs(
            me, nbval.coalesce_streams(copy.deepcopy(new.get("outputs", []))),
            nbval.coalesce_streams(copy.deepcopy(old.get("outputs", []))))
        if not same:
            detail = "\n".join(str(line) for line in me.comparison_traceback)[:1500]
            problems.append(f"cell {index} (NBVAL_CHECK_OUTPUT): outputs differ from the "
                            f"stored ones\n{detail}")
    return problems
