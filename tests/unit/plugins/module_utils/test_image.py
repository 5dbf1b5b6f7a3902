# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/module_utils/_image.py (the ray_image role's archive method)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._image import (
    archive_file,
    image_id_from_manifest,
    other_archives,
)

DIGEST = "5f0c1a2b3c4d" + "e" * 52


@pytest.mark.parametrize(
    "manifest",
    [
        json.dumps([{"Config": f"{DIGEST}.json", "RepoTags": ["wizardsofts/ray:2.60.0-py311"], "Layers": []}]),
        json.dumps([{"Config": f"blobs/sha256/{DIGEST}", "RepoTags": ["wizardsofts/ray:2.60.0-py311"]}]),
        [{"Config": f"blobs/sha256/{DIGEST}"}, {"Config": "0" * 64 + ".json"}],
        json.dumps([{"Config": f"{DIGEST}.json"}]) + "\n",
    ],
    ids=["classic-layout", "oci-layout", "parsed-list-first-image", "trailing-newline"],
)
def test_image_id_from_manifest(manifest: Any) -> None:
    assert image_id_from_manifest(manifest) == f"sha256:{DIGEST}"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("not json", "manifest.json is not JSON: 'not json'"),
        ("[]", "manifest.json lists no image"),
        ('{"Config": "x"}', "manifest.json lists no image"),
        (json.dumps([{"Config": "blobs/sha512/" + "a" * 128}]), "the first image's Config is 'blobs/sha512/"),
        (json.dumps([{"RepoTags": []}]), "the first image's Config is '', not an image ID"),
        (json.dumps([{"Config": DIGEST.upper() + ".json"}]), "not an image ID"),
    ],
    ids=["not-json", "empty-list", "not-a-list", "other-digest", "no-config", "upper-case"],
)
def test_image_id_from_a_bad_manifest(manifest: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"manifest\.json") as error:
        image_id_from_manifest(manifest)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("image", "image_id", "archive_dir", "archive_path", "expected"),
    [
        (
            "wizardsofts/ray:2.60.0-py311",
            f"sha256:{DIGEST}",
            "/root/.cache/wizardsofts.ray_cluster/images",
            "",
            "/root/.cache/wizardsofts.ray_cluster/images/wizardsofts_ray_2.60.0-py311-5f0c1a2b3c4d.tar",
        ),
        (
            "registry.local:5000/team/ray:2.60.0",
            DIGEST,
            "/srv/images",
            "",
            "/srv/images/registry.local_5000_team_ray_2.60.0-5f0c1a2b3c4d.tar",
        ),
        ("wizardsofts/ray:2.60.0-py311", "", "/srv/images", "/data/ray.tar", "/data/ray.tar"),
    ],
    ids=["derived", "registry-with-port-and-bare-digest", "given-archive-wins"],
)
def test_archive_file(image: str, image_id: str, archive_dir: str, archive_path: str, expected: str) -> None:
    assert archive_file(image, image_id, archive_dir, archive_path) == expected


@pytest.mark.parametrize(
    ("image", "image_id", "message"),
    [("wizardsofts/ray:1", "sha256:xyz", "image ID 'sha256:xyz'"), ("", f"sha256:{DIGEST}", "image: expected")],
    ids=["bad-id", "no-image"],
)
def test_archive_file_refuses(image: str, image_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        archive_file(image, image_id, "/srv/images")


def test_other_archives_are_the_other_builds_of_the_same_image() -> None:
    directory = "/home/op/.cache/wizardsofts.ray_cluster/images"
    shipped = archive_file("wizardsofts/ray:2.60.0-py311", "sha256:" + "ab" * 32, directory)
    older = archive_file("wizardsofts/ray:2.60.0-py311", "sha256:" + "01" * 32, directory)
    files = [
        shipped,
        older,
        archive_file("wizardsofts/ray:2.59.0-py311", "sha256:" + "02" * 32, directory),  # another tag
        archive_file("wizardsofts/ray:2.60.0-py311-extra", "sha256:" + "03" * 32, directory),  # a longer name
        f"{directory}/wizardsofts_ray_2.60.0-py311-notes.tar",  # not an archive the role made
        f"{directory}/wizardsofts_ray_2.60.0-py311-0123456789AB.tar",  # not lowercase hex
    ]
    assert other_archives(shipped, files) == [older]
    assert other_archives(older, files) == [shipped]
    assert other_archives(shipped, [shipped]) == []
    with pytest.raises(ValueError, match="not a name archive_file makes"):
        other_archives("/srv/given-by-the-user.tar", files)
