# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The monitoring part of the plan: which host runs Prometheus and Alertmanager, what they scrape,
and which firewall rules that takes.

Private to the collection (no compatibility promise). Pure functions, no Ansible imports. The
scrape targets are derived from the plan's nodes and their pinned ports, so Prometheus knows every
node before the first scrape, and the firewall opens each metrics port to the monitoring host only.
``_monitoring_files`` renders what this plans.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    PlanError,
    address_port,
    parse_size,
    source_text,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import MONITORING_PACKAGES

DEFAULT_MONITORING_GROUP = "ray_monitoring"
# The containers (fixed names: one monitoring stack per host, one exporter per host).
PROMETHEUS_CONTAINER = "ray-prometheus"
ALERTMANAGER_CONTAINER = "ray-alertmanager"
NODE_EXPORTER_CONTAINER = "ray-node-exporter"
# The user the monitoring image runs its daemons as (lab/images.sh and the build Dockerfile create it
# with this uid and gid): the configuration files on the host are readable by this group.
MONITORING_UID = 9090
# The basic-auth user of Prometheus's and Alertmanager's web endpoints.
MONITORING_USER = "admin"
# Where the monitoring host keeps the stack's configuration (mounted read-only at the same path).
CONFIG_DIR_NAME = "config"
# Scrape jobs, in the order of prometheus.yml; each ``file_sd`` job reads targets/<job>.json.
RAY_NODE_JOB = "ray_node"
RAY_HEAD_JOB = "ray_head"
NODE_EXPORTER_JOB = "node_exporter"
DOCKER_ENGINE_JOB = "docker_engine"
FILE_SD_JOBS = (RAY_NODE_JOB, RAY_HEAD_JOB, NODE_EXPORTER_JOB, DOCKER_ENGINE_JOB)
COMMENT = "ray_cluster monitoring"


def monitoring_host(head: str, monitoring_hosts: list[str] | None, members: list[str], group: str) -> str:
    """The host that runs Prometheus and Alertmanager: the one member of ``group``, else the head's."""
    chosen = list(dict.fromkeys(monitoring_hosts or []))
    if not chosen:
        return head
    if len(chosen) > 1:
        raise PlanError(None, f"groups.{group}", chosen, "at most one host runs the monitoring stack")
    if chosen[0] not in members:
        raise PlanError(
            chosen[0],
            f"groups.{group}",
            chosen,
            "the monitoring host must be a cluster host (in the head or the worker group): the collection manages only those",
        )
    return chosen[0]


def _project(settings: dict[str, Any], kind: str, services: list[str]) -> dict[str, Any]:
    directory = f"{settings['ray_cluster_compose_dir'].rstrip('/')}/{kind}"
    return {
        "name": f"{settings['ray_cluster_name']}-{kind}",
        "dir": directory,
        "file": f"{directory}/compose.yaml",
        "services": services,
    }


def monitoring_plan(settings: dict[str, Any], host: str, ips: dict[str, str], head: str) -> dict[str, Any]:
    """The plan's ``cluster.monitoring``: empty when monitoring is off."""
    if not settings["ray_cluster_monitoring"]:
        return {}
    ip = ips[host]
    project = _project(settings, "monitoring", [PROMETHEUS_CONTAINER, ALERTMANAGER_CONTAINER])
    prometheus = address_port(ip, settings["ray_cluster_prometheus_port"])
    alertmanager = address_port(ip, settings["ray_cluster_alertmanager_port"])
    return {
        "host": host,
        "ip": ip,
        "image": settings["ray_cluster_monitoring_image"],
        "packages": MONITORING_PACKAGES,
        "user": MONITORING_USER,
        "uid": MONITORING_UID,
        "project": project,
        "exporters_project": _project(settings, "exporters", [NODE_EXPORTER_CONTAINER]),
        "config_dir": f"{project['dir']}/{CONFIG_DIR_NAME}",
        "password_file": settings["ray_cluster_monitoring_password_file"],
        "prometheus_port": settings["ray_cluster_prometheus_port"],
        "alertmanager_port": settings["ray_cluster_alertmanager_port"],
        "node_exporter_port": settings["ray_cluster_node_exporter_port"],
        "docker_metrics_port": settings["ray_cluster_docker_metrics_port"],
        "prometheus_address": prometheus,
        "alertmanager_address": alertmanager,
        "prometheus_url": f"http://{prometheus}",
        "alertmanager_url": f"http://{alertmanager}",
        "scrape_interval": settings["ray_cluster_monitoring_scrape_interval"],
        "alert_for": settings["ray_cluster_monitoring_alert_for"],
        "retention_time": settings["ray_cluster_monitoring_retention_time"],
        "retention_size": f"{parse_size(settings['ray_cluster_monitoring_retention_size']) // 2**20}MB",
        "webhook_urls": list(settings["ray_cluster_alertmanager_webhook_urls"]),
        "head_ip": ips[head],
    }


def docker_metrics_address(monitoring: dict[str, Any], node_ip: str) -> str:
    """Where a host's Docker engine serves its metrics (its daemon option ``metrics-addr``); empty
    when monitoring is off (the engine then serves none)."""
    return address_port(node_ip, monitoring["docker_metrics_port"]) if monitoring else ""


def _single(ip: str) -> str:
    return source_text(ipaddress.ip_network(ip))


