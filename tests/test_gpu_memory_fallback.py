"""nnlib.memtrace.measure_gpu_memory: the CPU fallback runs and says it is one; the
recorded-file reader (results/gpu_memory.json) accepts the documented fields."""

import json

import pytest
import torch

from nnlib import memtrace
from nnlib.errors import ConfigError

SIZES = (784, 128, 64, 10)
NO_GPU = not torch.cuda.is_available()


@pytest.mark.skipif(not NO_GPU, reason="a GPU is visible: the CUDA path runs instead")
def test_fallback_runs_and_says_so():
    r = memtrace.measure_gpu_memory(SIZES, batch=32, optimizer="adam")
    assert r["fallback"] is True and "fallback" in r["device"]
    assert list(r["configs"]) == ["train B=32 adam", "inference B=1", "inference B=32"]
    train = memtrace.measure_torch_step(SIZES, batch=32, optimizer="adam")["peak"]
    one = memtrace.measure_torch_inference(SIZES, batch=1)["peak"]
    assert r["configs"]["train B=32 adam"]["tensor_bytes"] == train
    assert r["configs"]["inference B=1"]["tensor_bytes"] == one
    for row in r["configs"].values():  # the CPU cannot see a caching allocator or context
        assert row["reserved_bytes"] is None and row["context_bytes"] is None
    lines = memtrace.format_gpu_memory(r)
    assert "fallback" in lines[0] and "no GPU here" in lines[0]
    assert "reserved" not in "".join(lines[1:])


@pytest.mark.skipif(not NO_GPU, reason="a GPU is visible")
def test_asking_for_cuda_without_a_gpu_is_an_error():
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        memtrace.measure_gpu_memory(SIZES, device="cuda")


def test_recorded_file(tmp_path):
    assert memtrace.load_gpu_memory(tmp_path / "none.json") is None
    row = {"tensor_bytes": 10, "reserved_bytes": 20, "context_bytes": 30}
    for layout in ({"configs": {"train": row}}, {"train": row},
                   {"results": [dict(row, label="train")]}):
        p = tmp_path / "gpu.json"
        p.write_text(json.dumps({"device": "H100", "date": "d", "command": "c", **layout}))
        rec = memtrace.load_gpu_memory(p)
        assert rec["device"] == "H100" and rec["configs"]["train"]["context_bytes"] == 30
        assert "reserved 20 B" in memtrace.format_gpu_memory(rec)[1]
    p.write_text(json.dumps({"device": "H100", "date": "d", "configs": {"train": row}}))
    with pytest.raises(ConfigError, match="command"):
        memtrace.load_gpu_memory(p)
