# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The cluster plan: everything the roles apply, derived once from the inventory.

Pure functions, no Ansible imports. Every error is a :class:`PlanError` (a ``ValueError``)
whose message names the host, the variable and the value seen.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import math
import re
from collections.abc import Collection
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    DEFAULT_GROUP_NAMES,
    SOURCE_MIN_PREFIX_DEFAULT,
    PlanError,
    capacity_variable,
    check_cluster_members,
    check_node_memory,
    check_sources,
    check_variable_names,
    check_worker_count_set,
    format_size,
    known_variables,
    plain,
)

MIB = 1024 * 1024
# Ray refuses an object store below this (ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES).
OBJECT_STORE_MINIMUM = 75 * MIB
# RAY_FACTS: size shm at least 1.1 x the object store.
SHM_HEADROOM = 1.1
# Ray's default object store: 30 % of the memory it sees.
OBJECT_STORE_FRACTION = 0.3
# Fixed ports per node, at the start of its port block, in this order.
NODE_FIXED_PORTS = (
    "node_manager",
    "object_manager",
    "runtime_env_agent",
    "dashboard_agent_grpc",
    "dashboard_agent_http",
    "metrics_export",
)
COMMENT_PREFIX = "ray_cluster"
MANAGED_HEADER = (
    "# Managed by wizardsofts.ray_cluster (Ansible) from the cluster plan.\n"
    "# Do not edit: the next run overwrites it. Change the inventory instead.\n"
)

CLUSTER_DEFAULTS: dict[str, Any] = {
    "ray_cluster_name": "ray",
    "ray_cluster_version": "2.60.0",
    "ray_cluster_python_version": "3.11",
    "ray_cluster_image": "",
    "ray_cluster_allowed_sources": [],
    "ray_cluster_admin_sources": [],
    # The widest network ray_cluster_allowed_sources and ray_cluster_admin_sources may list.
    "ray_cluster_source_min_prefix": dict(SOURCE_MIN_PREFIX_DEFAULT),
    "ray_cluster_ssh_port": 22,
    "ray_cluster_ssh_sources": ["any"],
    "ray_cluster_gcs_port": 6379,
    "ray_cluster_dashboard_port": 8265,
    "ray_cluster_client_port": 10001,
    "ray_cluster_autoscaler_metrics_port": 8266,
    "ray_cluster_dashboard_metrics_port": 8267,
    "ray_cluster_port_base": 20000,
    "ray_cluster_worker_ports_per_node": 94,
    "ray_cluster_ephemeral_port_range": [32768, 60999],
    "ray_cluster_dashboard_bind": "node_ip",
    "ray_cluster_auth_mode": "token",
    "ray_cluster_auth_token_file": "/etc/ray-cluster/auth_token",
    "ray_cluster_gcs_reconnect_timeout_s": 20,
    "ray_cluster_label_prefix": "com.wizardsofts",
    "ray_cluster_compose_dir": "/opt/ray-cluster",
    "ray_cluster_log_max_size": "50m",
    "ray_cluster_log_max_files": 3,
    "ray_cluster_allow_oversubscription": False,
    "ray_cluster_stagger_worker_start": False,
    "ray_cluster_confirm_removal": False,
    "ray_cluster_removal_max_share": 0.25,
}
HOST_DEFAULTS: dict[str, Any] = {
    "ray_node_ip": None,
    "ray_worker_count": 0,
    "ray_worker_spec": {},
    "ray_worker_overrides": [],
    "ray_head_spec": {},
}
SPEC_KEYS = (
    "name",
    "cpus",
    "num_cpus",
    "memory",
    "memory_reservation",
    "shm_size",
    "object_store_memory",
    "gpus",
    "resources",
    "labels",
)
HEAD_SPEC_DEFAULTS: dict[str, Any] = {
    "name": "ray-head",
    "cpus": 2,
    "memory": "4g",
    "shm_size": "2g",
}
WORKER_SPEC_DEFAULTS: dict[str, Any] = {
    "cpus": 2,
    "memory": "6g",
    "shm_size": "2g",
}
# Ports that stay fixed whatever the node count: no node port block may include one.
FIXED_PORT_VARIABLES = (
    "ray_cluster_ssh_port",
    "ray_cluster_gcs_port",
    "ray_cluster_dashboard_port",
    "ray_cluster_client_port",
    "ray_cluster_autoscaler_metrics_port",
    "ray_cluster_dashboard_metrics_port",
)
AUTH_MODES = ("disabled", "token")
AUTH_TOKEN_MIN_VERSION = (2, 52, 0)
# Where the token file is mounted (read-only) inside every Ray container.
AUTH_TOKEN_CONTAINER_PATH = "/run/secrets/ray-auth-token"  # noqa: S105 (a path, not a secret)
DASHBOARD_BINDS = ("node_ip", "loopback", "all")

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:([kmgtp])(i?b)?|(b))?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# Docker container names need two characters at least; compose project names are lower case.
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")


# --------------------------------------------------------------------------- sizes and numbers


