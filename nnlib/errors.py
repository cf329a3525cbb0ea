"""Errors that nnlib raises on bad input.

Each error message names what went wrong (the layer, the array, the file) and
how to fix it, so that a student never has to read a traceback from deep
inside NumPy. All of them subclass a built-in exception, so ``except
ValueError`` still works for code that does not know about nnlib.
"""


class NNLibError(Exception):
    """Base class of every error nnlib raises on purpose."""


class ShapeError(NNLibError, ValueError):
    """An array has the wrong number of dimensions or a mismatched size."""


class NonFiniteError(NNLibError, FloatingPointError):
    """An input, activation or loss contains NaN or infinity."""


class TrainingDiverged(NonFiniteError):
    """Training blew up: the loss or the weights became NaN or infinite, or the loss rose far
    above a constant guess's while staying finite. The message names epoch and step."""


class DTypeError(NNLibError, TypeError):
    """An array holds values nnlib cannot compute with (text, objects, complex numbers)."""


class LabelError(NNLibError, ValueError):
    """Class labels are not integers in ``[0, num_classes)``."""


class DataError(NNLibError, OSError):
    """A data file is missing, truncated, corrupted or has the wrong format."""


class ConfigError(NNLibError, ValueError):
    """A keyword argument has a value nnlib does not understand."""


class DeviceUnavailable(NNLibError, RuntimeError):
    """The accelerator a measurement needs is not there (e.g. no CUDA GPU visible to torch)."""


class PrecisionWarning(UserWarning):
    """A result cannot be trusted at this floating-point precision (e.g. gradcheck in float32)."""


class UnscaledInputWarning(UserWarning):
    """Inputs look like raw 0-255 pixels; training wants them scaled to [0, 1]."""
