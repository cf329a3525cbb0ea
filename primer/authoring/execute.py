"""Execute solution notebooks so that their stored outputs are current.

usage: primer execute [--inplace] PATH...
example: primer execute --inplace solutions/03_xor.ipynb

PATH is a notebook or a folder (its *.ipynb files). Each notebook runs top to
bottom in a fresh kernel of the current Python environment, with its own folder
as working directory and a 600 s limit per cell. With --inplace the executed
notebook is written back (only if it changed); without it nothing is written,
which checks that the notebooks run. Outputs are normalized so that re-running
an unchanged notebook gives a minimal diff. Exit status 1 if any notebook fails.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import ipykernel.kernelspec
import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellControlSignal, DeadKernelError

from primer.kernel_poll import ShortPolls

CELL_TIMEOUT_S = 600
KERNEL_NAME = "python3"
# Widget views carry random model ids and cannot render without the widget
# state, which we strip; their text/plain fallback stays. (nbclient must still
# record the state while running: with store_widget_state=False its Output
# widget hook fails with a KeyError.)
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
VOLATILE_NOTEBOOK_METADATA = ("widgets",)
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")


class CurrentEnvKernelSpecs(KernelSpecManager):
    """Resolve every kernel name to ipykernel in this interpreter.

    A python3 kernelspec installed elsewhere (user or system Jupyter) could
    point at another Python; nbval's --nbval-current-env does the same.
    """

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(
            resource_dir=ipykernel.kernelspec.RESOURCES,
            **ipykernel.kernelspec.get_kernel_dict(),
        )


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop metadata that changes on every run (widget state, timings)."""
    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)


REPO = Path(__file__).resolve().parents[2]
KERNEL_CELL_FILE = re.compile(r"/tmp/ipykernel_\d+/\d+\.py")


def scrub_paths(nb: nbformat.NotebookNode) -> None:
    """Replace this machine's paths in stored outputs: a reader sees where *their* data is, not ours."""
    replacements = [(str(REPO), "<course>")]
    if os.environ.get("NNLIB_DATA"):
        replacements.insert(0, (os.path.abspath(os.environ["NNLIB_DATA"]), "$NNLIB_DATA"))

    def scrub(text: str) -> str:
        for old, new in replacements:
            text = text.replace(old, new)
        return KERNEL_CELL_FILE.sub("<cell>", text)

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = scrub(output.text)
            if isinstance(output.get("data", {}).get("text/plain"), str):
                output.data["text/plain"] = scrub(output.data["text/plain"])


WIDGET_PLACEHOLDER = "[interactive controls: run this cell to use them]"
PROGRESS_PLACEHOLDER = "[progress bar: it shows while the cell runs]"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}


def drop_widget_views(nb: nbformat.NotebookNode) -> None:
    """Widget views need the kernel that made them; stored, they show "Error displaying
    widget" or a raw `interactive(children=...)` repr. Store a plain note instead: a
    progress bar (tqdm) says it is one, anything else that it is a control to use.
    Reads the widget state, so it runs before strip_volatile_metadata."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).pop(WIDGET_VIEW_MIME, None)
            if view is not None:
                progress = is_progress_bar(view.get("model_id"), state)
                output.data["text/plain"] = PROGRESS_PLACEHOLDER if progress else WIDGET_PLACEHOLDER


def is_progress_bar(model_id: str | None, state: dict) -> bool:
    """A progress model, or a box holding one (tqdm's HBox of text, bar, text)."""
    model = state.get(model_id or "", {})
    if model.get("model_name") in PROGRESS_MODELS:
        return True
    children = model.get("state", {}).get("children", [])
    return any(state.get(str(child).removeprefix("IPY_MODEL_"), {}).get("model_name") in PROGRESS_MODELS
               for child in children)


class PolledClient(ShortPolls, NotebookClient):
    """nbclient's client, receiving kernel replies in short polls (primer/kernel_poll.py)."""


def run_notebook(nb: nbformat.NotebookNode, *, cwd: Path, allow_errors: bool = False,
                 timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Execute nb in place in a fresh kernel of this Python, with cwd as working directory.

    The kernel is shut down whatever happens (success, a failing cell, a timeout, an
    interrupt): nbclient leaves a kernel manager it was handed running, and a run of
    hundreds of wrong answers once held 63 live kernels and 23.6 GB that way.
    """
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=CurrentEnvKernelSpecs())
    client = PolledClient(nb, km=km, timeout=timeout, allow_errors=allow_errors,
                            record_timing=False,
                            resources={"metadata": {"path": str(Path(cwd).resolve())}})
    try:
        client.execute()
    finally:
        shut_down(km)
    return nb


def shut_down(km: AsyncKernelManager) -> None:
    """Stop km's kernel process now; shutdown_kernel also releases its ports and files."""
    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)


def execute(path: Path) -> nbformat.NotebookNode:
    """Run the notebook; raise nbclient's error if a cell fails."""
    nb = run_notebook(nbformat.read(path, as_version=4), cwd=path.parent)
    drop_widget_views(nb)  # before the widget state is stripped: it tells bars from controls
    strip_volatile_metadata(nb)
    scrub_paths(nb)
    return nb


def write_if_changed(nb: nbformat.NotebookNode, path: Path) -> bool:
    text = nbformat.writes(nb) + "\n"
    if path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8", newline="\n")
    return True


def notebook_paths(args: list[str]) -> list[Path]:
    paths = []
    for arg in map(Path, args):
        if arg.is_dir():
            paths += sorted(arg.glob("*.ipynb"))
        elif arg.suffix == ".ipynb" and arg.is_file():
            paths.append(arg)
        else:
            sys.exit(f"error: {arg} is neither a notebook nor a folder")
    return paths


def run_one(path: Path, inplace: bool) -> bool:
    """Execute one notebook, report its wall time; return True on success."""
    start = time.perf_counter()
    try:
        nb = execute(path)
    except (CellControlSignal, DeadKernelError) as err:
        print(f"{path}: FAILED after {time.perf_counter() - start:.1f} s\n{err}", file=sys.stderr)
        return False
    if not inplace:
        status = "ran, not written (use --inplace)"
    else:
        status = "written" if write_if_changed(nb, path) else "unchanged"
    print(f"{path}: {time.perf_counter() - start:.1f} s, {status}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inplace", action="store_true", help="write the executed notebooks back")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    args = parser.parse_args(argv)
    results = [run_one(path, args.inplace) for path in notebook_paths(args.paths)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
