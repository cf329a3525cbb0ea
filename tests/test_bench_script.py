"""benchmarks/train_step.py runs (a smoke test with tiny settings; the timings are not checked)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_step.py"


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


def test_script_runs_single_threaded_and_compares_losses(tmp_path):
    env = dict(os.environ, NNLIB_DATA=str(tmp_path))  # no MNIST here: random pixels, and fast
    out = subprocess.run([sys.executable, str(SCRIPT), "--batches", "8", "--rounds", "1", "--seconds", "0.001"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "one thread" in out.stdout and "loss on the same batch" in out.stdout
    assert "samples/s" in out.stdout and "of peak" in out.stdout
