"""environment.yml (conda, Binder) and pyproject.toml must list the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def split(requirement):
    """'torch==2.13.0' -> ('torch', '==2.13.0'); names normalised as pip does."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(2).replace(" ", "")


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(split(r) for r in reqs)


def conda_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            # python and pip are the environment itself; "-e ." installs nnlib.
            if entry == "pip" or entry.startswith(("python=", "-e")):
                continue
            name, spec = split(entry)
            out[name] = spec
    return out


def test_same_packages_and_constraints():
    py, conda = pyproject_requirements(), conda_requirements()
    assert py == conda, {
        "only in pyproject.toml": sorted(set(py) - set(conda)),
        "only in environment.yml": sorted(set(conda) - set(py)),
        "different constraints": {k: (py[k], conda[k]) for k in set(py) & set(conda) if py[k] != conda[k]},
    }


def test_torch_is_pinned_exactly():
    assert pyproject_requirements()["torch"] == "==2.13.0"


def test_required_course_packages_are_listed():
    names = set(pyproject_requirements())
    assert {"jupyterlab", "numpy", "matplotlib", "ipywidgets", "nbval", "torch", "nbgrader"} <= names
