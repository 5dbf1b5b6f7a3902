# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Filters of the Celery layer: what the celery role writes and runs on a host, and what it would change."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._celery_files import celery_files, host_secrets
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._drift import celery_drift, celery_images


def _plan(plan: Any, name: str) -> dict[str, Any]:
    if not isinstance(plan, dict) or "cluster" not in plan:
        raise AnsibleFilterError(f"{name}: expected the cluster plan (ray_cluster_plan)")
    return plan


def ray_celery_host(plan: Any, host: str) -> dict[str, Any]:
    """The plan + a host -> the celery role's part there: ``files`` (path -> text, no secret), ``secrets``
    (the names of the secret files its containers read) and ``images`` (the images they run)."""
    plan = _plan(plan, "ray_celery_host")
    try:
        celery = plan["cluster"].get("celery") or {}
        files = celery_files(plan, str(host))
        secrets = host_secrets(plan, str(host)) if celery else []
        broker = bool(celery) and plan["hosts"][str(host)]["celery"]["broker"]
        return {
            "files": files,
            "secrets": secrets,
            "images": celery_images(plan, str(host)),
            # What site.yml's read of the host stats for the judgement (ray_celery_drift).
            "paths": [*files, *(f"{celery['secrets_dir']}/{name}" for name in secrets)]
            + ([celery["broker"]["data_dir"]] if broker else []),
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"ray_celery_host: {exc}") from None


def ray_celery_drift(probe: Any, plan: Any, host: str, secrets_sha256: Any, image_ids: Any = None) -> list[str]:
    """The host's read + the plan + the secrets' sha256 (and the archive's image IDs) -> what the celery
    role would change on the host."""
    if not isinstance(probe, dict):
        raise AnsibleFilterError(f"ray_celery_drift: expected the ray_cluster_deployed result, got {type(probe).__name__}")
    try:
        return celery_drift(probe, _plan(plan, "ray_celery_drift"), str(host), dict(secrets_sha256 or {}), dict(image_ids or {}))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"ray_celery_drift: {exc}") from None


class FilterModule:
    """Filters of wizardsofts.ray_cluster's Celery layer."""

    def filters(self) -> dict[str, Any]:
        return {"ray_celery_host": ray_celery_host, "ray_celery_drift": ray_celery_drift}
