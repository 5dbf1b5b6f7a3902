# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_status_facts filter."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_status import FilterModule, ray_status_facts

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "ray_status"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.txt"))


def test_registered() -> None:
    assert FilterModule().filters() == {"ray_status_facts": ray_status_facts}


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_fixture(name: str) -> None:
    assert ray_status_facts((FIXTURES / f"{name}.txt").read_text()) == json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "ray_status_facts: expected the output of `ray status`"),
        ("Error: connection refused", "got text starting with 'Error: connection refused'"),
        ("Node status\nActive:\n one node\n", "expected '<count> <node id or type>'"),
        ("Active:\n 1 a\nUsage:\n much CPU\n", "expected a resource usage line"),
        (None, "got a NoneType"),
        (["Active:"], "got a list"),
    ],
    ids=["empty", "garbage", "node-line", "usage-line", "none", "list"],
)
def test_errors(value: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError) as err:
        ray_status_facts(value)
    assert message in str(err.value)


def test_ansible_doc_renders() -> None:
    ansible_doc = REPO / ".venv" / "bin" / "ansible-doc"
    exe = str(ansible_doc) if ansible_doc.exists() else shutil.which("ansible-doc")
    if not exe:
        pytest.skip("ansible-doc not found")
    proc = subprocess.run(
        [exe, "-t", "filter", "wizardsofts.ray_cluster.ray_status_facts"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ray_status_facts" in proc.stdout
    assert "RETURN VALUES" in proc.stdout
