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
"""
from __future__ import annotations

from queue import Empty
from time import monotonic

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

    return polled


class ShortPolls:
    """Mixin for nbclient.NotebookClient (and nbgrader's Execute): its kernel client's
    shell channel receives in steps of STEP_S seconds."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        kc.shell_channel.get_msg = short_polls(kc.shell_channel.get_msg)
        return kc
