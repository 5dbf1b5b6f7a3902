# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The monitoring plan rendered: the files the ray_monitoring role writes, path -> text.

Private to the collection (no compatibility promise). Pure mappings from the plan (``cluster`` and
``cluster.monitoring``): no number is computed here. The same plan always gives byte-identical
text, so a rerun with no change rewrites nothing. The web login's password never reaches this
module: only its bcrypt hash (``web.yml``); Prometheus reads the password from a file.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import (
    MANAGED_HEADER,
    logging_options,
    stack_service,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import address_port
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._log_files import (
    log_files,
    receiver_service,
    shipper_service,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring import (
    ALERTMANAGER_CONTAINER,
    DASHBOARDS_DIR,
    FILE_SD_JOBS,
    NODE_EXPORTER_CONTAINER,
    NODE_EXPORTER_JOB,
    PROMETHEUS_CONTAINER,
    RAY_NODE_JOB,
    scrape_targets,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import login_record_text
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._yaml import to_yaml

# Inside the containers: the configuration directory (the host's, mounted read-only) and the data.
CONFIG_PATH = "/etc/ray-monitoring"
PASSWORD_PATH = "/run/secrets/monitoring-password"  # noqa: S105 (a path, not a secret)
PROMETHEUS_DATA = "/prometheus"
ALERTMANAGER_DATA = "/alertmanager"
# Relative to the configuration directory.
PROMETHEUS_FILE = "prometheus.yml"
RULES_FILE = "rules/ray_cluster.yml"
# The scrape job of Flower's metrics, with Celery and a Flower host.
CELERY_FLOWER_JOB = "celery_flower"
ALERTMANAGER_FILE = "alertmanager.yml"
WEB_FILE = "web.yml"
TARGETS_DIR = "targets"
GRAFANA_DATASOURCES_FILE = "grafana/provisioning/datasources/ray_cluster.yml"
GRAFANA_DASHBOARDS_FILE = "grafana/provisioning/dashboards/ray_cluster.yml"
OVERVIEW_FILE = f"{DASHBOARDS_DIR}/ray_cluster_overview.json"
# Inside the Grafana container.
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
GRAFANA_DASHBOARDS = "/var/lib/ray-cluster-dashboards"
GRAFANA_DATA = "/var/lib/grafana"
# A core Ray metric every node exports (the lab test looks for one series per planned node).
RAY_NODE_METRIC = "ray_object_store_available_memory"
# Alert thresholds.
OBJECT_STORE_FULL_SHARE = 0.9
HOST_MEMORY_AVAILABLE_MIN = 0.1
HOST_DISK_AVAILABLE_MIN = 0.1


def _yaml(value: Any) -> str:
    return f"{MANAGED_HEADER}{to_yaml(value)}\n"


def _basic_auth(monitoring: dict[str, Any]) -> dict[str, str]:
    return {"username": monitoring["user"], "password_file": PASSWORD_PATH}


def prometheus_config(plan: dict[str, Any]) -> str:
    """prometheus.yml: the scrape jobs (each from its file_sd file), the rules and Alertmanager."""
    cluster, monitoring = plan["cluster"], plan["cluster"]["monitoring"]
    scrape_configs: list[dict[str, Any]] = [
        {
            "job_name": job,
            "file_sd_configs": [{"files": [f"{CONFIG_PATH}/{TARGETS_DIR}/{job}.json"]}],
        }
        for job in FILE_SD_JOBS
    ]
    for job, address in (("prometheus", monitoring["prometheus_address"]), ("alertmanager", monitoring["alertmanager_address"])):
        scrape_configs.append(
            {
                "job_name": job,
                "basic_auth": _basic_auth(monitoring),
                "static_configs": [{"targets": [address], "labels": {"cluster": cluster["name"], "host": monitoring["host"]}}],
            }
        )
    flower = (cluster.get("celery") or {}).get("flower")
    if flower:
        # Flower's Prometheus metrics (the Celery workers, tasks and queues as Flower sees them): Flower serves
        # them without its login; the plan's firewall opens its port to the admin sources and this host only.
        scrape_configs.append(
            {
                "job_name": CELERY_FLOWER_JOB,
                "static_configs": [
                    {
                        "targets": [address_port(flower["ip"], flower["port"])],
                        "labels": {"cluster": cluster["name"], "host": flower["host"]},
                    }
                ],
            }
        )
    config = {
        "global": {
            "scrape_interval": monitoring["scrape_interval"],
            "evaluation_interval": monitoring["scrape_interval"],
            "external_labels": {"ray_cluster": cluster["name"]},
        },
        "alerting": {
            "alertmanagers": [
                {"basic_auth": _basic_auth(monitoring), "static_configs": [{"targets": [monitoring["alertmanager_address"]]}]}
            ]
        },
        "rule_files": [f"{CONFIG_PATH}/{RULES_FILE}"],
        "scrape_configs": scrape_configs,
    }
    return _yaml(config)


def _rule(name: str, expr: str, severity: str, summary: str, for_: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_:
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary}
    return rule


def alert_rules(plan: dict[str, Any]) -> str:
    """The alert rules: what an operator must know, with the plan's node count and the ``for`` window."""
    cluster, monitoring = plan["cluster"], plan["cluster"]["monitoring"]
    wait = monitoring["alert_for"]
    expected = len(plan["expected_nodes"])
    # A server that is down says so once (RayHostDown): the alerts its outage causes are not true
    # while it is down, so they never fire, whichever scrape failed first. Alertmanager's inhibitions
    # say the same for notifications; this makes it hold without a race against the group wait.
    host_down = f'up{{job="{NODE_EXPORTER_JOB}"}} == 0'
    host_up = f" unless on (cluster, host) {host_down}"
    rules = [
        _rule(
            "RayHeadDown",
            f'up{{job="{RAY_NODE_JOB}",role="head"}} == 0{host_up}',
            "critical",
            "The Ray head {{ $labels.node }} on {{ $labels.host }} does not answer: the cluster has no head",
            wait,
        ),
        _rule(
            "RayNodeMissing",
            f'up{{job="{RAY_NODE_JOB}",role="worker"}} == 0{host_up}',
            "warning",
            "Ray worker {{ $labels.node }} on {{ $labels.host }} is planned but does not answer",
            wait,
        ),
        _rule(
            "RayClusterNotWhole",
            # Ray's own count of the nodes alive (the GCS's); none when the head is gone (counted as 0).
            f'(sum by (cluster) (ray_cluster_active_nodes{{cluster="{cluster["name"]}"}})'
            f' or on () label_replace(vector(0), "cluster", "{cluster["name"]}", "", "")) < {expected}'
            f' unless on (cluster) ({host_down} or up{{job="{RAY_NODE_JOB}",role="head"}} == 0)',
            "warning",
            f"{{{{ $value }}}} of the {expected} planned Ray nodes are alive in the cluster",
            wait,
        ),
        _rule(
            "RayHostDown",
            host_down,
            "critical",
            "Server {{ $labels.host }} does not answer (its node exporter is down): its Ray nodes are out too",
            wait,
        ),
        _rule(
            "ScrapeTargetDown",
            f'up{{job!~"{RAY_NODE_JOB}|{NODE_EXPORTER_JOB}"}} == 0{host_up}',
            "warning",
            "{{ $labels.job }} target {{ $labels.instance }} on {{ $labels.host }} does not answer",
            wait,
        ),
        _rule(
            "RayObjectStoreNearFull",
            "ray_object_store_used_memory / (ray_object_store_used_memory + ray_object_store_available_memory)"
            f" > {OBJECT_STORE_FULL_SHARE}",
            "warning",
            "The object store of {{ $labels.node }} on {{ $labels.host }} is {{ $value | humanizePercentage }} full",
            wait,
        ),
        _rule(
            "RayObjectsSpilling",
            'ray_spill_manager_objects_bytes{State="Spilled"} > 0',
            "info",
            "{{ $labels.node }} on {{ $labels.host }} has {{ $value | humanize1024 }}B of objects spilled to disk"
            " (its object store is too small for the work)",
            wait,
        ),
        _rule(
            "HostMemoryPressure",
            f"node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < {HOST_MEMORY_AVAILABLE_MIN}",
            "warning",
            "Server {{ $labels.host }} has {{ $value | humanizePercentage }} of its memory available",
            wait,
        ),
        _rule(
            "HostDiskPressure",
            'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs",mountpoint="/"}'
            ' / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs",mountpoint="/"}'
            f" < {HOST_DISK_AVAILABLE_MIN}",
            "warning",
            "Server {{ $labels.host }} has {{ $value | humanizePercentage }} of its root filesystem free",
            wait,
        ),
    ]
    return _yaml({"groups": [{"name": f"ray_cluster_{cluster['name']}", "rules": rules}]})


def alertmanager_config(plan: dict[str, Any]) -> str:
    """alertmanager.yml: one route grouped by server, the webhook receivers, and inhibitions so that a
    server that is down pages once (its node alerts and scrape failures are held back)."""
    monitoring = plan["cluster"]["monitoring"]
    receiver: dict[str, Any] = {"name": "ray_cluster"}
    if monitoring["webhook_urls"]:
        receiver["webhook_configs"] = [{"url": url, "send_resolved": True} for url in monitoring["webhook_urls"]]
    config = {
        "route": {
            "receiver": "ray_cluster",
            "group_by": ["cluster", "host"],
            "group_wait": "10s",
            "group_interval": monitoring["group_interval"],
            "repeat_interval": "4h",
        },
        "receivers": [receiver],
        "inhibit_rules": [
            {
                "source_matchers": ["alertname=RayHostDown"],
                "target_matchers": ['alertname=~"RayNodeMissing|RayHeadDown|ScrapeTargetDown"'],
                "equal": ["cluster", "host"],
            },
            # The cluster is not whole because of a server or the head that is down: that alert says it.
            {
                "source_matchers": ['alertname=~"RayHostDown|RayHeadDown"'],
                "target_matchers": ["alertname=RayClusterNotWhole"],
                "equal": ["cluster"],
            },
        ],
    }
    return _yaml(config)


def web_config(plan: dict[str, Any], password_hash: str, ray_password_hash: str = "") -> str:
    """web.yml of Prometheus and Alertmanager: basic auth, the admin user (the bcrypt hash of the
    monitoring password) and, with a cluster token, Ray's dashboard's user (the hash of the password
    derived from the token). Hashes only, never a password."""
    monitoring = plan["cluster"]["monitoring"]
    users = {monitoring["user"]: password_hash}
    if monitoring["ray_user"] and ray_password_hash:
        users[monitoring["ray_user"]] = ray_password_hash
    if not all(str(value).startswith("$2") for value in users.values()):
        raise ValueError("expected the bcrypt hash of the monitoring password (never the password)")
    return _yaml({"basic_auth_users": users})


def target_files(plan: dict[str, Any]) -> dict[str, str]:
    """The file_sd files, relative path -> JSON (sorted, one group per line for readable diffs)."""
    files = {}
    for job, groups in scrape_targets(plan).items():
        lines = ",\n".join("  " + json.dumps(group, sort_keys=True) for group in groups)
        files[f"{TARGETS_DIR}/{job}.json"] = f"[\n{lines}\n]\n" if lines else "[]\n"
    return files


def _panel(title: str, unit: str, targets: list[tuple[str, str]], grid: tuple[int, int, int, int]) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + index), "expr": expr, "legendFormat": legend} for index, (expr, legend) in enumerate(targets)
        ],
    }


