# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""What the celery role writes on a host, rendered from the plan: the compose project (the broker,
Flower and the host's Celery workers) and the launcher's configuration of each container.

Private to the collection (no compatibility promise). Pure functions, no Ansible imports. No secret
is rendered: the containers read the broker's and Flower's passwords and the cluster token from files
mounted read-only (the role writes them, root's, readable by the Celery image's group).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import MANAGED_HEADER, logging_options, spec_hash
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import address_port
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._yaml import to_yaml

# Inside the containers: the launcher's configuration directory, the secrets, the broker's data.
CONFIG_PATH = "/etc/ray-cluster-celery"
SECRETS_PATH = "/run/secrets/celery"
BROKER_DATA_PATH = "/data"
# The launcher's command (the Celery image's console script) and its configuration's variable.
LAUNCHER = "ray-cluster-celery"
CONFIG_ENV = "RAY_CLUSTER_CELERY_CONFIG"


def _secret(celery: dict[str, Any], name: str) -> str:
    return f"{celery['secrets_dir']}/{name}:{SECRETS_PATH}/{name}:ro"


def host_secrets(plan: dict[str, Any], host: str) -> list[str]:
    """The secrets a host's Celery containers read (names of :data:`_celery.SECRET_NAMES`): the broker's
    password on every Celery host, Flower's on its host, the cluster token where workers run (the tasks
    submit Ray jobs with it; none without token authentication)."""
    part = plan["hosts"][host]["celery"]
    if not part["project"]["services"]:
        return []
    token = part["workers"] and plan["cluster"]["auth_mode"] == "token"
    return ["broker_password"] + ["flower_password"] * part["flower"] + ["cluster_token"] * bool(token)


def launcher_config(plan: dict[str, Any], worker: dict[str, Any] | None = None) -> dict[str, Any]:
    """The launcher's configuration of one container (a worker's, or Flower's when ``worker`` is None)."""
    cluster, celery = plan["cluster"], plan["cluster"]["celery"]
    broker = celery["broker"]
    config: dict[str, Any] = {
        "app": celery["app"]["module"],
        "broker": {
            "address": broker["ip"],
            "port": broker["port"],
            "password_file": f"{SECRETS_PATH}/broker_password",
            "db": broker["db"],
            "result_db": broker["result_db"],
        },
        "visibility_timeout_s": celery["visibility_timeout_s"],
        "task_time_limit_s": celery["task_time_limit_s"],
        "prefetch_multiplier": celery["prefetch_multiplier"],
    }
    if worker is not None:
        config["worker"] = {"name": worker["hostname"], "concurrency": worker["concurrency"], "queues": worker["queues"]}
        config["ray"] = {
            "jobs_url": cluster["dashboard_url"],
            "token_file": f"{SECRETS_PATH}/cluster_token" if cluster["auth_mode"] == "token" else "",
        }
    else:
        flower = celery["flower"]
        config["flower"] = {
            "address": flower["ip"],
            "port": flower["port"],
            "user": flower["user"],
            "password_file": f"{SECRETS_PATH}/flower_password",
        }
    return config


def _config_text(config: dict[str, Any]) -> str:
    return json.dumps(config, indent=2) + "\n"


def _config_label(cluster: dict[str, Any], config: dict[str, Any]) -> dict[str, str]:
    """The launcher reads its configuration when the container starts: its hash labels the container, so a
    changed configuration is a changed spec (compose recreates the container)."""
    return {f"{cluster['label_prefix']}.config-sha256": hashlib.sha256(_config_text(config).encode()).hexdigest()[:16]}


def _base(cluster: dict[str, Any], host: str, name: str, image: str, memory: int) -> dict[str, Any]:
    prefix = cluster["label_prefix"]
    return {
        "image": image,
        "container_name": name,
        "network_mode": "host",
        "restart": "unless-stopped",
        "user": f"{cluster['celery']['uid']}:{cluster['celery']['uid']}",
        "deploy": {"resources": {"limits": {"memory": str(memory)}}},
        "labels": {
            f"{prefix}.cluster": cluster["name"],
            f"{prefix}.server": host,
            f"{prefix}.service": name,
        },
        "logging": logging_options(cluster),
    }


def broker_service(plan: dict[str, Any], host: str) -> dict[str, Any]:
    """Redis for Celery's queues and results: bound to the host's node address, the password (required
    of every client, the default user's) fed on stdin from the mounted file, so it is in no file,
    environment, compose spec or command line; append-only persistence on the host's disk (a restart
    keeps every queued task), ``noeviction`` (a full broker refuses new tasks instead of dropping
    some), bounded memory and logs; a healthcheck that needs no password (an answering server refuses
    it with NOAUTH)."""
    cluster = plan["cluster"]
    broker = cluster["celery"]["broker"]
    options = [
        f"--bind {broker['ip']}",
        f"--port {broker['port']}",
        "--protected-mode yes",
        f"--dir {BROKER_DATA_PATH}",
        "--appendonly yes",
        "--appendfsync everysec",
        "--save ''",
        f"--maxmemory {broker['maxmemory']}",
        "--maxmemory-policy noeviction",
    ]
    script = (
        "set -eu\n"
        f'password="$(head -n 1 {SECRETS_PATH}/broker_password)"\n'
        f"exec redis-server {' '.join(options)} - <<EOF\n"
        "requirepass $password\n"
        "EOF\n"
    )
    ping = f"redis-cli -h {broker['ip']} -p {broker['port']} ping 2>&1 | grep -q '^NOAUTH'"
    service = _base(cluster, host, broker["container"], cluster["celery"]["image"], broker["memory"])
    service.update(
        {
            "entrypoint": ["/bin/sh", "-c", script.replace("$", "$$")],
            "healthcheck": {
                "test": ["CMD-SHELL", ping],
                "interval": "10s",
                "timeout": "5s",
                "retries": 3,
                "start_period": "60s",
                "start_interval": "1s",
            },
            "stop_grace_period": "30s",
            "volumes": [f"{broker['data_dir']}:{BROKER_DATA_PATH}", _secret(cluster["celery"], "broker_password")],
        }
    )
    return service


