# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the log aggregation (ray_cluster_log_aggregation): its settings, the store's sizes
(_monitoring.log_store_sizes), the receiver's firewall rules, the rendered rsyslog configurations,
pruner and compose services (_log_files), the drift of the shippers and the receiver, and the
receiver's pruner run for real on a directory."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from planner_cases import HEAD, Hosts, build, chain, check_refusal, cluster

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_monitoring import (
    ray_monitoring_drift,
    ray_monitoring_files,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._drift import monitoring_drift
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._log_files import (
    log_files,
    receiver_config,
    receiver_service,
    shipper_config,
    shipper_service,
    store_prune_script,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring import log_store_sizes
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import monitoring_files

MIB = 2**20
GIB = 2**30
MONITORING = cluster(ray_cluster_monitoring=True)
LOGS = cluster(ray_cluster_monitoring=True, ray_cluster_log_aggregation=True)
# The monitoring host of most tests: a worker server, not the head's.
MONITOR = "lab-81"
MONITOR_IP = "172.28.84.81"
MEMBER_IPS = {"lab-84": "172.28.84.84", "lab-80": "172.28.84.80", "lab-81": MONITOR_IP, "lab-82": "172.28.84.82"}
HASH = "$2b$10$" + "a" * 53
CERT = "-----BEGIN CERTIFICATE-----\nMIIBfakefakefake\n-----END CERTIFICATE-----\n"
PASSWORD_SHA = hashlib.sha256(b"secret\n").hexdigest()
COMMENT = "ray_cluster monitoring"


def logs_plan(hosts: Hosts, *mutations: Any, monitoring_hosts: list[str] | None = None) -> dict[str, Any]:
    """The lab's plan with monitoring and log aggregation on (then ``mutations``), the stack on ``lab-81``."""
    for mutation in (LOGS, *mutations):
        mutation(hosts)
    return build(hosts, monitoring_hosts=[MONITOR] if monitoring_hosts is None else monitoring_hosts)


def logs_of(plan: dict[str, Any]) -> dict[str, Any]:
    return plan["cluster"]["monitoring"]["logs"]


# --------------------------------------------------------------------------- settings


def test_defaults_plan_no_aggregation_even_with_monitoring(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    plan = build(lab_hosts)
    monitoring = plan["cluster"]["monitoring"]
    assert monitoring["logs"] == {}
    assert monitoring["exporters_project"]["services"] == ["ray-node-exporter"]
    assert "ray-log-receiver" not in monitoring["project"]["services"]


def test_the_defaults_of_the_aggregation(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts)
    logs = logs_of(plan)
    assert logs["receiver"]["port"] == 2514
    assert (logs["receiver"]["host"], logs["receiver"]["ip"]) == (MONITOR, MONITOR_IP)
    assert logs["receiver"]["address"] == f"{MONITOR_IP}:2514"
    assert logs["store"]["dir"] == "/var/log/ray-cluster-store/ray"
    assert (logs["store"]["budget"], logs["store"]["max_age_days"]) == (10 * GIB, 14)
    assert logs["shipper"]["queue_max"] == GIB
    monitoring = plan["cluster"]["monitoring"]
    assert monitoring["exporters_project"]["services"] == ["ray-node-exporter", "ray-log-shipper"]
    assert monitoring["project"]["services"][-1] == "ray-log-receiver"


def test_the_store_dir_holds_one_directory_per_cluster(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_dir="/srv/logs/", ray_cluster_name="blue"))
    assert logs_of(plan)["store"]["dir"] == "/srv/logs/blue"


def test_aggregation_without_monitoring_is_refused_naming_the_switch(lab_hosts: Hosts) -> None:
    check_refusal(lab_hosts, cluster(ray_cluster_log_aggregation=True), None, "ray_cluster_log_aggregation", "True")
    with pytest.raises(PlanError) as exc:
        build(lab_hosts)
    assert "set ray_cluster_monitoring: true" in str(exc.value)


def test_without_monitoring_the_aggregation_refusal_comes_before_the_sizes(lab_hosts: Hosts) -> None:
    check_refusal(
        lab_hosts,
        cluster(ray_cluster_log_aggregation=True, ray_cluster_log_store_budget="1m", ray_cluster_log_queue_max="1m"),
        None,
        "ray_cluster_log_aggregation",
        "True",
    )


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("ray_cluster_log_store_budget", "63m", "expected at least 64m"),
        ("ray_cluster_log_store_budget", "67108863", "expected at least 64m"),
        ("ray_cluster_log_queue_max", "15m", "expected at least 16m"),
        ("ray_cluster_log_queue_max", "16383k", "expected at least 16m"),
        ("ray_cluster_log_store_max_age_days", 0, ""),
        ("ray_cluster_log_store_max_age_days", -3, ""),
        ("ray_cluster_log_store_budget", "lots", ""),
        ("ray_cluster_log_queue_max", "1 gig", ""),
        ("ray_cluster_log_receiver_port", 70000, ""),
        ("ray_cluster_log_store_dir", "var/log/store", ""),
        ("ray_cluster_log_aggregation", "maybe", ""),
    ],
)
def test_a_bad_aggregation_setting_is_refused_naming_it(lab_hosts: Hosts, variable: str, value: Any, problem: str) -> None:
    check_refusal(lab_hosts, chain(LOGS, cluster(**{variable: value})), None, variable, repr(value))
    with pytest.raises(PlanError) as exc:
        build(lab_hosts)
    assert problem in str(exc.value)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"ray_cluster_log_store_budget": "64m"}, ("budget", 64 * MIB)),
        ({"ray_cluster_log_queue_max": "16m"}, ("queue_max", 16 * MIB)),
        ({"ray_cluster_log_store_max_age_days": 1}, ("max_age_days", 1)),
    ],
)
def test_the_smallest_values_are_taken(lab_hosts: Hosts, values: dict[str, Any], expected: tuple[str, int]) -> None:
    logs = logs_of(logs_plan(lab_hosts, cluster(**values)))
    key, value = expected
    assert {**logs["store"], **logs["shipper"]}[key] == value


