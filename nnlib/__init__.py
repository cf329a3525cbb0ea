"""nnlib: the small NumPy neural-network library shared by the course notebooks.

Modules (one concept each): layers, losses, model, optim, train, gradcheck,
data, plot, checks, sysinfo, activations (notebook 02), memory (parameter/byte/MAC
accounting), flops (matmul FLOPs of forward pass, backward pass and training step),
timing (benchmarks), perceptron (notebook 01), xor (notebook 03). Importing nnlib
loads only NumPy; matplotlib, torch is imported inside the functions that need it.
"""

from importlib import metadata as _metadata

from . import (activations, checks, data, errors, flops, gradcheck, layers, losses, memory, model, optim, perceptron,
               plot, timing, train, xor)
from .model import MLP
from .seeding import seed

try:  # one source of truth for the version: pyproject.toml
    __version__ = _metadata.version("nnlib")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["MLP", "seed", "activations", "checks", "data", "errors", "flops", "gradcheck", "layers", "losses", "memory",
           "model", "optim", "perceptron", "plot", "timing", "train", "xor", "__version__"]