def overview_dashboard(plan: dict[str, Any]) -> str:
    """The cluster overview dashboard (Grafana JSON): Ray nodes answering per server against the plan,
    Ray's own count, and CPU, memory and object store per node. A target whose legend names
    ``{{node}}`` has one series per planned node (the lab test checks it against the real Prometheus)."""
    cluster = plan["cluster"]
    name = cluster["name"]
    only = f'cluster="{name}"'
    nodes = f'{{job="{RAY_NODE_JOB}",{only}}}'
    per_node = "{{host}} {{node}}"

    def by_node(metric: str, how: str = "max") -> str:
        return f"{how} by (host, node) ({metric}{{{only}}})"

    panels = [
        _panel(
            "Ray nodes answering per server, of the planned",
            "short",
            [(f"sum by (host) (up{nodes})", "{{host}} answering"), (f"count by (host) (up{nodes})", "{{host}} planned")],
            (0, 0, 12, 8),
        ),
        _panel(
            "Ray nodes alive in the cluster (Ray's count), of the planned",
            "short",
            [
                (f"sum(ray_cluster_active_nodes{{{only}}})", "alive"),
                (f"count(up{nodes})", "planned"),
            ],
            (12, 0, 12, 8),
        ),
        _panel("CPU per node", "percent", [(by_node("ray_node_cpu_utilization", "avg"), per_node)], (0, 8, 12, 8)),
        _panel(
            "Memory used per node (of its container's limit)",
            "percentunit",
            [(f"{by_node('ray_node_cgroup_mem_used')} / {by_node('ray_node_cgroup_mem_total')}", per_node)],
            (12, 8, 12, 8),
        ),
        _panel(
            "Object store used per node",
            "percentunit",
            [
                (
                    f"{by_node('ray_object_store_used_memory', 'sum')} / ({by_node('ray_object_store_used_memory', 'sum')}"
                    f" + {by_node('ray_object_store_available_memory', 'sum')})",
                    per_node,
                )
            ],
            (0, 16, 12, 8),
        ),
        _panel(
            "Memory available per server",
            "percentunit",
            [(f"node_memory_MemAvailable_bytes{{{only}}} / node_memory_MemTotal_bytes{{{only}}}", "{{host}}")],
            (12, 16, 12, 8),
        ),
    ]
    for number, panel in enumerate(panels, start=1):
        panel["id"] = number
    dashboard = {
        "uid": f"ray-cluster-{name}"[:40],
        "title": f"Ray cluster {name}: overview",
        "tags": ["ray", "ray_cluster"],
        "editable": False,
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "hide": 0}]
        },
        "panels": panels,
    }
    return json.dumps(dashboard, indent=1, sort_keys=True) + "\n"