def monitoring_rules(
    nodes: list[dict[str, Any]], node_ip: str, is_monitoring_host: bool, monitoring: dict[str, Any], admin_sources: list[str]
) -> list[dict[str, str]]:
    """The UFW rules monitoring adds on one host: each Ray node's metrics port, the node exporter and
    the engine's metrics open to the monitoring host only; on the monitoring host, Prometheus to the
    admins and the head (Ray's dashboard queries it) and Alertmanager to the admins. None when off."""
    if not monitoring:
        return []
    scraper = _single(monitoring["ip"])
    rules = [{"port": str(node["ports"]["metrics_export"]), "proto": "tcp", "src": scraper, "comment": COMMENT} for node in nodes]
    for port in (monitoring["node_exporter_port"], monitoring["docker_metrics_port"]):
        rules.append({"port": str(port), "proto": "tcp", "src": scraper, "comment": COMMENT})
    if is_monitoring_host:
        viewers = list(dict.fromkeys([*admin_sources, _single(monitoring["head_ip"])]))
        rules += [{"port": str(monitoring["prometheus_port"]), "proto": "tcp", "src": src, "comment": COMMENT} for src in viewers]
        rules += [
            {"port": str(monitoring["alertmanager_port"]), "proto": "tcp", "src": src, "comment": COMMENT}
            for src in admin_sources
        ]
    return [rule for rule in rules if rule["src"] != scraper or node_ip != monitoring["ip"]]


def _labels(cluster: str, host: str, **extra: str) -> dict[str, str]:
    return {"cluster": cluster, "ray_io_cluster": cluster, "host": host, **extra}


def scrape_targets(plan: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Prometheus's file_sd target groups per job (:data:`FILE_SD_JOBS`), one group per target,
    labelled with the cluster, host, node name, role and worker id: from the plan's nodes and ports."""
    cluster, monitoring = plan["cluster"], plan["cluster"]["monitoring"]
    name = cluster["name"]
    jobs: dict[str, list[dict[str, Any]]] = {job: [] for job in FILE_SD_JOBS}
    for host, host_plan in plan["hosts"].items():
        ip = host_plan["node_ip"]
        for node in host_plan["nodes"]:
            labels = _labels(name, host, node=node["name"], role=node["role"], worker_id=str(node.get("worker_id") or ""))
            jobs[RAY_NODE_JOB].append({"targets": [address_port(ip, node["ports"]["metrics_export"])], "labels": labels})
        jobs[NODE_EXPORTER_JOB].append(
            {"targets": [address_port(ip, monitoring["node_exporter_port"])], "labels": _labels(name, host)}
        )
        jobs[DOCKER_ENGINE_JOB].append(
            {"targets": [address_port(ip, monitoring["docker_metrics_port"])], "labels": _labels(name, host)}
        )
    head, head_ip = cluster["head_host"], cluster["head_ip"]
    for component, port in (("autoscaler", cluster["autoscaler_metrics_port"]), ("dashboard", cluster["dashboard_metrics_port"])):
        labels = _labels(name, head, node=cluster["head_container"], role="head", component=component)
        jobs[RAY_HEAD_JOB].append({"targets": [address_port(head_ip, port)], "labels": labels})
    return jobs


def planned_targets(plan: dict[str, Any]) -> set[tuple[str, str]]:
    """(job, address) of every target Prometheus must scrape: the file_sd targets and its own two."""
    monitoring = plan["cluster"]["monitoring"]
    targets = {(job, target) for job, groups in scrape_targets(plan).items() for group in groups for target in group["targets"]}
    return targets | {("prometheus", monitoring["prometheus_address"]), ("alertmanager", monitoring["alertmanager_address"])}


def monitoring_health(plan: dict[str, Any], targets: Any, alerts: Any) -> dict[str, Any]:
    """What the monitoring stack says, for status.yml: ``targets`` is Prometheus's ``/api/v1/targets``
    answer and ``alerts`` Alertmanager's ``/api/v2/alerts`` (active, neither silenced nor inhibited),
    each ``None`` when it did not answer. Returns ``summary`` (one line), ``up`` and ``planned`` (target
    counts), ``down`` (``job address``, sorted), ``unplanned`` (scraped, not in the plan) and ``firing``
    (``alertname host``, sorted)."""
    monitoring = plan["cluster"]["monitoring"]
    planned = planned_targets(plan)
    where = f"monitoring on {monitoring['host']}"
    if not isinstance(targets, dict):
        return {
            "summary": f"{where}: Prometheus does not answer at {monitoring['prometheus_url']}",
            "up": 0,
            "planned": len(planned),
            "down": sorted(f"{job} {address}" for job, address in planned),
            "unplanned": [],
            "firing": [],
        }
    active = (targets.get("data") or {}).get("activeTargets") or []
    seen = {(t.get("labels", {}).get("job", ""), t.get("labels", {}).get("instance", "")): t.get("health") for t in active}
    down = sorted(f"{job} {address}" for job, address in planned if seen.get((job, address)) != "up")
    unplanned = sorted(f"{job} {address}" for job, address in set(seen) - planned)
    firing = sorted(
        f"{a.get('labels', {}).get('alertname', '?')} {a.get('labels', {}).get('host', '')}".strip()
        for a in (alerts if isinstance(alerts, list) else [])
    )
    parts = [f"{len(planned) - len(down)} of {len(planned)} planned targets up"]
    if down:
        parts.append("down: " + ", ".join(down))
    if unplanned:
        parts.append("not in the plan: " + ", ".join(unplanned))
    parts.append(
        "alerts firing: " + (", ".join(firing) if firing else "none")
        if isinstance(alerts, list)
        else "Alertmanager does not answer"
    )
    return {
        "summary": f"{where}: " + "; ".join(parts),
        "up": len(planned) - len(down),
        "planned": len(planned),
        "down": down,
        "unplanned": unplanned,
        "firing": firing,
    }
