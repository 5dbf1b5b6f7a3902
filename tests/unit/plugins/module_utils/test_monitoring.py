# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the monitoring plan and its files (_monitoring.py, _monitoring_files.py), its drift and the login's hash."""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
import subprocess

import bcrypt
import pytest
import yaml
from conftest import make_lab_hosts
from planner_cases import HEAD, ErrorCase, Hosts, apply, build, cluster, refusal_test, setting_error

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_monitoring import ray_monitoring_logins
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._drift import monitoring_drift
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring import (
    FILE_SD_JOBS,
    monitoring_health,
    planned_targets,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import (
    alert_rules,
    alertmanager_config,
    monitoring_compose,
    monitoring_files,
    overview_dashboard,
    prometheus_config,
    web_config,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import node_port_ranges
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import (
    bcrypt_hash,
    prometheus_ray_password,
    token_fingerprint,
)

ON = cluster(ray_cluster_monitoring=True)
HASH = "$2b$10$" + "a" * 53
COMMENT = "ray_cluster monitoring"


def monitored(hosts: Hosts, *mutations: object, **kwargs: object) -> dict:
    for mutation in (ON, *mutations):
        mutation(hosts)  # type: ignore[operator]
    return build(hosts, **kwargs)


# --------------------------------------------------------------------------- refusals

MONITORING_ERRORS: list[ErrorCase] = [
    setting_error("switch-not-boolean", "ray_cluster_monitoring", "maybe"),
    setting_error("scrape-interval", "ray_cluster_monitoring_scrape_interval", "15 seconds"),
    setting_error("alert-for-zero", "ray_cluster_monitoring_alert_for", "0s"),
    setting_error("group-interval", "ray_cluster_alertmanager_group_interval", "soon"),
    setting_error("retention-time", "ray_cluster_monitoring_retention_time", 15),
    setting_error("retention-size", "ray_cluster_monitoring_retention_size", "lots"),
    setting_error("webhook-not-a-list", "ray_cluster_alertmanager_webhook_urls", "http://hooks.example/x"),
    setting_error("image", "ray_cluster_monitoring_image", "Bad Image"),
    setting_error("password-file-relative", "ray_cluster_monitoring_password_file", "etc/pw"),
    setting_error("prometheus-port", "ray_cluster_prometheus_port", 70000),
    setting_error("grafana-not-boolean", "ray_cluster_grafana", "yes please"),
    setting_error("grafana-image", "ray_cluster_grafana_image", "grafana/grafana oss"),
    setting_error("grafana-port", "ray_cluster_grafana_port", 0),
]
test_monitoring_refusals = refusal_test(MONITORING_ERRORS)


@pytest.mark.parametrize(
    "image",
    [
        "wizardsofts/ray-monitoring:1.0",
        "172.28.84.5:5000/wizardsofts/ray-monitoring:2.53.3-0.28.1-1.9.0",
        "Registry.Example:443/team/monitoring",
        "registry.example/monitoring@sha256:" + "0" * 64,
    ],
)
def test_monitoring_images_with_a_registry_port_tag_or_digest_are_taken(lab_hosts: Hosts, image: str) -> None:
    assert monitored(lab_hosts, cluster(ray_cluster_monitoring_image=image))["cluster"]["monitoring"]["image"] == image


@pytest.mark.parametrize("size", ["0", "100k", "63m"])
def test_a_retention_size_prometheus_would_round_to_no_limit_is_refused(lab_hosts: Hosts, size: str) -> None:
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, cluster(ray_cluster_monitoring_retention_size=size))
    assert exc.value.variable == "ray_cluster_monitoring_retention_size"
    assert "at least 64m" in str(exc.value)
    # Without monitoring the value is not used.
    lab_hosts_off = {host: {**hvars, "ray_cluster_monitoring": False} for host, hvars in lab_hosts.items()}
    assert build(lab_hosts_off)["cluster"]["monitoring"] == {}


@pytest.mark.parametrize("url", ["ftp://hooks.example/x", "hooks.example/x", "http://", "http://a b/"])
def test_a_webhook_that_is_no_http_url_is_refused(lab_hosts: Hosts, url: str) -> None:
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, cluster(ray_cluster_alertmanager_webhook_urls=[url]))
    assert exc.value.variable == "ray_cluster_alertmanager_webhook_urls"
    assert url in str(exc.value)


