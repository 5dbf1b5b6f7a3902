# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Stored renderings: the plan and every compose file of a few representative clusters, byte for byte.

Each case's inputs are below; what the planner made of them is stored under
``tests/unit/fixtures/rendering/<case>/``: ``plan.json`` (the whole plan, firewall rules included,
keys in the planner's order), one ``<host>.<kind>.compose.yaml`` per non-empty compose project and,
with monitoring, one ``<host>.monitoring_<path>`` per file the ray_monitoring role writes (with log
aggregation, the shippers' and the receiver's configurations, the receiver's certificate and pruner).
A change to any byte fails here. When a change is meant, write the files again with
``RAY_CLUSTER_WRITE_RENDERINGS=1 python -m pytest tests/unit/plugins/module_utils/test_rendering.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import monitoring_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rendering"
WRITE = os.environ.get("RAY_CLUSTER_WRITE_RENDERINGS") == "1"
FINGERPRINT = "0123456789abcdef" * 4
KINDS = ("head", "workers")

# inventories/local: the lab's four servers, the lab's group_vars, facts of the 2-core lab machine.
LOCAL_SPEC = {"cpus": 0.5, "num_cpus": 2, "memory": "1536m", "memory_reservation": "512m", "shm_size": "256m"}
LOCAL_GROUP = {
    "ray_worker_spec": LOCAL_SPEC,
    "ray_cluster_admin_sources": ["172.28.84.1"],
    "ray_cluster_stagger_worker_start": True,
}
LOCAL_FACTS = {"vcpus": 2, "memtotal_mb": 24576, "default_ipv4": None}
LOCAL = {
    "lab-84": {
        **LOCAL_GROUP,
        "ray_node_ip": "172.28.84.84",
        "ray_worker_count": 3,
        "ray_head_spec": {"cpus": 0.5, "num_cpus": 2, "memory": "2g", "shm_size": "512m"},
        "ray_worker_spec": {**LOCAL_SPEC, "num_cpus": 3},
    },
    "lab-80": {**LOCAL_GROUP, "ray_node_ip": "172.28.84.80", "ray_worker_count": 4},
    "lab-81": {**LOCAL_GROUP, "ray_node_ip": "172.28.84.81", "ray_worker_count": 2},
    "lab-82": {**LOCAL_GROUP, "ray_node_ip": "172.28.84.82", "ray_worker_count": 1},
}
for _hvars in LOCAL.values():
    _hvars["facts"] = dict(LOCAL_FACTS)

# IPv6 nodes, custom ports and names, no token, a dashboard on every address, a GPU worker with
# custom resources and labels, and a host that runs the head only.
IPV6_GROUP = {
    "ray_cluster_name": "gpu-lab",
    "ray_cluster_image": "registry.example/ray:custom",
    "ray_cluster_auth_mode": "disabled",
    "ray_cluster_gcs_port": 7379,
    "ray_cluster_dashboard_port": 9265,
    "ray_cluster_client_port": 11001,
    "ray_cluster_autoscaler_metrics_port": 9266,
    "ray_cluster_dashboard_metrics_port": 9268,
    "ray_cluster_ssh_port": 2222,
    "ray_cluster_ssh_sources": ["2001:db8:ffff::/48", "198.51.100.7"],
    "ray_cluster_port_base": 25000,
    "ray_cluster_worker_ports_per_node": 20,
    "ray_cluster_dashboard_bind": "all",
    "ray_cluster_allowed_sources": ["2001:db8:10::/64"],
    "ray_cluster_admin_sources": ["2001:db8:20::5"],
    "ray_cluster_label_prefix": "org.example.ray",
    "ray_cluster_compose_dir": "/srv/ray/",
    "ray_cluster_log_max_size": "10m",
    "ray_cluster_log_max_files": 5,
    "ray_cluster_gcs_reconnect_timeout_s": 60,
    "ray_worker_spec": {"cpus": 1, "memory": "2g", "shm_size": "512m"},
}
IPV6 = {
    "head": {**IPV6_GROUP, "ray_node_ip": "2001:db8:10::1", "ray_head_spec": {"name": "head", "num_cpus": 0}},
    "gpu-1": {
        **IPV6_GROUP,
        "ansible_host": "2001:db8:10::a",
        "ray_worker_count": 3,
        "ray_worker_overrides": [
            {"name": "trainer", "gpus": 2, "resources": {"accel": 2, "ssd": 0.5}, "labels": {"zone": "b", "tier": "gpu"}},
            None,
            {"object_store_memory": "300m", "shm_size": "400m", "memory": "3g", "memory_reservation": "1g"},
        ],
        "facts": {"vcpus": 8, "memtotal_mb": 16384, "default_ipv4": None},
    },
    "cpu-2": {**IPV6_GROUP, "ray_node_ip": "2001:db8:10::b", "ray_worker_count": 2},
}

# IPv4 and IPv6 members side by side, addresses from ansible_host and facts, token on.
DUAL = {
    "alpha": {"ansible_host": "10.20.0.5", "ray_worker_count": 1, "ray_head_spec": {"cpus": 1, "memory": "3g"}},
    "beta": {"ray_node_ip": "fd00:20::7", "ray_worker_count": 2, "ray_worker_spec": {"cpus": 1.5, "num_cpus": 4}},
    "gamma": {"ansible_host": "gamma.example", "ray_worker_count": 1, "facts": {"default_ipv4": "10.20.0.6"}},
}

# The GCS in a Redis beside the head: an IPv6 head (the address in brackets), a custom port and limit.
REDIS_GROUP = {"ray_cluster_gcs_storage": "redis", "ray_cluster_gcs_redis_port": 6390, "ray_cluster_gcs_redis_memory": "512m"}
REDIS = {
    "beta": {**DUAL["beta"], **REDIS_GROUP},
    "alpha": {**DUAL["alpha"], **REDIS_GROUP},
}

# Monitoring on the lab's servers, its stack on a worker server (group ray_monitoring), Grafana, webhooks,
# a custom retention and window.
MONITORING_GROUP = {
    "ray_cluster_monitoring": True,
    "ray_cluster_grafana": True,
    "ray_cluster_alertmanager_webhook_urls": ["http://172.28.84.98:9099/alerts", "https://hooks.example/ray"],
    "ray_cluster_monitoring_retention_size": "20g",
    "ray_cluster_monitoring_alert_for": "1m",
}
MONITORING = {host: {**hvars, **MONITORING_GROUP} for host, hvars in LOCAL.items()}
MONITORING_HOSTS = {"monitoring": ["lab-81"], "logs": ["lab-81"]}
# The login's hash in the stored web.yml (a made-up bcrypt hash: the rendering takes the hash, never a password).
PASSWORD_HASH = "$2b$10$" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ"
PASSWORD_SHA256 = "5" * 64  # of the password file's text, for the logins' record

# Log aggregation on the monitoring case's servers: a small store and queue, a custom port, store and age.
LOGS_GROUP = {
    "ray_cluster_log_aggregation": True,
    "ray_cluster_log_receiver_port": 2600,
    "ray_cluster_log_store_dir": "/srv/ray-logs/",
    "ray_cluster_log_store_budget": "192m",
    "ray_cluster_log_store_max_age_days": 3,
    "ray_cluster_log_queue_max": "256m",
}
LOGS = {host: {**hvars, **LOGS_GROUP} for host, hvars in MONITORING.items()}
# The receiver's certificate as the shippers get it (made-up text: the rendering copies it as it is).
RECEIVER_CERT = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUFAKEfakeFAKEfakeFAKEfakeFAKEfakeMAoGCCqGSM49BAMC\n"
    "MBsxGTAXBgNVBAMMEHJheS1sb2ctcmVjZWl2ZXIwHhcNMjYwMTAxMDAwMDAwWhcN\n"
    "-----END CERTIFICATE-----\n"
)

# (case, head hosts, worker hosts, host variables)
CASES: list[tuple[str, list[str], list[str], dict[str, dict[str, Any]]]] = [
    ("local", ["lab-84"], ["lab-84", "lab-80", "lab-81", "lab-82"], LOCAL),
    ("ipv6-custom-ports", ["head"], ["gpu-1", "cpu-2"], IPV6),
    ("dual-stack", ["alpha"], ["alpha", "beta", "gamma"], DUAL),
    ("redis", ["beta"], ["alpha", "beta"], REDIS),
    ("monitoring", ["lab-84"], ["lab-84", "lab-80", "lab-81", "lab-82"], MONITORING),
    ("logs", ["lab-84"], ["lab-84", "lab-80", "lab-81", "lab-82"], LOGS),
]


def renderings(
    head: list[str], workers: list[str], hosts: dict[str, dict[str, Any]], monitoring_hosts: list[str] | None = None
) -> dict[str, str]:
    """File name -> text: the plan as JSON, then every non-empty compose project and every monitoring
    file (``<host>.monitoring.<path with / as _>``)."""
    plan = build_plan(head, workers, json.loads(json.dumps(hosts)), monitoring_hosts=monitoring_hosts)
    files = {"plan.json": json.dumps(plan, indent=1) + "\n"}
    for host in plan["hosts"]:
        for kind in KINDS:
            text = compose_content(plan, host, kind, FINGERPRINT)
            if text:
                files[f"{host}.{kind}.compose.yaml"] = text
        for path, text in monitoring_files(plan, host, PASSWORD_HASH, "", RECEIVER_CERT, PASSWORD_SHA256).items():
            files[f"{host}.monitoring{path.replace('/', '_')}"] = text
    return files


@pytest.mark.parametrize(("head", "workers", "hosts"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rendering_is_byte_identical_to_the_stored_one(
    request: pytest.FixtureRequest, head: list[str], workers: list[str], hosts: dict[str, dict[str, Any]]
) -> None:
    directory = FIXTURES / request.node.callspec.id
    files = renderings(head, workers, hosts, MONITORING_HOSTS.get(request.node.callspec.id))
    if WRITE:
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.iterdir():
            old.unlink()
        for name, text in files.items():
            (directory / name).write_bytes(text.encode("utf-8"))
    stored = {path.name: path.read_bytes().decode("utf-8") for path in sorted(directory.iterdir())}
    assert sorted(stored) == sorted(files)
    for name, text in files.items():
        assert text == stored[name], name
