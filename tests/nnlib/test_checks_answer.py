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


class _Model:
    def forward(self, x):
        return x + 1


def test_forbidden_blocks_methods_and_restores_them():
    import sys
    import types

    module = types.ModuleType("fake_models_for_checks")
    module.Model = _Model
    sys.modules["fake_models_for_checks"] = module
    try:
        m = _Model()
        with checks.forbidden("fake_models_for_checks.Model.forward", exercise="Exercise 5"):
            with pytest.raises(checks.CheckFailed, match="Exercise 5: your code calls "
                               "fake_models_for_checks.Model.forward"):
                m.forward(1)
        assert m.forward(1) == 2 and "forward" in vars(_Model)
    finally:
        del sys.modules["fake_models_for_checks"]


def test_forbidden_restores_an_inherited_method_by_removing_the_stand_in():
    class Child(_Model):
        pass

    import sys
    import types

    module = types.ModuleType("fake_child_for_checks")
    module.Child = Child
    sys.modules["fake_child_for_checks"] = module
    try:
        with checks.forbidden("fake_child_for_checks.Child.forward", exercise="Exercise 6"):
            with pytest.raises(checks.CheckFailed):
                Child().forward(1)
        assert "forward" not in vars(Child) and Child().forward(1) == 2
    finally:
        del sys.modules["fake_child_for_checks"]


def test_forbidden_imports_the_module_it_names_and_skips_what_does_not_exist():
    import sys

    sys.modules.pop("colorsys", None)
    with checks.forbidden("colorsys.rgb_to_hsv", "no_such_module_xyz.f", "nnlib.losses.nope",
                          exercise="Exercise 7"):
        import colorsys

        with pytest.raises(checks.CheckFailed):
            colorsys.rgb_to_hsv(0.1, 0.2, 0.3)
    assert colorsys.rgb_to_hsv(0, 0, 0) == (0.0, 0.0, 0.0)