def test_small_sizes_are_not_checked_while_the_aggregation_is_off(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    cluster(ray_cluster_log_store_budget="1m", ray_cluster_log_queue_max="1k")(lab_hosts)
    assert build(lab_hosts)["cluster"]["monitoring"]["logs"] == {}


@pytest.mark.parametrize(
    ("port", "other"),
    [
        (9090, "ray_cluster_prometheus_port"),
        (9100, "ray_cluster_node_exporter_port"),
        (6379, "ray_cluster_gcs_port"),
        (8265, "ray_cluster_dashboard_port"),
        (22, "ray_cluster_ssh_port"),
    ],
)
def test_the_receiver_port_is_a_fixed_port_while_the_aggregation_is_on(lab_hosts: Hosts, port: int, other: str) -> None:
    clash = cluster(ray_cluster_log_receiver_port=port)
    check_refusal(lab_hosts, chain(LOGS, clash), None, "ray_cluster_log_receiver_port", repr(port))
    with pytest.raises(PlanError) as exc:
        build(lab_hosts)
    assert f"the same port as {other}" in str(exc.value)
    # The aggregation off: the port is not used, nothing clashes.
    cluster(ray_cluster_log_aggregation=False)(lab_hosts)
    assert build(lab_hosts)["cluster"]["monitoring"]["logs"] == {}


def test_the_receiver_port_clashes_with_grafana_only_while_grafana_is_on(lab_hosts: Hosts) -> None:
    LOGS(lab_hosts)
    cluster(ray_cluster_log_receiver_port=3000)(lab_hosts)
    assert logs_of(build(lab_hosts))["receiver"]["port"] == 3000
    cluster(ray_cluster_grafana=True)(lab_hosts)
    with pytest.raises(PlanError) as exc:
        build(lab_hosts)
    assert exc.value.variable == "ray_cluster_log_receiver_port"
    assert "the same port as ray_cluster_grafana_port" in str(exc.value)


def test_the_receiver_port_inside_a_node_port_block_is_refused_only_while_on(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    low, _high = build(lab_hosts)["hosts"]["lab-80"]["node_port_range"]
    cluster(ray_cluster_log_receiver_port=low + 1)(lab_hosts)
    assert build(lab_hosts)["cluster"]["monitoring"]["logs"] == {}
    cluster(ray_cluster_log_aggregation=True)(lab_hosts)
    with pytest.raises(PlanError) as exc:
        build(lab_hosts)
    assert exc.value.variable == "ray_cluster_port_base"
    assert f"ray_cluster_log_receiver_port={low + 1}" in str(exc.value)


# --------------------------------------------------------------------------- the store's sizes


def _sizes(budget: int, nodes: int) -> dict[str, int]:
    return log_store_sizes({"store": {"budget": budget}}, nodes)


@pytest.mark.parametrize(
    ("budget", "nodes", "file_size", "prune_limit"),
    [
        # budget // (4 x nodes), within [1 MiB, 256 MiB]; the limit leaves each node's current file.
        (64 * MIB, 1, 16 * MIB, 48 * MIB),
        (64 * MIB, 4, 4 * MIB, 48 * MIB),
        (64 * MIB, 10, 1677721, 67108864 - 10 * 1677721),
        (192 * MIB, 11, 4575604, 201326592 - 11 * 4575604),
        (10 * GIB, 11, 244032232, 10 * GIB - 11 * 244032232),
        # Clamped at the top: 10g for 1 node would rotate at 2.5 GiB.
        (10 * GIB, 1, 256 * MIB, 10 * GIB - 256 * MIB),
        (GIB + 4, 1, 256 * MIB, GIB + 4 - 256 * MIB),
        # Clamped at the bottom: 64m // 80 is below 1 MiB.
        (64 * MIB, 20, MIB, 44 * MIB),
        # The last node count the smallest budget holds: the limit is exactly one file.
        (64 * MIB, 63, MIB, MIB),
        # No node planned counts as one.
        (64 * MIB, 0, 16 * MIB, 48 * MIB),
    ],
)
def test_store_sizes(budget: int, nodes: int, file_size: int, prune_limit: int) -> None:
    assert _sizes(budget, nodes) == {"file_size": file_size, "prune_limit": prune_limit}


@pytest.mark.parametrize(("budget", "nodes"), [(64 * MIB, 64), (64 * MIB, 100), (100 * MIB, 100)])
def test_a_store_too_small_for_the_nodes_is_refused(budget: int, nodes: int) -> None:
    with pytest.raises(PlanError) as exc:
        _sizes(budget, nodes)
    assert exc.value.variable == "ray_cluster_log_store_budget"
    assert exc.value.host is None
    message = str(exc.value)
    assert message.startswith(f"ray_cluster_log_store_budget: too small for {nodes} nodes: ")
    assert f"the store needs at least {(nodes + 1) * MIB} bytes" in message
    assert message.endswith(f"(got {budget})")


def test_the_plan_sizes_the_store_by_its_node_count(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_budget="192m"))
    assert len(plan["expected_nodes"]) == 11
    assert logs_of(plan)["store"] == {
        "dir": "/var/log/ray-cluster-store/ray",
        "budget": 192 * MIB,
        "max_age_days": 14,
        **_sizes(192 * MIB, 11),
    }
    # One more worker: a smaller file, a larger limit.
    lab_hosts["lab-82"]["ray_worker_count"] = 2
    store = logs_of(build(lab_hosts, monitoring_hosts=[MONITOR]))["store"]
    assert (store["file_size"], store["prune_limit"]) == (192 * MIB // 48, 192 * MIB - 12 * (192 * MIB // 48))


# --------------------------------------------------------------------------- the firewall


def _receiver_rules(plan: dict[str, Any], host: str, port: str = "2514") -> list[tuple[str, str]]:
    return [(r["src"], r["comment"]) for r in plan["hosts"][host]["firewall"] if r["port"] == port]


@pytest.mark.parametrize("monitor", ["lab-81", HEAD])
def test_the_receiver_port_is_open_to_each_other_member_on_the_monitoring_host_only(lab_hosts: Hosts, monitor: str) -> None:
    plan = logs_plan(lab_hosts, monitoring_hosts=[monitor])
    for host in plan["hosts"]:
        rules = _receiver_rules(plan, host)
        if host == monitor:
            # Every member's shipper, never the monitoring host's own (it reaches its address locally).
            others = [ip for name, ip in MEMBER_IPS.items() if name != monitor]
            assert sorted(rules) == sorted((ip, COMMENT) for ip in others)
        else:
            assert rules == [], host


def test_a_custom_receiver_port_is_the_one_opened(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_receiver_port=2600))
    assert sorted(_receiver_rules(plan, MONITOR, "2600")) == sorted(
        (ip, COMMENT) for name, ip in MEMBER_IPS.items() if name != MONITOR
    )
    assert _receiver_rules(plan, MONITOR, "2514") == []


def test_without_the_aggregation_no_receiver_rule(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    plan = build(lab_hosts, monitoring_hosts=[MONITOR])
    for host in plan["hosts"]:
        assert _receiver_rules(plan, host) == [], host
    assert plan["cluster"]["monitoring"]["member_ips"] == list(MEMBER_IPS.values())


def test_the_aggregation_adds_the_receiver_rules_and_nothing_else(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts)
    off = build({h: {**v, "ray_cluster_log_aggregation": False} for h, v in lab_hosts.items()}, monitoring_hosts=[MONITOR])
    for host in plan["hosts"]:
        added = [r for r in plan["hosts"][host]["firewall"] if r not in off["hosts"][host]["firewall"]]
        assert [r for r in off["hosts"][host]["firewall"] if r not in plan["hosts"][host]["firewall"]] == []
        assert all(r["port"] == "2514" and r["proto"] == "tcp" for r in added), host


# --------------------------------------------------------------------------- the rendered files


def test_the_shipper_config_names_its_host_the_cluster_and_the_receiver(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_name="blue", ray_cluster_log_queue_max="200m"))
    text = shipper_config(plan, "lab-80")
    assert "# Host lab-80: ships the Ray nodes' logs of cluster blue to 172.28.84.81:2514.\n" in text
    assert 'constant(outname="cluster" value="blue" format="jsonf")' in text
    assert 'constant(outname="host" value="lab-80" format="jsonf")' in text
    assert 'string="<134>1 %timegenerated:::date-rfc3339% lab-80 ray-logs - - - @cee:%$.payload%"' in text
    assert f'action(type="omrelp" target="{MONITOR_IP}" port="2514" template="ray-forward"' in text
    assert 'tls="on" tls.caCert="/etc/ray-logs/log-receiver.pem" tls.authMode="name"' in text
    assert 'tls.permittedPeer=["ray-log-receiver"]' in text
    assert f'queue.maxDiskSpace="{200 * MIB}"' in text
    # Ray's files of every node under the mounted log directory, and the containers' output by node.
    for pattern in ("*.out*", "*.err*", "*.log"):
        assert f'File="/ray-logs/*/session_*/logs/{pattern}"' in text
    assert 'File="/docker-containers/*/*-json.log"' in text
    assert "$!attrs!RAY_CLUSTER_NODE" in text
    assert "lab-81" not in text.replace(MONITOR_IP, "")
    # Another host: only its name changes.
    other = shipper_config(plan, "lab-82")
    assert other.replace("lab-82", "lab-80") == text


def test_the_shipper_follows_the_receiver_and_its_port(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_receiver_port=2600), monitoring_hosts=[HEAD])
    text = shipper_config(plan, "lab-80")
    assert 'target="172.28.84.84" port="2600"' in text
    assert "to 172.28.84.84:2600.\n" in text


