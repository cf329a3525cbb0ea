"""nnlib.flops: exact matmul counts of forward, backward and training step."""
from fractions import Fraction

import numpy as np
import pytest

from nnlib import flops, memory
from nnlib.errors import ConfigError

SIZES = (784, 128, 64, 10)


def test_forward_matches_memory_flops():
    for batch in (1, 32, 500):
        assert flops.forward_flops(SIZES, batch=batch) == memory.flops(SIZES, batch=batch)
    assert flops.forward_flops(SIZES, batch=32) == 2 * 32 * (784 * 128 + 128 * 64 + 64 * 10)


def test_backward_counts_by_hand():
    fwd_macs = 784 * 128 + 128 * 64 + 64 * 10            # 109,184 per example
    input_macs = 128 * 64 + 64 * 10                       # dA1, dA2: 8,832
    assert flops.backward_flops(SIZES, batch=32) == 2 * 32 * (fwd_macs + input_macs)
    assert flops.backward_flops(SIZES, batch=32, input_grad=True) == 2 * 2 * 32 * fwd_macs
    assert flops.step_flops(SIZES, batch=32) == 2 * 32 * (2 * fwd_macs + input_macs)


def test_ratios_for_the_chapter_network():
    r = flops.ratios(SIZES, batch=32)
    assert r["backward"] == Fraction(118_016, 109_184)
    assert round(float(r["backward"]), 2) == 1.08
    assert r["backward_with_input_grad"] == 2
    assert round(float(r["step"]), 2) == 2.08
    assert r["step_with_input_grad"] == 3
    assert flops.ratios(SIZES, batch=1) == flops.ratios(SIZES, batch=512)   # batch cancels


def test_matmul_names_and_shapes_follow_the_products():
    fwd = flops.forward_matmuls(SIZES, batch=32)
    assert [(p.m, p.k, p.n) for p in fwd] == [(32, 784, 128), (32, 128, 64), (32, 64, 10)]
    bwd = flops.backward_matmuls(SIZES, batch=32)
    assert [p.name for p in bwd] == ["dW3 = A2.T @ dZ3", "dA2 = dZ3 @ W3.T", "dW2 = A1.T @ dZ2",
                                     "dA1 = dZ2 @ W2.T", "dW1 = A0.T @ dZ1"]
    assert (bwd[0].m, bwd[0].k, bwd[0].n) == (64, 32, 10)
    with_x = flops.backward_matmuls(SIZES, batch=32, input_grad=True)
    assert with_x[-1].name == "dA0 = dZ1 @ W1.T" and (with_x[-1].m, with_x[-1].k, with_x[-1].n) == (32, 128, 784)
    assert bwd[0].flops == 2 * bwd[0].macs == 2 * 64 * 32 * 10


def test_counts_agree_with_numpy_shapes():
    rng = np.random.default_rng(0)
    sizes, B = (7, 5, 3), 4
    W = [rng.standard_normal((d, m)) for d, m in zip(sizes[:-1], sizes[1:])]
    A0 = rng.standard_normal((B, 7))
    Z1 = A0 @ W[0]
    Z2 = Z1 @ W[1]
    shapes = [(A0.shape, W[0].shape), (Z1.shape, W[1].shape)]
    assert [((p.m, p.k), (p.k, p.n)) for p in flops.forward_matmuls(sizes, batch=B)] == shapes
    assert Z2.shape == (B, 3)


def test_single_layer_has_no_useful_input_gradient():
    assert flops.backward_flops((10, 3), batch=5) == flops.forward_flops((10, 3), batch=5)
    assert flops.ratios((10, 3))["backward"] == 1


@pytest.mark.parametrize("bad", [(784,), (784, 0, 10), (784, 1.5, 10), "784-10"])
def test_bad_sizes_raise_config_error(bad):
    with pytest.raises(ConfigError):
        flops.forward_flops(bad)


@pytest.mark.parametrize("batch", [0, -1, 2.0, True])
def test_bad_batch_raises_config_error(batch):
    with pytest.raises(ConfigError):
        flops.backward_flops(SIZES, batch=batch)
