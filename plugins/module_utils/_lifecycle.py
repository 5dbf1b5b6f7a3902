# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""What the roles and the day-2 playbooks compare with the running cluster.

The token's fingerprint (the label that makes a new token recreate the containers), the Ray and
Python versions each node reports after an upgrade, the Docker Engine and Compose versions a host
runs.

Private to wizardsofts.ray_cluster. Pure functions, no Ansible imports; errors are ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError, parse_version


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


def _release(text: Any) -> tuple[int, ...] | None:
    """``v2.24.6-desktop.1`` / ``26.1.5+dfsg1`` / ``25`` -> (2, 24, 6) / (26, 1, 5) / (25, 0, 0); None if not a release.

    Padded to three parts, so ``25`` and ``25.0.0`` compare equal."""
    match = re.match(r"^v?(\d+(?:\.\d+)*)(?:[-+~].*)?$", str(text or "").strip())
    if not match:
        return None
    parts = [int(part) for part in match.group(1).split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def engine_versions(info: Mapping[str, Any]) -> dict[str, str]:
    """``docker info --format '{{json .}}'`` (parsed) -> {engine, compose}: the versions as the engine reports them.

    A missing Compose plugin (or engine version) is an empty string.
    """
    plugins = (info.get("ClientInfo") or {}).get("Plugins") or []
    compose = next((str(p.get("Version", "")) for p in plugins if isinstance(p, Mapping) and p.get("Name") == "compose"), "")
    return {"engine": str(info.get("ServerVersion") or ""), "compose": compose}


def engine_problems(info: Mapping[str, Any], min_engine: str, min_compose: str) -> list[str]:
    """What makes a host's Docker unfit for the collection: Engine older than ``min_engine``, Compose v2
    older than ``min_compose`` (or missing: v1 ignores the containers' limits), or versions that are not
    releases. Pre-release and build suffixes (``-rc1``, ``+dfsg1``, ``-desktop.1``) are ignored."""
    wanted = {
        "engine": (_release(min_engine), min_engine, "Docker Engine"),
        "compose": (_release(min_compose), min_compose, "Compose v2"),
    }
    problems = []
    for key, seen in engine_versions(info).items():
        minimum, minimum_text, name = wanted[key]
        if minimum is None:
            raise ValueError(f"minimum {name} version {minimum_text!r} is not a release (expected e.g. 2.24.0)")
        release = _release(seen)
        if not seen:
            problems.append(f"{name} is missing ({minimum_text} or later is required)")
        elif release is None:
            problems.append(f"{name} reports version {seen!r}, which is not a release ({minimum_text} or later is required)")
        elif release < minimum:
            problems.append(f"{name} {seen} is older than {minimum_text}")
    return problems


def tags_selected(tags: Iterable[str], run_tags: Iterable[str], skip_tags: Iterable[str]) -> bool:
    """Whether this run (``ansible_run_tags``, ``ansible_skip_tags``) runs a task tagged with any of
    ``tags``: one of them is asked for (or ``all``, or ``tagged``) and not skipped."""
    for value, name in ((tags, "tags"), (run_tags, "run_tags"), (skip_tags, "skip_tags")):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"{name}: expected a list of tag names, got {value!r}")
    run, skip = set(run_tags), set(skip_tags)
    return any(tag not in skip and (tag in run or "all" in run or "tagged" in run) for tag in tags)