def test_the_receiver_config_binds_the_monitoring_address_with_the_store_sizes(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_name="blue", ray_cluster_log_store_budget="192m"))
    store = logs_of(plan)["store"]
    text = receiver_config(plan)
    assert "# Host lab-81: receives the Ray nodes' logs of cluster blue.\n" in text
    assert f'input(type="imrelp" address="{MONITOR_IP}" port="2514" ruleset="ray-logs"' in text
    assert 'tls.myCert="/etc/ray-logs/receiver.pem" tls.myPrivKey="/etc/ray-logs/receiver.key"' in text
    assert f'rotation.sizeLimit="{store["file_size"]}"' in text
    assert store["file_size"] == 4575604
    # One cached file per planned node, and some room for nodes just removed.
    assert 'dynaFileCacheSize="21"' in text
    assert '$!cluster == "blue"' in text
    assert 'string="/store/%$!host:::secpath-replace%/%$!node:::secpath-replace%.log"' in text
    assert 'rotation.sizeLimitCommand="/bin/sh /etc/ray-logs/store-prune.sh"' in text


def test_the_prune_script_carries_the_size_the_age_and_the_limit(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_budget="64m", ray_cluster_log_store_max_age_days=3))
    store = logs_of(plan)["store"]
    assert (store["file_size"], store["prune_limit"]) == (1525201, 64 * MIB - 11 * 1525201)
    text = store_prune_script(plan)
    assert text.startswith("#!/bin/sh\n# Managed by wizardsofts.ray_cluster")
    assert "cd /store || exit 0\n" in text
    assert "-size +1525200c" in text
    assert "-mmin +4320 -delete" in text
    assert f'[ "$total" -le {64 * MIB - 11 * 1525201} ] && break' in text


