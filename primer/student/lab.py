"""primer lab: open the course in JupyterLab, on the student's own folder.

usage: primer lab [--folder my-work] [-- JUPYTER-LAB-OPTIONS...]

First the release (chapters/) is brought into your folder (my-work/ by default):
on first use everything, later only new notebooks; a notebook you already have is
never overwritten (a newer release is put beside it as NN_name.NEW-RELEASE.ipynb).
Then JupyterLab starts on that folder and prints the address to open.

examples: primer lab
          primer lab --folder ~/dl-primer-work -- --port 8890 --no-browser
Exit status: JupyterLab's own (0 after a normal shutdown); 2 when the folder
cannot be created or written (the message names the cause and the fix).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from primer import exits
from primer.student import workspace

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "chapters"
OVERRIDES = REPO / "jupyter" / "overrides.json"


def install_overrides(*, prefix: Path = Path(sys.prefix)) -> None:
    """JupyterLab's settings for this environment: no news pop-up, no update check.

    Written into the environment (not the user's home), so other projects keep theirs.
    """
    target = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if not OVERRIDES.is_file():
        return
    wanted = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    try:
        if target.is_file() and json.loads(target.read_text(encoding="utf-8")) == wanted:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OVERRIDES, target)
    except (OSError, ValueError) as error:  # a read-only environment (a hub image) keeps its own
        print(f"note: JupyterLab settings not installed ({error}); the lab works without them")


def lab_command(work: Path, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and Binder often run as root
    return command + extra


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path("my-work"), help="your work folder (default my-work)")
    args = parser.parse_args(own)
    try:
        for line in workspace.sync(RELEASE, args.folder):
            print(line)
    except workspace.WorkspaceError as error:
        raise exits.CourseError(str(error)) from None
    install_overrides()
    try:
        return subprocess.call(lab_command(args.folder, extra))
    except KeyboardInterrupt:
        return exits.INTERRUPTED
