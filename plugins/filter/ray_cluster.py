# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Filters for the pieces templates and tasks need from the plan's helpers."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import (
    parse_ufw_added,
    ufw_rule_diff,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import PlanError, parse_size


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
        return ufw_rule_diff(parse_ufw_added(show_added), desired, comment_prefix)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_ufw_rule_diff: {exc}") from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"ray_size_to_bytes": ray_size_to_bytes, "ray_ufw_rule_diff": ray_ufw_rule_diff}