def test_log_files_without_the_certificate_leave_it_out(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts)
    logs = logs_of(plan)
    shipper, receiver = logs["shipper"], logs["receiver"]
    assert log_files(plan, "lab-80", "") == {shipper["config"]: shipper_config(plan, "lab-80")}
    assert log_files(plan, "lab-80", CERT) == {shipper["config"]: shipper_config(plan, "lab-80"), shipper["receiver_cert"]: CERT}
    assert log_files(plan, MONITOR, "") == {
        shipper["config"]: shipper_config(plan, MONITOR),
        receiver["config"]: receiver_config(plan),
        receiver["prune_script"]: store_prune_script(plan),
    }
    assert set(log_files(plan, MONITOR, CERT)) == {
        shipper["config"],
        shipper["receiver_cert"],
        receiver["config"],
        receiver["prune_script"],
    }
    # The receiver's key and its own certificate are made on the host, never rendered.
    assert receiver["key"] not in log_files(plan, MONITOR, CERT)
    assert receiver["cert"] not in log_files(plan, MONITOR, CERT)


def test_the_paths_of_the_log_files(lab_hosts: Hosts) -> None:
    logs = logs_of(logs_plan(lab_hosts))
    assert logs["shipper"]["config"] == "/opt/ray-cluster/exporters/config/rsyslog.conf"
    assert logs["shipper"]["receiver_cert"] == "/opt/ray-cluster/exporters/config/log-receiver.pem"
    assert logs["receiver"]["config"] == "/opt/ray-cluster/monitoring/config/logs/rsyslog.conf"
    assert logs["receiver"]["prune_script"] == "/opt/ray-cluster/monitoring/config/logs/store-prune.sh"
    assert logs["receiver"]["key"] == "/opt/ray-cluster/monitoring/config/logs/receiver.key"