def grafana_datasources(plan: dict[str, Any]) -> str:
    """Grafana's provisioned datasource: this cluster's Prometheus, with the monitoring login (Grafana
    reads the password from the mounted file when it starts)."""
    monitoring = plan["cluster"]["monitoring"]
    datasource = {
        "name": monitoring["dashboards"]["datasource"],
        "uid": "ray-cluster-prometheus",
        "type": "prometheus",
        "access": "proxy",
        "url": monitoring["prometheus_url"],
        "isDefault": True,
        "editable": False,
        "basicAuth": True,
        "basicAuthUser": monitoring["user"],
        "jsonData": {"timeInterval": monitoring["scrape_interval"]},
        # Grafana's own file expansion (not a shell variable): the secret never enters this file.
        "secureJsonData": {"basicAuthPassword": f"$__file{{{PASSWORD_PATH}}}"},
    }
    return _yaml({"apiVersion": 1, "deleteDatasources": [], "datasources": [datasource]})


def grafana_dashboard_provider(plan: dict[str, Any]) -> str:
    """Grafana's dashboard provider: every dashboard file under the mounted directory, read-only in
    the UI (the next run would overwrite an edit), re-read when a file changes."""
    cluster = plan["cluster"]
    provider = {
        "name": f"ray_cluster_{cluster['name']}",
        "type": "file",
        "folder": f"Ray cluster {cluster['name']}",
        "disableDeletion": True,
        "allowUiUpdates": False,
        "updateIntervalSeconds": 30,
        "options": {"path": GRAFANA_DASHBOARDS, "foldersFromFilesStructure": False},
    }
    return _yaml({"apiVersion": 1, "providers": [provider]})


