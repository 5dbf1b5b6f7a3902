# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The cluster plan: everything the roles apply, derived once from the inventory.

Private to the collection (no compatibility promise). Pure functions, no Ansible imports. Reads
the settings (``_settings``) and each host's nodes (``_nodes``), then plans what joins them: node
addresses, port blocks, firewall rules, compose projects and the list of expected nodes. Every
error is a :class:`PlanError` (a ``ValueError``) whose message names the host, the variable and
the value seen. ``_compose`` renders the plan.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._celery import (
    DEFAULT_CELERY_GROUPS,
    add_celery_ports,
    celery_hosts,
    celery_plan,
    celery_rules,
    celery_status,
    host_celery,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    DEFAULT_GROUP_NAMES,
    PlanError,
    address_port,
    check_cluster_members,
    member_sources,
    parse_ip,
    parse_size,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring import (
    DEFAULT_MONITORING_GROUP,
    docker_metrics_address,
    log_store_sizes,
    monitoring_host,
    monitoring_plan,
    monitoring_rules,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._nodes import capacity, host_node_specs, log_store_disk
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import (
    GCS_REDIS_CONTAINER,
    GCS_REDIS_MAXMEMORY_SHARE,
    GCS_REDIS_USERNAME,
    HOST_DEFAULTS,
    cluster_settings,
)

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
# Shared by the module's documentation and its action plugin.
PLAN_ARGUMENT_SPEC: dict[str, Any] = {
    "head_group": {"type": "str", "default": "ray_head"},
    "worker_group": {"type": "str", "default": "ray_workers"},
    "cluster_group": {"type": "str", "default": "ray_cluster"},
    "monitoring_group": {"type": "str", "default": DEFAULT_MONITORING_GROUP},
    "head_hosts": {"type": "list", "elements": "str"},
    "worker_hosts": {"type": "list", "elements": "str"},
    "monitoring_hosts": {"type": "list", "elements": "str"},
    "celery_groups": {"type": "dict", "default": dict(DEFAULT_CELERY_GROUPS)},
    "celery_hosts": {"type": "dict"},
    "hosts": {"type": "dict"},
}
PLAN_HOST_VARIABLES = (*HOST_DEFAULTS, "ansible_host")


# --------------------------------------------------------------------------- node addresses


def resolve_node_ip(host: str, hvars: dict[str, Any]) -> str:
    """``ray_node_ip``, else ``ansible_host`` when it is an address, else the gathered default IPv4."""
    if hvars.get("ray_node_ip"):
        return parse_ip(hvars["ray_node_ip"], host, "ray_node_ip")
    candidate = hvars.get("ansible_host")
    if candidate:
        try:
            return str(ipaddress.ip_address(str(candidate)))
        except ValueError:
            pass
    fact = (hvars.get("facts") or {}).get("default_ipv4")
    if fact:
        return parse_ip(fact, host, "ansible_facts.default_ipv4.address")
    raise PlanError(
        host,
        "ray_node_ip",
        None,
        "no node address: set ray_node_ip, use an IP as ansible_host, or gather facts for this host",
    )


def node_addresses(member_vars: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each member's node address; no two members may share one."""
    ips = {name: resolve_node_ip(name, hvars) for name, hvars in member_vars.items()}
    by_ip: dict[str, str] = {}
    for name, ip in ips.items():
        if ip in by_ip:
            raise PlanError(name, "ray_node_ip", ip, f"the same node address as host {by_ip[ip]}")
        by_ip[ip] = name
    return ips


def firewall_sources(ips: dict[str, str], allowed: list[str]) -> list[str]:
    """Where Ray's ports are open to: the allowed sources, or the members; every member must be inside."""
    sources = allowed or member_sources(list(ips.values()))
    networks = [ipaddress.ip_network(source) for source in sources]
    for name, ip in ips.items():
        address = ipaddress.ip_address(ip)
        if not any(address in net for net in networks):
            raise PlanError(
                name,
                "ray_cluster_allowed_sources",
                allowed,
                f"the host's node address {ip} is not inside the allowed sources, so its nodes could not reach the others",
            )
    return sources


# --------------------------------------------------------------------------- ports


def assign_ports(host: str, nodes: list[dict[str, Any]], settings: dict[str, Any]) -> tuple[int, int] | None:
    """Give each node its pinned port block; return the host's whole (low, high) range."""
    if not nodes:
        return None
    block = len(NODE_FIXED_PORTS) + settings["ray_cluster_worker_ports_per_node"]
    base = settings["ray_cluster_port_base"]
    low, high = base, base + block * len(nodes) - 1
    eph_low, eph_high = settings["ray_cluster_ephemeral_port_range"]
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
    for key, port in settings["_fixed_ports"].items():
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


# --------------------------------------------------------------------------- firewall


def node_port_ranges(nodes: list[dict[str, Any]], node_range: tuple[int, int] | None) -> list[str]:
    """The host's node ports the cluster's members reach, as UFW ranges: the whole node range but
    each node's metrics-export port (only the monitoring host may scrape it)."""
    if not node_range:
        return []
    ranges: list[str] = []
    low = node_range[0]
    for port in sorted(node["ports"]["metrics_export"] for node in nodes):
        if port > low:
            ranges.append(str(low) if port - 1 == low else f"{low}:{port - 1}")
        low = port + 1
    if low <= node_range[1]:
        ranges.append(str(low) if low == node_range[1] else f"{low}:{node_range[1]}")
    return ranges


def firewall_rules(
    host: str,
    nodes: list[dict[str, Any]],
    node_range: tuple[int, int] | None,
    is_head: bool,
    sources: list[str],
    settings: dict[str, Any],
) -> list[dict[str, str]]:
    """The exact UFW allow rules this host needs for Ray, SSH first."""
    rules: list[dict[str, str]] = []

    def add(port: str, sources: list[str], purpose: str) -> None:
        for src in sources:
            rules.append({"port": port, "proto": "tcp", "src": src, "comment": f"{COMMENT_PREFIX} {purpose}"})

    add(str(settings["ray_cluster_ssh_port"]), settings["ray_cluster_ssh_sources"], "ssh")
    for ports in node_port_ranges(nodes, node_range):
        add(ports, sources, "nodes")
    if is_head:
        operators = list(dict.fromkeys(sources + settings["ray_cluster_admin_sources"]))
        add(str(settings["ray_cluster_gcs_port"]), sources, "gcs")
        add(str(settings["ray_cluster_client_port"]), operators, "client")
        for port, purpose in _merge_ports(
            [
                (settings["ray_cluster_dashboard_port"], "dashboard"),
                (settings["ray_cluster_autoscaler_metrics_port"], "metrics"),
                (settings["ray_cluster_dashboard_metrics_port"], "metrics"),
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


# --------------------------------------------------------------------------- the plan


def gcs_in_redis(settings: dict[str, Any]) -> bool:
    """Whether the plan runs the GCS's Redis beside the head: the one place that decides it."""
    return settings["ray_cluster_gcs_storage"] == "redis"


def compose_project(kind: str, nodes: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
    """Where one compose project (``head`` or ``workers``) of a host lives, and its services: the
    nodes' containers, and in the head's project the GCS's Redis first when the plan runs one."""
    directory = f"{settings['ray_cluster_compose_dir'].rstrip('/')}/{kind}"
    redis = [GCS_REDIS_CONTAINER] if (kind == "head" and nodes and gcs_in_redis(settings)) else []
    return {
        "name": f"{settings['ray_cluster_name']}-{kind}",
        "dir": directory,
        "file": f"{directory}/compose.yaml",
        "services": [*redis, *(node["name"] for node in nodes)],
    }


def _members(head_hosts: list[str], worker_hosts: list[str], hosts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The cluster's hosts (head first) and their variables; exactly one head."""
    if not head_hosts:
        raise PlanError(None, "groups.ray_head", [], "exactly one host must be in group ray_head; it is empty")
    if len(head_hosts) > 1:
        raise PlanError(None, "groups.ray_head", list(head_hosts), "exactly one host must be in group ray_head")
    members = list(dict.fromkeys([*head_hosts, *worker_hosts]))
    for name in members:
        if name not in hosts:
            raise PlanError(name, "hostvars", None, "no variables given for this cluster host")
    return {name: hosts[name] for name in members}


def _expected_node(host: str, ip: str, node: dict[str, Any]) -> dict[str, Any]:
    """What ray_cluster_status looks for in Ray's node table."""
    return {
        "host": host,
        "name": node["name"],
        "role": node["role"],
        "ip": ip,
        "node_manager_port": node["ports"]["node_manager"],
        "num_cpus": node["num_cpus"],
        "memory": node["heap_memory"],
        "object_store_memory": node["object_store_memory"],
    }


def _host_plan(
    name: str,
    hvars: dict[str, Any],
    is_head: bool,
    is_worker: bool,
    ip: str,
    settings: dict[str, Any],
    sources: list[str],
    warnings: list[str],
    gcs_redis: dict[str, Any],
    monitoring: dict[str, Any],
    celery: tuple[dict[str, Any], str],
) -> dict[str, Any]:
    """One host's part of the plan (findings to ``warnings``); ``gcs_redis``: the cluster's (its memory
    counts on the head host); ``monitoring``: the cluster's (its firewall rules and the engine's
    metrics address); ``celery``: the cluster's and the name of the Celery worker group."""
    nodes = host_node_specs(name, hvars, is_head, is_worker, warnings)
    cluster_celery, celery_group = celery
    host_celery_plan = host_celery(name, hvars, cluster_celery, settings, celery_group)
    other_memory = {"ray_cluster_gcs_redis_memory": gcs_redis["memory"]} if (is_head and gcs_redis) else {}
    other_memory.update(host_celery_plan["memory"])
    node_range = assign_ports(name, nodes, settings)
    return {
        "node_ip": ip,
        "is_head": is_head,
        "nodes": nodes,
        "node_port_range": list(node_range) if node_range else None,
        "projects": {
            "head": compose_project("head", [node for node in nodes if node["role"] == "head"], settings),
            "workers": compose_project("workers", [node for node in nodes if node["role"] == "worker"], settings),
        },
        "firewall": firewall_rules(name, nodes, node_range, is_head, sources, settings)
        + monitoring_rules(
            nodes, ip, bool(monitoring) and monitoring["host"] == name, monitoring, settings["ray_cluster_admin_sources"]
        )
        + celery_rules(name, cluster_celery),
        "docker_metrics_address": docker_metrics_address(monitoring, ip),
        "capacity": capacity(
            name,
            nodes,
            hvars.get("facts") or {},
            settings["ray_cluster_allow_oversubscription"],
            warnings,
            other_memory,
            node_logs_plan(settings),
            {"celery_worker_spec.cpus": host_celery_plan["cpus"]},
        ),
        "celery": {key: host_celery_plan[key] for key in ("project", "broker", "flower", "workers")},
        # Each node's log directory (its container's /tmp/ray).
        "node_log_dirs": {node["name"]: node_log_dir(settings, node["name"]) for node in nodes},
    }


# The plan's cluster values copied from a setting, in the plan's order: (key, setting).
_CLUSTER_FROM_SETTINGS = (
    ("name", "ray_cluster_name"),
    ("version", "ray_cluster_version"),
    ("python_version", "ray_cluster_python_version"),
    ("image", "ray_cluster_image"),
)
_CLUSTER_PORTS = (
    ("gcs_port", "ray_cluster_gcs_port"),
    ("dashboard_port", "ray_cluster_dashboard_port"),
    ("dashboard_bind", "ray_cluster_dashboard_bind"),
    ("client_port", "ray_cluster_client_port"),
    ("autoscaler_metrics_port", "ray_cluster_autoscaler_metrics_port"),
    ("dashboard_metrics_port", "ray_cluster_dashboard_metrics_port"),
)
_CLUSTER_OPTIONS = (
    ("auth_mode", "ray_cluster_auth_mode"),
    ("auth_token_file", "ray_cluster_auth_token_file"),
    ("gcs_reconnect_timeout_s", "ray_cluster_gcs_reconnect_timeout_s"),
    ("gcs_storage", "ray_cluster_gcs_storage"),
    ("label_prefix", "ray_cluster_label_prefix"),
    ("compose_dir", "ray_cluster_compose_dir"),
    ("log_max_size", "ray_cluster_log_max_size"),
    ("log_max_files", "ray_cluster_log_max_files"),
    ("stagger_worker_start", "ray_cluster_stagger_worker_start"),
    ("confirm_removal", "ray_cluster_confirm_removal"),
    ("removal_max_share", "ray_cluster_removal_max_share"),
)


# How often each host brings its nodes' log directories back within their budget (seconds).
NODE_LOG_PRUNE_INTERVAL_S = 10


def node_logs_plan(settings: dict[str, Any]) -> dict[str, Any]:
    """Ray's logs on the hosts: the cluster's directory that holds one per node, Ray's rotation (each file's size
    and its number of backups) and each node's budget, which the hosts keep every ``prune_interval_s`` (by
    pruning beyond ``prune_limit``)."""
    file_size = parse_size(settings["ray_cluster_node_log_file_size"])
    backups = settings["ray_cluster_node_log_file_backups"]
    budget = parse_size(settings["ray_cluster_node_log_budget"])
    return {
        "dir": f"{settings['ray_cluster_node_log_dir'].rstrip('/')}/{settings['ray_cluster_name']}",
        "file_size": file_size,
        "file_backups": backups,
        "budget": budget,
        # The pruner keeps a node's directory at most this big: between two of its runs, a writer (Ray
        # rotates each one's file) can add at most one file with its backups and stay within the budget.
        "prune_limit": budget - file_size * (backups + 1),
        "prune_interval_s": NODE_LOG_PRUNE_INTERVAL_S,
        # The pruner (module_utils/_log_prune.py) and its systemd service and timer.
        "prune_script": f"{settings['ray_cluster_compose_dir'].rstrip('/')}/node-logs/prune-node-logs.py",
        "prune_unit": f"ray-cluster-{settings['ray_cluster_name']}-node-logs",
    }


def node_log_dir(settings: dict[str, Any], node_name: str) -> str:
    return f"{node_logs_plan(settings)['dir']}/{node_name}"


def _gcs_storage_paths(settings: dict[str, Any]) -> dict[str, str]:
    """Where the head host keeps the GCS state: the cluster's directory (teardown removes it) and,
    in it, one store per Ray version and backend (``ray-<version>`` for rocksdb, ``redis-ray-<version>``
    for Redis's data), so an upgrade or a change of backend starts a new store instead of loading
    state another one left (the ray_compose role removes the others). Empty without stored state."""
    storage = settings["ray_cluster_gcs_storage"]
    if storage == "none":
        return {"gcs_storage_root": "", "gcs_storage_path": ""}
    root = f"{settings['ray_cluster_gcs_storage_dir'].rstrip('/')}/{settings['ray_cluster_name']}"
    store = f"ray-{settings['ray_cluster_version']}"
    return {"gcs_storage_root": root, "gcs_storage_path": f"{root}/{'redis-' if gcs_in_redis(settings) else ''}{store}"}


def _gcs_redis(settings: dict[str, Any], head_ip: str) -> dict[str, Any]:
    """The Redis server that keeps the GCS state with ``redis``, run on the head host beside the head
    (empty otherwise): its container, its address on the head's node IP (reached from the head
    only, over the host's loopback path: no firewall rule opens it), the ACL user the head logs in
    as (its password derives from the cluster token), the namespace of the cluster's keys, and its
    memory limit and ``maxmemory``."""
    if not gcs_in_redis(settings):
        return {}
    memory = parse_size(settings["ray_cluster_gcs_redis_memory"], None, "ray_cluster_gcs_redis_memory")
    return {
        "container": GCS_REDIS_CONTAINER,
        "ip": head_ip,
        "port": settings["ray_cluster_gcs_redis_port"],
        "address": address_port(head_ip, settings["ray_cluster_gcs_redis_port"]),
        "username": GCS_REDIS_USERNAME,
        "namespace": settings["ray_cluster_name"],
        "memory": memory,
        "maxmemory": int(memory * GCS_REDIS_MAXMEMORY_SHARE),
    }


def _cluster_values(
    settings: dict[str, Any],
    head: str,
    head_plan: dict[str, Any],
    sources: list[str],
    gcs_redis: dict[str, Any],
    monitoring: dict[str, Any],
    celery: dict[str, Any],
) -> dict[str, Any]:
    """The plan's ``cluster`` up to its host list: the settings the roles read and the head's addresses."""
    head_ip = head_plan["node_ip"]
    dashboard_host = head_ip if settings["ray_cluster_dashboard_bind"] != "loopback" else "127.0.0.1"
    return {
        **{key: settings[setting] for key, setting in _CLUSTER_FROM_SETTINGS},
        "image_extra_packages": settings["_image_extra_packages"],
        "image_system_packages": settings["_image_system_packages"],
        "head_host": head,
        "head_ip": head_ip,
        "head_address": address_port(head_ip, settings["ray_cluster_gcs_port"]),
        "head_container": head_plan["nodes"][0]["name"],
        **{key: settings[setting] for key, setting in _CLUSTER_PORTS},
        "dashboard_url": f"http://{address_port(dashboard_host, settings['ray_cluster_dashboard_port'])}",
        "client_address": f"ray://{address_port(head_ip, settings['ray_cluster_client_port'])}",
        **{key: settings[setting] for key, setting in _CLUSTER_OPTIONS},
        # The token file the modules read (the dashboard's bearer token, the Redis password): none without a token.
        "auth_token_file_in_use": settings["ray_cluster_auth_token_file"] if settings["ray_cluster_auth_mode"] == "token" else "",
        **_gcs_storage_paths(settings),
        "node_logs": node_logs_plan(settings),
        "gcs_redis": gcs_redis,
        "monitoring": monitoring,
        "celery": celery,
        "allowed_sources": sources,
        "admin_sources": settings["ray_cluster_admin_sources"],
    }


def build_plan(
    head_hosts: list[str],
    worker_hosts: list[str],
    hosts: dict[str, dict[str, Any]],
    *,
    cluster_hosts: list[str] | None = None,
    monitoring_hosts: list[str] | None = None,
    known: Collection[str] | None = None,
    group_names: tuple[str, str, str] = DEFAULT_GROUP_NAMES,
    monitoring_group: str = DEFAULT_MONITORING_GROUP,
    celery_groups: dict[str, list[str]] | None = None,
    celery_group_names: dict[str, str] | None = None,
    celery_app_digest: str = "",
) -> dict[str, Any]:
    """Compute the whole cluster plan.

    ``hosts`` maps every cluster host to its variables (``ray_*`` and ``ansible_host``) and an
    optional ``facts`` dict with ``vcpus``, ``memtotal_mb`` and ``default_ipv4``.
    ``cluster_hosts`` (the parent group's members, when known) may hold no host outside
    ``head_hosts`` and ``worker_hosts``. ``known``: see :func:`cluster_settings`.
    ``group_names`` (cluster, head, workers) name the groups in messages. ``monitoring_hosts``: the
    members of ``monitoring_group`` (at most one, a cluster host; none: the head's host).
    ``celery_groups``: the members of the Celery groups by kind (broker, workers, flower), named
    ``celery_group_names`` in messages; ``celery_app_digest``: the Celery app's content digest (the app
    image's tag derives from it, so a changed app is a new image).
    """
    check_cluster_members(cluster_hosts, head_hosts, worker_hosts, group_names)
    member_vars = _members(head_hosts, worker_hosts, hosts)
    settings = cluster_settings(member_vars, known)
    head = head_hosts[0]
    ips = node_addresses(member_vars)
    sources = firewall_sources(ips, settings["ray_cluster_allowed_sources"])
    worker_set = set(worker_hosts)
    warnings: list[str] = []
    gcs_redis = _gcs_redis(settings, ips[head])
    monitor = monitoring_host(head, monitoring_hosts, list(member_vars), monitoring_group)
    monitoring = monitoring_plan(settings, monitor, ips, head)
    celery_names = {**DEFAULT_CELERY_GROUPS, **(celery_group_names or {})}
    chosen = celery_hosts(celery_groups or {}, list(member_vars), celery_names)
    if chosen["broker"]:
        add_celery_ports(settings)
    celery = celery_plan(settings, chosen, ips, monitoring["ip"] if monitoring else None, celery_app_digest)
    plan_hosts = {
        name: _host_plan(
            name,
            hvars,
            name == head,
            name in worker_set,
            ips[name],
            settings,
            sources,
            warnings,
            gcs_redis,
            monitoring,
            (celery, celery_names["workers"]),
        )
        for name, hvars in member_vars.items()
    }
    if gcs_in_redis(settings):
        for node in plan_hosts[head]["nodes"]:
            if node["name"] == GCS_REDIS_CONTAINER:
                raise PlanError(head, "container name", node["name"], "the GCS's Redis container has this name on the head host")
    expected = [_expected_node(name, ips[name], node) for name, host_plan in plan_hosts.items() for node in host_plan["nodes"]]
    if celery:
        celery_status(celery, {name: host_plan["celery"] for name, host_plan in plan_hosts.items()})
    if monitoring and monitoring["logs"]:
        store = monitoring["logs"]["store"]
        store.update(log_store_sizes(monitoring["logs"], len(expected)))
        receiver = monitoring["host"]
        mounts = (member_vars[receiver].get("facts") or {}).get("mounts")
        plan_hosts[receiver]["capacity"].update(
            log_store_disk(receiver, plan_hosts[receiver]["capacity"], store, mounts, warnings)
        )
    cluster = {
        **_cluster_values(settings, head, plan_hosts[head], sources, gcs_redis, monitoring, celery),
        "hosts": list(member_vars),
        "expected_node_count": len(expected),
        "expected_cpus": sum(entry["num_cpus"] for entry in expected),
    }
    return {"cluster": cluster, "expected_nodes": expected, "hosts": plan_hosts, "warnings": warnings}


def facts_for_plan(ansible_facts: dict[str, Any] | None) -> dict[str, Any]:
    """The few gathered facts the plan uses (all optional)."""
    facts = ansible_facts or {}
    vcpus = facts.get("processor_nproc") or facts.get("processor_vcpus")
    ipv4 = facts.get("default_ipv4") or {}
    mounts = facts.get("mounts")
    return {
        "vcpus": vcpus,
        "memtotal_mb": facts.get("memtotal_mb"),
        "default_ipv4": ipv4.get("address") if isinstance(ipv4, dict) else None,
        # Each file system's size and free space (the nodes' log budgets must fit).
        "mounts": [
            {key: mount.get(key) for key in ("mount", "size_total", "size_available")}
            for mount in (mounts if isinstance(mounts, list) else [])
            if isinstance(mount, dict) and mount.get("mount")
        ],
    }
