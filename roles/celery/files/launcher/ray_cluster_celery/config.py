# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The launcher's configuration: the JSON file, the secrets it names, the Celery settings."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

CONFIG_ENV = "RAY_CLUSTER_CELERY_CONFIG"
DEFAULT_CONFIG_PATH = "/etc/ray-cluster-celery/config.json"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or wrong (the message never holds a secret)."""


@dataclass(frozen=True)
class Broker:
    address: str
    port: int = 6379
    password_file: str | None = None
    db: int = 0
    result_db: int = 1


@dataclass(frozen=True)
class Worker:
    name: str | None = None
    concurrency: int | None = None
    queues: tuple[str, ...] = ("celery",)


@dataclass(frozen=True)
class Flower:
    address: str | None = None
    port: int = 5555
    user: str | None = None
    password_file: str | None = None
    purge_offline_workers_s: int = 300


@dataclass(frozen=True)
class Ray:
    jobs_url: str | None = None
    token_file: str | None = None


@dataclass(frozen=True)
class Config:
    app: str
    broker: Broker
    visibility_timeout_s: int = 7200
    unacked_restore_interval_s: int = 10
    task_time_limit_s: int | None = 3600
    prefetch_multiplier: int = 1
    worker: Worker = field(default_factory=Worker)
    flower: Flower = field(default_factory=Flower)
    ray: Ray = field(default_factory=Ray)


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"'{key}' must be an object")
    return value


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"'{name}' must be an integer >= {minimum}, not {value!r}")
    return value


def _known(raw: dict[str, Any], where: str, keys: set[str]) -> None:
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}")


def parse_config(raw: Any) -> Config:
    """Validate the decoded JSON and return a :class:`Config` (secrets are not read here)."""
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a JSON object")
    _known(
        raw,
        "the configuration",
        {
            "app",
            "broker",
            "visibility_timeout_s",
            "unacked_restore_interval_s",
            "task_time_limit_s",
            "prefetch_multiplier",
            "worker",
            "flower",
            "ray",
        },
    )
    app = raw.get("app")
    if not isinstance(app, str) or not app.strip():
        raise ConfigError("'app' must name the Celery app: 'module:attribute' or 'module'")
    b = _section(raw, "broker")
    _known(b, "broker", {"address", "port", "password_file", "db", "result_db"})
    if not isinstance(b.get("address"), str) or not b["address"]:
        raise ConfigError("'broker.address' is required")
    broker = Broker(
        address=b["address"],
        port=_int(b.get("port", 6379), "broker.port", 1),
        password_file=b.get("password_file"),
        db=_int(b.get("db", 0), "broker.db"),
        result_db=_int(b.get("result_db", 1), "broker.result_db"),
    )
    w = _section(raw, "worker")
    _known(w, "worker", {"name", "concurrency", "queues"})
    queues = w.get("queues", ["celery"])
    if not isinstance(queues, list) or not queues or not all(isinstance(q, str) and q for q in queues):
        raise ConfigError("'worker.queues' must be a non-empty list of queue names")
    worker = Worker(
        name=w.get("name"),
        concurrency=None if w.get("concurrency") is None else _int(w["concurrency"], "worker.concurrency", 1),
        queues=tuple(queues),
    )
    f = _section(raw, "flower")
    _known(f, "flower", {"address", "port", "user", "password_file", "purge_offline_workers_s"})
    flower = Flower(
        address=f.get("address"),
        port=_int(f.get("port", 5555), "flower.port", 1),
        user=f.get("user"),
        password_file=f.get("password_file"),
        purge_offline_workers_s=_int(f.get("purge_offline_workers_s", 300), "flower.purge_offline_workers_s"),
    )
    if (flower.user is None) != (flower.password_file is None):
        raise ConfigError("'flower.user' and 'flower.password_file' go together")
    r = _section(raw, "ray")
    _known(r, "ray", {"jobs_url", "token_file"})
    visibility = _int(raw.get("visibility_timeout_s", 7200), "visibility_timeout_s", 1)
    limit = raw.get("task_time_limit_s", 3600)
    limit = None if limit is None else _int(limit, "task_time_limit_s", 1)
    if limit is not None and visibility <= limit:
        # A task still running when its visibility timeout ends is delivered a second time.
        raise ConfigError(
            f"'visibility_timeout_s' ({visibility}) must be longer than 'task_time_limit_s' ({limit}): "
            "Redis redelivers a task that is not acknowledged within the visibility timeout"
        )
    return Config(
        app=app.strip(),
        broker=broker,
        visibility_timeout_s=visibility,
        unacked_restore_interval_s=_int(raw.get("unacked_restore_interval_s", 10), "unacked_restore_interval_s", 1),
        task_time_limit_s=limit,
        prefetch_multiplier=_int(raw.get("prefetch_multiplier", 1), "prefetch_multiplier", 1),
        worker=worker,
        flower=flower,
        ray=Ray(jobs_url=r.get("jobs_url"), token_file=r.get("token_file")),
    )


def config_path() -> str:
    return os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH


def load_config(path: str | None = None) -> Config:
    path = path or config_path()
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    return parse_config(raw)


def read_secret(path: str | None, what: str) -> str | None:
    """The content of a secret file without its final line break; None when no file is configured."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    value = value.rstrip("\r\n")
    if not value:
        raise ConfigError(f"the {what} file {path} is empty")
    return value


