"""MNIST and Fashion-MNIST as NumPy arrays: found on disk, or downloaded once and verified.

    images, labels = load_mnist("train")        # uint8 [N, 28, 28], uint8 [N]
    X = flatten_and_scale(images)               # float32 [N, 784] in [0, 1]
    X_tr, y_tr, X_val, y_val = train_val_split(X, labels, val_size=0.1, seed=0)

Where the files are looked for, in order (see :func:`search_paths`):

1. ``<root>/<dataset>/`` when ``root=`` is given;
2. ``$NNLIB_DATA/<dataset>/``;
3. the user cache, ``~/.cache/nnlib/<dataset>/`` on Linux (platformdirs elsewhere);
4. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist/`` (Debian's
   ``dataset-fashion-mnist``);
5. a download into ``<root>/<dataset>/`` or the user cache, unless
   ``download=False`` or ``NNLIB_OFFLINE=1``.

Local files are checked by structure (gzip stream, IDX magic, header counts
against file size). Downloads must also match the published SHA-256 before they
are moved into place, so a cut-off or wrong download never lands in the cache.
"""

import gzip
import math
import os
import re
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

OFFICIAL_SIZES = {"train": 60_000, "test": 10_000}
SYSTEM_FOLDERS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
DOWNLOAD_TIMEOUT = 30.0  # seconds to connect and between received bytes, per request

_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_LOADERS = {"mnist": "load_mnist", "fashion-mnist": "load_fashion_mnist"}
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
_WARNED = set()  # (dataset, split, folder) already reported as partial in this process


class PartialDatasetWarning(UserWarning):
    """A split holds fewer images than the official release (e.g. an offline subset)."""


# --- public loaders --------------------------------------------------------------

def load_mnist(split="train", *, root=None, download=True):
    """MNIST digits: ``(images uint8 [N, 28, 28], labels uint8 [N])``, N = 60,000 or 10,000.

    ``root`` is a folder holding ``mnist/``; see the module docstring for the search order.
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
        raise ShapeError(f"flatten_and_scale: expected images [N, H, W], got shape {images.shape}.")
    if images.dtype != np.uint8:
        # Dividing already-scaled floats by 255 again would silently shrink them.
        raise DataError(f"flatten_and_scale expects the uint8 images load_mnist returns "
                        f"(0..255), got {images.dtype}. Already scaled? Then only reshape: "
                        "images.reshape(len(images), -1).")
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ConfigError(f"flatten_and_scale: dtype must be a float type, got {np.dtype(dtype)}.")
    return images.reshape(len(images), -1).astype(dtype) / np.asarray(255, dtype=dtype)


def train_val_split(X, y, *, val_size=0.1, seed=0):
    """Seeded random split -> ``(X_train, y_train, X_val, y_val)``.

    ``val_size`` < 1 is a fraction of the N rows, otherwise a count. Rows keep their
    original order within each part; the same seed always gives the same split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ShapeError(f"train_val_split: X has {len(X)} rows but y has {len(y)}.")
    n_val = _validation_count(val_size, len(X))
    is_val = np.zeros(len(X), dtype=bool)
    is_val[np.random.default_rng(seed).permutation(len(X))[:n_val]] = True
    return X[~is_val], y[~is_val], X[is_val], y[is_val]


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

    Nothing is downloaded and no folder needs to exist.
    """
    return [folder for folder, _ in _candidates(dataset, root)]


def locate(dataset, *, root=None):
    """The first folder of :func:`search_paths` holding all four files, or None."""
    for folder in search_paths(dataset, root=root):
        if all(_split_files(folder, split) for split in _FILES):
            return folder
    return None


def _candidates(dataset, root):
    """[(folder, why it is searched)] in search order."""
    if dataset not in _NAMES:
        raise ConfigError(f"dataset must be 'mnist' or 'fashion-mnist', not {dataset!r}.")
    found = []
    if root is not None:
        found.append((Path(root).expanduser() / dataset, "root="))
    if os.environ.get("NNLIB_DATA"):
        found.append((Path(os.environ["NNLIB_DATA"]).expanduser() / dataset, "$NNLIB_DATA"))
    found.append((_cache_root() / dataset, "user cache"))
    if dataset in SYSTEM_FOLDERS:
        found.append((SYSTEM_FOLDERS[dataset], "Debian package dataset-" + dataset))
    return found


def _cache_root():
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # platformdirs is a dependency, but a bare checkout may lack it
        return Path.home() / ".cache" / "nnlib"
    return Path(user_cache_dir("nnlib"))


def _split_files(folder, split):
    """(images path, labels path) when ``folder`` holds both files of ``split``, else None."""
    paths = []
    for base in _FILES[split]:
        # Debian's package, or a user who ran gunzip, may leave either name.
        path = next((folder / n for n in (base + ".gz", base) if (folder / n).is_file()), None)
        if path is None:
            return None
        paths.append(path)
    return tuple(paths)


def _offline():
    return os.environ.get("NNLIB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no", "off")


# --- loading ---------------------------------------------------------------------

def _load(dataset, split, *, root, download):
    if split not in _FILES:
        raise ConfigError(f"split must be 'train' or 'test', not {split!r}.")
    files = next(filter(None, (_split_files(f, split) for f, _ in _candidates(dataset, root))), None)
    if files is None:
        files = _download_split(dataset, split, root=root, download=download)
    images, labels = _read_split(*files)
    _warn_if_partial(dataset, split, files[0].parent, len(labels))
    return images, labels


def _read_split(images_path, labels_path):
    images, labels = read_idx(images_path), read_idx(labels_path)
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

def _download_split(dataset, split, *, root, download):
    """Fetch the split's two files into root or the user cache; return their paths."""
    if not download or _offline():
        why = "download=False" if not download else f"NNLIB_OFFLINE={os.environ['NNLIB_OFFLINE']}"
        raise DataError(_not_found(dataset, split, root, f"downloads are disabled ({why})."))
    target = (Path(root).expanduser() if root is not None else _cache_root()) / dataset
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the download folder {target}: {exc.strerror}. "
                        "Pass root= or set NNLIB_DATA to a folder you can write.") from None
    paths = []
    for base in _FILES[split]:
        path, failures = _fetch(dataset, base + ".gz", target)
        if path is None:
            raise DataError(_not_found(dataset, split, root, f"every mirror failed for {base}.gz.",
                                       failures))
        paths.append(path)
    return tuple(paths)


