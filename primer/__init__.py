"""The DL Primer course's own tools, behind one command: `primer`.

One subpackage per user: student/ (open the course, check a notebook), authoring/
(release, execute, wrong answers, hashes), grading/ (the instructor's grader) and
quality/ (the course checking itself: claims, errata, browser, lab). `nnlib` is the
library the notebooks import; nothing here is imported by a notebook.
"""
