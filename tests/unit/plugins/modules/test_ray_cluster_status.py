# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_cluster_status module: its docs and argument spec (the logic is in test_status.py)."""

from __future__ import annotations

import yaml

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
