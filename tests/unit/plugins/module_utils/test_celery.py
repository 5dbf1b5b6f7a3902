# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the Celery part of the plan (_celery.py): groups, workers, ports, firewall, capacity, the app's digest."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from planner_cases import HEAD, KNOWN, WORKERS, Hosts, cluster, host_vars, spec

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._celery import (
    BROKER_CONTAINER,
    FLOWER_CONTAINER,
    app_digest,
    app_image,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import multiport_rules
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import prometheus_config
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import cluster_settings

BROKER, FLOWER = "lab-84", "lab-84"
CELERY_WORKERS = ["lab-80", "lab-81"]
DEFAULT_GROUPS = {"broker": [BROKER], "workers": CELERY_WORKERS, "flower": [FLOWER]}


def celery_hosts(hosts: Hosts) -> Hosts:
    """The lab with Celery: two workers on lab-80 (one CPU each), one on lab-81."""
    hosts = copy.deepcopy(hosts)
    hosts["lab-80"]["celery_worker_count"] = 2
    hosts["lab-81"]["celery_worker_count"] = 1
    hosts["lab-81"]["celery_worker_spec"] = {"cpus": 0.5, "memory": "512m", "queues": ["celery", "long"]}
    return hosts


def build(hosts: Hosts, groups: dict[str, list[str]] | None = None, **kwargs: Any) -> dict[str, Any]:
    return build_plan(
        [HEAD], list(WORKERS), hosts, known=KNOWN, celery_groups=DEFAULT_GROUPS if groups is None else groups, **kwargs
    )


def rules(plan: dict[str, Any], host: str) -> list[dict[str, str]]:
    return [rule for rule in plan["hosts"][host]["firewall"] if rule["comment"].startswith("ray_cluster celery-")]


# --------------------------------------------------------------------------- the plan


def test_without_a_broker_the_plan_has_no_celery(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts, groups={})
    assert plan["cluster"]["celery"] == {}
    for host in WORKERS:
        assert plan["hosts"][host]["celery"]["project"]["services"] == []
        assert (plan["hosts"][host]["celery"]["broker"], plan["hosts"][host]["celery"]["workers"]) == (False, [])
        assert rules(plan, host) == []


def test_the_celery_plan(lab_hosts: Hosts) -> None:
    plan = build(celery_hosts(lab_hosts), celery_app_digest="0123456789abcdef" * 4)
    celery = plan["cluster"]["celery"]
    assert celery["broker"]["host"] == BROKER
    assert celery["broker"]["address"] == "172.28.84.84:6390"
    assert celery["broker"]["maxmemory"] == int(512 * 2**20 * 0.9)
    # The Celery hosts' addresses as the fewest networks that hold exactly them (lab-80 and lab-81: a /31).
    assert celery["broker"]["sources"] == ["172.28.84.80/31", "172.28.84.84"]
    assert celery["visibility_timeout_s"] == 3600
    assert celery["task_time_limit_s"] == 1800
    assert celery["app_image"] == "wizardsofts/celery-app:5.7.0-2.2.0-py311-r2-0123456789ab"
    assert celery["flower"]["url"] == "http://172.28.84.84:5555"
    assert celery["worker_hosts"] == CELERY_WORKERS
    assert celery["queues"] == ["celery", "long"]
    assert celery["expected_workers"] == ["celery-worker-1@lab-80", "celery-worker-2@lab-80", "celery-worker-1@lab-81"]
    assert celery["status_from"] == {"host": FLOWER, "container": FLOWER_CONTAINER}
    no_flower = build(celery_hosts(lab_hosts), groups={**DEFAULT_GROUPS, "flower": []})["cluster"]["celery"]
    assert no_flower["status_from"] == {"host": "lab-80", "container": "celery-worker-1"}
    head = plan["hosts"][BROKER]["celery"]
    assert head["project"]["services"] == [BROKER_CONTAINER, FLOWER_CONTAINER]
    assert head["project"]["name"] == "ray-celery"
    lab80 = plan["hosts"]["lab-80"]["celery"]
    assert [w["name"] for w in lab80["workers"]] == ["celery-worker-1", "celery-worker-2"]
    assert lab80["workers"][0]["hostname"] == "celery-worker-1@lab-80"
    assert lab80["workers"][0]["concurrency"] == 1
    assert lab80["workers"][0]["queues"] == ["celery"]
    lab81 = plan["hosts"]["lab-81"]["celery"]["workers"]
    assert (lab81[0]["cpus"], lab81[0]["memory"], lab81[0]["concurrency"], lab81[0]["queues"]) == (
        0.5,
        512 * 2**20,
        1,
        ["celery", "long"],
    )
    assert plan["hosts"]["lab-82"]["celery"]["project"]["services"] == []


def test_the_firewall_opens_the_broker_to_celery_hosts_and_flower_to_admins(lab_hosts: Hosts) -> None:
    hosts = celery_hosts(lab_hosts)
    cluster(ray_cluster_admin_sources=["10.9.0.0/24"], celery_client_sources=["10.20.0.0/16"], ray_cluster_monitoring=True)(hosts)
    plan = build(hosts)
    opened = {(r["port"], r["src"], r["comment"]) for r in rules(plan, BROKER)}
    assert opened == {
        ("6390", "172.28.84.80/31", "ray_cluster celery-broker"),
        ("6390", "172.28.84.84", "ray_cluster celery-broker"),
        ("6390", "10.20.0.0/16", "ray_cluster celery-broker"),
        ("5555", "10.9.0.0/24", "ray_cluster celery-flower"),
        ("5555", "172.28.84.84", "ray_cluster celery-flower"),  # the monitoring host scrapes /metrics
    }
    for host in ("lab-80", "lab-81", "lab-82"):
        assert rules(plan, host) == []


def test_celery_containers_count_against_the_host(lab_hosts: Hosts) -> None:
    plan = build(celery_hosts(lab_hosts))
    without = build(lab_hosts, groups={})
    assert plan["hosts"]["lab-80"]["capacity"]["cpus"] == without["hosts"]["lab-80"]["capacity"]["cpus"] + 2
    assert plan["hosts"]["lab-80"]["capacity"]["memory"] == without["hosts"]["lab-80"]["capacity"]["memory"] + 2 * 2**30
    assert plan["hosts"][BROKER]["capacity"]["memory"] == without["hosts"][BROKER]["capacity"]["memory"] + 768 * 2**20


def test_celery_over_the_host_s_cpus_is_refused_naming_the_celery_spec(lab_hosts: Hosts) -> None:
    hosts = celery_hosts(lab_hosts)
    hosts["lab-80"]["facts"] = {"vcpus": 2, "memtotal_mb": 64 * 1024}
    with pytest.raises(PlanError) as exc:
        build(hosts)
    assert exc.value.host == "lab-80"
    assert "celery_worker_spec.cpus" in exc.value.variable
    assert "above the host's 2 vCPUs" in str(exc.value)


def test_a_host_without_workers_and_count_zero(lab_hosts: Hosts) -> None:
    hosts = celery_hosts(lab_hosts)
    hosts["lab-81"]["celery_worker_count"] = 0
    plan = build(hosts)
    assert plan["hosts"]["lab-81"]["celery"]["workers"] == []
    assert plan["hosts"]["lab-81"]["celery"]["project"]["services"] == []


def test_a_given_visibility_timeout_and_app_image_are_kept(lab_hosts: Hosts) -> None:
    hosts = celery_hosts(lab_hosts)
    cluster(celery_visibility_timeout_s=5000, celery_app_image="registry.example:5000/tasks:1.0")(hosts)
    celery = build(hosts)["cluster"]["celery"]
    assert (celery["visibility_timeout_s"], celery["app_image"]) == (5000, "registry.example:5000/tasks:1.0")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("wizardsofts/celery:1.0", "wizardsofts/celery-app:1.0-abcdefabcdef"),
        ("registry.example:5000/celery", "registry.example:5000/celery-app:latest-abcdefabcdef"),
        ("celery:2@sha256:" + "0" * 64, "celery-app:2-abcdefabcdef"),
    ],
)
def test_app_image_names(image: str, expected: str) -> None:
    assert app_image({"celery_app_image": "", "celery_image": image}, "abcdef" * 10) == expected


