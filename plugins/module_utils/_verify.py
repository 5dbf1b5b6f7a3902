# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Compare what runs with the plan: container limits, smoke-job spread, the summary table."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import format_size


def container_mismatches(inspect: list[dict[str, Any]], nodes: list[dict[str, Any]], image: str) -> list[str]:
    """Differences between ``docker inspect`` output and the plan's nodes for one host."""
    by_name = {str(container.get("Name", "")).lstrip("/"): container for container in inspect}
    problems: list[str] = []
    for node in nodes:
        name = node["name"]
        container = by_name.get(name)
        if container is None:
            problems.append(f"{name}: no such container")
            continue
        host_config = container.get("HostConfig") or {}
        state = container.get("State") or {}
        expected = {
            "NanoCpus": round(float(node["cpus"]) * 1e9),
            "Memory": node["memory"],
            "ShmSize": node["shm_size"],
            "RestartPolicy": "unless-stopped",
            "NetworkMode": "host",
            "Running": True,
            "Image": image,
        }
        if node.get("memory_reservation") is not None:
            expected["MemoryReservation"] = node["memory_reservation"]
        seen = {
            "NanoCpus": host_config.get("NanoCpus"),
            "Memory": host_config.get("Memory"),
            "ShmSize": host_config.get("ShmSize"),
            "RestartPolicy": (host_config.get("RestartPolicy") or {}).get("Name"),
            "NetworkMode": host_config.get("NetworkMode"),
            "Running": state.get("Running"),
            "Image": (container.get("Config") or {}).get("Image"),
            "MemoryReservation": host_config.get("MemoryReservation"),
        }
        for key, want in expected.items():
            if seen[key] != want:
                problems.append(f"{name}: {key} is {seen[key]!r}, the plan says {want!r}")
    return problems


def smoke_spread(result: dict[str, Any], cluster_nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Map the smoke job's per-node task counts to hosts and containers; ``missing`` names the alive
    nodes of ``cluster_nodes`` (the status fact's ``nodes``) that ran no task (``host/container``)."""
    by_id = {n["id"]: n for n in cluster_nodes}
    per_node: dict[str, int] = {}
    per_host: Counter[str] = Counter()
    for node_id, count in sorted(result.get("tasks_per_node", {}).items()):
        node = by_id.get(node_id, {})
        per_node[_node_label(node, node_id)] = count
        per_host[node.get("host", "?")] += count
    ran = set(result.get("tasks_per_node", {}))
    missing = sorted(_node_label(n, n["id"]) for n in cluster_nodes if n.get("alive") and n["id"] not in ran)
    return {
        "tasks": sum(per_node.values()),
        "elapsed": result.get("elapsed"),
        "per_node": per_node,
        "per_host": dict(sorted(per_host.items())),
        "hosts": len(per_host),
        "nodes": len(per_node),
        "missing": missing,
        "cross_node_transfers": result.get("cross_node_transfers", 0),
        "bytes_moved": result.get("bytes_moved", 0),
    }


def _node_label(node: dict[str, Any], node_id: str) -> str:
    return f"{node.get('host') or '?'}/{node.get('name') or node_id[:8]}"


def summary_lines(cluster: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """The per-host table: expected vs alive nodes, CPUs, memory, object store."""
    per_host = cluster.get("per_host", {})
    header = f"{'host':<14} {'nodes':>9} {'CPUs':>6} {'memory':>11} {'object store':>13}"
    lines = [header, "-" * len(header)]
    totals = Counter()
    for host in plan["cluster"]["hosts"]:
        expected = len(plan["hosts"][host]["nodes"])
        reading = per_host.get(host, {})
        alive = reading.get("alive", 0)
        lines.append(
            f"{host:<14} {f'{alive}/{expected}':>9} {reading.get('cpus', 0):>6g} "
            f"{format_size(int(reading.get('memory', 0))):>11} {format_size(int(reading.get('object_store_memory', 0))):>13}"
        )
        totals.update(
            {
                "expected": expected,
                "alive": alive,
                "cpus": reading.get("cpus", 0),
                "memory": reading.get("memory", 0),
                "store": reading.get("object_store_memory", 0),
            }
        )
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<14} {str(totals['alive']) + '/' + str(totals['expected']):>9} {totals['cpus']:>6g} "
        f"{format_size(int(totals['memory'])):>11} {format_size(int(totals['store'])):>13}"
    )
    lines.append(gcs_state_line(plan["cluster"], cluster.get("gcs_storage")))
    if cluster.get("dashboard_error"):
        lines.append(f"read in the head container: the dashboard's read failed ({cluster['dashboard_error']})")
    return lines


def gcs_state_line(cluster: dict[str, Any], store: dict[str, Any] | None = None) -> str:
    """Where the GCS keeps the cluster's state (with the store as read, when it was), and what a
    head restart therefore means."""
    if cluster.get("gcs_storage", "none") == "none":
        return "GCS state: in memory (a head restart starts a new cluster; every worker rejoins it)"
    where = f"GCS state: {cluster['gcs_storage']} in {cluster['gcs_storage_path']} on {cluster['head_host']}"
    redis = (store or {}).get("redis")
    if cluster["gcs_storage"] == "redis":
        where = (
            f"GCS state: redis at {cluster['gcs_redis']['address']} ({cluster['gcs_redis']['container']}),"
            f" data in {cluster['gcs_storage_path']} on {cluster['head_host']}"
        )
    if redis and not redis["logged_in"]:
        return f"{where}: REDIS NOT READY: {redis['error']} (the head's GCS cannot run without it)"
    if store and not store.get("present"):
        return f"{where}: MISSING (a restarted head would start a new cluster)"
    size = f", {store['files']} files, {format_size(int(store['bytes']))}" if store else ""
    return f"{where}{size} (a restarted head resumes this cluster)"
