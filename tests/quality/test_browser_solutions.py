"""The solution notebooks in a real browser (primer/quality/browser.py): Run All in JupyterLab
with no error at all, and every graded test cell prints its ✔.

A file of its own so that pytest-xdist runs it beside tests/quality/test_browser_chapters.py.
"""
from __future__ import annotations

import pytest
from test_browser_chapters import run_folder

pytestmark = pytest.mark.browser


def test_every_solution_in_the_browser(tmp_path_factory):
    run_folder("solutions", tmp_path_factory)
