# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the plan action plugin's inventory reader (plugins/action/ray_cluster_plan.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.action.ray_cluster_plan import NOT_PLAN_INPUTS, inventory_hosts
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import PlanError, build_plan

DEFAULT_TOKEN_FILE = "/etc/ray-cluster/auth_token"  # noqa: S105 (a path, not a secret)
CUSTOM_TOKEN_FILE = "/srv/secrets/ray.token"  # noqa: S105 (a path, not a secret)
TOKEN = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)

GROUPS = {
    "all": ["lab-84", "lab-80", "other"],
    "ray_cluster": ["lab-84", "lab-80"],
    "ray_head": ["lab-84"],
    "ray_workers": ["lab-84", "lab-80"],
}


def lab_hostvars() -> dict[str, dict[str, Any]]:
    return {
        "lab-84": {
            "inventory_hostname": "lab-84",
            "ansible_host": "ray-lab-84",
            "ansible_connection": "community.docker.docker",
            "ray_node_ip": "172.28.84.84",
            "ray_worker_count": 1,
            "ray_worker_spec": {"cpus": 0.5, "memory": "1g", "shm_size": "256m"},
            "ray_head_spec": {"cpus": 0.5, "memory": "2g", "shm_size": "512m"},
            "ray_cluster_name": "lab",
            "ray_plan_head_group": "ray_head",
            "group_names": ["ray_head", "ray_workers"],
            "ansible_facts": {
                "processor_nproc": 4,
                "processor_vcpus": 8,
                "memtotal_mb": 7900,
                "default_ipv4": {"address": "172.28.84.84", "interface": "eth0"},
                "hostname": "lab-84",
            },
        },
        "lab-80": {
            "inventory_hostname": "lab-80",
            "ansible_host": "172.28.84.80",
            "ray_worker_count": 2,
            "ray_worker_overrides": [{"cpus": 1}],
            "ray_cluster_name": "lab",
        },
        "other": {"ray_cluster_name": "not-a-member", "ray_node_ip": "10.0.0.1"},
    }


def test_inventory_hosts_picks_the_plan_inputs() -> None:
    head, workers, hosts = inventory_hosts(lab_hostvars(), GROUPS, "ray_head", "ray_workers")
    assert head == ["lab-84"]
    assert workers == ["lab-84", "lab-80"]
    assert list(hosts) == ["lab-84", "lab-80"]
    assert hosts["lab-84"] == {
        "ray_cluster_name": "lab",
        "ray_node_ip": "172.28.84.84",
        "ray_worker_count": 1,
        "ray_worker_spec": {"cpus": 0.5, "memory": "1g", "shm_size": "256m"},
        "ray_head_spec": {"cpus": 0.5, "memory": "2g", "shm_size": "512m"},
        "ansible_host": "ray-lab-84",
        "facts": {"vcpus": 4, "memtotal_mb": 7900, "default_ipv4": "172.28.84.84"},
    }
    assert hosts["lab-80"] == {
        "ray_cluster_name": "lab",
        "ray_worker_count": 2,
        "ray_worker_overrides": [{"cpus": 1}],
        "ansible_host": "172.28.84.80",
        "facts": {"vcpus": None, "memtotal_mb": None, "default_ipv4": None},
    }


def test_inventory_hosts_output_builds_a_plan() -> None:
    plan = build_plan(*inventory_hosts(lab_hostvars(), GROUPS, "ray_head", "ray_workers"))
    assert plan["cluster"]["name"] == "lab"
    assert plan["cluster"]["expected_node_count"] == 4
    assert plan["hosts"]["lab-80"]["node_ip"] == "172.28.84.80"
    assert plan["hosts"]["lab-84"]["capacity"]["vcpus"] == 4


