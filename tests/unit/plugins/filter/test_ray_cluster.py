# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the collection's filters (plugins/filter/ray_cluster.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from planner_cases import HEAD_PORT_FLAGS, PORT_FLAGS, port_flags

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_cluster import (
    FilterModule,
    ray_cluster_changes,
    ray_compose_content,
    ray_size_to_bytes,
    ray_ufw_rule_diff,
    ray_ufw_status,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import MANAGED_HEADER
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

HEADER = "Added user rules (see 'ufw status' for running firewall):"
SSH = {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
# A token's sha256 fingerprint, as the ray_compose role passes it (token auth is the default).
FINGERPRINT = "ab" * 16
TOKEN_PATH = "/run/secrets/ray-auth-token"  # noqa: S105 (a path, not a secret)
NODES = {"port": "20000:20399", "proto": "tcp", "src": "172.28.84.80", "comment": "ray_cluster nodes"}


def test_filters_are_registered() -> None:
    filters = FilterModule().filters()
    assert filters["ray_size_to_bytes"] is ray_size_to_bytes
    assert filters["ray_ufw_rule_diff"] is ray_ufw_rule_diff
    assert filters["ray_compose_content"] is ray_compose_content
    assert filters["ray_ufw_status"] is ray_ufw_status
    assert filters["ray_cluster_changes"] is ray_cluster_changes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\n",
            {"active": True, "logging": "low", "incoming": "deny", "outgoing": "allow", "routed": "deny"},
        ),
        ("Status: inactive\n", {"active": False, "logging": None, "incoming": None, "outgoing": None, "routed": None}),
        # Check mode on a fresh host: UFW is not installed, the command printed nothing.
        (None, {"active": False, "logging": None, "incoming": None, "outgoing": None, "routed": None}),
    ],
    ids=["active", "inactive", "not-installed"],
)
def test_ray_ufw_status(text: str | None, expected: dict[str, Any]) -> None:
    assert ray_ufw_status(text) == expected


SIZES = [("6G", 6442450944), ("512m", 536870912), ("1.5GiB", 1610612736), ("2gb", 2147483648), (2000000000, 2000000000)]


@pytest.mark.parametrize(("value", "expected"), SIZES, ids=[str(v) for v, _ in SIZES])
def test_ray_size_to_bytes(value: Any, expected: int) -> None:
    assert ray_size_to_bytes(value) == expected


@pytest.mark.parametrize("value", ["6X", -1, "", True, None], ids=["unit", "negative", "empty", "bool", "none"])
def test_ray_size_to_bytes_errors(value: Any) -> None:
    with pytest.raises(AnsibleFilterError) as exc:
        ray_size_to_bytes(value)
    assert "ray_size_to_bytes" in str(exc.value)
    assert repr(value) in str(exc.value)


DIFFS = [
    (
        "nothing-to-do",
        f"{HEADER}\nufw allow 22/tcp comment 'ray_cluster ssh'\n"
        "ufw allow from 172.28.84.80 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'\n",
        [SSH, NODES],
        {"add": [], "delete": []},
    ),
    ("empty-ufw", f"{HEADER}\n(None)\n", [SSH, NODES], {"add": [SSH, NODES], "delete": []}),
    (
        "stale-and-hand-made",
        f"{HEADER}\nufw allow 22/tcp comment 'ray_cluster ssh'\nufw allow 80/tcp\n"
        "ufw allow from 172.28.84.99 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'\n",
        [SSH],
        {"add": [], "delete": [{**NODES, "src": "172.28.84.99"}]},
    ),
]


