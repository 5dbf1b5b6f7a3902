# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The planner's inputs and their defaults, and the cluster-wide settings read from them.

Private to the collection (no compatibility promise). Pure functions, no Ansible imports. A
cluster-wide variable must be the same on every cluster host; :func:`cluster_settings` reads it
once and checks it with the rule the tables below give it. Every refusal is a :class:`PlanError`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._celery import (
    CELERY_DEFAULTS,
    CELERY_HOST_DEFAULTS,
    check_celery_settings,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    PlanError,
    check_variable_names,
    known_variables,
    parse_number,
    parse_port,
    parse_size,
    parse_source,
    parse_version,
    parse_whole_number,
    plain,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import (
    GRAFANA_IMAGE,
    MONITORING_IMAGE,
    RAY_IMAGE_EXTRA_PACKAGES,
    RAY_IMAGE_SYSTEM_PACKAGES,
    RAY_PYTHON_VERSION,
    RAY_VERSION,
)

SOURCE_MIN_PREFIX_VARIABLE = "ray_cluster_source_min_prefix"
SOURCE_MIN_PREFIX_DEFAULT = {"ipv4": 8, "ipv6": 32}
_ADDRESS_BITS = {"ipv4": 32, "ipv6": 128}
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")

CLUSTER_DEFAULTS: dict[str, Any] = {
    "ray_cluster_name": "ray",
    "ray_cluster_version": RAY_VERSION,
    "ray_cluster_python_version": RAY_PYTHON_VERSION,
    "ray_cluster_image": "",
    "ray_cluster_allowed_sources": [],
    "ray_cluster_admin_sources": [],
    # The widest network ray_cluster_allowed_sources and ray_cluster_admin_sources may list.
    "ray_cluster_source_min_prefix": dict(SOURCE_MIN_PREFIX_DEFAULT),
    "ray_cluster_ssh_port": 22,
    "ray_cluster_ssh_sources": ["any"],
    "ray_cluster_gcs_port": 6379,
    "ray_cluster_dashboard_port": 8265,
    "ray_cluster_client_port": 10001,
    "ray_cluster_autoscaler_metrics_port": 8266,
    "ray_cluster_dashboard_metrics_port": 8267,
    "ray_cluster_port_base": 20000,
    "ray_cluster_worker_ports_per_node": 94,
    "ray_cluster_ephemeral_port_range": [32768, 60999],
    "ray_cluster_dashboard_bind": "node_ip",
    "ray_cluster_auth_mode": "token",
    "ray_cluster_auth_token_file": "/etc/ray-cluster/auth_token",
    # How long a raylet waits for a lost GCS before it exits; None: from the GCS storage (below).
    "ray_cluster_gcs_reconnect_timeout_s": None,
    # Where the GCS keeps the cluster's state: none (in memory: a head restart is a new cluster),
    # rocksdb (embedded, on the head host's disk: a restarted head resumes the same cluster) or
    # redis (a Redis server the collection runs on the head host, its data on the same disk).
    "ray_cluster_gcs_storage": "rocksdb",
    "ray_cluster_gcs_storage_dir": "/var/lib/ray-cluster/gcs",
    # redis: its port on the head's node address, and its container's memory limit.
    "ray_cluster_gcs_redis_port": 6380,
    "ray_cluster_gcs_redis_memory": "1g",
    "ray_cluster_label_prefix": "com.wizardsofts",
    "ray_cluster_compose_dir": "/opt/ray-cluster",
    "ray_cluster_log_max_size": "50m",
    "ray_cluster_log_max_files": 3,
    # Ray's own logs (its session directory: raylet, GCS, agents, every task's output): on the host,
    # one directory per node under this one, so they survive the container; Ray rotates each file at
    # the size, keeping that many older ones, and the host keeps each node's directory within the budget.
    "ray_cluster_node_log_dir": "/var/log/ray-cluster",
    "ray_cluster_node_log_file_size": "64m",
    "ray_cluster_node_log_file_backups": 3,
    "ray_cluster_node_log_budget": "2g",
    "ray_cluster_allow_oversubscription": False,
    "ray_cluster_stagger_worker_start": False,
    "ray_cluster_confirm_removal": False,
    "ray_cluster_removal_max_share": 0.25,
    # Monitoring: Prometheus and Alertmanager on one host (group ray_monitoring, else the head's),
    # a node exporter on every host, the Docker engines' metrics; all scraped from the plan.
    "ray_cluster_monitoring": False,
    "ray_cluster_monitoring_image": MONITORING_IMAGE,
    "ray_cluster_prometheus_port": 9090,
    "ray_cluster_alertmanager_port": 9093,
    "ray_cluster_node_exporter_port": 9100,
    "ray_cluster_docker_metrics_port": 9323,
    "ray_cluster_monitoring_scrape_interval": "15s",
    # How long a condition must hold before its alert fires.
    "ray_cluster_monitoring_alert_for": "2m",
    # How long Alertmanager waits before it sends what changed in a group it has notified (new alerts, resolutions).
    "ray_cluster_alertmanager_group_interval": "1m",
    "ray_cluster_monitoring_retention_time": "15d",
    "ray_cluster_monitoring_retention_size": "10g",
    # Where the monitoring host keeps the web login's password (root only; ray_cluster_monitoring_password
    # from Vault, else derived from the cluster token).
    "ray_cluster_monitoring_password_file": "/etc/ray-cluster/monitoring_password",
    # Alertmanager's webhook receivers (none: alerts are kept and shown, sent nowhere).
    "ray_cluster_alertmanager_webhook_urls": [],
    # Grafana next to Prometheus (needs ray_cluster_monitoring and an image the monitoring host can
    # get): the Prometheus datasource and the dashboards (Ray's own and the cluster overview).
    "ray_cluster_grafana": False,
    "ray_cluster_grafana_image": GRAFANA_IMAGE,
    "ray_cluster_grafana_port": 3000,
    # Log aggregation (needs ray_cluster_monitoring): every host ships its Ray nodes' log files and
    # container output to a receiver on the monitoring host (rsyslog, RELP over TLS, from the monitoring
    # image), which keeps them per host and node under the store directory, within the budget and age.
    "ray_cluster_log_aggregation": False,
    "ray_cluster_log_receiver_port": 2514,
    "ray_cluster_log_store_dir": "/var/log/ray-cluster-store",
    "ray_cluster_log_store_budget": "10g",
    "ray_cluster_log_store_max_age_days": 14,
    # Each host's shipper queues on disk up to this much while the receiver is away.
    "ray_cluster_log_queue_max": "1g",
    # Celery (on when group celery_broker has a host): module_utils/_celery.py.
    **CELERY_DEFAULTS,
}
HOST_DEFAULTS: dict[str, Any] = {
    "ray_node_ip": None,
    "ray_worker_count": 0,
    "ray_worker_spec": {},
    "ray_worker_overrides": [],
    "ray_head_spec": {},
    **CELERY_HOST_DEFAULTS,
}
# The variables the planner itself reads (the known names start from these).
PLANNER_VARIABLES = frozenset({*CLUSTER_DEFAULTS, *HOST_DEFAULTS})
# Ports that stay fixed whatever the node count: no node port block may include one.
FIXED_PORT_VARIABLES = (
    "ray_cluster_ssh_port",
    "ray_cluster_gcs_port",
    "ray_cluster_dashboard_port",
    "ray_cluster_client_port",
    "ray_cluster_autoscaler_metrics_port",
    "ray_cluster_dashboard_metrics_port",
    "ray_cluster_gcs_redis_port",
)
# Fixed too, while ray_cluster_monitoring is on.
MONITORING_PORT_VARIABLES = (
    "ray_cluster_prometheus_port",
    "ray_cluster_alertmanager_port",
    "ray_cluster_node_exporter_port",
    "ray_cluster_docker_metrics_port",
)
# Fixed too, while ray_cluster_grafana is on.
GRAFANA_PORT_VARIABLES = ("ray_cluster_grafana_port",)
# Fixed too, while ray_cluster_log_aggregation is on.
LOG_PORT_VARIABLES = ("ray_cluster_log_receiver_port",)
AUTH_MODES = ("disabled", "token")
AUTH_TOKEN_MIN_VERSION = (2, 52, 0)
DASHBOARD_BINDS = ("node_ip", "loopback", "all")
GCS_STORAGES = ("none", "rocksdb", "redis")
# The Redis server of GCS storage redis: its container on the head host and the ACL user the head
# logs in as (Redis's default user is switched off).
GCS_REDIS_CONTAINER = "ray-gcs-redis"
GCS_REDIS_USERNAME = "ray"
# The oldest Ray release checked to have the embedded GCS storage (ray/_private/node.py).
GCS_ROCKSDB_MIN_VERSION = (2, 59, 0)
# A raylet's wait for a lost GCS, by storage: without stored state a restarted head is a new
# cluster, so workers should give up soon and rejoin it; with it they wait out a head restart
# (a crash, `docker restart`, a reboot of the head's server) and keep running.
GCS_RECONNECT_DEFAULT_S = {"none": 20, "rocksdb": 60, "redis": 60}
# Of the Redis container's memory limit, the share Redis may fill (maxmemory): with the
# noeviction policy a full Redis refuses writes with an error instead of being killed by the
# kernel, and never drops a key (an evicted key would corrupt the GCS's tables).
GCS_REDIS_MAXMEMORY_SHARE = 0.9

_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")


# --------------------------------------------------------------------------- firewall sources


def source_min_prefix(value: Any) -> dict[str, int]:
    """``ray_cluster_source_min_prefix``: ``{ipv4: 1-32, ipv6: 1-128}``, a missing family keeps its default."""
    if not isinstance(value, Mapping) or not set(value) <= set(SOURCE_MIN_PREFIX_DEFAULT):
        raise PlanError(None, SOURCE_MIN_PREFIX_VARIABLE, value, "expected a mapping such as {ipv4: 8, ipv6: 32}")
    result = dict(SOURCE_MIN_PREFIX_DEFAULT)
    for family, bits in _ADDRESS_BITS.items():
        if family not in value:
            continue
        number = value[family]
        text = str(number).strip() if isinstance(number, (int, str)) and not isinstance(number, bool) else ""
        if not text.isdigit() or not 1 <= int(text) <= bits:
            raise PlanError(None, f"{SOURCE_MIN_PREFIX_VARIABLE}.{family}", number, f"expected a prefix length from 1 to {bits}")
        result[family] = int(text)
    return result


def source_width_problem(source: str, minimum: Mapping[str, int]) -> str | None:
    """Why a Ray firewall source is too wide, or None. IPv4-mapped IPv6 networks count as IPv4."""
    if source == "any":
        return None
    network = ipaddress.ip_network(source)
    family, prefix = f"ipv{network.version}", network.prefixlen
    if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
        family, prefix = "ipv4", prefix - _IPV4_MAPPED.prefixlen
    floor = minimum[family]
    advice = f"list your networks (prefix /{floor} or longer, {SOURCE_MIN_PREFIX_VARIABLE})"
    if prefix == 0:
        return f"{source} is the whole IPv{family[-1]} address space: it would open Ray's ports to everyone; {advice}"
    if prefix < floor:
        return f"{source} is wider than /{floor}: it would open Ray's ports to far more hosts than a cluster has; {advice}"
    return None


def check_sources(settings: dict[str, Any]) -> None:
    """Firewall sources (already parsed): SSH open to someone, Ray's ports to no more than networks."""
    settings[SOURCE_MIN_PREFIX_VARIABLE] = minimum = source_min_prefix(settings[SOURCE_MIN_PREFIX_VARIABLE])
    if not settings["ray_cluster_ssh_sources"]:
        raise PlanError(
            None,
            "ray_cluster_ssh_sources",
            [],
            "SSH would be closed by UFW's default deny: you would lock yourself out; "
            "list the networks you connect from, or keep the default [any]",
        )
    for key in ("ray_cluster_allowed_sources", "ray_cluster_admin_sources", "celery_client_sources"):
        for source in settings[key]:
            problem = source_width_problem(source, minimum)
            if problem:
                raise PlanError(None, key, settings[key], problem)


# --------------------------------------------------------------------------- one variable each
# A rule takes the value and the variable's name and returns the value the plan keeps.

Rule = Callable[[Any, str], Any]


def _release(value: Any, variable: str) -> str:
    return "{}.{}.{}".format(*parse_version(value, None, variable))


def _python_minor(value: Any, variable: str) -> str:
    text = str(value)
    if not re.fullmatch(r"3\.\d+", text):
        raise PlanError(None, variable, text, "expected a Python minor version such as 3.11")
    return text


def _project_name(value: Any, variable: str) -> Any:
    if not _PROJECT_RE.match(str(value)):
        raise PlanError(None, variable, value, "expected lower-case letters, digits, '_' or '-' (a compose project name)")
    return value


def _source_list(value: Any, variable: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list):
        raise PlanError(None, variable, value, "expected a list of addresses or CIDR networks")
    return [parse_source(item, None, variable) for item in value]


def _port(value: Any, variable: str) -> int:
    return parse_port(value, None, variable)


def _at_least(minimum: int) -> Rule:
    return lambda value, variable: parse_whole_number(value, None, variable, minimum=minimum)


def _optional(rule: Rule) -> Rule:
    """``rule``, or None (null, or the empty string -e passes) for "derive it"."""
    return lambda value, variable: None if value is None or value == "" else rule(value, variable)


def _port_range(value: Any, variable: str) -> list[int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise PlanError(None, variable, value, "expected [low, high]")
    return [parse_port(value[0], None, variable), parse_port(value[1], None, variable)]


def _one_of(choices: tuple[str, ...]) -> Rule:
    def rule(value: Any, variable: str) -> Any:
        if value not in choices:
            raise PlanError(None, variable, value, f"expected one of {', '.join(choices)}")
        return value

    return rule


def _size_text(value: Any, variable: str) -> Any:
    parse_size(value, None, variable)  # checked, kept as written (compose reads it)
    return value


def _label_prefix(value: Any, variable: str) -> Any:
    if not LABEL_RE.match(str(value)):
        raise PlanError(None, variable, value, "expected a label prefix such as com.example")
    return value


def _mount_path(value: Any, variable: str) -> Any:
    """A host path the containers mount: absolute, of letters, digits and ``_ . / -`` only (a space or a
    ``:`` would break the compose file's volume entry)."""
    if not str(value).startswith("/"):
        raise PlanError(None, variable, value, "expected an absolute path")
    if not re.fullmatch(r"/[A-Za-z0-9_./-]+", str(value)):
        raise PlanError(None, variable, value, "expected a path of letters, digits and _ . / - only (the containers mount it)")
    return value


def _absolute_path(value: Any, variable: str) -> Any:
    if not str(value).startswith("/"):
        raise PlanError(None, variable, value, "expected an absolute path")
    return value


_DURATION_RE = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def _duration(value: Any, variable: str) -> str:
    """A Prometheus duration such as 15s, 2m or 1h30m."""
    if not isinstance(value, str) or not _DURATION_RE.match(value) or not re.search(r"[1-9]", value):
        raise PlanError(None, variable, value, "expected a Prometheus duration such as 15s, 2m or 1h30m")
    return value


def _url_list(value: Any, variable: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list):
        raise PlanError(None, variable, value, "expected a list of http:// or https:// URLs")
    for url in value:
        if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            raise PlanError(None, variable, url, "expected an http:// or https:// URL")
    return list(value)


# [registry[:port]/]repository[:tag][@sha256:digest]
_IMAGE_RE = re.compile(
    r"(?:[A-Za-z0-9.-]+(?::\d+)?/)?[a-z0-9][a-z0-9._/-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?(?:@sha256:[0-9a-f]{64})?"
)


def _image_name(value: Any, variable: str) -> str:
    if not isinstance(value, str) or not _IMAGE_RE.fullmatch(value):
        raise PlanError(None, variable, value, "expected an image name such as registry.example/monitoring:1.0")
    return value


def _requirement(value: Any, variable: str) -> str:
    """A pip requirement (``name==1.0``, ``name @ https://...``): one line, no option."""
    if not isinstance(value, str) or "\n" in value or value.strip().startswith("-"):
        raise PlanError(None, variable, value, "expected one pip requirement such as mypackage==1.2.0")
    return value.strip()


def _boolean(value: Any, variable: str) -> bool:
    # -e ray_cluster_confirm_removal=true on the command line is the string "true": every switch
    # takes the words true/yes/false/no as well as YAML's booleans, and nothing else.
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
        value = value.strip().lower() in ("true", "yes")
    if not isinstance(value, bool):
        raise PlanError(None, variable, value, "expected true or false")
    return value


def _share(value: Any, variable: str) -> float:
    share = parse_number(value, None, variable)
    if not 0 < share <= 1:
        raise PlanError(
            None,
            variable,
            value,
            "expected a share of the cluster's nodes greater than 0 and at most 1 (0.25 = a quarter)",
        )
    return share


# In the order they are checked.
_RULES: tuple[tuple[str, Rule], ...] = (
    ("ray_cluster_version", _release),
    ("ray_cluster_python_version", _python_minor),
    ("ray_cluster_name", _project_name),
    ("ray_cluster_allowed_sources", _source_list),
    ("ray_cluster_admin_sources", _source_list),
    ("ray_cluster_ssh_sources", _source_list),
    *(
        (key, _port)
        for key in (
            *FIXED_PORT_VARIABLES,
            *MONITORING_PORT_VARIABLES,
            *GRAFANA_PORT_VARIABLES,
            *LOG_PORT_VARIABLES,
            "ray_cluster_port_base",
        )
    ),
    ("ray_cluster_worker_ports_per_node", _at_least(1)),
    ("ray_cluster_ephemeral_port_range", _port_range),
    ("ray_cluster_dashboard_bind", _one_of(DASHBOARD_BINDS)),
    ("ray_cluster_auth_mode", _one_of(AUTH_MODES)),
    ("ray_cluster_gcs_reconnect_timeout_s", _optional(_at_least(5))),
    ("ray_cluster_gcs_storage", _one_of(GCS_STORAGES)),
    ("ray_cluster_gcs_storage_dir", _mount_path),
    ("ray_cluster_gcs_redis_memory", _size_text),
    ("ray_cluster_log_max_files", _at_least(1)),
    ("ray_cluster_log_max_size", _size_text),
    ("ray_cluster_node_log_dir", _mount_path),
    ("ray_cluster_node_log_file_size", _size_text),
    ("ray_cluster_node_log_file_backups", _at_least(1)),
    ("ray_cluster_node_log_budget", _size_text),
    ("ray_cluster_label_prefix", _label_prefix),
    ("ray_cluster_auth_token_file", _mount_path),
    ("ray_cluster_compose_dir", _absolute_path),
    ("ray_cluster_stagger_worker_start", _boolean),
    ("ray_cluster_allow_oversubscription", _boolean),
    ("ray_cluster_confirm_removal", _boolean),
    ("ray_cluster_removal_max_share", _share),
    ("ray_cluster_monitoring", _boolean),
    ("ray_cluster_monitoring_image", _image_name),
    ("ray_cluster_monitoring_scrape_interval", _duration),
    ("ray_cluster_monitoring_alert_for", _duration),
    ("ray_cluster_alertmanager_group_interval", _duration),
    ("ray_cluster_monitoring_retention_time", _duration),
    ("ray_cluster_monitoring_retention_size", _size_text),
    ("ray_cluster_monitoring_password_file", _absolute_path),
    ("ray_cluster_alertmanager_webhook_urls", _url_list),
    ("ray_cluster_grafana", _boolean),
    ("ray_cluster_grafana_image", _image_name),
    ("ray_cluster_log_aggregation", _boolean),
    ("ray_cluster_log_store_dir", _mount_path),
    ("ray_cluster_log_store_budget", _size_text),
    ("ray_cluster_log_store_max_age_days", _at_least(1)),
    ("ray_cluster_log_queue_max", _size_text),
    ("celery_image", _image_name),
    ("celery_app_source", _optional(_absolute_path)),
    ("celery_app_requirement", _optional(_requirement)),
    ("celery_app_image", _optional(_image_name)),
    ("celery_broker_port", _port),
    ("celery_broker_memory", _size_text),
    ("celery_broker_data_dir", _mount_path),
    ("celery_client_sources", _source_list),
    ("celery_flower_port", _port),
    ("celery_flower_memory", _size_text),
    ("celery_task_time_limit_s", _at_least(1)),
    ("celery_visibility_timeout_s", _optional(_at_least(1))),
    ("celery_prefetch_multiplier", _at_least(1)),
    ("celery_worker_stop_timeout_s", _at_least(1)),
)


# --------------------------------------------------------------------------- across variables
# Each takes the settings, every single variable already checked, and may add to them.


def _image(settings: dict[str, Any]) -> None:
    if not settings["ray_cluster_image"]:
        python = settings["ray_cluster_python_version"].replace(".", "")
        settings["ray_cluster_image"] = f"wizardsofts/ray:{settings['ray_cluster_version']}-py{python}"
    # Not an inventory variable: the ray_image role's ray_image_build_extra_packages defaults to it.
    settings["_image_extra_packages"] = RAY_IMAGE_EXTRA_PACKAGES
    settings["_image_system_packages"] = RAY_IMAGE_SYSTEM_PACKAGES


def _no_open_ray_ports(settings: dict[str, Any]) -> None:
    for key in ("ray_cluster_allowed_sources", "ray_cluster_admin_sources", "celery_client_sources"):
        if "any" in settings[key]:
            raise PlanError(None, key, settings[key], "'any' would open Ray's ports to everyone; list networks instead")


def _distinct_fixed_ports(settings: dict[str, Any]) -> None:
    monitoring = MONITORING_PORT_VARIABLES if settings["ray_cluster_monitoring"] else ()
    grafana = GRAFANA_PORT_VARIABLES if settings["ray_cluster_monitoring"] and settings["ray_cluster_grafana"] else ()
    logs = LOG_PORT_VARIABLES if settings["ray_cluster_log_aggregation"] else ()
    fixed = {key: settings[key] for key in (*FIXED_PORT_VARIABLES, *monitoring, *grafana, *logs)}
    seen: dict[int, str] = {}
    for key, port in fixed.items():
        if port in seen:
            raise PlanError(None, key, port, f"the same port as {seen[port]}")
        seen[port] = key
    settings["_fixed_ports"] = fixed


def _token_needs_release(settings: dict[str, Any]) -> None:
    version = settings["ray_cluster_version"]
    if settings["ray_cluster_auth_mode"] == "token" and parse_version(version) < AUTH_TOKEN_MIN_VERSION:
        raise PlanError(
            None,
            "ray_cluster_auth_mode",
            "token",
            f"token authentication needs Ray >= 2.52.0, ray_cluster_version is {version}",
        )


def _gcs_storage(settings: dict[str, Any]) -> None:
    storage, version = settings["ray_cluster_gcs_storage"], settings["ray_cluster_version"]
    if storage == "rocksdb" and parse_version(version) < GCS_ROCKSDB_MIN_VERSION:
        raise PlanError(
            None,
            "ray_cluster_gcs_storage",
            storage,
            f"the embedded GCS storage needs Ray >= 2.59.0, ray_cluster_version is {version} (set none)",
        )
    if storage == "redis" and settings["ray_cluster_auth_mode"] != "token":
        raise PlanError(
            None,
            "ray_cluster_gcs_storage",
            storage,
            "the Redis the collection runs takes its password from the cluster token:"
            f" set ray_cluster_auth_mode=token (it is {settings['ray_cluster_auth_mode']})",
        )
    if storage == "redis" and parse_size(settings["ray_cluster_gcs_redis_memory"]) < 64 * 2**20:
        raise PlanError(
            None,
            "ray_cluster_gcs_redis_memory",
            settings["ray_cluster_gcs_redis_memory"],
            "the GCS's Redis needs at least 64m",
        )
    if settings["ray_cluster_gcs_reconnect_timeout_s"] is None:
        settings["ray_cluster_gcs_reconnect_timeout_s"] = GCS_RECONNECT_DEFAULT_S[storage]


# Prometheus takes its size limit in whole MB, and 0 switches the limit off: less than this is refused.
MONITORING_RETENTION_SIZE_MIN = 64 * 2**20


def _monitoring(settings: dict[str, Any]) -> None:
    size = settings["ray_cluster_monitoring_retention_size"]
    if settings["ray_cluster_monitoring"] and parse_size(size) < MONITORING_RETENTION_SIZE_MIN:
        raise PlanError(
            None,
            "ray_cluster_monitoring_retention_size",
            size,
            "Prometheus needs at least 64m for its data (a smaller limit would round to 0 MB: no limit at all)",
        )


# Ray rotates a file at 1 MiB at the least; a node's budget holds at least two files' rotations (the
# raylet's and one worker's, each the current file and its backups).
NODE_LOG_FILE_SIZE_MIN = 2**20
NODE_LOG_BUDGET_ROTATIONS = 2


def _node_logs(settings: dict[str, Any]) -> None:
    size = parse_size(settings["ray_cluster_node_log_file_size"])
    if size < NODE_LOG_FILE_SIZE_MIN:
        raise PlanError(
            None, "ray_cluster_node_log_file_size", settings["ray_cluster_node_log_file_size"], "expected at least 1m"
        )
    rotation = size * (settings["ray_cluster_node_log_file_backups"] + 1)
    budget = settings["ray_cluster_node_log_budget"]
    if parse_size(budget) < NODE_LOG_BUDGET_ROTATIONS * rotation:
        raise PlanError(
            None,
            "ray_cluster_node_log_budget",
            budget,
            f"a node's log budget must hold at least {NODE_LOG_BUDGET_ROTATIONS} files with their backups"
            f" ({NODE_LOG_BUDGET_ROTATIONS} x {settings['ray_cluster_node_log_file_size']}"
            f" x {settings['ray_cluster_node_log_file_backups'] + 1}): raise it, or lower ray_cluster_node_log_file_size"
            " or ray_cluster_node_log_file_backups",
        )


# The smallest store and shipper queue the plan accepts.
LOG_STORE_BUDGET_MIN = 64 * 2**20
LOG_QUEUE_MIN = 16 * 2**20


def _log_aggregation(settings: dict[str, Any]) -> None:
    if not settings["ray_cluster_log_aggregation"]:
        return
    if not settings["ray_cluster_monitoring"]:
        raise PlanError(
            None,
            "ray_cluster_log_aggregation",
            True,
            "the log receiver runs on the monitoring host, from the monitoring image: set ray_cluster_monitoring: true",
        )
    for key, minimum, shown in (
        ("ray_cluster_log_store_budget", LOG_STORE_BUDGET_MIN, "64m"),
        ("ray_cluster_log_queue_max", LOG_QUEUE_MIN, "16m"),
    ):
        if parse_size(settings[key]) < minimum:
            raise PlanError(None, key, settings[key], f"expected at least {shown}")
    store, nodes = (settings[key].rstrip("/") + "/" for key in ("ray_cluster_log_store_dir", "ray_cluster_node_log_dir"))
    if store.startswith(nodes) or nodes.startswith(store):
        raise PlanError(
            None,
            "ray_cluster_log_store_dir",
            settings["ray_cluster_log_store_dir"],
            f"must be apart from ray_cluster_node_log_dir ({settings['ray_cluster_node_log_dir']}): the received logs"
            " would mix with the nodes' own, and the nodes' pruner would remove them",
        )


_CROSS_RULES: tuple[Callable[[dict[str, Any]], None], ...] = (
    _image,
    _no_open_ray_ports,
    check_sources,
    _distinct_fixed_ports,
    _token_needs_release,
    _gcs_storage,
    _monitoring,
    _node_logs,
    _log_aggregation,
    check_celery_settings,
)


# --------------------------------------------------------------------------- the settings


def cluster_settings(hosts: dict[str, dict[str, Any]], known: Collection[str] | None = None) -> dict[str, Any]:
    """Read cluster-wide variables; they must be the same on every host.

    Every host variable with one of the collection's prefixes must be in ``known`` (default: the
    planner's own inputs, the collection's facts and the playbooks' extra vars).
    """
    check_variable_names(hosts, known_variables(PLANNER_VARIABLES) if known is None else known)
    settings: dict[str, Any] = {}
    for key, default in CLUSTER_DEFAULTS.items():
        seen = {name: hosts[name].get(key, default) for name in sorted(hosts)}
        values = list(seen.values())
        if any(value != values[0] for value in values):
            shown = ", ".join(f"{name}={plain(value)!r}" for name, value in seen.items())
            raise PlanError(None, key, shown, "must be the same on every cluster host")
        settings[key] = values[0] if values else default
    return validate_settings(settings)


def validate_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """Each variable by its rule, then the rules across variables; the values the plan keeps."""
    settings = dict(raw)
    for key, rule in _RULES:
        settings[key] = rule(settings[key], key)
    for check in _CROSS_RULES:
        check(settings)
    return settings
