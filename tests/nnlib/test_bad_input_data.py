"""Bad input to nnlib.data gets a clear DataError/ConfigError naming the folder, file or
argument and saying how to fix it (issue 16). Everything runs offline: downloads go to a
bounded loopback server on 127.0.0.1 started here, never to another address.
"""

import gzip
import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from nnlib import data, sysinfo
from nnlib.errors import ConfigError, DataError, ShapeError
from test_data import NAMES, cache, make_split  # noqa: F401 -- cache is the isolating autouse fixture

IGNORE_PARTIAL = pytest.mark.filterwarnings("ignore::nnlib.data.PartialDatasetWarning")
IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


def clear(info, kind, *patterns):
    """The error is ``kind`` and its message matches every pattern (the name, the fix)."""
    assert info.type is kind or issubclass(info.type, kind), info.type
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"


# --- an explicit root= is exclusive ------------------------------------------------------

@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Data in $NNLIB_DATA that a wrong root= must never silently fall back to."""
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    monkeypatch.setenv("NNLIB_OFFLINE", "1")
    make_split(tmp_path / "nd" / "mnist")


def test_root_that_does_not_exist(tmp_path, elsewhere):
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path / "typo")
    clear(info, DataError, re.escape(str(tmp_path / "typo")), "does not exist", "typos")


def test_root_that_is_empty(tmp_path, elsewhere):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path / "empty")
    clear(info, DataError, re.escape(str(tmp_path / "empty" / "mnist")), "was not found",
          "To fix it", "copy the files into")
    assert str(tmp_path / "nd") not in str(info.value)  # only the named folder was searched


@pytest.mark.parametrize("kept", [0, 1])
def test_root_with_one_of_the_two_files(tmp_path, elsewhere, kept):
    make_split(tmp_path / "r" / "mnist")
    gone = NAMES["test"][1 - kept]
    (tmp_path / "r" / "mnist" / (gone + ".gz")).unlink()
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path / "r")
    clear(info, DataError, re.escape(str(tmp_path / "r" / "mnist")), rf"but not {gone}",
          "Copy the missing file")


@pytest.mark.parametrize("has_files", [True, False])
def test_root_pointing_at_the_dataset_folder_itself(tmp_path, elsewhere, has_files):
    (tmp_path / "p" / "mnist").mkdir(parents=True)
    if has_files:
        make_split(tmp_path / "p" / "mnist")
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path / "p" / "mnist")
    clear(info, DataError, "is the mnist/ folder itself", re.escape(f"root={str(tmp_path / 'p')!r}"))


@IGNORE_PARTIAL
def test_root_with_the_data_is_used(tmp_path, elsewhere):
    make_split(tmp_path / "r" / "mnist", n=3)
    assert len(data.load_mnist("test", root=tmp_path / "r")[1]) == 3
    assert data.locate("mnist", root=tmp_path / "r") is None  # the train split is not there


@pytest.mark.parametrize("call, kind, name", [
    (lambda: data.load_mnist("test", root=123), ConfigError, "root must be a folder path"),
    (lambda: data.load_mnist("test", root=""), ConfigError, "root must be a folder path"),
    (lambda: data.load_mnist(0), ConfigError, "split must be 'train' or 'test'"),
    (lambda: data.load_mnist(["train"]), ConfigError, "split must be 'train' or 'test'"),
    (lambda: data.load_mnist("test", download="no"), ConfigError, "download must be True or False"),
    (lambda: data.search_paths(["mnist"]), ConfigError, "dataset must be 'mnist' or 'fashion-mnist'"),
    (lambda: data.flatten_and_scale(np.zeros((2, 28, 28), np.uint8), dtype="flaot"), ConfigError,
     "dtype must be a float type such as np.float32"),
    (lambda: data.flatten_and_scale(np.zeros(3, np.uint8)), ShapeError, "Pass the images array"),
    (lambda: data.train_val_split(np.zeros((4, 2)), np.zeros(4), seed="a"), ConfigError,
     "seed must be a non-negative integer"),
    (lambda: data.train_val_split(3, 4), ShapeError, "one row per example"),
    (lambda: data.train_val_split(np.zeros((4, 2)), np.zeros(4), val_size=float("nan")), ConfigError,
     "val_size=nan"),
])
def test_bad_arguments(call, kind, name):
    with pytest.raises(kind) as info:
        call()
    clear(info, kind, re.escape(name))


# --- unreadable folders and files ------------------------------------------------------------

@pytest.fixture
def deny(monkeypatch):
    """Make ``deny(path)`` unreadable. Tests run as root, where chmod 000 denies nothing."""
    denied = set()
    real_listdir, real_access = os.listdir, os.access

    def listdir(path):
        if str(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)

    def access(path, mode, **kw):
        return str(path) not in denied and real_access(path, mode, **kw)

    monkeypatch.setattr(data.os, "listdir", listdir)
    monkeypatch.setattr(data.os, "access", access)
    return lambda path: denied.add(str(path))


@IGNORE_PARTIAL
@pytest.mark.parametrize("what", ["folder", "file"])
def test_unreadable_place_is_skipped_without_root(tmp_path, monkeypatch, cache, deny, what):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    make_split(tmp_path / "nd" / "mnist", n=4)
    make_split(cache / "mnist", n=3)
    bad = tmp_path / "nd" / "mnist" / (IMAGES if what == "file" else "")
    deny(str(bad).rstrip("/"))
    with pytest.warns(UserWarning, match=re.escape(str(bad).rstrip("/")) + ".*chmod.*Skipped"):
        images, _ = data.load_mnist("test")
    assert len(images) == 3  # fell through to the cache
    assert data.locate("mnist") is None  # and locate() does not crash either


@pytest.mark.parametrize("what", ["folder", "file"])
def test_unreadable_root_is_an_error(tmp_path, deny, what):
    make_split(tmp_path / "r" / "mnist")
    bad = tmp_path / "r" / "mnist" / (IMAGES if what == "file" else "")
    deny(str(bad).rstrip("/"))
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path / "r")
    clear(info, DataError, "cannot read", re.escape(str(bad).rstrip("/")), "chmod")


def test_sysinfo_report_survives_an_unreadable_folder(tmp_path, monkeypatch, deny, capsys):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "nd"))
    make_split(tmp_path / "nd" / "mnist")
    deny(tmp_path / "nd" / "mnist")
    assert sysinfo.data_locations() == {"mnist": None, "fashion-mnist": None}  # skipped, no crash
    monkeypatch.setattr(data, "locate", lambda name: (_ for _ in ()).throw(DataError("boom")))
    info = sysinfo.report()
    assert info["data"]["mnist"] == "error: boom"
    assert "error: boom" in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file; covered by the deny fixture")
def test_really_unreadable_file(tmp_path):
    make_split(tmp_path / "r" / "mnist")
    (tmp_path / "r" / "mnist" / IMAGES).chmod(0)
    with pytest.raises(DataError, match="cannot read .*chmod"):
        data.load_mnist("test", root=tmp_path / "r")


# --- damaged files ---------------------------------------------------------------------------

def test_zero_byte_file(tmp_path):
    make_split(tmp_path / "mnist")
    (tmp_path / "mnist" / IMAGES).write_bytes(b"")
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path)
    clear(info, DataError, re.escape(IMAGES) + r" is empty \(0 bytes\)", "Delete it and load again")


@pytest.mark.parametrize("swap", ["labels as images", "images as labels"])
def test_header_of_the_other_kind(tmp_path, swap):
    folder = tmp_path / "mnist"
    make_split(folder)
    if swap == "labels as images":
        data.write_idx(folder / IMAGES, np.zeros(5, np.uint8))
        pattern = re.escape(IMAGES) + ".*IDX labels header.*labels file under the images name"
    else:
        data.write_idx(folder / LABELS, np.zeros((5, 28, 28), np.uint8))
        pattern = re.escape(LABELS) + ".*IDX images header.*images file under the labels name"
    with pytest.raises(DataError) as info:
        data.load_mnist("test", root=tmp_path)
    clear(info, DataError, pattern, "Put the right file in its place")


def _bomb(path, declared, actual):
    """A small gzip whose IDX header declares ``declared`` uint8s and which holds ``actual``."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(bytes([0, 0, 8, 1]) + declared.to_bytes(4, "big"))
        zeros = bytes(1 << 20)
        for _ in range(actual >> 20):
            f.write(zeros)


