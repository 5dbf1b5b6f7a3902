# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The plan rendered: the compose projects Docker runs on each host.

Private to the collection (no compatibility promise). Pure mappings from the plan (its
``cluster`` values and one host's nodes) to what Docker runs: no number is computed here, every
one comes from the plan. The same plan always gives byte-identical text.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import (
    gcs_redis_password_sh,
    prometheus_ray_password_sh,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._yaml import to_yaml

MANAGED_HEADER = (
    "# Managed by wizardsofts.ray_cluster (Ansible) from the cluster plan.\n"
    "# Do not edit: the next run overwrites it. Change the inventory instead.\n"
)
# Where the token file is mounted (read-only) inside every Ray container.
AUTH_TOKEN_CONTAINER_PATH = "/run/secrets/ray-auth-token"  # noqa: S105 (a path, not a secret)
GCS_STORAGE_CONTAINER_PATH = "/var/lib/ray-gcs"
# Ray's temporary directory (its session directories, with their logs): the node's log directory on the host.
RAY_TEMP_CONTAINER_PATH = "/tmp/ray"  # noqa: S108 (Ray's own default, inside the container)
# The GCS's Redis: where its data lives in its container.
GCS_REDIS_DATA_PATH = "/data"
KINDS = ("head", "workers")


def _dashboard_host(cluster: dict[str, Any], node_ip: str) -> str:
    return {"node_ip": node_ip, "loopback": "127.0.0.1", "all": "0.0.0.0"}[cluster["dashboard_bind"]]  # noqa: S104


def node_command(node: dict[str, Any], node_ip: str, cluster: dict[str, Any]) -> list[str]:
    """The ``ray start`` argv for one node (``cluster`` is the plan's ``cluster``)."""
    ports = node["ports"]
    argv = ["ray", "start", "--block", "--disable-usage-stats", f"--node-ip-address={node_ip}"]
    if node["role"] == "head":
        argv += [
            "--head",
            f"--port={cluster['gcs_port']}",
            "--include-dashboard=true",
            f"--dashboard-host={_dashboard_host(cluster, node_ip)}",
            f"--dashboard-port={cluster['dashboard_port']}",
            f"--ray-client-server-port={cluster['client_port']}",
        ]
    else:
        argv.append(f"--address={cluster['head_address']}")
    argv += [
        f"--node-manager-port={ports['node_manager']}",
        f"--object-manager-port={ports['object_manager']}",
        f"--runtime-env-agent-port={ports['runtime_env_agent']}",
        f"--dashboard-agent-grpc-port={ports['dashboard_agent_grpc']}",
        f"--dashboard-agent-listen-port={ports['dashboard_agent_http']}",
        f"--metrics-export-port={ports['metrics_export']}",
        f"--min-worker-port={ports['min_worker']}",
        f"--max-worker-port={ports['max_worker']}",
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


def node_environment(node: dict[str, Any], cluster: dict[str, Any]) -> dict[str, str]:
    env = {
        NODE_NAME_ENV: node["name"],
        "RAY_AUTH_MODE": cluster["auth_mode"],
        "RAY_gcs_rpc_server_reconnect_timeout_s": str(cluster["gcs_reconnect_timeout_s"]),
        # Ray's rotation of its log files (every component's and every worker's output).
        "RAY_ROTATION_MAX_BYTES": str(cluster["node_logs"]["file_size"]),
        "RAY_ROTATION_BACKUP_COUNT": str(cluster["node_logs"]["file_backups"]),
    }
    if cluster["auth_mode"] == "token":
        # The token itself never appears in the environment, only the path of its file.
        env["RAY_AUTH_TOKEN_PATH"] = AUTH_TOKEN_CONTAINER_PATH
    if node["role"] == "head":
        env["AUTOSCALER_METRIC_PORT"] = str(cluster["autoscaler_metrics_port"])
        env["DASHBOARD_METRIC_PORT"] = str(cluster["dashboard_metrics_port"])
        if cluster["gcs_storage"] == "rocksdb":
            # The GCS keeps the cluster's tables (and its identity) on the head host's disk: a
            # restarted head resumes the same cluster, and the workers stay connected.
            env["RAY_gcs_storage"] = "rocksdb"
            env["RAY_gcs_storage_path"] = GCS_STORAGE_CONTAINER_PATH
        elif cluster["gcs_storage"] == "redis":
            # The same, kept by the Redis server beside the head (its password: see _head_entrypoint).
            env["RAY_REDIS_ADDRESS"] = cluster["gcs_redis"]["address"]
            env["RAY_external_storage_namespace"] = cluster["gcs_redis"]["namespace"]
        env.update(_dashboard_metrics_environment(cluster))
    return dict(sorted(env.items()))


def _dashboard_metrics_environment(cluster: dict[str, Any]) -> dict[str, str]:
    """Ray's dashboard (on the head) wired to the cluster's Prometheus, and to Grafana when it runs
    (Ray embeds its panels; its address is the admins' browser's too). Its login to Prometheus: see
    _head_entrypoint."""
    monitoring = cluster.get("monitoring") or {}
    if not monitoring:
        return {}
    grafana = monitoring["grafana"]
    return {
        "RAY_PROMETHEUS_HOST": monitoring["prometheus_url"],
        "RAY_PROMETHEUS_NAME": monitoring["dashboards"]["datasource"],
        # Ray's word for "no Grafana" (it would probe localhost:3000).
        "RAY_GRAFANA_HOST": grafana["url"] if grafana else "DISABLED",
        **({"RAY_GRAFANA_IFRAME_HOST": grafana["url"]} if grafana else {}),
    }


# The node's own dashboard agent answers ``success`` here when the raylet is up.
HEALTH_PATH = "/api/local_raylet_healthz"


def health_check(node: dict[str, Any], node_ip: str) -> str:
    """The container's health check, a bash script: GET HEALTH_PATH from the node's dashboard agent over
    bash's ``/dev/tcp`` and match a 200 answer holding ``success``, with builtins only. A check runs
    every second while a node starts (``start_interval``), in every container at once: this one costs a
    few milliseconds of CPU, a Python one (interpreter, urllib) some 80, which eleven nodes starting on
    two cores feel."""
    return (
        f"exec 3<>/dev/tcp/{node_ip}/{node['ports']['dashboard_agent_http']}"
        f" && printf 'GET {HEALTH_PATH} HTTP/1.0\\r\\n\\r\\n' >&3"
        " && IFS= read -r -d '' -u 3 answer;"
        ' [[ $answer == "HTTP/1."[01]" 200 "*success* ]]'
    )


def _labels(host: str, node: dict[str, Any], cluster: dict[str, Any], token_fingerprint: str) -> dict[str, str]:
    prefix = cluster["label_prefix"]
    labels = {
        f"{prefix}.cluster": cluster["name"],
        f"{prefix}.server": host,
        f"{prefix}.service": f"ray-{node['role']}",
    }
    if node["role"] == "worker":
        labels[f"{prefix}.worker-id"] = str(node["worker_id"])
    if cluster["auth_mode"] == "token":
        # A new token changes this label, so compose recreates every container with it.
        labels[f"{prefix}.auth-token-sha256"] = token_fingerprint
    return dict(sorted(labels.items()))


def _resources(node: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = {"limits": {"cpus": str(node["cpus"]), "memory": str(node["memory"])}}
    reservations: dict[str, Any] = {}
    if node["memory_reservation"] is not None:
        reservations["memory"] = str(node["memory_reservation"])
    if node["gpus"]:
        reservations["devices"] = [{"driver": "nvidia", "count": node["gpus"], "capabilities": ["gpu"]}]
    if reservations:
        resources["reservations"] = reservations
    return resources


def _healthcheck(node: dict[str, Any], node_ip: str) -> dict[str, Any]:
    return {
        "test": ["CMD", "bash", "-c", _sh(health_check(node, node_ip))],
        "interval": "15s",
        "timeout": "10s",
        "retries": 4,
        "start_period": "120s",
        # Probe every second until the first success (Engine 25+): a node is healthy about a
        # second after its raylet answers, not up to one interval later (the waits of compose, of
        # staggered workers and of every restart would each lose up to 15 s).
        "start_interval": "1s",
    }


# Every Ray container's environment names its node, and so does each line of its json-file log (the
# log shipper of the log aggregation tells a node's output by it).
NODE_NAME_ENV = "RAY_CLUSTER_NODE"


def logging_options(cluster: dict[str, Any], env: str = "") -> dict[str, Any]:
    """A service's bounded json-file logs (the plan's size and file count): every container the collection
    runs; ``env``: the environment variables each line carries (Docker's ``env`` log option)."""
    options = {"max-file": str(cluster["log_max_files"]), "max-size": str(cluster["log_max_size"])}
    return {"driver": "json-file", "options": {**({"env": env} if env else {}), **options}}


def stack_service(
    cluster: dict[str, Any], name: str, entrypoint: list[str], command: list[str], volumes: list[str]
) -> dict[str, Any]:
    """A service of the monitoring image (the monitoring stack, the exporters, the log shipper and
    receiver): host network, restarted unless stopped, labelled with the cluster and its name."""
    prefix = cluster["label_prefix"]
    return {
        "image": cluster["monitoring"]["image"],
        "container_name": name,
        "network_mode": "host",
        "restart": "unless-stopped",
        "entrypoint": entrypoint,
        "command": command,
        "labels": {f"{prefix}.cluster": cluster["name"], f"{prefix}.service": name},
        "logging": logging_options(cluster),
        "stop_grace_period": "30s",
        "volumes": volumes,
    }


def compose_service(
    host: str,
    node: dict[str, Any],
    node_ip: str,
    cluster: dict[str, Any],
    token_fingerprint: str = "",
    log_dir: str = "",
) -> dict[str, Any]:
    """One node's compose service (``log_dir``: the node's log directory on the host, the plan's)."""
    service: dict[str, Any] = {
        "image": cluster["image"],
        "container_name": node["name"],
        "network_mode": "host",
        "restart": "unless-stopped",
        "shm_size": str(node["shm_size"]),
        "command": node_command(node, node_ip, cluster),
        "environment": node_environment(node, cluster),
        "deploy": {"resources": _resources(node)},
        "healthcheck": _healthcheck(node, node_ip),
        "labels": _labels(host, node, cluster, token_fingerprint),
        "logging": logging_options(cluster, NODE_NAME_ENV),
        "stop_grace_period": "30s",
    }
    entrypoint = _head_entrypoint(cluster) if node["role"] == "head" else None
    if entrypoint:
        service["entrypoint"] = entrypoint
    if node["role"] == "head" and cluster["gcs_storage"] == "redis":
        service["depends_on"] = {cluster["gcs_redis"]["container"]: {"condition": "service_healthy"}}
    volumes = [f"{log_dir}:{RAY_TEMP_CONTAINER_PATH}"] if log_dir else []
    if cluster["auth_mode"] == "token":
        volumes.append(f"{cluster['auth_token_file']}:{AUTH_TOKEN_CONTAINER_PATH}:ro")
    if node["role"] == "head" and cluster["gcs_storage"] == "rocksdb":
        volumes.append(f"{cluster['gcs_storage_path']}:{GCS_STORAGE_CONTAINER_PATH}")
    if volumes:
        service["volumes"] = volumes
    return service


# The shell expression both containers derive the GCS's Redis password with, from the mounted token.
_GCS_REDIS_PASSWORD_SH = gcs_redis_password_sh(AUTH_TOKEN_CONTAINER_PATH)
_PROMETHEUS_RAY_PASSWORD_SH = prometheus_ray_password_sh(AUTH_TOKEN_CONTAINER_PATH)


def _sh(script: str) -> str:
    """A shell script as compose must hold it: ``$`` doubled (compose would interpolate it)."""
    return script.replace("$", "$$")


def _head_entrypoint(cluster: dict[str, Any]) -> list[str] | None:
    """The head's entrypoint, when it needs a secret derived from the mounted token file (so that the
    secret is in no file, environment or compose spec): with the GCS in Redis, ``ray start`` gets the
    Redis login on its command line (Ray has no environment variable or file for it); with
    monitoring, Ray's dashboard gets its Prometheus login as a header (RAY_PROMETHEUS_HEADERS).
    None when neither applies (the image's own entrypoint)."""
    monitoring = cluster.get("monitoring") or {}
    lines = []
    if monitoring and monitoring["ray_user"]:
        basic = f"$(printf '%s:%s' '{monitoring['ray_user']}' \"{_PROMETHEUS_RAY_PASSWORD_SH}\" | base64 | tr -d '\\n')"
        lines.append(f'RAY_PROMETHEUS_HEADERS=\'{{"Authorization": "Basic \'"{basic}"\'"}}\'')
        lines.append("export RAY_PROMETHEUS_HEADERS")
    redis_login = ""
    if cluster["gcs_storage"] == "redis":
        redis = cluster["gcs_redis"]
        redis_login = f' --redis-username={redis["username"]} --redis-password="{_GCS_REDIS_PASSWORD_SH}"'
    if not lines and not redis_login:
        return None
    script = "\n".join([*lines, f'exec "$@"{redis_login}'])
    return ["/bin/sh", "-c", _sh(script), "ray-start"]


def gcs_redis_service(host: str, cluster: dict[str, Any], token_fingerprint: str) -> dict[str, Any]:
    """The GCS's Redis server on the head host: bound to the head's node address only, the default
    user switched off and one ACL user (password derived from the mounted token file, fed on stdin, so
    it is in no file, environment, compose spec or command line), append-only persistence on the
    head host's disk, ``noeviction``, bounded memory and logs, and a healthcheck that needs no
    password (an answering server refuses it with NOAUTH)."""
    redis = cluster["gcs_redis"]
    options = [
        f"--bind {redis['ip']}",
        f"--port {redis['port']}",
        "--protected-mode yes",
        f"--dir {GCS_REDIS_DATA_PATH}",
        "--appendonly yes",
        "--appendfsync everysec",
        "--save ''",
        f"--maxmemory {redis['maxmemory']}",
        "--maxmemory-policy noeviction",
    ]
    script = (
        "set -eu\n"
        f'password="{_GCS_REDIS_PASSWORD_SH}"\n'
        f"exec redis-server {' '.join(options)} - <<EOF\n"
        "user default off\n"
        f"user {redis['username']} on >$password ~* &* +@all\n"
        "EOF\n"
    )
    ping = f"redis-cli -h {redis['ip']} -p {redis['port']} ping 2>&1 | grep -q '^NOAUTH'"
    prefix = cluster["label_prefix"]
    return {
        "image": cluster["image"],
        "container_name": redis["container"],
        "network_mode": "host",
        "restart": "unless-stopped",
        "entrypoint": ["/bin/sh", "-c", _sh(script)],
        "deploy": {"resources": {"limits": {"memory": str(redis["memory"])}}},
        "healthcheck": {
            "test": ["CMD-SHELL", _sh(ping)],
            "interval": "10s",
            "timeout": "5s",
            "retries": 3,
            "start_period": "60s",
            "start_interval": "1s",
        },
        "labels": {
            f"{prefix}.auth-token-sha256": token_fingerprint,
            f"{prefix}.cluster": cluster["name"],
            f"{prefix}.server": host,
            f"{prefix}.service": "ray-gcs-redis",
        },
        "logging": logging_options(cluster),
        "stop_grace_period": "30s",
        "volumes": [
            f"{cluster['auth_token_file']}:{AUTH_TOKEN_CONTAINER_PATH}:ro",
            f"{cluster['gcs_storage_path']}:{GCS_REDIS_DATA_PATH}",
        ],
    }


def spec_hash(service: dict[str, Any]) -> str:
    """A service's spec in 16 hex digits (sha256 of its canonical JSON): the ``<prefix>.spec`` label
    of its container, so a read of the container says whether it was created from this spec."""
    return hashlib.sha256(json.dumps(service, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()[:16]


def compose_services(plan: dict[str, Any], host: str, kind: str, token_fingerprint: str = "") -> dict[str, dict[str, Any]]:
    """One of a host's compose projects (``head`` or ``workers``): container name -> service, each
    labelled with its spec (``<prefix>.spec``). Empty when the project has no services on this host.

    With token authentication, ``token_fingerprint`` (a hash of the token, never the token) is
    required: it labels the containers so that a new token recreates them.
    """
    if kind not in KINDS:
        raise ValueError(f"compose project kind must be head or workers, got {kind!r}")
    if host not in plan.get("hosts", {}):
        raise ValueError(f"host {host} is not in the cluster plan")
    cluster = plan["cluster"]
    host_plan = plan["hosts"][host]
    if cluster["auth_mode"] == "token" and not re.fullmatch(r"[0-9a-f]{16,64}", str(token_fingerprint or "")):
        raise ValueError("token authentication is on: pass the token's sha256 fingerprint (hex), not the token")
    role = "head" if kind == "head" else "worker"
    services = {
        node["name"]: compose_service(
            host, node, host_plan["node_ip"], cluster, token_fingerprint, host_plan["node_log_dirs"][node["name"]]
        )
        for node in host_plan["nodes"]
        if node["role"] == role
    }
    if services and kind == "head" and cluster.get("gcs_redis"):
        services = {cluster["gcs_redis"]["container"]: gcs_redis_service(host, cluster, token_fingerprint), **services}
    if cluster.get("stagger_worker_start") and kind == "workers":
        # Start a host's workers one after the other: each waits for the previous one to be
        # healthy. For hosts too small to start many Ray nodes at once.
        for previous, name in itertools.pairwise(list(services)):
            services[name]["depends_on"] = {previous: {"condition": "service_healthy"}}
    for service in services.values():
        service["labels"] = dict(sorted({**service["labels"], f"{cluster['label_prefix']}.spec": spec_hash(service)}.items()))
    return services


def compose_content(plan: dict[str, Any], host: str, kind: str, token_fingerprint: str = "") -> str:
    """Render one of a host's compose projects (``head`` or ``workers``) to YAML text.

    Deterministic: the same plan always gives byte-identical text. Empty when the project has
    no services on this host (the role then removes it). See ``compose_services``.
    """
    services = compose_services(plan, host, kind, token_fingerprint)
    if not services:
        return ""
    host_plan = plan["hosts"][host]
    body = to_yaml({"name": host_plan["projects"][kind]["name"], "services": services})
    ray = [node for node in host_plan["nodes"] if node["name"] in services]
    redis = " and the GCS's Redis" if plan["cluster"]["gcs_redis"].get("container") in services else ""
    return f"{MANAGED_HEADER}# Host {host}: {len(ray)} Ray {kind} container(s){redis}.\n{body}\n"
