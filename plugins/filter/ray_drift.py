# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Filters that say what a role would change on a host, from one read of the host (ray_cluster_deployed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._drift import (
    compose_drift,
    docker_drift,
    files_to_write,
    image_drift,
    recreated_containers,
    ufw_drift,
)


def _judged(name: str, judge: Callable[..., list[str]], probe: Any, *args: Any) -> list[str]:
    if not isinstance(probe, dict):
        raise AnsibleFilterError(f"{name}: expected the ray_cluster_deployed result (a mapping), got {type(probe).__name__}")
    try:
        return judge(probe, *args)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from None


def ray_ufw_drift(
    probe: Any, firewall: list[dict[str, Any]], comment_prefix: str, logging: str, remove_stale: bool = True
) -> list[str]:
    """The host's read + the plan's rules for it + the role's settings -> what the ufw role would change."""
    return _judged("ray_ufw_drift", ufw_drift, probe, firewall, comment_prefix, logging, bool(remove_stale))


def ray_docker_drift(
    probe: Any, packages: list[str], daemon_json: str, min_engine: str, min_compose: str, daemon_json_path: str
) -> list[str]:
    """The host's read + the docker_engine role's packages, daemon.json text, minimum versions and daemon.json path -> changes."""
    return _judged(
        "ray_docker_drift", docker_drift, probe, list(packages), str(daemon_json), min_engine, min_compose, str(daemon_json_path)
    )


def ray_image_drift(probe: Any, image: str, image_id: str = "") -> list[str]:
    """The host's read + the image (and, for the archive method, its exact ID) -> what the ray_image role would change."""
    return _judged("ray_image_drift", image_drift, probe, image, image_id or "")


def ray_compose_drift(
    probe: Any,
    plan: dict[str, Any],
    host: str,
    kind: str,
    token_fingerprint: str = "",
    token_sha256: str = "",
    files_only: bool = False,
) -> list[str]:
    """The host's read + the plan + one project (head or workers) -> what the ray_compose role would change
    (``files_only``: in what it writes before it brings the project up)."""
    return _judged(
        "ray_compose_drift", compose_drift, probe, plan, host, kind, token_fingerprint or "", token_sha256 or "", bool(files_only)
    )


def ray_compose_recreated(probe: Any, plan: dict[str, Any], host: str, kind: str, token_fingerprint: str = "") -> list[str]:
    """The host's read + the plan + one project -> the running containers the ray_compose role would recreate."""
    return _judged("ray_compose_recreated", recreated_containers, probe, plan, host, kind, token_fingerprint or "")


def ray_files_to_write(probe: Any, files: dict[str, str], mode: str, group: str | None = None) -> dict[str, str]:
    """The host's read + files a role writes (path -> text) -> the ones it must write (all of them without a read)."""
    if probe in (None, {}):
        return dict(files)
    return _judged("ray_files_to_write", files_to_write, probe, dict(files), str(mode), None if group is None else str(group))


class FilterModule:
    """Filters of wizardsofts.ray_cluster that judge a host's read against each role."""

    def filters(self) -> dict[str, Any]:
        return {
            "ray_ufw_drift": ray_ufw_drift,
            "ray_docker_drift": ray_docker_drift,
            "ray_image_drift": ray_image_drift,
            "ray_compose_drift": ray_compose_drift,
            "ray_compose_recreated": ray_compose_recreated,
            "ray_files_to_write": ray_files_to_write,
        }
