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

import numbers

import numpy as np

from .errors import ConfigError, ShapeError


def _rate(value, name, where):
    """A probability in [0, 1] as a float, or a ConfigError that says what it got."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{where}: {name} must be a number in [0, 1] (a rate), got "
                          f"{type(value).__name__} {value!r}; pass e.g. 0.01, not '0.01'.")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ConfigError(f"{where}: {name} must be a rate in [0, 1], got {value!r}.")
    return value


def _count(value, name, where, minimum=1):
    """A whole number >= minimum, or a ConfigError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{where}: {name} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def _check_pair(confidence, correct):
    try:
        confidence = np.asarray(confidence, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("confidence must hold numbers (probabilities in [0, 1]), e.g. the first "
                          "array that max_softmax returns.") from None
    correct = np.asarray(correct)
    if correct.dtype != np.bool_:
        seen = ", ".join(map(repr, np.unique(correct.reshape(-1))[:4].tolist())) if correct.size else ""
        raise ConfigError(f"correct must be booleans (True where the prediction is right), got "
                          f"dtype {correct.dtype} ({seen}...). Pass pred == y, not the predicted "
                          "labels; a 0/1 array can be passed as correct.astype(bool).")
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
    try:
        t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(f"threshold_sweep: thresholds must be numbers, got {thresholds!r:.60}; "
                          "pass e.g. [0.5, 0.9] or np.linspace(0, 1, 21).") from None
    if np.isnan(t).any():
        raise ConfigError(f"threshold_sweep: {int(np.isnan(t).sum())} threshold(s) are NaN; a "
                          "threshold must be a number (inf accepts nothing). Drop the NaN values.")
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
    max_error = _rate(max_error, "max_error", "choose_threshold")
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
    a = _rate(digit_automation, "digit_automation", "zip_rates")
    e = _rate(digit_error, "digit_error", "zip_rates")
    digits = _count(digits, "digits", "zip_rates")
    return a ** digits, 1.0 - (1.0 - e) ** digits


def simulate_zip(confidence, correct, *, threshold, digits=5, letters=100_000, seed=0):
    """ZIP-level (automation, error) measured on letters of ``digits`` random test digits.

    Each letter draws its digits at random (with replacement) from the
    examples, so this checks the formula of ``zip_rates`` without assuming it.
    """
    confidence, correct = _check_pair(confidence, correct)
    digits = _count(digits, "digits", "simulate_zip")
    letters = _count(letters, "letters", "simulate_zip")
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real) or threshold != threshold:
        raise ConfigError(f"simulate_zip: threshold must be a number (inf accepts nothing), got {threshold!r}.")
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
    bins = _count(bins, "bins", "reliability")
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, weights=confidence, minlength=bins) / count
        acc = np.bincount(which, weights=correct, minlength=bins) / count
    gap = np.where(count > 0, np.abs(np.nan_to_num(acc) - np.nan_to_num(conf)), 0.0)
    return {"lo": edges[:-1], "hi": edges[1:], "count": count, "confidence": conf,
            "accuracy": acc, "ece": float((count * gap).sum() / confidence.size)}
