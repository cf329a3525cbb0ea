"""A term on a real JupyterHub: release, fetch, answer, submit, collect, autograde, feedback.

The instructor releases 00_welcome from an nbgrader course folder made from solutions/
(nbgrader's generate_assignment and release_assignment, as the instructor's Unix user).
ada and bob each fetch it in their own server through the endpoints the Assignments tab
calls (`/assignments/fetch`, `/assignments/submit`), write answers through the contents
API, and submit; cy does the same in a real browser (JupyterLab through the hub, the
Assignments tab, a typed answer). The instructor collects and autogrades into the
gradebook; the test checks each student's points there, that the students get their
feedback, and that no student can read another's submission. It prints each student
server's memory (RSS of the server's process tree). The tests run in file order and share
the `term_hub` fixture (tests/hub/conftest.py).
"""
from __future__ import annotations

import json
import pwd
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from primer.hub import course
from primer.hub.local import run_as

REPO = Path(__file__).resolve().parents[2]
CHAPTER = "00_welcome"
COURSE = course.COURSE_ID
NOTEBOOK = f"{CHAPTER}/{CHAPTER}.ipynb"
# What each student writes into their copy, by exercise (grade_id of the answer cell).
RIGHT = {"ex1-weighted-sum": "def weighted_sum(x, w, b):\n    return float(np.dot(w, x) + b)\n",
         "ex2-batch-bytes": "answer_ex2_bytes = 64 * 28 * 28 * 4\n"}
WRONG_EX1 = "def weighted_sum(x, w, b):\n    return float(np.dot(w, x))  # forgets b\n"
ANSWERS = {"ada": dict(RIGHT),                                  # everything right
           "bob": {"ex1-weighted-sum": WRONG_EX1,               # ex1 wrong, ex2 right
                   "ex2-batch-bytes": RIGHT["ex2-batch-bytes"]}}
BROWSER_STUDENT, BROWSER_EXERCISE = "cy", "ex2-batch-bytes"  # cy answers ex2 only, by typing
pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]
STATE: dict = {"submitted": set(), "memory": {}}


