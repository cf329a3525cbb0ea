"""primer.authoring.execute.run_notebook leaves no kernel process behind, in every path.

nbclient does not shut down a kernel manager it was handed; before the fix, every
notebook run left its kernel alive until the calling process exited.
"""
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from primer.authoring import execute as execute_notebooks  # noqa: E402
from primer.authoring.execute import run_notebook  # noqa: E402


def kernel_processes() -> set[int]:
    """Live ipykernel processes started by this test process."""
    children = psutil.Process().children(recursive=True)
    return {p.pid for p in children
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
            and "ipykernel" in " ".join(p.cmdline())}


def settle(before: set[int], seconds: float = 10.0) -> set[int]:
    """Kernel processes beyond `before`, after giving a stopping one a moment."""
    deadline = time.monotonic() + seconds
    while (extra := kernel_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    return extra


def notebook(*sources: str):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_success_error_and_timeout_leave_no_kernel(tmp_path):
    before = kernel_processes()
    run_notebook(notebook("x = 1", "print(x)"), cwd=tmp_path)
    assert not settle(before), "a successful run left its kernel running"
    with pytest.raises(CellExecutionError):
        run_notebook(notebook("1 / 0"), cwd=tmp_path)
    assert not settle(before), "a failing cell left its kernel running"
    with pytest.raises(CellTimeoutError):
        run_notebook(notebook("import time; time.sleep(30)"), cwd=tmp_path, timeout=2)
    assert not settle(before), "a timed-out cell left its kernel running"
    executed = run_notebook(notebook("1 / 0", "y = 2"), cwd=tmp_path, allow_errors=True)
    assert executed.cells[0].outputs[0].ename == "ZeroDivisionError"
    assert not settle(before), "a run with allowed errors left its kernel running"


def test_interrupt_leaves_no_kernel(tmp_path, monkeypatch):
    before = kernel_processes()
    real = execute_notebooks.NotebookClient.async_execute_cell

    async def interrupted(self, cell, index, **kwargs):
        if index == 1:
            assert kernel_processes() - before, "the kernel should be alive mid-run"
            raise KeyboardInterrupt
        return await real(self, cell, index, **kwargs)

    monkeypatch.setattr(execute_notebooks.NotebookClient, "async_execute_cell", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_notebook(notebook("x = 1", "x = 2"), cwd=tmp_path)
    assert not settle(before), "an interrupted run left its kernel running"
