"""primer similarity: pairs of submissions whose answers are near-identical.

usage: primer similarity COURSE CHAPTER [--threshold 0.9] [--min-tokens 8]

Every answer cell of every collected submission (COURSE/submitted/) is normalised: comments
and docstrings dropped, whitespace ignored, every name the student introduced renamed by
order of first use (v0, v1, ...), so renaming variables or reformatting does not hide a
copy; written answers are compared as lowercase words. Two students' answers to the same
exercise are compared with difflib's ratio over those tokens; answers left as the
release's stub, or shorter than --min-tokens, are skipped. The pairs at or above the
threshold are listed, most similar first, with the exercises concerned. Offline, no
service. It flags pairs for a person to read; it never changes a grade.

example: primer similarity ~/term-2027 03_xor --threshold 0.9
Exit status: 0 (whether or not pairs were found), 2 bad input.
"""
from __future__ import annotations

import argparse
import builtins
import difflib
import io
import itertools
import keyword
import re
import tokenize
from pathlib import Path

import nbformat

from primer import exits
from primer.exits import CourseError
from primer.term.course import Course, meta

KEEP = set(dir(builtins)) | {"np", "numpy", "torch", "nnlib", "checks", "math", "self"}


def code_tokens(source: str) -> list[str]:
    """The code's tokens with comments and docstrings dropped and the student's names numbered."""
    names, out, previous = {}, [], None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.findall(r"\w+|[^\w\s]", source)
    for token in tokens:
        kind, text = token.type, token.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                    tokenize.ENDMARKER):
            continue
        if kind == tokenize.STRING and previous in (None, ":", "NEWLINE"):
            continue  # a docstring or a bare string statement
        if kind == tokenize.NAME and not keyword.iskeyword(text) and text not in KEEP and previous != ".":
            text = names.setdefault(text, f"v{len(names)}")
        out.append(text)
        previous = token.string if kind == tokenize.OP else ("NEWLINE" if kind == tokenize.NEWLINE else text)
    return out


def text_tokens(source: str) -> list[str]:
    return re.findall(r"\w+", source.lower())


def answers(path: Path) -> dict[str, list[str]]:
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 -- collect already reported it
        return {}
    return {meta(c)["grade_id"]: (code_tokens if c.cell_type == "code" else text_tokens)(c.source)
            for c in nb.cells if meta(c).get("solution") and meta(c).get("grade_id")}


def similar_pairs(course: Course, chapter: str, threshold: float = 0.9, min_tokens: int = 8):
    """[(ratio, student_a, student_b, [(exercise, ratio)])], most similar first."""
    release = answers(course.path("release", ".", chapter))
    students = {p.parent.parent.name: answers(p) for p in sorted((course.root / "submitted").glob(
        f"*/{chapter}/{chapter}.ipynb"))}
    pairs = []
    for (a, first), (b, second) in itertools.combinations(sorted(students.items()), 2):
        matches = []
        for gid in sorted(set(first) & set(second)):
            x, y = first[gid], second[gid]
            if min(len(x), len(y)) < min_tokens or x == release.get(gid) or y == release.get(gid):
                continue
            ratio = difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()
            if ratio >= threshold:
                matches.append((gid, ratio))
        if matches:
            pairs.append((max(r for _, r in matches), a, b, matches))
    return sorted(pairs, key=lambda p: (-p[0], -len(p[3]), p[1], p[2]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="primer similarity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("chapter")
    parser.add_argument("--threshold", type=float, default=0.9, help="least similarity flagged, 0-1 (default 0.9)")
    parser.add_argument("--min-tokens", type=int, default=8, help="shorter answers are skipped (default 8)")
    args = parser.parse_args(argv)
    if not 0 < args.threshold <= 1:
        raise CourseError("--threshold is a similarity between 0 and 1", "e.g. --threshold 0.9")
    course = Course(args.course)
    chapter = course.chapter(args.chapter)
    pairs = similar_pairs(course, chapter, args.threshold, args.min_tokens)
    print(f"{chapter}: {len(pairs)} pair(s) of submissions with near-identical answers "
          f"(threshold {args.threshold:g}; names, whitespace and comments normalised). Grades are unchanged.")
    for ratio, a, b, matches in pairs:
        print(f"  {ratio:.2f}  {a} ~ {b}: " + ", ".join(f"{gid} {r:.2f}" for gid, r in matches))
    return exits.OK
