# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the files that keep a host's Ray node logs within their budget (plugins/module_utils/_node_logs.py)."""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import pytest
from planner_cases import HEAD, WORKERS, Hosts, build, cluster, host_vars

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _log_prune
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._node_logs import (
    HOST_PYTHON,
    node_log_files,
    pruner_source,
    unit_paths,
)

HEADER = "# Managed by wizardsofts.ray_cluster (Ansible) from the cluster plan.\n"


def unit(text: str) -> configparser.ConfigParser:
    """A systemd unit file's sections and keys (its header comment skipped)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def files_of(plan: dict[str, Any], host: str) -> tuple[str, str, str]:
    """The pruner script's, service's and timer's texts of ``host``."""
    logs = plan["cluster"]["node_logs"]
    service, timer = unit_paths(logs)
    files = node_log_files(plan, host)
    assert set(files) == {logs["prune_script"], service, timer}
    return files[logs["prune_script"]], files[service], files[timer]


@pytest.mark.parametrize("host", WORKERS, ids=str)
def test_every_host_with_nodes_gets_the_pruner_and_its_units(lab_hosts: Hosts, host: str) -> None:
    plan = build(lab_hosts)
    logs = plan["cluster"]["node_logs"]
    assert plan["hosts"][host]["nodes"]
    script, service, timer = files_of(plan, host)

    # The script is this collection's pruner, as it is.
    assert script == Path(_log_prune.__file__).read_text(encoding="utf-8")
    assert script == pruner_source()

    assert service.startswith(HEADER)
    exec_start = unit(service)["Service"]["ExecStart"]
    assert exec_start == f"{HOST_PYTHON} {logs['prune_script']} --limit {logs['prune_limit']} {logs['dir']}"
    assert unit(service)["Service"]["Type"] == "oneshot"

    assert timer.startswith(HEADER)
    parsed = unit(timer)
    assert parsed["Timer"]["OnUnitActiveSec"] == f"{logs['prune_interval_s']}s"
    assert parsed["Timer"]["OnActiveSec"] == f"{logs['prune_interval_s']}s"
    assert parsed["Install"]["WantedBy"] == "timers.target"


def test_unit_paths(lab_hosts: Hosts) -> None:
    logs = build(lab_hosts)["cluster"]["node_logs"]
    assert unit_paths(logs) == (
        "/etc/systemd/system/ray-cluster-ray-node-logs.service",
        "/etc/systemd/system/ray-cluster-ray-node-logs.timer",
    )


def test_the_defaults(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    _script, service, timer = files_of(plan, HEAD)
    limit = 2 * 1024**3 - 64 * 1024**2 * 4  # the 2g budget less one 64m file with its 3 backups
    assert (
        unit(service)["Service"]["ExecStart"]
        == f"/usr/bin/python3 /opt/ray-cluster/node-logs/prune-node-logs.py --limit {limit} /var/log/ray-cluster/ray"
    )
    assert unit(timer)["Timer"]["OnUnitActiveSec"] == "10s"


def test_the_settings_show_in_the_units(lab_hosts: Hosts) -> None:
    cluster(
        ray_cluster_name="blue",
        ray_cluster_compose_dir="/srv/compose/",
        ray_cluster_node_log_dir="/data/ray-logs/",
        ray_cluster_node_log_budget="1g",
        ray_cluster_node_log_file_size="16m",
        ray_cluster_node_log_file_backups=2,
    )(lab_hosts)
    plan = build(lab_hosts)
    logs = plan["cluster"]["node_logs"]
    assert logs["prune_limit"] == 1024**3 - 16 * 1024**2 * 3
    files = node_log_files(plan, HEAD)
    assert set(files) == {
        "/srv/compose/node-logs/prune-node-logs.py",
        "/etc/systemd/system/ray-cluster-blue-node-logs.service",
        "/etc/systemd/system/ray-cluster-blue-node-logs.timer",
    }
    service = unit(files["/etc/systemd/system/ray-cluster-blue-node-logs.service"])
    assert (
        service["Service"]["ExecStart"]
        == f"/usr/bin/python3 /srv/compose/node-logs/prune-node-logs.py --limit {logs['prune_limit']} /data/ray-logs/blue"
    )
    assert "cluster blue" in service["Unit"]["Description"]


def test_the_same_plan_gives_the_same_text(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    again = build(lab_hosts)
    for host in WORKERS:
        first = node_log_files(plan, host)
        assert node_log_files(plan, host) == first
        assert node_log_files(again, host) == first
        assert {path: text.encode() for path, text in node_log_files(again, host).items()} == {
            path: text.encode() for path, text in first.items()
        }


def test_every_host_gets_the_same_files(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    assert len({tuple(sorted(node_log_files(plan, host).items())) for host in WORKERS}) == 1


def test_a_host_without_nodes_gets_nothing(lab_hosts: Hosts) -> None:
    host_vars("lab-82", ray_worker_count=0)(lab_hosts)
    plan = build(lab_hosts)
    assert plan["hosts"]["lab-82"]["nodes"] == []
    assert node_log_files(plan, "lab-82") == {}
    assert node_log_files(plan, "lab-81")  # the others still do


def test_the_head_host_without_workers_still_has_its_head_node(lab_hosts: Hosts) -> None:
    host_vars(HEAD, ray_worker_count=0)(lab_hosts)
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["nodes"]
    assert node_log_files(plan, HEAD)
