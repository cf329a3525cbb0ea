"""nnlib.memory: counts agree with the MLP's own arrays, with hand counts, and fail loudly on bad input."""

import numpy as np
import pytest

from nnlib import MLP, memory
from nnlib.errors import ConfigError

ARCHS = [(784, 100, 100, 10), (784, 128, 64, 10), (784, 1000, 1000, 10), (3, 1), (5, 7, 2, 9, 4)]


def random_sizes(rng, n):
    """n random architectures with 2 to 6 widths between 1 and 50."""
    return [tuple(int(s) for s in rng.integers(1, 51, size=rng.integers(2, 7))) for _ in range(n)]


@pytest.mark.parametrize("sizes", ARCHS + random_sizes(np.random.default_rng(0), 20))
def test_counts_match_the_mlp(sizes):
    model = MLP(sizes, seed=0)
    assert memory.param_count(sizes) == model.num_params()
    assert memory.macs(sizes) == model.macs_per_example()
    no_bias = MLP(sizes, bias=False, seed=0)
    assert memory.param_count(sizes, bias=False) == no_bias.num_params()


@pytest.mark.parametrize("sizes", ARCHS[:2] + random_sizes(np.random.default_rng(1), 5))
def test_per_layer_counts_match_the_parameter_arrays(sizes):
    model = MLP(sizes, seed=0)
    expected = [model.params[f"W{i}"].size + model.params[f"b{i}"].size for i in range(1, len(sizes))]
    assert memory.param_count(sizes, per_layer=True) == expected
    assert sum(memory.param_count(sizes, per_layer=True)) == memory.param_count(sizes)
    assert memory.macs(sizes, per_layer=True) == [model.params[f"W{i}"].size for i in range(1, len(sizes))]


def test_hand_counts_small_network():
    # 2 -> 3 -> 1: W1 is 2x3, b1 has 3, W2 is 3x1, b2 has 1.
    assert memory.param_count((2, 3, 1)) == 2 * 3 + 3 + 3 * 1 + 1
    assert memory.param_count((2, 3, 1), bias=False) == 2 * 3 + 3 * 1
    assert memory.macs((2, 3, 1)) == 2 * 3 + 3 * 1
    assert memory.macs((2, 3, 1), batch=4) == 4 * (2 * 3 + 3 * 1)
    assert memory.flops((2, 3, 1), batch=4) == 2 * memory.macs((2, 3, 1), batch=4)
    assert memory.flops((2, 3, 1), per_layer=True) == [2 * 6, 2 * 3]


def test_hand_counts_chapter_network():
    sizes = (784, 100, 100, 10)
    assert memory.param_count(sizes, per_layer=True) == [784 * 100 + 100, 100 * 100 + 100, 100 * 10 + 10]
    assert memory.macs(sizes) == 784 * 100 + 100 * 100 + 100 * 10


@pytest.mark.parametrize("sizes,batch", [((784, 128, 256, 128, 10), 32), ((6, 4, 3), 1), ((10, 5, 2), 7)])
def test_activation_count_matches_forward_pass_arrays(sizes, batch):
    model = MLP(sizes, seed=0)
    X = np.random.default_rng(0).random((batch, sizes[0]))
    out, caches = model.forward(X, keep_cache=True)
    # Each layer's input sits in its affine cache; the last layer's output is returned.
    layer_inputs = [c_aff[0] for c_aff, _, _ in caches]
    outputs = [a.size for a in layer_inputs[1:]] + [out.size]
    assert memory.activation_count(sizes, batch=batch, per_layer=True) == outputs
    assert memory.activation_count(sizes, batch=batch) == sum(outputs)
    with_input = memory.activation_count(sizes, batch=batch, include_input=True, per_layer=True)
    assert with_input == [layer_inputs[0].size] + outputs


def test_activation_count_scales_linearly_with_batch():
    sizes = (784, 128, 256, 128, 10)
    one = memory.activation_count(sizes, batch=1, include_input=True)
    assert memory.activation_count(sizes, batch=64, include_input=True) == 64 * one


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int8", np.float32])
def test_nbytes_matches_numpy(dtype):
    for count in (0, 1, 89_610):
        assert memory.nbytes(count, dtype=dtype) == np.zeros(count, dtype=dtype).nbytes


