# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The pinned versions live in plugins/module_utils/_pins.py; files that cannot read it agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import (
    RAY_IMAGE_EXTRA_PACKAGES,
    RAY_PYTHON_VERSION,
    RAY_VERSION,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import CLUSTER_DEFAULTS, cluster_settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE = f"wizardsofts/ray:{RAY_VERSION}-py{RAY_PYTHON_VERSION.replace('.', '')}"


def test_planner_defaults_are_the_pins() -> None:
    settings = cluster_settings({"h1": {}})
    assert (settings["ray_cluster_version"], settings["ray_cluster_python_version"]) == (RAY_VERSION, RAY_PYTHON_VERSION)
    assert settings["ray_cluster_image"] == DEFAULT_IMAGE
    assert settings["_image_extra_packages"] == RAY_IMAGE_EXTRA_PACKAGES


# (file, the line that pins Ray there)
RAY_PINS = [
    ("requirements.txt", f"ray[default]=={RAY_VERSION}"),
    ("constraints.txt", f"ray=={RAY_VERSION}"),
]


@pytest.mark.parametrize(("path", "line"), RAY_PINS, ids=[p for p, _ in RAY_PINS])
def test_python_requirements_pin_the_same_ray(path: str, line: str) -> None:
    assert line in (REPO / path).read_text().splitlines()


def test_argument_spec_default_is_the_pin() -> None:
    spec = yaml.safe_load((REPO / "roles/cluster_plan/meta/argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert options["ray_cluster_version"]["default"] == CLUSTER_DEFAULTS["ray_cluster_version"] == RAY_VERSION


def test_lab_images_list_the_image_images_sh_builds() -> None:
    lab = yaml.safe_load((REPO / "inventories/local/group_vars/all/lab.yml").read_text())
    assert DEFAULT_IMAGE in lab["lab_images"]


@pytest.mark.parametrize("path", ["roles/ray_image/files/Dockerfile", "lab/images.sh", "roles/ray_image/defaults/main.yml"])
def test_no_copy_of_the_pins(path: str) -> None:
    text = (REPO / path).read_text()
    assert RAY_VERSION not in text and RAY_IMAGE_EXTRA_PACKAGES not in text


def test_inventories_do_not_repeat_the_defaults() -> None:
    for path in sorted((REPO / "inventories").glob("*/group_vars/**/*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for key in ("ray_cluster_version", "ray_cluster_python_version", "ray_cluster_image"):
            assert data.get(key) in (None,), f"{path}: {key} repeats the default"


def test_images_sh_reads_every_pin_it_names() -> None:
    names = re.findall(r"\$\(pin (\w+)", (REPO / "lab/images.sh").read_text())
    pins = (REPO / "plugins/module_utils/_pins.py").read_text()
    assert names
    for name in names:
        assert re.search(rf'^{name} = "[^"]+"$', pins, re.M), name


def test_celery_image_tag_and_lab_images_follow_the_celery_pins() -> None:
    from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _pins

    packages = dict(item.split("==") for item in _pins.CELERY_PACKAGES.split())
    assert all(packages.values()), "every Celery package is pinned"
    py = RAY_PYTHON_VERSION.replace(".", "")
    image = _pins.CELERY_IMAGE
    assert re.fullmatch(rf"wizardsofts/celery:{packages['celery[redis]']}-{packages['flower']}-py{py}-r[0-9]+", image), image
    assert all("=" in item for item in _pins.CELERY_SYSTEM_PACKAGES.split())
    lab = yaml.safe_load((REPO / "inventories/local/group_vars/all/lab.yml").read_text())
    assert _pins.CELERY_IMAGE in lab["lab_images"]


def test_the_celery_image_s_files_are_those_its_revision_names() -> None:
    """A change to the Celery image's Dockerfile or launcher needs a new revision in its tag (and this digest)."""
    import hashlib
    import os

    from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _pins

    root = REPO / "roles" / "celery" / "files"
    digest = hashlib.sha256()
    launcher = sorted(
        os.path.relpath(os.path.join(top, name), root)
        for top, _, names in os.walk(root / "launcher")
        for name in names
        if "__pycache__" not in top and ".egg-info" not in top and not name.endswith(".pyc")
    )
    paths = ["Dockerfile", *launcher]
    for path in paths:
        digest.update(path.encode() + b"\0" + hashlib.sha256((root / path).read_bytes()).digest())
    assert digest.hexdigest()[:16] == _pins.CELERY_IMAGE_FILES_SHA256, (
        "roles/celery/files changed: bump the revision (-r<n>) of _pins.CELERY_IMAGE and set CELERY_IMAGE_FILES_SHA256"
        f" to {digest.hexdigest()[:16]}"
    )
