# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Filters of the monitoring stack: the files the ray_monitoring role writes, what it would change,
and the web login's hash."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._drift import monitoring_drift
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring import monitoring_health
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import monitoring_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import (
    bcrypt_hash,
    login_hashes,
    prometheus_ray_password,
)


def ray_monitoring_files(
    plan: Any,
    host: str,
    password_hash: str,
    ray_password_hash: str = "",
    receiver_cert: str = "",
    password_sha256: str = "",
    token_fingerprint: str = "",
) -> dict[str, str]:
    """The plan + a host + the login's bcrypt hash (and Ray's dashboard's, the log receiver's
    certificate, the password file's sha256 and the token's fingerprint) -> every file the
    ray_monitoring role writes there (path -> text)."""
    if not isinstance(plan, dict) or "cluster" not in plan:
        raise AnsibleFilterError("ray_monitoring_files: expected the cluster plan (ray_cluster_plan)")
    try:
        return monitoring_files(
            plan,
            str(host),
            str(password_hash),
            str(ray_password_hash or ""),
            str(receiver_cert or ""),
            str(password_sha256 or ""),
            str(token_fingerprint or ""),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"ray_monitoring_files: {exc}") from None


def ray_monitoring_drift(
    probe: Any,
    plan: Any,
    host: str,
    password_hash: str,
    password_sha256: str,
    image_id: str = "",
    ray_password_hash: str = "",
    receiver_cert: str = "",
    token_fingerprint: str = "",
) -> list[str]:
    """The host's read + the plan + the login's hash and the password file's sha256 (and Ray's
    dashboard's login hash, the log receiver's certificate and the token's fingerprint) -> what the
    ray_monitoring role would change on the host."""
    if not isinstance(probe, dict):
        raise AnsibleFilterError(f"ray_monitoring_drift: expected the ray_cluster_deployed result, got {type(probe).__name__}")
    try:
        return monitoring_drift(
            probe,
            plan,
            str(host),
            str(password_hash),
            str(password_sha256),
            image_id or "",
            str(ray_password_hash or ""),
            str(receiver_cert or ""),
            str(token_fingerprint or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"ray_monitoring_drift: {exc}") from None


def ray_monitoring_logins(record: Any, password_sha256: Any, token_fingerprint: Any) -> dict[str, str] | None:
    """The logins' record as the host's read holds it + the sha256 of the password file's text and the
    token's fingerprint as they are now (None: not known) -> the hashes the record holds, when it was
    written for those secrets; else None."""
    return login_hashes(record, password_sha256, token_fingerprint)


def ray_monitoring_health(plan: Any, targets: Any, alerts: Any) -> dict[str, Any]:
    """The plan + Prometheus's targets answer + Alertmanager's alerts answer (None: no answer) -> health and a summary line."""
    if not isinstance(plan, dict) or not (plan.get("cluster") or {}).get("monitoring"):
        raise AnsibleFilterError("ray_monitoring_health: expected a cluster plan with monitoring on")
    try:
        return monitoring_health(plan, targets, alerts)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"ray_monitoring_health: {exc}") from None


def ray_bcrypt_hash(password: Any) -> str:
    """A password -> its bcrypt hash, the same for the same password (salt derived from it)."""
    try:
        return bcrypt_hash(password)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_bcrypt_hash: {exc}") from None


def ray_prometheus_ray_password(token: Any) -> str:
    """A cluster token -> the password of Prometheus's user ray (Ray's dashboard), derived from it."""
    try:
        return prometheus_ray_password(token)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_prometheus_ray_password: {exc}") from None


class FilterModule:
    """Filters of wizardsofts.ray_cluster's monitoring."""

    def filters(self) -> dict[str, Any]:
        return {
            "ray_monitoring_files": ray_monitoring_files,
            "ray_monitoring_drift": ray_monitoring_drift,
            "ray_monitoring_health": ray_monitoring_health,
            "ray_monitoring_logins": ray_monitoring_logins,
            "ray_bcrypt_hash": ray_bcrypt_hash,
            "ray_prometheus_ray_password": ray_prometheus_ray_password,
        }