@pytest.mark.parametrize("declared, actual, says", [
    (1 << 30, 8 << 20, "more than max_bytes=268,435,456.*max_bytes=\\.\\.\\."),  # honest huge header
    (10, 64 << 20, "declares 10 values .* holds more than 10"),                   # lying small header
])
def test_gzip_bomb_is_refused_without_decompressing_it(tmp_path, declared, actual, says):
    path = tmp_path / "bomb.gz"
    _bomb(path, declared, actual)
    assert path.stat().st_size < 400_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            data.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    clear(info, DataError, "bomb.gz", says)
    assert peak < 8 << 20  # at most the declared size plus 1 MiB was ever decompressed


@pytest.mark.parametrize("call, pattern", [
    (lambda p: data.read_idx(p / "nope.gz"), r"cannot read .*nope\.gz: No such file.*Check the path"),
    (lambda p: data.write_idx(p / "no" / "dir" / "x.gz", np.zeros(3, np.uint8)),
     r"cannot write .*x\.gz.*folder exists"),
])
def test_missing_paths(tmp_path, call, pattern):
    with pytest.raises(DataError, match=pattern):
        call(tmp_path)


# --- downloads: a bounded loopback server ------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        srv, path = self.server, self.path
        name = path.rsplit("/", 1)[-1]
        body = srv.files.get(name)
        if body is None or path.startswith("/missing/"):
            self.send_error(404)
            return
        mode = path.split("/")[1]
        self.send_response(200)
        if mode in ("gzipenc", "double"):
            self.send_header("Content-Encoding", "gzip")
            body = gzip.compress(body) if mode == "double" else body
        if mode == "huge":
            self.send_header("Content-Length", str(10 * len(body) + 10_000))
        elif mode not in ("endless", "drip"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self._send(mode, body, srv)
        except OSError:
            pass  # the client hung up, as it should

    def _send(self, mode, body, srv):
        if mode == "drip":  # one byte every 50 ms, never finishing (bounded by srv.stop)
            for i in range(2000):
                if srv.stop.wait(0.05):
                    return
                self.wfile.write(body[i % len(body):][:1])
                self.wfile.flush()
        elif mode == "endless":  # far more than the published size, with no Content-Length
            for _ in range(400):
                self.wfile.write(bytes(1 << 16))
                srv.sent += 1 << 16
        else:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves a small MNIST test split under /<mode>/<name>, with matching hashes and sizes."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.stop, srv.sent, srv.files = threading.Event(), 0, {}
    srv.url = f"http://127.0.0.1:{srv.server_port}"
    srv.images, srv.labels = make_split(tmp_path / "upstream", n=4, seed=1)
    for name in (IMAGES, LABELS):
        srv.files[name] = (tmp_path / "upstream" / name).read_bytes()
    monkeypatch.setitem(data.SHA256, "mnist", {n: hashlib.sha256(b).hexdigest() for n, b in srv.files.items()})
    monkeypatch.setitem(data.PUBLISHED_BYTES, "mnist", {n: len(b) for n, b in srv.files.items()})
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    safety = threading.Timer(60, srv.shutdown)  # in case a test hangs
    safety.daemon = True
    safety.start()
    yield srv
    safety.cancel()
    srv.stop.set()
    srv.shutdown()
    srv.server_close()


def use(monkeypatch, server, mode):
    monkeypatch.setattr(data, "MNIST_MIRRORS", (f"{server.url}/{mode}/",))


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_deadline_stops_a_dripping_server(monkeypatch, cache, server):
    use(monkeypatch, server, "drip")
    monkeypatch.setattr(data, "DOWNLOAD_DEADLINE", 0.5)
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        data.load_mnist("test")
    clear(info, DataError, re.escape(f"{server.url}/drip/{IMAGES}"), r"0\.5 s deadline",
          "NNLIB_MIRRORS to a faster mirror")
    assert time.monotonic() - start < 5
    assert leftovers(cache / "mnist") == []


@pytest.mark.parametrize("mode, says", [
    ("huge", r"the server announces \d[\d,]* bytes but the official file has [\d,]+; not the official file"),
    ("endless", r"more than the official [\d,]+ bytes arrived"),
])
def test_size_cap(monkeypatch, cache, server, mode, says):
    use(monkeypatch, server, mode)
    with pytest.raises(DataError) as info:
        data.load_mnist("test")
    clear(info, DataError, re.escape(f"{server.url}/{mode}/{IMAGES}: ") + says, "To fix it")
    assert leftovers(cache / "mnist") == []
    assert server.sent < 20 << 20  # cut off early, not written in full


@IGNORE_PARTIAL
@pytest.mark.parametrize("mode", ["gzipenc", "double"])
def test_content_encoding_gzip_gets_the_raw_file(monkeypatch, server, mode):
    use(monkeypatch, server, mode)
    images, labels = data.load_mnist("test")
    np.testing.assert_array_equal(images, server.images)
    np.testing.assert_array_equal(labels, server.labels)


@IGNORE_PARTIAL
def test_mirrors_variable_replaces_the_built_in_mirrors(monkeypatch, server):
    monkeypatch.setattr(data, "MNIST_MIRRORS", ("http://127.0.0.1:9/never/",))
    monkeypatch.setenv("NNLIB_MIRRORS", f"{server.url}/missing/ {server.url}/good")
    images, _ = data.load_mnist("test")  # /good/mnist/<name> after /missing/ gave 404
    np.testing.assert_array_equal(images, server.images)


@pytest.mark.parametrize("value", ["ftp://host/data", "/local/folder", "http://ok/ file.txt"])
def test_mirrors_variable_must_be_urls(monkeypatch, value):
    monkeypatch.setenv("NNLIB_MIRRORS", value)
    with pytest.raises(ConfigError) as info:
        data.load_mnist("test")
    clear(info, ConfigError, "NNLIB_MIRRORS=", "not an http:// or https:// URL", "separated by spaces")


@IGNORE_PARTIAL
def test_stale_partial_files_are_removed(monkeypatch, cache, server):
    folder = cache / "mnist"
    folder.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True, timeout=60)
    dead = int(done.stdout)  # a pid that has exited
    (folder / f".{IMAGES}.{dead}.nnlib-part").write_bytes(bytes(1000))
    live = folder / f".{LABELS}.{os.getppid()}.nnlib-part"  # a process that is alive
    live.write_bytes(b"a download in progress in this very process")
    orphan = folder / "tmpab12cd_3"  # what pooch left behind in older versions
    orphan.write_bytes(bytes(1000))
    os.utime(orphan, (0, 0))
    use(monkeypatch, server, "good")
    data.load_mnist("test")
    assert leftovers(folder) == sorted([IMAGES, LABELS, live.name])


def test_killed_download_leaves_nothing_after_the_next_call(tmp_path, monkeypatch, cache, server):
    folder = cache / "mnist"
    code = ("import nnlib.data as d; d.MNIST_MIRRORS = (%r,); d.SHA256['mnist'] = %r; "
            "d.PUBLISHED_BYTES['mnist'] = %r; d.load_mnist('test')"
            % (f"{server.url}/drip/", data.SHA256["mnist"], data.PUBLISHED_BYTES["mnist"]))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 30
        while not any(n.endswith(".nnlib-part") for n in leftovers(folder)) and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert any(n.endswith(".nnlib-part") for n in leftovers(folder))  # the orphan exists
    use(monkeypatch, server, "good")
    with pytest.warns(data.PartialDatasetWarning):
        data.load_mnist("test")
    assert leftovers(folder) == [IMAGES, LABELS]
