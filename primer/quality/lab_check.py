"""The README's lab command works: it starts JupyterLab and serves the course.

usage: primer lab-check [--command "make lab"] [--timeout SECONDS]
example: primer lab-check --command "primer lab"

Runs the command exactly as a newcomer types it (in this checkout; on a fresh clone it
first builds .venv, which takes minutes), with a private Jupyter configuration that
fixes the port and a temporary token and opens no browser. Checks that /lab answers
200 and that the student's folder lists every released notebook, then stops the
server and everything it started. Exit 0 on success, 1 with the reason otherwise.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from primer.quality.lab_server import REPO, lab_server  # noqa: E402


def check(command: list[str], *, timeout: float) -> list[str]:
    expected = sorted(p.name for p in (REPO / "chapters").glob("[0-9][0-9]_*.ipynb"))
    started = time.monotonic()
    with lab_server(command, cwd=REPO, start_timeout=timeout) as lab:
        print(f"server up after {time.monotonic() - started:.0f} s")
        problems = []
        status, _ = lab.get("/lab")
        if status != 200:
            problems.append(f"/lab answered {status}, not 200")
        status, listing = lab.get("/api/contents")
        names = sorted(item["name"] for item in listing.get("content", [])) if status == 200 else []
        missing = [name for name in expected if name not in names]
        if status != 200 or missing:
            problems.append(f"the lab's folder lacks {missing or 'everything'} (status {status})")
        print(f"/lab and /api/contents checked: {len(expected) - len(missing)} of {len(expected)} notebooks listed")
        return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--command", default="make lab", help="the lab command, as the README gives it")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the server (install included)")
    args = parser.parse_args(argv)
    try:
        problems = check(shlex.split(args.command), timeout=args.timeout)
    except (RuntimeError, TimeoutError) as error:
        problems = [str(error)]
    for problem in problems:
        print(f"check_lab: {problem}")
    print("check_lab: ok" if not problems else "check_lab: FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
