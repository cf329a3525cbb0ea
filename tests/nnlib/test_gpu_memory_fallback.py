"""GPU memory is measured in one place, nnlib.gpukit.measure_config: its CPU fallback runs
and says it is one; a gpu_memory.json written by the kit's code path is what notebook 08's
GPU cell shows (gpukit.load_results / describe / memory_lines), and without a recorded
file the cell says so and how to record one."""

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch

from nnlib import gpukit, memtrace

ROOT = Path(__file__).resolve().parents[2]
NO_GPU = not torch.cuda.is_available()
MARK = 'gpukit.load_results("gpu_memory")'


def _cell_08():
    """The source of 08's GPU-results cell (solutions/, the single source)."""
    nb = json.loads((ROOT / "solutions" / "08_memory.ipynb").read_text(encoding="utf-8"))
    hits = ["".join(c["source"]) for c in nb["cells"]
            if c["cell_type"] == "code" and MARK in "".join(c["source"])]
    assert len(hits) == 1, f"08 must have one cell that calls {MARK}"
    return hits[0]


def _run_cell_08():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_cell_08(), "08_memory.ipynb:gpu", "exec"), {})
    return out.getvalue()


@pytest.mark.skipif(not NO_GPU, reason="a GPU is visible: the CUDA path runs instead")
def test_fallback_runs_and_says_so():
    backend = gpukit.pick_backend()
    assert backend.fallback
    got = gpukit.measure_config(backend, optimizer="adam", batch=32, phase="train")
    assert got == {"tensor_bytes": memtrace.measure_torch_step(
                       gpukit.SIZES, batch=32, optimizer="adam")["peak"],
                   "reserved_bytes": None, "context_bytes": None, "workspace_bytes": None}
    one = gpukit.measure_config(backend, optimizer=None, batch=1, phase="inference")
    assert one["tensor_bytes"] == memtrace.measure_torch_inference(gpukit.SIZES,
                                                                   batch=1)["peak"]
    notes = gpukit.run_notes(backend, quick=False, context=False,
                             device={"name": "cpu"})["memory"]
    assert any("CPU fallback" in n and "workspace_bytes" in n for n in notes)
    assert not hasattr(memtrace, "measure_gpu_memory")      # one measurement, not two


def test_cell_08_without_a_record(monkeypatch, tmp_path):
    monkeypatch.setattr(gpukit, "RESULTS_DIR", tmp_path)
    text = _run_cell_08()
    assert "No GPU measurement has been recorded" in text
    assert "make gpu" in text and "python benchmarks/gpu.py" in text


@pytest.mark.skipif(not NO_GPU, reason="a GPU is visible: the CUDA path runs instead")
def test_cell_08_shows_a_kit_record(monkeypatch, tmp_path):
    backend = gpukit.pick_backend()
    device = gpukit.fingerprint(backend)
    notes = gpukit.run_notes(backend, quick=True, context=False, device=device)
    record = gpukit.memory_record(backend, command="python benchmarks/gpu.py",
                                  device=device, notes=notes["memory"])
    written = gpukit.write_record(record, name="gpu_memory", folder=tmp_path / "cpu")
    assert json.loads(written.read_text())["fallback"] is True
    # Pretend it came from CUDA (only those may live in results/), then show it as 08 does.
    results = tmp_path / "results"
    gpukit.write_record(dict(record, fallback=False), name="gpu_memory", folder=results)
    monkeypatch.setattr(gpukit, "RESULTS_DIR", results)
    text = _run_cell_08()
    shown = gpukit.load_results("gpu_memory")
    assert text.startswith(f"measured on {device['name']}, {shown['date']}")
    assert gpukit.describe(shown) in text and "not a GPU measurement" not in text
    assert "No GPU measurement" not in text
    assert [r["tensor_bytes"] for r in shown["configs"]] == \
        [r["tensor_bytes"] for r in record["configs"]]
    for row in record["configs"]:
        assert f"measured {row['tensor_bytes']:>11,} B" in text
    assert len(record["configs"]) == len(gpukit.memory_configs())
    assert set(record["configs"][0]) == set(gpukit.CONFIG_KEYS)
