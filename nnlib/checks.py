"""Friendly assertions for exercise test cells.

A failed check says what was expected and what was found, in words a student
can act on, instead of a bare ``AssertionError`` or ``NameError``.

- ``answer(name)``: the student's variable or function, or "you have not set
  ``name`` yet" when the exercise is still unsolved.
- ``check_close`` / ``check_shape`` / ``check_dtype``: numbers, shapes, dtypes.
- ``check_hashed``: compare a numeric answer with a salted hash of the rounded
  reference, so a notebook can say right or wrong without shipping the value.
- ``forbidden(...)``: make library functions unusable while the student's code
  runs, for exercises that ask you to write something yourself.
- ``check_unmodified``: the student's code did not change its input in place.
- ``claim(text, value, holds=...)``: narrative cells state a sentence about a
  computed number; it is printed when true and fails loudly when false.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import inspect
import math
import sys

import numpy as np


class CheckFailed(AssertionError):
    """A visible check found a mistake; the message says what to fix."""


def _fail(message):
    raise CheckFailed(message)


# --- is the answer there at all? -------------------------------------------------


def answer(name, *, callable_=False):
    """Return the student's global ``name``, or fail with "you have not set it yet".

    Looks the name up in the notebook's namespace (the caller's globals), so a
    test cell reads ``f = checks.answer("my_softmax")`` instead of using the name
    directly and getting a ``NameError`` while the exercise is unsolved.
    """
    namespace = inspect.currentframe().f_back.f_globals
    if name not in namespace or namespace[name] is None:
        kind = "defined the function" if callable_ else "set"
        _fail(f"You have not {kind} `{name}` yet: write your answer in the cell above "
              f"(in place of `raise NotImplementedError()`), run it, then run this cell.")
    value = namespace[name]
    if callable_ and not callable(value):
        _fail(f"`{name}` should be a function (def {name}(...)), got {type(value).__name__}.")
    return _answered(value, name) if callable_ else value


def _answered(function, name):
    """``function``, except that the stub's ``raise NotImplementedError()`` becomes
    "not answered yet" instead of a bare traceback (the stub cell has been run, so the
    name exists, but the exercise is still unanswered)."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NotImplementedError as error:
            if str(error):  # a message of the student's own: not the stub
                raise
            _fail(f"`{name}` is not answered yet: it still raises NotImplementedError(). "
                  f"Write your answer in its cell in place of that line, run the cell, "
                  f"then run this cell again.")

    return call


