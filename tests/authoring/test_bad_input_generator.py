"""Bad input to the generator (make_chapters) and to recorded timings (probe 2026-12, N1, N2, N7)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
from primer.authoring import release as mc  # noqa: E402

from nnlib import timing  # noqa: E402
from nnlib.errors import ConfigError  # noqa: E402

NOTEBOOK = "00_welcome.ipynb"


@pytest.fixture
def src(tmp_path) -> Path:
    folder = tmp_path / "solutions"
    folder.mkdir()
    shutil.copy(REPO / "solutions" / NOTEBOOK, folder / NOTEBOOK)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(argv, capsys, *words):
    assert mc.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "nothing written" in err and "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("check", [False, True], ids=["write", "check"])
def test_dst_that_is_src_is_refused(src, capsys, check):
    before = snapshot(src)
    refused([src, src] + (["--check"] if check else []), capsys, "is the source folder",
            "would overwrite the solution notebooks", "primer release solutions chapters")
    assert snapshot(src) == before


def test_dst_that_is_src_through_a_symlink_is_refused(src, capsys):
    link = src.parent / "link"
    link.symlink_to(src, target_is_directory=True)
    before = snapshot(src)
    refused([src, link], capsys, "is the source folder", "after following symlinks")
    assert snapshot(src) == before


def test_dst_inside_src_is_refused(src, capsys):
    before = snapshot(src)
    refused([src, src / "release"], capsys, "lies inside the source folder")
    assert snapshot(src) == before and not (src / "release").exists()


def test_dst_that_contains_src_is_refused(src, capsys):
    before = snapshot(src.parent)
    refused([src, src.parent], capsys, "contains the source folder")
    assert snapshot(src.parent) == before


def test_library_call_refuses_too(src):
    with pytest.raises(mc.FolderError, match="overwrite the solution notebooks"):
        mc.make_chapters(src, src)


def test_empty_src_deletes_nothing(src, tmp_path, capsys):
    dst = tmp_path / "chapters"
    assert mc.main([str(src), str(dst)]) == 0
    capsys.readouterr()
    before = snapshot(dst)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a notebook")
    for args in ([empty, dst], [empty, dst, "--check"]):
        refused(args, capsys, "holds no notebook", "whole release would be deleted", "Check the SRC argument")
    assert snapshot(dst) == before


# --- N2: recorded timings -------------------------------------------------------

def test_save_results_keeps_the_old_record_when_a_row_cannot_be_written(tmp_path):
    path = tmp_path / "gpu.json"
    timing.save_results(path, [{"median_s": 0.0012}], command="python bench.py", device="H100 (recorded)")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"gpu.json as JSON: .*object.*file was left as it was"):
        timing.save_results(path, [{"t": object()}], command="python bench.py", device="cpu")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["gpu.json"], "no temporary file left behind"


def test_save_results_converts_numpy_scalars(tmp_path):
    path = tmp_path / "gpu.json"
    rows = [{"t": np.float32(1.5), "n": np.int64(3), "ts": np.array([1.0, 2.0])}]
    timing.save_results(path, rows, command="python bench.py", device="cpu")
    assert timing.load_results(path)["results"] == [{"t": 1.5, "n": 3, "ts": [1.0, 2.0]}]


@pytest.mark.parametrize("text, says", [("{'device': 1}", "not a valid recorded-timing file"),
                                        ('{"device": "cpu", "res', "not a valid recorded-timing file"),
                                        ("[1, 2]", "holds a JSON list")])
def test_load_results_names_the_file_when_it_is_malformed(tmp_path, text, says):
    path = tmp_path / "gpu.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"gpu.json: {says}.*record the timings again"):
        timing.load_results(path)


def test_load_results_of_a_folder_is_named(tmp_path):
    (tmp_path / "gpu.json").mkdir()
    with pytest.raises(ConfigError, match="gpu.json: cannot read it"):
        timing.load_results(tmp_path / "gpu.json")
