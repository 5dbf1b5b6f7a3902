# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_cluster_deployed module: its docs, argument spec and main() (the logic is in test_changes.py)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wizardsofts.ray_cluster.plugins.modules import ray_cluster_deployed

REPO = Path(__file__).resolve().parents[4]
MODULE_FILE = REPO / "plugins" / "modules" / "ray_cluster_deployed.py"


def argument_spec() -> dict[str, Any]:
    """The argument_spec literal passed to AnsibleModule in main()."""
    tree = ast.parse(MODULE_FILE.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "argument_spec":
            return ast.literal_eval(node.value)
    raise AssertionError("no argument_spec in the module")


def test_docs_match_argument_spec() -> None:
    options = yaml.safe_load(ray_cluster_deployed.DOCUMENTATION)["options"]
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
    assert yaml.safe_load(getattr(ray_cluster_deployed, section))


def test_examples_use_documented_options() -> None:
    options = set(yaml.safe_load(ray_cluster_deployed.DOCUMENTATION)["options"])
    for task in yaml.safe_load(ray_cluster_deployed.EXAMPLES):
        args = task.get("wizardsofts.ray_cluster.ray_cluster_deployed")
        if args is not None:
            assert set(args) <= options


def run_main(args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        ray_cluster_deployed.main()
    return json.loads(capsys.readouterr().out)


def test_main_reads_files_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    present = tmp_path / "head" / "compose.yaml"
    present.parent.mkdir()
    present.write_text("services: {}\n", encoding="utf-8")
    missing = tmp_path / "workers" / "compose.yaml"
    for check_mode in (False, True):
        result = run_main({"files": [str(present), str(missing)], "_ansible_check_mode": check_mode}, capsys)
        assert result["changed"] is False
        assert result["deployed"] == {str(present): "services: {}\n", str(missing): None}


def test_main_fails_with_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main({"files": [str(tmp_path)]}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"ray_cluster_deployed: cannot read {tmp_path}")


def test_ansible_doc_renders() -> None:
    ansible_doc = REPO / ".venv" / "bin" / "ansible-doc"
    exe = str(ansible_doc) if ansible_doc.exists() else shutil.which("ansible-doc")
    if not exe:
        pytest.skip("ansible-doc not found")
    proc = subprocess.run(
        [exe, "wizardsofts.ray_cluster.ray_cluster_deployed"], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "RETURN VALUES" in proc.stdout
    assert "[WARNING]" not in proc.stderr, proc.stderr
