"""nnlib.timing.benchmark against a fake clock, so that every number is exact."""

import gc

import numpy as np
import pytest

from nnlib.errors import ConfigError
from nnlib.timing import Timing, benchmark, format_seconds


class FakeClock:
    """A clock that only moves when the benchmarked function 'runs'.

    ``costs`` gives the seconds each successive call takes (the last value
    repeats), so the test knows exactly what benchmark should measure.
    """

    def __init__(self, costs):
        self.now, self.costs, self.calls = 0.0, list(costs), 0

    def __call__(self):
        return self.now

    def work(self, *args):
        self.now += self.costs[min(self.calls, len(self.costs) - 1)]
        self.calls += 1
        self.args = args


def test_fixed_number_gives_exact_per_call_times():
    clock = FakeClock([0.003])
    t = benchmark(clock.work, repeat=5, number=4, warmup=0, timer=clock)
    assert t.number == 4 and t.repeat == 5
    assert np.allclose(t.times, 0.003)
    assert clock.calls == 20
    assert t.median == pytest.approx(0.003) and t.iqr == pytest.approx(0.0, abs=1e-15)


def test_args_are_passed_to_every_call():
    clock = FakeClock([0.01])
    benchmark(clock.work, 1, "x", repeat=2, number=3, timer=clock)
    assert clock.args == (1, "x")


def test_warmup_calls_are_made_but_not_timed():
    # The first call is slow (a 'cold' cache); with warmup=1 it must not show up.
    clock = FakeClock([10.0, 0.002])
    t = benchmark(clock.work, repeat=3, number=5, warmup=1, timer=clock)
    assert clock.calls == 1 + 3 * 5
    assert t.max == pytest.approx(0.002)
    clock = FakeClock([10.0, 0.002])
    cold = benchmark(clock.work, repeat=3, number=5, warmup=0, timer=clock)
    assert cold.max == pytest.approx((10.0 + 4 * 0.002) / 5)


def test_auto_number_reaches_min_time():
    for cost in (1e-6, 3e-4, 0.02, 0.2):
        clock = FakeClock([cost])
        t = benchmark(clock.work, repeat=3, warmup=0, min_time=0.05, timer=clock)
        assert t.number * cost >= 0.05 - 1e-12, cost
        # The 1-2-5 ladder overshoots by at most a factor 2.5 (unless one call is already slower).
        assert t.number == 1 or t.number * cost < 0.05 * 2.5 + 1e-12, (cost, t.number)
        assert t.median == pytest.approx(cost)


def test_statistics_follow_numpy():
    costs = [0.001, 0.004, 0.002, 0.009, 0.003]
    clock = FakeClock(costs)
    t = benchmark(clock.work, repeat=5, number=1, warmup=0, timer=clock)
    assert np.allclose(t.times, costs)
    assert t.median == pytest.approx(np.median(costs))
    assert t.min == pytest.approx(0.001)
    q1, q3 = np.percentile(costs, [25, 75])
    assert t.iqr == pytest.approx(q3 - q1)
    assert t.rate(1000) == pytest.approx(1000 / np.median(costs))
    assert t.rate(1000, stat="min") == pytest.approx(1000 / 0.001)


def test_real_clock_measures_something_positive():
    x = np.random.default_rng(0).standard_normal(10_000)
    t = benchmark(np.tanh, x, repeat=3, min_time=0.005)
    assert t.min > 0 and t.median >= t.min and t.number >= 1
    assert gc.isenabled()


def test_str_is_readable():
    t = Timing(times=(0.0042, 0.0041, 0.0050), number=20, label="relu")
    s = str(t)
    assert s.startswith("relu: 4.2 ms per call (median")
    assert "3 repeats x 20 calls" in s


@pytest.mark.parametrize("seconds, text", [(2.5, "2.5 s"), (0.00421, "4.21 ms"),
                                           (3.2e-6, "3.2 µs"), (4e-9, "4 ns"), (0.0, "0 ns")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("kwargs", [dict(repeat=0), dict(repeat=2.0), dict(number=0),
                                    dict(warmup=-1), dict(min_time=0), dict(min_time=float("nan")),
                                    dict(repeat=True)])
def test_bad_config_is_rejected(kwargs):
    with pytest.raises(ConfigError):
        benchmark(lambda: None, **kwargs)


def test_non_callable_is_rejected():
    with pytest.raises(TypeError, match="callable"):
        benchmark(np.zeros(3))


def test_rate_rejects_unknown_stat():
    with pytest.raises(ConfigError):
        Timing(times=(1.0,), number=1).rate(10, stat="mean")
