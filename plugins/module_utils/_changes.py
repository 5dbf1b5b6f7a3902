# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""What a run would add, change and remove: the plan's containers against the compose files that run now.

Private to the collection (no compatibility promise). Pure, and runs on the controller (the hosts'
compose files are read by ``_probe.read_files``). Errors are ``ValueError`` with the host and the
file in the message.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import KINDS, compose_content

# The label that carries the token's fingerprint (compose_service): the controller does not know
# the token when it plans, so the label is left out of the comparison. A token rotation still
# recreates every container (ray_compose), it is just not counted as a change here.
TOKEN_LABEL = "auth-token-sha256"  # noqa: S105 (a label name, not a secret)
# Stands in for the fingerprint when the deployed file has none (the label is ignored anyway).
DUMMY_FINGERPRINT = "0" * 32
CONFIRM_VARIABLE = "ray_cluster_confirm_removal"
SHARE_VARIABLE = "ray_cluster_removal_max_share"


def deployed_services(text: str | None, where: str = "compose file") -> dict[str, dict[str, Any]]:
    """Container name -> service definition of one compose file's text (empty or missing: none)."""
    if text is None or not str(text).strip():
        return {}
    import yaml  # Only the controller parses; the module that reads the files on the hosts needs no PyYAML.

    try:
        # The C loader when PyYAML has it: a large cluster's files parse in a fraction of the time.
        data = yaml.load(str(text), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{where}: not valid YAML{at}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{where}: not a compose file (expected a mapping with services)")
    services = data.get("services")
    if services is not None and not isinstance(services, dict):
        raise ValueError(f"{where}: not a compose file (services is not a mapping)")
    result: dict[str, dict[str, Any]] = {}
    for key, service in (services or {}).items():
        if not isinstance(service, dict):
            raise ValueError(f"{where}: service {key} is not a mapping")
        # Our renderer always names the container; compose would otherwise name it after the service.
        result[str(service.get("container_name") or key)] = service
    return result


def _token_label(plan: dict[str, Any]) -> str:
    return f"{plan['cluster']['label_prefix']}.{TOKEN_LABEL}"


def _fingerprint(text: str | None, label: str) -> str:
    """The token fingerprint the deployed containers are labelled with, else a dummy one."""
    pattern = rf'^\s*"?{re.escape(label)}"?:\s*"?([0-9a-f]{{16,64}})"?\s*$'
    match = re.search(pattern, text or "", re.MULTILINE)
    return match.group(1) if match else DUMMY_FINGERPRINT


def _comparable(service: dict[str, Any], label: str) -> dict[str, Any]:
    """A service definition without the token fingerprint label."""
    result = copy.deepcopy(service)
    labels = result.get("labels")
    if isinstance(labels, dict):
        labels.pop(label, None)
    return result


def host_changes(plan: dict[str, Any], host: str, files: Mapping[str, str | None]) -> dict[str, Any]:
    """One host's containers: added, removed, changed (definition differs), unchanged.

    ``files`` maps paths to the text the host has there (``None``: missing), as read by the
    ray_cluster_deployed module. ``deployed`` lists the container names read, per project.
    """
    if host not in plan.get("hosts", {}):
        raise ValueError(f"host {host}: not in the cluster plan")
    label = _token_label(plan)
    entry: dict[str, Any] = {
        "added": [],
        "removed": [],
        "changed": [],
        "unchanged": [],
        "deployed": {kind: [] for kind in KINDS},
    }
    for kind in KINDS:
        project = plan["hosts"][host]["projects"][kind]
        text = files.get(project["file"])
        rendered = compose_content(plan, host, kind, _fingerprint(text, label))
        if (text or "") == rendered:
            # The usual rerun: the file is exactly the plan's, nothing to parse.
            entry["deployed"][kind] = list(project["services"])
            entry["unchanged"] += project["services"]
            continue
        running = deployed_services(text, f"host {host}: {project['file']}")
        wanted = deployed_services(rendered)
        entry["deployed"][kind] = list(running)
        for name, service in wanted.items():
            if name not in running:
                entry["added"].append(name)
            elif _comparable(service, label) == _comparable(running[name], label):
                entry["unchanged"].append(name)
            else:
                entry["changed"].append(name)
        entry["removed"] += [name for name in running if name not in wanted]
    return entry


def plan_changes(plan: dict[str, Any], deployed_by_host: Mapping[str, Mapping[str, str | None]]) -> dict[str, Any]:
    """Per host read, what applying the plan would do to its containers (see :func:`host_changes`).

    Hosts come in the plan's order; hosts not in ``deployed_by_host`` (not read) are left out.
    """
    unknown = sorted(set(deployed_by_host) - set(plan.get("hosts", {})))
    if unknown:
        raise ValueError(f"host {unknown[0]}: not in the cluster plan")
    return {host: host_changes(plan, host, deployed_by_host[host] or {}) for host in plan["hosts"] if host in deployed_by_host}


def removal_refusal(plan: dict[str, Any], changes: Mapping[str, Any], hosts_read: Iterable[str] | None = None) -> str:
    """Why the run must stop before it removes containers, or ``''`` when it may go on.

    It stops, unless the plan's ``confirm_removal`` is set, when a host that runs workers would
    keep none of them, or when the removed containers are more than ``removal_max_share`` of the
    cluster's deployed nodes: those on the hosts read plus the planned ones on the cluster hosts
    not read (a ``--limit`` run reads only some hosts).
    """
    cluster = plan["cluster"]
    if cluster.get("confirm_removal"):
        return ""
    read = [h for h in (changes if hosts_read is None else hosts_read) if h in changes]
    removed = {h: list(changes[h]["removed"]) for h in read if changes[h]["removed"]}
    if not removed:
        return ""
    emptied = {
        h for h in removed if changes[h]["deployed"]["workers"] and set(changes[h]["deployed"]["workers"]) <= set(removed[h])
    }
    deployed = sum(len(changes[h]["deployed"][kind]) for h in read for kind in KINDS)
    unread = sum(len(plan["hosts"][h]["nodes"]) for h in cluster["hosts"] if h not in read)
    total = deployed + unread
    count = sum(len(names) for names in removed.values())
    share = count / total if total else 1.0
    max_share = float(cluster["removal_max_share"])
    over = share > max_share + 1e-9
    if not emptied and not over:
        return ""
    hosts = [
        f"host {h}: would remove {', '.join(names)}{' (every worker of this host)' if h in emptied else ''}"
        for h, names in removed.items()
    ]
    bound = "more than" if over else "within"
    return (
        "removing Ray containers needs a confirmation: "
        + "; ".join(hosts)
        + f"; that is {count} of the cluster's {total} deployed nodes ({share:.0%}), {bound} {SHARE_VARIABLE}={max_share:g}"
        + f"; set {CONFIRM_VARIABLE}=true to allow it (-e {CONFIRM_VARIABLE}=true)"
    )


def change_summary(changes: Mapping[str, Any]) -> list[str]:
    """One line per host with something added, changed or removed, then the totals."""
    lines: list[str] = []
    totals = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}
    for host, entry in changes.items():
        for key in totals:
            totals[key] += len(entry[key])
        parts = [
            f"{verb} {', '.join(entry[key])}"
            for key, verb in (("added", "add"), ("changed", "change"), ("removed", "remove"))
            if entry[key]
        ]
        if parts:
            lines.append(f"host {host}: {'; '.join(parts)}; {len(entry['unchanged'])} unchanged")
    hosts = f"{len(changes)} host{'s' if len(changes) != 1 else ''} read"
    if not lines:
        return [f"no Ray container to add, change or remove ({totals['unchanged']} unchanged on the {hosts})"]
    lines.append(
        f"in all: add {totals['added']}, change {totals['changed']}, remove {totals['removed']}, "
        f"{totals['unchanged']} unchanged (on the {hosts})"
    )
    return lines


def deployed_from(value: Any, key: str = "__cluster_plan_deployed") -> dict[str, str | None] | None:
    """A host's ``{path: text}`` from what the playbook holds, or ``None`` when the host was not read.

    ``value`` is the ``{path: text}`` mapping itself, the ray_cluster_deployed module's registered
    result (``deployed`` in it), or the host's variables holding that result under ``key``. A
    skipped or failed result means the host was not read.
    """
    if isinstance(value, Mapping) and key in value:
        value = value[key]
    if isinstance(value, Mapping) and "deployed" in value:
        value = value["deployed"]
    if not isinstance(value, dict) or not all(str(path).startswith("/") for path in value):
        return None
    return {str(path): None if text is None else str(text) for path, text in value.items()}
