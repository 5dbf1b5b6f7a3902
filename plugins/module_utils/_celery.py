# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The Celery part of the plan: the broker (a Redis of its own, never the GCS's), the Celery workers
of each host, Flower, their ports, firewall rules and the capacity they take beside the Ray nodes.

Private to the collection (no compatibility promise). Pure functions, no Ansible imports. Celery is
on when the broker group has a host. Its cluster-wide settings are read with the cluster's
(``_settings``: the same on every host, one rule each); a host's workers come from
``celery_worker_count`` and ``celery_worker_spec``. Every refusal is a :class:`PlanError` naming
the host, the variable and the value.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    NOT_SET,
    PlanError,
    address_port,
    format_size,
    member_sources,
    parse_number,
    parse_size,
    parse_whole_number,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import (
    CELERY_IMAGE,
    CELERY_PACKAGES,
    CELERY_SYSTEM_PACKAGES,
)

DEFAULT_CELERY_GROUPS = {"broker": "celery_broker", "workers": "celery_workers", "flower": "celery_flower"}
BROKER_CONTAINER = "celery-broker"
FLOWER_CONTAINER = "celery-flower"
# A worker container's default name: celery-worker-<n> (n from 1).
WORKER_NAME_PREFIX = "celery-worker-"
# Flower's basic-auth user (its password: celery_flower_password from Vault, else generated).
FLOWER_USER = "admin"
# The user the Celery image runs its processes as (the broker too): the secrets and the broker's data
# on the hosts belong to its group.
CELERY_UID = 10001
# Each Celery host's files under the project's directory: the launcher's configuration per container
# (no secret in it), and the secrets the host's containers read (root's, readable by CELERY_UID's group).
CONFIG_DIR_NAME = "config"
SECRETS_DIR_NAME = "secrets"
SECRET_NAMES = ("broker_password", "flower_password", "cluster_token")
# The broker keeps the queues in database 0 and the results in database 1.
BROKER_DB = 0
RESULT_DB = 1
# Of the broker container's memory limit, the share Redis may fill (maxmemory, noeviction: a full
# broker refuses new tasks with an error instead of being killed or dropping one).
BROKER_MAXMEMORY_SHARE = 0.9
# The least memory the broker or a worker container may have.
MEMORY_MIN = 64 * 2**20
# The visibility timeout (how long Redis's transport waits for an unacknowledged task before it
# gives it to another worker) exceeds the longest task by at least this factor: a task still
# running is never delivered twice.
VISIBILITY_TIMEOUT_FACTOR = 2
# The firewall rules' comments: the plan's prefix and a purpose (multiport rules join the purposes).
COMMENT_PREFIX = "ray_cluster"
# The sample app the collection ships (the default app), under the roles' directory.
SAMPLE_APP_DIR = "celery/files/sample_app"

CELERY_DEFAULTS: dict[str, Any] = {
    # The Celery image (Celery, Flower and the broker's Redis, pinned) and the application built on it:
    # an importable module (with ``:attr`` for the Celery app object) from a source directory on the
    # controller (a pip-installable project) or from a pip requirement; none given: the sample app
    # the collection ships.
    "celery_image": CELERY_IMAGE,
    "celery_app_module": "wizardsofts_celery_sample.app:app",
    "celery_app_source": "",
    "celery_app_requirement": "",
    "celery_app_image": "",
    "celery_broker_port": 6390,
    "celery_broker_memory": "512m",
    "celery_broker_data_dir": "/var/lib/ray-cluster/celery-broker",
    # Who may reach the broker besides the Celery hosts: the applications that send tasks.
    "celery_client_sources": [],
    "celery_flower_port": 5555,
    "celery_flower_memory": "256m",
    # The longest a task may run (Celery's hard time limit); the visibility timeout derives from it.
    "celery_task_time_limit_s": 1800,
    "celery_visibility_timeout_s": None,
    "celery_prefetch_multiplier": 1,
    # A redeploy stops a worker warmly: it finishes its tasks within this, then is killed (its
    # unfinished tasks go back to the queue: acks_late, task_reject_on_worker_lost).
    "celery_worker_stop_timeout_s": 120,
}
CELERY_HOST_DEFAULTS: dict[str, Any] = {
    "celery_worker_count": None,
    "celery_worker_spec": {},
}
CELERY_PORT_VARIABLES = ("celery_broker_port", "celery_flower_port")
WORKER_SPEC_KEYS = ("cpus", "memory", "memory_reservation", "concurrency", "queues")
WORKER_SPEC_DEFAULTS: dict[str, Any] = {"cpus": 1, "memory": "1g", "queues": ["celery"]}
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$")
_QUEUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------- settings