# --------------------------------------------------------------------------- refusals
# (id, mutation, groups or None for the default, host named, variable, text of the value)

WS = "celery_worker_spec"


def ws(**values: Any) -> Any:
    return spec("lab-80", WS, **values)


RefusalCase = tuple[str, Any, "dict[str, list[str]] | None", "str | None", str, str]
REFUSALS: list[RefusalCase] = [
    ("count-unset", lambda h: h["lab-80"].pop("celery_worker_count"), None, "lab-80", "celery_worker_count", "not set"),
    ("count-outside-group", host_vars("lab-82", celery_worker_count=2), None, "lab-82", "celery_worker_count", "2"),
    ("count-negative", host_vars("lab-80", celery_worker_count=-1), None, "lab-80", "celery_worker_count", "-1"),
    ("spec-not-a-mapping", host_vars("lab-80", celery_worker_spec="big"), None, "lab-80", "celery_worker_spec", "'big'"),
    (
        "spec-unknown-key",
        ws(shm_size="1g"),
        None,
        "lab-80",
        "celery_worker_spec.shm_size",
        "'1g'",
    ),
    ("cpus-zero", ws(cpus=0), None, "lab-80", f"{WS}.cpus", "0"),
    ("memory-tiny", ws(memory="32m"), None, "lab-80", f"{WS}.memory", "'32m'"),
    (
        "reservation-above-limit",
        ws(memory="1g", memory_reservation="2g"),
        None,
        "lab-80",
        "celery_worker_spec.memory_reservation",
        "'2g'",
    ),
    (
        "concurrency-zero",
        ws(concurrency=0),
        None,
        "lab-80",
        "celery_worker_spec.concurrency",
        "0",
    ),
    (
        "queues-string",
        ws(queues="celery"),
        None,
        "lab-80",
        "celery_worker_spec.queues",
        "'celery'",
    ),
    ("queues-empty", ws(queues=[]), None, "lab-80", f"{WS}.queues", "[]"),
    ("queue-name", ws(queues=["a b"]), None, "lab-80", f"{WS}.queues", "['a b']"),
    ("app-module", cluster(celery_app_module="my app"), None, None, "celery_app_module", "'my app'"),
    (
        "app-source-and-requirement",
        cluster(celery_app_source="/srv/app", celery_app_requirement="tasks==1.0"),
        None,
        None,
        "celery_app_source",
        "'/srv/app'",
    ),
    ("app-source-relative", cluster(celery_app_source="srv/app"), None, None, "celery_app_source", "'srv/app'"),
    (
        "app-requirement-option",
        cluster(celery_app_requirement="--index-url x"),
        None,
        None,
        "celery_app_requirement",
        "'--index-url x'",
    ),
    ("broker-memory", cluster(celery_broker_memory="32m"), None, None, "celery_broker_memory", "'32m'"),
    ("broker-port-gcs", cluster(celery_broker_port=6379), None, None, "celery_broker_port", "6379"),
    ("broker-port-in-node-block", cluster(celery_broker_port=20001), None, "lab-84", "ray_cluster_port_base", "20000"),
    ("flower-port", cluster(celery_flower_port=70000), None, None, "celery_flower_port", "70000"),
    ("visibility-timeout", cluster(celery_visibility_timeout_s=1800), None, None, "celery_visibility_timeout_s", "1800"),
    ("time-limit-zero", cluster(celery_task_time_limit_s=0), None, None, "celery_task_time_limit_s", "0"),
    ("client-any", cluster(celery_client_sources=["any"]), None, None, "celery_client_sources", "['any']"),
    ("client-everyone", cluster(celery_client_sources=["0.0.0.0/0"]), None, None, "celery_client_sources", "['0.0.0.0/0']"),
    ("client-string", cluster(celery_client_sources="10.0.0.0/8"), None, None, "celery_client_sources", "'10.0.0.0/8'"),
    (
        "data-dir",
        cluster(celery_broker_data_dir="/var/lib/my broker"),
        None,
        None,
        "celery_broker_data_dir",
        "'/var/lib/my broker'",
    ),
    ("image", cluster(celery_image="Bad Image"), None, None, "celery_image", "'Bad Image'"),
    ("typo", host_vars("lab-80", celery_worker_cout=2), None, "lab-80", "celery_worker_cout", ""),
    ("mismatch", host_vars("lab-81", celery_broker_port=6391), None, None, "celery_broker_port", "lab-81=6391"),
    (
        "two-brokers",
        lambda h: None,
        {"broker": ["lab-84", "lab-80"], "workers": CELERY_WORKERS},
        None,
        "groups.celery_broker",
        "lab-80",
    ),
    ("two-flowers", lambda h: None, {**DEFAULT_GROUPS, "flower": ["lab-84", "lab-80"]}, None, "groups.celery_flower", "lab-80"),
    ("workers-without-broker", lambda h: None, {"workers": CELERY_WORKERS}, None, "groups.celery_broker", "[]"),
    ("flower-without-broker", lambda h: None, {"flower": ["lab-84"]}, None, "groups.celery_broker", "[]"),
    ("broker-not-a-member", lambda h: None, {"broker": ["db-1"]}, "db-1", "groups.celery_broker", "db-1"),
]


