"""MNIST and Fashion-MNIST as NumPy arrays: found on disk, or downloaded once and verified.

    images, labels = load_mnist("train")        # uint8 [N, 28, 28], uint8 [N]
    X = flatten_and_scale(images)               # float32 [N, 784] in [0, 1]
    X_tr, y_tr, X_val, y_val = train_val_split(X, labels, val_size=0.1, seed=0)

Where the files are looked for, in order (see :func:`search_paths`):

1. ``<root>/<dataset>/`` when ``root=`` is given, and nowhere else: a folder named
   by the caller is used or reported, never silently replaced by another;
2. ``$NNLIB_DATA/<dataset>/``;
3. the user cache, ``~/.cache/nnlib/<dataset>/`` on Linux (platformdirs elsewhere);
4. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist/`` (Debian's
   ``dataset-fashion-mnist``);
5. a download into ``<root>/<dataset>/`` or the user cache, unless
   ``download=False`` or ``NNLIB_OFFLINE=1``. ``NNLIB_MIRRORS`` (base URLs separated
   by spaces, each serving ``<url>/<dataset>/<file>``) replaces the built-in mirrors.

Without ``root=``, a folder that cannot be read is skipped with a warning.

Local files are checked by structure (gzip stream, IDX magic, header counts
against file size, a size limit against gzip bombs). Downloads are bounded in
time and size, and must match the published SHA-256 before they are moved into
place, so a cut-off or wrong download never lands in the cache; a partial file
left by a killed process is removed by the next download.
"""

import contextlib
import gzip
import hashlib
import math
import os
import stat
import re
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError, ShapeError

MNIST_CLASSES = [str(digit) for digit in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Tried in order. yann.lecun.com has answered 403/404 since 2023, so it is not listed.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",       # PyTorch's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow Datasets' mirror
)
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # official; plain HTTP, so the hash matters
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

# SHA-256 of the .gz files as published. The Fashion-MNIST values are those recorded by
# TensorFlow Datasets (url_checksums/fashion_mnist.txt) for the files whose MD5s the
# official README lists (8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...).
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

# Bytes of the .gz files as published: a download that grows past this is cut off
# at once instead of being written in full and rejected by the hash afterwards.
PUBLISHED_BYTES = {
    "mnist": {"train-images-idx3-ubyte.gz": 9_912_422, "train-labels-idx1-ubyte.gz": 28_881,
              "t10k-images-idx3-ubyte.gz": 1_648_877, "t10k-labels-idx1-ubyte.gz": 4_542},
    "fashion-mnist": {"train-images-idx3-ubyte.gz": 26_421_880, "train-labels-idx1-ubyte.gz": 29_515,
                      "t10k-images-idx3-ubyte.gz": 4_422_102, "t10k-labels-idx1-ubyte.gz": 5_148},
}

OFFICIAL_SIZES = {"train": 60_000, "test": 10_000}
SYSTEM_FOLDERS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
DOWNLOAD_TIMEOUT = 30.0    # seconds to connect and between received bytes, per request
DOWNLOAD_DEADLINE = 600.0  # seconds for one whole file: a server dripping bytes must end too
MIRRORS_VARIABLE = "NNLIB_MIRRORS"
# 256 MiB, five times the largest MNIST file (47 MB); a gzip bomb stops here, not at 2 GB.
MAX_IDX_BYTES = 1 << 28

_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_LOADERS = {"mnist": "load_mnist", "fashion-mnist": "load_fashion_mnist"}
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
_PART = ".nnlib-part"  # suffix of a download in progress: .<file>.<pid>.nnlib-part
_SLACK = 1 << 20  # bytes read past the declared size, to report how much too long a file is
_WARNED = set()  # (dataset, split, folder) already reported as partial in this process


class PartialDatasetWarning(UserWarning):
    """A split holds fewer images than the official release (e.g. an offline subset)."""


# --- public loaders --------------------------------------------------------------

