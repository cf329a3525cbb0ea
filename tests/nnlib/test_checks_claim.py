"""nnlib.checks.claim: a sentence about a computed number is printed when true, fails when false."""
import numpy as np
import pytest

from nnlib import checks


def test_true_claim_prints_the_sentence_and_returns_the_value(capsys):
    got = checks.claim("the ratio is {value:.2f}", 1.234, holds=lambda v: v < 1.5)
    assert got == 1.234
    assert capsys.readouterr().out == "the ratio is 1.23\n"


def test_close_to_accepts_the_quoted_number_within_tolerance(capsys):
    checks.claim("loss {value:.3f}", 2.3822, close_to=2.38, rtol=0.01)
    assert "loss 2.382" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs", [dict(holds=False), dict(holds=lambda v: v > 5),
                                    dict(close_to=3.0), dict(close_to=2.0, holds=True)])
def test_false_claim_fails_and_says_why(kwargs, capsys):
    with pytest.raises(checks.ClaimFailed, match="does not hold") as err:
        checks.claim("value {value}", 2.5, **kwargs)
    assert "value 2.5" in str(err.value)
    assert capsys.readouterr().out == ""          # nothing false is printed


def test_numpy_bools_and_values_work(capsys):
    checks.claim("{value} of 10", np.int64(7), holds=np.bool_(True))
    assert capsys.readouterr().out == "7 of 10\n"


def test_claim_is_an_assertion_error():
    with pytest.raises(AssertionError):
        checks.claim("{value}", 1, holds=False)


def test_a_claim_without_condition_or_placeholder_is_a_usage_error():
    with pytest.raises(TypeError, match="needs a condition"):
        checks.claim("x {value}", 1)
    with pytest.raises(ValueError, match="placeholder"):
        checks.claim("no number here", 1, holds=True)
    with pytest.raises(TypeError, match="must be a bool"):
        checks.claim("{value}", 1, holds=lambda v: "yes")


def test_close_to_rejects_non_numbers():
    with pytest.raises(checks.CheckFailed, match="should be a number"):
        checks.claim("{value}", "2.3", close_to=2.3)
