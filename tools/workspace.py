#!/usr/bin/env python3
"""Give a student their own copy of the course, and keep it current without touching their work.

usage: workspace.py RELEASE WORK

RELEASE is the generated release (chapters/); WORK is the student's folder
(my-work/, git-ignored). `make lab` runs this before it opens JupyterLab on WORK.

- First use: WORK is created and every released notebook copied into it.
- Every later start: released notebooks the student does not have yet are
  copied in. When a released notebook changed since the student got theirs,
  the new release is placed beside it as NN_name.NEW-RELEASE.ipynb (or
  ...NEW-RELEASE-2.ipynb, ... if that name is taken) and one line says so.
- Nothing in WORK is ever overwritten, renamed or deleted: files are created
  with exclusive creation, so even a file that appears meanwhile is safe.

WORK/.release.json records which release of each notebook the student was
given (a SHA-256 per name); it is the only file this tool rewrites. Exit status
0 on success, 2 when WORK cannot be created or written (nothing is lost: the
student's files are left as they were).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

STATE = ".release.json"
NEW_RELEASE = "NEW-RELEASE"


class WorkspaceError(RuntimeError):
    """WORK cannot be created or written; the message says what to do."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def released_files(release: Path) -> dict[str, bytes]:
    """Name -> bytes of every released notebook (top level of RELEASE)."""
    if not release.is_dir():
        raise WorkspaceError(f"{release}: the course release is missing; run this from the course folder")
    return {p.name: p.read_bytes() for p in sorted(release.glob("*.ipynb")) if not p.name.startswith(".")}


def read_state(work: Path) -> dict[str, str]:
    try:
        state = json.loads((work / STATE).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in state.items()} if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}  # missing or damaged: rebuilt from what is on disk, never guessed


def create_new(path: Path, data: bytes) -> bool:
    """Write data to path only if path does not exist; True if written."""
    try:
        with open(path, "xb") as handle:
            handle.write(data)
        return True
    except FileExistsError:
        return False


def beside_name(name: str, number: int) -> str:
    stem = name[: -len(".ipynb")]
    suffix = NEW_RELEASE if number == 1 else f"{NEW_RELEASE}-{number}"
    return f"{stem}.{suffix}.ipynb"


def place_beside(work: Path, name: str, data: bytes) -> str:
    """Put the new release of `name` beside the student's copy; return the name used."""
    for number in range(1, 1000):
        candidate = work / beside_name(name, number)
        if candidate.is_file() and candidate.read_bytes() == data:
            return candidate.name  # already there from an earlier start
        if create_new(candidate, data):
            return candidate.name
    raise WorkspaceError(f"{work}: too many {NEW_RELEASE} copies of {name}; delete the ones you do not need")


def sync_one(work: Path, name: str, data: bytes, given: str | None) -> str | None:
    """Bring one released notebook into WORK; return a line for the student, or None."""
    target = work / name
    if create_new(target, data):
        return f"copied: {target}"
    current = digest(data)
    if given == current:
        return None
    if given is None and target.read_bytes() == data:
        return None  # the student's copy is this very release
    beside = place_beside(work, name, data)
    return (f"new release of {name}: it is in {work / beside}; your {name} is unchanged "
            "(copy your answers across, or keep working where you are)")


def sync(release: Path | str, work: Path | str) -> list[str]:
    """Copy new released notebooks into WORK; return the lines to print."""
    release, work = Path(release), Path(work)
    files = released_files(release)
    try:
        work.mkdir(parents=True, exist_ok=True)
        if not work.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(work))
        state, lines = read_state(work), []
        before = dict(state)
        for name, data in files.items():
            line = sync_one(work, name, data, state.get(name))
            if line:
                lines.append(line)
            state[name] = digest(data)
        if state != before or not (work / STATE).is_file():
            write_state(work, state)
    except FileExistsError:
        raise WorkspaceError(f"{work} exists but is not a folder; rename it, then run `make lab` again") from None
    except OSError as err:
        raise WorkspaceError(f"cannot write to {err.filename or work} ({err.strerror}). Your files there are "
                             f"unchanged. Fix the folder's permissions (e.g. `chmod u+w {work}`), "
                             "then run `make lab` again.") from None
    return lines


def write_state(work: Path, state: dict[str, str]) -> None:
    """Replace the state file atomically (a crash leaves the old one or the new one)."""
    temporary = work / f"{STATE}.tmp"
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, work / STATE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("release", type=Path, help="the generated release (chapters/)")
    parser.add_argument("work", type=Path, help="the student's own folder (my-work/)")
    args = parser.parse_args(argv)
    try:
        lines = sync(args.release, args.work)
    except WorkspaceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    copied = [line for line in lines if line.startswith("copied: ")]
    for line in lines:
        if not line.startswith("copied: "):
            print(line)
    if copied:
        print(f"{args.work}/: {len(copied)} notebook(s) copied in; this is your folder, your work is saved here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
