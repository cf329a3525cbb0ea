"""Give a student their own copy of the course, and keep it current without touching their work.

usage: python -m primer.student.workspace RELEASE WORK   (primer lab runs it for you)

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
given (a SHA-256 per name); it is the only file this tool rewrites. When it is
missing or damaged, a student's notebook counts as coming from the current
release if every cell of the release other than the answer cells is still in
it, unchanged and in order: then no NEW-RELEASE copy is made.

Robustness: notebooks are written under a temporary name and then linked to
their own name, so a full disk or a crash never leaves a truncated notebook
under a chapter's name. Anything in WORK or RELEASE that carries a notebook's
name but is not a regular file (a folder, a dangling symlink, a FIFO) is
skipped with a line saying why; it never blocks the others.

Exit status 0 on success (skipped files are listed on stderr), 2 when WORK
cannot be created or written, or RELEASE cannot be read (nothing is lost: the
student's files are left as they were; the message names the cause and the fix).
"""
from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

STATE = ".release.json"
NEW_RELEASE = "NEW-RELEASE"


class WorkspaceError(RuntimeError):
    """WORK cannot be created or written; the message says what to do."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kind_of(path: Path) -> str | None:
    """None for a regular file (symlinks followed) or nothing there; else what is there instead."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a dangling symlink (it points to nothing)" if os.path.islink(path) else None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "not a regular file"


def advice(err: OSError, work: Path) -> str:
    """The real cause of a failed write, and what to do about it."""
    where = err.filename or work
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"cannot write to {where}: the disk is full ({err.strerror}). Your files there are unchanged "
                "and no half-written notebook was left. Free some space (e.g. delete files you do not need), "
                "then run `make lab` again.")
    if err.errno == errno.EROFS:
        return (f"cannot write to {where}: the file system is read-only. Your files there are unchanged. "
                "Use a folder on a writable disk (make lab WORK=...), then run `make lab` again.")
    if err.errno in (errno.EACCES, errno.EPERM):
        return (f"cannot write to {where} ({err.strerror}). Your files there are unchanged. "
                f"Fix the folder's permissions (e.g. `chmod u+w {work}`), then run `make lab` again.")
    return (f"cannot write to {where} ({err.strerror}). Your files there are unchanged. "
            "Fix the cause named in brackets, then run `make lab` again.")


def released_files(release: Path, warnings: list[str]) -> dict[str, bytes]:
    """Name -> bytes of every released notebook (top level of RELEASE); odd entries go to warnings."""
    if not release.is_dir():
        raise WorkspaceError(f"{release}: the course release is missing; run this from the course folder")
    try:
        names = sorted(os.listdir(release))
    except OSError as err:
        raise WorkspaceError(f"cannot read the course release {release} ({err.strerror}). Give yourself "
                             f"read access (e.g. `chmod u+rx {release}`), or ask whoever installed the "
                             "course, then run `make lab` again.") from None
    files = {}
    for name in names:
        if not name.endswith(".ipynb") or name.startswith("."):
            continue
        path = release / name
        odd = kind_of(path)
        if odd:
            warnings.append(f"skipped the release's {name}: it is {odd}, not a notebook file; "
                            "regenerate the release (`make chapters`)")
            continue
        try:
            files[name] = path.read_bytes()
        except OSError as err:
            warnings.append(f"skipped the release's {name}: cannot read {path} ({err.strerror}); "
                            f"fix its permissions (e.g. `chmod a+r {path}`)")
    return files


def read_state(work: Path) -> dict[str, str]:
    path = work / STATE
    if kind_of(path):
        return {}  # a folder or a FIFO named like the state file: never opened (a FIFO would block)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in state.items()} if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}  # missing or damaged: rebuilt from what is on disk, never guessed


def cell_list(data: bytes) -> list[dict] | None:
    try:
        cells = json.loads(data.decode("utf-8"))["cells"]
        return cells if isinstance(cells, list) else None
    except (ValueError, KeyError, TypeError):
        return None


