"""nnlib.timing's thread reporting, torch/CUDA wrappers and CPUStream; nnlib.flops bytes; sysinfo."""

import json
import sys
import threading
import time

import numpy as np
import pytest

from nnlib import flops, sysinfo, timing
from nnlib.errors import ConfigError
from nnlib.timing import Timing


def test_timing_keeps_its_old_constructor_and_adds_where():
    t = Timing(times=(0.002, 0.004), number=3, label="x")
    assert t.threads is None and t.device == "" and t.clock == "perf_counter"
    assert str(t) == "x: 3 ms per call (median; min 2 ms, IQR 1 ms) over 2 repeats x 3 calls"
    t = Timing(times=(0.002,), number=1, threads={"blas": 2, "torch": None}, device="CPU: test")
    assert str(t).endswith("[BLAS 2, torch ? threads]")
    assert t.where == "BLAS 2, torch ? threads; CPU: test"


def test_benchmark_records_threads_device_and_clock():
    t = timing.benchmark(np.tanh, np.ones(100), repeat=2, number=3)
    assert set(t.threads) >= {"blas"}
    assert ("torch" in t.threads) == ("torch" in sys.modules)
    assert t.device.startswith("CPU: ") and t.clock == "perf_counter"
    assert "threads" in str(t)


def test_limit_threads_sets_and_restores():
    before = timing.thread_counts()
    with timing.limit_threads(1) as inside:
        if before["blas"] is not None:
            assert inside["blas"] == 1 == timing.blas_threads()[0]
        if "torch" in inside:
            assert inside["torch"] == 1
    assert timing.thread_counts() == before
    with pytest.raises(ConfigError):
        with timing.limit_threads(0):
            pass


def test_blas_threads_says_how_it_knows():
    n, how = timing.blas_threads()
    assert (n is None) == how.startswith("unknown")
    assert n is None or n >= 1


def test_benchmark_torch_uses_the_torch_timer():
    torch = pytest.importorskip("torch")
    x = torch.ones(64, 64)
    t = timing.benchmark_torch(torch.mm, x, x, repeat=3, min_time=0.01, num_threads=1, label="mm")
    assert t.clock == "torch.utils.benchmark.Timer" and t.threads["torch"] == 1
    assert t.repeat >= 1 and t.min > 0 and t.label == "mm"
    assert torch.get_num_threads() >= 1
    with pytest.raises(ConfigError):
        timing.benchmark_torch(torch.mm, x, x, min_time=0)


class FakeCuda:
    """torch.cuda stand-in: a GPU clock that advances by `cost` per call of `work`."""

    __name__ = "fake.cuda"

    def __init__(self, cost):
        self.gpu_now, self.cost, self.calls, self.syncs = 0.0, cost, 0, 0
        cuda = self

        class Event:
            def __init__(self, enable_timing=False):
                assert enable_timing, "events must be created with enable_timing=True"
                self.t, self.waited = None, False

            def record(self):
                self.t = cuda.gpu_now

            def synchronize(self):
                self.waited = True

            def elapsed_time(self, other):
                assert other.waited, "elapsed_time read before the end event was synchronized"
                return (other.t - self.t) * 1e3        # milliseconds, like torch

        self.Event = Event

    def synchronize(self):
        self.syncs += 1

    def work(self):
        self.gpu_now += self.cost
        self.calls += 1


def test_cuda_events_wrapper_with_a_fake_gpu():
    cuda = FakeCuda(0.004)
    t = timing.benchmark_cuda_events(cuda.work, repeat=3, number=5, warmup=2, cuda=cuda,
                                     device="GPU: fake")
    assert cuda.calls == 2 + 15 and cuda.syncs >= 1
    assert np.allclose(t.times, 0.004) and t.number == 5 and t.clock == "cuda.Event"
    assert t.device == "GPU: fake"
    cuda = FakeCuda(0.003)
    t = timing.benchmark_cuda_events(cuda.work, repeat=2, min_time=0.05, cuda=cuda, device="x")
    assert t.number == 20 and t.median == pytest.approx(0.003)     # 1-2-5 ladder: 20 x 3 ms


def test_cuda_paths_skip_cleanly_without_a_gpu():
    if timing.cuda_available():
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(timing.DeviceUnavailable, match="no CUDA GPU"):
        timing.benchmark_cuda_events(lambda: None)
    assert sysinfo.device_line("cuda").startswith("CUDA: no GPU") or not sysinfo.gpu_info()


def test_cpu_stream_runs_in_background_and_in_order():
    gate, order = threading.Event(), []
    with timing.CPUStream() as stream:
        start = time.perf_counter()
        first = stream.submit(lambda: (gate.wait(5), order.append(1)))
        stream.submit(order.append, 2)
        assert time.perf_counter() - start < 1.0 and not first.done()   # submit did not wait
        gate.set()
        stream.synchronize()
        assert order == [1, 2]
        stream.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            stream.synchronize()
        with pytest.raises(TypeError):
            stream.submit(3)


