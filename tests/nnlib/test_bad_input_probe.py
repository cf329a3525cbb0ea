"""nnlib bad input from the probe of 2026-12: confidence (N5), data loader (N6, N9), N8."""
from __future__ import annotations

import gzip
import os
import signal
import warnings

import numpy as np
import pytest

from nnlib import confidence, data
from nnlib.errors import ConfigError, DataError
from test_data import make_split  # noqa: F401

CONF = np.array([0.9, 0.8, 0.6, 0.99])
OK = np.array([True, False, True, True])


# --- N5: confidence ------------------------------------------------------------------

@pytest.mark.parametrize("correct, says", [
    (np.array([3, 0, 7, 1]), r"correct must be booleans.*int64.*pred == y"),
    (np.array(["yes", "no", "yes", "no"]), r"correct must be booleans.*'no'"),
    (np.array([1.0, 0.0, 1.0, 1.0]), r"correct must be booleans.*astype\(bool\)"),
])
def test_correct_must_be_booleans(correct, says):
    for call in (lambda: confidence.threshold_sweep(CONF, correct, [0.5]),
                 lambda: confidence.choose_threshold(CONF, correct, max_error=0.1),
                 lambda: confidence.reliability(CONF, correct),
                 lambda: confidence.simulate_zip(CONF, correct, threshold=0.5, letters=10)):
        with pytest.raises(ConfigError, match=says):
            call()


@pytest.mark.parametrize("call, says", [
    (lambda: confidence.zip_rates(1.5, 0.01), r"digit_automation must be a rate in \[0, 1\], got 1.5"),
    (lambda: confidence.zip_rates(0.9, -0.1), r"digit_error must be a rate in \[0, 1\]"),
    (lambda: confidence.zip_rates(0.9, float("nan")), r"digit_error must be a rate"),
    (lambda: confidence.zip_rates("0.9", 0.01), r"must be a number in \[0, 1\].*str"),
    (lambda: confidence.zip_rates(0.9, 0.01, digits=0), r"digits must be a whole number >= 1, got 0"),
    (lambda: confidence.zip_rates(0.9, 0.01, digits=2.5), r"digits must be a whole number"),
    (lambda: confidence.choose_threshold(CONF, OK, max_error="0.01"), r"max_error must be a number.*'0.01'"),
    (lambda: confidence.choose_threshold(CONF, OK, max_error=float("nan")), r"max_error must be a rate"),
    (lambda: confidence.simulate_zip(CONF, OK, threshold=0.5, letters=0), r"letters must be a whole number >= 1"),
    (lambda: confidence.simulate_zip(CONF, OK, threshold=0.5, digits=0), r"digits must be a whole number"),
    (lambda: confidence.simulate_zip(CONF, OK, threshold=float("nan")), r"threshold must be a number"),
    (lambda: confidence.reliability(CONF, OK, bins=0), r"bins must be a whole number >= 1, got 0"),
    (lambda: confidence.reliability(CONF, OK, bins=2.5), r"bins must be a whole number"),
    (lambda: confidence.threshold_sweep(CONF, OK, "abc"), r"thresholds must be numbers"),
    (lambda: confidence.threshold_sweep(CONF, OK, [0.5, np.nan]), r"1 threshold\(s\) are NaN"),
    (lambda: confidence.threshold_sweep(["a", "b", "c", "d"], OK, [0.5]), r"confidence must hold numbers"),
], ids=lambda x: "" if callable(x) else x[:40])
def test_confidence_arguments(call, says):
    with pytest.raises(ConfigError, match=says):
        call()


def test_good_calls_still_work():
    assert confidence.zip_rates(np.float64(0.9), 0, digits=np.int64(2)) == pytest.approx((0.81, 0.0))
    assert confidence.threshold_sweep(CONF, OK, [0.0, np.inf])["accepted"].tolist() == [4, 0]
    assert confidence.choose_threshold(CONF, OK, max_error=0) == 0.9
    assert confidence.reliability(CONF, OK, bins=np.int64(2))["count"].tolist() == [0, 4]


# --- N6 / N9: data loader --------------------------------------------------------------

