# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The ``ray_status_facts`` filter: ``ray status`` text -> facts."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status_text import parse_ray_status


def ray_status_facts(text: Any) -> dict[str, Any]:
    """Parse the text ``ray status`` printed (any Ray 1.x/2.x format)."""
    try:
        return parse_ray_status(text)
    except ValueError as exc:
        raise AnsibleFilterError(f"ray_status_facts: {exc}") from None


class FilterModule:
    """Filters of wizardsofts.ray_cluster for ``ray status``."""

    def filters(self) -> dict[str, Any]:
        return {"ray_status_facts": ray_status_facts}
