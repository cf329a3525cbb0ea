"""One rule that nbval lacks, for every notebook the suite runs.

nbval lets a cell tagged `raises-exception` pass even when it does not raise.
In a blank chapter that tag marks an unsolved exercise's test cell (added by
primer/authoring/release.py), so a tagged cell that runs cleanly is a test that
cannot fail. Untagged cells that raise already fail under nbval; with this
hook a tagged cell that does not raise fails too, so the blank chapters need
no second execution of their own.
"""
import pytest

from primer.authoring.release import RAISES_TAG


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
