# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Filters for the pieces templates and tasks need from the plan's helpers."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._changes import (
    change_summary,
    deployed_from,
    plan_changes,
    removal_refusal,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import (
    parse_ufw_added,
    parse_ufw_status,
    ufw_rule_diff,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError, parse_size
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._node_logs import node_log_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._verify import (
    container_mismatches,
    smoke_spread,
    summary_lines,
)


def ray_node_log_files(plan: dict[str, Any], host: str) -> dict[str, str]:
    """Path -> text of what keeps ``host``'s node log directories within their budget (the pruner, its units)."""
    try:
        return node_log_files(plan, host)
    except (KeyError, OSError) as exc:
        raise AnsibleFilterError(f"ray_node_log_files: {exc}") from None


def ray_size_to_bytes(value: Any) -> int:
    """``6G``, ``512m``, ``1.5GiB``, ``2000000000`` -> bytes."""
    try:
        return parse_size(value, None, "ray_size_to_bytes")
    except PlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


def ray_ufw_rule_diff(
    show_added: str, desired: list[dict[str, Any]], comment_prefix: str = "ray_cluster"
) -> dict[str, list[dict[str, Any]]]:
    """``ufw show added`` text + the plan's rules -> ``{add: [...], delete: [...]}``."""
    try:
        # Empty text: UFW is not installed yet (check mode on a fresh host), so it has no rules.
        current = parse_ufw_added(show_added) if str(show_added or "").strip() else []
        return ufw_rule_diff(current, desired, comment_prefix)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_ufw_rule_diff: {exc}") from None


def ray_ufw_status(status_verbose: str) -> dict[str, Any]:
    """``ufw status verbose`` text -> ``{active, logging, incoming, outgoing, routed}``."""
    return parse_ufw_status(str(status_verbose or ""))


def ray_compose_content(plan: dict[str, Any], host: str, kind: str, token_fingerprint: str = "") -> str:
    """Render a host's ``head`` or ``workers`` compose project from the plan (empty: no services)."""
    try:
        return compose_content(plan, host, kind, token_fingerprint)
    except (ValueError, KeyError) as exc:
        raise AnsibleFilterError(f"ray_compose_content: {exc}") from None


def ray_container_mismatches(inspect: list[dict[str, Any]], nodes: list[dict[str, Any]], image: str) -> list[str]:
    """``docker inspect`` output + the host's planned nodes -> list of differences (empty = as planned)."""
    return container_mismatches(inspect, nodes, image)


def ray_smoke_spread(result: dict[str, Any], cluster_nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The smoke job's per-node counts -> counts per host/container and the number of hosts used."""
    return smoke_spread(result, cluster_nodes)


def ray_cluster_summary(cluster: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """``ray_cluster`` facts + the plan -> the per-host summary table, one line per item."""
    return summary_lines(cluster, plan)


def ray_cluster_changes(
    plan: dict[str, Any], deployed: Any, hosts: list[str] | None = None, key: str = "__cluster_plan_deployed"
) -> dict[str, Any]:
    """The plan against the compose files the hosts run -> ``{hosts, refusal, summary}``.

    ``deployed`` maps hosts to what was read: ``hostvars`` (each host's ``key`` holds the
    ray_cluster_deployed result), registered results, or ``{path: text}`` mappings. ``hosts``
    names the hosts read (default: every key of ``deployed``); one whose result is missing,
    skipped or failed counts as not read.
    """
    names = list(deployed) if hosts is None else list(hosts)
    by_host: dict[str, dict[str, str | None]] = {}
    for host in names:
        files = deployed_from(deployed[host], key) if host in deployed else None
        if files is not None:
            by_host[host] = files
    try:
        changes = plan_changes(plan, by_host)
        refusal = removal_refusal(plan, changes, list(by_host))
    except (ValueError, KeyError) as exc:
        raise AnsibleFilterError(f"ray_cluster_changes: {exc}") from None
    return {"hosts": changes, "refusal": refusal, "summary": change_summary(changes)}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "ray_size_to_bytes": ray_size_to_bytes,
            "ray_ufw_rule_diff": ray_ufw_rule_diff,
            "ray_ufw_status": ray_ufw_status,
            "ray_compose_content": ray_compose_content,
            "ray_container_mismatches": ray_container_mismatches,
            "ray_smoke_spread": ray_smoke_spread,
            "ray_cluster_summary": ray_cluster_summary,
            "ray_cluster_changes": ray_cluster_changes,
            "ray_node_log_files": ray_node_log_files,
        }