def test_log_files_are_empty_without_the_aggregation(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    plan = build(lab_hosts, monitoring_hosts=[MONITOR])
    assert log_files(plan, MONITOR, CERT) == {}
    assert log_files(plan, "lab-80", CERT) == {}
    off = build({h: {**v, "ray_cluster_monitoring": False} for h, v in lab_hosts.items()})
    assert log_files(off, HEAD, CERT) == {}
    # Monitoring's own files do not change with a certificate while the aggregation is off.
    assert monitoring_files(plan, MONITOR, HASH, "", CERT) == monitoring_files(plan, MONITOR, HASH)


def test_monitoring_files_carry_the_log_files_of_the_host(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts)
    for host in plan["hosts"]:
        files = monitoring_files(plan, host, HASH, "", CERT)
        assert log_files(plan, host, CERT).items() <= files.items(), host
    # The filter passes the certificate on.
    assert ray_monitoring_files(plan, "lab-80", HASH, "", CERT) == monitoring_files(plan, "lab-80", HASH, "", CERT)
    assert logs_of(plan)["shipper"]["receiver_cert"] not in ray_monitoring_files(plan, "lab-80", HASH)


# --------------------------------------------------------------------------- the compose services


def _compose(plan: dict[str, Any], host: str, which: str) -> dict[str, Any]:
    monitoring = plan["cluster"]["monitoring"]
    path = monitoring[which]["file"]
    return yaml.safe_load(monitoring_files(plan, host, HASH, "", CERT)[path])


def test_the_shipper_service_reads_the_logs_read_only(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_node_log_dir="/data/ray-logs"))
    project = _compose(plan, "lab-80", "exporters_project")
    shipper = project["services"]["ray-log-shipper"]
    assert shipper == shipper_service(plan)
    assert shipper["volumes"] == [
        "/opt/ray-cluster/exporters/config:/etc/ray-logs:ro",
        "/data/ray-logs/ray:/ray-logs:ro",
        "/var/lib/docker/containers:/docker-containers:ro",
        "log-shipper-state:/var/lib/rsyslog",
    ]
    assert (shipper["user"], shipper["network_mode"], shipper["restart"]) == ("root", "host", "unless-stopped")
    assert shipper["image"] == plan["cluster"]["monitoring"]["image"]
    assert shipper["entrypoint"] == ["/usr/sbin/rsyslogd"]
    assert shipper["command"] == ["-n", "-f", "/etc/ray-logs/rsyslog.conf", "-i", "NONE"]  # no pid file to outlive it
    assert shipper["logging"]["driver"] == "json-file"
    assert project["volumes"] == {"log-shipper-state": {}}
    assert set(project["services"]) == {"ray-node-exporter", "ray-log-shipper"}


def test_the_receiver_service_writes_the_store(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_dir="/srv/store"))
    project = _compose(plan, MONITOR, "project")
    receiver = project["services"]["ray-log-receiver"]
    assert receiver == receiver_service(plan)
    assert receiver["volumes"] == [
        "/opt/ray-cluster/monitoring/config/logs:/etc/ray-logs:ro",
        "/srv/store/ray:/store",
        "log-receiver-state:/var/lib/rsyslog",
    ]
    assert (receiver["user"], receiver["network_mode"], receiver["restart"]) == ("root", "host", "unless-stopped")
    assert receiver["entrypoint"] == ["/bin/sh", "-c"]
    (loop,) = receiver["command"]
    assert "/bin/sh /etc/ray-logs/store-prune.sh; sleep 60;" in loop
    assert loop.endswith("exec /usr/sbin/rsyslogd -n -f /etc/ray-logs/rsyslog.conf -i NONE")
    assert project["volumes"]["log-receiver-state"] == {}
    # The exporters' project of the monitoring host has its own shipper too.
    assert "ray-log-shipper" in _compose(plan, MONITOR, "exporters_project")["services"]