def _grafana_service(plan: dict[str, Any]) -> dict[str, Any]:
    cluster, monitoring = plan["cluster"], plan["cluster"]["monitoring"]
    grafana, config = monitoring["grafana"], monitoring["config_dir"]
    prefix = cluster["label_prefix"]
    return {
        "image": grafana["image"],
        "container_name": grafana["container"],
        "network_mode": "host",
        "restart": "unless-stopped",
        # The image's user, and the group that may read the configuration and the password file.
        "group_add": [str(monitoring["uid"])],
        "environment": {
            "GF_SERVER_HTTP_ADDR": monitoring["ip"],
            "GF_SERVER_HTTP_PORT": str(grafana["port"]),
            "GF_SERVER_ROOT_URL": f"{grafana['url']}/",
            "GF_SECURITY_ADMIN_USER": monitoring["user"],
            # Read by the image's entrypoint when the database is created (the first start).
            "GF_SECURITY_ADMIN_PASSWORD__FILE": PASSWORD_PATH,
            "GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION": "false",
            "GF_SECURITY_ALLOW_EMBEDDING": "true",  # Ray's dashboard embeds its panels
            "GF_AUTH_ANONYMOUS_ENABLED": "false",
            "GF_USERS_ALLOW_SIGN_UP": "false",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            "GF_PLUGINS_PLUGIN_ADMIN_ENABLED": "false",
            "GF_PATHS_PROVISIONING": GRAFANA_PROVISIONING,
            "GF_PATHS_DATA": GRAFANA_DATA,
        },
        "labels": {
            f"{prefix}.cluster": cluster["name"],
            f"{prefix}.service": grafana["container"],
            # Provisioned datasources are read at start: a new one recreates the container.
            f"{prefix}.datasource-sha256": hashlib.sha256(grafana_datasources(plan).encode()).hexdigest(),
        },
        "logging": logging_options(cluster),
        "stop_grace_period": "30s",
        "volumes": [
            f"{config}/grafana/provisioning:{GRAFANA_PROVISIONING}:ro",
            f"{monitoring['dashboards']['dir']}:{GRAFANA_DASHBOARDS}:ro",
            f"{monitoring['password_file']}:{PASSWORD_PATH}:ro",
            f"grafana-data:{GRAFANA_DATA}",
        ],
    }


