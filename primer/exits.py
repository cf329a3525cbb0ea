"""Exit statuses of every `primer` subcommand, in one place.

    0  done: everything checked passed
    1  checked, and something failed (a test, a visible check, a stale release)
    2  bad input or environment: the message says what is wrong, then the fix;
       nothing was written or changed
    3  a notebook did not finish: a cell ran past its time limit (an endless loop?)
    4  a notebook's kernel died while running (e.g. out of memory, os._exit)
  130  interrupted (Ctrl-C); files are left as they were before the command

A subcommand's own --help names the statuses it uses.
"""

OK = 0
FAILED = 1
USAGE = 2
TIMEOUT = 3
KERNEL_DIED = 4
INTERRUPTED = 130


class CourseError(Exception):
    """A problem the user can fix: `what` is wrong, `fix` says how. Exit status USAGE."""

    def __init__(self, what: str, fix: str = "", status: int = USAGE):
        super().__init__(what)
        self.what, self.fix, self.status = what, fix, status

    def __str__(self) -> str:
        return f"{self.what}\n  fix: {self.fix}" if self.fix else self.what
