# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""What the roles and the day-2 playbooks compare with the running cluster.

The token's fingerprint (the label that makes a new token recreate the containers), the Ray and
Python versions each node reports after an upgrade, and how many servers the smoke job must reach.

Private to wizardsofts.ray_cluster. Pure functions, no Ansible imports; errors are ``ValueError``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError, parse_version

# Hex digits of the token's sha256 kept in the containers' label.
FINGERPRINT_LENGTH = 32


def token_fingerprint(token: Any) -> str:
    """The token's fingerprint: the first 32 hex digits of its sha256 (never the token itself)."""
    if not isinstance(token, str) or not token:
        raise ValueError("no token to fingerprint (expected a non-empty string)")
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def versions_seen(results: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A looped exec task's results (``item`` = a planned node) -> container name to what it printed.

    A node whose command failed maps to ``exit code <rc>: <stderr>``.
    """
    seen: dict[str, str] = {}
    for result in results:
        name = str((result.get("item") or {}).get("name", "?"))
        rc = result.get("rc", 0)
        if rc:
            seen[name] = f"exit code {rc}: {str(result.get('stderr', '')).strip()}"
        else:
            seen[name] = str(result.get("stdout", "")).strip()
    return seen


def version_problems(seen: Mapping[str, str], version: str, python_version: str) -> list[str]:
    """Nodes that do not run the planned Ray release on the planned Python minor version.

    ``seen`` maps container names to what playbooks/upgrade.yml's probe printed there
    (``<ray version> <python version>``). Ray releases are read with the planner's own parser
    (``parse_version``), so a node must print a release it would accept; Python is compared on
    its minor version (``3.11.9`` runs ``3.11``).
    """
    wanted = parse_version(version)
    problems: list[str] = []
    for name, text in seen.items():
        parts = text.split()
        if len(parts) != 2:
            problems.append(f"{name}: printed {text!r}, expected '<ray version> <python version>'")
            continue
        ray_text, python_text = parts
        try:
            ray_ok = parse_version(ray_text, None, name) == wanted
        except PlanError:
            ray_ok = False
        python = re.match(r"^(\d+)\.(\d+)", python_text)
        python_ok = python is not None and f"{python.group(1)}.{python.group(2)}" == python_version
        if not (ray_ok and python_ok):
            problems.append(
                f"{name}: runs Ray {ray_text} on Python {python_text}, the plan says Ray {version} on Python {python_version}"
            )
    return problems


def smoke_min_hosts(expected_nodes: Iterable[Mapping[str, Any]], min_hosts: int) -> int:
    """How many servers the smoke job must have reached: ``min_hosts``, capped by the servers with nodes."""
    if int(min_hosts) < 1:
        raise ValueError(f"min_hosts: expected a whole number >= 1, got {min_hosts!r}")
    return min(int(min_hosts), len({node["host"] for node in expected_nodes}))
