"""Model files (atomic save, clear load errors) and nnlib.confidence (thresholds, ZIP codes)."""
import numpy as np
import pytest

from nnlib import MLP, confidence as cf
from nnlib.errors import DataError, NonFiniteError, ShapeError


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    m = MLP((6, 4, 3), seed=0)
    path = m.save(tmp_path / "m")
    assert path.name == "m.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    MLP((6, 5, 3), seed=1).save(path)                   # replacing an existing file
    assert MLP.load(path).sizes == (6, 5, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_save_into_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="cannot write"):
        MLP((3, 2)).save(tmp_path / "nope" / "m.npz")


def test_load_errors(tmp_path):
    good = MLP((6, 4, 3), seed=0).save(tmp_path / "good.npz")
    with pytest.raises(DataError, match="does not exist"):
        MLP.load(tmp_path / "missing.npz")
    (tmp_path / "half.npz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="damaged"):
        MLP.load(tmp_path / "half.npz")
    with pytest.raises(ShapeError, match="6-4-3 network, but 784-100-10 was asked for"):
        MLP.load(good, sizes=(784, 100, 10))
    assert MLP.load(good, sizes=(6, 4, 3)).sizes == (6, 4, 3)
    bad = MLP((6, 4, 3), seed=0)
    bad.params["W1"][0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="W1"):
        MLP.load(bad.save(tmp_path / "nan.npz"))


def _brute_threshold(c, ok, budget):
    best = np.inf
    for t in np.unique(c):
        if np.mean(~ok[c >= t]) <= budget:
            best = min(best, t)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_choose_threshold_matches_brute_force(seed):
    r = np.random.default_rng(seed)
    c = np.round(r.random(400), 2)
    ok = r.random(400) < c
    for budget in (0.0, 0.02, 0.1, 0.5):
        assert cf.choose_threshold(c, ok, max_error=budget) == _brute_threshold(c, ok, budget)


def test_sweep_zip_and_simulation_agree():
    r = np.random.default_rng(0)
    c = r.beta(5, 1, size=5000)
    ok = r.random(5000) < c
    s = cf.threshold_sweep(c, ok, [0.0, 0.8, 2.0])
    assert s["automation"][0] == 1 and np.isnan(s["error"][2])
    a, e = s["automation"][1], s["error"][1]
    za, ze = cf.zip_rates(a, e, digits=5)
    sa, se = cf.simulate_zip(c, ok, threshold=0.8, letters=200_000, seed=1)
    assert za == pytest.approx(a ** 5) and sa == pytest.approx(za, abs=0.01)
    assert se == pytest.approx(ze, abs=0.01)


def test_reliability_of_a_calibrated_source_is_small():
    r = np.random.default_rng(0)
    c = r.random(100_000)
    table = cf.reliability(c, r.random(100_000) < c, bins=10)
    assert table["count"].sum() == 100_000 and table["ece"] < 0.01
    assert cf.reliability(np.ones(10), np.zeros(10, bool))["ece"] == pytest.approx(1.0)


def test_bad_confidence_input():
    with pytest.raises(ShapeError):
        cf.threshold_sweep(np.ones(3), np.ones(4, bool), [0.5])
    with pytest.raises(ValueError, match="probabilities"):
        cf.choose_threshold(np.array([1.5]), np.array([True]), max_error=0.1)