def check_number(value, *, what, integer=False):
    """Fail unless ``value`` is a real number (a whole number if ``integer``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        _fail(f"{what} should be a number, got {type(value).__name__} {value!r}.")
    if not math.isfinite(float(value)):
        _fail(f"{what} should be a finite number, got {value!r}.")
    if integer and float(value) != int(value):
        _fail(f"{what} should be a whole number, got {value!r}.")


# --- values, shapes, dtypes -------------------------------------------------------


def check_close(actual, expected, *, what, rtol=1e-6, atol=1e-8):
    """Assert ``actual`` is numerically close to ``expected``; ``what`` names the quantity."""
    if actual is None:
        _fail(f"{what}: got None. Did you forget to return or assign a value?")
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(f"{what}: expected numbers, got {type(actual).__name__} {actual!r:.80}.")
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        _fail(f"{what}: expected shape {e.shape}, got {a.shape}.")
    if not np.all(np.isfinite(a)) and np.all(np.isfinite(e)):
        _fail(f"{what}: got non-finite values (nan or inf) where finite numbers were expected.")
    if not np.all(np.isfinite(e)):
        _fail(f"{what}: the expected value itself is not finite ({e.tolist() if e.size <= 8 else 'nan/inf'}); "
              "this is a bug in the test, not in your answer.")
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(a - e)))
        shown = f"expected {e.tolist()}, got {a.tolist()}" if a.size <= 8 else f"largest difference {worst:.3g}"
        _fail(f"{what}: {shown}.")


def check_shape(array, shape, *, what):
    """Assert ``array.shape == shape``."""
    got = getattr(array, "shape", None)
    if got != tuple(shape):
        _fail(f"{what}: expected shape {tuple(shape)}, got {got}.")


def check_dtype(array, dtype, *, what):
    """Assert ``array`` is a NumPy array of ``dtype``."""
    got = getattr(array, "dtype", None)
    if got != np.dtype(dtype):
        _fail(f"{what}: expected a NumPy array of dtype {np.dtype(dtype)}, got {got or type(array).__name__}.")


def check_unmodified(before, after, *, what):
    """Assert the array ``after`` still equals the copy ``before`` taken before the call."""
    if not np.array_equal(np.asarray(before), np.asarray(after), equal_nan=True):
        _fail(f"{what} was modified in place: work on a copy (or build a new array) instead.")


# --- numeric answers without shipping them ----------------------------------------


def _canonical(value, sig):
    """The string that is hashed: an exact integer, or ``sig`` significant digits."""
    if sig is None:
        return str(int(value))
    return f"{float(value):.{sig - 1}e}"


def _neighbours(value, sig):
    """``value`` rounded to ``sig`` digits, and one unit up and down in the last digit.

    Accepting the neighbours makes the check robust at a rounding boundary: a
    reference of 0.12345 may round to ...34 or ...35, and a student whose
    value differs from it in the tenth digit must not be told it is wrong.
    """
    if sig is None:
        return [str(int(value))]
    x = float(value)
    if x == 0.0:
        return [_canonical(0.0, sig)]
    unit = 10.0 ** (math.floor(math.log10(abs(x))) - sig + 1)
    return [_canonical(x + k * unit, sig) for k in (0, -1, 1)]


def hash_answer(value, *, salt, sig=None):
    """Salted SHA-256 of ``value`` (exact integer if ``sig`` is None, else rounded).

    Authors store its output in the visible test; see docs/AUTHORING.md.
    """
    text = f"{salt}:{_canonical(value, sig)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_hashed(value, digest, *, salt, what, sig=None, hint=""):
    """Assert ``value`` matches the reference whose salted hash is ``digest``.

    Integers must match exactly; floats to ``sig`` significant digits, give or
    take one unit in the last digit. The value itself never appears in the
    notebook, only its hash.
    """
    check_number(value, what=what, integer=sig is None)
    for candidate in _neighbours(value, sig):
        if hashlib.sha256(f"{salt}:{candidate}".encode()).hexdigest()[:16] == digest:
            return
    _fail(f"{what} = {value!r} is not right." + (f" {hint}" if hint else ""))


# --- "do not use library X" -------------------------------------------------------


class _Forbidden:
    """Stands in for a library function while a student's code runs."""

    def __init__(self, label, exercise):
        self.label, self.exercise = label, exercise

    def __call__(self, *args, **kwargs):
        _fail(f"{self.exercise}: your code calls {self.label}, which this exercise asks you not to use. "
              "Write the computation yourself with NumPy.")


@contextlib.contextmanager
def forbidden(*targets, exercise, functions=()):
    """Make library functions (and methods) unusable inside the ``with`` block.

    targets: dotted paths such as "nnlib.losses.softmax", "scipy.special.softmax",
    or attributes of a class, "torch.Tensor.softmax", "nnlib.model.MLP.forward". The
    module part is imported if it can be (so that a student's own ``import torch``
    inside the function meets the stand-in too); paths that do not resolve are skipped.
    functions: the student's functions; their global names that refer to a
    forbidden object (``from nnlib.losses import softmax``) are patched too.
    """
    originals = {}
    for target in targets:
        place = _resolve(target)
        if place is not None:
            originals[place] = (target, getattr(*place))
    # one stand-in per object; an object named twice (nnlib.MLP, nnlib.model.MLP) is
    # labelled by the last name given
    stand_ins = {id(obj): _Forbidden(target, exercise) for target, obj in originals.values()}
    patched = [(owner, attr, obj, attr in vars(owner)) for (owner, attr), (_, obj) in originals.items()]
    for function in map(inspect.unwrap, functions):  # past _answered's wrapper
        namespace = getattr(function, "__globals__", {})
        for name in getattr(getattr(function, "__code__", None), "co_names", ()):
            if id(namespace.get(name)) in stand_ins:
                patched.append((_Namespace(namespace), name, namespace[name], True))
    try:
        for owner, attr, obj, _ in patched:
            setattr(owner, attr, stand_ins[id(obj)])
        yield
    finally:
        for owner, attr, obj, own in reversed(patched):
            if own:
                setattr(owner, attr, obj)
            else:  # inherited (e.g. a method of a base class): remove the stand-in
                delattr(owner, attr)


