"""Short polls of the shell channel for every notebook this course runs (nbclient).

nbclient waits for a cell's reply with one long receive (the whole cell timeout). On a
busy machine the execute request that follows a cell with widgets (`interact`) was
sometimes not delivered to the kernel until that receive timed out: the kernel's own
timestamps showed it idle for exactly the timeout (40 s of a 40-s timeout, 300 s of a
300-s one) before it began the next cell, which then ran normally. Measured on the
04_forward_pass corpus notebook under load (two busy loops beside it): 12 of 46 runs
stalled for the timeout with one long receive; 0 of 32 with receives of at most one
second, each of which lets pyzmq's event loop send what it had queued. Both the
corpus tests and the grader lost minutes to it.

nbclient has two ways in: ``execute()`` awaits ``async_start_new_kernel_client``, but
the synchronous ``setup_kernel`` (nbgrader's Execute, so the grader) calls
``start_new_kernel_client``, which nbclient built as ``run_sync`` of its own coroutine,
not of the method an instance would look up. So the mixin overrides both: until it
did, the grader received in one long receive and 07's `interact` cell sat out the whole
60-s cell timeout in 4 of 6 graded runs beside two busy loops (0.4 s when it did not;
the graded run took 80 s against 20 s). With both overridden: 0 of 6, 20 to 23 s each.
"""
from __future__ import annotations

from queue import Empty
from time import monotonic

from jupyter_core.utils import run_sync

STEP_S = 1.0


def short_polls(get_msg, *, step: float = STEP_S):
    """get_msg(timeout=T) as receives of at most `step` seconds until T has passed."""

    async def polled(timeout=None, **kwargs):
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = step if deadline is None else max(0.0, min(step, deadline - monotonic()))
            try:
                return await get_msg(timeout=left, **kwargs)
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    polled.short_polls = True  # so a test can tell a polled channel from nbclient's own
    return polled


class ShortPolls:
    """Mixin for nbclient.NotebookClient (and nbgrader's Execute): its kernel client's
    shell channel receives in steps of STEP_S seconds."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        kc.shell_channel.get_msg = short_polls(kc.shell_channel.get_msg)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)
