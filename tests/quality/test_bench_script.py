"""benchmarks/train_step.py runs (a smoke test with tiny settings; the timings are not checked).

The benchmark once reported nnlib at 0.06x PyTorch while a plain loop gave 1.58x: with
threadpoolctl installed it limited the threads *before* NumPy had loaded OpenBLAS, so
NumPy ran on every core while torch ran on one. These tests pin the fix: the timing
always happens in a fresh process whose environment says one thread, the process reads
the count back, and every figure is compared with a plain loop.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_step.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_step", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_count_skips_the_first_layers_input_gradient():
    bench = load_script()
    macs = 784 * 128 + 128 * 64 + 64 * 10
    # forward + weight gradients + input gradients of layers 2 and 3: 2.08x the forward
    assert bench.flops_per_step(32) == 2 * 32 * (2 * macs + 128 * 64 + 64 * 10)
    assert round(bench.flops_per_step(32) / (2 * 32 * macs), 2) == 2.08


@pytest.mark.parametrize("batch", [1, 5])
def test_fused_step_is_the_same_sgd_step_as_nnlib(batch):
    import numpy as np

    bench = load_script()
    X, y, _ = bench.load_batch(batch)
    model, nn_step = bench.make_nnlib_step(X, y, 0.1)
    fused = bench.make_fused_step(model, X, y, 0.1)
    for _ in range(3):  # the same losses step after step: the same updates too
        assert np.isclose(nn_step(), fused(), rtol=1e-5)


def test_script_runs_single_threaded_with_four_columns_and_a_plain_loop(tmp_path):
    env = dict(os.environ, NNLIB_DATA=str(tmp_path), OPENBLAS_NUM_THREADS="2",
               OMP_NUM_THREADS="2")  # the parent's settings must not reach the timing
    out = subprocess.run([sys.executable, str(SCRIPT), "--batches", "1", "8", "--rounds", "2",
                          "--seconds", "0.001"],
                         capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode in (0, 1), out.stderr  # 1: a plain-loop disagreement on a busy machine
    assert "1 BLAS thread(s)" in out.stdout and "with 1 thread(s)" in out.stdout
    assert "loss on the same batch" in out.stdout and "fused" in out.stdout
    for column in ("nnlib/torch", "nnlib/fused", "readable/fused", "plain loop us", "of peak"):
        assert column in out.stdout
    assert "batch-1 step no slower than its batch-8 step" in out.stdout


def test_a_benchmark_that_disagrees_with_a_plain_loop_is_reported(capsys):
    bench = load_script()
    row = dict(batch=32, vs_torch=1.5, vs_fused=0.95, peak_fraction=0.3, peak_spread=0.1,
               nn_us=900.0, plain_us=450.0, plain_gap=1.0)
    assert bench.verdicts([row]) is False
    assert "measured something other than the step" in capsys.readouterr().out
    assert bench.verdicts([dict(row, nn_us=460.0, plain_gap=0.02)]) is True
