# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the plan action plugin's inventory reader (plugins/action/ray_cluster_plan.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible.errors import AnsibleError

from ansible_collections.wizardsofts.ray_cluster.plugins.action.ray_cluster_plan import (
    NOT_PLAN_INPUTS,
    ROLES_DIR,
    ActionModule,
    cluster_members,
    inventory_hosts,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError, known_variables
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import PLANNER_VARIABLES

DEFAULT_TOKEN_FILE = "/etc/ray-cluster/auth_token"  # noqa: S105 (a path, not a secret)
CUSTOM_TOKEN_FILE = "/srv/secrets/ray.token"  # noqa: S105 (a path, not a secret)
TOKEN = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)

GROUPS = {
    "all": ["lab-84", "lab-80", "other"],
    "ray_cluster": ["lab-84", "lab-80"],
    "ray_head": ["lab-84"],
    "ray_workers": ["lab-84", "lab-80"],
}

# What the action plugin knows: the planner's inputs, the roles' options, the playbooks' extra vars.
KNOWN = known_variables(PLANNER_VARIABLES, ROLES_DIR)


def plan_of(hostvars: dict[str, dict[str, Any]], groups: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The plan the action computes from this inventory (without the token check)."""
    return build_plan(*inventory_hosts(hostvars, groups or GROUPS, "ray_head", "ray_workers"), known=KNOWN)


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
            # A role's variable: passed by name only (the planner checks the name, never reads it).
            "ray_image_method": "pull",
            "group_names": ["ray_head", "ray_workers"],
            "ansible_facts": {
                "processor_nproc": 4,
                "processor_vcpus": 8,
                "memtotal_mb": 7900,
                "default_ipv4": {"address": "172.28.84.84", "interface": "eth0"},
                "hostname": "lab-84",
                # The file systems, as setup gathers them: the planner keeps the mount point and sizes.
                "mounts": [
                    {
                        "mount": "/",
                        "device": "/dev/sda1",
                        "fstype": "ext4",
                        "options": "rw,relatime",
                        "size_total": 64 * 2**30,
                        "size_available": 32 * 2**30,
                        "block_total": 16777216,
                    },
                    {"mount": "/var/log", "device": "/dev/sdb1", "size_total": 16 * 2**30, "size_available": 3 * 2**30},
                ],
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
        "ray_image_method": None,
        "ray_cluster_name": "lab",
        "ray_node_ip": "172.28.84.84",
        "ray_worker_count": 1,
        "ray_worker_spec": {"cpus": 0.5, "memory": "1g", "shm_size": "256m"},
        "ray_head_spec": {"cpus": 0.5, "memory": "2g", "shm_size": "512m"},
        "ansible_host": "ray-lab-84",
        "facts": {
            "vcpus": 4,
            "memtotal_mb": 7900,
            "default_ipv4": "172.28.84.84",
            "mounts": [
                {"mount": "/", "size_total": 64 * 2**30, "size_available": 32 * 2**30},
                {"mount": "/var/log", "size_total": 16 * 2**30, "size_available": 3 * 2**30},
            ],
        },
    }
    assert hosts["lab-80"] == {
        "ray_cluster_name": "lab",
        "ray_worker_count": 2,
        "ray_worker_overrides": [{"cpus": 1}],
        "ansible_host": "172.28.84.80",
        "facts": {"vcpus": None, "memtotal_mb": None, "default_ipv4": None, "mounts": []},
    }


def test_inventory_hosts_output_builds_a_plan() -> None:
    plan = plan_of(lab_hostvars())
    assert plan["cluster"]["name"] == "lab"
    assert plan["cluster"]["expected_node_count"] == 4
    assert plan["hosts"]["lab-80"]["node_ip"] == "172.28.84.80"
    assert plan["hosts"]["lab-84"]["capacity"]["vcpus"] == 4
    # The head and a worker (2g of logs each) on /var/log: more than its 3 GiB free, within its 16 GiB.
    assert (plan["hosts"]["lab-84"]["capacity"]["node_logs"], plan["hosts"]["lab-84"]["capacity"]["node_logs_mount"]) == (
        4 * 2**30,
        "/var/log",
    )
    assert plan["warnings"] == [
        "host lab-84: ray_cluster_node_log_budget: 2 nodes' log budgets add up to 4.00GiB, above the 3.00GiB free on"
        " /var/log now (logs already written count in neither)"
    ]


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
    first = plan_of(hostvars)
    for hvars in hostvars.values():
        hvars["ray_cluster_plan"] = first  # the cluster_plan role keeps it with set_fact
    _, _, hosts = inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")
    assert all("ray_cluster_plan" not in entry for entry in hosts.values())
    second = plan_of(hostvars)
    assert second == first


def test_not_plan_inputs() -> None:
    facts = {
        "ray_cluster_plan",
        "ray_cluster",
        "cluster_plan_host",
        "ray_cluster_differences",
        "ray_cluster_input_checked",
        "ray_monitoring_health",
        "celery_status",
    }
    assert frozenset({*facts, "ray_cluster_auth_token", "ray_compose_auth_token"}) == NOT_PLAN_INPUTS


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
    plan = build_plan(head, workers, hosts, known=KNOWN)
    assert TOKEN not in json.dumps(plan)
    assert plan["cluster"]["auth_mode"] == "token"
    assert plan["cluster"]["auth_token_file"] == DEFAULT_TOKEN_FILE


def test_auth_token_file_is_a_plan_input() -> None:
    hostvars = lab_hostvars()
    for host in ("lab-84", "lab-80"):
        hostvars[host]["ray_cluster_auth_token_file"] = CUSTOM_TOKEN_FILE
    _, _, hosts = inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")
    assert all(entry["ray_cluster_auth_token_file"] == CUSTOM_TOKEN_FILE for entry in hosts.values())
    plan = plan_of(hostvars)
    assert plan["cluster"]["auth_token_file"] == CUSTOM_TOKEN_FILE


def test_the_planner_itself_refuses_the_token() -> None:
    # Why the action must drop it: the planner treats it as an unknown cluster variable.
    head, workers, hosts = inventory_hosts(lab_hostvars(), GROUPS, "ray_head", "ray_workers")
    hosts["lab-80"]["ray_cluster_auth_token"] = TOKEN
    with pytest.raises(PlanError) as exc:
        build_plan(head, workers, hosts, known=KNOWN)
    assert exc.value.variable == "ray_cluster_auth_token"


# --------------------------------------------------------------------------- the gate for bad input


def test_inventory_hosts_passes_every_prefixed_name_without_reading_it() -> None:
    hostvars = lab_hostvars()
    hostvars["lab-80"].update(
        {
            "docker_engine_source": "distribution",
            "ufw_logging": "low",  # not checked: other UFW roles use the prefix too
            "cluster_plan_worker_group": "ray_workers",
            # A role default copied to the inventory may refer to the plan, not computed yet.
            "ray_image_build_base": "python:{{ ray_cluster_plan.cluster.python_version }}-slim",
            "lab_subnet": "172.28.84.0/24",
            "_ray_private": 1,
            "__ray_registered": {},
        }
    )
    _, _, hosts = inventory_hosts(hostvars, GROUPS, "ray_head", "ray_workers")
    names = {"docker_engine_source", "cluster_plan_worker_group", "ray_image_build_base"}
    assert {key: hosts["lab-80"][key] for key in names} == dict.fromkeys(names)
    assert not {"lab_subnet", "_ray_private", "__ray_registered", "ufw_logging"} & set(hosts["lab-80"])


# (id, host, variable set in the inventory, nearest known name)
INVENTORY_TYPOS = [
    ("worker-count", "lab-80", "ray_worker_cont", "ray_worker_count"),
    ("role-option", "lab-84", "ray_verify_smoke_object_m", "ray_verify_smoke_object_mb"),
    ("extra-var", "lab-80", "ray_restart_head_", "ray_restart_head"),
]


@pytest.mark.parametrize(("host", "name", "nearest"), [c[1:] for c in INVENTORY_TYPOS], ids=[c[0] for c in INVENTORY_TYPOS])
def test_unknown_inventory_variable_is_refused(host: str, name: str, nearest: str) -> None:
    hostvars = lab_hostvars()
    hostvars[host][name] = TOKEN  # a misplaced secret must not show
    with pytest.raises(PlanError) as exc:
        plan_of(hostvars)
    assert str(exc.value) == f"host {host}: {name}: unknown variable; did you mean {nearest}? (value not shown)"


def test_extra_vars_of_the_playbooks_are_known() -> None:
    hostvars = lab_hostvars()
    for hvars in hostvars.values():  # -e reaches every host's hostvars
        hvars.update(ray_teardown_remove_images=True, ray_restart_head="true", ray_status_wait_timeout=30)
    assert plan_of(hostvars)["cluster"]["name"] == "lab"


@pytest.mark.parametrize(
    ("groups", "expected"),
    [(GROUPS, ["lab-84", "lab-80"]), ({"ray_head": ["lab-84"]}, None)],
    ids=["group", "no-group"],
)
def test_cluster_members(groups: dict[str, list[str]], expected: list[str] | None) -> None:
    assert cluster_members(groups, "ray_cluster") == expected


ARGS = {
    "head_group": "ray_head",
    "worker_group": "ray_workers",
    "cluster_group": "ray_cluster",
    "monitoring_group": "ray_monitoring",
    "hosts": None,
}


def action_plan(hostvars: dict[str, dict[str, Any]], groups: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """What the action computes from the inventory, token check included."""
    task_vars = {"hostvars": hostvars, "groups": groups or GROUPS}
    plan, notes = ActionModule._plan_from_inventory(task_vars, ARGS, KNOWN)
    assert notes == []
    return plan


def test_host_of_the_cluster_group_in_no_plan_group_is_refused() -> None:
    groups = {**GROUPS, "ray_cluster": [*GROUPS["ray_cluster"], "other"]}
    with pytest.raises(PlanError) as exc:
        action_plan(lab_hostvars(), groups)
    assert (exc.value.host, exc.value.variable) == ("other", "groups")


def test_worker_without_worker_count_is_refused() -> None:
    hostvars = lab_hostvars()
    del hostvars["lab-80"]["ray_worker_count"]
    with pytest.raises(PlanError) as exc:
        action_plan(hostvars)
    assert (exc.value.host, exc.value.variable) == ("lab-80", "ray_worker_count")


# (id, token per cluster host: (variable, value) or None, problem or None)
ACTION_TOKENS = [
    ("none", {}, None),
    ("everywhere", {"lab-84": TOKEN, "lab-80": TOKEN}, None),
    ("role-variable", {"lab-84": ("ray_compose_auth_token", TOKEN), "lab-80": ("ray_compose_auth_token", TOKEN)}, None),
    ("head-only", {"lab-84": TOKEN}, "must be the same on every cluster host: it is not set on lab-80"),
    ("differs", {"lab-84": TOKEN, "lab-80": TOKEN[::-1]}, "must be the same on every cluster host: it differs"),
    ("whitespace", {"lab-84": TOKEN + " x", "lab-80": TOKEN + " x"}, "contains whitespace or a non-printable character"),
    ("short", {"lab-84": TOKEN[:20], "lab-80": TOKEN[:20]}, "shorter than 32 characters"),
]


@pytest.mark.parametrize(("tokens", "problem"), [c[1:] for c in ACTION_TOKENS], ids=[c[0] for c in ACTION_TOKENS])
def test_token_is_checked_and_never_planned(tokens: dict[str, Any], problem: str | None) -> None:
    hostvars = lab_hostvars()
    hostvars["other"]["ray_cluster_auth_token"] = "not a member: not checked"  # noqa: S105 (a test value)
    for host, token in tokens.items():
        variable, value = token if isinstance(token, tuple) else ("ray_cluster_auth_token", token)
        hostvars[host][variable] = value
    if problem is None:
        plan = action_plan(hostvars)
        assert TOKEN not in json.dumps(plan) and TOKEN[::-1] not in json.dumps(plan)
        return
    with pytest.raises(PlanError) as exc:
        action_plan(hostvars)
    assert problem in str(exc.value)
    assert str(exc.value).endswith("(value not shown)")
    assert TOKEN[:20] not in str(exc.value) and TOKEN[::-1][:20] not in str(exc.value)


def test_token_is_not_checked_when_auth_is_disabled() -> None:
    hostvars = lab_hostvars()
    for host in ("lab-84", "lab-80"):
        hostvars[host].update(ray_cluster_auth_mode="disabled", ray_cluster_auth_token="short")  # noqa: S106 (a test value)
    assert action_plan(hostvars)["cluster"]["auth_mode"] == "disabled"


class Unreadable(dict):
    """Host variables whose token cannot be templated, as with Vault and no password."""

    def __getitem__(self, key: str) -> Any:
        if key == "ray_cluster_auth_token":
            raise AnsibleError("Attempt to use undecryptable variable")
        return super().__getitem__(key)


def test_unreadable_token_is_not_checked_but_noted() -> None:
    hostvars = lab_hostvars()
    for host in ("lab-84", "lab-80"):
        hostvars[host] = Unreadable(hostvars[host], ray_cluster_auth_token="$ANSIBLE_VAULT;1.1;AES256...")  # noqa: S106 (a test value)
    plan, notes = ActionModule._plan_from_inventory({"hostvars": hostvars, "groups": GROUPS}, ARGS, KNOWN)
    assert plan["cluster"]["auth_mode"] == "token"
    assert notes == ["ray_cluster_auth_token: not checked, it cannot be read on the controller (Vault password?)"]
