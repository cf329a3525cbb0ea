"""nnlib: the small NumPy neural-network library shared by the course notebooks.

Modules (one concept each): layers, losses, model, optim, train, gradcheck, data, plot,
checks, sysinfo, activations (notebook 02), memory (parameter/byte/MAC accounting), flops
(matmul FLOPs and bytes of forward pass, backward pass and training step), timing
(benchmarks; thread counts, torch/CUDA timers, CPUStream), perceptron (notebook 01), xor
(notebook 03), liveness (what is alive when during a training step or an inference pass:
predicted peak memory), memtrace (CPU memory measured: tracemalloc, autograd's saved
tensors, the profiler), preprocess (a raw image turned into a model input, notebook 10),
confidence (thresholds, automation and error rates, calibration, notebook 10), gpukit
(the GPU measurement kit behind benchmarks/gpu.py; recorded results), step (the
training step fit runs: model.loss + optimizer.step planned into preallocated buffers, the
same numbers bit for bit), aligned (arrays on 64-byte cache-line boundaries). Importing
nnlib loads only NumPy; matplotlib and torch are imported inside the functions that need them.
"""

from importlib import metadata as _metadata

from . import (activations, aligned, checks, confidence, data, errors, flops, gpukit, gradcheck, layers, liveness,
               losses, memory, memtrace, model, optim, perceptron, plot, preprocess, step, timing, train,
               xor)
from .model import MLP
from .seeding import seed

try:  # one source of truth for the version: pyproject.toml
    __version__ = _metadata.version("nnlib")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["MLP", "seed", "activations", "aligned", "checks", "confidence", "data", "errors", "flops", "gpukit", "gradcheck",
           "layers", "liveness", "losses", "memory", "memtrace", "model", "optim", "perceptron", "plot",
           "preprocess", "step", "timing", "train", "xor", "__version__"]
