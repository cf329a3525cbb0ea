"""primer report: what the instructor looks at after grading, per exercise and per chapter.

usage: primer report COURSE [CHAPTER ...] [--out DIR] [--top 3]

For every graded cell (autograded tests and written answers): the share of students with
full points, the mean, and the most frequent failure messages (the grader's automatic
comments, first line, counted over students); for every chapter a histogram of the
students' totals, saved as DIR/<chapter>.png (default DIR: COURSE/reports) and named in
the summary.

example: primer report ~/term-2027 03_xor
Exit status: 0 written, 2 bad input (e.g. nothing graded yet).
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from primer import exits
from primer.exits import CourseError
from primer.term.course import Course


def chapter_stats(course: Course, chapter: str, top: int = 3) -> dict:
    with course.gradebook() as gradebook:
        assignment = gradebook.find_assignment(chapter)
        submissions = list(assignment.submissions)
        totals = [s.score for s in submissions]
        cells = {}
        for notebook in assignment.notebooks:
            for cell in notebook.grade_cells:
                cells[cell.name] = {"max": cell.max_score, "scores": [], "messages": Counter()}
        for submission in submissions:
            for notebook in submission.notebooks:
                comments = {c.name: c.auto_comment or "" for c in notebook.comments}
                for grade in notebook.grades:
                    cells[grade.name]["scores"].append(grade.score)
                    if grade.score < grade.max_score:
                        answer = next((c for c in comments if grade.name.startswith(c)), None)
                        lines = [l for l in comments.get(answer, "").splitlines() if grade.name in l or "died" in l
                                 or "timed out" in l] or ["no message (written answer or needs grading)"]
                        cells[grade.name]["messages"][lines[0].split(": ", 1)[-1][:120]] += 1
        maximum = assignment.max_score
    rows = {}
    for name, data in cells.items():
        scores = data["scores"]
        rows[name] = {"max": data["max"], "n": len(scores),
                      "full": sum(s >= data["max"] for s in scores) / len(scores) if scores else 0.0,
                      "mean": sum(scores) / len(scores) if scores else 0.0,
                      "messages": data["messages"].most_common(top)}
    return {"chapter": chapter, "totals": totals, "max": maximum, "cells": rows}


def plot(stats: dict, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    maximum = stats["max"] or 1
    bins = [i * maximum / 10 for i in range(11)]
    ax.hist(stats["totals"], bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"points (of {maximum:g}, before any late penalty)")
    ax.set_ylabel("students")
    ax.set_title(f"{stats['chapter']}: {len(stats['totals'])} graded submissions")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def summary(stats: dict, png: Path) -> str:
    totals = stats["totals"]
    mean = sum(totals) / len(totals) if totals else 0.0
    lines = [f"{stats['chapter']}: {len(totals)} graded, mean {mean:.2f} of {stats['max']:g}; plot: {png}"]
    for name, row in stats["cells"].items():
        lines.append(f"  {name:<32} full points {row['full']:>4.0%}  mean {row['mean']:.2f} of {row['max']:g}")
        for message, count in row["messages"]:
            lines.append(f"      {count} x {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("chapters", nargs="*", metavar="CHAPTER")
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default COURSE/reports)")
    parser.add_argument("--top", type=int, default=3, help="failure messages shown per exercise (default 3)")
    args = parser.parse_args(argv)
    course = Course(args.course)
    chapters = [course.chapter(c) for c in args.chapters] or course.chapters
    out = args.out or course.root / "reports"
    shown = 0
    for chapter in chapters:
        stats = chapter_stats(course, chapter, args.top)
        if not stats["totals"]:
            continue
        print(summary(stats, plot(stats, out / f"{chapter}.png")))
        shown += 1
    if not shown:
        raise CourseError("nothing graded yet", f"first: primer autograde {args.course}")
    return exits.OK