def derived_from(student: bytes, released: bytes) -> bool:
    """True if every non-answer cell of the release is in the student's notebook, unchanged and in order."""
    mine, theirs = cell_list(student), cell_list(released)
    if mine is None or theirs is None:
        return False

    def key(cell):
        source = cell.get("source", "")
        return cell.get("cell_type"), "".join(source) if isinstance(source, list) else source

    fixed = [key(c) for c in theirs if not c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    remaining = iter(key(c) for c in mine if isinstance(c, dict))
    return all(any(cell == other for other in remaining) for cell in fixed)


def create_new(path: Path, data: bytes) -> bool:
    """Write data to path only if path does not exist; True if written.

    The data go to a temporary file first, which is then hard-linked to path
    (the link fails if path exists): path is either absent or complete.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
                raise
            # A file system without hard links: rename unless taken (a tiny race remains).
            if os.path.lexists(path):
                return False
            os.rename(temporary, path)
        return True
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


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
    odd = kind_of(target)
    if odd:
        raise Skipped(f"skipped {name}: {target} is {odd}, not a notebook, so the release was not copied "
                      f"there; rename or remove it (e.g. `mv '{target}' '{target}.old'`), then run "
                      "`make lab` again")
    if create_new(target, data):
        return f"copied: {target}"
    current = digest(data)
    if given == current:
        return None
    if kind_of(target):
        raise Skipped(f"skipped {name}: {target} changed into something that is not a notebook file")
    mine = target.read_bytes()
    if given is None and (mine == data or derived_from(mine, data)):
        return None  # no record (state lost), but the student's copy comes from this very release
    beside = place_beside(work, name, data)
    if cell_list(mine) is None:
        return (f"new release of {name}: it is in {work / beside}; your {name} is unchanged, but it is not "
                "a readable notebook (damaged, e.g. by a full disk or an editor): open the new copy")
    return (f"new release of {name}: it is in {work / beside}; your {name} is unchanged "
            "(copy your answers across, or keep working where you are)")


class Skipped(Exception):
    """One notebook could not be handled; the message says why. The others go on."""


def sync(release: Path | str, work: Path | str, warnings: list[str] | None = None) -> list[str]:
    """Copy new released notebooks into WORK; return the lines to print.

    Problems that concern one file only (odd files, unreadable release files)
    are appended to `warnings` (printed on stderr by main) and do not stop
    the others.
    """
    release, work = Path(release), Path(work)
    warnings = [] if warnings is None else warnings
    files = released_files(release, warnings)
    try:
        work.mkdir(parents=True, exist_ok=True)
        if not work.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(work))
        state, lines = read_state(work), []
        before = dict(state)
        for name, data in files.items():
            try:
                line = sync_one(work, name, data, state.get(name))
            except Skipped as skip:
                warnings.append(str(skip))
                continue
            if line:
                lines.append(line)
            state[name] = digest(data)
        odd = kind_of(work / STATE)
        if odd:
            warnings.append(f"{work / STATE} is {odd}, so the record of which release you have cannot be "
                            "kept; rename or remove it (the next `make lab` rebuilds it)")
        elif state != before or not (work / STATE).is_file():
            write_state(work, state)
    except FileExistsError:
        raise WorkspaceError(f"{work} exists but is not a folder; rename it, then run `make lab` again") from None
    except OSError as err:
        raise WorkspaceError(advice(err, work)) from None
    return lines


def write_state(work: Path, state: dict[str, str]) -> None:
    """Replace the state file atomically (a crash leaves the old one or the new one)."""
    handle, temporary = tempfile.mkstemp(prefix=f"{STATE}.", suffix=".tmp", dir=work)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(state, indent=1, sort_keys=True) + "\n")
        os.replace(temporary, work / STATE)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("release", type=Path, help="the generated release (chapters/)")
    parser.add_argument("work", type=Path, help="the student's own folder (my-work/)")
    args = parser.parse_args(argv)
    warnings: list[str] = []
    try:
        lines = sync(args.release, args.work, warnings)
    except WorkspaceError as err:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"error: {err}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    copied = [line for line in lines if line.startswith("copied: ")]
    for line in lines:
        if not line.startswith("copied: "):
            print(line)
    if copied:
        print(f"{args.work}/: {len(copied)} notebook(s) copied in; this is your folder, your work is saved here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
