"""Tests for nnlib.data: IDX reading, the search order, downloads, errors, the real data.

Everything runs offline. Downloads go to a loopback HTTP server on 127.0.0.1 that
serves small IDX files made here; HOME, NNLIB_DATA and the system folder point into
tmp_path so no real cache is read or written. The real MNIST checks use the offline
copy in shared/data (or $NNLIB_DATA) and skip when it is absent.
"""

import gzip
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from nnlib import data
from nnlib.data import PartialDatasetWarning
from nnlib.errors import ConfigError, DataError, ShapeError

# Captured at import, before the autouse fixture clears NNLIB_DATA for each test.
SHARED = Path(os.environ.get("NNLIB_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
IGNORE_PARTIAL = pytest.mark.filterwarnings("ignore::nnlib.data.PartialDatasetWarning")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Isolate every test: fake HOME, no NNLIB_* variables, no proxies, no real mirrors."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("XDG_CACHE_HOME", "NNLIB_DATA", "NNLIB_OFFLINE", "NNLIB_MIRRORS", "HTTP_PROXY", "HTTPS_PROXY",
                "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(data, "SYSTEM_FOLDERS", {"fashion-mnist": tmp_path / "system"})
    monkeypatch.setattr(data, "MNIST_MIRRORS", ())  # a test must never reach a real host
    monkeypatch.setattr(data, "FASHION_MNIST_MIRRORS", ())
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 1.0)
    monkeypatch.setattr(data, "_WARNED", set())
    return tmp_path / "home" / ".cache" / "nnlib"


def make_split(folder, split="test", n=5, *, n_labels=None, gz=True, seed=0):
    """Write a small random split into ``folder``; return (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n if n_labels is None else n_labels, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    data.write_idx(folder / (NAMES[split][0] + suffix), images)
    data.write_idx(folder / (NAMES[split][1] + suffix), labels)
    return images, labels


# --- IDX format ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_idx_roundtrip(tmp_path, name, dtype):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    data.write_idx(tmp_path / name, array)
    got = data.read_idx(tmp_path / name)
    assert got.dtype == dtype and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 1  # writable, so students can modify what they load


def test_idx_magic_numbers_follow_the_mnist_format(tmp_path):
    data.write_idx(tmp_path / "img", np.zeros((2, 28, 28), np.uint8))
    data.write_idx(tmp_path / "lab", np.zeros(2, np.uint8))
    assert (tmp_path / "img").read_bytes()[:8] == bytes.fromhex("00000803 00000002")
    assert (tmp_path / "lab").read_bytes()[:8] == bytes.fromhex("00000801 00000002")


def test_read_idx_sniffs_gzip_regardless_of_name(tmp_path):
    data.write_idx(tmp_path / "x.gz", np.arange(7, dtype=np.uint8))
    (tmp_path / "x.gz").rename(tmp_path / "x-idx1-ubyte")  # compressed, but no .gz suffix
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x-idx1-ubyte"), np.arange(7))


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    data.write_idx(path, np.random.default_rng(0).integers(0, 256, (20, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(DataError, match=re.escape(str(path)) + " is a truncated gzip file"):
        data.read_idx(path)


def test_corrupted_gzip_crc(tmp_path):
    path = tmp_path / "labels.gz"
    data.write_idx(path, np.arange(10, dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF  # the stored CRC-32 no longer matches the content
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"labels\.gz is a corrupted gzip file \(CRC check failed"):
        data.read_idx(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "notes-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(DataError, match=r"notes-idx3-ubyte has magic number 0x12345678, which is not"):
        data.read_idx(path)


@pytest.mark.parametrize("extra, held", [(-784, "3,136"), (+3, "3,923")])
def test_header_counts_disagree_with_file_size(tmp_path, extra, held):
    path = tmp_path / "imgs"
    data.write_idx(path, np.zeros((5, 28, 28), np.uint8))
    raw = path.read_bytes()
    path.write_bytes(raw[:extra] if extra < 0 else raw + bytes(extra))
    with pytest.raises(DataError, match=rf"imgs: the header declares 5 x 28 x 28 values \(3,920 "
                                        rf"bytes of data\) but the file holds {held}"):
        data.read_idx(path)


def test_file_cut_inside_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(bytes.fromhex("00000803 0000"))
    with pytest.raises(DataError, match=r"short ends inside its IDX header \(6 bytes, the header needs 16\)"):
        data.read_idx(path)


def test_images_and_labels_of_different_lengths(tmp_path):
    make_split(tmp_path / "mnist", n=5, n_labels=4)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz has 5 images but "
                                        r"t10k-labels-idx1-ubyte\.gz has 4 labels"):
        data.load_mnist("test", root=tmp_path)


def test_labels_file_in_the_images_place(tmp_path):
    folder = tmp_path / "mnist"
    make_split(folder)
    data.write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz holds uint8 \[5\], not uint8 images"):
        data.load_mnist("test", root=tmp_path)


def test_label_out_of_range(tmp_path):
    folder = tmp_path / "mnist"
    make_split(folder)
    data.write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3, 10], np.uint8))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz contains label 10"):
        data.load_mnist("test", root=tmp_path)


# --- where data is found -----------------------------------------------------------

def test_search_paths_order(tmp_path, monkeypatch, cache):
    assert data.search_paths("mnist") == [cache / "mnist"]
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    assert data.search_paths("fashion-mnist") == [
        tmp_path / "nd" / "fashion-mnist", cache / "fashion-mnist", tmp_path / "system"]
    # A root= named by the caller is the only place searched.
    assert data.search_paths("fashion-mnist", root=tmp_path / "r") == [tmp_path / "r" / "fashion-mnist"]
    with pytest.raises(ConfigError, match="'mnist' or 'fashion-mnist'"):
        data.search_paths("cifar10")


@IGNORE_PARTIAL
def test_load_follows_the_search_order(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    make_split(cache / "mnist", n=3)
    assert len(data.load_mnist("test")[0]) == 3
    make_split(tmp_path / "nd" / "mnist", n=4, gz=False)  # un-gzipped names are accepted too
    assert len(data.load_mnist("test")[0]) == 4
    make_split(tmp_path / "r" / "mnist", n=5)
    assert len(data.load_mnist("test", root=tmp_path / "r")[0]) == 5


@IGNORE_PARTIAL
def test_system_folder_is_for_fashion_mnist_only(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLIB_OFFLINE", "1")
    images, _ = make_split(tmp_path / "system", split="train", n=6)
    np.testing.assert_array_equal(data.load_fashion_mnist("train")[0], images)
    with pytest.raises(DataError, match="MNIST \\(train split\\) was not found"):
        data.load_mnist("train")


def test_locate_needs_all_four_files(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    assert data.locate("mnist") is None
    make_split(tmp_path / "nd" / "mnist", split="test")  # only half of the data set
    make_split(cache / "mnist", split="test", gz=False)
    make_split(cache / "mnist", split="train")
    assert data.locate("mnist") == cache / "mnist"
    make_split(tmp_path / "nd" / "mnist", split="train")
    assert data.locate("mnist") == tmp_path / "nd" / "mnist"


def test_offline_and_nothing_found(tmp_path, monkeypatch, cache, server):
    monkeypatch.setenv("NNLIB_OFFLINE", "1")
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    monkeypatch.setattr(data, "MNIST_MIRRORS", (server.url + "/good/",))
    with pytest.raises(DataError, match=r"downloads are disabled \(NNLIB_OFFLINE=1\)") as info:
        data.load_mnist("test")
    message = str(info.value)
    for folder in (tmp_path / "nd" / "mnist", cache / "mnist"):
        assert str(folder) in message
    assert "export NNLIB_DATA=/path/to/folder-containing-mnist/" in message
    assert "d.load_mnist('train'); d.load_mnist('test')" in message
    assert server.requests == []  # offline means not even one request


def test_download_false_is_offline_too(tmp_path):
    with pytest.raises(DataError, match=r"downloads are disabled \(download=False\)"):
        data.load_fashion_mnist("test", download=False)
    assert not (tmp_path / "home").exists()  # nothing was created either


def test_bad_split_name():
    with pytest.raises(ConfigError, match="'train' or 'test'"):
        data.load_mnist("validation")


# --- partial splits ------------------------------------------------------------------

def test_partial_split_warns_once_per_folder_and_split(tmp_path):
    make_split(tmp_path / "mnist", split="train", n=7)
    make_split(tmp_path / "mnist", split="test", n=7)
    pattern = rf"MNIST train split in {re.escape(str(tmp_path / 'mnist'))} has 7 images, not the official 60,000"
    with pytest.warns(PartialDatasetWarning, match=pattern):
        data.load_mnist("train", root=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        data.load_mnist("train", root=tmp_path)
    with pytest.warns(PartialDatasetWarning, match="test split .* not the official 10,000"):
        data.load_mnist("test", root=tmp_path)


# --- downloads from a loopback server ----------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server
        srv.requests.append(self.path)
        if self.path.startswith("/hang/"):
            srv.release.wait(timeout=10)  # bounded even if the finalizer never runs
            return
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.path.startswith("/short/") else body)

    def log_message(self, *args):
        pass


def _stop(srv):
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 with ``files`` {path: bytes}; logs ``requests``."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.requests, srv.release = {}, [], threading.Event()
    srv.url = f"http://127.0.0.1:{srv.server_port}"
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    safety = threading.Timer(60, _stop, args=(srv,))  # in case a test hangs
    safety.daemon = True
    safety.start()
    yield srv
    safety.cancel()
    _stop(srv)


def publish(server, monkeypatch, tmp_path, *, corrupt=False):
    """Serve a small MNIST test split under /good/, /short/ and /hang/ with matching hashes."""
    images, labels = make_split(tmp_path / "upstream", n=4, seed=1)
    hashes = {}
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        body = (tmp_path / "upstream" / name).read_bytes()
        hashes[name] = hashlib.sha256(body).hexdigest()
        if corrupt:
            body = body[:40] + bytes([body[40] ^ 1]) + body[41:]
        for prefix in ("/good/", "/short/", "/hang/"):
            server.files[prefix + name] = body
    monkeypatch.setitem(data.SHA256, "mnist", hashes)
    return images, labels


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens here now: connection refused


def test_download_lands_verified_in_the_cache(tmp_path, monkeypatch, cache, server):
    images, labels = publish(server, monkeypatch, tmp_path)
    monkeypatch.setattr(data, "MNIST_MIRRORS", (server.url + "/good/",))
    with pytest.warns(PartialDatasetWarning, match=re.escape(str(cache / "mnist"))):
        got_images, got_labels = data.load_mnist("test")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    data.load_mnist("test")  # now served from the cache
    assert len(server.requests) == 2


@pytest.mark.parametrize("prefix, problem", [
    ("/good/", r"SHA-256 mismatch \(expected \w+\.\.\., got \w+\.\.\.\)"),  # a corrupted byte
    ("/short/", r"connection closed after \d+ bytes, \d+ short"),           # a cut-off transfer
])
def test_bad_download_is_rejected_and_not_cached(tmp_path, monkeypatch, cache, server, prefix, problem):
    publish(server, monkeypatch, tmp_path, corrupt=prefix == "/good/")
    monkeypatch.setattr(data, "MNIST_MIRRORS", (server.url + prefix,))
    url = re.escape(f"{server.url}{prefix}t10k-images-idx3-ubyte.gz: ")
    with pytest.raises(DataError, match=r"every mirror failed for t10k-images-idx3-ubyte\.gz(.|\n)*" + url + problem):
        data.load_mnist("test")
    assert list((cache / "mnist").iterdir()) == []  # no partial or temporary file left


@IGNORE_PARTIAL
@pytest.mark.parametrize("first", ["404", "refused"])
def test_failed_mirror_falls_through_to_the_next(tmp_path, monkeypatch, server, first):
    images, _ = publish(server, monkeypatch, tmp_path)
    bad = server.url + "/missing/" if first == "404" else closed_port_url()
    monkeypatch.setattr(data, "MNIST_MIRRORS", (bad, server.url + "/good/"))
    np.testing.assert_array_equal(data.load_mnist("test")[0], images)
    prefixes = ["/missing/", "/good/"] if first == "404" else ["/good/"]
    assert server.requests == [p + name for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
                               for p in prefixes]


def test_hanging_server_times_out(tmp_path, monkeypatch, cache, server):
    publish(server, monkeypatch, tmp_path)
    monkeypatch.setattr(data, "MNIST_MIRRORS", (server.url + "/hang/",))
    start = time.monotonic()
    with pytest.raises(DataError, match=re.escape(f"{server.url}/hang/t10k-images-idx3-ubyte.gz: "
                                                  "no answer within 1 s")):
        data.load_mnist("test")
    assert time.monotonic() - start < 8
    assert list((cache / "mnist").iterdir()) == []


def test_every_mirror_failed_lists_urls_and_fix(tmp_path, monkeypatch, server):
    publish(server, monkeypatch, tmp_path)
    refused = closed_port_url()
    monkeypatch.setattr(data, "MNIST_MIRRORS", (server.url + "/missing/", refused))
    with pytest.raises(DataError) as info:
        data.load_mnist("test")
    message = str(info.value)
    assert f"{server.url}/missing/t10k-images-idx3-ubyte.gz: HTTP 404 Not Found" in message
    assert re.search(re.escape(refused) + r"t10k-images-idx3-ubyte\.gz: ConnectionError: .*refused", message)
    assert "export NNLIB_DATA=" in message and "python -c \"import nnlib.data as d;" in message


# --- helpers for training --------------------------------------------------------------

def test_flatten_and_scale():
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 0, 0], images[1, 27, 27] = 255, 51
    X = data.flatten_and_scale(images)
    assert X.shape == (2, 784) and X.dtype == np.float32
    assert X[0, 0] == 1.0 and X[1, 783] == np.float32(0.2) and X.min() == 0.0
    assert data.flatten_and_scale(images, dtype=np.float64).dtype == np.float64
    with pytest.raises(DataError, match="expects the uint8 images"):
        data.flatten_and_scale(X)
    with pytest.raises(ShapeError):
        data.flatten_and_scale(np.zeros(3, np.uint8))


def test_train_val_split():
    X, y = np.arange(200).reshape(100, 2), np.arange(100)
    X_tr, y_tr, X_val, y_val = data.train_val_split(X, y, val_size=0.1, seed=3)
    assert (len(y_tr), len(y_val)) == (90, 10)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay paired with labels
    np.testing.assert_array_equal(X_val[:, 0] // 2, y_val)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(100))
    assert np.all(np.diff(y_tr) > 0)  # original order kept
    assert y_val.tolist() == data.train_val_split(X, y, val_size=0.1, seed=3)[3].tolist()
    assert y_val.tolist() != data.train_val_split(X, y, val_size=0.1, seed=4)[3].tolist()
    assert len(data.train_val_split(X, y, val_size=25)[3]) == 25
    for bad in (0, 1.5, 100, -0.2, True):
        with pytest.raises(ConfigError):
            data.train_val_split(X, y, val_size=bad)
    with pytest.raises(ShapeError):
        data.train_val_split(X, y[:-1])


def test_class_names():
    assert data.MNIST_CLASSES == [str(d) for d in range(10)]
    assert len(data.FASHION_MNIST_CLASSES) == 10
    assert data.FASHION_MNIST_CLASSES[0] == "T-shirt/top" and data.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_import_is_light():
    code = "import sys, nnlib.data; print(sorted({'pooch', 'requests', 'tqdm'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert out.stdout.strip() == "[]"


# --- the real data --------------------------------------------------------------------

needs_shared = pytest.mark.skipif(not (SHARED / "mnist").is_dir(),
                                  reason=f"offline MNIST not found in {SHARED}/mnist (set NNLIB_DATA)")


@needs_shared
def test_real_mnist_test_split(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLIB_DATA", str(SHARED))
    monkeypatch.setenv("NNLIB_OFFLINE", "1")
    images, labels = data.load_mnist("test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.uint8
    assert labels[:8].tolist() == [7, 2, 1, 0, 4, 1, 4, 9]
    # Written back as IDX, the arrays are byte-for-byte the canonical decompressed files.
    data.write_idx(tmp_path / "images", images)
    data.write_idx(tmp_path / "labels", labels)
    assert hashlib.md5((tmp_path / "images").read_bytes()).hexdigest() == "2646ac647ad5339dbf082846283269ea"
    assert hashlib.md5((tmp_path / "labels").read_bytes()).hexdigest() == "27ae3e4e09519cfbb04c329615203637"


@needs_shared
def test_real_mnist_partial_train_split(monkeypatch):
    monkeypatch.setenv("NNLIB_DATA", str(SHARED))
    monkeypatch.setenv("NNLIB_OFFLINE", "1")
    with pytest.warns(PartialDatasetWarning, match=r"MNIST train split in " + re.escape(str(SHARED / "mnist"))
                      + r" has 10,000 images, not the official 60,000"):
        images, labels = data.load_mnist("train")
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    assert data.locate("mnist") == SHARED / "mnist"


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_debian(monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_FOLDERS", {"fashion-mnist": DEBIAN_FASHION})
    monkeypatch.setenv("NNLIB_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PartialDatasetWarning)  # the full set must not warn
        train_images, train_labels = data.load_fashion_mnist("train")
        test_images, test_labels = data.load_fashion_mnist("test")
    assert train_images.shape == (60_000, 28, 28) and test_images.shape == (10_000, 28, 28)
    assert np.bincount(train_labels).tolist() == [6000] * 10
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert data.locate("fashion-mnist") == DEBIAN_FASHION