@pytest.mark.parametrize(
    ("mutation", "groups", "host", "variable", "value"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_refusals_name_host_variable_and_value(
    lab_hosts: Hosts, mutation: Any, groups: dict[str, list[str]] | None, host: str | None, variable: str, value: str
) -> None:
    hosts = celery_hosts(lab_hosts)
    mutation(hosts)
    with pytest.raises(PlanError) as exc:
        build(hosts, groups=groups)
    message = str(exc.value)
    assert (exc.value.host, exc.value.variable) == (host, variable), message
    assert message.startswith(f"host {host}: {variable}: " if host else f"{variable}: "), message
    assert value in message, message


def test_celery_settings_need_not_be_set_without_celery() -> None:
    settings = cluster_settings({"h1": {}})
    assert settings["celery_visibility_timeout_s"] == 3600
    assert settings["celery_app_module"] == "wizardsofts_celery_sample.app:app"


# --------------------------------------------------------------------------- the app's digest


def _project(root: Path, text: str) -> Path:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    (root / "pkg" / "__init__.py").write_text(text)
    return root


def test_the_digest_follows_the_source_and_nothing_else(tmp_path: Path) -> None:
    source = _project(tmp_path / "app", "x = 1\n")
    first = app_digest("pkg:app", str(source), "")
    (source / "pkg" / "__pycache__").mkdir()
    (source / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (source / "pkg.egg-info").mkdir()
    (source / "pkg.egg-info" / "PKG-INFO").write_text("x")
    assert app_digest("pkg:app", str(source), "") == first
    (source / "pkg" / "__init__.py").write_text("x = 2\n")
    assert app_digest("pkg:app", str(source), "") != first
    assert app_digest("pkg:other", str(source), "") != app_digest("pkg:app", str(source), "")


def test_the_digest_of_a_requirement_and_a_missing_source(tmp_path: Path) -> None:
    assert app_digest("pkg:app", "", "pkg==1.0") != app_digest("pkg:app", "", "pkg==1.1")
    with pytest.raises(PlanError) as exc:
        app_digest("pkg:app", str(tmp_path / "missing"), "")
    assert exc.value.variable == "celery_app_source"


def test_the_ufw_rules_merge_celery_ports_with_ray_s(lab_hosts: Hosts) -> None:
    hosts = celery_hosts(lab_hosts)
    cluster(ray_cluster_admin_sources=["10.9.0.0/24"])(hosts)
    plan = build(hosts)
    merged = multiport_rules(plan["hosts"][BROKER]["firewall"], "ray_cluster")
    admin = [rule for rule in merged if rule["src"] == "10.9.0.0/24"]
    assert len(admin) == 1
    assert "5555" in admin[0]["port"].split(",")
    assert admin[0]["comment"].endswith("celery-flower")


def test_prometheus_scrapes_flower_when_monitoring_is_on(lab_hosts: Hosts) -> None:
    hosts = celery_hosts(lab_hosts)
    cluster(ray_cluster_monitoring=True)(hosts)
    config = yaml.safe_load(prometheus_config(build(hosts)))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["celery_flower"]["static_configs"][0]["targets"] == ["172.28.84.84:5555"]
    cluster(ray_cluster_monitoring=True)(lab_hosts)
    without_flower = yaml.safe_load(prometheus_config(build(lab_hosts, groups={"broker": [BROKER]})))
    assert "celery_flower" not in {job["job_name"] for job in without_flower["scrape_configs"]}
