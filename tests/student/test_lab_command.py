"""The README's lab command serves the course: `make lab` (with the student's folder in a
temporary place) answers 200 on /lab and lists every released notebook, and it installs
the project's JupyterLab overrides (no news pop-up). .ci/run runs the same check on its
fresh clone, where `make lab` also builds the environment."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.quality import lab_check as check_lab  # noqa: E402


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_every_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORK", str(tmp_path / "my-work"))  # never touch the student's own folder
    assert check_lab.main(["--command", "make lab", "--timeout", "180"]) == 0, capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "my-work").glob("*.ipynb")) == \
        sorted(p.name for p in (REPO / "chapters").glob("[0-9][0-9]_*.ipynb"))
    overrides = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if Path(sys.prefix).resolve() == (REPO / ".venv").resolve():
        news = json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"]
        assert news["fetchNews"] == "false"


def test_a_server_that_fails_to_start_is_reported(capsys):
    assert check_lab.main(["--command", f"{sys.executable} -c 'raise SystemExit(3)'", "--timeout", "30"]) == 1
    assert "exited with status 3" in capsys.readouterr().out
