"""Acting on a classifier's confidence: accept, or send to a human.

A deployed reader accepts a prediction only when its confidence (the largest
softmax probability) reaches a threshold t, and sends the rest to a person.
Two rates describe an operating point:

* automation rate: the fraction of inputs accepted (confidence >= t);
* error rate of accepted inputs: the fraction of the accepted that are wrong.

Raising t lowers the automation and usually, not always, the error. A ZIP
code of n digits is automated only when all n digits are accepted.
``reliability`` asks whether a confidence of 0.9 really means "right 9 times
in 10" (calibration).
"""

import numpy as np

from .errors import ConfigError, ShapeError


def _check_pair(confidence, correct):
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct)
    if confidence.ndim != 1 or correct.shape != confidence.shape:
        raise ShapeError(f"confidence {confidence.shape} and correct {correct.shape} must be two "
                         "1-D arrays with one entry per example.")
    if confidence.size == 0:
        raise ShapeError("confidence is empty: pass at least one example.")
    if not np.isfinite(confidence).all() or confidence.min() < 0 or confidence.max() > 1:
        raise ConfigError("confidence must hold probabilities in [0, 1] (e.g. the largest "
                          "softmax probability of each example).")
    return confidence, correct.astype(bool)


def max_softmax(probs):
    """(confidence (N,), predicted class (N,)) from class probabilities (N, C)."""
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ShapeError(f"max_softmax: expected probabilities (N, C), got shape {probs.shape}.")
    return probs.max(axis=1), probs.argmax(axis=1)


def threshold_sweep(confidence, correct, thresholds):
    """Automation and accepted-error rates for each threshold (accept when confidence >= t).

    Returns a dict of arrays: "threshold", "automation", "error" (NaN where
    nothing is accepted), "accepted" (counts).
    """
    confidence, correct = _check_pair(confidence, correct)
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    accept = confidence[None, :] >= t[:, None]
    n_acc = accept.sum(axis=1)
    n_wrong = (accept & ~correct[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.where(n_acc > 0, n_wrong / np.maximum(n_acc, 1), np.nan)
    return {"threshold": t, "automation": n_acc / confidence.size, "error": error,
            "accepted": n_acc}


def choose_threshold(confidence, correct, *, max_error):
    """The lowest threshold (most automation) whose accepted digits' error rate <= max_error.

    Candidates are the observed confidences (accept when confidence >= t);
    returns ``inf`` (accept nothing) when even the most confident example alone
    breaks the budget.
    """
    confidence, correct = _check_pair(confidence, correct)
    if not 0 <= max_error <= 1:
        raise ConfigError(f"max_error must be a rate in [0, 1], got {max_error!r}.")
    order = np.argsort(-confidence, kind="stable")
    c, wrong = confidence[order], ~correct[order]
    # Accepting everything down to c[i] accepts every example with that confidence (ties).
    last_of_value = np.r_[c[1:] != c[:-1], True]
    n_acc = np.arange(1, c.size + 1)
    error = np.cumsum(wrong) / n_acc
    ok = last_of_value & (error <= max_error + 1e-12)
    return float(c[np.flatnonzero(ok)[-1]]) if ok.any() else float("inf")


def zip_rates(digit_automation, digit_error, *, digits=5):
    """ZIP-level (automation, error among automated letters), digits assumed independent.

    A letter is automated when all ``digits`` are accepted, and routed right
    when all of them are also correct.
    """
    a, e = float(digit_automation), float(digit_error)
    return a ** digits, 1.0 - (1.0 - e) ** digits


def simulate_zip(confidence, correct, *, threshold, digits=5, letters=100_000, seed=0):
    """ZIP-level (automation, error) measured on letters of ``digits`` random test digits.

    Each letter draws its digits at random (with replacement) from the
    examples, so this checks the formula of ``zip_rates`` without assuming it.
    """
    confidence, correct = _check_pair(confidence, correct)
    idx = np.random.default_rng(seed).integers(0, confidence.size, size=(letters, digits))
    automated = (confidence[idx] >= threshold).all(axis=1)
    misrouted = automated & ~correct[idx].all(axis=1)
    n_auto = int(automated.sum())
    return n_auto / letters, (misrouted.sum() / n_auto if n_auto else float("nan"))


def reliability(confidence, correct, *, bins=10):
    """Calibration table in ``bins`` equal-width confidence bins, and the expected calibration error.

    Returns a dict of arrays per bin: "lo", "hi", "count", "confidence" (mean),
    "accuracy" (NaN for empty bins), and "ece" = sum over bins of
    count / N x |accuracy - mean confidence|.
    """
    confidence, correct = _check_pair(confidence, correct)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, weights=confidence, minlength=bins) / count
        acc = np.bincount(which, weights=correct, minlength=bins) / count
    gap = np.where(count > 0, np.abs(np.nan_to_num(acc) - np.nan_to_num(conf)), 0.0)
    return {"lo": edges[:-1], "hi": edges[1:], "count": count, "confidence": conf,
            "accuracy": acc, "ece": float((count * gap).sum() / confidence.size)}
