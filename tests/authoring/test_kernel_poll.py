"""The shell channel is read in short polls (primer/kernel_poll.py) by every client the
course runs notebooks with: the authoring runner, the student check and the grader."""
from __future__ import annotations

import asyncio
import time
from queue import Empty

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from primer import kernel_poll
from primer.authoring import execute
from primer.grading.autograde import ResilientExecute


class FakeChannel:
    """get_msg that answers after `ready_at` seconds and records each timeout asked for."""

    def __init__(self, ready_at: float | None):
        self.start, self.ready_at, self.asked = time.monotonic(), ready_at, []

    async def get_msg(self, timeout=None):
        self.asked.append(timeout)
        now = time.monotonic() - self.start
        if self.ready_at is not None and now >= self.ready_at:
            return {"msg": "reply"}
        wait = timeout if self.ready_at is None else min(timeout, self.ready_at - now)
        await asyncio.sleep(wait)
        if self.ready_at is not None and time.monotonic() - self.start >= self.ready_at:
            return {"msg": "reply"}
        raise Empty


def test_a_long_wait_becomes_short_receives_and_still_times_out():
    channel = FakeChannel(ready_at=None)
    polled = kernel_poll.short_polls(channel.get_msg, step=0.05)
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(polled(timeout=0.3))
    assert time.monotonic() - start >= 0.3  # the whole timeout, not one step
    assert len(channel.asked) >= 5 and max(channel.asked) <= 0.05 + 1e-9


def test_a_reply_is_returned_as_soon_as_it_is_there():
    channel = FakeChannel(ready_at=0.12)
    polled = kernel_poll.short_polls(channel.get_msg, step=0.05)
    assert asyncio.run(polled(timeout=5)) == {"msg": "reply"}
    assert time.monotonic() - channel.start < 1


def test_every_runner_uses_short_polls(tmp_path):
    assert issubclass(execute.PolledClient, kernel_poll.ShortPolls)
    assert issubclass(ResilientExecute, kernel_poll.ShortPolls)
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    done = execute.run_notebook(nb, cwd=tmp_path, timeout=60)
    assert done.cells[0].outputs[0]["text"] == "42\n"


def is_polled(kc) -> bool:
    return getattr(kc.shell_channel.get_msg, "short_polls", False)


def test_the_synchronous_way_in_polls_too():
    # nbclient's setup_kernel (what nbgrader's Execute uses) calls start_new_kernel_client,
    # a run_sync of nbclient's own coroutine: overriding the coroutine alone missed it.
    km = execute.AsyncKernelManager(kernel_name=execute.KERNEL_NAME,
                                    kernel_spec_manager=execute.CurrentEnvKernelSpecs())
    client = execute.PolledClient(new_notebook(), km=km, timeout=60)
    try:
        with client.setup_kernel():
            assert is_polled(client.kc)
            assert client.wait_for_reply(client.kc.kernel_info())["content"]["status"] == "ok"
    finally:
        execute.shut_down(km)


def test_the_graders_kernel_client_polls(tmp_path):
    from nbclient import NotebookClient

    from primer.grading import sandbox

    grader = ResilientExecute()
    grader._scratch = tmp_path
    NotebookClient.__init__(grader, new_notebook(), None)  # as ResilientExecute._run_from
    with grader.setup_kernel(env=sandbox.kernel_env(tmp_path)):
        assert is_polled(grader.kc)
        assert grader.wait_for_reply(grader.kc.kernel_info())["content"]["status"] == "ok"
