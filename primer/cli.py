"""`primer`: one command for the course, a subcommand per task.

Each subcommand lives in its own module (the table below) and has its own --help with
an example; this module only dispatches, so `primer check --help` is the check's help.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

from primer import exits


@dataclass(frozen=True)
class Command:
    module: str
    who: str
    summary: str
    example: str


COMMANDS = {
    "lab": Command("primer.student.lab", "student", "open the course in JupyterLab (your work stays in my-work/)",
                   "primer lab"),
    "check": Command("primer.student.check", "student", "which exercises of a notebook pass their visible tests",
                     "primer check my-work/03_xor.ipynb"),
    "doctor": Command("primer.doctor", "student", "diagnose the setup: Python, packages, data, GPU, disk",
                      "primer doctor"),
    "release": Command("primer.authoring.release", "author", "generate the student release chapters/ from solutions/",
                       "primer release solutions chapters"),
    "execute": Command("primer.authoring.execute", "author", "execute notebooks so their stored outputs are current",
                       "primer execute --inplace solutions/03_xor.ipynb"),
    "corpus": Command("primer.authoring.corpus", "author", "run the wrong-answer corpus of notebooks",
                      "primer corpus 03_xor"),
    "hash": Command("primer.authoring.hash_answer", "author", "the salted hash of a numeric answer",
                    "primer hash --salt ex2-batch-bytes 200704"),
    "errata": Command("primer.quality.errata", "author", "check the chapter's claims and write docs/errata.md",
                      "primer errata"),
    "test": Command("primer.quality.suite", "author", "run every test and notebook (what CI runs)",
                    "primer test --jobs 2"),
    "lab-check": Command("primer.quality.lab_check", "author", "check that a lab command serves the course over HTTP",
                         "primer lab-check --command \"primer lab\""),
    "browser": Command("primer.quality.browser", "author", "Run All of notebooks in JupyterLab in headless Chromium",
                       "primer browser chapters"),
    "grade": Command("primer.grading.grade", "instructor", "grade a folder of submissions of one chapter",
                     "primer grade 03_xor submissions/ --out grades"),
    "term-init": Command("primer.term.course", "instructor", "create a term's nbgrader course folder from solutions/",
                         "primer term-init ~/term-2027 --first-due 2027-01-18 --every 7"),
    "collect": Command("primer.term.collect", "instructor", "collect a chapter's submissions into the course folder",
                       "primer collect ~/term-2027 03_xor ~/Downloads/xor/"),
    "autograde": Command("primer.term.autograde", "instructor", "autograde collected submissions into the gradebook",
                         "primer autograde ~/term-2027 03_xor --jobs 2"),
    "formgrader": Command("primer.term.formgrader", "instructor", "grade written answers in nbgrader's formgrader",
                          "primer formgrader ~/term-2027"),
    "feedback": Command("primer.term.feedback", "instructor", "write and release each student's feedback page",
                        "primer feedback ~/term-2027 03_xor"),
    "export": Command("primer.term.export", "instructor", "the term's grades: Canvas CSV, plain CSV, nbgrader's CSV",
                      "primer export ~/term-2027 --out grades"),
    "report": Command("primer.term.stats", "instructor", "per-exercise statistics and a plot per chapter",
                      "primer report ~/term-2027 03_xor"),
    "similarity": Command("primer.term.similarity", "instructor", "pairs of near-identical answers (flags only)",
                          "primer similarity ~/term-2027 03_xor"),
    "hub-try": Command("primer.hub.try_hub", "instructor",
                       "a real local JupyterHub with the course, to try a class (root, Linux)",
                       "primer hub-try --students 3 --minutes 30"),
}


def usage() -> str:
    lines = ["usage: primer COMMAND [ARGS...]   (python -m primer ... works too)", ""]
    for who in ("student", "author", "instructor"):
        lines.append(f"{who}:")
        for name, cmd in COMMANDS.items():
            if cmd.who == who:
                lines.append(f"  {name:<10} {cmd.summary}\n  {'':<10} e.g. {cmd.example}")
        lines.append("")
    lines.append("Each command has --help.  Exit statuses, for every command:")
    lines.append(exits.__doc__.split("\n\n", 1)[1].rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return exits.OK if argv else exits.USAGE
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        close = [n for n in COMMANDS if n.startswith(name[:2])]
        print(f"primer: there is no command {name!r}.\n  fix: use one of {', '.join(COMMANDS)}"
              + (f" (did you mean {close[0]}?)" if close else "") + "; `primer --help` lists them.",
              file=sys.stderr)
        return exits.USAGE
    module = importlib.import_module(COMMANDS[name].module)
    sys.argv[0] = f"primer {name}"  # argparse names the program after this
    try:
        return int(module.main(rest) or 0)
    except exits.CourseError as error:
        print(f"primer {name}: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        print(f"primer {name}: interrupted", file=sys.stderr)
        return exits.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
