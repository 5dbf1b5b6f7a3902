# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/filter/ray_lifecycle.py: thin wrappers that turn ValueError into filter errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_lifecycle import (
    FilterModule,
    ray_engine_problems,
    ray_image_archive_file,
    ray_image_manifest_id,
    ray_image_other_archives,
    ray_tags_selected,
    ray_token_file_text,
    ray_token_fingerprint,
    ray_version_problems,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

DIGEST = "ab" * 32


def test_filters_are_registered() -> None:
    assert FilterModule().filters() == {
        "ray_token_fingerprint": ray_token_fingerprint,
        "ray_token_file_text": ray_token_file_text,
        "ray_image_manifest_id": ray_image_manifest_id,
        "ray_image_archive_file": ray_image_archive_file,
        "ray_image_other_archives": ray_image_other_archives,
        "ray_version_problems": ray_version_problems,
        "ray_engine_problems": ray_engine_problems,
        "ray_tags_selected": ray_tags_selected,
    }


def test_token_fingerprint_labels_the_compose_file(lab_hosts: dict[str, dict[str, Any]]) -> None:
    # What the ray_compose role writes, and what a check of its compose files must compare with.
    token = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)
    fingerprint = ray_token_fingerprint(token)
    content = compose_content(build_plan(["lab-84"], ["lab-84", "lab-80"], lab_hosts), "lab-80", "workers", fingerprint)
    assert fingerprint in content
    assert token not in content


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ray_token_fingerprint(""), "ray_token_fingerprint: no token to fingerprint"),
        (lambda: ray_image_manifest_id("[]"), "ray_image_manifest_id: manifest.json lists no image"),
        (lambda: ray_image_archive_file("ray", "nope", "/srv"), "ray_image_archive_file: image ID 'nope'"),
        (lambda: ray_image_other_archives([], "/srv/ray.tar"), "ray_image_other_archives: archive '/srv/ray.tar'"),
        (lambda: ray_version_problems([], {"version": "2.60.0"}), "ray_version_problems: 'python_version'"),
        (lambda: ray_engine_problems("26.1.5", "25.0", "2.24.0"), "ray_engine_problems: expected docker info as a mapping"),
        (lambda: ray_engine_problems({}, "25", "latest"), "ray_engine_problems: minimum Compose v2 version 'latest'"),
    ],
    ids=[
        "empty-token",
        "empty-manifest",
        "bad-image-id",
        "archive-not-made-by-the-role",
        "cluster-without-python",
        "engine-info-not-a-mapping",
        "compose-minimum-not-a-release",
    ],
)
def test_errors_are_filter_errors(call: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError) as error:
        call()
    assert str(error.value).startswith(message)


def test_image_filters_chain() -> None:
    image_id = ray_image_manifest_id(json.dumps([{"Config": f"blobs/sha256/{DIGEST}"}]))
    archive = ray_image_archive_file("wizardsofts/ray:2.60.0-py311", image_id, "/srv")
    assert archive == "/srv/wizardsofts_ray_2.60.0-py311-abababababab.tar"


def test_version_problems_from_loop_results() -> None:
    results = [
        {"item": {"name": "ray-head"}, "stdout": "2.60.0 3.11.9", "rc": 0},
        {"item": {"name": "ray-worker-1"}, "stdout": "2.59.0 3.11.9", "rc": 0},
    ]
    assert ray_version_problems(results, {"version": "2.60.0", "python_version": "3.11"}) == [
        "ray-worker-1: runs Ray 2.59.0 on Python 3.11.9, the plan says Ray 2.60.0 on Python 3.11"
    ]


def test_token_file_text_filter() -> None:
    assert ray_token_file_text("abc") == "abc\n"
    with pytest.raises(AnsibleFilterError, match=r"^ray_token_file_text: no token to write"):
        ray_token_file_text("")


@pytest.mark.parametrize(
    ("tags", "run_tags", "skip_tags", "selected"),
    [
        (["verify"], ["all"], [], True),  # no --tags
        (["verify"], ["all"], ["verify"], False),  # --skip-tags verify
        (["verify"], ["ufw"], [], False),  # --tags ufw
        (["verify"], ["ufw", "verify"], [], True),
        (["verify"], ["tagged"], [], True),  # --tags tagged
        (["ray_head", "ray_worker"], ["ray_worker"], [], True),
        (["ray_head", "ray_worker"], ["all"], ["ray_head"], True),  # the workers still run
        (["ray_head", "ray_worker"], ["all"], ["ray_head", "ray_worker"], False),
        (["ray_head", "ray_worker"], ["ray_head"], ["ray_head"], False),  # asked for, and skipped
        (["ray_head", "ray_worker"], ["ray_worker"], ["ray_head"], True),
        ([], ["all"], [], False),
    ],
)
def test_tags_selected(tags: list[str], run_tags: list[str], skip_tags: list[str], selected: bool) -> None:
    assert ray_tags_selected(tags, run_tags, skip_tags) is selected


@pytest.mark.parametrize("bad", ["verify", None, 3])
def test_tags_selected_wants_lists(bad: Any) -> None:
    with pytest.raises(AnsibleFilterError, match=r"ray_tags_selected: .*expected a list of tag names"):
        ray_tags_selected(bad, ["all"], [])