def test_without_the_aggregation_neither_service_nor_volume(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    plan = build(lab_hosts, monitoring_hosts=[MONITOR])
    exporters = _compose(plan, MONITOR, "exporters_project")
    assert set(exporters["services"]) == {"ray-node-exporter"}
    assert "volumes" not in exporters
    stack = _compose(plan, MONITOR, "project")
    assert "ray-log-receiver" not in stack["services"]
    assert "log-receiver-state" not in stack["volumes"]


# --------------------------------------------------------------------------- drift


def _stat(kind: str, mode: str, group: str, text: str | None = None) -> dict[str, Any]:
    sha = hashlib.sha256(text.encode()).hexdigest() if text is not None else None
    return {"exists": True, "type": kind, "mode": mode, "owner": "root", "group": group, "sha256": sha}


def matching_probe(plan: dict[str, Any], host: str) -> dict[str, Any]:
    """What ray_cluster_deployed reads on a host the ray_monitoring role has just converged (aggregation on or off)."""
    monitoring = plan["cluster"]["monitoring"]
    logs = monitoring["logs"]
    files = monitoring_files(plan, host, HASH, "", CERT, PASSWORD_SHA)
    stats = {path: _stat("file", "0640", "9090", text) for path, text in files.items()}
    running = list(monitoring["exporters_project"]["services"])
    if host == monitoring["host"]:
        stats[monitoring["password_file"]] = _stat("file", "0640", "9090", "secret\n")
        if logs:
            stats[logs["receiver"]["key"]] = _stat("file", "0600", "root", "key\n")
            stats[logs["store"]["dir"]] = _stat("directory", "0750", "root")
        running += monitoring["project"]["services"]
    containers = [{"Name": f"/{name}", "State": {"Running": True, "Status": "running"}} for name in running]
    images = {monitoring["image"]: "sha256:" + "1" * 64}
    return {"stats": stats, "docker": {"info": {}, "images": images, "containers": containers}}


def judge(probe: dict[str, Any], plan: dict[str, Any], host: str, cert: str = CERT) -> list[str]:
    return monitoring_drift(probe, plan, host, HASH, PASSWORD_SHA, "", "", cert)


@pytest.mark.parametrize("host", ["lab-84", "lab-80", "lab-81", "lab-82"])
def test_a_converged_host_has_no_drift(lab_hosts: Hosts, host: str) -> None:
    plan = logs_plan(lab_hosts)
    assert judge(matching_probe(plan, host), plan, host) == []
    assert ray_monitoring_drift(matching_probe(plan, host), plan, host, HASH, PASSWORD_SHA, "", "", CERT) == []


@pytest.mark.parametrize("host", ["lab-80", "lab-81"])
def test_an_unknown_certificate_is_a_difference(lab_hosts: Hosts, host: str) -> None:
    plan = logs_plan(lab_hosts)
    problems = judge(matching_probe(plan, host), plan, host, cert="")
    assert problems == ["/opt/ray-cluster/exporters/config/log-receiver.pem: the receiver's certificate is not known yet"]
    assert "certificate" in problems[0]


def test_another_certificate_on_a_shipper_host_is_a_difference(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts)
    problems = judge(matching_probe(plan, "lab-80"), plan, "lab-80", cert=CERT.replace("fake", "real"))
    assert problems == ["/opt/ray-cluster/exporters/config/log-receiver.pem: content differs"]


def _state(name: str, running: bool, status: str) -> Any:
    def change(probe: dict[str, Any]) -> None:
        for container in probe["docker"]["containers"]:
            if container["Name"] == f"/{name}":
                container["State"] = {"Running": running, "Status": status}

    return change


def _drop(name: str) -> Any:
    def change(probe: dict[str, Any]) -> None:
        probe["docker"]["containers"] = [c for c in probe["docker"]["containers"] if c["Name"] != f"/{name}"]

    return change


def _stat_change(key: str, **values: Any) -> Any:
    """Change the stat of one of the plan's log paths (``shipper.config``, ``receiver.key``, ``store.dir``)."""

    def change(probe: dict[str, Any], logs: dict[str, Any]) -> None:
        part, field = key.split(".")
        probe["stats"][logs[part][field]].update(values)

    return change


@pytest.mark.parametrize(
    ("host", "change", "expected"),
    [
        ("lab-80", _state("ray-log-shipper", False, "exited"), ["ray-log-shipper: exited"]),
        ("lab-81", _state("ray-log-shipper", False, "exited"), ["ray-log-shipper: exited"]),
        ("lab-80", _drop("ray-log-shipper"), ["ray-log-shipper: no container"]),
        ("lab-81", _state("ray-log-receiver", False, "restarting"), ["ray-log-receiver: restarting"]),
        ("lab-81", _drop("ray-log-receiver"), ["ray-log-receiver: no container"]),
    ],
)
def test_a_stopped_shipper_or_receiver_is_a_difference(lab_hosts: Hosts, host: str, change: Any, expected: list[str]) -> None:
    plan = logs_plan(lab_hosts)
    probe = matching_probe(plan, host)
    change(probe)
    assert judge(probe, plan, host) == expected


@pytest.mark.parametrize(
    ("host", "change", "expected"),
    [
        (
            "lab-80",
            _stat_change("shipper.config", sha256="0" * 64),
            "/opt/ray-cluster/exporters/config/rsyslog.conf: content differs",
        ),
        (
            "lab-81",
            _stat_change("receiver.config", sha256="0" * 64),
            "/opt/ray-cluster/monitoring/config/logs/rsyslog.conf: content differs",
        ),
        (
            "lab-81",
            _stat_change("receiver.prune_script", mode="0644"),
            "/opt/ray-cluster/monitoring/config/logs/store-prune.sh: mode 0644, not 0640",
        ),
        (
            "lab-81",
            _stat_change("receiver.key", mode="0644"),
            "/opt/ray-cluster/monitoring/config/logs/receiver.key: mode 0644, not 0600",
        ),
        (
            "lab-81",
            _stat_change("receiver.key", group="9090"),
            "/opt/ray-cluster/monitoring/config/logs/receiver.key: owned by root:9090, not root:root",
        ),
        ("lab-81", _stat_change("receiver.key", exists=False), "/opt/ray-cluster/monitoring/config/logs/receiver.key: missing"),
        ("lab-81", _stat_change("store.dir", exists=False), "/var/log/ray-cluster-store/ray: missing"),
        ("lab-81", _stat_change("store.dir", mode="0755"), "/var/log/ray-cluster-store/ray: mode 0755, not 0750"),
        ("lab-81", _stat_change("store.dir", type="file"), "/var/log/ray-cluster-store/ray: a file, not a directory"),
    ],
)
def test_each_file_difference_is_named(lab_hosts: Hosts, host: str, change: Any, expected: str) -> None:
    plan = logs_plan(lab_hosts)
    probe = matching_probe(plan, host)
    change(probe, logs_of(plan))
    assert judge(probe, plan, host) == [expected]


def test_a_shipper_host_judges_neither_the_key_nor_the_store(lab_hosts: Hosts) -> None:
    plan = logs_plan(lab_hosts)
    probe = matching_probe(plan, "lab-80")
    logs = logs_of(plan)
    assert logs["receiver"]["key"] not in probe["stats"]
    assert logs["store"]["dir"] not in probe["stats"]
    assert judge(probe, plan, "lab-80") == []
    # The stack's containers are not looked for there either.
    assert all("ray-log-receiver" not in c["Name"] for c in probe["docker"]["containers"])


def test_turning_the_aggregation_on_shows_on_a_converged_host(lab_hosts: Hosts) -> None:
    MONITORING(lab_hosts)
    off = build(lab_hosts, monitoring_hosts=[MONITOR])
    probe = matching_probe(off, "lab-80")
    assert monitoring_drift(probe, off, "lab-80", HASH, PASSWORD_SHA) == []
    on = logs_plan(lab_hosts)
    assert judge(probe, on, "lab-80") == [
        "/opt/ray-cluster/exporters/compose.yaml: content differs",
        "/opt/ray-cluster/exporters/config/rsyslog.conf: not read",
        "/opt/ray-cluster/exporters/config/log-receiver.pem: not read",
        "ray-log-shipper: no container",
    ]


# --------------------------------------------------------------------------- the pruner, run


GNU_TOOLS = (
    shutil.which("find") is not None
    and "GNU" in subprocess.run(["find", "--version"], capture_output=True, text=True, check=False).stdout
)


def _prune_script(plan: dict[str, Any], store: Path) -> Path:
    text = store_prune_script(plan)
    assert text.count("cd /store || exit 0\n") == 1
    script = store.parent / "store-prune.sh"
    script.write_text(text.replace("cd /store || exit 0\n", f"cd '{store}' || exit 0\n"), encoding="utf-8")
    return script


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", str(script)], capture_output=True, text=True, check=False, timeout=60)


def _file(store: Path, relative: str, size: int, age_s: float) -> Path:
    path = store / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    os.truncate(path, size)
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def _listing(store: Path) -> dict[str, int]:
    return {str(p.relative_to(store)): p.stat().st_size for p in sorted(store.rglob("*")) if p.is_file()}


HOUR = 3600
DAY = 24 * HOUR


@pytest.mark.skipif(not GNU_TOOLS, reason="the pruner runs in the monitoring image, with GNU find and date")
def test_the_pruner_rotates_prunes_by_age_and_size_and_removes_empty_dirs(lab_hosts: Hosts, tmp_path: Path) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_budget="64m", ray_cluster_log_store_max_age_days=3))
    store_plan = logs_of(plan)["store"]
    size, limit = store_plan["file_size"], store_plan["prune_limit"]
    assert (size, limit) == (1525201, 50331653)
    store = tmp_path / "store"
    store.mkdir()
    script = _prune_script(plan, store)
    # Current files: at the size and above it are rotated; below it, kept as they are.
    _file(store, "lab-80/ray-worker-1.log", size, 60)
    _file(store, "lab-80/ray-worker-2.log", size + 10, 60)
    _file(store, "lab-80/ray-worker-3.log", size - 1, 60)
    # Rotated files within the age, oldest first: 20 + 20 + 20 + 10 MiB, with the current ones
    # (about 4.4 MiB) past the limit (48 MiB): the oldest two go, the total is then within it.
    _file(store, "lab-81/ray-worker-1.log.1000", 20 * MIB, 2 * DAY)
    _file(store, "lab-84/ray-head.log.2000", 20 * MIB, 1 * DAY)
    _file(store, "lab-81/ray-worker-1.log.3000", 20 * MIB, 2 * HOUR)
    _file(store, "lab-84/ray-head.log.4000", 10 * MIB, HOUR)
    # Past the age (3 days): rotated and current files alike; their directories are left empty.
    _file(store, "lab-82/ray-worker-1.log.500", 1000, 3 * DAY + HOUR)
    _file(store, "gone-host/ray-worker-9.log", 1000, 10 * DAY)
    (store / "empty-host").mkdir()
    total_before = sum(_listing(store).values())
    assert total_before > limit

    result = _run(script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    after = _listing(store)
    rotated = sorted(name for name in after if re.fullmatch(r"lab-80/ray-worker-[12]\.log\.\d+", name))
    assert len(rotated) == 2
    assert sorted(after[name] for name in rotated) == [size, size + 10]
    assert after == {
        "lab-80/ray-worker-3.log": size - 1,
        **{name: after[name] for name in rotated},
        "lab-81/ray-worker-1.log.3000": 20 * MIB,
        "lab-84/ray-head.log.4000": 10 * MIB,
    }
    assert sum(after.values()) <= limit
    # Without the second oldest the total would still be past the limit: it went too.
    assert sum(after.values()) + 20 * MIB > limit
    assert sorted(p.name for p in store.iterdir()) == ["lab-80", "lab-81", "lab-84"]
    # The renamed files keep their time.
    assert all(abs(time.time() - 60 - (store / name).stat().st_mtime) < 5 for name in rotated)

    # A second run finds nothing to do.
    assert _run(script).returncode == 0
    assert _listing(store) == after


@pytest.mark.skipif(not GNU_TOOLS, reason="the pruner runs in the monitoring image, with GNU find and date")
def test_the_pruner_never_removes_current_files_and_keeps_a_store_within_the_limit(lab_hosts: Hosts, tmp_path: Path) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_budget="64m"))
    size, limit = logs_of(plan)["store"]["file_size"], logs_of(plan)["store"]["prune_limit"]
    store = tmp_path / "store"
    store.mkdir()
    script = _prune_script(plan, store)
    # Within the limit: nothing is removed, however old (within the age) the rotated files are.
    _file(store, "lab-80/ray-worker-1.log.1", limit - 3 * size, 13 * DAY)
    _file(store, "lab-80/ray-worker-1.log", size - 1, 10)
    _file(store, "lab-81/ray-worker-1.log", size - 1, 10)
    before = _listing(store)
    assert sum(before.values()) <= limit
    assert _run(script).returncode == 0
    assert _listing(store) == before
    # One byte over the limit: the rotated file goes, never a current one.
    os.truncate(store / "lab-80/ray-worker-1.log.1", limit - 2 * (size - 1) + 1)
    assert _run(script).returncode == 0
    assert _listing(store) == {"lab-80/ray-worker-1.log": size - 1, "lab-81/ray-worker-1.log": size - 1}


