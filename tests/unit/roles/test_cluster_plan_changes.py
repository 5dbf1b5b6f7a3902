# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The cluster_plan role's removal guard end to end, through ansible-playbook on this machine.

A one-host cluster over the local connection: its compose files live under a temporary
``ray_cluster_compose_dir``. What runs there is simulated by writing the files the ray_compose
role would have written for an earlier plan. Nothing else is touched (no Docker).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_cli import needs_ansible_cli, run_cli

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

FINGERPRINT = "ab" * 16
SPEC = {"cpus": 0.5, "num_cpus": 1, "memory": "1g", "shm_size": "256m"}
PLAYBOOK = """
- name: Plan, with the removal guard
  hosts: ray_cluster
  gather_facts: false
  roles:
    - role: wizardsofts.ray_cluster.cluster_plan
"""

pytestmark = needs_ansible_cli


def host_vars(compose_dir: Path, workers: int) -> dict[str, Any]:
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ray_node_ip": "192.0.2.10",
        "ray_cluster_compose_dir": str(compose_dir),
        "ray_worker_count": workers,
        "ray_worker_spec": SPEC,
        "ray_head_spec": SPEC,
    }


def deploy(compose_dir: Path, workers: int) -> None:
    """Write what the ray_compose role writes for a plan with ``workers`` workers."""
    plan = build_plan(["h1"], ["h1"], {"h1": host_vars(compose_dir, workers)})
    for kind in ("head", "workers"):
        text = compose_content(plan, "h1", kind, FINGERPRINT)
        if text:
            (compose_dir / kind).mkdir(parents=True, exist_ok=True)
            (compose_dir / kind / "compose.yaml").write_text(text, encoding="utf-8")


def playbook(tmp_path: Path, workers: int, *args: str) -> subprocess.CompletedProcess[str]:
    inventory = {
        "ray_cluster": {
            "children": {
                "ray_head": {"hosts": {"h1": host_vars(tmp_path / "compose", workers)}},
                "ray_workers": {"hosts": {"h1": None}},
            }
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    return run_cli("ansible-playbook", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml"), *args, tmp_path=tmp_path)


def test_fresh_host_adds_everything(tmp_path: Path) -> None:
    run = playbook(tmp_path, 2, "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "host h1: add ray-head, ray-worker-1, ray-worker-2; 0 unchanged" in run.stdout


def test_rerun_changes_nothing(tmp_path: Path) -> None:
    deploy(tmp_path / "compose", 2)
    run = playbook(tmp_path, 2)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no Ray container to add, change or remove (3 unchanged on the 1 host read)" in run.stdout
    assert "changed=0" in run.stdout


@pytest.mark.parametrize("check", [False, True], ids=["run", "check-mode"])
def test_removing_every_worker_stops_the_run(tmp_path: Path, check: bool) -> None:
    deploy(tmp_path / "compose", 2)
    run = playbook(tmp_path, 0, *(["--check"] if check else []))
    assert run.returncode != 0, run.stdout
    assert "host h1: remove ray-worker-1, ray-worker-2; 1 unchanged" in run.stdout
    assert (
        "host h1: would remove ray-worker-1, ray-worker-2 (every worker of this host); that is 2 of the cluster's 3 "
        "deployed nodes (67%), more than ray_cluster_removal_max_share=0.25; "
        "set ray_cluster_confirm_removal=true to allow it (-e ray_cluster_confirm_removal=true)"
    ) in " ".join(run.stdout.split())


def test_confirmation_lets_the_run_go_on(tmp_path: Path) -> None:
    deploy(tmp_path / "compose", 2)
    run = playbook(tmp_path, 0, "-e", "ray_cluster_confirm_removal=true")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "host h1: remove ray-worker-1, ray-worker-2; 1 unchanged" in run.stdout


def test_the_guard_can_be_turned_off(tmp_path: Path) -> None:
    deploy(tmp_path / "compose", 2)
    run = playbook(tmp_path, 0, "-e", "cluster_plan_check_changes=false")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "host h1: remove" not in run.stdout
