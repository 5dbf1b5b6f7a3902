# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Shared fixtures for the unit tests.

``<repo>/collections`` holds ``ansible_collections/wizardsofts/ray_cluster`` (a link to the
repository root), so putting it on ``sys.path`` makes the collection importable by its FQCN.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

WORKER_SPEC: dict[str, Any] = {"cpus": 0.5, "num_cpus": 2, "memory": "1g", "shm_size": "256m"}
HEAD_SPEC: dict[str, Any] = {"cpus": 0.5, "num_cpus": 2, "memory": "2g", "shm_size": "512m"}
# The seed topology: (host, node IP, worker count, num_cpus per worker).
LAB_TOPOLOGY = (
    ("lab-84", "172.28.84.84", 3, 3),
    ("lab-80", "172.28.84.80", 4, 2),
    ("lab-81", "172.28.84.81", 2, 2),
    ("lab-82", "172.28.84.82", 1, 2),
)
LAB_HEAD = "lab-84"


def make_lab_hosts() -> dict[str, dict[str, Any]]:
    """The seed topology as planner input (``build_plan``'s ``hosts`` argument)."""
    hosts: dict[str, dict[str, Any]] = {}
    for name, ip, count, num_cpus in LAB_TOPOLOGY:
        hosts[name] = {
            "ansible_host": f"ray-{name}",
            "ray_node_ip": ip,
            "ray_worker_count": count,
            "ray_worker_spec": {**WORKER_SPEC, "num_cpus": num_cpus},
        }
    hosts[LAB_HEAD]["ray_head_spec"] = dict(HEAD_SPEC)
    return copy.deepcopy(hosts)


@pytest.fixture
def lab_hosts() -> dict[str, dict[str, Any]]:
    """A fresh copy of the seed topology per test (tests may mutate it)."""
    return make_lab_hosts()


@pytest.fixture
def lab_groups() -> tuple[list[str], list[str]]:
    """``(head_hosts, worker_hosts)`` of the seed topology."""
    return [LAB_HEAD], [name for name, *_ in LAB_TOPOLOGY]
