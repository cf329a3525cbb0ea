"""What primer/grading/grade.py adds to nbgrader: checks before grading, repair of deleted
cells, and an executor that survives crashes, timeouts and exits.

nbgrader does the rest: the gradebook, restoring edited test cells (by
checksum), scoring test cells, feedback HTML.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Dict, Integer, Unicode

from primer.grading import sandbox
from primer.kernel_poll import ShortPolls
from primer.authoring.release import RELEASE_MARK
from primer.authoring.release import nbgrader_meta as meta


class Rejected(ValueError):
    """A submission that cannot be graded at all; the message is the row's reason."""


def grade_ids(nb) -> list[str]:
    return [meta(c)["grade_id"] for c in nb.cells if meta(c).get("grade_id")]


def course_chapters(solutions: Path) -> dict[str, list[str]]:
    """Chapter name -> its grade_ids, for every solution notebook of the course."""
    return {p.stem: grade_ids(nbformat.read(p, as_version=4))
            for p in sorted(solutions.glob("[0-9][0-9]_*.ipynb"))}


# --- before grading: is it a notebook of this chapter? ---------------------------


def read_submission(path: Path, chapter: str | None, chapters: dict[str, list[str]]):
    """The submitted notebook, or Rejected with a reason an instructor can act on.

    chapter None: any chapter of the course will do (a student checking their own file).
    """
    data = path.read_bytes()
    if not data.strip():
        raise Rejected("empty file")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected("not a notebook (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise Rejected(f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Rejected("not a Jupyter notebook (no list of cells)")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)  # joins sources split into lines
    except Exception as err:  # nbformat raises several kinds; all mean the same here
        raise Rejected(f"not a valid notebook ({str(err).splitlines()[0][:120]})") from None
    other = which_chapter(nb, chapters)
    if other is None:
        raise Rejected(f"none of {chapter or 'the course'}'s exercises are in this notebook (is it the right file?)")
    if chapter and other != chapter:
        raise Rejected(f"this is the notebook for {other}, not {chapter}")
    return nb


def which_chapter(nb, chapters: dict[str, list[str]]) -> str | None:
    """The chapter whose grade_ids the notebook shares most (its release mark breaks ties)."""
    mark = nb.metadata.get(RELEASE_MARK, {}).get("path", "")
    ids = set(grade_ids(nb))
    scores = {name: len(ids & set(expected)) + (0.5 if mark == f"{name}.ipynb" else 0)
              for name, expected in chapters.items()}
    best = max(scores, key=scores.get, default=None)
    return best if best is not None and scores[best] > 0 else None


# --- repairing deleted cells -----------------------------------------------------


def restore_deleted_cells(nb, release) -> list[str]:
    """Re-insert graded and locked cells the student deleted; return a note for each.

    nbgrader restores an edited test cell from the gradebook, but a deleted
    one simply goes missing (and shows up as "needs manual grade"). We put the
    released cell back where it belongs, after the nearest cell before it that
    the submission still has.
    """
    present, notes = set(grade_ids(nb)), []
    for index, cell in enumerate(release.cells):
        gid = meta(cell).get("grade_id")
        if not gid or gid in present:
            continue
        anchor = next((meta(c)["grade_id"] for c in reversed(release.cells[:index])
                       if meta(c).get("grade_id") in present), None)
        position = 0 if anchor is None else grade_ids_positions(nb)[anchor] + 1
        nb.cells.insert(position, nbformat.from_dict(json.loads(json.dumps(cell))))
        present.add(gid)
        kind = "solution cell" if meta(cell).get("solution") else "test cell" if meta(cell).get("grade") else "cell"
        notes.append(f"{kind} {gid} was deleted (restored from the release"
                     + (": no answer, 0 points)" if kind == "solution cell" else " and graded)"))
    return notes


def edited_test_notes(nb, release) -> list[str]:
    """Test cells whose source the student changed (nbgrader grades the original)."""
    released = {meta(c)["grade_id"]: c.source for c in release.cells
                if meta(c).get("grade") and not meta(c).get("solution") and meta(c).get("grade_id")}
    return [f"test cell {meta(c)['grade_id']} was edited (graded with the original)" for c in nb.cells
            if meta(c).get("grade_id") in released and c.source != released[meta(c)["grade_id"]]]


def error_notes(nb) -> list[str]:
    """One line per graded or answer cell that raised: what the instructor sees first."""
    notes = []
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        for output in cell.get("outputs", []) if gid else []:
            if output.output_type == "error" and output.ename not in ("Timeout", "KernelDied", "NotRun"):
                notes.append(f"{gid}: {output.ename}: {str(output.evalue).splitlines()[0][:120] if output.evalue else ''}")
    return notes


def grade_ids_positions(nb) -> dict[str, int]:
    return {meta(c)["grade_id"]: i for i, c in enumerate(nb.cells) if meta(c).get("grade_id")}


# --- executing: crashes cost only what depends on them -----------------------------


def cap_outputs(cell, limit: int) -> bool:
    """Truncate stream and text outputs above limit characters; True if any was cut."""
    cut = False
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and len(output.text) > limit:
            output.text = output.text[:limit] + f"\n... output truncated by the grader ({len(output.text):,} characters)\n"
            cut = True
        text = output.get("data", {}).get("text/plain")
        if isinstance(text, str) and len(text) > limit:
            output.data["text/plain"] = text[:limit] + "\n... truncated by the grader"
            cut = True
    return cut


def failure_output(name: str, message: str):
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


class PolledExecute(ShortPolls, Execute):
    """nbgrader's Execute, receiving kernel replies in short polls (primer/kernel_poll.py).

    What nbgrader's own autograde (its command, formgrader's Autograde button) runs in a
    term's course folder (primer/term/course.py): with nbgrader's one long receive, a
    hub's `nbgrader autograde` of 00 beside two busy loops took 150 to 270 s instead of 25.
    """


class ResilientExecute(ShortPolls, Execute):
    """nbgrader's Execute, made fair: a kernel death, a timeout or an exit in one
    cell records an error in that cell, restarts the kernel in its box, replays
    the cells that had run cleanly (not the tests), and goes on."""

    notebook_timeout = Integer(1800, help="seconds for the whole notebook").tag(config=True)
    scratch_root = Unicode("", help="folder of per-student scratch folders").tag(config=True)
    events_dir = Unicode("", help="where the per-student list of events is written").tag(config=True)
    max_output_chars = Integer(100_000, help="largest output kept per cell").tag(config=True)
    memory_bytes = Integer(sandbox.Limits.memory_bytes).tag(config=True)
    # None makes nbclient raise CellTimeoutError (nbgrader's Execute insists on a dict).
    error_on_timeout = Dict(None, allow_none=True)

    def create_kernel_manager(self):
        limits = sandbox.Limits(memory_bytes=self.memory_bytes, cpu_seconds=max(60, 2 * self.notebook_timeout))
        self.km = sandbox.kernel_manager(self._scratch, limits)
        self.owns_km = True
        return self.km

    def preprocess(self, nb, resources=None, km=None):
        student = resources["nbgrader"]["student"]
        self._scratch = Path(self.scratch_root) / re.sub(r"[^\w.-]", "_", student) / f"run-{time.time_ns()}"
        self._scratch.mkdir(parents=True)
        resources = dict(resources, metadata={"path": str(self._scratch)})
        events, start, position, clean = [], time.monotonic(), 0, []
        try:
            while position < len(nb.cells):
                position = self._run_from(nb, resources, position, clean, events, start)
        except Exception as err:  # the grader's own failure: into the row's reason, then up
            events.append(f"grader failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}")
            raise
        finally:
            if self.events_dir:
                (Path(self.events_dir) / f"{student}.json").write_text(json.dumps(events))
        return nb, resources

    def _run_from(self, nb, resources, position, clean, events, start) -> int:
        """Run cells from position in a fresh kernel; return where to go on (len(cells) when done)."""
        NotebookClient.__init__(self, nb, None)  # fresh per-run state, as ExecutePreprocessor.preprocess does
        # Raise on timeout instead of interrupting: a loop that ignores SIGINT must not hang the grader.
        self.interrupt_on_timeout, self.error_on_timeout = False, None
        self._check_assign_resources(resources)
        with self.setup_kernel(env=sandbox.kernel_env(self._scratch)):
            self.wait_for_reply(self.kc.kernel_info())
            self._replay(nb, clean)
            for index in range(position, len(nb.cells)):
                cell = nb.cells[index]
                if cell.cell_type != "code":
                    continue
                if time.monotonic() - start > self.notebook_timeout:
                    cell.outputs = [failure_output("NotRun", f"the notebook's {self.notebook_timeout} s limit was reached")]
                    events.append(f"notebook time limit ({self.notebook_timeout} s) reached before {where(cell, index)}")
                    continue
                try:
                    self.preprocess_cell(cell, resources, index)
                except CellTimeoutError:
                    return self._failed(cell, index, events, "Timeout", f"timed out after {self.timeout} s")
                except DeadKernelError:
                    return self._failed(cell, index, events, "KernelDied",
                                        "the kernel died (crash, os._exit, or out of memory)")
                if cap_outputs(cell, self.max_output_chars):
                    events.append(f"output of {where(cell, index)} truncated")
                if not any(o.output_type == "error" for o in cell.outputs) and not meta(cell).get("grade"):
                    clean.append(index)
        return len(nb.cells)

    def _failed(self, cell, index, events, name, message) -> int:
        cap_outputs(cell, self.max_output_chars)
        cell.outputs.append(failure_output(name, message + "; the grader restarted the kernel and went on"))
        events.append(f"{message} in {where(cell, index)}")
        return index + 1

    def _replay(self, nb, clean):
        """Re-run, quietly, the cells that had run cleanly before a restart."""
        for index in list(clean):
            try:
                self.wait_for_reply(self.kc.execute(nb.cells[index].source, silent=True, store_history=False),
                                    nb.cells[index])
            except (CellTimeoutError, TimeoutError, RuntimeError):
                clean.remove(index)


def where(cell, index: int) -> str:
    gid = meta(cell).get("grade_id")
    return f"cell {index} ({gid})" if gid else f"cell {index}"
