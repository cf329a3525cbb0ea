"""The late policy: a penalty per started day late, up to a cap, as an nbgrader plugin.

nbgrader applies it itself when it autogrades (`c.AssignLatePenalties.plugin_class`,
written into the course's nbgrader_config.py by `primer term-init`), but at that moment
the written answers have no points yet; `apply` recomputes every penalty from the
gradebook's current scores, and `primer feedback` and `primer export` call it first, so
the penalty always takes the policy's share of the whole notebook's score.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Enum, Float

DAY_S = 86_400


class LatePolicy(LateSubmissionPlugin):
    """`none`: no penalty; `per_day`: per_day of the score per started day late, at most cap."""

    method = Enum(("none", "per_day"), default_value="per_day").tag(config=True)
    per_day = Float(0.10, help="share of the score taken per started day late").tag(config=True)
    cap = Float(0.50, help="largest share of the score taken, however late").tag(config=True)

    def share(self, seconds_late: float) -> float:
        if self.method == "none" or seconds_late <= 0:
            return 0.0
        return min(self.cap, self.per_day * math.ceil(seconds_late / DAY_S))

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        return round(score * self.share(total_seconds_late), 6)

    def describe(self) -> str:
        if self.method == "none":
            return "no late penalty"
        return (f"{self.per_day:.0%} of the points per started day late, "
                f"at most {self.cap:.0%}")


def apply(gradebook, policy: LatePolicy) -> int:
    """Recompute every submitted notebook's penalty from its current score; returns how many are late."""
    late = 0
    for assignment in gradebook.assignments:
        for submission in assignment.submissions:
            seconds = submission.total_seconds_late or 0.0
            late += seconds > 0
            for notebook in submission.notebooks:
                notebook.late_submission_penalty = policy.late_submission_penalty(
                    submission.student.id, notebook.score, seconds)
    gradebook.db.commit()
    return late
