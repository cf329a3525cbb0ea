"""The second half of the wrong-answer batches, graded in an nbgrader course of its own.

Same checks as tests/test_nbgrader_roundtrip.py (every corpus answer fails its
visible test and loses points); a separate file so that pytest-xdist runs the two
halves on different workers and the suite stays short.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
import test_nbgrader_roundtrip as roundtrip  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        yield roundtrip.grade_everything(tmp_path_factory.mktemp("course"), references=False,
                                         wrong=lambda k, depth: not roundtrip.first_half(k, depth))


def test_no_wrong_answer_passes_a_visible_test(course):
    roundtrip.check_visible_tests_fail(course)


def test_no_wrong_answer_gets_full_points(course):
    roundtrip.check_points_lost(course)
