# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""``ray-cluster-celery``: run a Celery app's worker or Flower with the collection's settings.

    ray-cluster-celery worker   the worker, in this process (PID 1 of its container: SIGTERM is
                                Celery's warm shutdown, `docker stop -t N` lets tasks finish)
    ray-cluster-celery flower   Flower for the same app and broker, basic auth from a file
    ray-cluster-celery ping     healthcheck: this worker answers `inspect ping` (exit 0/1)
    ray-cluster-celery status   JSON: broker reachable, queue depths, workers and active tasks

Configuration: the JSON file in env RAY_CLUSTER_CELERY_CONFIG (default
/etc/ray-cluster-celery/config.json). Secrets are read from the files it names, never from the
environment or the command line, and never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from .config import Config, ConfigError, broker_urls, celery_settings, import_app, load_config, read_secret


def configured_app(cfg: Config) -> tuple[Any, str]:
    """The user's app with the operator's settings applied, and the broker URL."""
    broker_url, result_backend = broker_urls(cfg)
    app = import_app(cfg.app)
    app.conf.update(celery_settings(cfg, broker_url, result_backend))
    return app, broker_url


def worker_name(cfg: Config) -> str:
    return cfg.worker.name or f"celery@{socket.gethostname()}"


def worker_argv(cfg: Config, loglevel: str = "INFO") -> list[str]:
    argv = ["worker", f"--loglevel={loglevel}", f"--hostname={worker_name(cfg)}", "-Q", ",".join(cfg.worker.queues)]
    if cfg.worker.concurrency:
        argv.append(f"--concurrency={cfg.worker.concurrency}")
    return argv


def flower_argv(cfg: Config) -> list[str]:
    f = cfg.flower
    if not f.address:
        # Flower would listen on every interface: the caller names the one it means.
        raise ConfigError("'flower.address' is required to run Flower")
    argv = ["flower", f"--address={f.address}", f"--port={f.port}"]
    if f.purge_offline_workers_s:
        argv.append(f"--purge_offline_workers={f.purge_offline_workers_s}")
    return argv


def flower_basic_auth(cfg: Config) -> str | None:
    """``user:password`` for Flower's FLOWER_BASIC_AUTH (set in this process's environment only)."""
    if cfg.flower.user is None:
        return None
    password = read_secret(cfg.flower.password_file, "Flower password")
    if "," in cfg.flower.user + password or ":" in cfg.flower.user:
        # Flower splits FLOWER_BASIC_AUTH on commas (several users) and each entry on the first colon.
        raise ConfigError("the Flower user must not contain ',' or ':', nor its password ','")
    return f"{cfg.flower.user}:{password}"


def cmd_worker(cfg: Config, args: argparse.Namespace) -> int:
    app, _ = configured_app(cfg)
    app.worker_main(worker_argv(cfg, args.loglevel))
    return 0


def cmd_flower(cfg: Config, args: argparse.Namespace) -> int:
    auth = flower_basic_auth(cfg)
    app, _ = configured_app(cfg)
    if auth:
        # Read by Flower when it parses its options; not in argv (`ps`) nor in the container's
        # configuration (`docker inspect`).
        os.environ["FLOWER_BASIC_AUTH"] = auth
    else:
        print("ray-cluster-celery: Flower runs WITHOUT authentication (no flower.user)", file=sys.stderr)
    rc = app.start(flower_argv(cfg))
    return int(rc or 0)


def cmd_ping(cfg: Config, args: argparse.Namespace) -> int:
    app, _ = configured_app(cfg)
    name = worker_name(cfg)
    try:
        replies = app.control.ping(destination=[name], timeout=args.timeout) or []
    except Exception as exc:
        print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    ok = any(reply.get(name, {}).get("ok") == "pong" for reply in replies)
    print(f"{name}: {'pong' if ok else 'no answer'}")
    return 0 if ok else 1


def cmd_status(cfg: Config, args: argparse.Namespace) -> int:
    import redis

    from .status import collect

    app, broker_url = configured_app(cfg)
    client = redis.Redis.from_url(broker_url, socket_timeout=args.timeout, socket_connect_timeout=args.timeout)
    doc = collect(app, client, args.queue or cfg.worker.queues, timeout=args.timeout)
    json.dump(doc, sys.stdout, indent=None if args.compact else 2, sort_keys=True)
    sys.stdout.write("\n")
    return 0 if doc["broker"]["reachable"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ray-cluster-celery", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config", help="the JSON configuration (default: env RAY_CLUSTER_CELERY_CONFIG or /etc/ray-cluster-celery/config.json)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="run the Celery worker")
    w.add_argument("--loglevel", default="INFO")
    sub.add_parser("flower", help="run Flower")
    p = sub.add_parser("ping", help="healthcheck: does this worker answer inspect ping")
    p.add_argument("--timeout", type=float, default=3.0)
    s = sub.add_parser("status", help="broker, queue depths and workers as JSON")
    s.add_argument("--timeout", type=float, default=2.0)
    s.add_argument("--compact", action="store_true")
    s.add_argument("--queue", action="append", help="a queue to measure (repeat it); default the worker's queues")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
        handler = {"worker": cmd_worker, "flower": cmd_flower, "ping": cmd_ping, "status": cmd_status}[args.command]
        return handler(cfg, args)
    except ConfigError as exc:
        print(f"ray-cluster-celery: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