@pytest.mark.parametrize(
    ("head_group", "worker_group", "expected"),
    [
        ("ray_head", "ray_workers", (["lab-84"], ["lab-84", "lab-80"])),
        ("missing", "ray_workers", ([], ["lab-84", "lab-80"])),
        ("ray_head", "missing", (["lab-84"], [])),
        ("ray_cluster", "ray_head", (["lab-84", "lab-80"], ["lab-84"])),
    ],
    ids=["default-groups", "missing-head-group", "missing-worker-group", "other-groups"],
)
def test_inventory_hosts_groups(head_group: str, worker_group: str, expected: tuple[list[str], list[str]]) -> None:
    head, workers, hosts = inventory_hosts(lab_hostvars(), GROUPS, head_group, worker_group)
    assert (head, workers) == expected
    assert list(hosts) == list(dict.fromkeys([*expected[0], *expected[1]]))
    assert "other" not in hosts


def test_inventory_hosts_returns_copies_of_the_group_lists() -> None:
    groups = {key: list(value) for key, value in GROUPS.items()}
    head, workers, _ = inventory_hosts(lab_hostvars(), groups, "ray_head", "ray_workers")
    head.append("x")
    workers.append("y")
    assert groups["ray_head"] == ["lab-84"]
    assert groups["ray_workers"] == ["lab-84", "lab-80"]


def test_inventory_hosts_missing_host_raises() -> None:
    hostvars = lab_hostvars()
    del hostvars["lab-80"]
    with pytest.raises(KeyError):
        inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")


def test_second_plan_in_the_same_run_ignores_the_previous_plan_fact() -> None:
    hostvars = lab_hostvars()
    first = build_plan(*inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers"))
    for hvars in hostvars.values():
        hvars["ray_cluster_plan"] = first  # ansible_facts injected as a top-level host variable
    _, _, hosts = inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")
    assert all("ray_cluster_plan" not in entry for entry in hosts.values())
    second = build_plan(*inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers"))
    assert second == first


def test_not_plan_inputs() -> None:
    assert frozenset({"ray_cluster_plan", "ray_cluster_auth_token"}) == NOT_PLAN_INPUTS


# (id, hosts given the secret token)
TOKEN_HOSTS = [("every-host", ["lab-84", "lab-80", "other"]), ("head-only", ["lab-84"]), ("worker-only", ["lab-80"])]


@pytest.mark.parametrize("hosts_with_token", [c[1] for c in TOKEN_HOSTS], ids=[c[0] for c in TOKEN_HOSTS])
def test_auth_token_is_not_a_plan_input(hosts_with_token: list[str]) -> None:
    hostvars = lab_hostvars()
    expected = inventory_hosts(lab_hostvars(), GROUPS, "ray_head", "ray_workers")
    for host in hosts_with_token:
        hostvars[host]["ray_cluster_auth_token"] = TOKEN
    head, workers, hosts = inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")
    assert (head, workers, hosts) == expected
    assert all("ray_cluster_auth_token" not in entry for entry in hosts.values())
    plan = build_plan(head, workers, hosts)
    assert TOKEN not in json.dumps(plan)
    assert plan["cluster"]["auth_mode"] == "token"
    assert plan["cluster"]["auth_token_file"] == DEFAULT_TOKEN_FILE


def test_auth_token_file_is_a_plan_input() -> None:
    hostvars = lab_hostvars()
    for host in ("lab-84", "lab-80"):
        hostvars[host]["ray_cluster_auth_token_file"] = CUSTOM_TOKEN_FILE
    _, _, hosts = inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")
    assert all(entry["ray_cluster_auth_token_file"] == CUSTOM_TOKEN_FILE for entry in hosts.values())
    plan = build_plan(*inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers"))
    assert plan["cluster"]["auth_token_file"] == CUSTOM_TOKEN_FILE


def test_the_planner_itself_refuses_the_token() -> None:
    # Why the action must drop it: the planner treats it as an unknown cluster variable.
    head, workers, hosts = inventory_hosts(lab_hostvars(), GROUPS, "ray_head", "ray_workers")
    hosts["lab-80"]["ray_cluster_auth_token"] = TOKEN
    with pytest.raises(PlanError) as exc:
        build_plan(head, workers, hosts)
    assert exc.value.variable == "ray_cluster_auth_token"