def _resolve(target):
    """(owner, attribute name) that ``target`` names, or None: the longest importable
    module prefix, then attributes (a class, its method)."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:cut])
        module = sys.modules.get(name)
        if module is None:
            try:
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001 -- not installed, or not a module: try a shorter prefix
                continue
        owner = module
        for attr in parts[cut:-1]:
            owner = getattr(owner, attr, None)
            if owner is None:
                return None
        return (owner, parts[-1]) if hasattr(owner, parts[-1]) else None
    return None


class _Namespace:
    """setattr on a globals dict, so it can be patched like a module."""

    def __init__(self, namespace):
        self.__dict__["_ns"] = namespace

    def __setattr__(self, name, value):
        self._ns[name] = value


def passed(what):
    """Print the one-line confirmation that a test cell reached its end."""
    print(f"✔ {what}: all visible checks passed.")



# --- claims in the prose ----------------------------------------------------------


class ClaimFailed(AssertionError):
    """A sentence the notebook states about a computed number is not true for it."""


def claim(text, value, *, holds=None, close_to=None, rtol=0.01, atol=0.0):
    """State ``text`` about the computed ``value``, print it, and fail if it is false.

    text: a sentence with ``{value}`` (format specs allowed, e.g. ``{value:.3f}``)
    where the computed number goes. Give at least one condition:

    - ``holds``: a bool, or a function ``value -> bool`` (e.g. ``lambda v: v < 1.5``);
    - ``close_to``: the number the prose quotes; ``value`` must match it within
      ``rtol`` (relative) or ``atol`` (absolute).

    Returns ``value``, so ``ratio = checks.claim("...", measure(), holds=...)``
    computes, states and checks in one line. A notebook whose data or code changes
    so that its prose becomes false then stops at the sentence, instead of
    printing a number that contradicts the text around it.
    """
    if holds is None and close_to is None:
        raise TypeError("checks.claim needs a condition: pass holds=... (a bool or a function "
                        "value -> bool) or close_to=... (the number the text quotes).")
    if "{value" not in text:
        raise ValueError(f"checks.claim text {text!r} has no {{value}} placeholder: put the "
                         "computed number into the sentence, e.g. 'the loss is {value:.3f}'.")
    stated = text.format(value=value)
    problems = []
    if close_to is not None:
        check_number(value, what=f"the value in the claim {stated!r}")
        if not math.isclose(float(value), float(close_to), rel_tol=rtol, abs_tol=atol):
            problems.append(f"the text quotes {close_to!r} (rtol={rtol}, atol={atol})")
    if holds is not None:
        ok = holds(value) if callable(holds) else holds
        if not isinstance(ok, (bool, np.bool_)):
            raise TypeError(f"checks.claim: holds must be a bool or return one, got {type(ok).__name__}.")
        if not ok:
            problems.append("its condition (holds=...) is false")
    if problems:
        raise ClaimFailed(f"This claim does not hold for the computed value {value!r}: "
                          f"{stated!r}; " + "; ".join(problems) + ". Change the text to say "
                          "what was measured (or find out why the measurement changed).")
    print(stated)
    return value
