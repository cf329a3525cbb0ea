"""The GPU measurement kit (benchmarks/gpu.py, nnlib.gpukit): the CPU fallback's quick run
end to end, and the pure pieces. Nothing here needs a GPU; the CUDA-only paths are not
exercised (there is no GPU in CI)."""

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nnlib import gpukit
from nnlib.errors import ConfigError

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def _results_state():
    folder = ROOT / "results"
    if not folder.exists():
        return None
    return sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())


def test_quick_fallback_run(tmp_path):
    before = _results_state()
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(gpukit.FALLBACK_LINE) == 2      # loud, first and last
    assert "model" in done.stdout and "measured" in done.stdout
    assert elapsed < 60, f"quick fallback run took {elapsed:.0f} s"
    assert _results_state() == before, "a fallback run touched results/"

    timing = gpukit.load_results("gpu_timing", folder=tmp_path)
    memory = gpukit.load_results("gpu_memory.json", folder=tmp_path)
    for rec in (timing, memory):
        assert rec["fallback"] is True and rec["device"]["kind"] == "cpu"
        assert rec["command"] == f"python benchmarks/gpu.py --quick --out {tmp_path}"
        assert datetime.datetime.fromisoformat(rec["date"]).tzinfo is not None
        assert any("CPU fallback" in n for n in rec["notes"])
        assert "CPU fallback" in gpukit.describe(rec)
    assert set(timing) == set(gpukit.TOP_KEYS) | {"launch", "step", "inference", "clocks"}
    assert timing["clocks"] == {"before": None, "after": None}
    assert all(v > 0 for v in timing["launch"].values())
    for rows in (timing["step"], timing["inference"]):
        assert [r["batch"] for r in rows] == list(gpukit.QUICK_BATCHES)
        for r in rows:
            assert set(r) == set(gpukit.ROW_KEYS)
            q1, q3 = r["timer_iqr_us"]
            assert 0 < q1 <= r["timer_median_us"] <= q3
            assert r["event_median_us"] > 0 and r["event_flushed_median_us"] > 0
            assert r["samples_per_s"] == pytest.approx(r["batch"] / r["timer_median_us"] * 1e6)
    assert set(memory) == set(gpukit.TOP_KEYS) | {"configs"}
    configs = memory["configs"]
    assert [(c["optimizer"], c["batch"], c["phase"]) for c in configs] == \
        gpukit.memory_configs()
    for c in configs:
        assert set(c) == set(gpukit.CONFIG_KEYS)
        assert c["reserved_bytes"] is None and c["context_bytes"] is None
        assert c["tensor_bytes"] > 0 and c["model_bytes"] > 0
        # on the CPU the profiler and the liveness model agree (notebook 08 asserts 1 %)
        assert abs(c["model_bytes"] / c["tensor_bytes"] - 1) < 0.01


def test_help_has_an_example():
    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert "example: python benchmarks/gpu.py" in done.stdout and "--quick" in done.stdout


SAMPLE = "1980, 2619, 34, 69.52\n"


def test_parse_smi():
    row = gpukit.parse_smi(SAMPLE, fields=gpukit.SMI_FIELDS)
    assert row == {"clocks.sm": 1980.0, "clocks.mem": 2619.0, "temperature.gpu": 34.0,
                   "power.draw": 69.52}
    row = gpukit.parse_smi("345, [N/A], 40, [Not Supported]\n1, 2, 3, 4\n",
                           fields=gpukit.SMI_FIELDS)
    assert row == {"clocks.sm": 345.0, "clocks.mem": None, "temperature.gpu": 40.0,
                   "power.draw": None}                       # first GPU's line only
    assert gpukit.parse_smi("", fields=gpukit.SMI_FIELDS) is None
    assert gpukit.parse_smi("1, 2\n", fields=gpukit.SMI_FIELDS) is None
    assert gpukit.parse_smi("550.54.15\n", fields=("driver_version",), numeric=False) == \
        {"driver_version": "550.54.15"}


