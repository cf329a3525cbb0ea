"""The `term_hub` fixture: a real JupyterHub with one instructor and three students.

It starts the hub (primer/hub/local.py), creates the class's Unix users, the exchange and
the course folder (primer/hub/course.py), spawns every server, and, whatever happens,
stops every process it started by process id within a bounded time, then asserts that
none is left. It skips, saying why, where the hub cannot run (not root, not Linux,
JupyterHub or its proxy not installed, the environment unreadable by other users).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from primer.hub import course
from primer.hub.local import LocalHub, missing_tools

STUDENTS = ["ada", "bob", "cy"]
CHAPTER = "00_welcome"
SERVER_ENV_KEYS = ("NNLIB_DATA", "NNLIB_OFFLINE")


@pytest.fixture(scope="module")
def term_hub():
    why = missing_tools()
    if why:
        pytest.skip(f"no local JupyterHub: {why}")
    environment = {"NNLIB_OFFLINE": "1", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
                   "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if os.environ.get("NNLIB_DATA"):
        environment["NNLIB_DATA"] = str(Path(os.environ["NNLIB_DATA"]).resolve())
    hub = LocalHub(students=STUDENTS, environment=environment)
    started = time.monotonic()
    try:
        hub.create_users()
        why = hub.user_can_run_python()
        if why:
            pytest.skip(f"no local JupyterHub: {why}")
        hub.course = course.set_up(hub, [CHAPTER])
        hub.start()
        hub.start_servers([hub.instructor, *STUDENTS])
        hub.timings = {"hub and 4 servers up": time.monotonic() - started}
        yield hub
    finally:
        stopping = time.monotonic()
        survivors = hub.stop()
        took = time.monotonic() - stopping
        print(f"\nhub stopped in {took:.1f} s; whole hub fixture {time.monotonic() - started:.1f} s")
        assert not survivors, f"processes left after stopping the hub: {survivors}"
        assert took < 60, f"stopping the hub took {took:.0f} s"
