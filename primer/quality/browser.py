"""Walk the course in a real browser: JupyterLab in headless Chromium, driven by Playwright.

usage: primer browser [chapters|solutions ...] [--only NN_name] [--shots FOLDER]
example: primer browser chapters

For each notebook, in a fresh browser context and a fresh JupyterLab workspace: Run All,
wait until the kernel is idle, save, and check what a student would see.
- chapters (the student release): errors only in cells tagged `raises-exception`
  (unsolved exercises and their tests); every widget renders; the maths is typeset;
  no errors on the browser console; moving the first slider changes the output.
- solutions: the same, with no error at all and a ✔ from every graded test cell.
- both: a cell tagged `raises-exception` must raise, and every `# NBVAL_CHECK_OUTPUT`
  cell must print what the file stores (nbval's own comparison, nbval_outputs.py), so
  this run does everything `pytest --nbval-lax` does for the notebook, and more.
A screenshot of each notebook goes to the shots folder (printed). The server and the
browser stop by themselves; every wait is bounded.

Needs Playwright for Python and Debian's Chromium (`apt-get install chromium`); it never
downloads a browser. tests/quality/test_browser_*.py run it and skip, saying why, without them.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from primer.quality.lab_server import REPO, lab_server  # noqa: E402
from primer.authoring.release import RAISES_TAG, nbgrader_meta  # noqa: E402
from primer.quality import nbval_outputs

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]
# Every cell in the DOM (JupyterLab otherwise renders only the cells near the viewport).
SETTINGS = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}
RUN_TIMEOUT_S = 300
SAVE_TIMEOUT_S = 30
POLL_MS = 300  # how often a wait looks again
WIDGET_ERRORS = ("Error displaying widget", "Loading widget...")


def missing_tools() -> str:
    """Why the browser check cannot run here, or '' when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"Chromium is not at {CHROMIUM} (Debian: apt-get install chromium)"
    return ""


@dataclass
class Report:
    notebook: str
    problems: list[str] = field(default_factory=list)
    facts: dict[str, int] = field(default_factory=dict)  # what was seen, printed: a check that saw nothing shows
    seconds: float = 0.0
    screenshot: Path | None = None


def course_copy(root: Path, folders: list[str]) -> None:
    """Run copies, never the repository's files (JupyterLab saves what it runs)."""
    for folder in folders:
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns(".*", "__pycache__"))