def test_smi_command_only_queries():
    cmd = gpukit.smi_command(fields=gpukit.SMI_FIELDS)
    assert cmd == ["nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw",
                   "--format=csv,noheader,nounits"]
    assert gpukit.smi_command(fields=("memory.used",), target="GPU-abc")[1:3] == \
        ["-i", "GPU-abc"]


def test_canonical_uuid():
    want = "GPU-6f3a1b2c-0d4e-5f60-7182-93a4b5c6d7e8"
    for text in (want, want.lower()[4:], want.upper(), "6f3a1b2c0d4e5f60718293a4b5c6d7e8"):
        assert gpukit.canonical_uuid(text) == want
    for text in (None, "", "1234", "MIG-6f3a1b2c-0d4e-5f60-7182-93a4b5c6d7e8"):
        assert gpukit.canonical_uuid(text) is None


def test_read_clocks(monkeypatch):
    class Done:
        stdout = SAMPLE

    calls = []
    monkeypatch.setattr(gpukit.shutil, "which", lambda name: "/usr/bin/" + name)
    row = gpukit.query_smi(fields=gpukit.SMI_FIELDS,
                           run=lambda cmd, **kw: calls.append(cmd) or Done())
    assert row["power.draw"] == 69.52 and calls[0][0] == "nvidia-smi"
    monkeypatch.setattr(gpukit.shutil, "which", lambda name: None)
    assert gpukit.read_clocks() is None


def test_iqr():
    xs = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    assert gpukit.iqr(xs) == pytest.approx(list(np.percentile(xs, [25, 75])))
    assert gpukit.iqr([7]) == [7.0, 7.0]
    with pytest.raises(ConfigError):
        gpukit.iqr([])


def test_flush_bytes():
    mib = 2 ** 20
    assert gpukit.flush_bytes(50 * mib) == 256 * mib           # an H100's L2: 256 MB wins
    assert gpukit.flush_bytes(None) == 256 * mib
    assert gpukit.flush_bytes(200 * mib) == 400 * mib          # twice a larger L2
    assert gpukit.flush_bytes(150 * mib + 1) == 301 * mib      # rounded up to whole MiB
    assert gpukit.flush_bytes(None, minimum=gpukit.CPU_FLUSH_BYTES) == 4 * mib


def test_repetitions():
    kw = {"budget": 0.1, "min_reps": 10, "max_reps": 1000}
    assert gpukit.repetitions(1e-3, **kw) == 100
    assert gpukit.repetitions(1.0, **kw) == 10
    assert gpukit.repetitions(1e-9, **kw) == 1000


def test_host_event():
    a, b = gpukit.HostEvent(), gpukit.HostEvent()
    a.record()
    time.sleep(0.01)
    b.record()
    assert a.elapsed_time(b) >= 9                                # milliseconds


def test_fallback_never_writes_to_results(monkeypatch, tmp_path):
    monkeypatch.setattr(gpukit, "RESULTS_DIR", tmp_path / "results")
    with pytest.raises(ConfigError, match="CUDA measurements only"):
        gpukit.output_folder(out=tmp_path / "results", fallback=True)
    with pytest.raises(ConfigError, match="CUDA measurements only"):
        gpukit.output_folder(out=tmp_path / "results" / "cpu", fallback=True)
    temp = gpukit.output_folder(fallback=True)
    assert temp.is_dir() and temp != gpukit.RESULTS_DIR
    temp.rmdir()
    assert gpukit.output_folder(fallback=False) == gpukit.RESULTS_DIR


def _record(*, fallback):
    return {**gpukit.base_record(device={"name": "Some GPU"}, command="c",
                                 fallback=fallback, notes=["n"]),
            "configs": [dict.fromkeys(gpukit.CONFIG_KEYS, 1)]}


def test_load_results(monkeypatch, tmp_path):
    monkeypatch.setattr(gpukit, "RESULTS_DIR", tmp_path)
    assert gpukit.load_results("gpu_memory") is None
    gpukit.write_record(_record(fallback=False), name="gpu_memory", folder=tmp_path)
    rec = gpukit.load_results("gpu_memory")
    assert gpukit.describe(rec) == f"measured on Some GPU, {rec['date']}"
    gpukit.write_record(_record(fallback=True), name="gpu_memory", folder=tmp_path)
    with pytest.raises(ConfigError, match="CPU fallback"):
        gpukit.load_results("gpu_memory")                    # not in results/
    assert gpukit.load_results("gpu_memory", folder=tmp_path)["fallback"] is True
    bad = _record(fallback=False)
    del bad["configs"][0]["context_bytes"]
    with pytest.raises(ConfigError, match="context_bytes"):
        gpukit.write_record(bad, name="gpu_memory", folder=tmp_path)
    with pytest.raises(ConfigError, match="name"):
        gpukit.check_record(bad, name="other")


