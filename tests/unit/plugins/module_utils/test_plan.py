# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the plan: groups, node addresses, port blocks, firewall rules (plugins/module_utils/_plan.py)."""

from __future__ import annotations

import copy
import ipaddress
import itertools
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from planner_cases import (
    FINGERPRINT,
    GIB,
    HEAD,
    KINDS,
    WORKERS,
    ErrorCase,
    Hosts,
    build,
    chain,
    cluster,
    command,
    drop,
    groups,
    host_error,
    host_vars,
    kind_nodes,
    refusal_test,
    setting_error,
)

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError, member_sources
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import (
    NODE_FIXED_PORTS,
    compose_project,
    facts_for_plan,
    firewall_rules,
    resolve_node_ip,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import cluster_settings

FIXED_HEAD_PORTS = {6379, 8265, 8266, 8267, 10001}
SSH_PORT = 22


# --------------------------------------------------------------------------- refusals

# (id, mutation of the lab topology, host named in the error, variable, text of the value in the message)
PLAN_ERRORS: list[ErrorCase] = [
    # groups
    ("no-head", groups([], WORKERS), None, "groups.ray_head", "[]"),
    ("two-heads", groups(["lab-84", "lab-80"], WORKERS), None, "groups.ray_head", "['lab-84', 'lab-80']"),
    ("member-without-vars", groups([HEAD], [*WORKERS, "lab-99"]), "lab-99", "hostvars", "None"),
    # port plan
    host_error("port-plan-overflow", "lab-80", "ray_worker_count", 128),
    host_error("port-plan-overflow-head-host", HEAD, "ray_worker_count", 127),
    # (id, cluster-wide setting: the head host's three workers no longer fit)
    *(
        (case_id, cluster(**{variable: value}), HEAD, "ray_worker_count", "3")
        for case_id, variable, value in (
            ("port-plan-overflow-wide-blocks", "ray_cluster_worker_ports_per_node", 4000),
            ("port-base-inside-ephemeral", "ray_cluster_port_base", 40000),
            ("port-plan-past-65535", "ray_cluster_port_base", 65300),
        )
    ),
    setting_error("port-base-over-client-port", "ray_cluster_port_base", 10000, HEAD),
    setting_error("port-base-over-dashboard-port", "ray_cluster_port_base", 8200, HEAD),
    setting_error("port-base-over-gcs-port", "ray_cluster_port_base", 6300, HEAD),
    ("ssh-port-inside-node-ports", cluster(ray_cluster_ssh_port=20050), HEAD, "ray_cluster_port_base", "20000"),
    # sources
    (
        "node-ip-outside-allowed-sources",
        cluster(ray_cluster_allowed_sources=["172.28.84.80/30"]),
        HEAD,
        "ray_cluster_allowed_sources",
        "['172.28.84.80/30']",
    ),
    # node addresses
    ("no-address-head", drop(HEAD, "ray_node_ip"), HEAD, "ray_node_ip", "None"),
    ("no-address-worker", drop("lab-81", "ray_node_ip"), "lab-81", "ray_node_ip", "None"),
    host_error("bad-node-ip", "lab-81", "ray_node_ip", "172.28.84.300"),
    (
        "bad-fact-address",
        chain(drop("lab-81", "ray_node_ip"), host_vars("lab-81", facts={"default_ipv4": "eth0"})),
        "lab-81",
        "ansible_facts.default_ipv4.address",
        "'eth0'",
    ),
    host_error("duplicate-node-ip", "lab-82", "ray_node_ip", "172.28.84.80"),
    (
        "duplicate-node-ip-spelled-differently",
        host_vars("lab-82", ray_node_ip=" 172.28.84.80"),
        "lab-82",
        "ray_node_ip",
        "'172.28.84.80'",
    ),
]


test_plan_errors_name_host_variable_and_value = refusal_test(PLAN_ERRORS)


@pytest.mark.parametrize(
    ("port_base", "key"),
    [(10000, "ray_cluster_client_port=10001"), (8200, "ray_cluster_dashboard_port=8265"), (6300, "ray_cluster_gcs_port=6379")],
    ids=["client", "dashboard", "gcs"],
)
def test_port_base_overlap_names_the_fixed_port(lab_hosts: Hosts, port_base: int, key: str) -> None:
    cluster(ray_cluster_port_base=port_base)(lab_hosts)
    with pytest.raises(PlanError, match=re.escape(key)):
        build(lab_hosts)


def test_port_plan_overflow_message(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_count"] = 128
    with pytest.raises(PlanError, match=r"port plan overflow: 128 nodes x 100 ports .* end at 32799, .* 32768-60999"):
        build(lab_hosts)


# --------------------------------------------------------------------------- port blocks


def test_port_plan_fills_exactly_to_the_ephemeral_range(lab_hosts: Hosts) -> None:
    # 128 blocks of 100 ports from 20000 end at 32799; 127 end at 32699, the last that fits.
    lab_hosts[HEAD]["ray_worker_count"] = 126
    lab_hosts["lab-80"]["ray_worker_count"] = 127
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["node_port_range"] == [20000, 32699]
    assert plan["hosts"]["lab-80"]["node_port_range"] == [20000, 32699]


def test_port_plan_above_the_ephemeral_range(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_port_base=61000)(lab_hosts)
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["node_port_range"] == [61000, 61399]


# --------------------------------------------------------------------------- the lab topology


def test_lab_node_and_cpu_counts(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    assert plan["cluster"]["expected_node_count"] == 11
    assert len(plan["expected_nodes"]) == 11
    assert plan["cluster"]["expected_cpus"] == 25
    assert sum(e["num_cpus"] for e in plan["expected_nodes"]) == 25
    assert [(e["host"], e["name"]) for e in plan["expected_nodes"]][:5] == [
        ("lab-84", "ray-head"),
        ("lab-84", "ray-worker-1"),
        ("lab-84", "ray-worker-2"),
        ("lab-84", "ray-worker-3"),
        ("lab-80", "ray-worker-1"),
    ]
    assert {h: len(p["nodes"]) for h, p in plan["hosts"].items()} == {"lab-84": 4, "lab-80": 4, "lab-81": 2, "lab-82": 1}
    assert plan["cluster"]["head_address"] == "172.28.84.84:6379"
    assert plan["cluster"]["head_container"] == "ray-head"
    assert plan["cluster"]["dashboard_url"] == "http://172.28.84.84:8265"
    assert plan["cluster"]["client_address"] == "ray://172.28.84.84:10001"
    # .80, .81, .82 and .84 collapse to the fewest networks holding exactly those addresses.
    assert plan["cluster"]["allowed_sources"] == ["172.28.84.80/31", "172.28.84.82", "172.28.84.84"]
    assert plan["warnings"] == []


def test_lab_expected_nodes_match_the_host_nodes(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    for entry in plan["expected_nodes"]:
        node = next(n for n in plan["hosts"][entry["host"]]["nodes"] if n["name"] == entry["name"])
        assert entry["ip"] == plan["hosts"][entry["host"]]["node_ip"]
        assert entry["node_manager_port"] == node["ports"]["node_manager"]
        assert entry["object_store_memory"] == node["object_store_memory"]
        # Ray reports --memory (the heap) as the node's "memory" resource.
        assert entry["memory"] == node["memory"] - node["object_store_memory"]


def test_lab_port_blocks(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    for host, hplan in plan["hosts"].items():
        blocks = []
        for index, node in enumerate(hplan["nodes"]):
            ports = node["ports"]
            assert node["index"] == index
            assert list(ports) == [*NODE_FIXED_PORTS, "min_worker", "max_worker"]
            fixed = [ports[name] for name in NODE_FIXED_PORTS]
            assert fixed == list(range(fixed[0], fixed[0] + len(NODE_FIXED_PORTS)))
            assert ports["min_worker"] == fixed[-1] + 1
            assert ports["max_worker"] - ports["min_worker"] + 1 == 94
            blocks.append((ports["node_manager"], ports["max_worker"]))
        assert blocks[0][0] == 20000, host
        for (_, prev_high), (low, _) in itertools.pairwise(blocks):
            assert low == prev_high + 1, f"{host}: blocks not contiguous: {blocks}"
        assert hplan["node_port_range"] == [blocks[0][0], blocks[-1][1]]
        assert blocks[-1][1] < 32768
        for low, high in blocks:
            assert not any(low <= port <= high for port in FIXED_HEAD_PORTS | {SSH_PORT}), (host, low, high)
        all_ports = [p for node in hplan["nodes"] for p in range(node["ports"]["node_manager"], node["ports"]["max_worker"] + 1)]
        assert len(all_ports) == len(set(all_ports)), f"{host}: overlapping port blocks"
    assert plan["hosts"]["lab-84"]["node_port_range"] == [20000, 20399]
    assert plan["hosts"]["lab-80"]["node_port_range"] == [20000, 20399]
    assert plan["hosts"]["lab-81"]["node_port_range"] == [20000, 20199]
    assert plan["hosts"]["lab-82"]["node_port_range"] == [20000, 20099]


def test_compose_projects_in_the_plan(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    for hplan in plan["hosts"].values():
        for kind in KINDS:
            # Only where the project lives and its services: the content is rendered at apply time.
            assert hplan["projects"][kind] == {
                "name": f"ray-{kind}",
                "dir": f"/opt/ray-cluster/{kind}",
                "file": f"/opt/ray-cluster/{kind}/compose.yaml",
                "services": [n["name"] for n in kind_nodes(hplan, kind)],
            }
        for node in hplan["nodes"]:
            assert not {"command", "environment", "health_url"} & set(node)


def test_compose_project_without_nodes_is_empty() -> None:
    settings = cluster_settings({"srv1": {}})
    assert compose_project("workers", [], settings) == {
        "name": "ray-workers",
        "dir": "/opt/ray-cluster/workers",
        "file": "/opt/ray-cluster/workers/compose.yaml",
        "services": [],
    }


def test_build_plan_is_deterministic(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{"resources": {"b": 1, "a": 2}, "labels": {"y": "1", "x": "2"}}]
    assert build(copy.deepcopy(lab_hosts)) == build(copy.deepcopy(lab_hosts))


# --------------------------------------------------------------------------- firewall


def test_lab_firewall(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    members = ["172.28.84.80/31", "172.28.84.82", "172.28.84.84"]
    for host, hplan in plan["hosts"].items():
        rules = hplan["firewall"]
        assert rules[0] == {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
        assert all(r["proto"] == "tcp" and r["comment"].startswith("ray_cluster ") for r in rules)
        low, high = hplan["node_port_range"]
        node_rules = [r for r in rules if r["comment"] == "ray_cluster nodes"]
        opened = set()
        for rule in node_rules:
            first, _, last = rule["port"].partition(":")
            opened |= set(range(int(first), int(last or first) + 1))
        # Every node port but the metrics ports (without monitoring, nobody scrapes them), to each member source.
        metrics = {node["ports"]["metrics_export"] for node in hplan["nodes"]}
        assert opened == set(range(low, high + 1)) - metrics
        assert len(node_rules) == (len(hplan["nodes"]) + 1) * len(members)
        head_rules = [r for r in rules if r["comment"] not in ("ray_cluster ssh", "ray_cluster nodes")]
        if host == HEAD:
            assert {(r["port"], r["comment"]) for r in head_rules} == {
                ("6379", "ray_cluster gcs"),
                ("10001", "ray_cluster client"),
                ("8265", "ray_cluster dashboard"),
                ("8266:8267", "ray_cluster metrics"),
            }
            assert len(head_rules) == 4 * len(members)
            assert all(r["src"] in members for r in head_rules)
        else:
            assert head_rules == [], host
        assert len(rules) == len({tuple(r.items()) for r in rules}), f"{host}: duplicate rules"


def test_firewall_admin_sources_reach_only_operator_ports(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_admin_sources=["10.9.0.0/16"], ray_cluster_ssh_sources=["10.9.0.0/16", "172.28.84.1"])(lab_hosts)
    plan = build(lab_hosts)
    rules = plan["hosts"][HEAD]["firewall"]
    assert rules[:2] == [
        {"port": "22", "proto": "tcp", "src": "10.9.0.0/16", "comment": "ray_cluster ssh"},
        {"port": "22", "proto": "tcp", "src": "172.28.84.1", "comment": "ray_cluster ssh"},
    ]
    admin_ports = {r["port"] for r in rules if r["src"] == "10.9.0.0/16" and r["comment"] != "ray_cluster ssh"}
    assert admin_ports == {"10001", "8265", "8266:8267"}
    assert not any(r["src"] == "10.9.0.0/16" for r in plan["hosts"]["lab-80"]["firewall"][2:])


def test_explicit_allowed_sources_replace_member_addresses(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_allowed_sources=["172.28.84.0/24"])(lab_hosts)
    plan = build(lab_hosts)
    assert plan["cluster"]["allowed_sources"] == ["172.28.84.0/24"]
    assert plan["hosts"]["lab-82"]["firewall"] == [
        {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"},
        {"port": "20000:20004", "proto": "tcp", "src": "172.28.84.0/24", "comment": "ray_cluster nodes"},
        {"port": "20006:20099", "proto": "tcp", "src": "172.28.84.0/24", "comment": "ray_cluster nodes"},
    ]


def test_firewall_rules_without_nodes_is_ssh_only() -> None:
    settings = cluster_settings({"srv1": {}})
    assert firewall_rules("srv1", [], None, False, ["192.0.2.1"], settings) == [
        {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
    ]


def test_firewall_merges_only_adjacent_ports_of_one_purpose() -> None:
    settings = cluster_settings(
        {"srv1": {"ray_cluster_autoscaler_metrics_port": 9000, "ray_cluster_dashboard_metrics_port": 9002}}
    )
    node = {"ports": {"metrics_export": 20005}}
    ports = [r["port"] for r in firewall_rules("srv1", [node], (20000, 20099), True, ["192.0.2.1"], settings)]
    assert ports == ["22", "20000:20004", "20006:20099", "6379", "10001", "8265", "9000", "9002"]


# --------------------------------------------------------------------------- member sources

LAB_SOURCES = ["172.28.84.80/31", "172.28.84.82", "172.28.84.84"]


MEMBER_SOURCES = [
    ("lab", ["172.28.84.84", "172.28.84.80", "172.28.84.81", "172.28.84.82"], LAB_SOURCES),
    ("sorted", ["172.28.84.80", "172.28.84.81", "172.28.84.82", "172.28.84.84"], LAB_SOURCES),
    ("one", ["10.0.0.7"], ["10.0.0.7"]),
    ("aligned-four", ["10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"], ["10.0.0.4/30"]),
    ("unaligned-four", ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], ["10.0.0.1", "10.0.0.2/31", "10.0.0.4"]),
    ("whole-24", [f"10.1.2.{i}" for i in range(256)], ["10.1.2.0/24"]),
    ("across-octets", ["10.0.0.255", "10.0.1.0"], ["10.0.0.255", "10.0.1.0"]),
    ("order-free", ["10.0.0.3", "10.0.0.2"], ["10.0.0.2/31"]),
    ("ipv6", ["2001:db8::1", "2001:db8::"], ["2001:db8::/127"]),
    ("ipv4-then-ipv6", ["2001:db8::5", "10.0.0.1"], ["10.0.0.1", "2001:db8::5"]),
    ("empty", [], []),
]


@pytest.mark.parametrize(("ips", "expected"), [c[1:] for c in MEMBER_SOURCES], ids=[c[0] for c in MEMBER_SOURCES])
def test_member_sources(ips: list[str], expected: list[str]) -> None:
    result = member_sources(ips)
    assert result == expected
    # Exactly the members' addresses: no address more, none less.
    covered = {str(a) for src in result for a in ipaddress.ip_network(src)}
    assert covered == {str(ipaddress.ip_address(ip)) for ip in ips}


def test_default_sources_are_the_collapsed_members_everywhere(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    sources = plan["cluster"]["allowed_sources"]
    assert sources == member_sources([h["node_ip"] for h in plan["hosts"].values()])
    for hplan in plan["hosts"].values():
        assert sorted({r["src"] for r in hplan["firewall"] if r["comment"] == "ray_cluster nodes"}) == sorted(sources)


# --------------------------------------------------------------------------- node addresses

IP_RESOLUTION = [
    (
        "ray_node_ip-wins",
        {"ray_node_ip": "10.0.0.1", "ansible_host": "10.0.0.2", "facts": {"default_ipv4": "10.0.0.3"}},
        "10.0.0.1",
    ),
    ("ip-ansible_host-next", {"ansible_host": "10.0.0.2", "facts": {"default_ipv4": "10.0.0.3"}}, "10.0.0.2"),
    ("hostname-ansible_host-uses-facts", {"ansible_host": "srv1.example", "facts": {"default_ipv4": "10.0.0.3"}}, "10.0.0.3"),
    ("facts-only", {"facts": {"default_ipv4": "10.0.0.3"}}, "10.0.0.3"),
    ("empty-ray_node_ip-ignored", {"ray_node_ip": "", "ansible_host": "10.0.0.2"}, "10.0.0.2"),
    ("none-ray_node_ip-ignored", {"ray_node_ip": None, "facts": {"default_ipv4": "10.0.0.3"}}, "10.0.0.3"),
    ("ipv6-ansible_host", {"ansible_host": "2001:DB8::2"}, "2001:db8::2"),
]


@pytest.mark.parametrize(("hvars", "expected"), [c[1:] for c in IP_RESOLUTION], ids=[c[0] for c in IP_RESOLUTION])
def test_resolve_node_ip_order(hvars: dict[str, Any], expected: str) -> None:
    assert resolve_node_ip("srv1", hvars) == expected


def test_resolve_node_ip_without_any_address() -> None:
    with pytest.raises(PlanError, match=r"^host srv1: ray_node_ip: no node address: .* \(got None\)$"):
        resolve_node_ip("srv1", {"ansible_host": "srv1.example", "facts": {"default_ipv4": None}})


def test_node_ip_from_facts_in_the_plan(lab_hosts: Hosts) -> None:
    del lab_hosts["lab-81"]["ray_node_ip"]
    lab_hosts["lab-81"]["facts"] = facts_for_plan({"default_ipv4": {"address": "172.28.84.181"}, "processor_vcpus": 4})
    plan = build(lab_hosts)
    assert plan["hosts"]["lab-81"]["node_ip"] == "172.28.84.181"
    assert "--node-ip-address=172.28.84.181" in command(plan, "lab-81", plan["hosts"]["lab-81"]["nodes"][0])
    assert "172.28.84.181" in plan["cluster"]["allowed_sources"]
    assert plan["hosts"]["lab-81"]["capacity"]["vcpus"] == 4


NO_FACTS = {"vcpus": None, "memtotal_mb": None, "default_ipv4": None, "mounts": []}
ROOT_MOUNT = {"mount": "/", "size_total": 100 * GIB, "size_available": 40 * GIB}
FACTS = [
    ("none", None, NO_FACTS),
    ("empty", {}, NO_FACTS),
    (
        "nproc-preferred",
        {"processor_nproc": 8, "processor_vcpus": 16, "memtotal_mb": 32000, "default_ipv4": {"address": "10.0.0.1"}},
        {"vcpus": 8, "memtotal_mb": 32000, "default_ipv4": "10.0.0.1", "mounts": []},
    ),
    ("vcpus-fallback", {"processor_vcpus": 16}, {**NO_FACTS, "vcpus": 16}),
    ("default_ipv4-not-a-dict", {"default_ipv4": "10.0.0.1"}, NO_FACTS),
    # The file systems: only their mount point, size and free space.
    (
        "mounts-kept",
        {
            "mounts": [
                {**ROOT_MOUNT, "device": "/dev/sda1", "fstype": "ext4", "options": "rw", "inode_total": 1},
                {"mount": "/var/log", "size_total": 10 * GIB},
            ]
        },
        {**NO_FACTS, "mounts": [ROOT_MOUNT, {"mount": "/var/log", "size_total": 10 * GIB, "size_available": None}]},
    ),
    (
        "mounts-bad-entries-dropped",
        {"mounts": [ROOT_MOUNT, "/data", None, 7, ["/srv"], {}, {"mount": ""}, {"mount": None}, {"size_total": GIB}]},
        {**NO_FACTS, "mounts": [ROOT_MOUNT]},
    ),
    ("mounts-not-a-list", {"mounts": {"mount": "/"}}, NO_FACTS),
    ("mounts-a-string", {"mounts": "/"}, NO_FACTS),
    ("mounts-none", {"mounts": None}, NO_FACTS),
]


@pytest.mark.parametrize(("facts", "expected"), [c[1:] for c in FACTS], ids=[c[0] for c in FACTS])
def test_facts_for_plan(facts: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    assert facts_for_plan(facts) == expected


# --------------------------------------------------------------------------- hosts without nodes

# (host given zero workers, its remaining node names, expected node count, expected CPU total there)
ZERO_WORKERS = [
    ("worker-only-host", "lab-82", [], 10, 0),
    ("head-host", HEAD, ["ray-head"], 8, 0.5),
]


@pytest.mark.parametrize(("host", "names", "count", "cpus"), [c[1:] for c in ZERO_WORKERS], ids=[c[0] for c in ZERO_WORKERS])
def test_host_with_zero_workers(lab_hosts: Hosts, host: str, names: list[str], count: int, cpus: float) -> None:
    lab_hosts[host]["ray_worker_count"] = 0
    lab_hosts[host]["facts"] = {"vcpus": 4, "memtotal_mb": 8192, "default_ipv4": None}
    plan = build(lab_hosts)
    hplan = plan["hosts"][host]
    assert [n["name"] for n in hplan["nodes"]] == names
    assert hplan["projects"]["workers"]["services"] == []
    assert compose_content(plan, host, "workers", FINGERPRINT) == ""
    assert hplan["capacity"]["cpus"] == cpus
    assert type(hplan["capacity"]["cpus"]) is type(cpus)
    assert plan["cluster"]["expected_node_count"] == count
    if not names:
        assert hplan["node_port_range"] is None
        assert hplan["firewall"] == [{"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}]
        assert compose_content(plan, host, "head", FINGERPRINT) == ""


# --------------------------------------------------------------------------- IPv6 node addresses


def ipv6_lab(lab_hosts: Hosts) -> dict[str, Any]:
    for i, hvars in enumerate(lab_hosts.values(), start=1):
        hvars["ray_node_ip"] = f"2001:db8::{i}"
    return build(lab_hosts)


# (what, the URL from an IPv6 plan, expected host, expected port)
IPV6_URLS: list[tuple[str, Callable[[dict[str, Any]], str], str, int]] = [
    ("dashboard_url", lambda plan: plan["cluster"]["dashboard_url"], "2001:db8::1", 8265),
    ("client_address", lambda plan: plan["cluster"]["client_address"], "2001:db8::1", 10001),
]


@pytest.mark.parametrize(("url_of", "host", "port"), [c[1:] for c in IPV6_URLS], ids=[c[0] for c in IPV6_URLS])
def test_ipv6_node_addresses_make_valid_urls(
    lab_hosts: Hosts, url_of: Callable[[dict[str, Any]], str], host: str, port: int
) -> None:
    parts = urllib.parse.urlsplit(url_of(ipv6_lab(lab_hosts)))
    assert (parts.hostname, parts.port) == (host, port)


def test_ipv6_member_sources(lab_hosts: Hosts) -> None:
    plan = ipv6_lab(lab_hosts)
    assert plan["cluster"]["allowed_sources"] == ["2001:db8::1", "2001:db8::2/127", "2001:db8::4"]
