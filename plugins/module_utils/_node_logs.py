# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The plan rendered: what keeps a host's Ray node logs within their budgets.

Private to the collection (no compatibility promise). Pure mappings from the plan's
``cluster.node_logs`` to the files the ray_compose role writes on a host that runs Ray nodes: the
pruner (this collection's ``_log_prune.py``, as it is) and the systemd service and timer that run it.
"""

from __future__ import annotations

import os
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _log_prune

SYSTEMD_DIR = "/etc/systemd/system"
# The hosts' own Python 3 (Debian's; the one Ansible uses too).
HOST_PYTHON = "/usr/bin/python3"


def pruner_source() -> str:
    with open(_log_prune.__file__.replace(".pyc", ".py"), encoding="utf-8") as handle:
        return handle.read()


def unit_paths(node_logs: dict[str, Any]) -> tuple[str, str]:
    """The pruner's service and timer unit files."""
    base = os.path.join(SYSTEMD_DIR, node_logs["prune_unit"])
    return f"{base}.service", f"{base}.timer"


def node_log_files(plan: dict[str, Any], host: str) -> dict[str, str]:
    """Path -> text of the files that keep ``host``'s node log directories within their budget (none
    on a host without Ray nodes)."""
    if not plan["hosts"][host]["nodes"]:
        return {}
    cluster = plan["cluster"]
    logs = cluster["node_logs"]
    service, timer = unit_paths(logs)
    header = "# Managed by wizardsofts.ray_cluster (Ansible) from the cluster plan.\n"
    return {
        logs["prune_script"]: pruner_source(),
        service: (
            f"{header}[Unit]\n"
            f"Description=Keep the Ray nodes' log directories of cluster {cluster['name']} within their budget\n"
            "\n[Service]\n"
            "Type=oneshot\n"
            f"ExecStart={HOST_PYTHON} {logs['prune_script']} --limit {logs['prune_limit']} {logs['dir']}\n"
            "Nice=10\n"
            "IOSchedulingClass=idle\n"
        ),
        timer: (
            f"{header}[Unit]\n"
            f"Description=Prune the Ray nodes' logs of cluster {cluster['name']} every {logs['prune_interval_s']} s\n"
            "\n[Timer]\n"
            f"OnActiveSec={logs['prune_interval_s']}s\n"
            f"OnUnitActiveSec={logs['prune_interval_s']}s\n"
            "AccuracySec=1s\n"
            "\n[Install]\n"
            "WantedBy=timers.target\n"
        ),
    }
