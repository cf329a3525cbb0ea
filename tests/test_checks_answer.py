"""checks.answer: an unanswered exercise gets a friendly message, whether or not the
stub cell has been run; an answered one behaves exactly like the student's function."""
import numpy as np
import pytest

from nnlib import checks, losses

my_stub = None
my_answer = None


def _stub(x):
    # YOUR CODE HERE
    raise NotImplementedError()


def _own_message(x):
    raise NotImplementedError("only for positive x")


def _uses_softmax(z):
    return losses.softmax(z)


def test_stub_not_run_yet():
    with pytest.raises(checks.CheckFailed, match="You have not defined the function `missing_name`"):
        checks.answer("missing_name", callable_=True)


def test_stub_run_but_unanswered(monkeypatch):
    monkeypatch.setitem(globals(), "my_stub", _stub)
    f = checks.answer("my_stub", callable_=True)
    with pytest.raises(checks.CheckFailed, match="`my_stub` is not answered yet"):
        f(1.0)


def test_answers_pass_through_unchanged(monkeypatch):
    monkeypatch.setitem(globals(), "my_answer", lambda x, *, k=2: x * k)
    f = checks.answer("my_answer", callable_=True)
    assert f(3, k=4) == 12 and f.__name__ == "<lambda>"
    monkeypatch.setitem(globals(), "my_answer", _own_message)
    with pytest.raises(NotImplementedError, match="only for positive x"):
        checks.answer("my_answer", callable_=True)(1.0)


def test_forbidden_still_reaches_the_wrapped_function(monkeypatch):
    monkeypatch.setitem(globals(), "my_answer", _uses_softmax)
    f = checks.answer("my_answer", callable_=True)
    with checks.forbidden("nnlib.losses.softmax", exercise="Exercise 9", functions=[f]):
        with pytest.raises(checks.CheckFailed, match="Exercise 9: your code calls nnlib.losses.softmax"):
            f(np.zeros((1, 3)))
    assert np.allclose(f(np.zeros((1, 2))), 0.5)