def load_mnist(split="train", *, root=None, download=True):
    """MNIST digits: ``(images uint8 [N, 28, 28], labels uint8 [N])``, N = 60,000 or 10,000.

    ``root`` is a folder holding ``mnist/`` (only that folder is searched); see the
    module docstring for the search order.
    """
    return _load("mnist", split, root=root, download=download)


def load_fashion_mnist(split="train", *, root=None, download=True):
    """Fashion-MNIST: ``(images uint8 [N, 28, 28], labels uint8 [N])``; class names in
    ``FASHION_MNIST_CLASSES``. ``root`` is a folder holding ``fashion-mnist/``."""
    return _load("fashion-mnist", split, root=root, download=download)


def flatten_and_scale(images, *, dtype=np.float32):
    """uint8 images [N, H, W] -> float [N, H*W] with values in [0, 1] (pixel / 255)."""
    images = np.asarray(images)
    if images.ndim < 2:
        raise ShapeError(f"flatten_and_scale: expected images [N, H, W], got shape {images.shape}. "
                         "Pass the images array that load_mnist returns, e.g. images, labels = "
                         "load_mnist('train').")
    if images.dtype != np.uint8:
        # Dividing already-scaled floats by 255 again would silently shrink them.
        raise DataError(f"flatten_and_scale expects the uint8 images load_mnist returns "
                        f"(0..255), got {images.dtype}. Already scaled? Then only reshape: "
                        "images.reshape(len(images), -1).")
    if not _is_float_dtype(dtype):
        raise ConfigError(f"flatten_and_scale: dtype must be a float type such as np.float32, "
                          f"got {dtype!r}.")
    if len(images) == 0:
        raise ShapeError(f"flatten_and_scale: the batch is empty (shape {images.shape}); pass at "
                         "least one image (check the slice or filter that produced it).")
    return images.reshape(len(images), -1).astype(dtype) / np.asarray(255, dtype=dtype)


