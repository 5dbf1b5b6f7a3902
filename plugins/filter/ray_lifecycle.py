# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Filters for the image archive, the token fingerprint, the upgrade's and the engine's version checks and the
run's tag selection."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._image import (
    archive_file,
    image_id_from_manifest,
    other_archives,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._lifecycle import (
    engine_problems,
    tags_selected,
    version_problems,
    versions_seen,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import token_file_text, token_fingerprint


def ray_token_fingerprint(token: Any) -> str:
    """The cluster token -> the fingerprint its containers are labelled with."""
    try:
        return token_fingerprint(token)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_token_fingerprint: {exc}") from None


def ray_token_file_text(token: Any) -> str:
    """The cluster token -> the token file's exact text (what the ray_compose role writes)."""
    try:
        return token_file_text(token)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_token_file_text: {exc}") from None


def ray_image_manifest_id(manifest: Any) -> str:
    """A ``docker save`` archive's ``manifest.json`` text -> the first image's ID (``sha256:<hex>``)."""
    try:
        return image_id_from_manifest(manifest)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_image_manifest_id: {exc}") from None


def ray_image_archive_file(image: str, image_id: str, archive_dir: str, archive_path: str = "") -> str:
    """The image name and ID -> the archive on the controller (``archive_path`` when given)."""
    try:
        return archive_file(image, image_id, archive_dir, archive_path)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_image_archive_file: {exc}") from None


def ray_image_other_archives(paths: list[str], archive: str) -> list[str]:
    """The archive directory's files + the archive in use -> the other builds' archives of its image."""
    try:
        return other_archives(archive, [str(path) for path in paths])
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"ray_image_other_archives: {exc}") from None


def ray_version_problems(results: list[dict[str, Any]], cluster: dict[str, Any]) -> list[str]:
    """A looped version probe's results + the plan's cluster -> the nodes off the planned versions."""
    try:
        return version_problems(versions_seen(results), cluster["version"], cluster["python_version"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"ray_version_problems: {exc}") from None


def ray_engine_problems(info: Any, min_engine: str, min_compose: str) -> list[str]:
    """``docker info --format '{{json .}}'`` (parsed) + the minimum versions -> what is too old or missing."""
    if not isinstance(info, dict):
        raise AnsibleFilterError(f"ray_engine_problems: expected docker info as a mapping, got {type(info).__name__}")
    try:
        return engine_problems(info, min_engine, min_compose)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_engine_problems: {exc}") from None


def ray_tags_selected(tags: Any, run_tags: Any, skip_tags: Any) -> bool:
    """Tags + ``ansible_run_tags`` + ``ansible_skip_tags`` -> whether this run runs tasks with any of the tags."""
    try:
        return tags_selected(tags, run_tags, skip_tags)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_tags_selected: {exc}") from None


class FilterModule:
    """Filters of wizardsofts.ray_cluster for the roles' lifecycle and the day-2 playbooks."""

    def filters(self) -> dict[str, Any]:
        return {
            "ray_token_fingerprint": ray_token_fingerprint,
            "ray_token_file_text": ray_token_file_text,
            "ray_image_manifest_id": ray_image_manifest_id,
            "ray_image_archive_file": ray_image_archive_file,
            "ray_image_other_archives": ray_image_other_archives,
            "ray_version_problems": ray_version_problems,
            "ray_engine_problems": ray_engine_problems,
            "ray_tags_selected": ray_tags_selected,
        }