def points_for(answers: dict[str, str]) -> float:
    """Expected autograded points: an exercise answered right earns its test cell's points."""
    total = 0.0
    for cell in nbformat.read(REPO / "solutions" / f"{CHAPTER}.ipynb", as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            exercise = meta["grade_id"].removesuffix("-tests")
            if answers.get(exercise) == RIGHT.get(exercise):
                total += meta["points"]
    return total


def answer_cell_index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def call(hub, student: str, action: str) -> list[dict]:
    """POST one of the Assignments tab's actions; returns the assignment list it answers."""
    response = hub.server(student, "POST", f"/assignments/{action}",
                          json={"course_id": COURSE, "assignment_id": CHAPTER})
    assert response.status_code == 200, f"{student} {action}: {response.status_code} {response.text}"
    body = response.json()
    assert body["success"], f"{student} {action}: {body}"
    return body["value"]


def statuses(listing: list[dict]) -> set[str]:
    return {a["status"] for a in listing if a["assignment_id"] == CHAPTER}


def test_the_instructor_releases_a_chapter(term_hub):
    hub = term_hub
    log = course.release(hub, CHAPTER)
    assert "Released as: dl_primer 00_welcome" in log, log[-2000:]
    # The released notebook is the student release of chapters/, as nbgrader makes it.
    released = hub.root / "exchange" / COURSE / "outbound" / CHAPTER / f"{CHAPTER}.ipynb"
    ours = nbformat.read(REPO / "chapters" / f"{CHAPTER}.ipynb", as_version=4)
    theirs = nbformat.read(released, as_version=4)
    assert [c.source for c in theirs.cells] == [c.source for c in ours.cells]
    inbound = hub.root / "exchange" / COURSE / "inbound"
    assert oct(inbound.stat().st_mode & 0o777) == oct(0o733), "inbound must be write-only for students"
    # The formgrader answers behind the hub's proxy, in the instructor's own server, and sees
    # the course folder's assignment.
    response = hub.server(hub.instructor, "GET", "/formgrader")
    assert response.status_code == 200 and "formgrader" in response.text.lower(), response.status_code
    response = hub.server(hub.instructor, "GET", "/formgrader/api/assignments")
    assert response.status_code == 200, response.text[:500]
    assert CHAPTER in {a["name"] for a in response.json()}, response.text[:500]


@pytest.mark.parametrize("student", sorted(ANSWERS))
def test_a_student_fetches_answers_and_submits_through_the_server_api(term_hub, student):
    hub = term_hub
    listing = hub.server(student, "GET", "/assignments", params={"course_id": COURSE}).json()
    assert statuses(listing["value"]) == {"released"}, listing
    assert "fetched" in statuses(call(hub, student, "fetch"))
    response = hub.server(student, "GET", f"/api/contents/{NOTEBOOK}", params={"content": 1})
    assert response.status_code == 200, response.text
    nb = nbformat.from_dict(response.json()["content"])
    for grade_id, source in ANSWERS[student].items():
        nb.cells[answer_cell_index(nb, grade_id)].source = source
    response = hub.server(student, "PUT", f"/api/contents/{NOTEBOOK}",
                          json={"type": "notebook", "format": "json", "content": nb})
    assert response.status_code == 200, response.text
    assert "submitted" in statuses(call(hub, student, "submit"))
    STATE["submitted"].add(student)
    STATE["memory"][student] = (hub.server_rss(student), len(hub.server_tree(student)))


@pytest.mark.browser
def test_a_student_does_it_in_a_real_browser(term_hub, tmp_path):
    from primer.quality.browser import CHROMIUM, CHROMIUM_FLAGS, accept_kernel_dialog, missing_tools

    why = missing_tools()
    if why:
        pytest.skip(f"no browser: {why}")
    from playwright.sync_api import sync_playwright

    hub, student = term_hub, BROWSER_STUDENT
    user = hub.user(student)
    # Every cell in the DOM, so the answer cell can be found by its index.
    settings = hub.home(student) / ".jupyter/lab/user-settings/@jupyterlab/notebook-extension"
    course.write_owned(hub, student, settings / "tracker.jupyterlab-settings",
                       json.dumps({"windowingMode": "none"}))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        try:
            # The hub's own login page (DummyAuthenticator: the name is enough).
            page.goto(f"{hub.url}/hub/login?next=/user/{user}/lab", timeout=60_000)
            page.fill("#username_input", user)
            page.click("#login_submit")
            page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)
            assert f"/user/{user}/lab" in page.url
            open_assignments(page)
            released = page.locator("#released_assignments_list .list_item", has_text=CHAPTER)
            released.locator("button", has_text="Fetch").click(timeout=60_000)
            fetched = page.locator("#fetched_assignments_list", has_text=CHAPTER)
            fetched.locator("button", has_text="Submit").wait_for(timeout=60_000)
            # Open the fetched notebook, type the answer, save.
            page.goto(f"{hub.url}/user/{user}/lab/tree/{NOTEBOOK}", timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            accept_kernel_dialog(page)
            nb = nbformat.from_dict(hub.server(student, "GET", f"/api/contents/{NOTEBOOK}",
                                               params={"content": 1}).json()["content"])
            index = answer_cell_index(nb, BROWSER_EXERCISE)
            cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
            cell.scroll_into_view_if_needed()
            cell.locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.type(RIGHT[BROWSER_EXERCISE].strip())
            page.keyboard.press("Escape")
            page.keyboard.press("Control+s")
            typed = ""
            for _ in range(40):  # saved when the server's copy holds the answer
                page.wait_for_timeout(250)
                saved = hub.server(student, "GET", f"/api/contents/{NOTEBOOK}",
                                   params={"content": 1}).json()["content"]
                typed = saved["cells"][index]["source"]
                if typed.strip() == RIGHT[BROWSER_EXERCISE].strip():
                    break
            assert typed.strip() == RIGHT[BROWSER_EXERCISE].strip(), f"saved answer: {typed!r}"
            # Submit from the Assignments tab.
            open_assignments(page)
            submit = page.locator("#fetched_assignments_list", has_text=CHAPTER).locator(
                "button", has_text="Submit")
            submit.click(timeout=60_000)
            page.locator("#submitted_assignments_list .list_item", has_text=CHAPTER).first.wait_for(
                timeout=60_000)
        except Exception:
            page.screenshot(path=str(tmp_path / "hub-browser.png"))
            print(f"screenshot: {tmp_path / 'hub-browser.png'}")
            raise
        finally:
            browser.close()
    ANSWERS[student] = {BROWSER_EXERCISE: RIGHT[BROWSER_EXERCISE]}
    STATE["submitted"].add(student)
    # With the notebook's kernel still running: what a working student's server holds.
    STATE["memory"][student] = (hub.server_rss(student), len(hub.server_tree(student)))


def open_assignments(page) -> None:
    """The Assignments tab, from JupyterLab's Nbgrader menu (as a student opens it)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click(timeout=60_000)
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click(timeout=30_000)
    page.locator("#nbgrader-assignment-list").wait_for(timeout=30_000)
    page.locator("#released_assignments_list_loading").wait_for(state="hidden", timeout=60_000)


def test_no_student_can_read_another_submission(term_hub):
    hub = term_hub
    submitted = sorted(STATE["submitted"])
    assert len(submitted) >= 2, f"too few submissions to compare: {submitted}"
    reader, victim = submitted[1], submitted[0]
    inbound = hub.root / "exchange" / COURSE / "inbound"
    # The submissions are there (root sees them) ...
    names = sorted(p.name for p in inbound.iterdir())
    assert any(n.startswith(hub.user(victim) + "+") for n in names), names
    # ... but a student cannot list the inbound folder, nor open another's home or cache.
    probe = ("import os, sys\nfor p in sys.argv[1:]:\n"
             "    try:\n        os.listdir(p); print('READ', p)\n"
             "    except PermissionError:\n        print('DENIED', p)\n")
    targets = [str(inbound), str(hub.home(victim)), str(hub.home(victim) / CHAPTER)]
    result = run_as(hub.user(reader), [sys.executable, "-c", probe, *targets], env=hub.environment)
    assert result.stdout.split().count("DENIED") == len(targets), result.stdout
    # Guessing the name is no use either: it ends in a random part (nbgrader's submit).
    victims = [n for n in names if n.startswith(hub.user(victim) + "+")]
    assert all(len(n.split("+")) == 4 for n in victims), victims
    # Through the reader's own server: its contents API stays inside the reader's home.
    for path in (f"../{hub.user(victim)}/{NOTEBOOK}", str(inbound)):
        response = hub.server(reader, "GET", f"/api/contents/{path}")
        assert response.status_code in (400, 403, 404), (path, response.status_code)


def test_the_instructor_grades_and_students_get_feedback(term_hub):
    hub = term_hub
    started = time.monotonic()
    with KernelPeak(hub, hub.user(hub.instructor)) as kernel_peak:
        log = course.collect_and_grade(hub, CHAPTER)
    grading_s = time.monotonic() - started
    scores = course.gradebook_scores(hub, CHAPTER)
    expected = {hub.user(s): points_for(ANSWERS[s]) for s in sorted(STATE["submitted"])}
    assert scores == expected, f"{scores} != {expected}\n{log[-3000:]}"
    assert len(scores) >= 3 or "cy" not in STATE["submitted"], scores
    for student in sorted(STATE["submitted"]):
        listing = call(hub, student, "fetch_feedback")
        mine = [a for a in listing if a["status"] == "submitted"]
        assert any(s.get("has_local_feedback") for a in mine for s in a.get("submissions", [])), mine
        feedback = sorted((hub.home(student) / CHAPTER / "feedback").rglob("*.html"))
        assert feedback, f"{student} got no feedback file"
    memory = STATE["memory"]
    print(f"\ncollect + autograde ({len(scores)} students) + feedback: {grading_s:.1f} s; "
          f"hub and 4 servers up in {hub.timings['hub and 4 servers up']:.1f} s")
    for student, rss in sorted(memory.items()):
        kernel = " (with the notebook's kernel running)" if student == BROWSER_STUDENT else ""
        print(f"memory of {student}'s server (RSS of its process tree): {rss[0] / 2**20:.0f} MiB"
              f" in {rss[1]} processes{kernel}")
    print(f"peak memory of one kernel running all of {CHAPTER} (nbgrader's autograde): "
          f"{kernel_peak.peak / 2**20:.0f} MiB")
    assert all(rss > 20 * 2**20 for rss, _ in memory.values()), memory
    assert kernel_peak.peak > 20 * 2**20, "no autograding kernel was seen"
    # The Helm values' memory guarantee per student covers what was measured here: a server
    # and one kernel that ran the whole chapter.
    values = yaml.safe_load((REPO / "deploy/helm/values.yaml").read_text())
    guarantee = k8s_bytes(values["singleuser"]["memory"]["guarantee"])
    servers = [rss for rss, processes in memory.values() if processes == 1]  # no kernel
    working = max(servers or [rss for rss, _ in memory.values()]) + kernel_peak.peak
    print(f"a working student (largest kernel-less server + that kernel's peak): "
          f"{working / 2**20:.0f} MiB;"
          f" the Helm guarantee: {guarantee / 2**20:.0f} MiB")
    assert working <= guarantee, "deploy/helm/values.yaml: singleuser.memory.guarantee is too small"


def k8s_bytes(quantity: str | int) -> int:
    """A Kubernetes memory quantity (512M, 1Gi, 2G, ...) in bytes."""
    text = str(quantity)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


class KernelPeak:
    """Samples, in a thread, the RSS of a user's kernels (ipykernel processes); keeps the peak."""

    def __init__(self, hub, user: str):
        self.uid, self.peak = pwd.getpwnam(user).pw_uid, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        import psutil

        while not self.done.wait(0.25):
            for proc in psutil.process_iter(["uids"]):  # cheap: the user id first
                try:
                    if proc.info["uids"] and proc.info["uids"].real == self.uid and \
                            "ipykernel_launcher" in " ".join(proc.cmdline()):
                        self.peak = max(self.peak, proc.memory_info().rss)
                except psutil.Error:
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(timeout=5)