def parse_size(value: Any, host: str | None = None, variable: str = "size") -> int:
    """Parse ``6G``, ``6g``, ``512m``, ``2000000000``, ``1.5GiB``, ``2gb`` to bytes (binary units)."""
    if isinstance(value, bool):
        raise PlanError(host, variable, value, "cannot parse it as a size")
    if isinstance(value, int):
        if value < 0:
            raise PlanError(host, variable, value, "a size cannot be negative")
        return value
    if isinstance(value, float):
        if value < 0 or not math.isfinite(value):
            raise PlanError(host, variable, value, "cannot parse it as a size")
        return int(value)
    match = _SIZE_RE.match(str(value).strip())
    if not match:
        raise PlanError(host, variable, value, "cannot parse it as a size (examples: 6G, 512m, 1.5GiB, 2000000000)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    return int(number * _SIZE_UNITS[unit])


def _int(value: Any, host: str | None, variable: str, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise PlanError(host, variable, value, "expected a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise PlanError(host, variable, value, "expected a whole number")
    if minimum is not None and value < minimum:
        raise PlanError(host, variable, value, f"expected a whole number >= {minimum}")
    return value


def _number(value: Any, host: str | None, variable: str) -> float:
    if isinstance(value, bool):
        raise PlanError(host, variable, value, "expected a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise PlanError(host, variable, value, "expected a number") from None
    if not math.isfinite(result):
        raise PlanError(host, variable, value, "expected a finite number")
    return result


def _port(value: Any, host: str | None, variable: str) -> int:
    port = _int(value, host, variable)
    if not 1 <= port <= 65535:
        raise PlanError(host, variable, value, "expected a TCP port between 1 and 65535")
    return port


def parse_version(value: Any, host: str | None = None, variable: str = "ray_cluster_version") -> tuple[int, int, int]:
    match = _VERSION_RE.match(str(value))
    if not match:
        raise PlanError(host, variable, value, "expected a Ray release such as 2.60.0")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def parse_source(value: Any, host: str | None, variable: str) -> str:
    """A firewall source: ``any`` or an IPv4/IPv6 address or network, normalised."""
    text = str(value).strip()
    if text == "any":
        return text
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise PlanError(host, variable, value, "expected an IP address or CIDR network, or 'any'") from None
    # A single address is written bare, as ``ufw show added`` prints it.
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def _ip(value: Any, host: str, variable: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise PlanError(host, variable, value, "expected an IP address") from None


# --------------------------------------------------------------------------- cluster settings


def cluster_settings(hosts: dict[str, dict[str, Any]], known: Collection[str] | None = None) -> dict[str, Any]:
    """Read cluster-wide variables; they must be the same on every host.

    Every host variable with one of the collection's prefixes must be in ``known`` (default: the
    planner's own inputs, the collection's facts and the playbooks' extra vars).
    """
    check_variable_names(hosts, known_variables(PLANNER_VARIABLES) if known is None else known)
    settings: dict[str, Any] = {}
    for key, default in CLUSTER_DEFAULTS.items():
        seen = {name: hosts[name].get(key, default) for name in sorted(hosts)}
        values = list(seen.values())
        if any(v != values[0] for v in values):
            shown = ", ".join(f"{n}={plain(v)!r}" for n, v in seen.items())
            raise PlanError(None, key, shown, "must be the same on every cluster host")
        settings[key] = values[0] if values else default
    return _validate_settings(settings)


def _validate_settings(raw: dict[str, Any]) -> dict[str, Any]:
    s = dict(raw)
    version = parse_version(s["ray_cluster_version"])
    s["ray_cluster_version"] = "{}.{}.{}".format(*version)
    pyver = str(s["ray_cluster_python_version"])
    if not re.fullmatch(r"3\.\d+", pyver):
        raise PlanError(None, "ray_cluster_python_version", pyver, "expected a Python minor version such as 3.11")
    s["ray_cluster_python_version"] = pyver
    if not s["ray_cluster_image"]:
        s["ray_cluster_image"] = f"wizardsofts/ray:{s['ray_cluster_version']}-py{pyver.replace('.', '')}"
    if not _PROJECT_RE.match(str(s["ray_cluster_name"])):
        raise PlanError(
            None,
            "ray_cluster_name",
            s["ray_cluster_name"],
            "expected lower-case letters, digits, '_' or '-' (a compose project name)",
        )
    for key in ("ray_cluster_allowed_sources", "ray_cluster_admin_sources", "ray_cluster_ssh_sources"):
        value = s[key]
        if isinstance(value, str) or not isinstance(value, list):
            raise PlanError(None, key, value, "expected a list of addresses or CIDR networks")
        s[key] = [parse_source(v, None, key) for v in value]
    if "any" in s["ray_cluster_allowed_sources"] or "any" in s["ray_cluster_admin_sources"]:
        key = "ray_cluster_allowed_sources" if "any" in s["ray_cluster_allowed_sources"] else "ray_cluster_admin_sources"
        raise PlanError(None, key, s[key], "'any' would open Ray's ports to everyone; list networks instead")
    check_sources(s)
    for key in (*FIXED_PORT_VARIABLES, "ray_cluster_port_base"):
        s[key] = _port(s[key], None, key)
    s["ray_cluster_worker_ports_per_node"] = _int(
        s["ray_cluster_worker_ports_per_node"], None, "ray_cluster_worker_ports_per_node", minimum=1
    )
    eph = s["ray_cluster_ephemeral_port_range"]
    if not isinstance(eph, (list, tuple)) or len(eph) != 2:
        raise PlanError(None, "ray_cluster_ephemeral_port_range", eph, "expected [low, high]")
    s["ray_cluster_ephemeral_port_range"] = [
        _port(eph[0], None, "ray_cluster_ephemeral_port_range"),
        _port(eph[1], None, "ray_cluster_ephemeral_port_range"),
    ]
    fixed = {key: s[key] for key in FIXED_PORT_VARIABLES}
    seen: dict[int, str] = {}
    for key, port in fixed.items():
        if port in seen:
            raise PlanError(None, key, port, f"the same port as {seen[port]}")
        seen[port] = key
    s["_fixed_ports"] = fixed
    if s["ray_cluster_dashboard_bind"] not in DASHBOARD_BINDS:
        raise PlanError(
            None,
            "ray_cluster_dashboard_bind",
            s["ray_cluster_dashboard_bind"],
            f"expected one of {', '.join(DASHBOARD_BINDS)}",
        )
    if s["ray_cluster_auth_mode"] not in AUTH_MODES:
        raise PlanError(None, "ray_cluster_auth_mode", s["ray_cluster_auth_mode"], f"expected one of {', '.join(AUTH_MODES)}")
    if s["ray_cluster_auth_mode"] == "token" and version < AUTH_TOKEN_MIN_VERSION:
        raise PlanError(
            None,
            "ray_cluster_auth_mode",
            "token",
            f"token authentication needs Ray >= 2.52.0, ray_cluster_version is {s['ray_cluster_version']}",
        )
    s["ray_cluster_gcs_reconnect_timeout_s"] = _int(
        s["ray_cluster_gcs_reconnect_timeout_s"], None, "ray_cluster_gcs_reconnect_timeout_s", minimum=5
    )
    s["ray_cluster_log_max_files"] = _int(s["ray_cluster_log_max_files"], None, "ray_cluster_log_max_files", minimum=1)
    parse_size(s["ray_cluster_log_max_size"], None, "ray_cluster_log_max_size")
    if not _LABEL_RE.match(str(s["ray_cluster_label_prefix"])):
        raise PlanError(
            None,
            "ray_cluster_label_prefix",
            s["ray_cluster_label_prefix"],
            "expected a label prefix such as com.example",
        )
    if not re.fullmatch(r"/[A-Za-z0-9_./-]+", str(s["ray_cluster_auth_token_file"])):
        raise PlanError(None, "ray_cluster_auth_token_file", s["ray_cluster_auth_token_file"], "expected an absolute path")
    if not str(s["ray_cluster_compose_dir"]).startswith("/"):
        raise PlanError(None, "ray_cluster_compose_dir", s["ray_cluster_compose_dir"], "expected an absolute path")
    if not isinstance(s["ray_cluster_stagger_worker_start"], bool):
        raise PlanError(None, "ray_cluster_stagger_worker_start", s["ray_cluster_stagger_worker_start"], "expected true or false")
    if not isinstance(s["ray_cluster_allow_oversubscription"], bool):
        raise PlanError(
            None,
            "ray_cluster_allow_oversubscription",
            s["ray_cluster_allow_oversubscription"],
            "expected true or false",
        )
    # Mostly given on the command line, where -e ray_cluster_confirm_removal=true is a string.
    confirm = s["ray_cluster_confirm_removal"]
    if isinstance(confirm, str) and confirm.strip().lower() in ("true", "yes", "false", "no"):
        confirm = confirm.strip().lower() in ("true", "yes")
    if not isinstance(confirm, bool):
        raise PlanError(None, "ray_cluster_confirm_removal", confirm, "expected true or false")
    s["ray_cluster_confirm_removal"] = confirm
    share = _number(s["ray_cluster_removal_max_share"], None, "ray_cluster_removal_max_share")
    if not 0 < share <= 1:
        raise PlanError(
            None,
            "ray_cluster_removal_max_share",
            s["ray_cluster_removal_max_share"],
            "expected a share of the cluster's nodes greater than 0 and at most 1 (0.25 = a quarter)",
        )
    s["ray_cluster_removal_max_share"] = share
    return s


# --------------------------------------------------------------------------- nodes


def node_spec(
    host: str,
    variable: str,
    layers: list[tuple[Any, str]],
    default_name: str,
    allow_zero_cpus: bool,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Merge spec layers (defaults first) and validate one node's resources (findings to ``warnings``)."""
    merged: dict[str, Any] = {}
    for layer, layer_var in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise PlanError(host, layer_var, layer, "expected a mapping of node settings")
        unknown = sorted(set(layer) - set(SPEC_KEYS))
        if unknown:
            raise PlanError(host, f"{layer_var}.{unknown[0]}", layer[unknown[0]], f"unknown key; allowed: {', '.join(SPEC_KEYS)}")
        merged.update(layer)
    v = variable
    name = str(merged.get("name") or default_name)
    if not _NAME_RE.match(name):
        raise PlanError(host, f"{v}.name", name, "expected a container name of letters, digits, '.', '_' or '-'")
    cpus = _number(merged.get("cpus"), host, f"{v}.cpus")
    if cpus <= 0:
        raise PlanError(host, f"{v}.cpus", merged.get("cpus"), "CPU limit must be greater than 0")
    if merged.get("num_cpus") is None:
        num_cpus = max(1, int(cpus))
    else:
        num_cpus = _int(merged["num_cpus"], host, f"{v}.num_cpus", minimum=0)
        if num_cpus == 0 and not allow_zero_cpus:
            raise PlanError(host, f"{v}.num_cpus", 0, "a worker needs at least 1 logical CPU")
    memory = parse_size(merged.get("memory"), host, f"{v}.memory")
    if memory == 0:
        raise PlanError(host, f"{v}.memory", merged.get("memory"), "memory limit must be greater than 0")
    shm = parse_size(merged.get("shm_size"), host, f"{v}.shm_size")
    reservation = None
    if merged.get("memory_reservation") is not None:
        reservation = parse_size(merged["memory_reservation"], host, f"{v}.memory_reservation")
        if reservation > memory:
            raise PlanError(
                host,
                f"{v}.memory_reservation",
                merged["memory_reservation"],
                f"reservation is above the memory limit {merged.get('memory')!r}",
            )
    if merged.get("object_store_memory") is None:
        store = min(int(memory * OBJECT_STORE_FRACTION), int(shm / SHM_HEADROOM))
        store = store // MIB * MIB
        if store < OBJECT_STORE_MINIMUM:
            raise PlanError(
                host,
                f"{v}.shm_size/memory",
                f"shm_size={merged.get('shm_size')}, memory={merged.get('memory')}",
                f"the derived object store ({format_size(store)}) is below Ray's minimum of 75MiB; raise shm_size and memory",
            )
    else:
        store = parse_size(merged["object_store_memory"], host, f"{v}.object_store_memory")
        if store < OBJECT_STORE_MINIMUM:
            raise PlanError(host, f"{v}.object_store_memory", merged["object_store_memory"], "below Ray's minimum of 75MiB")
        if store * 11 > shm * 10:  # shm >= 1.1 x store, in integers
            raise PlanError(
                host,
                f"{v}.shm_size",
                merged.get("shm_size"),
                f"shm must be at least 1.1 x object_store_memory ({format_size(int(store * SHM_HEADROOM))})",
            )
        if store >= memory:
            raise PlanError(
                host,
                f"{v}.object_store_memory",
                merged["object_store_memory"],
                f"the object store must be smaller than the memory limit {merged.get('memory')!r}",
            )
    check_node_memory(host, v, merged, (memory, shm, store), warnings)
    gpus = _int(merged.get("gpus", 0), host, f"{v}.gpus", minimum=0)
    resources = merged.get("resources") or {}
    if not isinstance(resources, dict):
        raise PlanError(host, f"{v}.resources", resources, "expected a mapping of resource name to amount")
    clean_resources: dict[str, float] = {}
    for key in sorted(resources):
        if key in ("CPU", "GPU", "memory", "object_store_memory") or not _LABEL_RE.match(str(key)):
            raise PlanError(host, f"{v}.resources.{key}", resources[key], "not a valid custom resource name")
        amount = _number(resources[key], host, f"{v}.resources.{key}")
        if amount < 0:
            raise PlanError(host, f"{v}.resources.{key}", resources[key], "amount cannot be negative")
        clean_resources[str(key)] = int(amount) if amount.is_integer() else amount
    labels = merged.get("labels") or {}
    if not isinstance(labels, dict):
        raise PlanError(host, f"{v}.labels", labels, "expected a mapping of label name to value")
    clean_labels: dict[str, str] = {}
    for key in sorted(labels):
        value = str(labels[key])
        if not _LABEL_RE.match(str(key)) or not re.fullmatch(r"[A-Za-z0-9_.-]*", value):
            raise PlanError(host, f"{v}.labels.{key}", labels[key], "labels take letters, digits, '.', '_' and '-'")
        clean_labels[str(key)] = value
    return {
        "name": name,
        "cpus": int(cpus) if cpus.is_integer() else cpus,
        "num_cpus": num_cpus,
        "memory": memory,
        "memory_reservation": reservation,
        "shm_size": shm,
        "object_store_memory": store,
        "heap_memory": memory - store,
        "gpus": gpus,
        "resources": clean_resources,
        "labels": clean_labels,
    }


def host_node_specs(
    host: str, hvars: dict[str, Any], is_head: bool, is_worker: bool, warnings: list[str] | None = None
) -> list[dict[str, Any]]:
    """The nodes one host runs, head first, with their validated specs (findings to ``warnings``)."""
    nodes: list[dict[str, Any]] = []
    if is_head:
        spec = node_spec(
            host,
            "ray_head_spec",
            [(HEAD_SPEC_DEFAULTS, "defaults"), (hvars.get("ray_head_spec"), "ray_head_spec")],
            "ray-head",
            allow_zero_cpus=True,
            warnings=warnings,
        )
        nodes.append({"role": "head", **spec})
    check_worker_count_set(host, hvars, is_worker)
    count = _int(hvars.get("ray_worker_count", 0), host, "ray_worker_count", minimum=0)
    if count and not is_worker:
        raise PlanError(host, "ray_worker_count", count, "the host runs workers but is not in group ray_workers")
    overrides = hvars.get("ray_worker_overrides") or []
    if not isinstance(overrides, list):
        raise PlanError(host, "ray_worker_overrides", overrides, "expected a list (item i applies to worker i+1)")
    if len(overrides) > count:
        raise PlanError(
            host, "ray_worker_overrides", f"{len(overrides)} items", f"more overrides than ray_worker_count ({count})"
        )
    shared: dict[str, Any] | None = None
    for n in range(1, count + 1):
        override = overrides[n - 1] if n <= len(overrides) else None
        if override is None and shared is not None:
            # Workers without an override share one validated spec (large hosts stay cheap).
            spec = {**shared, "name": f"ray-worker-{n}"}
        else:
            spec = node_spec(
                host,
                f"ray_worker_overrides[{n - 1}]" if override else "ray_worker_spec",
                [
                    (WORKER_SPEC_DEFAULTS, "defaults"),
                    (hvars.get("ray_worker_spec"), "ray_worker_spec"),
                    (override, f"ray_worker_overrides[{n - 1}]"),
                ],
                f"ray-worker-{n}",
                allow_zero_cpus=False,
                warnings=warnings,
            )
            if override is None:
                shared = spec
        nodes.append({"role": "worker", "worker_id": n, **spec})
    names: dict[str, int] = {}
    for index, node in enumerate(nodes):
        if node["name"] in names:
            raise PlanError(host, "ray_worker_overrides.name", node["name"], "duplicate container name on this host")
        names[node["name"]] = index
    return nodes


def assign_ports(host: str, nodes: list[dict[str, Any]], s: dict[str, Any]) -> tuple[int, int] | None:
    """Give each node its pinned port block; return the host's whole (low, high) range."""
    if not nodes:
        return None
    block = len(NODE_FIXED_PORTS) + s["ray_cluster_worker_ports_per_node"]
    base = s["ray_cluster_port_base"]
    low, high = base, base + block * len(nodes) - 1
    eph_low, eph_high = s["ray_cluster_ephemeral_port_range"]
    if high > 65535 or (low <= eph_high and high >= eph_low):
        raise PlanError(
            host,
            "ray_worker_count",
            len(nodes) - (1 if nodes[0]["role"] == "head" else 0),
            f"port plan overflow: {len(nodes)} nodes x {block} ports from ray_cluster_port_base {base} "
            f"end at {high}, inside or past the ephemeral range {eph_low}-{eph_high}",
        )
    if low < eph_low <= eph_high < high:
        raise PlanError(host, "ray_cluster_port_base", base, "the port plan spans the ephemeral range")
    for key, port in s["_fixed_ports"].items():
        if low <= port <= high:
            raise PlanError(host, "ray_cluster_port_base", base, f"the node ports {low}-{high} include {key}={port}")
    for index, node in enumerate(nodes):
        start = base + index * block
        ports = {name: start + offset for offset, name in enumerate(NODE_FIXED_PORTS)}
        ports["min_worker"] = start + len(NODE_FIXED_PORTS)
        ports["max_worker"] = start + block - 1
        node["index"] = index
        node["ports"] = ports
    return low, high


def _dashboard_host(c: dict[str, Any], node_ip: str) -> str:
    return {"node_ip": node_ip, "loopback": "127.0.0.1", "all": "0.0.0.0"}[c["dashboard_bind"]]  # noqa: S104


# Rendering: pure mappings from the plan (cluster values + one host's nodes) to what Docker runs.
# No number is computed here; every one comes from the plan.


def node_command(node: dict[str, Any], node_ip: str, c: dict[str, Any]) -> list[str]:
    """The ``ray start`` argv for one node (``c`` is the plan's ``cluster``)."""
    p = node["ports"]
    argv = ["ray", "start", "--block", "--disable-usage-stats", f"--node-ip-address={node_ip}"]
    if node["role"] == "head":
        argv += [
            "--head",
            f"--port={c['gcs_port']}",
            "--include-dashboard=true",
            f"--dashboard-host={_dashboard_host(c, node_ip)}",
            f"--dashboard-port={c['dashboard_port']}",
            f"--ray-client-server-port={c['client_port']}",
        ]
    else:
        argv.append(f"--address={c['head_address']}")
    argv += [
        f"--node-manager-port={p['node_manager']}",
        f"--object-manager-port={p['object_manager']}",
        f"--runtime-env-agent-port={p['runtime_env_agent']}",
        f"--dashboard-agent-grpc-port={p['dashboard_agent_grpc']}",
        f"--dashboard-agent-listen-port={p['dashboard_agent_http']}",
        f"--metrics-export-port={p['metrics_export']}",
        f"--min-worker-port={p['min_worker']}",
        f"--max-worker-port={p['max_worker']}",
        f"--num-cpus={node['num_cpus']}",
        f"--num-gpus={node['gpus']}",
        f"--memory={node['heap_memory']}",
        f"--object-store-memory={node['object_store_memory']}",
    ]
    if node["resources"]:
        argv.append("--resources=" + json.dumps(node["resources"], sort_keys=True, separators=(",", ":")))
    if node["labels"]:
        argv.append("--labels=" + ",".join(f"{k}={v}" for k, v in sorted(node["labels"].items())))
    return argv


def node_environment(node: dict[str, Any], c: dict[str, Any]) -> dict[str, str]:
    env = {
        "RAY_AUTH_MODE": c["auth_mode"],
        "RAY_gcs_rpc_server_reconnect_timeout_s": str(c["gcs_reconnect_timeout_s"]),
    }
    if c["auth_mode"] == "token":
        # The token itself never appears in the environment, only the path of its file.
        env["RAY_AUTH_TOKEN_PATH"] = AUTH_TOKEN_CONTAINER_PATH
    if node["role"] == "head":
        env["AUTOSCALER_METRIC_PORT"] = str(c["autoscaler_metrics_port"])
        env["DASHBOARD_METRIC_PORT"] = str(c["dashboard_metrics_port"])
    return dict(sorted(env.items()))


def health_url(node: dict[str, Any], node_ip: str) -> str:
    """A URL on the node's own dashboard agent that answers ``success`` when the raylet is up."""
    return f"http://{node_ip}:{node['ports']['dashboard_agent_http']}/api/local_raylet_healthz"


def compose_service(
    host: str, node: dict[str, Any], node_ip: str, c: dict[str, Any], token_fingerprint: str = ""
) -> dict[str, Any]:
    prefix = c["label_prefix"]
    labels = {
        f"{prefix}.cluster": c["name"],
        f"{prefix}.server": host,
        f"{prefix}.service": f"ray-{node['role']}",
    }
    if node["role"] == "worker":
        labels[f"{prefix}.worker-id"] = str(node["worker_id"])
    if c["auth_mode"] == "token":
        # A new token changes this label, so compose recreates every container with it.
        labels[f"{prefix}.auth-token-sha256"] = token_fingerprint
    check = (
        "import sys, urllib.request as u; "
        f"sys.exit(0 if b'success' in u.urlopen('{health_url(node, node_ip)}', timeout=8).read() else 1)"
    )
    resources: dict[str, Any] = {"limits": {"cpus": str(node["cpus"]), "memory": str(node["memory"])}}
    reservations: dict[str, Any] = {}
    if node["memory_reservation"] is not None:
        reservations["memory"] = str(node["memory_reservation"])
    if node["gpus"]:
        reservations["devices"] = [{"driver": "nvidia", "count": node["gpus"], "capabilities": ["gpu"]}]
    if reservations:
        resources["reservations"] = reservations
    service: dict[str, Any] = {
        "image": c["image"],
        "container_name": node["name"],
        "network_mode": "host",
        "restart": "unless-stopped",
        "shm_size": str(node["shm_size"]),
        "command": node_command(node, node_ip, c),
        "environment": node_environment(node, c),
        "deploy": {"resources": resources},
        "healthcheck": {
            "test": ["CMD", "python3", "-c", check],
            "interval": "15s",
            "timeout": "10s",
            "retries": 4,
            "start_period": "120s",
        },
        "labels": dict(sorted(labels.items())),
        "logging": {
            "driver": "json-file",
            "options": {"max-file": str(c["log_max_files"]), "max-size": str(c["log_max_size"])},
        },
        "stop_grace_period": "30s",
    }
    if c["auth_mode"] == "token":
        service["volumes"] = [f"{c['auth_token_file']}:{AUTH_TOKEN_CONTAINER_PATH}:ro"]
    return service


def compose_content(plan: dict[str, Any], host: str, kind: str, token_fingerprint: str = "") -> str:
    """Render one of a host's compose projects (``head`` or ``workers``) to YAML text.

    Deterministic: the same plan always gives byte-identical text. Empty when the project has
    no services on this host (the role then removes it). With token authentication,
    ``token_fingerprint`` (a hash of the token, never the token) is required: it labels the
    containers so that a new token recreates them.
    """
    if kind not in ("head", "workers"):
        raise ValueError(f"compose project kind must be head or workers, got {kind!r}")
    if host not in plan.get("hosts", {}):
        raise ValueError(f"host {host} is not in the cluster plan")
    c = plan["cluster"]
    h = plan["hosts"][host]
    if c["auth_mode"] == "token" and not re.fullmatch(r"[0-9a-f]{16,64}", str(token_fingerprint or "")):
        raise ValueError("token authentication is on: pass the token's sha256 fingerprint (hex), not the token")
    role = "head" if kind == "head" else "worker"
    services = {n["name"]: compose_service(host, n, h["node_ip"], c, token_fingerprint) for n in h["nodes"] if n["role"] == role}
    if c.get("stagger_worker_start") and kind == "workers":
        # Start a host's workers one after the other: each waits for the previous one to be
        # healthy. For hosts too small to start many Ray nodes at once.
        names = list(services)
        for previous, name in itertools.pairwise(names):
            services[name]["depends_on"] = {previous: {"condition": "service_healthy"}}
    if not services:
        return ""
    body = to_yaml({"name": h["projects"][kind]["name"], "services": services})
    return f"{MANAGED_HEADER}# Host {host}: {len(services)} Ray {kind} container(s).\n{body}\n"


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    # JSON strings are valid YAML double-quoted scalars: unambiguous and stable.
    return json.dumps(str(value), ensure_ascii=False)


def to_yaml(value: Any, indent: int = 0) -> str:
    """Deterministic block YAML for dicts, lists and scalars (insertion order kept)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_yaml_key(key)}:")
                lines.append(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{_yaml_key(key)}: {_yaml_empty(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_yaml_empty(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


def _yaml_empty(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def _yaml_key(key: Any) -> str:
    text = str(key)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


# Plain words YAML 1.1 readers turn into booleans or null.
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def compose_project(kind: str, nodes: list[dict[str, Any]], s: dict[str, Any]) -> dict[str, Any]:
    """Where one compose project (``head`` or ``workers``) of a host lives, and its services."""
    directory = f"{s['ray_cluster_compose_dir'].rstrip('/')}/{kind}"
    return {
        "name": f"{s['ray_cluster_name']}-{kind}",
        "dir": directory,
        "file": f"{directory}/compose.yaml",
        "services": [node["name"] for node in nodes],
    }


# --------------------------------------------------------------------------- firewall


def firewall_rules(
    host: str, node_range: tuple[int, int] | None, is_head: bool, member_sources: list[str], s: dict[str, Any]
) -> list[dict[str, str]]:
    """The exact UFW allow rules this host needs, SSH first."""
    rules: list[dict[str, str]] = []

    def add(port: str, sources: list[str], purpose: str) -> None:
        for src in sources:
            rules.append({"port": port, "proto": "tcp", "src": src, "comment": f"{COMMENT_PREFIX} {purpose}"})

    add(str(s["ray_cluster_ssh_port"]), s["ray_cluster_ssh_sources"], "ssh")
    if node_range:
        add(f"{node_range[0]}:{node_range[1]}", member_sources, "nodes")
    if is_head:
        operators = _unique(member_sources + s["ray_cluster_admin_sources"])
        add(str(s["ray_cluster_gcs_port"]), member_sources, "gcs")
        add(str(s["ray_cluster_client_port"]), operators, "client")
        for port, purpose in _merge_ports(
            [
                (s["ray_cluster_dashboard_port"], "dashboard"),
                (s["ray_cluster_autoscaler_metrics_port"], "metrics"),
                (s["ray_cluster_dashboard_metrics_port"], "metrics"),
            ]
        ):
            add(port, operators, purpose)
    return rules


def _merge_ports(ports: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """Merge adjacent ports of the same purpose into ``low:high`` ranges."""
    merged: list[list[Any]] = []
    for port, purpose in sorted(ports):
        if merged and merged[-1][2] == purpose and merged[-1][1] == port - 1:
            merged[-1][1] = port
        else:
            merged.append([port, port, purpose])
    return [(str(lo) if lo == hi else f"{lo}:{hi}", purpose) for lo, hi, purpose in merged]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------- the plan


def resolve_node_ip(host: str, hvars: dict[str, Any]) -> str:
    if hvars.get("ray_node_ip"):
        return _ip(hvars["ray_node_ip"], host, "ray_node_ip")
    candidate = hvars.get("ansible_host")
    if candidate:
        try:
            return str(ipaddress.ip_address(str(candidate)))
        except ValueError:
            pass
    fact = (hvars.get("facts") or {}).get("default_ipv4")
    if fact:
        return _ip(fact, host, "ansible_facts.default_ipv4.address")
    raise PlanError(
        host,
        "ray_node_ip",
        None,
        "no node address: set ray_node_ip, use an IP as ansible_host, or gather facts for this host",
    )


def capacity(
    host: str, nodes: list[dict[str, Any]], facts: dict[str, Any], s: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    cpus = float(sum(float(n["cpus"]) for n in nodes))
    memory = sum(n["memory"] for n in nodes)
    vcpus = facts.get("vcpus")
    memtotal = facts.get("memtotal_mb")
    result = {
        "cpus": int(cpus) if cpus.is_integer() else round(cpus, 3),
        "memory": memory,
        "vcpus": vcpus,
        "memtotal": memtotal * MIB if memtotal else None,
    }
    problems = []
    if vcpus and cpus > float(vcpus) + 1e-9:
        problems.append(("cpus", cpus, f"the CPU limits add up to {cpus:g}, above the host's {vcpus} vCPUs"))
    if memtotal and memory > memtotal * MIB:
        problems.append(
            (
                "memory",
                format_size(memory),
                f"the memory limits add up to {format_size(memory)}, above the host's {format_size(memtotal * MIB)}",
            )
        )
    for key, value, problem in problems:
        # The head's spec counts too: name the spec variables of the nodes this host runs.
        variable = capacity_variable(nodes, key)
        if s["ray_cluster_allow_oversubscription"]:
            warnings.append(f"host {host}: {variable}: {problem} (oversubscription allowed)")
        else:
            raise PlanError(
                host,
                variable,
                value,
                f"{problem}; lower the limits or set ray_cluster_allow_oversubscription: true",
            )
    return result


def member_sources(ips: list[str]) -> list[str]:
    """The members' node addresses as the fewest networks that hold exactly those addresses."""
    nets = [ipaddress.ip_network(ip) for ip in ips]
    result: list[str] = []
    for version in (4, 6):
        collapsed = ipaddress.collapse_addresses(n for n in nets if n.version == version)
        result += [str(n.network_address) if n.num_addresses == 1 else str(n) for n in collapsed]
    return result


def build_plan(
    head_hosts: list[str],
    worker_hosts: list[str],
    hosts: dict[str, dict[str, Any]],
    *,
    cluster_hosts: list[str] | None = None,
    known: Collection[str] | None = None,
    group_names: tuple[str, str, str] = DEFAULT_GROUP_NAMES,
) -> dict[str, Any]:
    """Compute the whole cluster plan.

    ``hosts`` maps every cluster host to its variables (``ray_*`` and ``ansible_host``) and an
    optional ``facts`` dict with ``vcpus``, ``memtotal_mb`` and ``default_ipv4``.
    ``cluster_hosts`` (the parent group's members, when known) may hold no host outside
    ``head_hosts`` and ``worker_hosts``. ``known``: see :func:`cluster_settings`.
    ``group_names`` (cluster, head, workers) name the groups in messages.
    """
    check_cluster_members(cluster_hosts, head_hosts, worker_hosts, group_names)
    if not head_hosts:
        raise PlanError(None, "groups.ray_head", [], "exactly one host must be in group ray_head; it is empty")
    if len(head_hosts) > 1:
        raise PlanError(None, "groups.ray_head", list(head_hosts), "exactly one host must be in group ray_head")
    members = list(dict.fromkeys([*head_hosts, *worker_hosts]))
    worker_set = set(worker_hosts)
    for name in members:
        if name not in hosts:
            raise PlanError(name, "hostvars", None, "no variables given for this cluster host")
    member_vars = {name: hosts[name] for name in members}
    s = cluster_settings(member_vars, known)
    head = head_hosts[0]
    ips = {name: resolve_node_ip(name, member_vars[name]) for name in members}
    by_ip: dict[str, str] = {}
    for name, ip in ips.items():
        if ip in by_ip:
            raise PlanError(name, "ray_node_ip", ip, f"the same node address as host {by_ip[ip]}")
        by_ip[ip] = name
    head_ip = ips[head]
    sources = s["ray_cluster_allowed_sources"] or member_sources(list(ips.values()))
    networks = [ipaddress.ip_network(src) for src in sources]
    for name in members:
        address = ipaddress.ip_address(ips[name])
        if not any(address in net for net in networks):
            raise PlanError(
                name,
                "ray_cluster_allowed_sources",
                s["ray_cluster_allowed_sources"],
                f"the host's node address {ips[name]} is not inside the allowed sources, so its nodes could not reach the others",
            )
    warnings: list[str] = []
    plan_hosts: dict[str, Any] = {}
    expected: list[dict[str, Any]] = []
    for name in members:
        hvars = member_vars[name]
        is_head = name == head
        nodes = host_node_specs(name, hvars, is_head, name in worker_set, warnings)
        node_range = assign_ports(name, nodes, s)
        for node in nodes:
            expected.append(
                {
                    "host": name,
                    "name": node["name"],
                    "role": node["role"],
                    "ip": ips[name],
                    "node_manager_port": node["ports"]["node_manager"],
                    "num_cpus": node["num_cpus"],
                    "memory": node["heap_memory"],
                    "object_store_memory": node["object_store_memory"],
                }
            )
        plan_hosts[name] = {
            "node_ip": ips[name],
            "is_head": is_head,
            "nodes": nodes,
            "node_port_range": list(node_range) if node_range else None,
            "projects": {
                "head": compose_project("head", [n for n in nodes if n["role"] == "head"], s),
                "workers": compose_project("workers", [n for n in nodes if n["role"] == "worker"], s),
            },
            "firewall": firewall_rules(name, node_range, is_head, sources, s),
            "capacity": capacity(name, nodes, hvars.get("facts") or {}, s, warnings),
        }
    dashboard_host = head_ip if s["ray_cluster_dashboard_bind"] != "loopback" else "127.0.0.1"
    cluster = {
        "name": s["ray_cluster_name"],
        "version": s["ray_cluster_version"],
        "python_version": s["ray_cluster_python_version"],
        "image": s["ray_cluster_image"],
        "head_host": head,
        "head_ip": head_ip,
        "head_address": f"{head_ip}:{s['ray_cluster_gcs_port']}",
        "head_container": plan_hosts[head]["nodes"][0]["name"],
        "gcs_port": s["ray_cluster_gcs_port"],
        "dashboard_port": s["ray_cluster_dashboard_port"],
        "dashboard_bind": s["ray_cluster_dashboard_bind"],
        "client_port": s["ray_cluster_client_port"],
        "autoscaler_metrics_port": s["ray_cluster_autoscaler_metrics_port"],
        "dashboard_metrics_port": s["ray_cluster_dashboard_metrics_port"],
        "dashboard_url": f"http://{dashboard_host}:{s['ray_cluster_dashboard_port']}",
        "client_address": f"ray://{head_ip}:{s['ray_cluster_client_port']}",
        "auth_mode": s["ray_cluster_auth_mode"],
        "auth_token_file": s["ray_cluster_auth_token_file"],
        "gcs_reconnect_timeout_s": s["ray_cluster_gcs_reconnect_timeout_s"],
        "label_prefix": s["ray_cluster_label_prefix"],
        "compose_dir": s["ray_cluster_compose_dir"],
        "log_max_size": s["ray_cluster_log_max_size"],
        "log_max_files": s["ray_cluster_log_max_files"],
        "stagger_worker_start": s["ray_cluster_stagger_worker_start"],
        "confirm_removal": s["ray_cluster_confirm_removal"],
        "removal_max_share": s["ray_cluster_removal_max_share"],
        "allowed_sources": sources,
        "admin_sources": s["ray_cluster_admin_sources"],
        "hosts": members,
        "expected_node_count": len(expected),
        "expected_cpus": sum(e["num_cpus"] for e in expected),
    }
    return {"cluster": cluster, "expected_nodes": expected, "hosts": plan_hosts, "warnings": warnings}


# Shared by the module and its action plugin (the module documents it).
PLAN_ARGUMENT_SPEC: dict[str, Any] = {
    "head_group": {"type": "str", "default": "ray_head"},
    "worker_group": {"type": "str", "default": "ray_workers"},
    "cluster_group": {"type": "str", "default": "ray_cluster"},
    "head_hosts": {"type": "list", "elements": "str"},
    "worker_hosts": {"type": "list", "elements": "str"},
    "hosts": {"type": "dict"},
}
PLAN_HOST_VARIABLES = (*HOST_DEFAULTS, "ansible_host")
# The variables the planner itself reads (the known names start from these).
PLANNER_VARIABLES = frozenset({*CLUSTER_DEFAULTS, *HOST_DEFAULTS})


def facts_for_plan(ansible_facts: dict[str, Any] | None) -> dict[str, Any]:
    """The few gathered facts the plan uses (all optional)."""
    facts = ansible_facts or {}
    vcpus = facts.get("processor_nproc") or facts.get("processor_vcpus")
    ipv4 = facts.get("default_ipv4") or {}
    return {
        "vcpus": vcpus,
        "memtotal_mb": facts.get("memtotal_mb"),
        "default_ipv4": ipv4.get("address") if isinstance(ipv4, dict) else None,
    }
