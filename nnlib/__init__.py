"""nnlib: the small NumPy neural-network library shared by the course notebooks.

Modules (one concept each): layers, losses, model, optim, train, gradcheck,
data, plot, checks. Importing nnlib loads only NumPy; plotting, data download
and torch are imported when first used.
"""

from importlib import metadata as _metadata

from . import errors, gradcheck, layers, losses, model, optim, train
from .model import MLP
from .seeding import seed

try:  # one source of truth for the version: pyproject.toml
    __version__ = _metadata.version("nnlib")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["MLP", "seed", "errors", "gradcheck", "layers", "losses", "model", "optim", "train",
           "__version__"]
