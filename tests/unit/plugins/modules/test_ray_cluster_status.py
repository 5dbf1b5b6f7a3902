# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_cluster_status module: its docs and argument spec (the logic is in test_status.py)."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.wizardsofts.ray_cluster.plugins.modules import ray_cluster_status

REPO = Path(__file__).resolve().parents[4]
MODULE_FILE = REPO / "plugins" / "modules" / "ray_cluster_status.py"


def argument_spec() -> dict[str, Any]:
    """The argument_spec literal passed to AnsibleModule in main()."""
    tree = ast.parse(MODULE_FILE.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "argument_spec":
            return ast.literal_eval(node.value)
    raise AssertionError("no argument_spec in the module")


def test_docs_match_argument_spec() -> None:
    options = yaml.safe_load(ray_cluster_status.DOCUMENTATION)["options"]
    spec = argument_spec()
    assert set(options) == set(spec)
    for name, want in spec.items():
        doc = options[name]
        assert doc["type"] == want["type"], name
        assert doc.get("default") == want.get("default"), name
        assert doc.get("elements") == want.get("elements"), name
        assert doc.get("required", False) == want.get("required", False), name


@pytest.mark.parametrize("section", ["DOCUMENTATION", "EXAMPLES", "RETURN"], ids=str)
def test_sections_are_yaml(section: str) -> None:
    assert yaml.safe_load(getattr(ray_cluster_status, section))


def test_return_documents_the_facts() -> None:
    facts = yaml.safe_load(ray_cluster_status.RETURN)["ansible_facts"]["contains"]["ray_cluster"]["contains"]
    assert set(facts) == {
        "nodes", "alive_nodes", "expected_node_count", "missing", "missing_by_host", "unexpected", "whole",
        "per_host", "source", "status", "status_error", "status_text", "attempts", "elapsed",
    }


def test_examples_use_documented_options() -> None:
    options = set(yaml.safe_load(ray_cluster_status.DOCUMENTATION)["options"])
    for task in yaml.safe_load(ray_cluster_status.EXAMPLES):
        args = task.get("wizardsofts.ray_cluster.ray_cluster_status")
        if args is not None:
            assert set(args) <= options


def test_ansible_doc_renders() -> None:
    ansible_doc = REPO / ".venv" / "bin" / "ansible-doc"
    exe = str(ansible_doc) if ansible_doc.exists() else shutil.which("ansible-doc")
    if not exe:
        pytest.skip("ansible-doc not found")
    proc = subprocess.run([exe, "wizardsofts.ray_cluster.ray_cluster_status"], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wait_timeout" in proc.stdout
    assert "RETURN VALUES" in proc.stdout