def redis_url(address: str, port: int, db: int, password: str | None = None) -> str:
    """``redis://:<password>@address:port/db``, the password percent-quoted (kombu unquotes it)."""
    host = f"[{address}]" if ":" in address and not address.startswith("[") else address
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}"


def broker_urls(cfg: Config) -> tuple[str, str]:
    """(broker_url, result_backend) with the broker password read from its file."""
    password = read_secret(cfg.broker.password_file, "broker password")
    b = cfg.broker
    return redis_url(b.address, b.port, b.db, password), redis_url(b.address, b.port, b.result_db, password)


def celery_settings(cfg: Config, broker_url: str, result_backend: str) -> dict[str, Any]:
    """What ``app.conf.update`` gets: the reliability settings an operator expects of any app."""
    transport = {"visibility_timeout": cfg.visibility_timeout_s}
    # kombu's Redis transport gives a message back to its queue only when it has been unacknowledged
    # for the visibility timeout (a worker killed mid-task: its task waits that long), and looks
    # for such messages only every interval x throttle seconds (10 x 10 by default): every interval.
    broker_transport = {**transport, "unacked_restore_interval": cfg.unacked_restore_interval_s, "unacked_restore_throttle": 1}
    return {
        "broker_url": broker_url,
        "result_backend": result_backend,
        # A task is acknowledged after it ran, and given back when its worker process dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": cfg.prefetch_multiplier,
        "task_time_limit": cfg.task_time_limit_s,
        "broker_transport_options": broker_transport,
        "result_backend_transport_options": dict(transport),
        # Wait for the broker at start and reconnect forever.
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        # A lost broker connection cancels the running late-ack tasks: they are redelivered anyway,
        # so finishing them would run them twice (Celery 6's default; silences its warning).
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # Events and extended results for Flower and the status command.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "result_extended": True,
    }


def import_app(spec: str) -> Any:
    """The Celery app named by ``module:attribute`` (dotted attribute allowed) or ``module``.

    A bare module must have an ``app`` or ``celery`` attribute that is the app (``celery`` may
    also be a submodule holding ``app``, Celery's own ``-A proj`` convention).
    """
    from celery import Celery

    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise ConfigError(f"cannot import the Celery app '{spec}': no module")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import the Celery app '{spec}': {exc}") from None
    candidates: list[Any]
    if attr:
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise ConfigError(f"cannot import the Celery app '{spec}': {module_name} has no attribute {attr}")
            obj = getattr(obj, part)
        candidates = [obj]
    else:
        candidates = [getattr(module, "app", None), getattr(module, "celery", None)]
        sub = getattr(module, "celery", None)
        if sub is not None and not isinstance(sub, Celery):
            candidates.append(getattr(sub, "app", None))
        elif sub is None:
            with contextlib.suppress(ImportError):
                candidates.append(getattr(importlib.import_module(f"{module_name}.celery"), "app", None))
    for obj in candidates:
        if isinstance(obj, Celery):
            return obj
    raise ConfigError(f"'{spec}' is not a Celery app (use 'module:attribute', or a module with an 'app' or 'celery' attribute)")