def run_all(page, lab, path: str, workspace: str) -> None:
    page.goto(lab.url(f"/lab/workspaces/{workspace}/tree/{path}?reset"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    idle = '.jp-Notebook-ExecutionIndicator[data-status="idle"]'
    page.wait_for_selector(idle, timeout=60_000)
    # The kernel is connected when the status bar names it and says Idle; on a busy
    # machine the notebook can show an idle indicator before that.
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
        timeout=120_000)
    accept_kernel_dialog(page)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('li[data-command="runmenu:run-all"]').click()
    page.wait_for_timeout(1000)
    accept_kernel_dialog(page)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    quiet = 0
    while time.monotonic() < deadline and quiet < 3:  # idle, no cell queued, three polls in a row
        busy = page.evaluate("""() => [...document.querySelectorAll('.jp-InputPrompt')]
                                     .some(p => p.textContent.includes('[*]'))""")
        quiet = 0 if busy or page.locator(idle).count() == 0 else quiet + 1
        page.wait_for_timeout(POLL_MS)
    if quiet < 3:
        raise TimeoutError(f"{path}: still running after {RUN_TIMEOUT_S} s")


def accept_kernel_dialog(page) -> None:
    """JupyterLab asks for a kernel when the one it started is slow to connect: take the default."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count():
        dialog.locator(".jp-mod-accept").click()
        page.wait_for_timeout(2000)


def save(page, lab, path: str):
    """Save from the browser and read the notebook back as the server stored it.

    Waits until the server's copy is newer than before and the tab is no longer marked
    unsaved (a fixed 1.5-s wait before, 22 times a suite run), at most SAVE_TIMEOUT_S."""
    import nbformat

    before = last_modified(lab, path)
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + SAVE_TIMEOUT_S
    while True:
        page.wait_for_timeout(200)
        if last_modified(lab, path) != before and page.locator(".jp-mod-dirty").count() == 0:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: not saved within {SAVE_TIMEOUT_S} s of Ctrl+S")
    status, body = lab.get(f"/api/contents/{path}?content=1&type=notebook")
    if status != 200:
        raise RuntimeError(f"{path}: could not read the saved notebook back ({status})")
    return nbformat.from_dict(body["content"])


def last_modified(lab, path: str) -> str | None:
    status, body = lab.get(f"/api/contents/{path}?content=0")
    return body.get("last_modified") if status == 200 and isinstance(body, dict) else None


def output_problems(nb, *, solution: bool) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o.get("ename", "?") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        tagged = RAISES_TAG in cell.get("metadata", {}).get("tags", [])
        if errors and (solution or not tagged):
            problems.append(f"cell {index} shows an error: {errors}")
        if tagged and not errors:  # the rule conftest.py adds to nbval
            problems.append(f"cell {index} is tagged {RAISES_TAG!r} but ran without an error: "
                            "a visible test that passes on the blank exercise cannot fail")
        meta = nbgrader_meta(cell)
        if solution and meta.get("grade") and not meta.get("solution"):
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            if "✔" not in text:
                problems.append(f"cell {index} ({meta.get('grade_id')}): the graded test printed no ✔")
        if not cell.get("execution_count") and not errors and cell.source.strip():
            problems.append(f"cell {index} did not run")
    return problems


def page_problems(page, nb, facts: dict[str, int]) -> list[str]:
    problems = []
    # Outputs only: the markdown may quote these messages (00 tells students about them).
    text = "\n".join(page.locator(".jp-NotebookPanel .jp-OutputArea").all_inner_texts())
    problems += [f"an output shows {phrase!r}" for phrase in WIDGET_ERRORS if phrase in text]
    views = sum(1 for c in nb.cells for o in c.get("outputs", [])
                if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
    shown = page.locator(".jp-OutputArea-output .jupyter-widgets").count()
    facts.update(widget_outputs=views, widgets_shown=shown, formulas=page.locator("mjx-container").count())
    if views and not shown:
        problems.append(f"{views} widget outputs, none rendered")
    has_maths = any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells)
    if has_maths and page.locator("mjx-container").count() == 0:
        problems.append("the markdown has maths but nothing was typeset")
    if page.locator("mjx-merror").count():
        problems.append(f"{page.locator('mjx-merror').count()} maths formulas failed to typeset")
    return problems


def slider_changes_output(page, facts: dict[str, int]) -> str:
    """Move the first slider two steps; '' if the output below it changed (or there is no
    slider), else the problem."""
    handles = page.locator(".jp-OutputArea-output .jupyter-widgets .noUi-handle")
    facts["slider_handles"] = handles.count()
    if handles.count() == 0:
        return ""
    area = handles.first.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea')][1]")
    before = area.inner_html()
    handles.first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.wait_for_timeout(POLL_MS)
        if area.inner_html() != before and "[*]" not in page.locator(".jp-NotebookPanel").inner_text():
            facts["slider_changed_output"] = 1
            return ""
    return "moving the first slider changed nothing below it within 60 s"


def shut_down_kernels(lab, path: str) -> None:
    """End the notebook's session and kernel: closing the browser tab leaves both running,
    and eleven idle kernels hold several GB until the server stops."""
    status, sessions = lab.get("/api/sessions")
    for session in sessions if status == 200 else []:
        if session.get("path") == path:
            lab.get(f"/api/sessions/{session['id']}", method="DELETE")


def console_problems(messages: list[str]) -> list[str]:
    return [f"browser console: {m[:200]}" for m in messages]


def check_notebook(browser, lab, folder: str, name: str, *, shots: Path, workspace: str,
                   stopping: list) -> Report:
    """Check one notebook; its kernel is shut down in a thread added to `stopping` (the
    server takes about a second to stop a kernel; the next notebook need not wait)."""
    import threading

    import nbformat

    report, started = Report(f"{folder}/{name}"), time.monotonic()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    try:
        run_all(page, lab, f"{folder}/{name}", workspace)
        nb = save(page, lab, f"{folder}/{name}")
        report.problems += output_problems(nb, solution=folder == "solutions")
        reference = nbformat.read(REPO / folder / name, as_version=4)
        report.problems += nbval_outputs.differences(nb, reference)
        report.facts["outputs_compared"] = len(nbval_outputs.compared(reference))
        report.problems += page_problems(page, nb, report.facts)
        if folder == "chapters":
            problem = slider_changes_output(page, report.facts)
            report.problems += [problem] if problem else []
        report.problems += console_problems(console)
        report.screenshot = shots / f"{Path(name).stem}-{folder}.png"
        page.screenshot(path=str(report.screenshot))
    except Exception as error:  # a timeout or a missing element: report it, go on with the next notebook
        report.problems.append(f"{type(error).__name__}: {str(error)[:300]}")
    finally:
        context.close()
        stop = threading.Thread(target=shut_down_kernels, args=(lab, f"{folder}/{name}"))
        stop.start()
        stopping.append(stop)
    report.seconds = time.monotonic() - started
    return report


def check(folders: list[str], *, only: list[str] | None = None, shots: Path) -> list[Report]:
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="course-"))
    try:
        course_copy(root, folders)
        command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", "--allow-root"]
        with lab_server(command, cwd=root, settings_extra=SETTINGS) as lab, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
            stopping = []
            try:
                reports = []
                for folder in folders:
                    names = sorted(q.name for q in (root / folder).glob("[0-9][0-9]_*.ipynb")
                                   if not only or q.stem in only)
                    for number, name in enumerate(names):
                        reports.append(check_notebook(browser, lab, folder, name, shots=shots,
                                                      workspace=f"{folder}-{number}",
                                                      stopping=stopping))
                return reports
            finally:
                browser.close()
                for stop in stopping:
                    stop.join()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", default=["chapters", "solutions"])
    parser.add_argument("--only", action="append", help="a notebook stem such as 02_activation_functions")
    parser.add_argument("--shots", type=Path, default=Path(tempfile.gettempdir()) / "course-screenshots")
    args = parser.parse_args(argv)
    reason = missing_tools()
    if reason:
        print(f"browser_check: cannot run: {reason}")
        return 2
    reports = check(args.folders, only=args.only, shots=args.shots)
    for report in reports:
        facts = ", ".join(f"{k} {v}" for k, v in report.facts.items())
        print(f"{report.notebook}: {'ok' if not report.problems else 'PROBLEMS'} ({report.seconds:.0f} s; {facts})")
        for problem in report.problems:
            print(f"    {problem}")
    print(f"screenshots: {args.shots}")
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