def _service(cluster: dict[str, Any], name: str, entrypoint: str, command: list[str], volumes: list[str]) -> dict[str, Any]:
    return stack_service(cluster, name, [entrypoint], command, volumes)


def monitoring_compose(plan: dict[str, Any]) -> str:
    """The monitoring host's compose project: Prometheus and Alertmanager, each listening on the host's
    node address only, basic auth on, data on named volumes. Both read the login's hash (web.yml) on
    each request and Prometheus the password file on each scrape: a new password restarts nothing."""
    cluster, monitoring = plan["cluster"], plan["cluster"]["monitoring"]
    config = monitoring["config_dir"]
    mounts = [f"{config}:{CONFIG_PATH}:ro", f"{monitoring['password_file']}:{PASSWORD_PATH}:ro"]
    prometheus = _service(
        cluster,
        PROMETHEUS_CONTAINER,
        "/usr/bin/prometheus",
        [
            f"--config.file={CONFIG_PATH}/{PROMETHEUS_FILE}",
            f"--web.config.file={CONFIG_PATH}/{WEB_FILE}",
            f"--web.listen-address={monitoring['prometheus_address']}",
            f"--web.external-url={monitoring['prometheus_url']}/",
            "--web.enable-lifecycle",
            f"--storage.tsdb.path={PROMETHEUS_DATA}",
            f"--storage.tsdb.retention.time={monitoring['retention_time']}",
            f"--storage.tsdb.retention.size={monitoring['retention_size']}",
        ],
        [*mounts, f"prometheus-data:{PROMETHEUS_DATA}"],
    )
    alertmanager = _service(
        cluster,
        ALERTMANAGER_CONTAINER,
        "/usr/bin/prometheus-alertmanager",
        [
            f"--config.file={CONFIG_PATH}/{ALERTMANAGER_FILE}",
            f"--web.config.file={CONFIG_PATH}/{WEB_FILE}",
            f"--web.listen-address={monitoring['alertmanager_address']}",
            f"--web.external-url={monitoring['alertmanager_url']}/",
            f"--storage.path={ALERTMANAGER_DATA}",
            # No gossip (one Alertmanager): it would listen on every address.
            "--cluster.listen-address=",
        ],
        [*mounts, f"alertmanager-data:{ALERTMANAGER_DATA}"],
    )
    services = {PROMETHEUS_CONTAINER: prometheus, ALERTMANAGER_CONTAINER: alertmanager}
    volumes: dict[str, Any] = {"prometheus-data": {}, "alertmanager-data": {}}
    what = "Prometheus and Alertmanager"
    if monitoring["grafana"]:
        services[monitoring["grafana"]["container"]] = _grafana_service(plan)
        volumes["grafana-data"] = {}
        what = "Prometheus, Alertmanager and Grafana"
    if monitoring["logs"]:
        services[monitoring["logs"]["receiver"]["container"]] = receiver_service(plan)
        volumes["log-receiver-state"] = {}
        what = what.replace(" and ", ", ") + " and the log receiver"
    body = to_yaml({"name": monitoring["project"]["name"], "services": services, "volumes": volumes})
    return f"{MANAGED_HEADER}# Host {monitoring['host']}: {what} of cluster {cluster['name']}.\n{body}\n"


