# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_cluster_deployed module: main() reads files, changes nothing.

Docs checks: test_module_docs.py; logic: test_changes.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wizardsofts.ray_cluster.plugins.modules import ray_cluster_deployed


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
