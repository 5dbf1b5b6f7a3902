# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/module_utils/_lifecycle.py."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._lifecycle import (
    engine_problems,
    engine_versions,
    version_problems,
    versions_seen,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import token_fingerprint

TOKEN = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)


def test_token_fingerprint_is_the_sha256_prefix() -> None:
    fingerprint = token_fingerprint(TOKEN)
    assert fingerprint == hashlib.sha256(TOKEN.encode()).hexdigest()[:32]
    assert len(fingerprint) == 32
    assert TOKEN not in fingerprint


def test_token_fingerprint_differs_per_token() -> None:
    assert token_fingerprint(TOKEN) != token_fingerprint(TOKEN[:-1] + "2")


@pytest.mark.parametrize("token", ["", None, 42], ids=["empty", "none", "number"])
def test_token_fingerprint_needs_a_token(token: Any) -> None:
    with pytest.raises(ValueError, match="no token to fingerprint"):
        token_fingerprint(token)


def _result(name: str, stdout: str = "", rc: int = 0, stderr: str = "") -> dict[str, Any]:
    return {"item": {"name": name, "role": "worker"}, "stdout": stdout, "stderr": stderr, "rc": rc, "changed": False}


def test_versions_seen() -> None:
    results = [
        _result("ray-head", "2.60.0 3.11.9\n"),
        _result("ray-worker-1", rc=1, stderr="ModuleNotFoundError: No module named 'ray'\n"),
    ]
    assert versions_seen(results) == {
        "ray-head": "2.60.0 3.11.9",
        "ray-worker-1": "exit code 1: ModuleNotFoundError: No module named 'ray'",
    }


@pytest.mark.parametrize(
    ("seen", "expected"),
    [
        ({"ray-head": "2.60.0 3.11.9", "ray-worker-1": "2.60.0 3.11.2"}, []),
        (
            {"ray-head": "2.60.0 3.11.9", "ray-worker-1": "2.59.0 3.11.9"},
            ["ray-worker-1: runs Ray 2.59.0 on Python 3.11.9, the plan says Ray 2.60.0 on Python 3.11"],
        ),
        (
            {"ray-worker-2": "2.60.0 3.12.1"},
            ["ray-worker-2: runs Ray 2.60.0 on Python 3.12.1, the plan says Ray 2.60.0 on Python 3.11"],
        ),
        (
            {"ray-worker-3": "3.0.0.dev0 3.11.9"},
            ["ray-worker-3: runs Ray 3.0.0.dev0 on Python 3.11.9, the plan says Ray 2.60.0 on Python 3.11"],
        ),
        ({"ray-worker-4": "3.11.9"}, ["ray-worker-4: printed '3.11.9', expected '<ray version> <python version>'"]),
        (
            {"ray-worker-5": "exit code 1: boom"},
            ["ray-worker-5: printed 'exit code 1: boom', expected '<ray version> <python version>'"],
        ),
        ({}, []),
    ],
    ids=["as-planned", "old-ray", "other-python", "dev-release", "one-word", "failed-probe", "no-nodes"],
)
def test_version_problems(seen: dict[str, str], expected: list[str]) -> None:
    assert version_problems(seen, "2.60.0", "3.11") == expected


def test_version_problems_refuses_a_bad_planned_version() -> None:
    with pytest.raises(ValueError, match="expected a Ray release"):
        version_problems({"ray-head": "2.60.0 3.11.9"}, "2.60", "3.11")


def _info(engine: Any, compose: Any = None, **plugins: str) -> dict[str, Any]:
    """A ``docker info`` report with the fields the engine check reads (and a few it must ignore)."""
    listed = [{"SchemaVersion": "0.1.0", "Vendor": "Docker Inc.", "Version": v, "Name": n} for n, v in plugins.items()]
    if compose is not None:
        listed.append({"SchemaVersion": "0.1.0", "Vendor": "Docker Inc.", "Version": compose, "Name": "compose"})
    return {"ServerVersion": engine, "OperatingSystem": "Debian GNU/Linux 12", "ClientInfo": {"Plugins": listed}}


@pytest.mark.parametrize(
    ("engine", "compose"),
    [
        ("25.0", "v2.24.0"),
        ("26.1.5+dfsg1", "2.26.1-4"),  # Debian's packages
        ("28.3.2", "v2.38.2"),  # docker-ce
        ("25.0.0-rc.1", "v2.24.0-desktop.1"),  # suffixes ignored
        ("100.0.0", "v10.0.0"),  # compared as numbers, not text
        ("25", "v2.24"),  # missing parts are zeros
    ],
)
def test_engine_problems_accepts_recent_enough(engine: str, compose: str) -> None:
    assert engine_problems(_info(engine, compose, buildx="v0.10.4"), "25.0", "2.24.0") == []


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (
            _info("20.10.24+dfsg1"),
            ["Docker Engine 20.10.24+dfsg1 is older than 25.0", "Compose v2 is missing (2.24.0 or later is required)"],
        ),
        (_info("24.0.9", "v2.24.0"), ["Docker Engine 24.0.9 is older than 25.0"]),
        (_info("26.1.5", "2.20.2"), ["Compose v2 2.20.2 is older than 2.24.0"]),
        (_info("26.1.5", "v2.9.0"), ["Compose v2 v2.9.0 is older than 2.24.0"]),  # 9 < 24 as numbers
        (_info("26.1.5", "dev"), ["Compose v2 reports version 'dev', which is not a release (2.24.0 or later is required)"]),
        ({}, ["Docker Engine is missing (25.0 or later is required)", "Compose v2 is missing (2.24.0 or later is required)"]),
        ({"ServerVersion": "26.1.5", "ClientInfo": None}, ["Compose v2 is missing (2.24.0 or later is required)"]),
    ],
)
def test_engine_problems_names_what_is_too_old_or_missing(info: dict[str, Any], expected: list[str]) -> None:
    assert engine_problems(info, "25.0", "2.24.0") == expected


def test_engine_versions_reads_the_compose_plugin_only() -> None:
    assert engine_versions(_info("26.1.5", "v2.26.1", buildx="v0.13.1")) == {"engine": "26.1.5", "compose": "v2.26.1"}


def test_engine_problems_refuses_a_minimum_that_is_not_a_release() -> None:
    with pytest.raises(ValueError, match="minimum Compose v2 version 'latest' is not a release"):
        engine_problems(_info("26.1.5", "2.26.1"), "25.0", "latest")
