"""primer export: the term's grades as CSV files for the learning-management system.

usage: primer export COURSE [--out DIR] [--roster CANVAS_EXPORT.csv]

Recomputes the late penalties (nbgrader_config.py's policy), then writes
- DIR/canvas.csv: Canvas's gradebook-import layout: the columns Student, ID, SIS User ID,
  SIS Login ID, Section, then one column per chapter (its points after the late
  penalty), and a second row "Points Possible". Canvas matches students by ID, SIS User
  ID or SIS Login ID; give --roster (the CSV of Canvas's own gradebook export) to fill
  those from Canvas, matched on SIS Login ID = the nbgrader student id; without it the
  SIS Login ID column is the student id. A chapter column Canvas does not know yet becomes
  a new assignment there.
- DIR/grades.csv: student, each chapter's total, each exercise's points (chapter:grade_id),
  each chapter's late penalty, total.
- DIR/nbgrader.csv: nbgrader's own export (its CsvExportPlugin).
Students who did not submit a chapter get 0 for it.

example: primer export ~/term-2027 --out grades --roster ~/Downloads/canvas-gradebook.csv
Exit status: 0 written, 2 bad input.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
from pathlib import Path

from primer import exits
from primer.exits import CourseError
from primer.term import late
from primer.term.course import Course

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"


def fmt(value) -> str:
    return f"{float(value or 0):g}"


def table(course: Course) -> tuple[list[dict], dict]:
    """One dict per student and {chapter: (max points, [(grade_id, max)])}, from the gradebook."""
    with course.gradebook() as gradebook:
        late.apply(gradebook, course.late_policy())
        layout = {}
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            cells = [(f"{assignment.name}:{cell.name}", cell.max_score)
                     for notebook in assignment.notebooks for cell in notebook.grade_cells]
            layout[assignment.name] = (assignment.max_score, cells)
        rows = []
        for student in sorted(gradebook.students, key=lambda s: s.id):
            row = {"student": student, "chapters": {}, "cells": {}, "penalty": {}}
            for name in layout:
                try:
                    submission = gradebook.find_submission(name, student.id)
                except Exception:  # noqa: BLE001 -- nbgrader's MissingEntry: did not submit
                    row["chapters"][name], row["penalty"][name] = 0.0, 0.0
                    continue
                row["penalty"][name] = submission.late_submission_penalty
                row["chapters"][name] = max(0.0, submission.score - submission.late_submission_penalty)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        row["cells"][f"{name}:{grade.name}"] = grade.score
            row["student"] = {"id": student.id, "first": student.first_name or "", "last": student.last_name or ""}
            rows.append(row)
    return rows, layout


def read_roster(path: Path) -> dict[str, dict]:
    """SIS Login ID -> the Canvas export's row (ID, SIS User ID, Section, Student)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    missing = [c for c in CANVAS_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise CourseError(f"{path} is not a Canvas gradebook export (no {', '.join(missing) or 'rows'})",
                          "in Canvas: Grades > Export > Export Entire Gradebook, and give that file")
    return {r["SIS Login ID"]: r for r in rows if r["SIS Login ID"] and r["Student"].strip() != POINTS_POSSIBLE}


def write(path: Path, rows: list[list[str]]) -> None:
    """Atomically: a reader sees the old file or the new one."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)


def canvas_rows(rows, layout, roster: dict[str, dict]) -> list[list[str]]:
    out = [CANVAS_COLUMNS + list(layout), [POINTS_POSSIBLE, "", "", "", ""] + [fmt(m) for m, _ in layout.values()]]
    for row in rows:
        sid = row["student"]["id"]
        known = roster.get(sid, {})
        name = ", ".join(filter(None, [row["student"]["last"], row["student"]["first"]])) or sid
        out.append([known.get("Student", name), known.get("ID", ""), known.get("SIS User ID", ""), sid,
                    known.get("Section", "")] + [fmt(row["chapters"][c]) for c in layout])
    return out


def plain_rows(rows, layout) -> list[list[str]]:
    cells = [name for _, chapter_cells in layout.values() for name, _ in chapter_cells]
    header = ["student", *layout, *cells, *(f"{c}:late_penalty" for c in layout), "total"]
    out = [header]
    for row in rows:
        out.append([row["student"]["id"], *(fmt(row["chapters"][c]) for c in layout),
                    *(fmt(row["cells"].get(c, 0)) for c in cells), *(fmt(row["penalty"][c]) for c in layout),
                    fmt(sum(row["chapters"].values()))])
    return out


def export(course: Course, out: Path, roster: dict[str, dict] | None = None) -> list[Path]:
    from nbgrader.plugins.export import CsvExportPlugin

    out.mkdir(parents=True, exist_ok=True)
    rows, layout = table(course)
    write(out / "canvas.csv", canvas_rows(rows, layout, roster or {}))
    write(out / "grades.csv", plain_rows(rows, layout))
    with course.gradebook() as gradebook:
        CsvExportPlugin(to=str(out / "nbgrader.csv")).export(gradebook)
    return [out / "canvas.csv", out / "grades.csv", out / "nbgrader.csv"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("--out", type=Path, default=Path("grades"), help="output folder (default grades/)")
    parser.add_argument("--roster", type=Path, help="Canvas's gradebook export, to fill ID, SIS User ID, Section")
    args = parser.parse_args(argv)
    course = Course(args.course)
    if args.roster and not args.roster.is_file():
        raise CourseError(f"no file {args.roster}", "give the CSV that Canvas's gradebook export downloaded")
    paths = export(course, args.out, read_roster(args.roster) if args.roster else None)
    print("wrote " + ", ".join(str(p) for p in paths))
    return exits.OK
