"""Importing nnlib is cheap and side-effect free (nothing runs at import time)."""
import subprocess
import sys

HEAVY = ("matplotlib", "torch", "pooch", "tqdm", "ipywidgets")


def test_import_loads_only_numpy_and_prints_nothing():
    code = f"import sys, nnlib; print(sorted(set({HEAVY!r}) & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n", f"importing nnlib loaded {result.stdout.strip()} or printed something"
    assert result.stderr == ""


def test_every_module_is_exported():
    import pkgutil

    import nnlib

    modules = {m.name for m in pkgutil.iter_modules(nnlib.__path__)} - {"seeding", "sysinfo"}
    assert modules <= set(nnlib.__all__), f"not in nnlib.__all__: {sorted(modules - set(nnlib.__all__))}"