def test_nbytes_formats_numpy_lacks():
    assert memory.nbytes(10, dtype="bfloat16") == memory.nbytes(10, dtype="float16")
    assert memory.nbytes(10, dtype="fp8") == memory.nbytes(10, dtype="int8")


def test_human_bytes_si_and_binary():
    n = memory.nbytes(memory.param_count((784, 100, 100, 10)), dtype="float32")
    si, binary = n / 1000, n / 1024
    assert memory.human_bytes(n, units="si") == f"{si:.2f} kB"
    assert memory.human_bytes(n, units="binary") == f"{binary:.2f} KiB"
    assert memory.human_bytes(n) == f"{si:.2f} kB ({binary:.2f} KiB)"
    big = 7 * 2**20
    assert memory.human_bytes(big, units="binary") == "7.00 MiB"
    assert memory.human_bytes(big, units="si") == f"{big / 1e6:.2f} MB"


def test_human_bytes_unit_boundaries():
    assert memory.human_bytes(999) == "999 B"
    assert memory.human_bytes(1000) == "1.00 kB (1000 B)"
    assert memory.human_bytes(1024) == "1.02 kB (1.00 KiB)"
    assert memory.human_bytes(999_999, units="si") == "1.00 MB"  # rounding moves up a unit
    assert memory.human_bytes(0) == "0 B"
    assert memory.human_bytes(5 * 10**18, units="si").endswith(" PB")


def test_layer_table_agrees_with_the_other_counts():
    sizes, batch = (784, 128, 64, 10), 32
    rows = memory.layer_table(sizes, batch=batch, dtype="float16")
    assert [r["params"] for r in rows] == memory.param_count(sizes, per_layer=True)
    assert [r["macs"] for r in rows] == memory.macs(sizes, batch=batch, per_layer=True)
    assert [r["activations"] for r in rows] == memory.activation_count(sizes, batch=batch, per_layer=True)
    assert [r["w_shape"] for r in rows] == [(784, 128), (128, 64), (64, 10)]
    assert [r["out_shape"] for r in rows] == [(32, 128), (32, 64), (32, 10)]
    assert all(r["param_bytes"] == 2 * r["params"] for r in rows)


@pytest.mark.parametrize("sizes,match", [
    ((784,), "at least an input and an output"),
    ((784, 0, 10), r"sizes\[1\] must be >= 1"),
    ((784, -5, 10), r"sizes\[1\] must be >= 1"),
    ((784, 100.0, 10), r"sizes\[1\] must be an integer"),
    ((784, True, 10), r"sizes\[1\] must be an integer"),
    ("784-100-10", "sequence of layer widths"),
    (784, "sequence of layer widths"),
])
def test_bad_sizes_give_clear_errors(sizes, match):
    for call in (memory.param_count, memory.macs, memory.flops):
        with pytest.raises(ConfigError, match=match):
            call(sizes)
    with pytest.raises(ConfigError, match=match):
        memory.activation_count(sizes, batch=1)


def test_numpy_integer_sizes_are_accepted():
    assert memory.param_count(np.array([4, 3, 2])) == memory.param_count((4, 3, 2))


@pytest.mark.parametrize("call", [
    lambda: memory.macs((4, 2), batch=0),
    lambda: memory.activation_count((4, 2), batch=2.5),
    lambda: memory.nbytes(-1),
    lambda: memory.nbytes(10, dtype="float33"),
    lambda: memory.human_bytes(-3),
    lambda: memory.human_bytes(10, units="decimal"),
])
def test_bad_arguments_give_config_errors(call):
    with pytest.raises(ConfigError):
        call()


def test_configuration_is_keyword_only():
    with pytest.raises(TypeError):
        memory.param_count((4, 2), False)
    with pytest.raises(TypeError):
        memory.activation_count((4, 2), 32)
    with pytest.raises(TypeError):
        memory.nbytes(10, "float16")
