# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/filter/ray_drift.py: thin wrappers over _drift that turn errors into filter errors."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_drift import (
    FilterModule,
    ray_compose_drift,
    ray_compose_recreated,
    ray_docker_drift,
    ray_files_to_write,
    ray_image_drift,
    ray_ufw_drift,
)


def test_filters_are_registered() -> None:
    assert FilterModule().filters() == {
        "ray_ufw_drift": ray_ufw_drift,
        "ray_docker_drift": ray_docker_drift,
        "ray_image_drift": ray_image_drift,
        "ray_compose_drift": ray_compose_drift,
        "ray_compose_recreated": ray_compose_recreated,
        "ray_files_to_write": ray_files_to_write,
    }


def test_files_to_write_without_a_read_are_every_file() -> None:
    files = {"/c/a.yml": "a\n"}
    assert ray_files_to_write({}, files, "0640", 65534) == files
    assert ray_files_to_write(None, files, "0640") == files
    assert ray_files_to_write({"stats": {}}, files, "0640", 65534) == files  # read, but not these: missing


def test_a_skipped_read_is_named() -> None:
    assert ray_image_drift({"docker": None}, "ray:1") == ["docker: not answering, the image cannot be read"]
    assert ray_ufw_drift({"ufw": None}, [], "ray_cluster", "low") == ["ufw: not installed"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ray_image_drift("not a read", "ray:1"), "ray_image_drift: expected the ray_cluster_deployed result"),
        (lambda: ray_files_to_write("not a read", {}, "0640"), "ray_files_to_write: expected the ray_cluster_deployed result"),
        (lambda: ray_compose_drift({}, {"cluster": {}}, "lab-80", "workers"), "ray_compose_drift: 'hosts'"),
        (
            lambda: ray_compose_recreated({"docker": {"info": {}}}, {"cluster": {}}, "lab-80", "workers"),
            "ray_compose_recreated: 'hosts'",
        ),
        (
            lambda: ray_docker_drift(
                {"docker": {"info": {}}, "services": {}}, [], "{}", "25.0", "latest", "/etc/docker/daemon.json"
            ),
            "ray_docker_drift: minimum Compose v2 version 'latest'",
        ),
        (
            lambda: ray_ufw_drift({"ufw": {"added": "garbage", "status": ""}}, [], "ray_cluster", "low"),
            "ray_ufw_drift: ",
        ),
    ],
    ids=[
        "not-a-read",
        "files-not-a-read",
        "plan-without-hosts",
        "recreated-plan-without-hosts",
        "bad-minimum",
        "unparsable-rules",
    ],
)
def test_errors_are_filter_errors(call: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError) as error:
        call()
    assert str(error.value).startswith(message)
