"""A whole small term on a temporary course folder, through the `primer` commands.

5 students, 3 chapters (the cheapest: 00_welcome, 01_perceptron, 03_xor); a resubmission
that replaces the first one, an older file that does not replace a newer one, a late
submission (36 h late: two started days, 20 % under the 10 %/day policy), a crash, a
student who never submits a chapter, a written answer graded by hand in nbgrader's
formgrader through Chromium, a regrade of one exercise (same gradebook), feedback pages,
the Canvas CSV read back by Canvas's column rules, the report's PNGs and similarity.
"""
from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from primer import cli
from primer.term import synthetic
from primer.term.course import Course

CHAPTERS = ["00_welcome", "01_perceptron", "03_xor"]
WRITTEN_01 = "ex2b-learning-rate"
COMMENT = "Right: only the scale of the weights changes."


def primer(*args) -> int:
    return cli.main([str(a) for a in args])


def drop(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def gradebook_state(course: Course) -> dict:
    with course.gradebook() as gradebook:
        return {(s.assignment.name, s.student.id, g.name): (g.auto_score, g.manual_score)
                for a in gradebook.assignments for s in a.submissions for n in s.notebooks for g in n.grades}


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    start = time.perf_counter()
    root = tmp_path_factory.mktemp("term")
    folder = root / "course"
    assert primer("term-init", folder, "--chapters", *CHAPTERS, "--first-due", "2027-01-18", "--every", "7") == 0
    course = Course(folder)
    sub = lambda chapter, **kw: synthetic.submission(course, chapter, **kw)  # noqa: E731
    ex = {c: synthetic.code_answers(course, c) for c in CHAPTERS}
    inbox = root / "inbox"
    # 00_welcome: everyone. ann first hands in a blank notebook, then the right one.
    first = drop(inbox / "w1", "ann.ipynb", sub("00_welcome"))
    drop(first, "ben_00_welcome.ipynb", sub("00_welcome", all_correct=True))
    drop(first, "cai.ipynb", sub("00_welcome", correct=ex["00_welcome"], replace={ex["00_welcome"][0]: synthetic.CRASH}))
    drop(first, "eve.ipynb", sub("00_welcome"))
    drop(first, "fay.ipynb", b"{not a notebook")
    assert primer("collect", folder, "00_welcome", first, "--at", "2027-01-16 10:00:00 UTC") == 1  # fay's file
    second = drop(inbox / "w2", "ann.ipynb", sub("00_welcome", all_correct=True))
    assert primer("collect", folder, "00_welcome", second, "--at", "2027-01-17 10:00:00 UTC") == 0
    older = drop(inbox / "w3", "ben.ipynb", sub("00_welcome"))  # an older copy arrives later
    assert primer("collect", folder, "00_welcome", older, "--at", "2027-01-15 09:00:00 UTC") == 0
    late = drop(inbox / "w4", "dee.ipynb", sub("00_welcome", all_correct=True))
    assert primer("collect", folder, "00_welcome", late, "--at", "2027-01-20 12:00:00 UTC") == 0
    # 01_perceptron: ann (everything, written answer graded later by hand), ben (blank).
    p = drop(inbox / "p", "ann.ipynb", sub("01_perceptron", all_correct=True))
    drop(p, "ben.ipynb", sub("01_perceptron"))
    assert primer("collect", folder, "01_perceptron", p, "--at", "2027-01-24 10:00:00 UTC") == 0
    # 03_xor: ann (everything), cai (a crash in the first exercise, the rest right).
    x = drop(inbox / "x", "ann.ipynb", sub("03_xor", all_correct=True))
    drop(x, "cai.ipynb", sub("03_xor", all_correct=True, replace={ex["03_xor"][0]: synthetic.CRASH}))
    assert primer("collect", folder, "03_xor", x, "--at", "2027-01-31 10:00:00 UTC") == 0
    assert primer("autograde", folder, "--jobs", "2") == 0
    return {"course": course, "root": root, "inbox": inbox, "ex": ex, "start": start}


def score(course: Course, chapter: str, student: str) -> float:
    with course.gradebook() as gradebook:
        return gradebook.find_submission(chapter, student).score


def test_collect_keeps_every_file_and_the_newest_submission(term):
    course = term["course"]
    archive = course.root / "archive"
    assert len(list((archive / "ann" / "00_welcome").iterdir())) == 2
    assert len(list((archive / "ben" / "00_welcome").iterdir())) == 2
    assert (archive / "fay" / "00_welcome").is_dir() and not (course.root / "submitted" / "fay").exists()
    assert (course.root / "submitted/ann/00_welcome/00_welcome.ipynb").read_bytes() == \
        (term["inbox"] / "w2" / "ann.ipynb").read_bytes()
    assert (course.root / "submitted/ben/00_welcome/00_welcome.ipynb").read_bytes() == \
        (term["inbox"] / "w1" / "ben_00_welcome.ipynb").read_bytes()


def test_autograde_scores_and_reasons(term):
    course = term["course"]
    assert score(course, "00_welcome", "ann") == 3 and score(course, "00_welcome", "ben") == 3
    assert score(course, "00_welcome", "eve") == 0
    assert score(course, "00_welcome", "cai") == 1  # the crash costs ex1 (2 points) only
    assert score(course, "01_perceptron", "ann") == 8  # the written point is not given yet
    with course.gradebook() as gradebook:
        crashed = gradebook.find_submission_notebook("00_welcome", "00_welcome", "cai")
        comment = {c.name: c.auto_comment or "" for c in crashed.comments}[term["ex"]["00_welcome"][0]]
        assert "kernel died" in comment
        xor = gradebook.find_submission_notebook("03_xor", "03_xor", "cai")
        assert xor.score > 0 and "kernel died" in " ".join(c.auto_comment or "" for c in xor.comments)


def test_regrading_one_exercise_gives_the_same_gradebook(term):
    course = term["course"]
    before = gradebook_state(course)
    assert primer("autograde", course.root, "00_welcome", "--student", "cai",
                  "--exercise", term["ex"]["00_welcome"][1]) == 0
    assert gradebook_state(course) == before


def saved(course: Course) -> bool:
    with course.gradebook() as gradebook:
        notebook = gradebook.find_submission_notebook("01_perceptron", "01_perceptron", "ann")
        grade = {g.name: g for g in notebook.grades}[WRITTEN_01]
        comment = {c.name: c for c in notebook.comments}[WRITTEN_01]
        return grade.manual_score == 1 and comment.manual_comment == COMMENT


def test_written_answer_graded_in_formgrader_through_the_browser(term):
    from primer.quality.browser import CHROMIUM, CHROMIUM_FLAGS, missing_tools
    from primer.quality.lab_server import tail
    from primer.term.formgrader import formgrader, submission_ids

    if missing_tools():
        pytest.skip(missing_tools())
    from playwright.sync_api import sync_playwright

    course = term["course"]
    before = score(course, "01_perceptron", "ann")
    notebook_id = submission_ids(course, "01_perceptron")["ann"]

    def api(what: str, method: str = "GET"):
        return lambda r: r.request.method == method and f"/formgrader/api/{what}" in r.url

    with formgrader(course) as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            # The submission's page opened straight with the token: its scripts then load the
            # grades and comments from /formgrader/api/ with the login cookie that the token set
            # (a redirect to the login page here means the cookie does not cover the API).
            with page.expect_response(api("grades?")) as grades, \
                    page.expect_response(api("comments?")) as comments:
                page.goto(lab.url(f"/formgrader/submissions/{notebook_id}/"))
            for response in (grades.value, comments.value):
                assert response.status == 200, f"{response.status} {response.url}\n{tail(lab.log)}"
            # formgrader binds the boxes to the gradebook only once both lists are loaded.
            page.wait_for_function("() => formgrader.grades.loaded && formgrader.comments.loaded")
            assert "Rubric (for graders" in page.content()
            # It saves a box when it changes, i.e. when it loses focus: type, then Tab.
            for box, value, what in ((f"input.score#{WRITTEN_01}", "1", "grade/"),
                                     (f"textarea#{WRITTEN_01}-comment", COMMENT, "comment/")):
                with page.expect_response(api(what, "PUT")) as put:
                    page.locator(box).fill(value)
                    page.locator(box).press("Tab")
                assert put.value.ok, f"{put.value.status} {put.value.url}\n{tail(lab.log)}"
        finally:
            browser.close()
    assert saved(course)
    assert score(course, "01_perceptron", "ann") == before + 1


def test_feedback_export_report_similarity(term, tmp_path):
    course = term["course"]
    if not saved(course):  # the browser test did not give the point: give it as formgrader's API would
        with course.gradebook() as gradebook:
            notebook = gradebook.find_submission_notebook("01_perceptron", "01_perceptron", "ann")
            {g.name: g for g in notebook.grades}[WRITTEN_01].manual_score = 1
            {c.name: c for c in notebook.comments}[WRITTEN_01].manual_comment = COMMENT
            gradebook.db.commit()
    assert primer("feedback", course.root) == 0
    assert COMMENT in (course.root / "feedback/ann/01_perceptron/01_perceptron.html").read_text()
    page = (course.root / "feedback/ann/01_perceptron/01_perceptron.html").read_text()
    assert "Rubric (for graders" not in page
    late_page = (course.root / "feedback/dee/00_welcome/00_welcome.html").read_text()
    assert "Late submission penalty" in late_page
    assert "kernel died" in (course.root / "feedback/cai/00_welcome/00_welcome.html").read_text()
    assert (course.root / "outbox/ann/03_xor.html").is_file()

    assert primer("export", course.root, "--out", tmp_path) == 0
    with (tmp_path / "canvas.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    # Canvas's documented import layout: these five identity columns first, then one
    # column per assignment; an optional "Points Possible" row; every row identifies
    # the student (ID, SIS User ID or SIS Login ID); scores are numbers.
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[0][5:] == CHAPTERS
    assert rows[1][0].strip() == "Points Possible" and [float(v) for v in rows[1][5:]] == [3, 9, 8]
    by_student = {r[3]: [float(v) for v in r[5:]] for r in rows[2:]}
    assert all(r[1] or r[2] or r[3] for r in rows[2:])
    written_03 = 3  # ann's 03_xor written answer is not graded by hand in this term
    assert by_student == {"ann": [3, 9, 8 - written_03], "ben": [3, 0, 0], "cai": [1, 0, by_student["cai"][2]],
                          "dee": [pytest.approx(2.4), 0, 0], "eve": [0, 0, 0]}
    assert 0 < by_student["cai"][2] < 5
    plain = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert {r["student"]: float(r["total"]) for r in plain}["ann"] == 17
    assert (tmp_path / "nbgrader.csv").read_text().startswith("assignment,duedate,timestamp,student_id")

    assert primer("report", course.root) == 0
    assert all((course.root / "reports" / f"{c}.png").stat().st_size > 1000 for c in CHAPTERS)
    from primer.term.similarity import similar_pairs
    pairs = {(a, b) for _, a, b, _ in similar_pairs(course, "00_welcome")}
    assert ("ann", "ben") in pairs and ("ann", "eve") not in pairs
    print(f"term walked in {time.perf_counter() - term['start']:.0f} s")