def train_val_split(X, y, *, val_size=0.1, seed=0):
    """Seeded random split -> ``(X_train, y_train, X_val, y_val)``.

    ``val_size`` < 1 is a fraction of the N rows, otherwise a count. Rows keep their
    original order within each part; the same seed always gives the same split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"train_val_split: X and y must be arrays with one row per example, got "
                         f"shapes {X.shape} and {y.shape}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"train_val_split: seed must be a non-negative integer, got {seed!r}.")
    if len(X) != len(y):
        raise ShapeError(f"train_val_split: X has {len(X)} rows but y has {len(y)}.")
    n_val = _validation_count(val_size, len(X))
    is_val = np.zeros(len(X), dtype=bool)
    is_val[np.random.default_rng(seed).permutation(len(X))[:n_val]] = True
    return X[~is_val], y[~is_val], X[is_val], y[is_val]


def _is_float_dtype(dtype):
    try:
        return np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:  # not a dtype at all, e.g. "float" misspelt
        return False


def _validation_count(val_size, n):
    if isinstance(val_size, (bool, np.bool_)) or not isinstance(val_size, (int, float, np.number)):
        raise ConfigError(f"val_size must be a fraction in (0, 1) or a count, got {val_size!r}.")
    if 0 < val_size < 1:
        count = int(round(val_size * n))
    elif float(val_size).is_integer():
        count = int(val_size)
    else:
        raise ConfigError(f"val_size={val_size!r}: use a fraction below 1 or a whole count.")
    if not 0 < count < n:
        raise ConfigError(f"val_size={val_size!r} gives {count} validation rows out of {n}; "
                          "both parts must be non-empty.")
    return count


# --- where the files are ---------------------------------------------------------

def search_paths(dataset, *, root=None):
    """The folders searched for ``dataset`` ("mnist" or "fashion-mnist"), in order.

    With ``root=`` that is ``<root>/<dataset>/`` alone. Nothing is downloaded and no
    folder needs to exist.
    """
    return [folder for folder, _ in _candidates(dataset, root)]


def locate(dataset, *, root=None):
    """The first folder of :func:`search_paths` holding all four files, or None.

    Folders that cannot be read are skipped, unless it is the one named by ``root=``.
    """
    for folder in search_paths(dataset, root=root):
        try:
            if all(_split_files(folder, split) for split in _FILES):
                return folder
        except DataError as exc:
            if root is not None:
                raise
            warnings.warn(f"{exc} Skipped; searching the next place.", stacklevel=2)
    return None


def _candidates(dataset, root):
    """[(folder, why it is searched)] in search order."""
    if not isinstance(dataset, str) or dataset not in _NAMES:
        raise ConfigError(f"dataset must be 'mnist' or 'fashion-mnist', not {dataset!r}.")
    if root is not None:
        return [(_root_path(root) / dataset, "root=")]
    found = []
    if os.environ.get("NNLIB_DATA"):
        found.append((Path(os.environ["NNLIB_DATA"]).expanduser() / dataset, "$NNLIB_DATA"))
    found.append((_cache_root() / dataset, "user cache"))
    if dataset in SYSTEM_FOLDERS:
        found.append((SYSTEM_FOLDERS[dataset], "Debian package dataset-" + dataset))
    return found


def _root_path(root):
    if not isinstance(root, (str, os.PathLike)) or str(root) == "":
        raise ConfigError(f"root must be a folder path (str or pathlib.Path), got {root!r}. "
                          "Pass the folder that contains mnist/ or fashion-mnist/.")
    return Path(root).expanduser()


def _cache_root():
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # platformdirs is a dependency, but a bare checkout may lack it
        return Path.home() / ".cache" / "nnlib"
    return Path(user_cache_dir("nnlib"))


def _present(folder, split):
    """{base name: path} of the split's files in ``folder``; DataError if it cannot be read."""
    try:
        names = set(os.listdir(folder)) if folder.is_dir() else set()
    except OSError as exc:
        raise DataError(f"cannot read the folder {folder}: {exc.strerror or exc}. Fix its "
                        f"permissions (chmod u+rx '{folder}') or pass another root=.") from None
    found = {}
    for base in _FILES[split]:
        # Debian's package, or a user who ran gunzip, may leave either name.
        for name in (n for n in (base + ".gz", base) if n in names):
            odd = _not_a_file(folder / name)
            if odd:  # never opened: a FIFO would block the reader forever
                warnings.warn(f"{folder / name} is {odd}, not a data file: skipped. Remove or "
                              "rename it (and put the real file there).", stacklevel=5)
                continue
            found[base] = _readable(folder / name)
            break
    return found


