"""primer hub-try: a real JupyterHub with this course on this machine, to try a class.

usage: primer hub-try [--students 3] [--chapter 00_welcome] [--minutes 60]
example: primer hub-try --students 3 --minutes 30

Starts what tests/hub/ tests (primer/hub/local.py): JupyterHub on 127.0.0.1 only, one
instructor and N students as temporary Unix users (needs root, Linux), nbgrader's exchange,
the instructor's course folder made by `primer term-init`, and the chapter released. It
prints the hub's address and the names to log in with (no password: a test authenticator),
then waits; Ctrl-C or --minutes stops the hub and every server, and removes the users and
all their files. For a real class use zero-to-jupyterhub (deploy/, docs/instructors.md).
Exit status: 0 after a normal stop, 2 when the hub cannot run here (the message says why).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from primer import exits
from primer.exits import CourseError
from primer.hub import course
from primer.hub.local import LocalHub, missing_tools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer hub-try", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--chapter", default="00_welcome")
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args(argv)
    why = missing_tools()
    if why:
        raise CourseError(f"no local JupyterHub here: {why}",
                          "run as root on Linux with `pip install -e '.[dev]'`")
    if not (course.REPO / "solutions" / f"{args.chapter}.ipynb").exists():
        raise CourseError(f"no chapter {args.chapter} in solutions/", "e.g. --chapter 00_welcome")
    environment = {"NNLIB_OFFLINE": os.environ.get("NNLIB_OFFLINE", "0")}
    if os.environ.get("NNLIB_DATA"):
        environment["NNLIB_DATA"] = str(Path(os.environ["NNLIB_DATA"]).resolve())
    hub = LocalHub(students=[f"student{i + 1}" for i in range(args.students)],
                   environment=environment)
    try:
        hub.create_users()
        why = hub.user_can_run_python()
        if why:
            raise CourseError(f"no local JupyterHub here: {why}")
        course.set_up(hub, [args.chapter])
        hub.start()
        course.release(hub, args.chapter)
        print(f"JupyterHub: {hub.url}/hub/login   (stops in {args.minutes:g} min or on Ctrl-C)")
        print(f"  instructor: {hub.user(hub.instructor)}   (course folder "
              f"{hub.home(hub.instructor) / 'course'}; {args.chapter} released)")
        for name in hub.students:
            print(f"  student:    {hub.user(name)}")
        deadline = time.monotonic() + 60 * args.minutes
        while time.monotonic() < deadline and hub.proc.poll() is None:
            time.sleep(1)
            hub.remember_processes()
    except KeyboardInterrupt:
        pass
    finally:
        survivors = hub.stop()
        print("hub stopped" + (f"; still running: {survivors}" if survivors else ""))
    return exits.OK


if __name__ == "__main__":
    import sys

    try:
        sys.exit(main())
    except CourseError as error:
        print(error, file=sys.stderr)
        sys.exit(error.status)