def flower_service(plan: dict[str, Any], host: str) -> dict[str, Any]:
    """Flower on its host's node address, basic auth from the mounted password file; from the app image
    (Flower imports the app, as the workers do); healthy when its own health endpoint answers."""
    cluster = plan["cluster"]
    celery = cluster["celery"]
    flower = celery["flower"]
    service = _base(cluster, host, flower["container"], celery["app_image"], flower["memory"])
    url = f"http://{address_port(flower['ip'], flower['port'])}/healthcheck"
    check = f"import sys, urllib.request as u; sys.exit(0 if u.urlopen('{url}', timeout=8).status == 200 else 1)"
    service["labels"].update(_config_label(cluster, launcher_config(plan)))
    service.update(
        {
            "command": [LAUNCHER, "flower"],
            "environment": {CONFIG_ENV: f"{CONFIG_PATH}/{flower['container']}.json"},
            "healthcheck": {
                "test": ["CMD", "python3", "-c", check],
                "interval": "30s",
                "timeout": "10s",
                "retries": 3,
                "start_period": "60s",
                "start_interval": "2s",
            },
            "stop_grace_period": "10s",
            "volumes": [
                f"{celery['config_dir']}:{CONFIG_PATH}:ro",
                _secret(celery, "broker_password"),
                _secret(celery, "flower_password"),
            ],
        }
    )
    return service


def worker_service(plan: dict[str, Any], host: str, worker: dict[str, Any]) -> dict[str, Any]:
    """One Celery worker container: the app image, its CPU and memory limits, a warm shutdown within the
    plan's stop timeout (PID 1 is the worker: SIGTERM lets it finish its tasks), a healthcheck that pings
    this worker alone."""
    cluster = plan["cluster"]
    celery = cluster["celery"]
    service = _base(cluster, host, worker["name"], celery["app_image"], worker["memory"])
    service["labels"].update(_config_label(cluster, launcher_config(plan, worker)))
    resources: dict[str, Any] = {"limits": {"cpus": str(worker["cpus"]), "memory": str(worker["memory"])}}
    if worker["memory_reservation"] is not None:
        resources["reservations"] = {"memory": str(worker["memory_reservation"])}
    service.update(
        {
            "command": [LAUNCHER, "worker"],
            "deploy": {"resources": resources},
            "environment": {CONFIG_ENV: f"{CONFIG_PATH}/{worker['name']}.json"},
            "healthcheck": {
                "test": ["CMD", LAUNCHER, "ping"],
                "interval": "30s",
                "timeout": "20s",
                "retries": 3,
                "start_period": "60s",
                "start_interval": "2s",
            },
            "stop_grace_period": f"{celery['stop_timeout_s']}s",
            "stop_signal": "SIGTERM",
            "volumes": [f"{celery['config_dir']}:{CONFIG_PATH}:ro"]
            + [_secret(celery, name) for name in host_secrets(plan, host) if name != "flower_password"],
        }
    )
    return service


def celery_services(plan: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    """The host's Celery project: container name -> service, each labelled with its spec (``<prefix>.spec``)."""
    part = plan["hosts"][host]["celery"]
    services: dict[str, dict[str, Any]] = {}
    if part["broker"]:
        services[plan["cluster"]["celery"]["broker"]["container"]] = broker_service(plan, host)
    if part["flower"]:
        services[plan["cluster"]["celery"]["flower"]["container"]] = flower_service(plan, host)
    for worker in part["workers"]:
        services[worker["name"]] = worker_service(plan, host, worker)
    prefix = plan["cluster"]["label_prefix"]
    for service in services.values():
        service["labels"][f"{prefix}.spec"] = spec_hash(service)
        service["labels"] = dict(sorted(service["labels"].items()))
    return services


def celery_files(plan: dict[str, Any], host: str) -> dict[str, str]:
    """Every file (no secret) the celery role writes on ``host``: absolute path -> text. Empty on a host
    that runs no Celery container."""
    celery = plan["cluster"].get("celery") or {}
    part = plan["hosts"][host].get("celery") or {}
    if not celery or not part["project"]["services"]:
        return {}
    services = celery_services(plan, host)
    what = ", ".join(services)
    body = to_yaml({"name": part["project"]["name"], "services": services})
    header = f"{MANAGED_HEADER}# Host {host}: Celery ({what}) of cluster {plan['cluster']['name']}.\n"
    files = {part["project"]["file"]: f"{header}{body}\n"}
    for worker in part["workers"]:
        files[f"{celery['config_dir']}/{worker['name']}.json"] = _config_text(launcher_config(plan, worker))
    if part["flower"]:
        files[f"{celery['config_dir']}/{celery['flower']['container']}.json"] = _config_text(launcher_config(plan))
    return files