def _not_a_file(path):
    """None for a regular file (symlinks followed); else what is there instead."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not os.path.islink(path):
            return None  # simply missing: open() says so
        return f"a symlink to {os.readlink(path)}, which does not exist (a dangling link)"
    except OSError:
        return None  # e.g. permission denied on a folder on the way: _readable names it
    if stat.S_ISREG(mode):
        return None
    return ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a special file")


def _readable(path):
    if not os.access(path, os.R_OK):
        raise DataError(f"cannot read {path}: permission denied. Fix its permissions "
                        f"(chmod u+r '{path}') or pass another root=.")
    return path


def _split_files(folder, split):
    """(images path, labels path) when ``folder`` holds both files of ``split``, else None."""
    found = _present(folder, split)
    return tuple(found[b] for b in _FILES[split]) if len(found) == 2 else None


def _offline():
    return os.environ.get("NNLIB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no", "off")


# --- loading ---------------------------------------------------------------------

def _load(dataset, split, *, root, download):
    if not isinstance(split, str) or split not in _FILES:
        raise ConfigError(f"split must be 'train' or 'test', not {split!r}.")
    if not isinstance(download, (bool, np.bool_)):
        raise ConfigError(f"download must be True or False, not {download!r}.")
    files = _find_in_root(dataset, split, root) if root is not None else _search(dataset, split)
    if files is None:
        files = _download_split(dataset, split, root=root, download=download)
    images, labels = _read_split(*files)
    _warn_if_partial(dataset, split, files[0].parent, len(labels))
    return images, labels


def _search(dataset, split):
    """The first readable folder holding the split; unreadable ones are skipped with a warning."""
    for folder, _ in _candidates(dataset, None):
        try:
            files = _split_files(folder, split)
        except DataError as exc:
            warnings.warn(f"{exc} Skipped; searching the next place.", stacklevel=4)
            continue
        if files:
            return files
    return None


def _find_in_root(dataset, split, root):
    """The split in ``<root>/<dataset>/``; None when that folder is empty (so: download there)."""
    base = _root_path(root)
    folder = base / dataset
    if not base.is_dir():
        raise DataError(f"root={str(root)!r} does not exist or is not a folder. Check the path "
                        f"for typos; it must be the folder that contains {dataset}/ (create it "
                        "first if the data should be downloaded there).")
    found = _present(folder, split)
    if len(found) == 2:
        return tuple(found[b] for b in _FILES[split])
    if not found and (_present(base, split) or base.name == dataset):
        raise DataError(f"root={str(root)!r} is the {dataset}/ folder itself, but root= must be "
                        f"the folder that contains {dataset}/: pass root={str(base.parent)!r}.")
    if found:
        (have,), missing = found.values(), [b for b in _FILES[split] if b not in found]
        raise DataError(f"{folder} holds {have.name} but not {missing[0]}[.gz], the other half "
                        f"of the {split} split. Copy the missing file there, or delete "
                        f"{have.name} to download both.")
    return None


def _read_split(images_path, labels_path):
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim == 1 or labels.ndim == 3:
        wrong, arr, kind, magic = ((images_path, images, "labels", 1) if images.ndim == 1
                                   else (labels_path, labels, "images", 3))
        other = "images" if kind == "labels" else "labels"
        raise DataError(f"{wrong} holds {arr.dtype} {list(arr.shape)}, not uint8 {other}: it has "
                        f"an IDX {kind} header (magic 0x0000080{magic}), so it is a {kind} file "
                        f"under the {other} name. Put the right file in its place (are the two "
                        "names swapped?).")
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path} holds {images.dtype} {list(images.shape)}, not uint8 "
                        "images [N, 28, 28] (IDX magic 0x00000803). Is it the right file?")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path} holds {labels.dtype} {list(labels.shape)}, not uint8 "
                        "labels [N] (IDX magic 0x00000801). Is it the right file?")
    if len(images) != len(labels):
        raise DataError(f"{images_path.name} has {len(images):,} images but {labels_path.name} "
                        f"has {len(labels):,} labels (in {images_path.parent}): the two files "
                        "do not belong together.")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path} contains label {labels.max()}; labels must be 0..9.")
    return images, labels


def _warn_if_partial(dataset, split, folder, count):
    official, key = OFFICIAL_SIZES[split], (dataset, split, str(folder))
    if count >= official or key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(f"{_NAMES[dataset]} {split} split in {folder} has {count:,} images, not the "
                  f"official {official:,}; it is loaded as it is.",
                  PartialDatasetWarning, stacklevel=4)  # 4: the caller of load_mnist


# --- downloading -----------------------------------------------------------------

class _Rejected(Exception):
    """A download stopped on purpose; the message is the whole diagnosis."""


def _download_split(dataset, split, *, root, download):
    """Fetch the split's two files into root or the user cache; return their paths."""
    if not download or _offline():
        why = "download=False" if not download else f"NNLIB_OFFLINE={os.environ['NNLIB_OFFLINE']}"
        raise DataError(_not_found(dataset, split, root, f"downloads are disabled ({why})."))
    mirrors = _mirrors(dataset)
    target = (_root_path(root) if root is not None else _cache_root()) / dataset
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the download folder {target}: {exc.strerror}. "
                        "Pass root= or set NNLIB_DATA to a folder you can write.") from None
    _remove_stale_parts(target)
    paths = []
    for base in _FILES[split]:
        path, failures = _fetch(dataset, base + ".gz", target, mirrors)
        if path is None:
            raise DataError(_not_found(dataset, split, root, f"every mirror failed for {base}.gz.",
                                       failures))
        paths.append(path)
    return tuple(paths)