class _StandInCuda:
    """Just enough of torch.cuda for gpukit's CUDA branches to run on the CPU: this checks
    that those paths fit together (names, arguments, record layout), not any GPU figure."""

    def __init__(self):
        pass

    def Event(self, enable_timing=False):  # noqa: N802 - torch's name
        assert enable_timing
        return gpukit.HostEvent()

    def synchronize(self, device=None):
        pass

    def init(self):
        pass

    def empty_cache(self):
        pass

    def reset_peak_memory_stats(self, device=None):
        pass

    def memory_allocated(self, device=None):
        return 4096

    def max_memory_allocated(self, device=None):
        return 4096 + 900_000

    def memory_reserved(self, device=None):
        return 2 * 2 ** 20

    def get_device_properties(self, device):
        from types import SimpleNamespace

        return SimpleNamespace(name="Stand-in", total_memory=2 ** 30, multi_processor_count=2,
                               L2_cache_size=2 ** 20, major=9, minor=0, uuid="6f3a1b2c-0d4e-5f60-7182-93a4b5c6d7e8")


def test_cuda_branches_with_a_stand_in(monkeypatch, tmp_path):
    import torch
    from types import SimpleNamespace

    class StandInTorch:
        def __init__(self):
            self.cuda = _StandInCuda()
            self.version = SimpleNamespace(cuda="12.x")
            self.backends = SimpleNamespace(
                cudnn=SimpleNamespace(version=lambda: 1),
                cuda=SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False)))

        def __getattr__(self, name):
            return getattr(torch, name)

    fake = StandInTorch()
    calls = []

    def smi(*, fields, target=None, numeric=True):
        calls.append((fields, target))
        if "memory.used" in fields:              # 1000 MiB before CUDA starts, 1500 after
            return {"memory.used": "1000" if len(calls) == 1 else "1500", "uuid": "GPU-6F3A1B2C-0D4E-5F60-7182-93A4B5C6D7E8"}
        return dict.fromkeys(fields, "1.0" if not numeric else 1.0)

    monkeypatch.setattr(gpukit, "query_smi", smi)
    monkeypatch.setattr(gpukit, "pick_backend",
                        lambda: gpukit.Backend(fake, torch.device("cpu"), False))
    monkeypatch.setattr(gpukit, "GPU_FLUSH_MIN", 2 ** 20)
    lines = []
    paths = gpukit.run(command="c", out=tmp_path, quick=True, echo=lines.append)
    assert gpukit.FALLBACK_LINE not in lines
    timing = gpukit.load_results("gpu_timing", folder=tmp_path)
    memory = gpukit.load_results("gpu_memory", folder=tmp_path)
    assert [p.name for p in paths] == ["gpu_timing.json", "gpu_memory.json"]
    assert timing["fallback"] is False and timing["device"]["sm_count"] == 2
    assert timing["device"]["l2_cache_bytes"] == 2 ** 20
    assert timing["clocks"]["before"] == dict.fromkeys(gpukit.SMI_KEYS, 1.0)
    assert any("2,097,152 B int8" in n for n in timing["notes"])  # twice the L2
    for c in memory["configs"]:
        assert c["tensor_bytes"] == 900_000 and c["reserved_bytes"] == 2 * 2 ** 20
        assert c["context_bytes"] == 500 * 2 ** 20 - 2 * 2 ** 20    # used delta - reserved
    assert calls[0] == (("memory.used", "uuid"), gpukit.visible_target())   # before CUDA
    assert all(t == "GPU-6f3a1b2c-0d4e-5f60-7182-93a4b5c6d7e8" for _, t in calls[1:])
