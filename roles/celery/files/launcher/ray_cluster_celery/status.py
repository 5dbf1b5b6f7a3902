# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""``ray-cluster-celery status``: the broker, the queue depths and the workers, as JSON."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

# kombu's Redis transport (kombu/transport/redis.py): a queue with priorities is several lists,
# the plain name for priority 0 and "<name>\x06\x16<step>" for every other step.
PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)
# The transport's bookkeeping of delivered but not yet acknowledged messages (acks_late).
UNACKED_KEY = "unacked"


def queue_keys(queue: str, steps: Iterable[int] = PRIORITY_STEPS, sep: str = PRIORITY_SEP, prefix: str = "") -> list[str]:
    """Every Redis list that holds messages of ``queue`` (one per priority step)."""
    return [f"{prefix}{queue}" if not step else f"{prefix}{queue}{sep}{step}" for step in steps]


def queue_depths(
    client: Any, queues: Iterable[str], steps: Iterable[int] = PRIORITY_STEPS, sep: str = PRIORITY_SEP, prefix: str = ""
) -> dict[str, int]:
    """Messages waiting in each queue: the sum of LLEN over its priority lists (one pipeline)."""
    queues = list(queues)
    steps = list(steps)
    pipe = client.pipeline()
    for queue in queues:
        for key in queue_keys(queue, steps, sep, prefix):
            pipe.llen(key)
    sizes = pipe.execute()
    result: dict[str, int] = {}
    for i, queue in enumerate(queues):
        result[queue] = sum(int(n or 0) for n in sizes[i * len(steps) : (i + 1) * len(steps)])
    return result


def collect(app: Any, client: Any, queues: Iterable[str], timeout: float = 2.0, prefix: str = "") -> dict[str, Any]:
    """The status document; ``client`` is a redis-py client of the broker's database."""
    status: dict[str, Any] = {"broker": {"reachable": False}, "queues": {}, "workers": {}}
    t0 = time.monotonic()
    try:
        client.ping()
    except Exception as exc:
        status["broker"]["error"] = type(exc).__name__
        return status
    status["broker"] = {"reachable": True, "ping_ms": round((time.monotonic() - t0) * 1000, 1)}
    status["queues"] = queue_depths(client, queues, prefix=prefix)
    status["broker"]["unacked"] = int(client.hlen(f"{prefix}{UNACKED_KEY}") or 0)
    inspect = app.control.inspect(timeout=timeout)
    pings = inspect.ping() or {}
    active = (inspect.active() or {}) if pings else {}
    status["workers"] = {
        name: {"ok": reply.get("ok") == "pong", "active": len(active.get(name) or [])} for name, reply in sorted(pings.items())
    }
    return status