def _mirrors(dataset):
    """The built-in mirrors, or those of $NNLIB_MIRRORS (a local mirror, or a test server)."""
    value = os.environ.get(MIRRORS_VARIABLE, "").strip()
    if not value:
        return {"mnist": MNIST_MIRRORS, "fashion-mnist": FASHION_MNIST_MIRRORS}[dataset]
    urls = value.replace(",", " ").split()
    bad = next((u for u in urls if not u.startswith(("http://", "https://"))), None)
    if bad is not None:
        raise ConfigError(f"{MIRRORS_VARIABLE}={value!r}: {bad!r} is not an http:// or https:// "
                          f"URL. Set it to base URLs separated by spaces; files are fetched from "
                          f"<url>/{dataset}/<file>, e.g. {MIRRORS_VARIABLE}=http://host/datasets/")
    return tuple(u.rstrip("/") + "/" + dataset + "/" for u in urls)


def _fetch(dataset, name, target, mirrors):
    """Try each mirror; return (verified path, []) or (None, ["url: error", ...])."""
    expected, path = SHA256[dataset][name], target / name
    if path.is_file() and _sha256_of(path) == expected:  # the other half of a failed split
        return path, []
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _download(url, path, sha256=expected, size=PUBLISHED_BYTES[dataset][name])
            return path, []
        except Exception as exc:  # noqa: BLE001 -- report every kind, then try the next mirror
            failures.append(f"{url}: {_describe(exc)}")
    return None, failures


def _download(url, path, *, sha256, size):
    """Stream ``url`` into a partial file beside ``path``; rename it once the hash matches."""
    part = path.with_name(f".{path.name}.{os.getpid()}{_PART}")
    try:
        encoding = _stream(url, part, size=size)
        got = _sha256_of(part)
        if got != sha256 and encoding == "gzip" and _gunzip_once(part, size) == sha256:
            got = sha256  # the server compressed the .gz file again in transit
        if got != sha256:
            why = (" The server sent it with Content-Encoding: gzip, compressed again in transit."
                   if encoding not in ("", "identity") else "")
            raise _Rejected(f"SHA-256 mismatch (expected {sha256[:12]}..., got {got[:12]}...): "
                            f"corrupted or not the official file; discarded.{why}")
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _stream(url, part, *, size):
    """Write the raw body of ``url`` to ``part``, within the size cap and the deadline."""
    import urllib.request  # here, not at the top: `import nnlib.data` must stay light

    # identity: the .gz file as published, never decoded or re-encoded by the transfer
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity",
                                                   "User-Agent": "nnlib"})
    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT, context=_ssl_context()) as resp, \
            open(part, "wb") as out, _progress(size, url.rsplit("/", 1)[-1]) as bar:
        announced = int(resp.headers.get("Content-Length") or -1)
        encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
        limit = size if encoding in ("", "identity") else 2 * size + (1 << 16)
        if announced > limit:
            raise _Rejected(f"the server announces {announced:,} bytes but the official file has "
                            f"{size:,}; not the official file, nothing downloaded")
        received = 0
        while chunk := resp.read1(1 << 16):  # read1: returns as soon as any bytes arrive
            received += len(chunk)
            if received > limit:
                raise _Rejected(f"more than the official {size:,} bytes arrived; not the "
                                "official file, discarded")
            if time.monotonic() > deadline:
                raise _Rejected(f"not complete after the {DOWNLOAD_DEADLINE:g} s deadline "
                                f"({received:,} of {size:,} bytes); the mirror is too slow. "
                                f"Try again later, or set {MIRRORS_VARIABLE} to a faster mirror")
            out.write(chunk)
            bar.update(len(chunk))
        if 0 <= received < announced:
            raise _Rejected(f"connection closed after {received} bytes, {announced - received} short")
    return encoding


def _ssl_context():
    import ssl

    try:  # certifi's roots: python.org builds on macOS ship without usable system roots
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class _NoBar:
    def update(self, n):
        pass