@pytest.mark.skipif(not GNU_TOOLS, reason="the pruner runs in the monitoring image, with GNU find and date")
def test_the_pruner_takes_names_with_spaces_and_exits_0_without_a_store(lab_hosts: Hosts, tmp_path: Path) -> None:
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_budget="64m"))
    size, limit = logs_of(plan)["store"]["file_size"], logs_of(plan)["store"]["prune_limit"]
    store = tmp_path / "store"
    store.mkdir()
    script = _prune_script(plan, store)
    _file(store, "lab 80/odd node.log", size, 30)
    _file(store, "lab 80/odd node.log.1", limit, DAY)
    assert _run(script).returncode == 0
    after = _listing(store)
    assert list(after.values()) == [size]
    assert re.fullmatch(r"lab 80/odd node\.log\.\d+", next(iter(after)))
    shutil.rmtree(store)
    result = _run(script)
    assert result.returncode == 0
    assert not store.exists()


# --------------------------------------------------------------------------- the store's place and disk


@pytest.mark.parametrize("store_dir", ["/var/log/ray-cluster", "/var/log/ray-cluster/store", "/var/log", "/var/log/ray-cluster/"])
def test_a_store_that_overlaps_the_node_log_directory_is_refused(lab_hosts: Hosts, store_dir: str) -> None:
    with pytest.raises(PlanError) as exc:
        logs_plan(lab_hosts, cluster(ray_cluster_log_store_dir=store_dir))
    assert exc.value.variable == "ray_cluster_log_store_dir"
    assert "apart from ray_cluster_node_log_dir (/var/log/ray-cluster)" in str(exc.value)


