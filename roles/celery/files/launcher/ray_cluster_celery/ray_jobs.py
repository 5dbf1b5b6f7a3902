# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Submit Ray jobs from Celery tasks through Ray's Jobs REST API, with the cluster's token.

The jobs URL and the token file come from the launcher's configuration (``ray.jobs_url``,
``ray.token_file``); the token is sent as ``Authorization: Bearer <token>`` and never logged.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from .config import ConfigError, load_config, read_secret

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})


class RayJobError(RuntimeError):
    """The Jobs API answered with an error, or a job did not end in time."""


def _settings(jobs_url: str | None = None, token: str | None = None) -> tuple[str, str | None]:
    if jobs_url is None:
        cfg = load_config()
        if not cfg.ray.jobs_url:
            raise ConfigError("the configuration has no 'ray.jobs_url'")
        jobs_url = cfg.ray.jobs_url
        token = read_secret(cfg.ray.token_file, "Ray token") if token is None else token
    return jobs_url.rstrip("/"), token


def _request(method: str, url: str, token: str | None, body: Any = None, timeout: float = 30) -> Any:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if not url.startswith(("http://", "https://")):
        raise RayJobError(f"the Ray jobs URL must be http(s)://, not {url.split(':', 1)[0]}:")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - checked above
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise RayJobError(f"{method} {url}: HTTP {exc.code}: {detail}") from None


def submit(
    entrypoint: str,
    runtime_env: dict[str, Any] | None = None,
    *,
    metadata: dict[str, str] | None = None,
    jobs_url: str | None = None,
    token: str | None = None,
) -> str:
    """POST {jobs_url}/api/jobs/ and return the submission id."""
    url, token = _settings(jobs_url, token)
    body: dict[str, Any] = {"entrypoint": entrypoint}
    if runtime_env:
        body["runtime_env"] = runtime_env
    if metadata:
        body["metadata"] = metadata
    reply = _request("POST", f"{url}/api/jobs/", token, body)
    submission_id = (reply or {}).get("submission_id") or (reply or {}).get("job_id")
    if not submission_id:
        raise RayJobError(f"the Jobs API gave no submission id: {reply!r}")
    return str(submission_id)


def status(submission_id: str, *, jobs_url: str | None = None, token: str | None = None) -> dict[str, Any]:
    """GET {jobs_url}/api/jobs/{id}: the job's document (``status``, ``message``, ...)."""
    url, token = _settings(jobs_url, token)
    return _request("GET", f"{url}/api/jobs/{submission_id}", token) or {}


def wait(
    submission_id: str, timeout: float = 600, *, poll_s: float = 2.0, jobs_url: str | None = None, token: str | None = None
) -> str:
    """Poll until the job is SUCCEEDED, FAILED or STOPPED and return that status."""
    url, token = _settings(jobs_url, token)
    deadline = time.monotonic() + timeout
    while True:
        state = str(status(submission_id, jobs_url=url, token=token).get("status", ""))
        if state in TERMINAL:
            return state
        if time.monotonic() >= deadline:
            raise RayJobError(f"Ray job {submission_id} still {state or 'unknown'} after {timeout}s")
        time.sleep(poll_s)