@contextlib.contextmanager
def _progress(total, name):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _NoBar()
        return
    with tqdm(total=total, desc=name, unit="B", unit_scale=True, leave=False) as bar:
        yield bar


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gunzip_once(part, size):
    """SHA-256 of ``part`` decoded once (at most ``size`` bytes kept), written back; or None."""
    try:
        with gzip.open(part, "rb") as f:
            body = f.read(size + 1)
    except (OSError, EOFError, zlib.error):
        return None
    if len(body) > size:
        return None
    part.write_bytes(body)
    return hashlib.sha256(body).hexdigest()


def _remove_stale_parts(folder):
    """Delete partial downloads whose process was killed, and pooch's orphans of older nnlib."""
    now = time.time()
    for path in folder.iterdir():
        try:
            old = now - path.stat().st_mtime > DOWNLOAD_DEADLINE + DOWNLOAD_TIMEOUT
            if path.name.endswith(_PART):
                pid = int(path.name[: -len(_PART)].rsplit(".", 1)[1])
                if old or not _alive(pid):
                    path.unlink()
            elif old and re.fullmatch(r"tmp[a-z0-9_]{8}", path.name):  # pooch's temporary names
                path.unlink()
        except (OSError, ValueError, IndexError):
            continue  # vanished meanwhile, or not ours


def _alive(pid):
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return True      # so only the age decides there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to another user
        return True
    return True


def _describe(exc):
    """One line for a failed download: HTTP status, timeout, connection or our own check."""
    import urllib.error

    if isinstance(exc, _Rejected):
        return str(exc)
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    reason = getattr(exc, "reason", exc)  # URLError wraps the socket error
    if isinstance(reason, TimeoutError):
        return f"no answer within {DOWNLOAD_TIMEOUT:g} s (timeout)"
    if isinstance(reason, ConnectionError):
        return f"ConnectionError: {reason}"
    return f"{type(reason).__name__}: {str(reason)[:200]}"


def _not_found(dataset, split, root, reason, failures=()):
    """The message for a split that is neither on disk nor downloadable, with the fix."""
    images, labels = _FILES[split]
    lines = [f"{_NAMES[dataset]} ({split} split) was not found, and {reason}",
             f"Searched, in order, for {images}[.gz] and {labels}[.gz]:"]
    lines += [f"  {folder}   ({why})" for folder, why in _candidates(dataset, root)]
    if failures:
        lines += ["Tried:"] + [f"  {line}" for line in failures]
    loader = _LOADERS[dataset]
    lines += [
        "To fix it, either:",
        f"  - set NNLIB_DATA to the folder that contains {dataset}/, e.g.",
        f"      export NNLIB_DATA=/path/to/folder-containing-{dataset}/",
        "  - or, on a machine with internet access, run",
        f"      python -c \"import nnlib.data as d; d.{loader}('train'); d.{loader}('test')\"",
        f"    then copy its nnlib cache (~/.cache/nnlib on Linux) to {_cache_root()}.",
    ]
    if root is not None:
        lines.append(f"  - or copy the files into {_root_path(root) / dataset}, since root= was given")
    if dataset in SYSTEM_FOLDERS:
        lines.append("  - or install Debian's package: sudo apt-get install dataset-fashion-mnist")
    return "\n".join(lines)


# --- the IDX format ----------------------------------------------------------------

def read_idx(path, *, max_bytes=MAX_IDX_BYTES):
    """Read an IDX file (gzip-compressed or not) -> a writable array of its declared shape.

    Header: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then
    one big-endian uint32 per dimension. MNIST images have magic 0x00000803, labels
    0x00000801. A header declaring more than ``max_bytes`` of data is refused before
    anything is decompressed.
    """
    path = Path(path)
    with _idx_stream(path) as stream:
        return _parse_idx(stream, path, max_bytes)


@contextlib.contextmanager
def _idx_stream(path):
    """The file's bytes as a stream, decompressed on the fly when it is gzip."""
    odd = _not_a_file(path)
    if odd:  # checked before open(): opening a FIFO blocks until someone writes to it
        raise DataError(f"cannot read {path}: it is {odd}, not a data file. Remove or rename it, "
                        "and put the real file there.")
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}. Check the path and its "
                        "permissions.") from None
    with f:
        if os.fstat(f.fileno()).st_size == 0:
            raise DataError(f"{path} is empty (0 bytes), probably left by an interrupted copy "
                            "or download. Delete it and load again.")
        is_gzip = f.read(2) == _GZIP_MAGIC  # sniff, not the suffix: either name may hold either form
        f.seek(0)
        if not is_gzip:
            yield f
            return
        with gzip.GzipFile(fileobj=f) as g:
            yield g