def _module(value: Any, variable: str) -> str:
    if not isinstance(value, str) or not _MODULE_RE.match(value):
        raise PlanError(None, variable, value, "expected an importable module, with :attribute for the app object (pkg.mod:app)")
    return value


def check_celery_settings(settings: dict[str, Any]) -> None:
    """The rules across Celery's settings (each single one already checked): one source of the app, a
    broker big enough, a visibility timeout above the longest task."""
    _module(settings["celery_app_module"], "celery_app_module")
    if settings["celery_app_source"] and settings["celery_app_requirement"]:
        raise PlanError(
            None,
            "celery_app_source",
            settings["celery_app_source"],
            f"set it or celery_app_requirement ({settings['celery_app_requirement']!r}), not both",
        )
    if parse_size(settings["celery_broker_memory"]) < MEMORY_MIN:
        raise PlanError(None, "celery_broker_memory", settings["celery_broker_memory"], "the broker needs at least 64m")
    limit, given = settings["celery_task_time_limit_s"], settings["celery_visibility_timeout_s"]
    if given is None:
        settings["celery_visibility_timeout_s"] = limit * VISIBILITY_TIMEOUT_FACTOR
    elif given <= limit:
        raise PlanError(
            None,
            "celery_visibility_timeout_s",
            given,
            f"must exceed celery_task_time_limit_s ({limit}): a task still running would be delivered again",
        )


def add_celery_ports(settings: dict[str, Any]) -> None:
    """While Celery is on, its ports are fixed too: none may be another fixed port or in a node's block."""
    fixed = settings["_fixed_ports"]
    for key in CELERY_PORT_VARIABLES:
        for other, port in fixed.items():
            if port == settings[key]:
                raise PlanError(None, key, settings[key], f"the same port as {other}")
        fixed[key] = settings[key]


# --------------------------------------------------------------------------- groups


def celery_hosts(groups: dict[str, list[str]], members: list[str], group_names: dict[str, str]) -> dict[str, list[str]]:
    """The broker, worker and Flower hosts: cluster hosts all, one broker at most and one Flower at most,
    workers and Flower only with a broker."""
    chosen = {kind: list(dict.fromkeys(groups.get(kind) or [])) for kind in DEFAULT_CELERY_GROUPS}
    for kind, hosts in chosen.items():
        variable = f"groups.{group_names[kind]}"
        for host in hosts:
            if host not in members:
                raise PlanError(host, variable, hosts, "a Celery host must be a cluster host (in the head or the worker group)")
        if kind != "workers" and len(hosts) > 1:
            raise PlanError(None, variable, hosts, "at most one host")
    if not chosen["broker"] and (chosen["workers"] or chosen["flower"]):
        kind = "workers" if chosen["workers"] else "flower"
        raise PlanError(
            None,
            f"groups.{group_names['broker']}",
            [],
            f"the hosts of {group_names[kind]} need a broker: put one host in {group_names['broker']}",
        )
    return chosen


# --------------------------------------------------------------------------- one host's workers


def worker_specs(host: str, hvars: dict[str, Any], is_worker: bool, group: str) -> list[dict[str, Any]]:
    """The host's Celery worker containers, from ``celery_worker_count`` and ``celery_worker_spec``."""
    count = hvars.get("celery_worker_count")
    if not is_worker:
        if count not in (None, 0):
            raise PlanError(host, "celery_worker_count", count, f"the host is not in group {group}: add it, or leave this unset")
        return []
    if count is None:
        raise PlanError(
            host,
            "celery_worker_count",
            NOT_SET,
            f"the host is in group {group} but does not say how many Celery workers it runs;"
            " set celery_worker_count (0 for none)",
        )
    count = parse_whole_number(count, host, "celery_worker_count", minimum=0)
    layer = hvars.get("celery_worker_spec") or {}
    if not isinstance(layer, dict):
        raise PlanError(host, "celery_worker_spec", layer, "expected a mapping of worker settings")
    unknown = sorted(set(layer) - set(WORKER_SPEC_KEYS))
    if unknown:
        raise PlanError(
            host, f"celery_worker_spec.{unknown[0]}", layer[unknown[0]], f"unknown key; allowed: {', '.join(WORKER_SPEC_KEYS)}"
        )
    spec = {**WORKER_SPEC_DEFAULTS, **layer}
    variable = "celery_worker_spec"
    cpus = parse_number(spec["cpus"], host, f"{variable}.cpus")
    if cpus <= 0:
        raise PlanError(host, f"{variable}.cpus", spec["cpus"], "CPU limit must be greater than 0")
    memory = parse_size(spec["memory"], host, f"{variable}.memory")
    if memory < MEMORY_MIN:
        raise PlanError(host, f"{variable}.memory", spec["memory"], "a Celery worker needs at least 64m")
    reservation = None
    if spec.get("memory_reservation") is not None:
        reservation = parse_size(spec["memory_reservation"], host, f"{variable}.memory_reservation")
        if reservation > memory:
            raise PlanError(
                host, f"{variable}.memory_reservation", spec["memory_reservation"], f"above the memory limit {spec['memory']!r}"
            )
    concurrency = (
        max(1, math.ceil(cpus))
        if spec.get("concurrency") is None
        else parse_whole_number(spec["concurrency"], host, f"{variable}.concurrency", minimum=1)
    )
    queues = spec["queues"]
    if isinstance(queues, str) or not isinstance(queues, list) or not queues:
        raise PlanError(host, f"{variable}.queues", queues, "expected a list of queue names (at least one)")
    for queue in queues:
        if not isinstance(queue, str) or not _QUEUE_RE.match(queue):
            raise PlanError(host, f"{variable}.queues", queues, f"{queue!r} is not a queue name (letters, digits, _ . -)")
    return [
        {
            "name": f"{WORKER_NAME_PREFIX}{number}",
            "hostname": f"{WORKER_NAME_PREFIX}{number}@{host}",
            "cpus": int(cpus) if cpus.is_integer() else cpus,
            "memory": memory,
            "memory_reservation": reservation,
            "concurrency": concurrency,
            "queues": list(dict.fromkeys(queues)),
        }
        for number in range(1, count + 1)
    ]


