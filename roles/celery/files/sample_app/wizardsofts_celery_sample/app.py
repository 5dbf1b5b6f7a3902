# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The sample app's tasks. No broker or backend here: ``ray-cluster-celery`` supplies them."""

from __future__ import annotations

import hashlib
import socket
import time

from celery import Celery

app = Celery("wizardsofts_celery_sample")


class Flaky(Exception):
    """Raised by ``sample.flaky`` until it has failed often enough."""


@app.task(name="sample.cpu")
def cpu(n: int = 80000) -> dict:
    """Deterministic CPU work (n rounds of SHA-256; ~50-200 ms for the default n)."""
    t0 = time.perf_counter()
    digest = hashlib.sha256(str(n).encode()).digest()
    for _ in range(n):
        digest = hashlib.sha256(digest).digest()
    return {
        "n": n,
        "checksum": digest.hex()[:16],
        "hostname": cpu.request.hostname or socket.gethostname(),
        "ms": round((time.perf_counter() - t0) * 1000, 1),
    }


@app.task(
    name="sample.flaky",
    bind=True,
    autoretry_for=(Flaky,),
    max_retries=10,
    default_retry_delay=1,
    retry_backoff=False,
    retry_jitter=False,
)
def flaky(self, key: str, failures: int = 2) -> dict:
    """Fails ``failures`` times (counted by ``self.request.retries``), then succeeds."""
    attempt = self.request.retries
    if attempt < failures:
        raise Flaky(f"{key}: attempt {attempt + 1} of {failures + 1} fails on purpose")
    return {"key": key, "attempts": attempt + 1, "hostname": self.request.hostname}


@app.task(name="sample.long", bind=True)
def long(self, seconds: float = 10) -> dict:
    """Sleeps in small steps (so a time limit or a cancel lands promptly) and returns the hostname."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(min(0.2, max(0.0, seconds - (time.monotonic() - t0))))
    return {
        "seconds": seconds,
        "hostname": self.request.hostname,
        "retries": self.request.retries,
        "redelivered": bool((self.request.delivery_info or {}).get("redelivered")),
    }


@app.task(name="sample.submit_ray_job", bind=True)
def submit_ray_job(self, entrypoint: str, timeout: float = 600, runtime_env: dict | None = None) -> dict:
    """Submits ``entrypoint`` to the Ray cluster's Jobs API, waits for it, returns id + final status."""
    from ray_cluster_celery import ray_jobs

    submission_id = ray_jobs.submit(entrypoint, runtime_env=runtime_env, metadata={"celery_task_id": str(self.request.id)})
    return {"submission_id": submission_id, "status": ray_jobs.wait(submission_id, timeout), "hostname": self.request.hostname}
