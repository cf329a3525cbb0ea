"""The chapter's numbers, checked: run the claims registry and guard the errata page.

A `holds` claim that stops holding fails, and so does a `wrong` claim whose
computed value changes (primer/quality/claims.py, judge). The perturbation tests prove the
checks can fail. Measured claims take about 10 s in all (one short training run).
"""

import copy
import json
import math
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("NNLIB_DATA", str(ROOT.parent / "shared" / "data"))

from primer.quality import claims  # noqa: E402
from primer.quality import errata as make_errata  # noqa: E402

ENTRIES = claims.load()
BY_ID = {e["id"]: e for e in ENTRIES}
CHECKED = [e for e in ENTRIES if "check" in e and e["verdict"] != "needs GPU"]
GPU = [e for e in ENTRIES if e["verdict"] == "needs GPU"]
REQUIRED = ("id", "section", "footnote", "claim", "chapter_value", "verdict", "provenance")


def _ids(entries):
    return [e["id"] for e in entries]


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_entry_is_complete(entry):
    missing = [k for k in REQUIRED if k not in entry]
    assert not missing, f"{entry.get('id')}: missing {missing}"
    assert entry["verdict"] in claims.VERDICTS
    assert entry["provenance"] in claims.PROVENANCES
    verdict = entry["verdict"]
    if verdict in ("wrong", "mislabelled", "inconsistent"):
        assert entry.get("correct"), "a claim that does not hold needs its correct figure"
    if verdict == "not checkable":
        assert entry.get("note") and "check" not in entry, "say why it cannot be checked"
    elif "check" not in entry:
        assert entry["provenance"] == "published" and entry.get("source"), \
            "a claim without a check must cite its source"
    else:
        if verdict != "needs GPU":
            assert "expected" in entry
        key = "chapter_values" if verdict == "inconsistent" else "chapter_number"
        assert key in entry, f"{entry['id']} needs {key}"


def test_ids_are_unique_and_registry_is_large():
    assert len(BY_ID) == len(ENTRIES)
    assert len(ENTRIES) >= 40


@pytest.mark.parametrize("entry", CHECKED, ids=_ids(CHECKED))
def test_claim_has_its_verdict(entry):
    if entry.get("timing") and not os.environ.get(claims.TIMING_ENV):
        pytest.skip(f"wall-clock claim: set {claims.TIMING_ENV}=1 (recorded value is checked below)")
    value = claims.evaluate(entry)
    assert claims.judge(entry, value) == []


@pytest.mark.parametrize("entry", GPU, ids=_ids(GPU))
def test_gpu_claim(entry):
    try:
        value = claims.evaluate(entry)
    except claims.NeedsGPU as exc:
        pytest.skip(f"needs GPU: {exc}")
    # No verdict is recorded yet; a GPU run must at least give a real figure.
    assert math.isfinite(value) and value > 0
    print(f"{entry['id']}: {value:.3g} (chapter: {entry['chapter_value']})")


# ---- the checks can fail: perturbed entries must be caught -----------------

def _judged(entry_id, **changes):
    entry = copy.deepcopy(BY_ID[entry_id])
    value = claims.evaluate(entry)
    entry.update(changes)
    return claims.judge(entry, value)


def test_holds_claim_that_stops_holding_is_caught():
    # The chapter figure moves away from what nnlib computes.
    assert _judged("params-89610", chapter_number=89611)
    assert _judged("loss-08", chapter_number=0.25)


def test_wrong_claim_whose_value_changes_is_caught():
    assert _judged("summary-first-layer", expected=78401)
    assert _judged("bias-share", expected=0.01)


def test_verdict_flip_is_caught():
    assert _judged("summary-first-layer", verdict="holds")
    assert _judged("params-89610", verdict="wrong")
    # A "wrong" verdict whose chapter figure is in fact right.
    assert _judged("activations-16704-training", chapter_number=41792)


def test_inconsistency_that_disappears_is_caught():
    assert _judged("adam-memory", chapter_values=[2.0, 2.0])


def test_measured_range_is_enforced():
    entry = copy.deepcopy(BY_ID["initial-loss-measured"])
    assert claims.judge(entry, 4.0), "a loss of 4 at initialisation must fail"


# ---- the errata page ---------------------------------------------------------

def _measured():
    return json.loads(make_errata.MEASURED.read_text())


def test_errata_page_is_current():
    text = make_errata.render(ENTRIES, _measured())
    assert make_errata.ERRATA.read_text(encoding="utf-8") == text, \
        "docs/errata.md is stale: run .venv/bin/primer errata"


def test_errata_lists_every_claim_that_does_not_hold():
    text = make_errata.ERRATA.read_text(encoding="utf-8")
    errata = text.split("## All other claims")[0]
    for e in ENTRIES:
        assert f'<a id="{e["id"]}"></a>' in text
        if e["verdict"] in make_errata.NOT_HOLDING:
            assert f'<a id="{e["id"]}"></a>' in errata


def test_measured_claims_carry_a_fingerprint():
    measured = _measured()
    for e in ENTRIES:
        if e["provenance"] == "measured" and e["verdict"] != "needs GPU" and "check" in e:
            m = measured[e["id"]]
            assert {"cpu", "cores", "numpy"} <= set(m["machine"]) and m["date"]
            assert claims.judge(e, m["value"]) == [], f"recorded {e['id']} no longer fits"


ERRATA_VERDICTS = ("wrong", "mislabelled", "inconsistent")


def _markdown(notebook):
    import nbformat
    nb = nbformat.read(ROOT / "solutions" / f"{notebook}.ipynb", as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["verdict"] in ERRATA_VERDICTS and e.get("notebook")],
                         ids=lambda e: e["id"])
def test_notebook_that_covers_a_claim_links_its_errata_entry(entry):
    """A student sees the check where the topic is taught."""
    assert f"errata.md#{entry['id']}" in _markdown(entry["notebook"]), \
        f"{entry['notebook']} covers {entry['id']} ({entry['verdict']}) but does not link its errata entry"
    assert f'<a id="{entry["id"]}"></a>' in (ROOT / "docs" / "errata.md").read_text(), "the anchor must exist"


def test_welcome_links_the_errata_page():
    assert "docs/errata.md" in _markdown("00_welcome")