def test_load_results(tmp_path):
    assert timing.load_results(tmp_path / "absent.json") is None
    good = {"device": "GPU: x", "date": "2026-01-01", "command": "python x.py", "results": []}
    (tmp_path / "ok.json").write_text(json.dumps(good))
    assert timing.load_results(tmp_path / "ok.json") == good
    (tmp_path / "bad.json").write_text(json.dumps({"device": "x", "results": []}))
    with pytest.raises(ConfigError, match="date"):
        timing.load_results(tmp_path / "bad.json")


def test_matmul_bytes_and_intensity_are_exact():
    p = flops.Matmul("Z", 32, 784, 128)
    assert p.bytes_moved() == 4 * (32 * 784 + 784 * 128 + 32 * 128)
    assert p.bytes_moved(2) == p.bytes_moved() // 2
    assert p.intensity() == pytest.approx(p.flops / p.bytes_moved())
    # matrix-vector: each 4-byte weight feeds one multiply-add, about 0.5 FLOP per byte
    assert flops.Matmul("v", 1, 4096, 4096).intensity() == pytest.approx(0.5, rel=1e-3)
    # square n x n x n: 2n^3 / (12 n^2) = n / 6
    assert flops.Matmul("sq", 600, 600, 600).intensity() == pytest.approx(100)
    with pytest.raises(ConfigError):
        p.bytes_moved(0)


def test_pass_bytes_add_up():
    sizes = (784, 128, 64, 10)
    fwd = sum(p.bytes_moved() for p in flops.forward_matmuls(sizes, batch=16))
    assert flops.forward_bytes(sizes, batch=16) == fwd
    bwd = sum(p.bytes_moved(2) for p in flops.backward_matmuls(sizes, batch=16, input_grad=True))
    assert flops.step_bytes(sizes, batch=16, itemsize=2, input_grad=True) == fwd // 2 + bwd


def test_roofline():
    assert flops.attainable_flops(0.5, peak_flops=100e9, bandwidth=20e9) == pytest.approx(10e9)
    assert flops.attainable_flops(50, peak_flops=100e9, bandwidth=20e9) == pytest.approx(100e9)
    assert flops.roofline_seconds(1e9, 1e6, peak_flops=1e11, bandwidth=1e10) == pytest.approx(1e-2)
    assert flops.roofline_seconds(1e6, 1e9, peak_flops=1e11, bandwidth=1e10) == pytest.approx(0.1)
    for bad in (0, -1, float("nan"), True):
        with pytest.raises(ConfigError):
            flops.attainable_flops(bad, peak_flops=1, bandwidth=1)


def test_fingerprint_and_device_line(monkeypatch):
    info = sysinfo.fingerprint()
    assert {"cpu", "cpu cores", "blas", "blas threads", "torch", "torch threads", "gpus"} <= set(info)
    assert isinstance(info["gpus"], list)
    assert sysinfo.device_line("cpu").startswith("CPU: ")
    with pytest.raises(ValueError):
        sysinfo.device_line("tpu")
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert sysinfo._smi_row(0) == {}


def test_cache_sizes_are_bytes():
    sizes = sysinfo.cache_sizes()
    assert isinstance(sizes, dict)
    for name, size in sizes.items():
        assert name.startswith("L") and isinstance(size, int) and size > 0


def test_save_results_round_trip(tmp_path):
    rows = [{"label": "mm", "batch": 64, "median_s": 0.001}]
    record = timing.save_results(tmp_path / "r.json", rows, command="python bench.py",
                                 device="GPU: fake")
    assert timing.load_results(tmp_path / "r.json") == record
    assert record["device"] == "GPU: fake" and record["results"] == rows
    assert record["date"].endswith("UTC")
    with pytest.raises(ConfigError, match="command"):
        timing.save_results(tmp_path / "x.json", rows, command="")


def test_set_blas_threads_returns_the_previous_count_and_spans_calls():
    before = timing.blas_threads()[0]
    if before is None:
        pytest.skip("NumPy's BLAS cannot be controlled here")
    old = timing.set_blas_threads(1)
    try:
        assert old == before and timing.blas_threads()[0] == 1
        with timing.limit_threads(2):
            assert timing.blas_threads()[0] == 2
        assert timing.blas_threads()[0] == 1  # limit_threads restored what set_blas_threads set
    finally:
        timing.set_blas_threads(old)
    assert timing.blas_threads()[0] == before
    with pytest.raises(Exception, match="threads"):
        timing.set_blas_threads(0)


def test_gpu_info_reads_nvidia_smi_through_gpukit(monkeypatch):
    from nnlib import gpukit

    asked = []

    def fake(*, fields, target=None, numeric=True):
        asked.append((fields, target, numeric))
        return {"driver_version": "550.54.15", "clocks.sm": "1980", "clocks.max.sm": "[N/A]"}

    monkeypatch.setattr(gpukit, "query_smi", fake)
    row = sysinfo._smi_row(1)
    assert row == {"driver": "550.54.15", "sm_clock_mhz": 1980, "max_sm_clock_mhz": None}
    assert asked == [(sysinfo.SMI_INFO, "1", False)]
