# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the cluster planner (plugins/module_utils/_plan.py)."""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import itertools
import json
import math
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import (
    AUTH_TOKEN_CONTAINER_PATH,
    MANAGED_HEADER,
    compose_content,
    compose_service,
    node_command,
    node_environment,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    MIB,
    PlanError,
    parse_size,
    parse_source,
    parse_version,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._nodes import node_spec
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import RAY_PREVIOUS_VERSION, RAY_VERSION
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import (
    NODE_FIXED_PORTS,
    build_plan,
    compose_project,
    facts_for_plan,
    firewall_rules,
    member_sources,
    resolve_node_ip,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import cluster_settings
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._yaml import to_yaml

GIB = 1024**3
HEAD = "lab-84"
WORKERS = ["lab-84", "lab-80", "lab-81", "lab-82"]
FIXED_HEAD_PORTS = {6379, 8265, 8266, 8267, 10001}
SSH_PORT = 22
# A token's sha256 fingerprint as the role passes it (never the token): token auth is the default.
FINGERPRINT = "ab" * 16
TOKEN_PATH = "/run/secrets/ray-auth-token"  # noqa: S105 (a path, not a secret)
CUSTOM_TOKEN_FILE = "/srv/secrets/ray.token"  # noqa: S105 (a path, not a secret)
RELATIVE_TOKEN_FILE = "etc/ray-cluster/auth_token"  # noqa: S105 (a path, not a secret)

Mutation = Callable[[dict[str, dict[str, Any]]], "tuple[list[str], list[str]] | None"]


def build(hosts: dict[str, dict[str, Any]], head: list[str] | None = None, workers: list[str] | None = None) -> dict:
    return build_plan([HEAD] if head is None else head, list(WORKERS) if workers is None else workers, hosts)


# --------------------------------------------------------------------------- mutations for the tables


def host_vars(host: str, **values: Any) -> Mutation:
    """Set host variables on one host."""

    def mutate(hosts: dict[str, dict[str, Any]]) -> None:
        hosts[host].update(values)

    return mutate


def drop(host: str, *keys: str) -> Mutation:
    def mutate(hosts: dict[str, dict[str, Any]]) -> None:
        for key in keys:
            hosts[host].pop(key, None)

    return mutate


def spec(host: str, variable: str, **values: Any) -> Mutation:
    """Update a spec mapping (``ray_worker_spec`` or ``ray_head_spec``) on one host."""

    def mutate(hosts: dict[str, dict[str, Any]]) -> None:
        hosts[host].setdefault(variable, {}).update(values)

    return mutate


def cluster(**values: Any) -> Mutation:
    """Set cluster-wide variables the same on every host, as group_vars would."""

    def mutate(hosts: dict[str, dict[str, Any]]) -> None:
        for hvars in hosts.values():
            hvars.update(copy.deepcopy(values))

    return mutate


def groups(head: list[str], workers: list[str]) -> Mutation:
    def mutate(hosts: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
        return head, workers

    return mutate


def chain(*mutations: Mutation) -> Mutation:
    def mutate(hosts: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]] | None:
        result = None
        for m in mutations:
            result = m(hosts) or result
        return result

    return mutate


def apply(mutation: Mutation, hosts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    grouping = mutation(hosts)
    head, workers = grouping if grouping else ([HEAD], list(WORKERS))
    return build_plan(head, workers, hosts)


def command(plan: dict[str, Any], host: str, node: dict[str, Any]) -> list[str]:
    """The ``ray start`` argv the compose file runs for one of ``host``'s planned nodes."""
    return node_command(node, plan["hosts"][host]["node_ip"], plan["cluster"])


def environment(plan: dict[str, Any], node: dict[str, Any]) -> dict[str, str]:
    return node_environment(node, plan["cluster"])


def services(plan: dict[str, Any], host: str, kind: str) -> dict[str, Any]:
    """The services of one of a host's rendered compose projects, as YAML reads them."""
    return yaml.safe_load(compose_content(plan, host, kind, FINGERPRINT))["services"]


def parse_flags(argv: list[str]) -> dict[str, str]:
    """``--name=value`` arguments of a ``ray start`` argv as a dict (flags without ``=`` map to '')."""
    flags: dict[str, str] = {}
    for arg in argv:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            assert name not in flags, f"flag {name} given twice in {argv}"
            flags[name] = value
    return flags


# --------------------------------------------------------------------------- sizes

SIZES_ACCEPTED = [
    ("6G", 6 * GIB),
    ("6g", 6 * GIB),
    ("512m", 512 * MIB),
    ("512M", 512 * MIB),
    ("2000000000", 2_000_000_000),
    ("1.5GiB", 1610612736),
    ("1.5gib", 1610612736),
    ("2gb", 2 * GIB),
    ("2GB", 2 * GIB),
    ("100k", 102400),
    ("100KiB", 102400),
    ("1024b", 1024),
    ("1024B", 1024),
    ("1t", 1024**4),
    ("1p", 1024**5),
    ("0.5k", 512),
    (" 6G ", 6 * GIB),
    ("6 G", 6 * GIB),
    ("0", 0),
    (0, 0),
    (1, 1),
    (2_000_000_000, 2_000_000_000),
    (1536.0, 1536),
    (1.9, 1),
]


@pytest.mark.parametrize(("value", "expected"), SIZES_ACCEPTED, ids=[repr(v) for v, _ in SIZES_ACCEPTED])
def test_parse_size_accepts(value: Any, expected: int) -> None:
    result = parse_size(value)
    assert result == expected
    assert type(result) is int


SIZES_REJECTED = [
    "6X",
    -1,
    "-1",
    "",
    "   ",
    "g",
    "gb",
    True,
    False,
    float("nan"),
    "nan",
    float("inf"),
    -1.5,
    None,
    "1e9",
    "1.2.3g",
    "6GB/s",
    "6Gi",
    [6],
]


@pytest.mark.parametrize("value", SIZES_REJECTED, ids=[repr(v) for v in SIZES_REJECTED])
def test_parse_size_rejects(value: Any) -> None:
    with pytest.raises(PlanError) as exc:
        parse_size(value, "srv1", "ray_worker_spec.memory")
    message = str(exc.value)
    assert message.startswith("host srv1: ray_worker_spec.memory: ")
    assert repr(value) in message
    assert isinstance(exc.value, ValueError)
    assert (exc.value.host, exc.value.variable) == ("srv1", "ray_worker_spec.memory")


def test_plan_error_without_host_has_no_host_prefix() -> None:
    with pytest.raises(PlanError) as exc:
        parse_size("6X")
    assert str(exc.value) == "size: cannot parse it as a size (examples: 6G, 512m, 1.5GiB, 2000000000) (got '6X')"
    assert exc.value.host is None


# --------------------------------------------------------------------------- versions and sources

VERSIONS = [("2.60.0", (2, 60, 0)), ("2.52.0", (2, 52, 0)), ("10.0.12", (10, 0, 12))]


@pytest.mark.parametrize(("value", "expected"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_parse_version_accepts(value: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(value) == expected


BAD_VERSIONS = ["2.60", "v2.60.0", "latest", "2.60.0rc1", "", "2.x.0", None, 2.6]


@pytest.mark.parametrize("value", BAD_VERSIONS, ids=[repr(v) for v in BAD_VERSIONS])
def test_parse_version_rejects(value: Any) -> None:
    with pytest.raises(PlanError, match=r"ray_cluster_version: expected a Ray release such as 2\.60\.0") as exc:
        parse_version(value)
    assert repr(value) in str(exc.value)


SOURCES = [
    ("any", "any"),
    ("172.28.84.80", "172.28.84.80"),
    ("172.28.84.80/32", "172.28.84.80"),
    (" 172.28.84.80 ", "172.28.84.80"),
    ("172.28.84.0/24", "172.28.84.0/24"),
    ("172.28.84.7/24", "172.28.84.0/24"),
    ("2001:db8::1", "2001:db8::1"),
    ("2001:db8::1/128", "2001:db8::1"),
    ("2001:db8::/32", "2001:db8::/32"),
]


@pytest.mark.parametrize(("value", "expected"), SOURCES, ids=[v for v, _ in SOURCES])
def test_parse_source_normalises(value: str, expected: str) -> None:
    assert parse_source(value, None, "ray_cluster_allowed_sources") == expected


BAD_SOURCES = ["172.28.84.0/33", "172.28.84.300", "lab-80", "", "ANY", "10.0.0.0/8/8"]


@pytest.mark.parametrize("value", BAD_SOURCES, ids=[repr(v) for v in BAD_SOURCES])
def test_parse_source_rejects(value: str) -> None:
    with pytest.raises(PlanError) as exc:
        parse_source(value, "srv1", "ray_cluster_admin_sources")
    assert str(exc.value).startswith("host srv1: ray_cluster_admin_sources: ")
    assert repr(value) in str(exc.value)


# --------------------------------------------------------------------------- validation errors

# (mutation of the lab topology, host named in the error, variable, text of the value in the message)
ERRORS: list[tuple[str, Mutation, str | None, str, str]] = [
    # groups
    ("no-head", groups([], WORKERS), None, "groups.ray_head", "[]"),
    ("two-heads", groups(["lab-84", "lab-80"], WORKERS), None, "groups.ray_head", "['lab-84', 'lab-80']"),
    ("member-without-vars", groups([HEAD], [*WORKERS, "lab-99"]), "lab-99", "hostvars", "None"),
    # worker counts
    ("worker-count-negative", host_vars("lab-80", ray_worker_count=-1), "lab-80", "ray_worker_count", "-1"),
    ("worker-count-fraction", host_vars("lab-80", ray_worker_count=1.5), "lab-80", "ray_worker_count", "1.5"),
    ("worker-count-word", host_vars("lab-80", ray_worker_count="two"), "lab-80", "ray_worker_count", "'two'"),
    ("worker-count-bool", host_vars("lab-80", ray_worker_count=True), "lab-80", "ray_worker_count", "True"),
    (
        "worker-count-not-in-ray_workers",
        groups([HEAD], ["lab-80", "lab-81", "lab-82"]),
        "lab-84",
        "ray_worker_count",
        "3",
    ),
    # sizes
    ("bad-memory", spec("lab-81", "ray_worker_spec", memory="6X"), "lab-81", "ray_worker_spec.memory", "'6X'"),
    ("bad-shm", spec("lab-81", "ray_worker_spec", shm_size="lots"), "lab-81", "ray_worker_spec.shm_size", "'lots'"),
    ("bad-head-memory", spec(HEAD, "ray_head_spec", memory=-1), HEAD, "ray_head_spec.memory", "-1"),
    (
        "bad-reservation",
        spec("lab-80", "ray_worker_spec", memory_reservation="half"),
        "lab-80",
        "ray_worker_spec.memory_reservation",
        "'half'",
    ),
    (
        "bad-object-store",
        spec("lab-80", "ray_worker_spec", object_store_memory="1e9"),
        "lab-80",
        "ray_worker_spec.object_store_memory",
        "'1e9'",
    ),
    # CPUs
    ("cpus-zero", spec("lab-80", "ray_worker_spec", cpus=0), "lab-80", "ray_worker_spec.cpus", "0"),
    ("cpus-negative", spec("lab-80", "ray_worker_spec", cpus=-0.5), "lab-80", "ray_worker_spec.cpus", "-0.5"),
    ("cpus-word", spec("lab-80", "ray_worker_spec", cpus="many"), "lab-80", "ray_worker_spec.cpus", "'many'"),
    ("cpus-nan", spec("lab-80", "ray_worker_spec", cpus="nan"), "lab-80", "ray_worker_spec.cpus", "'nan'"),
    ("head-cpus-zero", spec(HEAD, "ray_head_spec", cpus=0), HEAD, "ray_head_spec.cpus", "0"),
    ("worker-num-cpus-zero", spec("lab-81", "ray_worker_spec", num_cpus=0), "lab-81", "ray_worker_spec.num_cpus", "0"),
    ("head-num-cpus-negative", spec(HEAD, "ray_head_spec", num_cpus=-1), HEAD, "ray_head_spec.num_cpus", "-1"),
    ("gpus-negative", spec("lab-82", "ray_worker_spec", gpus=-1), "lab-82", "ray_worker_spec.gpus", "-1"),
    # memory relations
    (
        "shm-below-1.1x-object-store",
        spec("lab-80", "ray_worker_spec", object_store_memory="200m", shm_size="200m"),
        "lab-80",
        "ray_worker_spec.shm_size",
        "'200m'",
    ),
    (
        "reservation-above-limit",
        spec("lab-80", "ray_worker_spec", memory_reservation="2g"),
        "lab-80",
        "ray_worker_spec.memory_reservation",
        "'2g'",
    ),
    (
        "object-store-above-memory",
        spec("lab-80", "ray_worker_spec", memory="1g", shm_size="4g", object_store_memory="1.5g"),
        "lab-80",
        "ray_worker_spec.object_store_memory",
        "'1.5g'",
    ),
    (
        "object-store-equals-memory",
        spec("lab-80", "ray_worker_spec", memory="1g", shm_size="4g", object_store_memory="1g"),
        "lab-80",
        "ray_worker_spec.object_store_memory",
        "'1g'",
    ),
    (
        "object-store-below-75MiB",
        spec("lab-81", "ray_worker_spec", object_store_memory="50m"),
        "lab-81",
        "ray_worker_spec.object_store_memory",
        "'50m'",
    ),
    (
        "derived-object-store-too-small-memory",
        spec("lab-81", "ray_worker_spec", memory="200m"),
        "lab-81",
        "ray_worker_spec.shm_size/memory",
        "memory=200m",
    ),
    (
        "derived-object-store-too-small-shm",
        spec("lab-81", "ray_worker_spec", shm_size="64m"),
        "lab-81",
        "ray_worker_spec.shm_size/memory",
        "shm_size=64m",
    ),
    (
        "derived-object-store-tiny-memory",
        spec("lab-81", "ray_worker_spec", memory=1000),
        "lab-81",
        "ray_worker_spec.shm_size/memory",
        "memory=1000",
    ),
    ("cpus-bool", spec("lab-80", "ray_worker_spec", cpus=True), "lab-80", "ray_worker_spec.cpus", "True"),
    # port plan
    (
        "port-plan-overflow",
        host_vars("lab-80", ray_worker_count=128),
        "lab-80",
        "ray_worker_count",
        "128",
    ),
    (
        "port-plan-overflow-head-host",
        host_vars(HEAD, ray_worker_count=127),
        HEAD,
        "ray_worker_count",
        "127",
    ),
    (
        "port-plan-overflow-wide-blocks",
        cluster(ray_cluster_worker_ports_per_node=4000),
        HEAD,
        "ray_worker_count",
        "3",
    ),
    (
        "port-base-inside-ephemeral",
        cluster(ray_cluster_port_base=40000),
        HEAD,
        "ray_worker_count",
        "3",
    ),
    (
        "port-plan-past-65535",
        cluster(ray_cluster_port_base=65300),
        HEAD,
        "ray_worker_count",
        "3",
    ),
    ("port-base-over-client-port", cluster(ray_cluster_port_base=10000), HEAD, "ray_cluster_port_base", "10000"),
    ("port-base-over-dashboard-port", cluster(ray_cluster_port_base=8200), HEAD, "ray_cluster_port_base", "8200"),
    (
        "port-base-over-gcs-port",
        cluster(ray_cluster_port_base=6300),
        HEAD,
        "ray_cluster_port_base",
        "6300",
    ),
    (
        "ssh-port-inside-node-ports",
        cluster(ray_cluster_ssh_port=20050),
        HEAD,
        "ray_cluster_port_base",
        "20000",
    ),
    # unknown keys, overrides, names
    (
        "unknown-key-in-override",
        host_vars("lab-80", ray_worker_overrides=[{"cpu": 1}]),
        "lab-80",
        "ray_worker_overrides[0].cpu",
        "1",
    ),
    (
        "unknown-key-in-second-override",
        host_vars("lab-80", ray_worker_overrides=[{}, {"memroy": "2g"}]),
        "lab-80",
        "ray_worker_overrides[1].memroy",
        "'2g'",
    ),
    ("unknown-key-in-spec", spec("lab-81", "ray_worker_spec", mem="1g"), "lab-81", "ray_worker_spec.mem", "'1g'"),
    ("unknown-key-in-head-spec", spec(HEAD, "ray_head_spec", port=6379), HEAD, "ray_head_spec.port", "6379"),
    ("spec-not-a-mapping", host_vars("lab-81", ray_worker_spec="big"), "lab-81", "ray_worker_spec", "'big'"),
    (
        "override-not-a-mapping",
        host_vars("lab-81", ray_worker_overrides=["big"]),
        "lab-81",
        "ray_worker_overrides[0]",
        "'big'",
    ),
    (
        "overrides-not-a-list",
        host_vars("lab-81", ray_worker_overrides={"cpus": 1}),
        "lab-81",
        "ray_worker_overrides",
        "{'cpus': 1}",
    ),
    (
        "more-overrides-than-workers",
        host_vars("lab-82", ray_worker_overrides=[{}, {"cpus": 1}]),
        "lab-82",
        "ray_worker_overrides",
        "2 items",
    ),
    (
        "duplicate-name-via-override",
        host_vars("lab-80", ray_worker_overrides=[{"name": "ray-worker-2"}]),
        "lab-80",
        "ray_worker_overrides.name",
        "'ray-worker-2'",
    ),
    (
        "override-name-equals-head",
        host_vars(HEAD, ray_worker_overrides=[{"name": "ray-head"}]),
        HEAD,
        "ray_worker_overrides.name",
        "'ray-head'",
    ),
    (
        "bad-container-name",
        host_vars("lab-80", ray_worker_overrides=[{"name": "ray worker"}]),
        "lab-80",
        "ray_worker_overrides[0].name",
        "'ray worker'",
    ),
    (
        "resource-reserved-name",
        spec("lab-80", "ray_worker_spec", resources={"CPU": 1}),
        "lab-80",
        "ray_worker_spec.resources.CPU",
        "1",
    ),
    (
        "resource-negative",
        spec("lab-80", "ray_worker_spec", resources={"accel": -1}),
        "lab-80",
        "ray_worker_spec.resources.accel",
        "-1",
    ),
    (
        "resources-not-a-mapping",
        spec("lab-80", "ray_worker_spec", resources=["accel"]),
        "lab-80",
        "ray_worker_spec.resources",
        "['accel']",
    ),
    (
        "label-value-with-space",
        spec("lab-80", "ray_worker_spec", labels={"zone": "rack 1"}),
        "lab-80",
        "ray_worker_spec.labels.zone",
        "'rack 1'",
    ),
    (
        "labels-not-a-mapping",
        spec("lab-80", "ray_worker_spec", labels="zone=a"),
        "lab-80",
        "ray_worker_spec.labels",
        "'zone=a'",
    ),
    # sources
    (
        "allowed-sources-bad-cidr",
        cluster(ray_cluster_allowed_sources=["172.28.84.0/33"]),
        None,
        "ray_cluster_allowed_sources",
        "'172.28.84.0/33'",
    ),
    (
        "admin-sources-bad-address",
        cluster(ray_cluster_admin_sources=["10.0.0.300"]),
        None,
        "ray_cluster_admin_sources",
        "'10.0.0.300'",
    ),
    (
        "ssh-sources-bad-network",
        cluster(ray_cluster_ssh_sources=["office"]),
        None,
        "ray_cluster_ssh_sources",
        "'office'",
    ),
    ("allowed-sources-any", cluster(ray_cluster_allowed_sources=["any"]), None, "ray_cluster_allowed_sources", "['any']"),
    (
        "admin-sources-any",
        cluster(ray_cluster_admin_sources=["10.0.0.0/8", "any"]),
        None,
        "ray_cluster_admin_sources",
        "['10.0.0.0/8', 'any']",
    ),
    (
        "allowed-sources-a-string",
        cluster(ray_cluster_allowed_sources="172.28.84.0/24"),
        None,
        "ray_cluster_allowed_sources",
        "'172.28.84.0/24'",
    ),
    (
        "node-ip-outside-allowed-sources",
        cluster(ray_cluster_allowed_sources=["172.28.84.80/30"]),
        HEAD,
        "ray_cluster_allowed_sources",
        "['172.28.84.80/30']",
    ),
    # versions and cluster-wide settings
    (
        "version-mismatch",
        host_vars("lab-81", ray_cluster_version=RAY_PREVIOUS_VERSION),
        None,
        "ray_cluster_version",
        f"lab-81='{RAY_PREVIOUS_VERSION}'",
    ),
    ("version-short", cluster(ray_cluster_version="2.60"), None, "ray_cluster_version", "'2.60'"),
    ("version-latest", cluster(ray_cluster_version="latest"), None, "ray_cluster_version", "'latest'"),
    ("unknown-cluster-variable", host_vars("lab-82", ray_cluster_nmae="ray"), "lab-82", "ray_cluster_nmae", "(value not shown)"),
    (
        "token-auth-before-2.52",
        cluster(ray_cluster_auth_mode="token", ray_cluster_version="2.51.0"),
        None,
        "ray_cluster_auth_mode",
        "'token'",
    ),
    ("bad-auth-mode", cluster(ray_cluster_auth_mode="password"), None, "ray_cluster_auth_mode", "'password'"),
    (
        "token-auth-before-2.52-by-default",
        cluster(ray_cluster_version="2.51.0"),
        None,
        "ray_cluster_auth_mode",
        "'token'",
    ),
    (
        "relative-auth-token-file",
        cluster(ray_cluster_auth_token_file=RELATIVE_TOKEN_FILE),
        None,
        "ray_cluster_auth_token_file",
        "'etc/ray-cluster/auth_token'",
    ),
    ("empty-auth-token-file", cluster(ray_cluster_auth_token_file=""), None, "ray_cluster_auth_token_file", "''"),
    (
        "auth-token-file-mismatch",
        host_vars("lab-81", ray_cluster_auth_token_file=CUSTOM_TOKEN_FILE),
        None,
        "ray_cluster_auth_token_file",
        f"lab-81={CUSTOM_TOKEN_FILE!r}",
    ),
    ("bad-dashboard-bind", cluster(ray_cluster_dashboard_bind="public"), None, "ray_cluster_dashboard_bind", "'public'"),
    ("bad-python-version", cluster(ray_cluster_python_version="3"), None, "ray_cluster_python_version", "'3'"),
    ("bad-cluster-name", cluster(ray_cluster_name="my ray"), None, "ray_cluster_name", "'my ray'"),
    ("bad-label-prefix", cluster(ray_cluster_label_prefix="-x"), None, "ray_cluster_label_prefix", "'-x'"),
    ("relative-compose-dir", cluster(ray_cluster_compose_dir="ray"), None, "ray_cluster_compose_dir", "'ray'"),
    ("port-out-of-range", cluster(ray_cluster_gcs_port=70000), None, "ray_cluster_gcs_port", "70000"),
    ("port-not-a-number", cluster(ray_cluster_client_port="ten"), None, "ray_cluster_client_port", "'ten'"),
    ("same-fixed-port-twice", cluster(ray_cluster_dashboard_port=6379), None, "ray_cluster_dashboard_port", "6379"),
    (
        "worker-ports-per-node-zero",
        cluster(ray_cluster_worker_ports_per_node=0),
        None,
        "ray_cluster_worker_ports_per_node",
        "0",
    ),
    (
        "ephemeral-range-shape",
        cluster(ray_cluster_ephemeral_port_range=[32768]),
        None,
        "ray_cluster_ephemeral_port_range",
        "[32768]",
    ),
    (
        "reconnect-timeout-too-short",
        cluster(ray_cluster_gcs_reconnect_timeout_s=2),
        None,
        "ray_cluster_gcs_reconnect_timeout_s",
        "2",
    ),
    ("log-max-files-zero", cluster(ray_cluster_log_max_files=0), None, "ray_cluster_log_max_files", "0"),
    ("log-max-size-bad", cluster(ray_cluster_log_max_size="big"), None, "ray_cluster_log_max_size", "'big'"),
    (
        "oversubscription-not-bool",
        cluster(ray_cluster_allow_oversubscription="yes"),
        None,
        "ray_cluster_allow_oversubscription",
        "'yes'",
    ),
    # node addresses
    ("no-address-head", drop(HEAD, "ray_node_ip"), HEAD, "ray_node_ip", "None"),
    ("no-address-worker", drop("lab-81", "ray_node_ip"), "lab-81", "ray_node_ip", "None"),
    ("bad-node-ip", host_vars("lab-81", ray_node_ip="172.28.84.300"), "lab-81", "ray_node_ip", "'172.28.84.300'"),
    (
        "bad-fact-address",
        chain(drop("lab-81", "ray_node_ip"), host_vars("lab-81", facts={"default_ipv4": "eth0"})),
        "lab-81",
        "ansible_facts.default_ipv4.address",
        "'eth0'",
    ),
    ("duplicate-node-ip", host_vars("lab-82", ray_node_ip="172.28.84.80"), "lab-82", "ray_node_ip", "'172.28.84.80'"),
    (
        "duplicate-node-ip-spelled-differently",
        host_vars("lab-82", ray_node_ip=" 172.28.84.80"),
        "lab-82",
        "ray_node_ip",
        "'172.28.84.80'",
    ),
    # capacity
    (
        "capacity-over-vcpus",
        host_vars("lab-80", facts={"vcpus": 1, "memtotal_mb": 65536, "default_ipv4": None}),
        "lab-80",
        "ray_worker_spec.cpus",
        "2.0",
    ),
    (
        "capacity-over-memory",
        host_vars("lab-80", facts={"vcpus": 8, "memtotal_mb": 2048, "default_ipv4": None}),
        "lab-80",
        "ray_worker_spec.memory",
        "'4.00GiB'",
    ),
]


@pytest.mark.parametrize(("mutation", "host", "variable", "value"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_plan_errors_name_host_variable_and_value(
    lab_hosts: dict[str, dict[str, Any]], mutation: Mutation, host: str | None, variable: str, value: str
) -> None:
    with pytest.raises(PlanError) as exc:
        apply(mutation, lab_hosts)
    message = str(exc.value)
    assert exc.value.host == host
    assert exc.value.variable == variable
    if host:
        assert message.startswith(f"host {host}: {variable}: "), message
    else:
        assert message.startswith(f"{variable}: "), message
    assert value in message.rsplit("(got ", 1)[-1], message


def test_version_mismatch_names_every_host(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-81"]["ray_cluster_version"] = RAY_PREVIOUS_VERSION
    with pytest.raises(PlanError, match="must be the same on every cluster host") as exc:
        build(lab_hosts)
    for name in (
        f"lab-84='{RAY_VERSION}'",
        f"lab-80='{RAY_VERSION}'",
        f"lab-81='{RAY_PREVIOUS_VERSION}'",
        f"lab-82='{RAY_VERSION}'",
    ):
        assert name in str(exc.value)


def test_token_auth_message_names_the_version(lab_hosts: dict[str, dict[str, Any]]) -> None:
    cluster(ray_cluster_auth_mode="token", ray_cluster_version="2.51.0")(lab_hosts)
    with pytest.raises(PlanError, match=r"needs Ray >= 2\.52\.0, ray_cluster_version is 2\.51\.0"):
        build(lab_hosts)


@pytest.mark.parametrize(
    ("port_base", "key"),
    [(10000, "ray_cluster_client_port=10001"), (8200, "ray_cluster_dashboard_port=8265"), (6300, "ray_cluster_gcs_port=6379")],
    ids=["client", "dashboard", "gcs"],
)
def test_port_base_overlap_names_the_fixed_port(lab_hosts: dict[str, dict[str, Any]], port_base: int, key: str) -> None:
    cluster(ray_cluster_port_base=port_base)(lab_hosts)
    with pytest.raises(PlanError, match=re.escape(key)):
        build(lab_hosts)


def test_port_plan_overflow_message(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["ray_worker_count"] = 128
    with pytest.raises(PlanError, match=r"port plan overflow: 128 nodes x 100 ports .* end at 32799, .* 32768-60999"):
        build(lab_hosts)


# --------------------------------------------------------------------------- accepted edge values


@pytest.mark.parametrize("count", ["3", " 3 ", 3.0], ids=["string", "padded-string", "whole-float"])
def test_worker_count_as_string_is_accepted(lab_hosts: dict[str, dict[str, Any]], count: Any) -> None:
    lab_hosts["lab-80"]["ray_worker_count"] = count
    plan = build(lab_hosts)
    assert [n["name"] for n in plan["hosts"]["lab-80"]["nodes"]] == ["ray-worker-1", "ray-worker-2", "ray-worker-3"]


def test_port_plan_fills_exactly_to_the_ephemeral_range(lab_hosts: dict[str, dict[str, Any]]) -> None:
    # 128 blocks of 100 ports from 20000 end at 32799; 127 end at 32699, the last that fits.
    lab_hosts[HEAD]["ray_worker_count"] = 126
    lab_hosts["lab-80"]["ray_worker_count"] = 127
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["node_port_range"] == [20000, 32699]
    assert plan["hosts"]["lab-80"]["node_port_range"] == [20000, 32699]


def test_port_plan_above_the_ephemeral_range(lab_hosts: dict[str, dict[str, Any]]) -> None:
    cluster(ray_cluster_port_base=61000)(lab_hosts)
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["node_port_range"] == [61000, 61399]


def test_head_may_have_zero_logical_cpus(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts[HEAD]["ray_head_spec"]["num_cpus"] = 0
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["nodes"][0]["num_cpus"] == 0
    assert "--num-cpus=0" in command(plan, HEAD, plan["hosts"][HEAD]["nodes"][0])
    assert plan["cluster"]["expected_cpus"] == 23


def test_token_auth_from_2_52(lab_hosts: dict[str, dict[str, Any]]) -> None:
    cluster(ray_cluster_auth_mode="token", ray_cluster_version="2.52.0")(lab_hosts)
    plan = build(lab_hosts)
    assert plan["cluster"]["auth_mode"] == "token"
    assert plan["cluster"]["image"] == "wizardsofts/ray:2.52.0-py311"
    for hplan in plan["hosts"].values():
        for node in hplan["nodes"]:
            assert environment(plan, node)["RAY_AUTH_MODE"] == "token"


@pytest.mark.parametrize(("memory", "reservation"), [("1g", "1g"), ("1g", "512m"), ("1g", 0)], ids=["equal", "half", "zero"])
def test_memory_reservation_up_to_the_limit(lab_hosts: dict[str, dict[str, Any]], memory: str, reservation: Any) -> None:
    spec("lab-80", "ray_worker_spec", memory=memory, memory_reservation=reservation)(lab_hosts)
    node = build(lab_hosts)["hosts"]["lab-80"]["nodes"][0]
    assert node["memory_reservation"] == parse_size(reservation)


# --------------------------------------------------------------------------- capacity


def test_capacity_oversubscription_warns(lab_hosts: dict[str, dict[str, Any]]) -> None:
    cluster(ray_cluster_allow_oversubscription=True)(lab_hosts)
    lab_hosts["lab-80"]["facts"] = {"vcpus": 1, "memtotal_mb": 2048, "default_ipv4": None}
    plan = build(lab_hosts)
    assert plan["warnings"] == [
        "host lab-80: ray_worker_spec.cpus: the CPU limits add up to 2, above the host's 1 vCPUs (oversubscription allowed)",
        "host lab-80: ray_worker_spec.memory: the memory limits add up to 4.00GiB, above the host's 2.00GiB"
        " (oversubscription allowed)",
    ]
    assert plan["hosts"]["lab-80"]["capacity"] == {"cpus": 2, "memory": 4 * GIB, "vcpus": 1, "memtotal": 2 * GIB}


def test_capacity_within_limits_and_without_facts(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["facts"] = {"vcpus": 2, "memtotal_mb": 4096, "default_ipv4": None}
    plan = build(lab_hosts)
    assert plan["warnings"] == []
    assert plan["hosts"]["lab-80"]["capacity"] == {"cpus": 2, "memory": 4 * GIB, "vcpus": 2, "memtotal": 4 * GIB}
    assert plan["hosts"][HEAD]["capacity"] == {"cpus": 2, "memory": 5 * GIB, "vcpus": None, "memtotal": None}
    assert plan["hosts"]["lab-81"]["capacity"]["cpus"] == 1


# --------------------------------------------------------------------------- the lab topology


def test_lab_node_and_cpu_counts(lab_hosts: dict[str, dict[str, Any]]) -> None:
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


def test_lab_expected_nodes_match_the_host_nodes(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    for entry in plan["expected_nodes"]:
        node = next(n for n in plan["hosts"][entry["host"]]["nodes"] if n["name"] == entry["name"])
        assert entry["ip"] == plan["hosts"][entry["host"]]["node_ip"]
        assert entry["node_manager_port"] == node["ports"]["node_manager"]
        assert entry["object_store_memory"] == node["object_store_memory"]
        # Ray reports --memory (the heap) as the node's "memory" resource.
        assert entry["memory"] == node["memory"] - node["object_store_memory"]


def test_lab_port_blocks(lab_hosts: dict[str, dict[str, Any]]) -> None:
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


PORT_FLAGS = {
    "node-manager-port": "node_manager",
    "object-manager-port": "object_manager",
    "runtime-env-agent-port": "runtime_env_agent",
    "dashboard-agent-grpc-port": "dashboard_agent_grpc",
    "dashboard-agent-listen-port": "dashboard_agent_http",
    "metrics-export-port": "metrics_export",
    "min-worker-port": "min_worker",
    "max-worker-port": "max_worker",
}
HEAD_PORT_FLAGS = {"port": 6379, "dashboard-port": 8265, "ray-client-server-port": 10001}


def test_lab_ray_start_argv_pins_exactly_the_node_ports(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    for host, hplan in plan["hosts"].items():
        for node in hplan["nodes"]:
            argv = command(plan, host, node)
            assert argv[:4] == ["ray", "start", "--block", "--disable-usage-stats"]
            flags = parse_flags(argv)
            port_flags = {name: int(value) for name, value in flags.items() if name.endswith("-port") or name == "port"}
            own = {flag: node["ports"][key] for flag, key in PORT_FLAGS.items()}
            if node["role"] == "head":
                assert "head" in flags
                assert "address" not in flags
                assert port_flags == {**own, **HEAD_PORT_FLAGS}, (host, node["name"])
                assert flags["dashboard-host"] == hplan["node_ip"]
            else:
                assert "head" not in flags
                assert flags["address"] == "172.28.84.84:6379"
                assert port_flags == own, (host, node["name"])
            assert flags["node-ip-address"] == hplan["node_ip"]
            assert int(flags["num-cpus"]) == node["num_cpus"]
            assert int(flags["num-gpus"]) == 0
            assert int(flags["object-store-memory"]) == node["object_store_memory"]
            assert int(flags["memory"]) == node["memory"] - node["object_store_memory"]
            assert "resources" not in flags
            assert "labels" not in flags


def test_lab_environment(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    head = plan["hosts"][HEAD]["nodes"][0]
    worker = plan["hosts"]["lab-80"]["nodes"][0]
    assert environment(plan, head) == {
        "AUTOSCALER_METRIC_PORT": "8266",
        "DASHBOARD_METRIC_PORT": "8267",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": TOKEN_PATH,
        "RAY_gcs_rpc_server_reconnect_timeout_s": "20",
    }
    assert environment(plan, worker) == {
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": TOKEN_PATH,
        "RAY_gcs_rpc_server_reconnect_timeout_s": "20",
    }
    assert not {"command", "environment", "health_url"} & set(worker), "the plan no longer carries rendered values"


def test_lab_firewall(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    members = ["172.28.84.80/31", "172.28.84.82", "172.28.84.84"]
    for host, hplan in plan["hosts"].items():
        rules = hplan["firewall"]
        assert rules[0] == {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
        assert all(r["proto"] == "tcp" and r["comment"].startswith("ray_cluster ") for r in rules)
        low, high = hplan["node_port_range"]
        node_rules = [r for r in rules if r["comment"] == "ray_cluster nodes"]
        assert node_rules == [
            {"port": f"{low}:{high}", "proto": "tcp", "src": src, "comment": "ray_cluster nodes"} for src in members
        ]
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


def test_firewall_admin_sources_reach_only_operator_ports(lab_hosts: dict[str, dict[str, Any]]) -> None:
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


def test_explicit_allowed_sources_replace_member_addresses(lab_hosts: dict[str, dict[str, Any]]) -> None:
    cluster(ray_cluster_allowed_sources=["172.28.84.0/24"])(lab_hosts)
    plan = build(lab_hosts)
    assert plan["cluster"]["allowed_sources"] == ["172.28.84.0/24"]
    assert plan["hosts"]["lab-82"]["firewall"] == [
        {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"},
        {"port": "20000:20099", "proto": "tcp", "src": "172.28.84.0/24", "comment": "ray_cluster nodes"},
    ]


def test_firewall_rules_without_nodes_is_ssh_only() -> None:
    settings = cluster_settings({"srv1": {}})
    assert firewall_rules("srv1", None, False, ["192.0.2.1"], settings) == [
        {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
    ]


def test_firewall_merges_only_adjacent_ports_of_one_purpose() -> None:
    settings = cluster_settings(
        {"srv1": {"ray_cluster_autoscaler_metrics_port": 9000, "ray_cluster_dashboard_metrics_port": 9002}}
    )
    ports = [r["port"] for r in firewall_rules("srv1", (20000, 20099), True, ["192.0.2.1"], settings)]
    assert ports == ["22", "20000:20099", "6379", "10001", "8265", "9000", "9002"]


# --------------------------------------------------------------------------- object store derivation

OBJECT_STORES = [
    # memory, shm, expected: min(30 % of memory, shm / 1.1) floored to MiB
    ("1g", "256m", 232 * MIB),  # shm / 1.1 = 232.7 MiB
    ("2g", "512m", 465 * MIB),  # shm / 1.1 = 465.45 MiB
    ("1g", "1g", 307 * MIB),  # 30 % = 307.2 MiB
    ("10g", "8g", 3072 * MIB),  # 30 % = 3072 MiB exactly
    ("1000m", "1000m", 300 * MIB),  # 30 % = 300 MiB < 909 MiB
    ("6g", "2g", 1843 * MIB),  # 30 % = 1843.2 MiB < 1861.8 MiB
    ("300m", "100m", 90 * MIB),  # 30 % = 90 MiB < 90.9 MiB
    ("260m", "260m", 78 * MIB),  # 30 % = 78 MiB, just above the 75 MiB minimum
]


@pytest.mark.parametrize(("memory", "shm", "expected"), OBJECT_STORES, ids=[f"{m}-{s}" for m, s, _ in OBJECT_STORES])
def test_object_store_derivation(memory: str, shm: str, expected: int) -> None:
    layer = {"cpus": 1, "memory": memory, "shm_size": shm}
    node = node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
    independent = min(math.floor(parse_size(memory) * 0.3), math.floor(parse_size(shm) / 1.1)) // MIB * MIB
    assert node["object_store_memory"] == expected == independent
    assert node["object_store_memory"] % MIB == 0
    assert node["heap_memory"] == parse_size(memory) - expected


def test_lab_object_stores(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["nodes"][0]["object_store_memory"] == 465 * MIB
    for hplan in plan["hosts"].values():
        for node in hplan["nodes"][1 if hplan["is_head"] else 0 :]:
            assert node["object_store_memory"] == 232 * MIB


def test_explicit_object_store_is_kept() -> None:
    layer = {"cpus": 1, "memory": "1g", "shm_size": "256m", "object_store_memory": "200m"}
    node = node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
    assert node["object_store_memory"] == 200 * MIB


# shm must be >= 1.1 x object_store_memory, compared exactly (104857600 * 1.1 > 115343360 in floats).
SHM_EDGES = [(115343360, True), (115343359, False), (115343361, True), (104857600, False)]


@pytest.mark.parametrize(("shm", "accepted"), SHM_EDGES, ids=[f"shm={s}" for s, _ in SHM_EDGES])
def test_shm_exactly_1_1_times_the_object_store(shm: int, accepted: bool) -> None:
    layer = {"cpus": 1, "memory": "1g", "shm_size": shm, "object_store_memory": "100m"}
    if accepted:
        assert node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)["shm_size"] == shm
    else:
        with pytest.raises(PlanError) as exc:
            node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
        assert exc.value.variable == "ray_worker_spec.shm_size"


# --------------------------------------------------------------------------- specs and overrides


@pytest.mark.parametrize(("cpus", "num_cpus"), [(0.5, 1), (1, 1), (2.9, 2), (4, 4)], ids=["half", "one", "truncated", "four"])
def test_num_cpus_defaults_to_truncated_cpus(cpus: float, num_cpus: int) -> None:
    node = node_spec("srv1", "ray_worker_spec", [({"cpus": cpus, "memory": "1g", "shm_size": "1g"}, "x")], "w1", False)
    assert node["num_cpus"] == num_cpus


def test_spec_defaults_apply(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-82"]["ray_worker_spec"] = {}
    del lab_hosts[HEAD]["ray_head_spec"]
    plan = build(lab_hosts)
    worker = plan["hosts"]["lab-82"]["nodes"][0]
    assert (worker["cpus"], worker["num_cpus"], worker["memory"], worker["shm_size"]) == (2, 2, 6 * GIB, 2 * GIB)
    head = plan["hosts"][HEAD]["nodes"][0]
    assert (head["name"], head["cpus"], head["memory"], head["shm_size"]) == ("ray-head", 2, 4 * GIB, 2 * GIB)


def test_overrides_apply_only_to_their_worker(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [
        {},
        {"name": "ray-gpu", "cpus": 1.5, "memory": "2g", "gpus": 1, "resources": {"accel": 2}, "labels": {"zone": "b"}},
    ]
    plan = build(lab_hosts)
    nodes = plan["hosts"]["lab-80"]["nodes"]
    assert [n["name"] for n in nodes] == ["ray-worker-1", "ray-gpu", "ray-worker-3", "ray-worker-4"]
    special = nodes[1]
    assert special["worker_id"] == 2
    assert (special["cpus"], special["num_cpus"], special["memory"], special["gpus"]) == (1.5, 2, 2 * GIB, 1)
    assert special["shm_size"] == 256 * MIB  # from ray_worker_spec
    assert special["resources"] == {"accel": 2}
    assert special["labels"] == {"zone": "b"}
    flags = parse_flags(command(plan, "lab-80", special))
    assert flags["resources"] == '{"accel":2}'
    assert flags["labels"] == "zone=b"
    assert flags["num-gpus"] == "1"
    for other in (nodes[0], *nodes[2:]):
        assert (other["cpus"], other["memory"], other["gpus"], other["resources"], other["labels"]) == (0.5, GIB, 0, {}, {})
    # The other hosts are untouched too.
    assert all(n["gpus"] == 0 for n in plan["hosts"]["lab-81"]["nodes"])
    service = services(plan, "lab-80", "workers")["ray-gpu"]
    assert service["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    ]
    assert service["labels"]["com.wizardsofts.worker-id"] == "2"


def test_resources_and_labels_are_normalised() -> None:
    layer = {
        "cpus": 1,
        "memory": "1g",
        "shm_size": "1g",
        "resources": {"b": "1.5", "a": 2.0},
        "labels": {"zone": "a", "rack": 3},
    }
    node = node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
    assert node["resources"] == {"a": 2, "b": 1.5}
    assert list(node["resources"]) == ["a", "b"]
    assert node["labels"] == {"rack": "3", "zone": "a"}


# Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, so two characters at least.
CONTAINER_NAMES = [("w", False), ("-w", False), ("w w", False), ("wx", True), ("w.1", True), ("1_w-x", True)]


@pytest.mark.parametrize(("name", "valid"), CONTAINER_NAMES, ids=[repr(n) for n, _ in CONTAINER_NAMES])
def test_container_name_rule(name: str, valid: bool) -> None:
    layer = {"name": name, "cpus": 1, "memory": "1g", "shm_size": "1g"}
    if valid:
        assert node_spec("srv1", "ray_worker_spec", [(layer, "x")], "w1", False)["name"] == name
    else:
        with pytest.raises(PlanError, match="name"):
            node_spec("srv1", "ray_worker_spec", [(layer, "x")], "w1", False)


# --------------------------------------------------------------------------- compose

KINDS = ("head", "workers")


def kind_nodes(hplan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n for n in hplan["nodes"] if (n["role"] == "head") == (kind == "head")]


def port_flags(argv: list[str]) -> dict[str, int]:
    return {name: int(value) for name, value in parse_flags(argv).items() if name.endswith("-port") or name == "port"}


def test_compose_projects_in_the_plan(lab_hosts: dict[str, dict[str, Any]]) -> None:
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


def test_compose_content_parses(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    for host, hplan in plan["hosts"].items():
        for kind in KINDS:
            nodes = kind_nodes(hplan, kind)
            content = compose_content(plan, host, kind, FINGERPRINT)
            if not nodes:
                assert content == ""
                continue
            assert content.startswith(MANAGED_HEADER + f"# Host {host}: {len(nodes)} Ray {kind} container(s).\n")
            assert content.endswith("\n")
            doc = yaml.safe_load(content)
            assert list(doc) == ["name", "services"]
            assert doc["name"] == hplan["projects"][kind]["name"] == f"ray-{kind}"
            assert list(doc["services"]) == hplan["projects"][kind]["services"] == [n["name"] for n in nodes]
            for node in nodes:
                service = doc["services"][node["name"]]
                assert service["container_name"] == node["name"]
                assert service["image"] == f"wizardsofts/ray:{RAY_VERSION}-py311"
                assert service["network_mode"] == "host"
                assert service["restart"] == "unless-stopped"
                assert parse_size(service["shm_size"]) == node["shm_size"]
                limits = service["deploy"]["resources"]["limits"]
                assert float(limits["cpus"]) == node["cpus"]
                assert parse_size(limits["memory"]) == node["memory"]
                assert "reservations" not in service["deploy"]["resources"]
                assert service["command"] == command(plan, host, node)
                assert service["environment"] == environment(plan, node)
                role = node["role"]
                expected_labels = {
                    "com.wizardsofts.cluster": "ray",
                    "com.wizardsofts.server": host,
                    "com.wizardsofts.service": f"ray-{role}",
                }
                if role == "worker":
                    expected_labels["com.wizardsofts.worker-id"] = str(node["worker_id"])
                expected_labels["com.wizardsofts.auth-token-sha256"] = FINGERPRINT
                assert service["labels"] == expected_labels
                assert service["volumes"] == [f"/etc/ray-cluster/auth_token:{TOKEN_PATH}:ro"]
                assert service["logging"] == {"driver": "json-file", "options": {"max-file": "3", "max-size": "50m"}}


def test_compose_commands_pin_exactly_the_node_ports(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{}, {"name": "ray-gpu", "gpus": 1}]
    plan = build(lab_hosts)
    seen: dict[str, set[int]] = {}
    for host, hplan in plan["hosts"].items():
        for kind in KINDS:
            if not kind_nodes(hplan, kind):
                continue
            rendered = services(plan, host, kind)
            for node in kind_nodes(hplan, kind):
                argv = rendered[node["name"]]["command"]
                own = {flag: node["ports"][key] for flag, key in PORT_FLAGS.items()}
                expected = {**own, **HEAD_PORT_FLAGS} if node["role"] == "head" else own
                assert port_flags(argv) == expected, (host, node["name"])
                # No other node's port block appears in this node's command.
                block = set(range(node["ports"]["node_manager"], node["ports"]["max_worker"] + 1))
                assert set(own.values()) <= block
                ports = seen.setdefault(host, set())
                assert not ports & block, (host, node["name"])
                ports |= block
                assert parse_flags(argv)["node-ip-address"] == hplan["node_ip"]


HEALTH_URL = re.compile(r"'(http://[^']+)'")


def test_compose_health_check_uses_the_node_agent_port(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    for host, hplan in plan["hosts"].items():
        for kind in KINDS:
            if not kind_nodes(hplan, kind):
                continue
            rendered = services(plan, host, kind)
            for node in kind_nodes(hplan, kind):
                check = rendered[node["name"]]["healthcheck"]
                assert check["test"][:3] == ["CMD", "python3", "-c"]
                assert HEALTH_URL.findall(check["test"][3]) == [
                    f"http://{hplan['node_ip']}:{node['ports']['dashboard_agent_http']}/api/local_raylet_healthz"
                ]
                assert compile(check["test"][3], "<healthcheck>", "exec")
                assert {k: check[k] for k in ("interval", "timeout", "retries", "start_period")} == {
                    "interval": "15s",
                    "timeout": "10s",
                    "retries": 4,
                    "start_period": "120s",
                }
    worker = services(plan, "lab-80", "workers")["ray-worker-1"]
    assert "http://172.28.84.80:20004/api/local_raylet_healthz" in worker["healthcheck"]["test"][3]


def test_compose_content_is_byte_identical(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{"resources": {"b": 1, "a": 2}, "labels": {"y": "1", "x": "2"}}]
    first = build(copy.deepcopy(lab_hosts))
    second = build(copy.deepcopy(lab_hosts))
    assert first == second
    # As Ansible hands the fact back to the filter: JSON types only.
    via_json = json.loads(json.dumps(first))
    before = copy.deepcopy(first)
    for host in first["hosts"]:
        for kind in KINDS:
            text = compose_content(first, host, kind, FINGERPRINT).encode()
            assert text == compose_content(first, host, kind, FINGERPRINT).encode()
            assert text == compose_content(second, host, kind, FINGERPRINT).encode()
            assert text == compose_content(via_json, host, kind, FINGERPRINT).encode()
    assert first == before, "rendering must not change the plan"


def test_compose_content_ignores_input_key_order(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"].update(resources={"b": 1, "a": 2}, labels={"y": "1", "x": "2"})
    reordered = copy.deepcopy(lab_hosts)
    spec_80 = reordered["lab-80"]["ray_worker_spec"]
    reordered["lab-80"]["ray_worker_spec"] = {
        k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(list(spec_80.items()))
    }
    reordered = {k: dict(reversed(list(v.items()))) for k, v in reversed(list(reordered.items()))}
    a = compose_content(build(lab_hosts), "lab-80", "workers", FINGERPRINT)
    b = compose_content(build(reordered), "lab-80", "workers", FINGERPRINT)
    assert a == b
    flags = parse_flags(yaml.safe_load(a)["services"]["ray-worker-1"]["command"])
    assert (flags["resources"], flags["labels"]) == ('{"a":2,"b":1}', "x=2,y=1")


BAD_RENDER = [
    ("unknown-kind", "lab-80", "worker", "head or workers"),
    ("kind-case", "lab-80", "Head", "head or workers"),
    ("unknown-host", "lab-99", "workers", "lab-99 is not in the cluster plan"),
]


@pytest.mark.parametrize(("host", "kind", "match"), [c[1:] for c in BAD_RENDER], ids=[c[0] for c in BAD_RENDER])
def test_compose_content_rejects_bad_host_or_kind(lab_hosts: dict[str, dict[str, Any]], host: str, kind: str, match: str) -> None:
    plan = build(lab_hosts)
    with pytest.raises(ValueError, match=match):
        compose_content(plan, host, kind, FINGERPRINT)


def test_compose_reservation_and_custom_settings(lab_hosts: dict[str, dict[str, Any]]) -> None:
    cluster(
        ray_cluster_name="prod",
        ray_cluster_label_prefix="org.example",
        ray_cluster_compose_dir="/srv/ray/",
        ray_cluster_image="registry.example/ray:1",
        ray_cluster_log_max_size="10m",
        ray_cluster_log_max_files=7,
        ray_cluster_gcs_reconnect_timeout_s=45,
        ray_cluster_autoscaler_metrics_port=9100,
        ray_cluster_dashboard_metrics_port=9101,
    )(lab_hosts)
    lab_hosts["lab-82"]["ray_worker_spec"]["memory_reservation"] = "512m"
    plan = build(lab_hosts)
    c = plan["cluster"]
    assert (c["log_max_size"], c["log_max_files"], c["gcs_reconnect_timeout_s"]) == ("10m", 7, 45)
    assert (c["autoscaler_metrics_port"], c["dashboard_metrics_port"], c["dashboard_bind"]) == (9100, 9101, "node_ip")
    project = plan["hosts"]["lab-82"]["projects"]["workers"]
    assert (project["name"], project["dir"], project["file"]) == (
        "prod-workers",
        "/srv/ray/workers",
        "/srv/ray/workers/compose.yaml",
    )
    doc = yaml.safe_load(compose_content(plan, "lab-82", "workers", FINGERPRINT))
    service = doc["services"]["ray-worker-1"]
    assert doc["name"] == "prod-workers"
    assert service["image"] == "registry.example/ray:1"
    assert parse_size(service["deploy"]["resources"]["reservations"]["memory"]) == 512 * MIB
    assert set(service["labels"]) == {
        "org.example.cluster",
        "org.example.server",
        "org.example.service",
        "org.example.worker-id",
        "org.example.auth-token-sha256",
    }
    assert service["labels"]["org.example.cluster"] == "prod"
    assert service["logging"]["options"] == {"max-file": "7", "max-size": "10m"}
    assert service["environment"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "45"
    head = services(plan, HEAD, "head")["ray-head"]
    assert head["environment"]["AUTOSCALER_METRIC_PORT"] == "9100"
    assert head["environment"]["DASHBOARD_METRIC_PORT"] == "9101"


# docker compose project names: lower-case letters, digits, '-' and '_', starting with a letter or digit.
CLUSTER_NAMES = [
    ("upper-case", "Ray", False),
    ("dot", "ray.lab", False),
    ("leading-dash", "-ray", False),
    ("leading-underscore", "_ray", False),
    ("space", "my ray", False),
    ("one-char", "r", True),
    ("digits-dash-underscore", "0ray_lab-2", True),
]


@pytest.mark.parametrize(("name", "valid"), [c[1:] for c in CLUSTER_NAMES], ids=[c[0] for c in CLUSTER_NAMES])
def test_cluster_name_gives_a_valid_compose_project_name(lab_hosts: dict[str, dict[str, Any]], name: str, valid: bool) -> None:
    cluster(ray_cluster_name=name)(lab_hosts)
    if not valid:
        with pytest.raises(PlanError) as exc:
            build(lab_hosts)
        assert exc.value.variable == "ray_cluster_name"
        return
    plan = build(lab_hosts)
    for kind in KINDS:
        project = plan["hosts"][HEAD]["projects"][kind]["name"]
        assert project == f"{name}-{kind}"
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", project)
        assert yaml.safe_load(compose_content(plan, HEAD, kind, FINGERPRINT))["name"] == project


@pytest.mark.parametrize(
    ("bind", "host_flag", "url"),
    [
        ("node_ip", "172.28.84.84", "http://172.28.84.84:8265"),
        ("loopback", "127.0.0.1", "http://127.0.0.1:8265"),
        ("all", "0.0.0.0", "http://172.28.84.84:8265"),  # noqa: S104
    ],
    ids=["node_ip", "loopback", "all"],
)
def test_dashboard_bind(lab_hosts: dict[str, dict[str, Any]], bind: str, host_flag: str, url: str) -> None:
    cluster(ray_cluster_dashboard_bind=bind)(lab_hosts)
    plan = build(lab_hosts)
    assert plan["cluster"]["dashboard_bind"] == bind
    assert parse_flags(services(plan, HEAD, "head")["ray-head"]["command"])["dashboard-host"] == host_flag
    assert plan["cluster"]["dashboard_url"] == url


def test_build_plan_is_deterministic(lab_hosts: dict[str, dict[str, Any]]) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{"resources": {"b": 1, "a": 2}, "labels": {"y": "1", "x": "2"}}]
    assert build(copy.deepcopy(lab_hosts)) == build(copy.deepcopy(lab_hosts))


def test_compose_project_without_nodes_is_empty() -> None:
    settings = cluster_settings({"srv1": {}})
    assert compose_project("workers", [], settings) == {
        "name": "ray-workers",
        "dir": "/opt/ray-cluster/workers",
        "file": "/opt/ray-cluster/workers/compose.yaml",
        "services": [],
    }


def test_compose_service_is_a_pure_mapping_of_the_plan(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    hplan = plan["hosts"]["lab-81"]
    node = hplan["nodes"][1]
    service = compose_service("lab-81", node, hplan["node_ip"], plan["cluster"], FINGERPRINT)
    assert service["command"] == node_command(node, hplan["node_ip"], plan["cluster"])
    assert service["environment"] == node_environment(node, plan["cluster"])
    assert services(plan, "lab-81", "workers")[node["name"]] == yaml.safe_load(to_yaml(service))


# --------------------------------------------------------------------------- token authentication

OTHER_FINGERPRINT = "0123456789abcdef" * 4
SAMPLE_TOKEN = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)


def rendered_projects(plan: dict[str, Any], fingerprint: str) -> list[tuple[str, str, str]]:
    """``(host, kind, text)`` of every non-empty compose project of the plan."""
    return [
        (host, kind, compose_content(plan, host, kind, fingerprint))
        for host, hplan in plan["hosts"].items()
        for kind in KINDS
        if kind_nodes(hplan, kind)
    ]


def test_auth_token_container_path() -> None:
    assert AUTH_TOKEN_CONTAINER_PATH == TOKEN_PATH


# (mutation, fingerprint passed, token mode expected, token file in the plan)
AUTH_RENDER = [
    ("token-by-default", cluster(), FINGERPRINT, True, "/etc/ray-cluster/auth_token"),
    (
        "token-custom-file",
        cluster(ray_cluster_auth_mode="token", ray_cluster_auth_token_file=CUSTOM_TOKEN_FILE),
        OTHER_FINGERPRINT,
        True,
        CUSTOM_TOKEN_FILE,
    ),
    ("token-at-2.52", cluster(ray_cluster_version="2.52.0"), "0" * 16, True, "/etc/ray-cluster/auth_token"),
    ("disabled", cluster(ray_cluster_auth_mode="disabled"), "", False, "/etc/ray-cluster/auth_token"),
    ("disabled-ignores-a-fingerprint", cluster(ray_cluster_auth_mode="disabled"), FINGERPRINT, False, None),
    (
        "disabled-before-2.52",
        cluster(ray_cluster_auth_mode="disabled", ray_cluster_version="2.51.0"),
        "",
        False,
        None,
    ),
]


@pytest.mark.parametrize(
    ("mutation", "fingerprint", "token", "token_file"), [c[1:] for c in AUTH_RENDER], ids=[c[0] for c in AUTH_RENDER]
)
def test_auth_mode_rendering(
    lab_hosts: dict[str, dict[str, Any]], mutation: Mutation, fingerprint: str, token: bool, token_file: str | None
) -> None:
    plan = apply(mutation, lab_hosts)
    c = plan["cluster"]
    assert c["auth_mode"] == ("token" if token else "disabled")
    if token_file:
        assert c["auth_token_file"] == token_file
    projects = rendered_projects(plan, fingerprint)
    assert len(projects) == 5
    for host, kind, text in projects:
        for name, service in yaml.safe_load(text)["services"].items():
            where = (host, kind, name)
            env = service["environment"]
            label = service["labels"].get("com.wizardsofts.auth-token-sha256")
            assert env["RAY_AUTH_MODE"] == c["auth_mode"], where
            if token:
                assert env["RAY_AUTH_TOKEN_PATH"] == TOKEN_PATH, where
                assert service["volumes"] == [f"{token_file}:{TOKEN_PATH}:ro"], where
                assert label == fingerprint, where
            else:
                assert "RAY_AUTH_TOKEN_PATH" not in env, where
                assert "volumes" not in service, where
                assert label is None, where
        if not token:
            assert "auth-token" not in text
            assert TOKEN_PATH not in text
            if fingerprint:
                assert fingerprint not in text


def test_fingerprint_changes_only_the_label_lines(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    changed = 0
    for (host, kind, a), (_, _, b) in zip(
        rendered_projects(plan, FINGERPRINT), rendered_projects(plan, OTHER_FINGERPRINT), strict=True
    ):
        lines_a, lines_b = a.splitlines(), b.splitlines()
        assert len(lines_a) == len(lines_b), (host, kind)
        diff = [(x, y) for x, y in zip(lines_a, lines_b, strict=True) if x != y]
        assert len(diff) == len(yaml.safe_load(a)["services"]), (host, kind)
        for x, y in diff:
            assert x.strip() == f'com.wizardsofts.auth-token-sha256: "{FINGERPRINT}"'
            assert y.strip() == f'com.wizardsofts.auth-token-sha256: "{OTHER_FINGERPRINT}"'
        changed += len(diff)
    assert changed == plan["cluster"]["expected_node_count"]


def test_fingerprint_changes_nothing_when_auth_is_disabled(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = apply(cluster(ray_cluster_auth_mode="disabled"), lab_hosts)
    assert rendered_projects(plan, "") == rendered_projects(plan, FINGERPRINT) == rendered_projects(plan, "x")


# Fingerprints compose_content refuses with token authentication (16 to 64 lower-case hex digits only).
BAD_FINGERPRINTS = [
    ("empty", ""),
    ("none", None),
    ("too-short", "a" * 15),
    ("too-long", "a" * 65),
    ("upper-case-hex", "AB" * 16),
    ("mixed-case-hex", "aB" * 16),
    ("raw-token", SAMPLE_TOKEN),
    ("raw-token-upper-case", "Kx9Q2vZ8M1w7T4r6Y0p5"),
    ("token-with-symbols", "s3cr3t+/token=="),
    ("prefixed", "sha256:" + "ab" * 16),
    ("trailing-newline", "ab" * 16 + "\n"),
    ("padded", " " + "ab" * 16),
    ("non-hex-letter", "ab" * 15 + "ag"),
]


@pytest.mark.parametrize("fingerprint", [c[1] for c in BAD_FINGERPRINTS], ids=[c[0] for c in BAD_FINGERPRINTS])
@pytest.mark.parametrize(("host", "kind"), [(HEAD, "head"), ("lab-80", "workers"), ("lab-82", "head")])
def test_token_auth_needs_a_hex_fingerprint(lab_hosts: dict[str, dict[str, Any]], fingerprint: Any, host: str, kind: str) -> None:
    # Also for a project without services (lab-82 has no head): the role always passes it.
    plan = build(lab_hosts)
    with pytest.raises(ValueError, match="fingerprint") as exc:
        compose_content(plan, host, kind, fingerprint)
    if fingerprint:
        assert fingerprint not in str(exc.value), "the error must not echo what may be the token"


def test_token_auth_without_fingerprint_argument_raises(lab_hosts: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        compose_content(build(lab_hosts), "lab-80", "workers")


@pytest.mark.parametrize("length", [16, 32, 64], ids=["16", "32", "64"])
def test_fingerprint_lengths_accepted(lab_hosts: dict[str, dict[str, Any]], length: int) -> None:
    fingerprint = ("0123456789abcdef" * 4)[:length]
    doc = yaml.safe_load(compose_content(build(lab_hosts), "lab-80", "workers", fingerprint))
    assert {s["labels"]["com.wizardsofts.auth-token-sha256"] for s in doc["services"].values()} == {fingerprint}


@pytest.mark.parametrize(
    "token",
    [SAMPLE_TOKEN, "S3cr3t-Token_With.Symbols", "0" * 64],
    ids=["generated-like", "symbols", "all-digits"],
)
def test_token_never_appears_in_rendered_content(lab_hosts: dict[str, dict[str, Any]], token: str) -> None:
    plan = build(lab_hosts)
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(plan)
    for fingerprint in (digest, digest[:32]):
        for host, kind, text in rendered_projects(plan, fingerprint):
            assert token not in text, (host, kind)
            assert fingerprint in text, (host, kind)


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


def test_default_sources_are_the_collapsed_members_everywhere(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = build(lab_hosts)
    sources = plan["cluster"]["allowed_sources"]
    assert sources == member_sources([h["node_ip"] for h in plan["hosts"].values()])
    for hplan in plan["hosts"].values():
        assert [r["src"] for r in hplan["firewall"] if r["comment"] == "ray_cluster nodes"] == sources


TO_YAML = [
    {"a": 1, "b": "x", "c": True, "d": 0.5},
    {"nested": {"list": [1, "two", {"three": [3]}], "empty_list": [], "empty_dict": {}}},
    {"odd key": "with: colon", "quote": 'say "hi"', "unicode": "café", "newline": "a\nb", "bool_word": "yes", "num": "123"},
    [[1, 2], [3], {"k": "v"}],
    {"list_of_dicts": [{"a": 1, "b": {"c": [1, 2]}}, {"d": []}]},
]


@pytest.mark.parametrize("value", TO_YAML, ids=["scalars", "nested", "quoting", "nested-lists", "list-of-dicts"])
def test_to_yaml_round_trips(value: Any) -> None:
    assert yaml.safe_load(to_yaml(value)) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", '"x"'), (3, "3"), (False, "false")],
    ids=["string", "int", "bool"],
)
def test_to_yaml_top_level(value: Any, expected: str) -> None:
    assert to_yaml(value) == expected


# Plain words YAML 1.1 reads as booleans or null are quoted as keys; other words stay plain.
YAML_KEYS = [
    *((key, True) for key in ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "Yes", "ON", "NULL")),
    *((key, False) for key in ("yes_no", "nothing", "truest", "x")),
]


@pytest.mark.parametrize(("key", "quoted"), YAML_KEYS, ids=[k for k, _ in YAML_KEYS])
def test_to_yaml_quotes_keys_yaml_would_not_read_as_strings(key: str, quoted: bool) -> None:
    text = to_yaml({key: 1})
    assert yaml.safe_load(text) == {key: 1}
    assert text == (f'"{key}": 1' if quoted else f"{key}: 1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"a": None}, "a: null"), ([None, 1], "- null\n- 1"), (None, "null")],
    ids=["mapping-value", "list-item", "top-level"],
)
def test_to_yaml_none_is_null(value: Any, expected: str) -> None:
    text = to_yaml(value)
    assert text == expected
    assert yaml.safe_load(text) == value


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


def test_node_ip_from_facts_in_the_plan(lab_hosts: dict[str, dict[str, Any]]) -> None:
    del lab_hosts["lab-81"]["ray_node_ip"]
    lab_hosts["lab-81"]["facts"] = facts_for_plan({"default_ipv4": {"address": "172.28.84.181"}, "processor_vcpus": 4})
    plan = build(lab_hosts)
    assert plan["hosts"]["lab-81"]["node_ip"] == "172.28.84.181"
    assert "--node-ip-address=172.28.84.181" in command(plan, "lab-81", plan["hosts"]["lab-81"]["nodes"][0])
    assert "172.28.84.181" in plan["cluster"]["allowed_sources"]
    assert plan["hosts"]["lab-81"]["capacity"]["vcpus"] == 4


FACTS = [
    ("none", None, {"vcpus": None, "memtotal_mb": None, "default_ipv4": None}),
    ("empty", {}, {"vcpus": None, "memtotal_mb": None, "default_ipv4": None}),
    (
        "nproc-preferred",
        {"processor_nproc": 8, "processor_vcpus": 16, "memtotal_mb": 32000, "default_ipv4": {"address": "10.0.0.1"}},
        {"vcpus": 8, "memtotal_mb": 32000, "default_ipv4": "10.0.0.1"},
    ),
    ("vcpus-fallback", {"processor_vcpus": 16}, {"vcpus": 16, "memtotal_mb": None, "default_ipv4": None}),
    ("default_ipv4-not-a-dict", {"default_ipv4": "10.0.0.1"}, {"vcpus": None, "memtotal_mb": None, "default_ipv4": None}),
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
def test_host_with_zero_workers(
    lab_hosts: dict[str, dict[str, Any]], host: str, names: list[str], count: int, cpus: float
) -> None:
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


def test_cluster_settings_defaults_and_image() -> None:
    settings = cluster_settings({"a": {}, "b": {"ray_cluster_version": RAY_VERSION}})
    assert settings["ray_cluster_image"] == f"wizardsofts/ray:{RAY_VERSION}-py311"
    assert settings["ray_cluster_ephemeral_port_range"] == [32768, 60999]
    assert settings["ray_cluster_port_base"] == 20000
    settings = cluster_settings({"a": {"ray_cluster_python_version": "3.12", "ray_cluster_port_base": "21000"}})
    assert settings["ray_cluster_image"] == f"wizardsofts/ray:{RAY_VERSION}-py312"
    assert settings["ray_cluster_port_base"] == 21000


# --------------------------------------------------------------------------- IPv6 node addresses


def ipv6_lab(lab_hosts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    for i, hvars in enumerate(lab_hosts.values(), start=1):
        hvars["ray_node_ip"] = f"2001:db8::{i}"
    return build(lab_hosts)


# (what, the URL from an IPv6 plan, expected host, expected port)
IPV6_URLS: list[tuple[str, Callable[[dict[str, Any]], str], str, int]] = [
    ("dashboard_url", lambda plan: plan["cluster"]["dashboard_url"], "2001:db8::1", 8265),
    ("client_address", lambda plan: plan["cluster"]["client_address"], "2001:db8::1", 10001),
    (
        "worker-health-check",
        lambda plan: HEALTH_URL.findall(services(plan, "lab-80", "workers")["ray-worker-1"]["healthcheck"]["test"][3])[0],
        "2001:db8::2",
        20004,
    ),
]


@pytest.mark.parametrize(("url_of", "host", "port"), [c[1:] for c in IPV6_URLS], ids=[c[0] for c in IPV6_URLS])
def test_ipv6_node_addresses_make_valid_urls(
    lab_hosts: dict[str, dict[str, Any]], url_of: Callable[[dict[str, Any]], str], host: str, port: int
) -> None:
    parts = urllib.parse.urlsplit(url_of(ipv6_lab(lab_hosts)))
    assert (parts.hostname, parts.port) == (host, port)


def test_ipv6_member_sources(lab_hosts: dict[str, dict[str, Any]]) -> None:
    plan = ipv6_lab(lab_hosts)
    assert plan["cluster"]["allowed_sources"] == ["2001:db8::1", "2001:db8::2/127", "2001:db8::4"]


@pytest.mark.parametrize(
    ("stagger", "host", "expected"),
    [
        (False, "lab-80", {}),
        (True, "lab-80", {"ray-worker-2": "ray-worker-1", "ray-worker-3": "ray-worker-2", "ray-worker-4": "ray-worker-3"}),
        (True, "lab-82", {}),
        (True, "lab-84", {"ray-worker-2": "ray-worker-1", "ray-worker-3": "ray-worker-2"}),
    ],
    ids=["parallel", "chain-of-four", "single-worker", "head-host-workers"],
)
def test_staggered_worker_start_chains_each_worker_to_the_previous(
    lab_hosts: dict[str, dict[str, Any]], stagger: bool, host: str, expected: dict[str, str]
) -> None:
    cluster(ray_cluster_stagger_worker_start=stagger)(lab_hosts)
    plan = build(lab_hosts)
    services = yaml.safe_load(compose_content(plan, host, "workers", FINGERPRINT))["services"]
    seen = {name: next(iter(svc["depends_on"])) for name, svc in services.items() if "depends_on" in svc}
    assert seen == expected
    assert all(
        svc["depends_on"][dep]["condition"] == "service_healthy" for svc in services.values() for dep in svc.get("depends_on", {})
    )
    head = yaml.safe_load(compose_content(plan, "lab-84", "head", FINGERPRINT))["services"]
    assert all("depends_on" not in svc for svc in head.values())