# --------------------------------------------------------------------------- the app's digest

# Left out of an app source directory's digest: what builds and tools leave there.
_DIGEST_SKIP_DIRS = frozenset({".git", "__pycache__", "build", "dist", ".venv", ".tox", ".mypy_cache", ".pytest_cache"})


def app_digest(module: str, source: str | None, requirement: str | None) -> str:
    """The sha256 of what goes into the app image: the module, and the source directory's files (their
    paths and contents; caches and build output left out) or the pip requirement."""
    digest = hashlib.sha256(f"module={module}\nrequirement={requirement or ''}\n".encode())
    if source:
        if not os.path.isdir(source):
            raise PlanError(None, "celery_app_source", source, "not a directory on the controller")
        for root, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in _DIGEST_SKIP_DIRS and not d.endswith(".egg-info"))
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(root, name)
                digest.update(os.path.relpath(path, source).encode() + b"\0")
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


# --------------------------------------------------------------------------- the plan


def project_dir(settings: dict[str, Any]) -> str:
    """The directory of each Celery host's compose project, configuration and secrets."""
    return f"{settings['ray_cluster_compose_dir'].rstrip('/')}/celery"


def app_image(settings: dict[str, Any], digest: str) -> str:
    """The image the Celery workers run: ``celery_app_image``, else the Celery image's name with
    ``-app`` and a tag from the Celery image's and the app's content digest (a changed app is a new tag)."""
    if settings["celery_app_image"]:
        return settings["celery_app_image"]
    image = settings["celery_image"].split("@")[0]
    name, _, tag = image.rpartition(":")
    if "/" in tag or not name:  # no tag: that colon was a registry's port
        name, tag = image, "latest"
    return f"{name}-app:{tag}-{(digest or 'app')[:12]}"


def celery_plan(
    settings: dict[str, Any],
    chosen: dict[str, list[str]],
    ips: dict[str, str],
    monitoring_ip: str | None,
    app_digest: str = "",
) -> dict[str, Any]:
    """The plan's ``cluster.celery``: empty when no host is in the broker group."""
    if not chosen["broker"]:
        return {}
    broker_host, flower_hosts = chosen["broker"][0], chosen["flower"]
    directory = project_dir(settings)
    secrets = f"{directory}/{SECRETS_DIR_NAME}"
    broker_ip = ips[broker_host]
    memory = parse_size(settings["celery_broker_memory"])
    clients = list(settings["celery_client_sources"])
    flower: dict[str, Any] = {}
    if flower_hosts:
        flower_ip = ips[flower_hosts[0]]
        flower = {
            "host": flower_hosts[0],
            "ip": flower_ip,
            "port": settings["celery_flower_port"],
            "url": f"http://{address_port(flower_ip, settings['celery_flower_port'])}",
            "container": FLOWER_CONTAINER,
            "user": FLOWER_USER,
            "password_file": f"{secrets}/flower_password",
            "memory": parse_size(settings["celery_flower_memory"]),
            # Its UI to the admin sources; its /metrics to the monitoring host as well.
            "sources": list(
                dict.fromkeys(settings["ray_cluster_admin_sources"] + member_sources([monitoring_ip] if monitoring_ip else []))
            ),
        }
    return {
        "dir": directory,
        "config_dir": f"{directory}/{CONFIG_DIR_NAME}",
        "secrets_dir": secrets,
        "token_file": f"{secrets}/cluster_token",
        "uid": CELERY_UID,
        "image": settings["celery_image"],
        # What the build method installs in the Celery image (the pins).
        "packages": CELERY_PACKAGES,
        "system_packages": CELERY_SYSTEM_PACKAGES,
        "app_image": app_image(settings, app_digest),
        "app": {
            "module": settings["celery_app_module"],
            "source": settings["celery_app_source"],
            "requirement": settings["celery_app_requirement"],
        },
        "broker": {
            "host": broker_host,
            "ip": broker_ip,
            "port": settings["celery_broker_port"],
            "address": address_port(broker_ip, settings["celery_broker_port"]),
            "container": BROKER_CONTAINER,
            "db": BROKER_DB,
            "result_db": RESULT_DB,
            "memory": memory,
            "maxmemory": int(memory * BROKER_MAXMEMORY_SHARE),
            "data_dir": settings["celery_broker_data_dir"],
            "password_file": f"{secrets}/broker_password",
            # The Celery hosts, then the applications that send tasks.
            "sources": list(dict.fromkeys(member_sources([ips[h] for h in [*chosen["workers"], *flower_hosts]]) + clients)),
        },
        "flower": flower,
        "worker_hosts": list(chosen["workers"]),
        # Every queue some worker consumes (the status reads their depths), filled in by the plan.
        "queues": [],
        "task_time_limit_s": settings["celery_task_time_limit_s"],
        "visibility_timeout_s": settings["celery_visibility_timeout_s"],
        "prefetch_multiplier": settings["celery_prefetch_multiplier"],
        "stop_timeout_s": settings["celery_worker_stop_timeout_s"],
    }


