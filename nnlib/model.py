"""A multilayer perceptron built from nnlib.layers and nnlib.losses.

Parameters live in one dict, ``model.params = {"W1": (D, H1), "b1": (H1,), ...}``,
and ``model.loss`` returns gradients in a dict with the same keys, so an
optimizer only ever sees two matching dicts.
"""

import os
import tempfile
from pathlib import Path

import numpy as np

import warnings

from . import aligned
from .errors import ConfigError, DataError, NonFiniteError, ShapeError, UnscaledInputWarning
from .layers import (ACTIVATIONS, affine_backward, affine_forward, as_numeric, check_finite_rows,
                     sigmoid)
from .losses import LOSSES, softmax
from .memory import macs

INITS = ("he", "xavier")


def init_weights(fan_in, fan_out, *, init, rng, dtype):
    """Draw a (fan_in, fan_out) weight matrix.

    He (Kaiming) normal, std = sqrt(2 / fan_in), keeps ReLU activations at a
    steady scale from layer to layer; Xavier (Glorot) normal,
    std = sqrt(2 / (fan_in + fan_out)), does the same for tanh and sigmoid.
    """
    if init == "he":
        std = np.sqrt(2.0 / fan_in)
    elif init == "xavier":
        std = np.sqrt(2.0 / (fan_in + fan_out))
    else:
        raise ConfigError(f"init must be one of {INITS}, got {init!r}.")
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)


