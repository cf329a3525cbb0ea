"""class_view (primer/hub/local.py): which folders a class member's processes need bound back.

Pure path logic, no root needed: the hub test (test_hub_term.py) uses the namespace for real.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from primer.hub.local import class_view


@pytest.fixture
def open_tmp():
    """A temporary folder others may traverse (pytest's own lies in a closed one)."""
    path = Path(tempfile.mkdtemp(prefix="dlp-view-"))
    path.chmod(0o755)
    if any(not os.stat(p).st_mode & 0o001 for p in path.parents):
        pytest.skip(f"{path.parent} is closed to other users here")
    yield path
    shutil.rmtree(path)


def test_a_closed_folder_shows_only_what_is_needed(open_tmp):
    tmp_path = open_tmp
    closed = tmp_path / "closed"
    (closed / "python" / "lib").mkdir(parents=True)
    (closed / "repo" / ".venv").mkdir(parents=True)
    (tmp_path / "open" / "data").mkdir(parents=True)
    closed.chmod(0o700)
    extra = [str(closed / "python"), str(closed / "repo" / ".venv"), str(closed / "repo"),
             str(tmp_path / "open" / "data")]
    view = class_view(extra)
    inside = view[str(closed)]
    # The repository covers its own .venv; the open folder needs nothing.
    assert str(closed / "python") in inside and str(closed / "repo") in inside
    assert str(closed / "repo" / ".venv") not in inside
    assert not any(str(tmp_path / "open") in k for k in view)


def test_nothing_to_do_when_everything_is_reachable(open_tmp):
    tmp_path = open_tmp
    (tmp_path / "a").mkdir()
    view = class_view([str(tmp_path / "a")])
    assert str(tmp_path) not in view and str(tmp_path / "a") not in str(view)
