"""The Kubernetes path, on paper but checked: deploy/helm/values.yaml and deploy/image/.

Nothing here builds the image or talks to a cluster (there is none in CI). It checks
that the Helm values parse and hold what the class needs (the image, memory per student,
the exchange volume where the image's nbgrader config puts the exchange), that every
file the image recipe copies or names exists in the repository (the build context),
and that docs/instructors.md gives the students-per-node figure these values imply.
The memory guarantee itself is checked against a measurement in tests/hub/test_hub_term.py.
"""
from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "deploy" / "helm" / "values.yaml"
DOCKERFILE = REPO / "deploy" / "image" / "Dockerfile"
APP_DIR = "/opt/dl-primer"  # where the recipe copies the repository
# The node docs/instructors.md sizes: 16 GiB, of which ~2.5 GiB go to the system, kubelet
# and the hub's own pods (check `kubectl describe node`, "Allocatable").
NODE_GIB, RESERVED_GIB = 16, 2.5


def k8s_bytes(quantity) -> int:
    text = str(quantity)
    for suffix, factor in {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
                           "K": 10**3, "M": 10**6, "G": 10**9}.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_values_parse_and_hold_what_a_class_needs():
    singleuser = values()["singleuser"]
    assert singleuser["image"]["name"] and str(singleuser["image"]["tag"])
    memory = singleuser["memory"]
    assert 0 < k8s_bytes(memory["guarantee"]) < k8s_bytes(memory["limit"])
    mounts = {m["mountPath"]: m["name"] for m in singleuser["storage"]["extraVolumeMounts"]}
    volumes = {v["name"] for v in singleuser["storage"]["extraVolumes"]}
    config = (REPO / "deploy" / "image" / "nbgrader_config.py").read_text()
    exchange = re.search(r'c\.Exchange\.root = "([^"]+)"', config).group(1)
    assert mounts.get(exchange) in volumes, f"the exchange {exchange} is not on a mounted volume"
    init = singleuser["initContainers"][0]
    assert "chmod ugo+rw " + exchange in " ".join(init["command"])


def test_every_file_the_image_recipe_names_exists():
    steps = instructions()
    assert steps[0][0] == "FROM" and ":" in steps[0][1], "pin the base image's tag"
    named = []
    for word, rest in steps:
        if word in ("COPY", "ADD"):
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            named += args[:-1]  # sources, relative to the build context (the repository)
        elif word == "RUN":
            named += [m.group(1) for m in re.finditer(re.escape(APP_DIR) + r"/([\w./-]+)", rest)]
    assert named, "no file found in the recipe"
    missing = [n for n in named if not (REPO / n).exists()]
    assert not missing, f"the image recipe names files that do not exist: {missing}"
    text = DOCKERFILE.read_text()
    assert "environment.yml" in text and "labextension enable @jupyter/nbgrader" in text
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip, "environment.yml must install the course package"


def test_the_docs_give_the_students_per_node_these_values_imply():
    guarantee = k8s_bytes(values()["singleuser"]["memory"]["guarantee"])
    per_node = math.floor((NODE_GIB - RESERVED_GIB) * 2**30 / guarantee)
    docs = (REPO / "docs" / "instructors.md").read_text()
    section = docs[docs.index("The course on a real JupyterHub"):]
    assert f"**{per_node} students**" in section, per_node
    assert "not run here" in section.lower()
