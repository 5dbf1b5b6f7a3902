# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The same documentation checks for every module whose main() builds an AnsibleModule: the docs
match the argument spec, every section is YAML, the examples use documented options, and
``ansible-doc`` renders the page. (ray_cluster_plan's options are checked in its own test file:
its action plugin holds the spec.)"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
MODULES = ["ray_cluster_status", "ray_cluster_deployed"]


def load(name: str) -> ModuleType:
    return importlib.import_module(f"ansible_collections.wizardsofts.ray_cluster.plugins.modules.{name}")


def argument_spec(name: str) -> dict[str, Any]:
    """The argument_spec literal passed to AnsibleModule in main()."""
    tree = ast.parse((REPO / "plugins" / "modules" / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "argument_spec":
            return ast.literal_eval(node.value)
    raise AssertionError(f"no argument_spec in {name}")


@pytest.mark.parametrize("name", MODULES, ids=str)
def test_docs_match_argument_spec(name: str) -> None:
    options = yaml.safe_load(load(name).DOCUMENTATION)["options"]
    spec = argument_spec(name)
    assert set(options) == set(spec)
    for option, want in spec.items():
        doc = options[option]
        assert doc["type"] == want["type"], option
        assert doc.get("default") == want.get("default"), option
        assert doc.get("elements") == want.get("elements"), option
        assert doc.get("required", False) == want.get("required", False), option


@pytest.mark.parametrize("section", ["DOCUMENTATION", "EXAMPLES", "RETURN"], ids=str)
@pytest.mark.parametrize("name", MODULES, ids=str)
def test_sections_are_yaml(name: str, section: str) -> None:
    assert yaml.safe_load(getattr(load(name), section))


@pytest.mark.parametrize("name", MODULES, ids=str)
def test_examples_use_documented_options(name: str) -> None:
    module = load(name)
    options = set(yaml.safe_load(module.DOCUMENTATION)["options"])
    tasks = [task for task in yaml.safe_load(module.EXAMPLES) if f"wizardsofts.ray_cluster.{name}" in task]
    assert tasks, f"{name}: no example calls the module"
    for task in tasks:
        assert set(task[f"wizardsofts.ray_cluster.{name}"] or {}) <= options


@pytest.mark.parametrize("name", MODULES, ids=str)
def test_ansible_doc_renders(name: str) -> None:
    ansible_doc = REPO / ".venv" / "bin" / "ansible-doc"
    exe = str(ansible_doc) if ansible_doc.exists() else shutil.which("ansible-doc")
    if not exe:
        pytest.skip("ansible-doc not found")
    proc = subprocess.run(
        [exe, f"wizardsofts.ray_cluster.{name}"], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "RETURN VALUES" in proc.stdout
    assert all(option in proc.stdout for option in argument_spec(name)), proc.stdout
    assert "[WARNING]" not in proc.stderr, proc.stderr
