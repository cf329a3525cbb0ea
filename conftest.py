"""One rule that nbval lacks, for every notebook the suite runs.

nbval lets a cell tagged `raises-exception` pass even when it does not raise.
In a blank chapter that tag marks an unsolved exercise's test cell (added by
primer/authoring/release.py), so a tagged cell that runs cleanly is a test that
cannot fail. Untagged cells that raise already fail under nbval; with this
hook a tagged cell that does not raise fails too, so the blank chapters need
no second execution of their own.
"""
import os
from pathlib import Path

import pytest

from primer.authoring.release import RAISES_TAG

ROOT = Path(__file__).resolve().parent
# The browser test of a folder runs each of its notebooks in JupyterLab and applies
# nbval's checks to the result (primer/quality/browser.py): when it is going to run,
# nbval's own run of the same notebooks would only repeat it (22 executions, about a
# third of the suite's time on 2 cores). PRIMER_NBVAL=always keeps nbval's run as well.
BROWSER_TESTS = {"chapters": "test_browser_chapters.py", "solutions": "test_browser_solutions.py"}


def _tagged_but_clean(item) -> bool:
    cell = getattr(item, "cell", None)
    outputs = getattr(item, "test_outputs", None)
    if cell is None or outputs is None:  # not an nbval cell, or it did not run
        return False
    tagged = RAISES_TAG in cell.get("metadata", {}).get("tags", [])
    return tagged and not any(out.get("output_type") == "error" for out in outputs)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and report.passed and _tagged_but_clean(item):
        grade_id = item.cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        report.outcome = "failed"
        report.longrepr = (f"{item.name} ({grade_id}) is tagged {RAISES_TAG!r} but ran without an error: "
                           "in a blank chapter its test passes while the exercise is unsolved, "
                           "so it cannot fail. Make the visible test check the answer.")


# The longest test files, longest first (measured in a CI run on 2 cores). With
# --dist loadfile --no-loadscope-reorder (primer test) pytest-xdist hands files out in
# collection order, so these start first and the many short tests fill in behind them,
# instead of the two one-test browser files ending the run. A stale list costs time,
# never a test.
LONGEST_FIRST = ("test_browser_chapters.py", "test_browser_solutions.py",
                 "test_nbgrader_roundtrip.py", "test_wrong_answers_caught.py",
                 "test_grade_every_chapter.py", "test_grade.py", "test_term.py",
                 "test_hub_term.py", "test_hub_view.py")


def _longest_first(items) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept within


@pytest.hookimpl(trylast=True)  # after -m / -k have deselected what they deselect
def pytest_collection_modifyitems(config, items):
    _longest_first(items)
    if os.environ.get("PRIMER_NBVAL") == "always":
        return
    from primer.quality.browser import missing_tools

    if missing_tools():
        return
    covered = {folder for folder, test in BROWSER_TESTS.items()
               if any(item.path.name == test for item in items)}
    drop = [item for item in items if item.path.suffix == ".ipynb"
            and item.path.parent.name in covered and item.path.parent.parent == ROOT]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item not in set(drop)]
        config.stash[HANDED_OVER] = sorted(covered)


HANDED_OVER = pytest.StashKey[list]()


def pytest_report_collectionfinish(config):
    folders = config.stash.get(HANDED_OVER, [])
    if folders:
        return (f"notebooks in {' and '.join(f + '/' for f in folders)}: checked by the browser "
                "tests (Run All in JupyterLab, then nbval's output comparison), not run a second "
                "time under nbval; PRIMER_NBVAL=always runs both")