def _read(stream, n, path):
    """Up to ``n`` bytes; gzip damage becomes a DataError naming the file."""
    try:
        return stream.read(n)
    except EOFError:
        raise DataError(f"{path} is a truncated gzip file (it ends before the end of its "
                        "compressed stream). Delete or replace it and load again.") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path} is a corrupted gzip file ({exc}). "
                        "Delete or replace it and load again.") from None


def _parse_idx(stream, path, max_bytes):
    head = _read(stream, 4, path)
    if not head:
        raise DataError(f"{path} is a gzip file whose content is empty (0 bytes once "
                        "decompressed), probably from an interrupted download or copy. Delete it "
                        "and load again.")
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_TYPES or head[3] == 0:
        magic = int.from_bytes(head.ljust(4, b"\0"), "big")
        raise DataError(f"{path} has magic number 0x{magic:08X}, which is not an IDX header "
                        "(expected 0x00000803 for images or 0x00000801 for labels).")
    ndim, dtype = head[3], np.dtype(_IDX_TYPES[head[2]])
    dims = _read(stream, 4 * ndim, path)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path} ends inside its IDX header ({4 + len(dims)} bytes, the header "
                        f"needs {4 + 4 * ndim}); it is truncated.")
    shape = tuple(int.from_bytes(dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    expected, described = math.prod(shape) * dtype.itemsize, " x ".join(f"{n:,}" for n in shape)
    if expected > max_bytes:
        raise DataError(f"{path}: the header declares {described} values ({expected:,} bytes), "
                        f"more than max_bytes={max_bytes:,}; a damaged header or not an IDX "
                        "file. If it really is that large, call read_idx(path, max_bytes=...).")
    payload = _read(stream, expected + _SLACK, path)  # bounded, so a gzip bomb stops early
    if len(payload) != expected:
        held = f"{len(payload):,}" if len(payload) < expected + _SLACK else f"more than {expected:,}"
        count = math.prod(shape)
        if dtype.itemsize > 1 and len(payload) == count:
            raise DataError(f"{path}: the header's type byte 0x{head[2]:02X} says {dtype.name} "
                            f"({dtype.itemsize} bytes per value), but the file holds exactly one "
                            f"byte per value ({described} = {count:,} bytes): the type byte is "
                            "wrong (MNIST files are uint8, 0x08). Replace the file with an "
                            "original copy.")
        if len(payload) > expected:
            kind = {1: "labels (1-D)", 3: "images (3-D)"}.get(ndim, f"{ndim}-D data")
            raise DataError(f"{path}: the header declares {described} values ({expected:,} bytes "
                            f"of data) but the file holds {held}: its header (magic "
                            f"0x{int.from_bytes(head, 'big'):08X}, {kind}) does not belong to "
                            "this data, e.g. a labels header on an images file. Replace the file "
                            "with an original copy.")
        raise DataError(f"{path}: the header declares {described} values ({expected:,} bytes of "
                        f"data) but the file holds {held}; it is truncated or damaged.")
    # astype copies into native byte order, so the result is writable and fast to use.
    return np.frombuffer(payload, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed when ``path`` ends in ``.gz``."""
    path, array = Path(path), np.asarray(array)
    code = next((c for c, t in _IDX_TYPES.items() if np.dtype(t) == array.dtype.newbyteorder(">")),
                None)
    if code is None or not 0 < array.ndim < 256:
        raise DataError(f"cannot write a {array.ndim}-D {array.dtype} array as IDX; "
                        "use uint8, int8, int16, int32, float32 or float64.")
    header = bytes([0, 0, code, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(_IDX_TYPES[code]).tobytes()
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
            f.write(payload)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}. Check that its folder "
                        "exists and is writable.") from None