def exporters_compose(plan: dict[str, Any], host: str) -> str:
    """A host's exporters project: the node exporter, listening on the host's node address only."""
    cluster, monitoring = plan["cluster"], plan["cluster"]["monitoring"]
    ip = plan["hosts"][host]["node_ip"]
    address = f"[{ip}]" if ":" in ip else ip
    exporter = _service(
        cluster,
        NODE_EXPORTER_CONTAINER,
        "/usr/bin/prometheus-node-exporter",
        [
            f"--web.listen-address={address}:{monitoring['node_exporter_port']}",
            "--path.rootfs=/host",
            # $$: compose's escape of $.
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|run|sys|var/lib/docker/.+)($$|/)",
        ],
        ["/:/host:ro"],
    )
    exporter["pid"] = "host"
    exporter["user"] = "root"  # reads the host's files as the host's root (read-only mount)
    project: dict[str, Any] = {"name": monitoring["exporters_project"]["name"], "services": {NODE_EXPORTER_CONTAINER: exporter}}
    what = "the node exporter"
    if monitoring["logs"]:
        project["services"][monitoring["logs"]["shipper"]["container"]] = shipper_service(plan)
        project["volumes"] = {"log-shipper-state": {}}
        what = "the node exporter and the log shipper"
    return f"{MANAGED_HEADER}# Host {host}: {what} of cluster {cluster['name']}.\n{to_yaml(project)}\n"


def monitoring_files(
    plan: dict[str, Any],
    host: str,
    password_hash: str,
    ray_password_hash: str = "",
    receiver_cert: str = "",
    password_sha256: str = "",
    token_fingerprint: str = "",
) -> dict[str, str]:
    """Every file the ray_monitoring role writes on ``host``: absolute path -> text. The monitoring
    host gets the stack's configuration and compose file; every host its exporters' compose file (and,
    with log aggregation, its shipper's files: see :func:`_log_files.log_files`, ``receiver_cert``).
    ``password_hash`` and ``ray_password_hash``: see :func:`web_config`; with ``password_sha256`` (of the
    password file's text) and the token's ``token_fingerprint`` they make the logins' record beside it
    (:func:`_token.login_record_text`)."""
    monitoring = plan["cluster"]["monitoring"]
    if not monitoring:
        return {}
    files = {monitoring["exporters_project"]["file"]: exporters_compose(plan, host)}
    files.update(log_files(plan, host, receiver_cert))
    if host == monitoring["host"]:
        config = monitoring["config_dir"]
        files[monitoring["project"]["file"]] = monitoring_compose(plan)
        files[f"{config}/{PROMETHEUS_FILE}"] = prometheus_config(plan)
        files[f"{config}/{RULES_FILE}"] = alert_rules(plan)
        files[f"{config}/{ALERTMANAGER_FILE}"] = alertmanager_config(plan)
        files[f"{config}/{WEB_FILE}"] = web_config(plan, password_hash, ray_password_hash)
        files[monitoring["logins_file"]] = login_record_text(password_sha256, password_hash, token_fingerprint, ray_password_hash)
        files.update({f"{config}/{path}": text for path, text in target_files(plan).items()})
        files[f"{config}/{OVERVIEW_FILE}"] = overview_dashboard(plan)
        # Written last, once Ray's dashboards are (the role generates them when it differs).
        files[monitoring["dashboards"]["ray_stamp"]] = monitoring["dashboards"]["ray_stamp_text"]
        if monitoring["grafana"]:
            files[f"{config}/{GRAFANA_DATASOURCES_FILE}"] = grafana_datasources(plan)
            files[f"{config}/{GRAFANA_DASHBOARDS_FILE}"] = grafana_dashboard_provider(plan)
    return files
