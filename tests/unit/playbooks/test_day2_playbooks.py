# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The day-2 playbooks end to end, through ansible-playbook on this machine only.

A one-host cluster over the local connection (no SSH, no become): its compose files and token
file live under a temporary directory. No Docker: the status playbook reads the cluster through a
stand-in ``docker`` first on PATH that prints a node table, and the teardown finds no compose
project to take down (only their directories and the token file).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_cli import REPO_ROOT, needs_ansible_cli, run_cli

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status import NODE_TABLE_MARKER

SPEC = {"cpus": 0.5, "num_cpus": 1, "memory": "1g", "shm_size": "256m"}
NODE_IP = "192.0.2.10"
# A node address taken from facts, as an inventory may write it (the planner reads it after
# templating): the default route's address, else the loopback's (a machine without a default route).
FROM_FACTS = "{{ ansible_facts['default_ipv4']['address'] | default(ansible_facts['lo']['ipv4']['address']) }}"

pytestmark = needs_ansible_cli


def host_vars(tmp_path: Path, node_ip: str = NODE_IP) -> dict[str, Any]:
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ray_node_ip": node_ip,
        # The status module asks the head's dashboard first: on loopback, where nothing answers, so
        # these tests send nothing to the documentation address above and read the fake docker.
        "ray_cluster_dashboard_bind": "loopback",
        "ray_cluster_compose_dir": str(tmp_path / "compose"),
        "ray_cluster_auth_token_file": str(tmp_path / "secrets" / "auth_token"),
        "ray_cluster_gcs_storage_dir": str(tmp_path / "gcs"),
        "ray_cluster_node_log_dir": str(tmp_path / "logs"),
        "ray_worker_count": 1,
        "ray_worker_spec": SPEC,
        "ray_head_spec": SPEC,
    }