def host_celery(host: str, hvars: dict[str, Any], celery: dict[str, Any], settings: dict[str, Any], group: str) -> dict[str, Any]:
    """One host's Celery part: its compose project (broker, Flower, workers: the services it runs), its
    workers, and the memory and CPUs they take (the capacity check adds them to the Ray nodes')."""
    is_worker = bool(celery) and host in celery["worker_hosts"]
    workers = worker_specs(host, hvars, is_worker, group)
    broker = bool(celery) and celery["broker"]["host"] == host
    flower = bool(celery) and bool(celery["flower"]) and celery["flower"]["host"] == host
    services = [BROKER_CONTAINER] * broker + [FLOWER_CONTAINER] * flower + [w["name"] for w in workers]
    directory = project_dir(settings)
    memory = {"celery_worker_spec.memory": sum(w["memory"] for w in workers)} if workers else {}
    if broker:
        memory["celery_broker_memory"] = celery["broker"]["memory"]
    if flower:
        memory["celery_flower_memory"] = celery["flower"]["memory"]
    return {
        # Its services empty on a host that runs no Celery container (the celery role removes a project left there).
        "project": {
            "name": f"{settings['ray_cluster_name']}-celery",
            "dir": directory,
            "file": f"{directory}/compose.yaml",
            "services": services,
        },
        "broker": broker,
        "flower": flower,
        "workers": workers,
        "memory": memory,
        "cpus": sum(w["cpus"] for w in workers),
    }


def celery_status(celery: dict[str, Any], hosts: dict[str, dict[str, Any]]) -> None:
    """Complete ``cluster.celery`` from the hosts' parts: the queues the workers consume, the workers the
    status expects (their Celery names) and where the status reads the layer (Flower's container, else
    the first worker's: both run the app image and the launcher)."""
    workers = [worker for part in hosts.values() for worker in part["workers"]]
    celery["queues"] = list(dict.fromkeys(queue for worker in workers for queue in worker["queues"]))
    celery["expected_workers"] = [worker["hostname"] for worker in workers]
    if celery["flower"]:
        celery["status_from"] = {"host": celery["flower"]["host"], "container": celery["flower"]["container"]}
    else:
        host = next((name for name, part in hosts.items() if part["workers"]), None)
        celery["status_from"] = {"host": host, "container": hosts[host]["workers"][0]["name"]} if host else {}


def celery_rules(host: str, celery: dict[str, Any]) -> list[dict[str, str]]:
    """The UFW allow rules the host needs for Celery: the broker's port to the Celery hosts and the
    client sources, Flower's to the admin sources and the monitoring host."""
    rules: list[dict[str, str]] = []
    for part, purpose in (("broker", "celery-broker"), ("flower", "celery-flower")):
        plan = celery.get(part) if celery else None
        if plan and plan["host"] == host:
            rules += [
                {"port": str(plan["port"]), "proto": "tcp", "src": src, "comment": f"{COMMENT_PREFIX} {purpose}"}
                for src in plan["sources"]
            ]
    return rules


def describe_memory(memory: dict[str, int]) -> str:
    return ", ".join(f"{key} {format_size(value)}" for key, value in memory.items())