def test_a_store_beside_the_node_log_directory_is_accepted(lab_hosts: Hosts) -> None:
    # A sibling whose name starts like it is not inside it.
    plan = logs_plan(lab_hosts, cluster(ray_cluster_log_store_dir="/var/log/ray-cluster-store"))
    assert logs_of(plan)["store"]["dir"] == "/var/log/ray-cluster-store/ray"


def _with_mounts(hosts: Hosts, host: str, mounts: list[dict[str, Any]]) -> None:
    hosts[host]["facts"] = {**(hosts[host].get("facts") or {}), "mounts": mounts}


def test_a_store_larger_than_its_file_system_is_refused_on_the_monitoring_host(lab_hosts: Hosts) -> None:
    mounts = [
        {"mount": "/", "size_total": 50 * GIB, "size_available": 40 * GIB},
        {"mount": "/var/log/ray-cluster-store", "size_total": 5 * GIB, "size_available": 5 * GIB},
    ]
    _with_mounts(lab_hosts, MONITOR, mounts)
    with pytest.raises(PlanError) as exc:
        logs_plan(lab_hosts, cluster(ray_cluster_log_store_budget="6g"))
    assert (exc.value.host, exc.value.variable) == (MONITOR, "ray_cluster_log_store_budget")
    assert "above the 5" in str(exc.value) and "/var/log/ray-cluster-store" in str(exc.value)


def test_a_store_sharing_the_nodes_file_system_counts_their_budgets_too(lab_hosts: Hosts) -> None:
    # 10g of store and 2 nodes x 2g of node logs on one 15 GiB file system with 12 GiB free: planned, with a warning.
    _with_mounts(lab_hosts, MONITOR, [{"mount": "/", "size_total": 15 * GIB, "size_available": 12 * GIB}])
    plan = logs_plan(lab_hosts)
    capacity = plan["hosts"][MONITOR]["capacity"]
    assert (capacity["log_store"], capacity["log_store_mount"]) == (10 * GIB, "/")
    assert capacity["node_logs"] == len(plan["hosts"][MONITOR]["nodes"]) * 2 * GIB
    shared = [w for w in plan["warnings"] if "ray_cluster_log_store_budget" in w]
    assert len(shared) == 1 and f"host {MONITOR}" in shared[0] and "and the nodes' log budgets add up to" in shared[0]
    # Only the monitoring host keeps the store.
    assert "log_store" not in plan["hosts"]["lab-80"]["capacity"]