@pytest.mark.parametrize(("text", "desired", "expected"), [c[1:] for c in DIFFS], ids=[c[0] for c in DIFFS])
def test_ray_ufw_rule_diff(text: str, desired: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert ray_ufw_rule_diff(text, desired) == expected


def test_ray_ufw_rule_diff_custom_prefix() -> None:
    text = f"{HEADER}\nufw allow 9000/tcp comment 'other app'\nufw allow 22/tcp comment 'ray_cluster ssh'\n"
    assert ray_ufw_rule_diff(text, [], comment_prefix="other") == {
        "add": [],
        "delete": [{"port": "9000", "proto": "tcp", "src": "any", "comment": "other app"}],
    }


@pytest.mark.parametrize("text", ["", "  \n", None], ids=["empty", "blank", "none"])
def test_ray_ufw_rule_diff_without_ufw_output_adds_everything(text: Any) -> None:
    # No output at all: UFW is not installed yet (check mode on a fresh host).
    assert ray_ufw_rule_diff(text, [SSH, NODES]) == {"add": [SSH, NODES], "delete": []}


GARBAGE = [
    ("not-show-added", "Status: active\n", "starting with"),
    ("bad-line", f"{HEADER}\nallow 22/tcp\n", "expected a line starting with 'ufw'"),
    ("bad-quote", f"{HEADER}\nufw allow 22/tcp comment 'x\n", "cannot parse ufw rule"),
]


@pytest.mark.parametrize(("text", "match"), [c[1:] for c in GARBAGE], ids=[c[0] for c in GARBAGE])
def test_ray_ufw_rule_diff_errors(text: str, match: str) -> None:
    with pytest.raises(AnsibleFilterError, match=match) as exc:
        ray_ufw_rule_diff(text, [SSH])
    assert str(exc.value).startswith("ray_ufw_rule_diff: ")


# --------------------------------------------------------------------------- ray_compose_content


@pytest.fixture
def lab_plan(lab_hosts: dict[str, dict[str, Any]], lab_groups: tuple[list[str], list[str]]) -> dict[str, Any]:
    # As the filter gets it: the fact, JSON types only.
    return json.loads(json.dumps(build_plan(*lab_groups, lab_hosts)))


# (host, kind, expected service names): the seed topology's projects.
PROJECTS = [
    ("lab-84", "head", ["ray-head"]),
    ("lab-84", "workers", ["ray-worker-1", "ray-worker-2", "ray-worker-3"]),
    ("lab-80", "head", []),
    ("lab-80", "workers", ["ray-worker-1", "ray-worker-2", "ray-worker-3", "ray-worker-4"]),
    ("lab-81", "workers", ["ray-worker-1", "ray-worker-2"]),
    ("lab-82", "head", []),
    ("lab-82", "workers", ["ray-worker-1"]),
]


@pytest.mark.parametrize(("host", "kind", "names"), PROJECTS, ids=[f"{h}-{k}" for h, k, _ in PROJECTS])
def test_ray_compose_content(lab_plan: dict[str, Any], host: str, kind: str, names: list[str]) -> None:
    before = copy.deepcopy(lab_plan)
    text = ray_compose_content(lab_plan, host, kind, FINGERPRINT)
    assert text.encode() == ray_compose_content(lab_plan, host, kind, FINGERPRINT).encode()
    assert lab_plan == before
    hplan = lab_plan["hosts"][host]
    nodes = [n for n in hplan["nodes"] if (n["role"] == "head") == (kind == "head")]
    assert [n["name"] for n in nodes] == names == hplan["projects"][kind]["services"]
    if not names:
        assert text == ""
        return
    assert text.startswith(MANAGED_HEADER)
    doc = yaml.safe_load(text)
    assert doc["name"] == hplan["projects"][kind]["name"]
    assert list(doc["services"]) == names
    for node in nodes:
        service = doc["services"][node["name"]]
        assert service["container_name"] == node["name"]
        own = {flag: node["ports"][key] for flag, key in PORT_FLAGS.items()}
        assert port_flags(service["command"]) == ({**own, **HEAD_PORT_FLAGS} if kind == "head" else own)
        assert f"/dev/tcp/{hplan['node_ip']}/{node['ports']['dashboard_agent_http']} " in service["healthcheck"]["test"][3]
        assert service["environment"]["RAY_AUTH_TOKEN_PATH"] == TOKEN_PATH
        gcs = [f"{lab_plan['cluster']['gcs_storage_path']}:/var/lib/ray-gcs"] if kind == "head" else []
        logs = f"{hplan['node_log_dirs'][node['name']]}:/tmp/ray"
        assert logs == f"/var/log/ray-cluster/ray/{node['name']}:/tmp/ray"
        assert service["volumes"] == [logs, f"/etc/ray-cluster/auth_token:{TOKEN_PATH}:ro", *gcs]
        assert service["labels"]["com.wizardsofts.auth-token-sha256"] == FINGERPRINT


BAD_CALLS = [
    ("unknown-kind", lambda plan: (plan, "lab-80", "worker"), "head or workers"),
    ("unknown-host", lambda plan: (plan, "lab-99", "workers"), "lab-99 is not in the cluster plan"),
    ("no-hosts", lambda plan: ({}, "lab-80", "workers"), "lab-80 is not in the cluster plan"),
    ("no-cluster", lambda plan: ({"hosts": plan["hosts"]}, "lab-80", "workers"), "'cluster'"),
]


@pytest.mark.parametrize(("args", "match"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_ray_compose_content_errors(lab_plan: dict[str, Any], args: Any, match: str) -> None:
    with pytest.raises(AnsibleFilterError, match=match) as exc:
        ray_compose_content(*args(lab_plan))
    assert str(exc.value).startswith("ray_compose_content: ")


# (id, cluster auth mode, fingerprint, token settings rendered)
AUTH_CALLS = [
    ("token", "token", FINGERPRINT, True),
    ("token-sha256-prefix", "token", "0123456789abcdef" * 2, True),
    ("disabled", "disabled", "", False),
    ("disabled-with-fingerprint", "disabled", FINGERPRINT, False),
]


@pytest.mark.parametrize(("mode", "fingerprint", "token"), [c[1:] for c in AUTH_CALLS], ids=[c[0] for c in AUTH_CALLS])
def test_ray_compose_content_auth_mode(lab_plan: dict[str, Any], mode: str, fingerprint: str, token: bool) -> None:
    lab_plan["cluster"]["auth_mode"] = mode
    text = ray_compose_content(lab_plan, "lab-80", "workers", fingerprint)
    for name, service in yaml.safe_load(text)["services"].items():
        assert service["environment"]["RAY_AUTH_MODE"] == mode
        assert ("RAY_AUTH_TOKEN_PATH" in service["environment"]) is token
        # The node's log directory either way; the token file only with token authentication.
        token_volume = [f"/etc/ray-cluster/auth_token:{TOKEN_PATH}:ro"] if token else []
        assert service["volumes"] == [f"/var/log/ray-cluster/ray/{name}:/tmp/ray", *token_volume]
        assert service["labels"].get("com.wizardsofts.auth-token-sha256") == (fingerprint if token else None)


BAD_FINGERPRINTS = [
    ("missing", ()),
    ("empty", ("",)),
    ("upper-case", ("AB" * 16,)),
    ("raw-token", ("k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h",)),
    ("raw-token-mixed-case", ("S3cr3tTokenValue-XYZ",)),
    ("too-short", ("abc",)),
]


@pytest.mark.parametrize("extra", [c[1] for c in BAD_FINGERPRINTS], ids=[c[0] for c in BAD_FINGERPRINTS])
@pytest.mark.parametrize(("host", "kind"), [("lab-84", "head"), ("lab-81", "workers")])
def test_ray_compose_content_needs_a_fingerprint(lab_plan: dict[str, Any], extra: tuple[str, ...], host: str, kind: str) -> None:
    with pytest.raises(AnsibleFilterError, match="fingerprint") as exc:
        ray_compose_content(lab_plan, host, kind, *extra)
    assert str(exc.value).startswith("ray_compose_content: ")
    for value in extra:
        if value:
            assert value not in str(exc.value)


# --------------------------------------------------------------------------- ray_cluster_changes (logic: test_changes.py)


def deployed_files(plan: dict[str, Any], host: str) -> dict[str, str | None]:
    """The host's compose files as the ray_compose role writes them for ``plan``."""
    projects = plan["hosts"][host]["projects"]
    return {projects[k]["file"]: ray_compose_content(plan, host, k, FINGERPRINT) or None for k in ("head", "workers")}


def test_ray_cluster_changes_from_hostvars(lab_plan: dict[str, Any], lab_hosts: dict[str, Any]) -> None:
    # hostvars as the role passes them: each host's registered module result under __cluster_plan_deployed;
    # lab-81's read was skipped (not read), lab-99 is no cluster host and not in the hosts read.
    hostvars: dict[str, Any] = {
        host: {"inventory_hostname": host, "__cluster_plan_deployed": {"deployed": deployed_files(lab_plan, host)}}
        for host in ("lab-84", "lab-80", "lab-82")
    }
    hostvars["lab-81"] = {"inventory_hostname": "lab-81", "__cluster_plan_deployed": {"skipped": True}}
    hostvars["lab-99"] = {"inventory_hostname": "lab-99"}
    lab_hosts["lab-82"]["ray_worker_count"] = 0
    plan = build_plan(["lab-84"], ["lab-84", "lab-80", "lab-81", "lab-82"], lab_hosts)
    result = ray_cluster_changes(plan, hostvars, ["lab-84", "lab-80", "lab-81", "lab-82"])
    assert list(result["hosts"]) == ["lab-84", "lab-80", "lab-82"]
    assert result["hosts"]["lab-82"]["removed"] == ["ray-worker-1"]
    assert result["summary"] == [
        "host lab-82: remove ray-worker-1; 0 unchanged",
        "in all: add 0, change 0, remove 1, 8 unchanged (on the 3 hosts read)",
    ]
    # lab-81 was not read: its 2 planned workers count, 1 of 4 + 4 + 1 + 2.
    assert result["refusal"].startswith("removing Ray containers needs a confirmation: host lab-82: would remove ray-worker-1")
    assert "1 of the cluster's 11 deployed nodes" in result["refusal"]


def test_ray_cluster_changes_from_paths(lab_plan: dict[str, Any]) -> None:
    result = ray_cluster_changes(lab_plan, {"lab-81": deployed_files(lab_plan, "lab-81")})
    assert result == {
        "hosts": {
            "lab-81": {
                "added": [],
                "removed": [],
                "changed": [],
                "unchanged": ["ray-worker-1", "ray-worker-2"],
                "deployed": {"head": [], "workers": ["ray-worker-1", "ray-worker-2"]},
            }
        },
        "refusal": "",
        "summary": ["no Ray container to add, change or remove (2 unchanged on the 1 host read)"],
    }


def test_ray_cluster_changes_errors_name_host_and_file(lab_plan: dict[str, Any]) -> None:
    broken = {"/opt/ray-cluster/head/compose.yaml": None, "/opt/ray-cluster/workers/compose.yaml": "services: ["}
    with pytest.raises(
        AnsibleFilterError, match=r"^ray_cluster_changes: host lab-81: /opt/ray-cluster/workers/compose\.yaml: not valid YAML"
    ):
        ray_cluster_changes(lab_plan, {"lab-81": broken})
