"""The student release in a real browser (primer/quality/browser.py): Run All in JupyterLab,
errors only in unsolved exercises and their tests, widgets rendered, maths typeset, no
console errors, the first slider of each notebook changes what it drives, and every
`# NBVAL_CHECK_OUTPUT` cell prints what the file stores (so conftest.py does not run
these notebooks a second time under nbval).

Skips, saying why, without Playwright or Debian's Chromium; .ci/run installs both.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import nbformat

from primer.quality import browser as browser_check  # noqa: E402
from primer.quality import nbval_outputs

pytestmark = pytest.mark.browser


def run_folder(folder: str, tmp_path_factory) -> list:
    reason = browser_check.missing_tools()
    if reason:
        pytest.skip(f"browser test not run: {reason}")
    shots = tmp_path_factory.mktemp(f"screenshots-{folder}")
    reports = browser_check.check([folder], shots=shots)
    print(f"screenshots of {folder}/ in {shots}")
    for report in reports:
        print(f"{report.notebook}: {report.seconds:.0f} s, {report.facts}")
    expected = len(list((browser_check.REPO / folder).glob("[0-9][0-9]_*.ipynb")))
    assert len(reports) == expected > 0
    problems = [f"{r.notebook}: {p}" for r in reports for p in r.problems]
    assert not problems, "\n".join(problems)
    assert all(r.screenshot and r.screenshot.stat().st_size > 10_000 for r in reports)
    # nbval's output comparison ran on every NBVAL_CHECK_OUTPUT cell (conftest.py relies on it).
    marked = sum(nbval_outputs.checks_output(c) for path in
                 (browser_check.REPO / folder).glob("[0-9][0-9]_*.ipynb")
                 for c in nbformat.read(path, as_version=4).cells)
    assert sum(r.facts.get("outputs_compared", 0) for r in reports) == marked > 50
    return reports


def test_every_chapter_in_the_browser(tmp_path_factory):
    reports = run_folder("chapters", tmp_path_factory)
    # The checks saw something: widgets rendered, formulas typeset, a slider moved somewhere.
    assert sum(r.facts.get("widgets_shown", 0) for r in reports) >= len(reports) - 1
    assert all(r.facts.get("formulas", 0) > 0 for r in reports)
    assert sum(r.facts.get("slider_changed_output", 0) for r in reports) >= 2