def playbook(
    tmp_path: Path, name: str, *args: str, hvars: dict[str, Any] | None = None, path: str = ""
) -> subprocess.CompletedProcess[str]:
    inventory = {
        "ray_cluster": {
            "children": {
                "ray_head": {"hosts": {"h1": hvars or host_vars(tmp_path)}},
                "ray_workers": {"hosts": {"h1": None}},
            }
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    playbook_path = str(REPO_ROOT / "playbooks" / f"{name}.yml")
    inventory_args = ("-i", str(tmp_path / "hosts.yml"), playbook_path, "-e", "ansible_become=false")
    return run_cli("ansible-playbook", *inventory_args, *args, tmp_path=tmp_path, path=path)


# --------------------------------------------------------------------------- plan from facts


@pytest.mark.parametrize("name", ["status", "restart", "teardown"])
def test_day2_playbooks_plan_with_addresses_from_facts(tmp_path: Path, name: str) -> None:
    # --tags always: the facts and the plan only (the cluster_plan role is tagged always).
    run = playbook(tmp_path, name, "--tags", "always", hvars=host_vars(tmp_path, FROM_FACTS))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Compute the cluster plan once, on the controller" in run.stdout
    assert "failed=0" in run.stdout


# --------------------------------------------------------------------------- status (the wait)


def fake_docker(tmp_path: Path, alive: list[str]) -> str:
    """A ``docker`` that answers the status module's two ``docker exec`` calls, with ``alive`` nodes up."""
    plan = build_plan(["h1"], ["h1"], {"h1": host_vars(tmp_path)})
    nodes = [
        {
            "NodeID": f"{i:056x}",
            "Alive": node["name"] in alive,
            "NodeManagerAddress": NODE_IP,
            "NodeManagerPort": node["node_manager_port"],
            "NodeName": NODE_IP,
            "Resources": {"CPU": 1.0, "memory": 1.0e9, "object_store_memory": 1.0e8},
            "Labels": {},
        }
        for i, node in enumerate(plan["expected_nodes"], start=1)
    ]
    table = NODE_TABLE_MARKER + json.dumps({"source": "gcs", "nodes": nodes})
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker"
    script.write_text(
        f"#!/bin/sh\n# stand-in for the status module's docker exec calls\n"
        f'case "$*" in\n  *"ray status"*) echo "======== Autoscaler status ========"; exit 0 ;;\n'
        f"  *) echo '{table}' ;;\nesac\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return str(bindir)


def gcs_store(tmp_path: Path) -> Path:
    """The head's GCS store as a deployment leaves it (the default storage, rocksdb)."""
    plan = build_plan(["h1"], ["h1"], {"h1": host_vars(tmp_path)})
    store = Path(plan["cluster"]["gcs_storage_path"])
    store.mkdir(parents=True)
    (store / "CURRENT").write_text("MANIFEST-000001\n", encoding="utf-8")
    return store


def test_status_reports_a_whole_cluster(tmp_path: Path) -> None:
    store = gcs_store(tmp_path)
    run = playbook(tmp_path, "status", path=fake_docker(tmp_path, ["ray-head", "ray-worker-1"]))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the cluster is whole: 2 of 2 nodes alive" in run.stdout
    assert f"GCS state: rocksdb in {store} on h1, 1 files" in " ".join(run.stdout.split())


def test_status_fails_when_the_gcs_store_is_gone(tmp_path: Path) -> None:
    """Every node alive, but a restarted head would start a new cluster: status says so and fails."""
    run = playbook(tmp_path, "status", path=fake_docker(tmp_path, ["ray-head", "ray-worker-1"]))
    assert run.returncode != 0, run.stdout
    out = " ".join(run.stdout.split())
    assert "MISSING (a restarted head would start a new cluster)" in out, run.stdout
    assert "a missing store means a restarted head starts a new cluster" in out, run.stdout


def test_status_names_the_missing_node(tmp_path: Path) -> None:
    run = playbook(tmp_path, "status", "-e", "ray_status_wait_timeout=2", path=fake_docker(tmp_path, ["ray-head"]))
    assert run.returncode != 0, run.stdout
    out = " ".join(run.stdout.split())
    assert "the cluster is not whole: missing nodes per host {'h1': ['ray-worker-1']}" in out, run.stdout
    # The summary comes before the failure, and the wait read more than once.
    assert out.index("1/2") < out.index("the cluster is not whole")
    assert "Ray cluster incomplete after" in run.stdout + run.stderr


# --------------------------------------------------------------------------- teardown


def leave_files(tmp_path: Path) -> None:
    """What a deployment leaves that the teardown removes without Docker: directories without a compose project, a token."""
    for kind in ("head", "workers"):
        (tmp_path / "compose" / kind).mkdir(parents=True)
        (tmp_path / "compose" / kind / "notes.txt").write_text("left by hand\n", encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "auth_token").write_text("x" * 40 + "\n", encoding="utf-8")


def test_teardown_check_mode_changes_nothing(tmp_path: Path) -> None:
    leave_files(tmp_path)
    run = playbook(tmp_path, "teardown", "--check", "-e", "ray_teardown_remove_token=true")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "changed=2" in run.stdout  # the two directories (one looped task) and the token file would go
    assert (tmp_path / "compose" / "head" / "notes.txt").exists()
    assert (tmp_path / "secrets" / "auth_token").exists()


def test_teardown_removes_the_files_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    leave_files(tmp_path)
    run = playbook(tmp_path, "teardown", "-e", "ray_teardown_remove_token=true")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "compose" / "head").exists()
    assert not (tmp_path / "compose" / "workers").exists()
    assert not (tmp_path / "secrets" / "auth_token").exists()
    again = playbook(tmp_path, "teardown", "-e", "ray_teardown_remove_token=true")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed=0" in again.stdout


def test_teardown_keeps_the_token_unless_asked(tmp_path: Path) -> None:
    leave_files(tmp_path)
    run = playbook(tmp_path, "teardown")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "compose" / "head").exists()
    assert (tmp_path / "secrets" / "auth_token").exists()


def test_status_names_the_nodes_of_a_server_that_does_not_answer(tmp_path: Path) -> None:
    """A stopped server is what a status run must report: its fact gathering fails (here SSH to a
    closed loopback port), it stays in the play, and the status names its missing nodes."""
    down = {
        **host_vars(tmp_path, "192.0.2.11"),
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
    }
    inventory = {
        "ray_cluster": {
            "children": {
                "ray_head": {"hosts": {"h1": host_vars(tmp_path)}},
                "ray_workers": {"hosts": {"h1": None, "h2": down}},
            }
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    argv = ("-i", str(tmp_path / "hosts.yml"), str(REPO_ROOT / "playbooks" / "status.yml"), "-e", "ansible_become=false")
    run = run_cli("ansible-playbook", *argv, tmp_path=tmp_path, path=fake_docker(tmp_path, ["ray-head", "ray-worker-1"]))
    out = " ".join(run.stdout.split())
    assert run.returncode != 0, run.stdout
    assert "the cluster is not whole: missing nodes per host {'h2': ['ray-worker-1']}" in out, run.stdout + run.stderr