@pytest.fixture
def no_block():
    """Fail instead of hanging if something opens a FIFO."""
    def blocked(signum, frame):
        raise TimeoutError("the loader opened a FIFO and blocked")
    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifo_named_like_a_data_file_is_skipped_not_opened(tmp_path, no_block):
    make_split(tmp_path / "mnist")
    images = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    images.unlink()
    os.mkfifo(images)
    with pytest.warns(UserWarning, match=r"t10k-images-idx3-ubyte.gz is a FIFO \(named pipe\), not a data "
                                         r"file: skipped"):
        with pytest.raises(DataError, match="holds t10k-labels"):
            data.load_mnist("test", root=tmp_path, download=False)
    with pytest.raises(DataError, match=r"it is a FIFO \(named pipe\), not a data file"):
        data.read_idx(images)


def test_dangling_symlink_is_named_as_such(tmp_path, no_block):
    make_split(tmp_path / "mnist")
    images = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    images.unlink()
    images.symlink_to(tmp_path / "gone.gz")
    with pytest.warns(UserWarning, match=r"a symlink to .*gone.gz, which does not exist \(a dangling link\)"):
        with pytest.raises(DataError) as info:
            data.load_mnist("test", root=tmp_path, download=False)
    assert "permission" not in str(info.value)
    with pytest.raises(DataError, match="dangling link"):
        data.read_idx(images)


def test_folder_named_like_a_data_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.mkdir()
    with pytest.raises(DataError, match="it is a folder, not a data file"):
        data.read_idx(path)


def test_locate_warns_about_an_unreadable_folder(tmp_path, monkeypatch):
    """sysinfo.report() calls locate: an unreadable folder is named, not 'not found' in silence."""
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    make_split(tmp_path / "mnist")
    real = os.listdir

    def denied(path="."):
        if str(path) == str(tmp_path / "mnist"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(data.os, "listdir", denied)             # root ignores chmod 000
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data.locate("mnist")
    assert any("cannot read the folder" in str(w.message) and "Permission denied" in str(w.message)
               for w in caught)


def header(magic_type, dims):
    return bytes([0, 0, magic_type, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)


def test_labels_header_on_an_images_file_is_named(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(header(0x08, [10]) + bytes(10 * 28 * 28))
    with pytest.raises(DataError, match=r"header \(magic 0x00000801, labels \(1-D\)\) does not belong "
                                        r"to this data, e.g. a labels header on an images file"):
        data.read_idx(path)


def test_wrong_type_byte_is_named(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(header(0x0D, [10, 28, 28]) + bytes(10 * 28 * 28))
    with pytest.raises(DataError, match=r"type byte 0x0D says float32 \(4 bytes per value\).*one byte per "
                                        r"value.*uint8, 0x08"):
        data.read_idx(path)


def test_gzip_of_nothing_is_named(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(DataError, match=r"gzip file whose content is empty \(0 bytes once decompressed\)"):
        data.read_idx(path)


# --- N8: raw errors that are now clear ----------------------------------------------

from nnlib import MLP, seeding, train  # noqa: E402
from nnlib.errors import ShapeError  # noqa: E402


@pytest.mark.parametrize("n", [-1, "abc", 2**40, 1.5, True])
def test_seed_refuses_what_numpy_cannot_take(n):
    with pytest.raises(ConfigError, match=r"seed: n must be a whole number from 0 to 2\*\*32 - 1"):
        seeding.seed(n)


def test_flatten_and_scale_of_an_empty_batch():
    with pytest.raises(ShapeError, match="the batch is empty"):
        data.flatten_and_scale(np.zeros((0, 28, 28), np.uint8))


@pytest.mark.parametrize("X, y, says", [(np.ones((5, 4)), np.zeros(3, int), "X has 5 examples but y has 3"),
                                        (np.ones((0, 4)), np.zeros(0, int), "X is empty")])
def test_evaluate_mismatched_or_empty(X, y, says):
    with pytest.raises(ShapeError, match=says):
        train.evaluate(MLP((4, 3, 2), seed=0), X, y)


@pytest.mark.parametrize("kwargs, says", [({"model": None}, "model must be an nnlib MLP"),
                                          ({"seed": "x"}, "seed must be a whole number")])
def test_fit_refuses_a_missing_model_or_a_bad_seed(kwargs, says):
    args = {"model": MLP((4, 3, 2), seed=0), "seed": 0} | kwargs
    with pytest.raises(ConfigError, match=says):
        train.fit(args["model"], np.ones((4, 4)), np.zeros(4, int), epochs=1, batch_size=2,
                  lr=0.1, seed=args["seed"], progress=False)