def _fetch(dataset, name, target):
    """Try each mirror; return (verified path, []) or (None, ["url: error", ...])."""
    import pooch  # here, not at the top: `import nnlib.data` must stay light

    # pooch streams into a temporary file beside the target, checks the hash, then renames.
    downloader = pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT, progressbar=True,
                                      chunk_size=1 << 16)
    mirrors = {"mnist": MNIST_MIRRORS, "fashion-mnist": FASHION_MNIST_MIRRORS}[dataset]
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            path = pooch.retrieve(url, known_hash="sha256:" + SHA256[dataset][name],
                                  path=target, fname=name, downloader=downloader)
            return Path(path), []
        except Exception as exc:  # noqa: BLE001 -- report every kind, then try the next mirror
            failures.append(f"{url}: {_describe(exc, SHA256[dataset][name])}")
    return None, failures


def _describe(exc, expected_hash):
    """One line for a failed download: HTTP status, timeout, hash or OS error."""
    text, kind = str(exc), type(exc).__name__
    if getattr(exc, "response", None) is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if "Timeout" in kind:
        return f"no answer within {DOWNLOAD_TIMEOUT:g} s ({kind})"
    got = re.search(r"but got (\w+)", text)
    if isinstance(exc, ValueError) and got:
        return (f"SHA-256 mismatch (expected {expected_hash[:12]}..., got {got.group(1)[:12]}...): "
                "corrupted or not the official file; discarded")
    cut = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)", text)
    if cut:
        return f"connection closed after {cut.group(1)} bytes, {cut.group(2)} short"
    errno = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    return f"{kind}: {errno.group(0) if errno else text[:200]}"


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
    if dataset in SYSTEM_FOLDERS:
        lines.append("  - or install Debian's package: sudo apt-get install dataset-fashion-mnist")
    return "\n".join(lines)


# --- the IDX format ----------------------------------------------------------------

def read_idx(path):
    """Read an IDX file (gzip-compressed or not) -> a writable array of its declared shape.

    Header: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then
    one big-endian uint32 per dimension. MNIST images have magic 0x00000803, labels
    0x00000801.
    """
    path = Path(path)
    return _parse_idx(_read_bytes(path), path)


def _read_bytes(path):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data[:2] != _GZIP_MAGIC:  # sniff, not the suffix: either name may hold either form
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise DataError(f"{path} is a truncated gzip file (it ends before the end of its "
                        "compressed stream). Delete or replace it and load again.") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path} is a corrupted gzip file ({exc}). "
                        "Delete or replace it and load again.") from None


def _parse_idx(data, path):
    magic = int.from_bytes(data[:4], "big")
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES or data[3] == 0:
        raise DataError(f"{path} has magic number 0x{magic:08X}, which is not an IDX header "
                        "(expected 0x00000803 for images or 0x00000801 for labels).")
    ndim, dtype = data[3], np.dtype(_IDX_TYPES[data[2]])
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DataError(f"{path} ends inside its IDX header ({len(data)} bytes, the header "
                        f"needs {offset}); it is truncated.")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected, actual = math.prod(shape) * dtype.itemsize, len(data) - offset
    if actual != expected:
        dims = " x ".join(f"{n:,}" for n in shape)
        raise DataError(f"{path}: the header declares {dims} values ({expected:,} bytes of data) "
                        f"but the file holds {actual:,}; it is truncated or damaged.")
    # astype copies into native byte order, so the result is writable and fast to use.
    return np.frombuffer(data, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


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
    with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
        f.write(payload)