def test_monitoring_ports_are_fixed_only_while_monitoring_is_on(lab_hosts: Hosts) -> None:
    # 9100 inside the node blocks: fine without monitoring, refused with it.
    low = cluster(ray_cluster_port_base=9000)
    apply(low, lab_hosts)
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, low)
    assert exc.value.variable == "ray_cluster_port_base"
    assert "ray_cluster_prometheus_port=9090" in str(exc.value)
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, cluster(ray_cluster_alertmanager_port=8265))
    assert "the same port as ray_cluster_dashboard_port" in str(exc.value)


def test_the_monitoring_host_is_one_cluster_host(lab_hosts: Hosts) -> None:
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, monitoring_hosts=["lab-80", "lab-81"])
    assert (exc.value.variable, "at most one host") == ("groups.ray_monitoring", "at most one host")
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, monitoring_hosts=["grafana-box"], monitoring_group="metrics")
    assert exc.value.host == "grafana-box"
    assert exc.value.variable == "groups.metrics"
    assert "must be a cluster host" in str(exc.value)


# --------------------------------------------------------------------------- the plan


def test_without_monitoring_nothing_is_planned_and_no_one_reaches_the_metrics_ports(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    assert plan["cluster"]["monitoring"] == {}
    for host, hplan in plan["hosts"].items():
        assert hplan["docker_metrics_address"] == ""
        assert all(rule["comment"] != COMMENT for rule in hplan["firewall"])
        metrics = {str(node["ports"]["metrics_export"]) for node in hplan["nodes"]}
        opened = {rule["port"] for rule in hplan["firewall"]}
        assert not metrics & opened, host
    assert monitoring_files(plan, HEAD, HASH) == {}


def test_the_monitoring_host_defaults_to_the_head_and_follows_its_group(lab_hosts: Hosts) -> None:
    assert monitored(lab_hosts)["cluster"]["monitoring"]["host"] == HEAD
    plan = build(lab_hosts, monitoring_hosts=["lab-81"])
    monitoring = plan["cluster"]["monitoring"]
    assert (monitoring["host"], monitoring["ip"]) == ("lab-81", plan["hosts"]["lab-81"]["node_ip"])
    assert monitoring["prometheus_url"] == f"http://{monitoring['ip']}:9090"
    assert monitoring["retention_size"] == "10240MB"


def test_metrics_ports_are_open_to_the_monitoring_host_only_and_the_web_ports_to_the_admins(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts, cluster(ray_cluster_admin_sources=["10.9.0.0/16"]), monitoring_hosts=["lab-81"])
    scraper = plan["hosts"]["lab-81"]["node_ip"]
    head_ip = plan["cluster"]["head_ip"]
    for host, hplan in plan["hosts"].items():
        rules = [(r["port"], r["src"]) for r in hplan["firewall"] if r["comment"] == COMMENT]
        scraped = {str(node["ports"]["metrics_export"]) for node in hplan["nodes"]} | {"9100", "9323"}
        if host == "lab-81":
            # The monitoring host reaches itself on loopback: no rule; its web ports to the admins (and the head).
            assert sorted(rules) == sorted([("9090", "10.9.0.0/16"), ("9090", head_ip), ("9093", "10.9.0.0/16")])
        else:
            assert sorted(rules) == sorted((port, scraper) for port in scraped), host
        assert hplan["docker_metrics_address"] == f"{hplan['node_ip']}:9323"


@pytest.mark.parametrize(
    ("metrics", "node_range", "expected"),
    [
        ([20005], (20000, 20099), ["20000:20004", "20006:20099"]),
        ([20005, 20105], (20000, 20199), ["20000:20004", "20006:20104", "20106:20199"]),
        ([20000], (20000, 20001), ["20001"]),
        ([20001], (20000, 20001), ["20000"]),
        ([], None, []),
    ],
)
def test_node_port_ranges_leave_out_the_metrics_ports(metrics: list[int], node_range: tuple, expected: list[str]) -> None:
    nodes = [{"ports": {"metrics_export": port}} for port in metrics]
    assert node_port_ranges(nodes, node_range) == expected


def test_targets_cover_every_planned_node_with_its_labels(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    files = monitoring_files(plan, HEAD, HASH)
    config = plan["cluster"]["monitoring"]["config_dir"]
    jobs = {job: json.loads(files[f"{config}/targets/{job}.json"]) for job in FILE_SD_JOBS}
    nodes = {(g["labels"]["host"], g["labels"]["node"]): g for g in jobs["ray_node"]}
    assert set(nodes) == {(n["host"], n["name"]) for n in plan["expected_nodes"]}
    for host, hplan in plan["hosts"].items():
        for node in hplan["nodes"]:
            group = nodes[(host, node["name"])]
            assert group["targets"] == [f"{hplan['node_ip']}:{node['ports']['metrics_export']}"]
            assert group["labels"]["role"] == node["role"]
            assert group["labels"]["worker_id"] == str(node.get("worker_id") or "")
            assert group["labels"]["cluster"] == group["labels"]["ray_io_cluster"] == "ray"
    assert {g["labels"]["component"] for g in jobs["ray_head"]} == {"autoscaler", "dashboard"}
    assert {g["labels"]["host"] for g in jobs["node_exporter"]} == set(plan["hosts"])
    assert {g["targets"][0] for g in jobs["docker_engine"]} == {h["docker_metrics_address"] for h in plan["hosts"].values()}


def test_one_more_worker_changes_the_target_file_and_nothing_else_of_prometheus(lab_hosts: Hosts) -> None:
    before = monitoring_files(monitored(lab_hosts), HEAD, HASH)
    lab_hosts["lab-82"]["ray_worker_count"] = 2
    after = monitoring_files(build(lab_hosts), HEAD, HASH)
    changed = {path for path in before if before[path] != after[path]}
    # The rule file knows the planned node count (the cluster-not-whole alert).
    assert {path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1] for path in changed} == {
        "targets/ray_node.json",
        "rules/ray_cluster.yml",
    }


def test_files_are_identical_for_the_same_plan_and_only_the_monitoring_host_gets_the_stack(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    assert monitoring_files(plan, HEAD, HASH) == monitoring_files(monitored(lab_hosts), HEAD, HASH)
    worker = monitoring_files(plan, "lab-80", HASH)
    assert list(worker) == [plan["cluster"]["monitoring"]["exporters_project"]["file"]]
    compose = yaml.safe_load(worker[plan["cluster"]["monitoring"]["exporters_project"]["file"]])
    exporter = compose["services"]["ray-node-exporter"]
    assert f"--web.listen-address={plan['hosts']['lab-80']['node_ip']}:9100" in exporter["command"]
    # Every $ doubled for compose (one regex anchor).
    assert "($$|/)" in worker[plan["cluster"]["monitoring"]["exporters_project"]["file"]]


def test_the_stack_listens_on_the_node_address_with_the_login_and_bounded_retention(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts, cluster(ray_cluster_monitoring_retention_size="2g", ray_cluster_monitoring_retention_time="7d"))
    monitoring = plan["cluster"]["monitoring"]
    compose = yaml.safe_load(monitoring_files(plan, HEAD, HASH)[monitoring["project"]["file"]])
    prometheus = compose["services"]["ray-prometheus"]["command"]
    alertmanager = compose["services"]["ray-alertmanager"]["command"]
    assert f"--web.listen-address={monitoring['ip']}:9090" in prometheus
    assert "--storage.tsdb.retention.size=2048MB" in prometheus
    assert "--storage.tsdb.retention.time=7d" in prometheus
    assert f"--web.listen-address={monitoring['ip']}:9093" in alertmanager
    assert "--cluster.listen-address=" in alertmanager
    for command in (prometheus, alertmanager):
        assert "--web.config.file=/etc/ray-monitoring/web.yml" in command
    assert set(compose["volumes"]) == {"prometheus-data", "alertmanager-data"}


def test_prometheus_reads_the_password_from_a_file_and_alertmanager_gets_the_webhooks(lab_hosts: Hosts) -> None:
    plan = monitored(
        lab_hosts,
        cluster(
            ray_cluster_alertmanager_webhook_urls=["https://hooks.example/ray"], ray_cluster_alertmanager_group_interval="20s"
        ),
    )
    config = yaml.safe_load(prometheus_config(plan))
    assert config["alerting"]["alertmanagers"][0]["basic_auth"] == {
        "username": "admin",
        "password_file": "/run/secrets/monitoring-password",
    }
    assert [job["job_name"] for job in config["scrape_configs"]] == [*FILE_SD_JOBS, "prometheus", "alertmanager"]
    alertmanager = yaml.safe_load(alertmanager_config(plan))
    assert alertmanager["receivers"] == [
        {"name": "ray_cluster", "webhook_configs": [{"url": "https://hooks.example/ray", "send_resolved": True}]}
    ]
    assert alertmanager["route"]["group_by"] == ["cluster", "host"]
    assert (alertmanager["route"]["group_wait"], alertmanager["route"]["group_interval"]) == ("10s", "20s")
    assert yaml.safe_load(alertmanager_config(monitored(make_lab_hosts())))["route"]["group_interval"] == "1m"
    host_down, not_whole = alertmanager["inhibit_rules"]
    assert host_down["source_matchers"] == ["alertname=RayHostDown"] and host_down["equal"] == ["cluster", "host"]
    assert not_whole["target_matchers"] == ["alertname=RayClusterNotWhole"] and not_whole["equal"] == ["cluster"]


def test_rules_carry_the_planned_node_count_and_the_alert_window(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts, cluster(ray_cluster_monitoring_alert_for="45s"))
    rules = {rule["alert"]: rule for rule in yaml.safe_load(alert_rules(plan))["groups"][0]["rules"]}
    assert set(rules) == {
        "RayHeadDown", "RayNodeMissing", "RayClusterNotWhole", "RayHostDown", "ScrapeTargetDown",
        "RayObjectStoreNearFull", "RayObjectsSpilling", "HostMemoryPressure", "HostDiskPressure",
    }  # fmt: skip
    assert f"< {len(plan['expected_nodes'])} unless" in rules["RayClusterNotWhole"]["expr"]
    # What a server that is down causes is not alerted while its node exporter is down (the
    # promtool tests in tests/lab prove the behaviour).
    for name in ("RayHeadDown", "RayNodeMissing", "ScrapeTargetDown"):
        assert rules[name]["expr"].endswith('unless on (cluster, host) up{job="node_exporter"} == 0'), name
    # Every alert keeps the cluster label (Alertmanager groups and inhibits by it).
    assert "sum by (cluster)" in rules["RayClusterNotWhole"]["expr"]
    assert {rule["for"] for rule in rules.values()} == {"45s"}


def test_web_config_takes_hashes_never_a_password(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    assert yaml.safe_load(web_config(plan, HASH))["basic_auth_users"] == {"admin": HASH}
    ray_hash = "$2b$10$" + "b" * 53
    assert yaml.safe_load(web_config(plan, HASH, ray_hash))["basic_auth_users"] == {"admin": HASH, "ray": ray_hash}
    with pytest.raises(ValueError, match="bcrypt hash"):
        web_config(plan, "plain-password")
    with pytest.raises(ValueError, match="bcrypt hash"):
        web_config(plan, HASH, "plain-password")


def test_without_a_cluster_token_ray_has_no_login_of_its_own(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts, cluster(ray_cluster_auth_mode="disabled"))
    assert plan["cluster"]["monitoring"]["ray_user"] == ""
    assert yaml.safe_load(web_config(plan, HASH, "$2b$10$" + "b" * 53))["basic_auth_users"] == {"admin": HASH}
    head = yaml.safe_load(compose_content(plan, HEAD, "head"))["services"]["ray-head"]
    assert "entrypoint" not in head
    assert head["environment"]["RAY_PROMETHEUS_HOST"] == plan["cluster"]["monitoring"]["prometheus_url"]


def test_ray_dashboard_is_wired_to_prometheus_and_logs_in_with_a_password_derived_from_the_token(
    lab_hosts: Hosts, tmp_path: pathlib.Path
) -> None:
    plan = monitored(lab_hosts, cluster(ray_cluster_grafana=True), monitoring_hosts=["lab-81"])
    monitoring = plan["cluster"]["monitoring"]
    head = yaml.safe_load(compose_content(plan, HEAD, "head", "f" * 64))["services"]["ray-head"]
    env = head["environment"]
    assert env["RAY_PROMETHEUS_HOST"] == monitoring["prometheus_url"]
    assert env["RAY_GRAFANA_HOST"] == env["RAY_GRAFANA_IFRAME_HOST"] == monitoring["grafana"]["url"]
    assert "RAY_PROMETHEUS_HEADERS" not in env  # a secret: computed by the entrypoint, in no spec
    workers = yaml.safe_load(compose_content(plan, "lab-80", "workers", "f" * 64))["services"]
    assert not any("RAY_PROMETHEUS_HOST" in service["environment"] for service in workers.values())
    # The entrypoint, run by a real shell on a token file, exports the header Ray parses, with the
    # password Python derives; then runs the planned command.
    token = "tok3n-" + "x" * 40
    secret = tmp_path / "token"
    secret.write_text(f"{token}\n")
    script = head["entrypoint"][2].replace("$$", "$").replace("/run/secrets/ray-auth-token", str(secret))
    shell = subprocess.run(
        ["/bin/sh", "-c", script, "ray-start", "/bin/sh", "-c", 'printf %s "$RAY_PROMETHEUS_HEADERS"'],
        capture_output=True,
        text=True,
        check=True,
    )
    header = json.loads(shell.stdout)["Authorization"]
    assert header == "Basic " + base64.b64encode(f"ray:{prometheus_ray_password(token)}".encode()).decode()
    assert token not in shell.stdout
    # Without Grafana, Ray is told there is none (the stored renderings pin a head without monitoring).
    plain = monitored(lab_hosts, cluster(ray_cluster_grafana=False))
    assert (
        yaml.safe_load(compose_content(plain, HEAD, "head", "f" * 64))["services"]["ray-head"]["environment"]["RAY_GRAFANA_HOST"]
        == "DISABLED"
    )


# --------------------------------------------------------------------------- the login's hash


def test_the_bcrypt_hash_is_stable_and_checks_with_bcrypt() -> None:
    first = bcrypt_hash("correct horse battery staple")
    assert first == bcrypt_hash("correct horse battery staple")
    assert first.startswith("$2b$10$")
    assert bcrypt.checkpw(b"correct horse battery staple", first.encode())
    assert not bcrypt.checkpw(b"another password", first.encode())
    assert bcrypt_hash("another password") != first
    with pytest.raises(ValueError, match="no password"):
        bcrypt_hash("")


# --------------------------------------------------------------------------- drift


def _probe(files: dict[str, str], extra: dict[str, str], running: list[str], image: str) -> dict:
    stats = {
        path: {
            "exists": True,
            "type": "file",
            "mode": "0640",
            "owner": "root",
            "group": "9090",
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }
        for path, text in {**files, **extra}.items()
    }
    containers = [{"Name": f"/{name}", "State": {"Running": True, "Status": "running"}} for name in running]
    return {"stats": stats, "docker": {"info": {}, "images": {image: "sha256:" + "1" * 64}, "containers": containers}}


def test_drift_names_each_difference_and_nothing_when_deployed_as_planned(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    monitoring = plan["cluster"]["monitoring"]
    password = {monitoring["password_file"]: "secret\n"}
    secret_sha = hashlib.sha256(b"secret\n").hexdigest()
    files = monitoring_files(plan, HEAD, HASH, password_sha256=secret_sha)
    running = ["ray-node-exporter", "ray-prometheus", "ray-alertmanager"]
    probe = _probe(files, password, running, monitoring["image"])
    assert monitoring_drift(probe, plan, HEAD, HASH, secret_sha) == []
    # Another password: the web login file and the password file differ.
    other = monitoring_drift(probe, plan, HEAD, "$2b$10$" + "b" * 53, hashlib.sha256(b"other\n").hexdigest())
    assert other == [
        f"{monitoring['config_dir']}/web.yml: content differs",
        f"{monitoring['logins_file']}: content differs",
        f"{monitoring['password_file']}: content differs",
    ]
    probe = _probe(files, password, running[:2], monitoring["image"])
    assert monitoring_drift(probe, plan, HEAD, HASH, secret_sha) == ["ray-alertmanager: no container"]
    # A worker host judges its exporter only.
    worker = _probe(monitoring_files(plan, "lab-80", HASH), {}, ["ray-node-exporter"], monitoring["image"])
    assert monitoring_drift(worker, plan, "lab-80", HASH, secret_sha) == []


def test_the_logins_record_on_the_monitoring_host_gives_its_hashes_back_for_the_same_secrets(lab_hosts: Hosts) -> None:
    # What the roles rely on: the record the role writes (a file like any other of the host's, judged the
    # same way) gives back, from the read of the host, the hashes it was written with while the password
    # file's sha256 and the token's fingerprint are those it names; after a rotation of either, nothing.
    plan = monitored(lab_hosts)
    monitoring = plan["cluster"]["monitoring"]
    sha, fingerprint, ray_hash = hashlib.sha256(b"secret\n").hexdigest(), token_fingerprint("t" * 64), "$2b$10$" + "r" * 53
    files = monitoring_files(plan, HEAD, HASH, ray_hash, "", sha, fingerprint)
    record = files[monitoring["logins_file"]]
    assert monitoring["logins_file"] == f"{monitoring['config_dir']}/logins.json"
    assert monitoring["logins_file"] not in monitoring_files(plan, "lab-80", HASH)
    assert ray_monitoring_logins(record, sha, fingerprint) == {
        "password_hash": HASH,
        "ray_password_hash": ray_hash,
        "password_sha256": sha,
    }
    assert ray_monitoring_logins(record, sha, token_fingerprint("u" * 64)) is None
    assert ray_monitoring_logins(record, hashlib.sha256(b"other\n").hexdigest(), fingerprint) is None
    # A token rotated: the record differs from what the role would write now, so the judgement names it.
    running = ["ray-node-exporter", "ray-prometheus", "ray-alertmanager"]
    probe = _probe(files, {monitoring["password_file"]: "secret\n"}, running, monitoring["image"])
    assert monitoring_drift(probe, plan, HEAD, HASH, sha, "", ray_hash, "", fingerprint) == []
    assert monitoring_drift(probe, plan, HEAD, HASH, sha, "", ray_hash, "", token_fingerprint("u" * 64)) == [
        f"{monitoring['logins_file']}: content differs"
    ]


def test_drift_is_empty_without_monitoring(lab_hosts: Hosts) -> None:
    assert monitoring_drift({}, build(lab_hosts), HEAD, HASH, "") == []


# --------------------------------------------------------------------------- health


def _targets(plan: dict, down: set[str], extra: list[tuple[str, str]] = ()) -> dict:
    active = [
        {"labels": {"job": job, "instance": address}, "health": "down" if address in down else "up"}
        for job, address in sorted(planned_targets(plan)) + list(extra)
    ]
    return {"status": "success", "data": {"activeTargets": active}}


def test_health_counts_the_planned_targets_and_names_what_is_down_and_firing(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    planned = len(planned_targets(plan))
    assert planned == 11 + 2 + 4 + 4 + 2
    healthy = monitoring_health(plan, _targets(plan, set()), [])
    assert healthy["summary"] == f"monitoring on {HEAD}: {planned} of {planned} planned targets up; alerts firing: none"
    worker = plan["hosts"]["lab-82"]
    address = f"{worker['node_ip']}:{worker['nodes'][0]['ports']['metrics_export']}"
    alerts = [{"labels": {"alertname": "RayNodeMissing", "host": "lab-82"}}]
    sick = monitoring_health(plan, _targets(plan, {address}, [("ray_node", "10.0.0.1:1")]), alerts)
    assert (sick["up"], sick["down"], sick["unplanned"], sick["firing"]) == (
        planned - 1,
        [f"ray_node {address}"],
        ["ray_node 10.0.0.1:1"],
        ["RayNodeMissing lab-82"],
    )
    assert sick["summary"].endswith("alerts firing: RayNodeMissing lab-82")
    silent = monitoring_health(plan, None, None)
    assert silent["summary"].endswith(f"Prometheus does not answer at {plan['cluster']['monitoring']['prometheus_url']}")
    assert silent["up"] == 0 and len(silent["down"]) == planned
    assert monitoring_health(plan, _targets(plan, set()), None)["summary"].endswith("Alertmanager does not answer")


# --------------------------------------------------------------------------- Grafana and the dashboards


def test_grafana_is_off_by_default_and_its_port_is_fixed_only_while_it_is_on(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    assert plan["cluster"]["monitoring"]["grafana"] == {}
    assert "ray-grafana" not in monitoring_compose(plan)
    assert not [path for path in monitoring_files(plan, HEAD, HASH) if "/provisioning/" in path]
    # 3000 taken by Prometheus: fine while Grafana is off, refused naming both when it is on.
    monitored(lab_hosts, cluster(ray_cluster_prometheus_port=3000))
    with pytest.raises(PlanError) as exc:
        monitored(lab_hosts, cluster(ray_cluster_prometheus_port=3000, ray_cluster_grafana=True))
    assert exc.value.variable == "ray_cluster_grafana_port"
    assert "the same port as ray_cluster_prometheus_port" in str(exc.value)


def test_grafana_gets_the_datasource_the_dashboards_and_the_admins_and_the_head_reach_it(lab_hosts: Hosts) -> None:
    plan = monitored(
        lab_hosts, cluster(ray_cluster_grafana=True, ray_cluster_admin_sources=["10.9.0.0/16"]), monitoring_hosts=["lab-81"]
    )
    monitoring = plan["cluster"]["monitoring"]
    assert monitoring["grafana"]["url"] == f"http://{monitoring['ip']}:3000"
    assert "ray-grafana" in monitoring["project"]["services"]
    rules = [(r["port"], r["src"]) for r in plan["hosts"]["lab-81"]["firewall"] if r["port"] == "3000"]
    assert sorted(rules) == sorted([("3000", "10.9.0.0/16"), ("3000", plan["cluster"]["head_ip"])])
    files = monitoring_files(plan, "lab-81", HASH)
    config = monitoring["config_dir"]
    datasource = yaml.safe_load(files[f"{config}/grafana/provisioning/datasources/ray_cluster.yml"])["datasources"][0]
    assert (datasource["url"], datasource["basicAuthUser"]) == (monitoring["prometheus_url"], "admin")
    # The password is read from the mounted file by Grafana itself: never in the rendered files.
    assert datasource["secureJsonData"]["basicAuthPassword"] == "$__file{/run/secrets/monitoring-password}"
    provider = yaml.safe_load(files[f"{config}/grafana/provisioning/dashboards/ray_cluster.yml"])["providers"][0]
    assert provider["allowUiUpdates"] is False
    grafana = yaml.safe_load(monitoring_compose(plan))["services"]["ray-grafana"]
    assert grafana["environment"]["GF_SERVER_HTTP_ADDR"] == monitoring["ip"]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert f"{monitoring['dashboards']['dir']}:/var/lib/ray-cluster-dashboards:ro" in grafana["volumes"]
    # A new datasource (here: another Prometheus port) changes the container's spec (Grafana reads it at start).
    moved = monitored(lab_hosts, cluster(ray_cluster_grafana=True, ray_cluster_prometheus_port=9095), monitoring_hosts=["lab-81"])
    label = "com.wizardsofts.datasource-sha256"
    assert yaml.safe_load(monitoring_compose(moved))["services"]["ray-grafana"]["labels"][label] != grafana["labels"][label]


def test_the_dashboards_are_written_with_or_without_grafana_and_stamped_with_the_ray_image(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    dashboards = plan["cluster"]["monitoring"]["dashboards"]
    files = monitoring_files(plan, HEAD, HASH)
    assert files[dashboards["ray_stamp"]] == plan["cluster"]["image"] + "\n"
    assert f"{dashboards['dir']}/ray_cluster_overview.json" in files
    assert dashboards["ray_stamp"].startswith(dashboards["ray_dir"] + "/")
    # Another Ray image: another stamp (the role generates Ray's dashboards again).
    other = monitored(lab_hosts, cluster(ray_cluster_image="wizardsofts/ray:9.9.9"))
    assert monitoring_files(other, HEAD, HASH)[dashboards["ray_stamp"]] != files[dashboards["ray_stamp"]]


def test_the_overview_has_a_per_node_series_for_cpu_memory_and_object_store(lab_hosts: Hosts) -> None:
    plan = monitored(lab_hosts)
    dashboard = json.loads(overview_dashboard(plan))
    targets = [target for panel in dashboard["panels"] for target in panel["targets"]]
    per_node = [target["expr"] for target in targets if "{{node}}" in target["legendFormat"]]
    assert len(per_node) == 3
    assert all("by (host, node)" in expr for expr in per_node)
    # Every query is about this cluster only, and every panel asks the dashboard's datasource.
    assert all('cluster="ray"' in target["expr"] for target in targets)
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {"${datasource}"}
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    assert overview_dashboard(plan) == overview_dashboard(monitored(lab_hosts))