def _check_sizes(sizes):
    """Layer widths as a tuple of ints; fractional, boolean or non-numeric widths are refused."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ConfigError(f"sizes must be a sequence of layer widths such as (784, 100, 10), "
                          f"got {sizes!r}.")
    sizes = list(sizes)
    for i, s in enumerate(sizes):
        # bool is an int subclass: True would silently become a width of 1.
        whole = isinstance(s, (int, np.integer)) or (isinstance(s, (float, np.floating))
                                                      and float(s).is_integer())
        if isinstance(s, (bool, np.bool_)) or not whole or s < 1:
            raise ConfigError(f"sizes[{i}] = {s!r}: every layer width must be a whole number "
                              f">= 1, e.g. MLP((784, 100, 10)).")
    if len(sizes) < 2:
        raise ConfigError(f"sizes needs at least an input and an output width, e.g. (784, 10); "
                          f"got {sizes}.")
    return tuple(int(s) for s in sizes)


def _check_dtype(dtype):
    given = dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        # Name what was passed ('banana'), not the None that np.dtype's failure left behind.
        raise ConfigError(f"dtype must be a float type, np.float32 (training) or np.float64 "
                          f"(gradient checks), got {given!r}.")
    return dtype


def _check_flag(value, what):
    # bool("False") is True, so only real booleans are accepted.
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{what} must be True or False, got {value!r}.")
    return bool(value)


def _check_seed(seed):
    if seed is not None and (isinstance(seed, (bool, np.bool_))
                             or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}.")
    return seed


def _pick(value, choices, what):
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{what} must be one of {sorted(choices)}, got {value!r}.")
    return value


class MLP:
    """Fully connected network: affine -> activation -> ... -> affine -> output.

    Args:
        sizes: layer widths including input and output, e.g. (784, 100, 100, 10).
        activation: hidden activation, "relu", "sigmoid" or "tanh".
        output_activation: applied to the last layer's output by ``forward``;
            None (raw logits) for "cross_entropy" and "bce", any activation for "mse".
        loss: "cross_entropy" (softmax, integer labels), "bce" (sigmoid on one
            or more logits, 0/1 targets) or "mse" (regression targets).
        bias: False builds layers without biases (used in the XOR notebook).
        init: "he" or "xavier".
        seed: seeds the weight initialisation, so the same seed gives the same net.
        dtype: np.float32 for training, np.float64 for gradient checks.
    """

    def __init__(self, sizes, *, activation="relu", output_activation=None,
                 loss="cross_entropy", bias=True, init="he", seed=0, dtype=np.float32):
        self.sizes = _check_sizes(sizes)
        self.activation = _pick(activation, ACTIVATIONS, "activation")
        self.loss_name = _pick(loss, LOSSES, "loss")
        if output_activation is not None and loss != "mse":
            raise ConfigError(f"loss={loss!r} applies its own softmax/sigmoid; leave output_activation=None.")
        self.output_activation = _pick(output_activation or "identity", ACTIVATIONS, "output_activation")
        self.bias, self.init = _check_flag(bias, "bias"), _pick(init, INITS, "init")
        self.seed, self.dtype = _check_seed(seed), _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            # On cache-line boundaries: the step's matmuls and updates run faster (nnlib.aligned).
            self.params[f"W{i}"] = aligned.copy(init_weights(fan_in, fan_out, init=init, rng=rng,
                                                             dtype=self.dtype))
            if self.bias:
                self.params[f"b{i}"] = aligned.zeros(fan_out, self.dtype)

    @property
    def num_layers(self):
        """Number of affine layers (input layer not counted)."""
        return len(self.sizes) - 1

    def __repr__(self):
        arch = "-".join(map(str, self.sizes))
        return (f"MLP({arch}, activation={self.activation!r}, loss={self.loss_name!r}, "
                f"params={self.num_params():,})")

    def _check_input(self, X):
        X = as_numeric(X, where="MLP input")
        if X.ndim == 1 and X.shape[0] == self.sizes[0]:
            raise ShapeError(f"MLP input has shape {X.shape}, one example; the network expects "
                             f"a batch (B, {self.sizes[0]}). Use X.reshape(1, -1).")
        if X.ndim > 2 and int(np.prod(X.shape[1:])) == self.sizes[0]:
            raise ShapeError(
                f"MLP input has shape {X.shape}; the network expects flat vectors "
                f"(B, {self.sizes[0]}). Use nnlib.data.flatten_and_scale(images) "
                "or X.reshape(len(X), -1)."
            )
        if X.dtype.kind in "iu" and X.size and X.min() >= 0 and 1 < X.max() <= 255:
            # Integer input only (uint8 images): the cast below is a pass over X anyway, and
            # float input, the training step's, is not scanned here (fit warns once instead).
            warnings.warn(f"MLP input holds whole numbers from 0 to {X.max()} ({X.dtype}), like "
                          "raw image pixels; the network expects values in [0, 1]. Scale them "
                          "first: X / 255, or nnlib.data.flatten_and_scale(images).",
                          UnscaledInputWarning, stacklevel=3)
        # A finite value beyond the dtype's range (1e39 in float32) becomes inf in this cast;
        # the warning is silenced because forward's output check explains it (overflow).
        if X.dtype == self.dtype:  # the training step's case (fit casts once): no cast, no errstate
            return X, X
        with np.errstate(over="ignore"):
            return X, X.astype(self.dtype)

    def forward(self, X, *, keep_cache=False):
        """Run the network. X: (B, D) -> output (B, C); caches too if keep_cache.

        NaN and inf spread through every layer, so only the (B, C) output is
        checked, not each layer's inputs and weights (passes over far larger
        arrays); a non-finite output raises NonFiniteError naming its cause.
        """
        X_given, X = self._check_input(X)
        h, caches = X, []
        for i in range(1, self.num_layers + 1):
            last = i == self.num_layers
            h, c_aff = affine_forward(h, self.params[f"W{i}"], self.params.get(f"b{i}"),
                                      name=self._layer_name(i), check=False)
            act = self.output_activation if last else self.activation
            h, c_act = ACTIVATIONS[act][0](h)
            caches.append((c_aff, act, c_act))
        if not np.isfinite(h).all():
            self._explain_non_finite(X_given, X)
        return (h, caches) if keep_cache else h

    def _explain_non_finite(self, X_given, X):
        """Raise NonFiniteError naming why the output is not finite: data, weights or overflow."""
        check_finite_rows(X_given, where="MLP input")
        cast_bad = X.size - np.count_nonzero(np.isfinite(X))
        if cast_bad:
            big = float(np.abs(X_given).max())
            raise NonFiniteError(
                f"MLP input: {cast_bad} of {X.size} values (largest magnitude {big:.3g}) are finite "
                f"but overflow {self.dtype} (largest {np.finfo(self.dtype).max:.3g}) when cast to "
                "the model's dtype, so they became infinite. Scale the data (e.g. to [0, 1]) or "
                "build the model with dtype=np.float64.")
        for name, p in self.params.items():
            bad = p.size - np.count_nonzero(np.isfinite(p))
            if bad:
                raise NonFiniteError(f"parameter {name}: {bad} of {p.size} values are NaN or infinite; "
                                     "training diverged. Retrain with a lower learning rate.")
        raise NonFiniteError("MLP output: NaN or infinite values although the input and every "
                             "parameter are finite: an activation overflowed (float32 ends at 3.4e38) "
                             "because the weights grew too large. Retrain with a lower learning rate, "
                             "and scale inputs to [0, 1].")

    def _layer_name(self, i):
        return f"layer {i} (affine {self.sizes[i - 1]}->{self.sizes[i]})"

    def backward(self, dout, caches, *, input_grad=False):
        """Backpropagate dL/doutput through every layer; returns grads keyed like params.

        ``dout`` must have the output's shape (B, C); ``caches`` come from
        ``forward(X, keep_cache=True)``. The gradient with respect to X itself
        is not computed: nothing in training uses it, and for 784-128-64-10 it
        would be 46% of the backward FLOPs. ``input_grad=True`` computes it and
        adds it as ``grads["X"]`` (for gradient checks and saliency maps).
        """
        if not isinstance(caches, list) or len(caches) != self.num_layers:
            raise ShapeError(f"MLP.backward: caches must be the list of {self.num_layers} caches "
                             "from out, caches = model.forward(X, keep_cache=True).")
        grads = {}
        for i in range(self.num_layers, 0, -1):
            c_aff, act, c_act = caches[i - 1]
            where = f"MLP.backward: {self._layer_name(i)}"
            dout = ACTIVATIONS[act][1](dout, c_act, name=f"{where}, {act}")
            dout, grads[f"W{i}"], db = affine_backward(dout, c_aff, name=where,
                                                       need_dx=i > 1 or input_grad)
            if self.bias:
                grads[f"b{i}"] = db
        if input_grad:
            grads["X"] = dout
        return grads

    def loss(self, X, y):
        """Mean loss on a batch and its gradients.

        Inputs: X (B, D); y (B,) integer labels for "cross_entropy", targets
        shaped like the output (B, C) for "bce" and "mse".
        Returns: (loss: float, grads: dict with the keys of self.params).
        """
        out, caches = self.forward(X, keep_cache=True)
        loss, dout = LOSSES[self.loss_name](out, y)
        return loss, self.backward(dout, caches)

    def predict_proba(self, X):
        """Class probabilities: softmax for cross-entropy, sigmoid for bce."""
        out = self.forward(X)
        if self.loss_name == "cross_entropy":
            return softmax(out)
        if self.loss_name == "bce":
            return sigmoid(out)
        raise ConfigError("predict_proba needs loss='cross_entropy' or 'bce'.")

    def predict(self, X):
        """Predicted labels (B,) for classification; the raw outputs for mse."""
        out = self.forward(X)
        if self.loss_name == "cross_entropy":
            return out.argmax(axis=1)
        if self.loss_name == "bce":
            return (out > 0).astype(np.int64)
        return out

    def num_params(self):
        """Total number of trainable scalars (weights and biases)."""
        return int(sum(p.size for p in self.params.values()))

    def macs_per_example(self):
        """Multiply-accumulates in one forward pass of one example: sum of D_in x D_out."""
        return macs(self.sizes)

    def save(self, path):
        """Write weights and configuration to ``path``, with ".npz" added if it lacks it.

        Returns the path written, which ``MLP.load`` accepts with or without the suffix.
        The file is written under a temporary name in the same folder and then renamed
        (``os.replace``, atomic), so a reader never sees a half-written model, even when
        two notebooks save and load the same file at the same time.
        """
        config = dict(sizes=self.sizes, activation=self.activation, loss=self.loss_name,
                      output_activation=self.output_activation, bias=self.bias,
                      init=self.init, dtype=self.dtype.name)
        path = _npz_path(path)
        tmp = None
        try:
            with tempfile.NamedTemporaryFile(dir=path.parent or ".", prefix=f".{path.name}.",
                                             suffix=".tmp", delete=False) as f:
                tmp = Path(f.name)
                np.savez(f, __config__=np.array(repr(config)), **self.params)
            os.chmod(tmp, 0o666 & ~_umask())    # temporary files are private (0600)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise DataError(f"MLP.save: cannot write {path}: {exc.strerror or exc}. Check that "
                            "the folder exists and is writable.") from None
        return path

    @classmethod
    def load(cls, path, *, sizes=None):
        """Rebuild a model saved with ``save``.

        ``sizes``: the architecture the caller expects, e.g. (784, 100, 100, 10);
        a file holding another architecture then raises ShapeError naming both,
        instead of loading a network the caller's code does not fit.
        Raises DataError for a missing, truncated or foreign file, ShapeError for
        arrays of the wrong shape, NonFiniteError for NaN or infinite weights.
        """
        path = _npz_path(path)
        expected = None if sizes is None else _check_sizes(sizes)
        config, arrays = _read_model_file(path)
        if expected is not None and _saved_sizes(config) != expected:
            found = "-".join(map(str, config["sizes"])) if _saved_sizes(config) else "?"
            raise ShapeError(f"MLP.load: {path} holds a {found} network, but "
                             f"{'-'.join(map(str, expected))} was asked for. Load the file that "
                             "was saved for this architecture, or retrain and save it.")
        out_act = config.pop("output_activation")
        try:
            model = cls(config.pop("sizes"), output_activation=None if out_act == "identity" else out_act,
                        dtype=np.dtype(config.pop("dtype")), **config)
        except (ConfigError, TypeError) as exc:
            raise DataError(f"{path}: its saved configuration is not valid ({exc}); it was not "
                            "written by MLP.save of this nnlib.") from None
        for name, value in model.params.items():
            if name not in arrays or arrays[name].shape != value.shape:
                got = "missing" if name not in arrays else f"shape {arrays[name].shape}"
                raise ShapeError(f"{path}: parameter {name} is {got}, expected shape "
                                 f"{value.shape}; the file does not match its own configuration.")
            if not np.isfinite(arrays[name]).all():
                raise NonFiniteError(f"{path}: parameter {name} holds NaN or infinite values; the "
                                     "model was saved after training diverged. Retrain it.")
            model.params[name] = aligned.copy(arrays[name].astype(model.dtype, copy=False))
        extra = sorted(set(arrays) - set(model.params))
        if extra:
            raise ShapeError(f"{path}: unexpected arrays {extra}; the file does not match its own "
                             "configuration.")
        return model


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _saved_sizes(config):
    try:
        return tuple(int(s) for s in config["sizes"])
    except (TypeError, ValueError):
        return None


def _npz_path(path):
    # np.savez appends ".npz" itself, so save("model") writes model.npz; use the same name in load.
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise ConfigError(f"path must be a file name (str or pathlib.Path), got {path!r}.")
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def _read_model_file(path):
    """(config dict, {name: array}) from an MLP.save file; DataError if it is not one."""
    import ast
    import zipfile

    not_model = (f"{path} is not an nnlib model file, or it is damaged (truncated or "
                 "overwritten): MLP.save writes a .npz holding __config__ and the weights. "
                 "Pass the path that MLP.save returned, or save the model again.")
    try:
        with np.load(path, allow_pickle=False) as f:
            if "__config__" not in f.files:
                raise DataError(not_model)
            config = ast.literal_eval(str(f["__config__"]))
            arrays = {k: f[k] for k in f.files if k != "__config__"}
    except FileNotFoundError:
        raise DataError(f"MLP.load: {path} does not exist. Check the name; MLP.save(path) "
                        "writes path + '.npz' when path has no .npz suffix.") from None
    except (EOFError, TypeError, ValueError, SyntaxError, OSError, zipfile.BadZipFile):
        # TypeError: np.load returned a plain array (.npy), which is not a context manager
        raise DataError(not_model) from None
    if not isinstance(config, dict) or not {"sizes", "output_activation", "dtype"} <= set(config):
        raise DataError(not_model)
    return config, arrays
