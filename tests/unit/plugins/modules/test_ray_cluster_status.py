# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_cluster_status module: its docs and argument spec (the logic is in test_status.py)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from ansible_cli import needs_ansible_cli, run_cli

from ansible_collections.wizardsofts.ray_cluster.plugins.modules import ray_cluster_status


def test_return_documents_the_facts() -> None:
    facts = yaml.safe_load(ray_cluster_status.RETURN)["ansible_facts"]["contains"]["ray_cluster"]["contains"]
    assert set(facts) == {
        "nodes",
        "alive_nodes",
        "expected_node_count",
        "missing",
        "missing_by_host",
        "unexpected",
        "whole",
        "per_host",
        "source",
        "dashboard_error",
        "status",
        "status_error",
        "status_text",
        "attempts",
        "elapsed",
        "gcs_storage",
    }


@needs_ansible_cli
def test_a_redis_address_needs_its_username(tmp_path: Path) -> None:
    """The ACL user comes from the plan (cluster.gcs_redis.username), never from a default of its own."""
    args = json.dumps({"gcs_redis_address": "127.0.0.1:6380", "docker_cli": "/bin/true"})
    proc = run_cli("ansible", "localhost", "-m", "wizardsofts.ray_cluster.ray_cluster_status", "-a", args, tmp_path=tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "gcs_redis_username is required with gcs_redis_address" in proc.stdout, proc.stdout
