# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Preflight checks that fold several conditions into one task still name what failed, through
ansible-playbook on this machine (local connection, nothing changed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from ansible_cli import needs_ansible_cli, run_cli

pytestmark = needs_ansible_cli

SSH = {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
NODES = {"port": "20000:20399", "proto": "tcp", "src": "192.0.2.10", "comment": "ray_cluster nodes"}


def preflight(
    tmp_path: Path,
    role: str,
    *extra_vars: str,
    play_vars: dict[str, object] | None = None,
    facts: bool = False,
) -> tuple[int, str]:
    """The role's preflight entry point on this machine (local connection): its exit code, and its
    output on one line."""
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(
        f"""
- name: The {role} role's preflight
  hosts: localhost
  gather_facts: {str(facts).lower()}
  gather_subset: [min]
  vars: {json.dumps(play_vars or {})}
  tasks:
    - name: Preflight
      ansible.builtin.include_role:
        name: wizardsofts.ray_cluster.{role}
        tasks_from: preflight
"""
    )
    extra = [arg for value in extra_vars for arg in ("-e", value)]
    run = run_cli(
        "ansible-playbook",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        *extra,
        str(playbook),
        tmp_path=tmp_path,
    )
    return run.returncode, " ".join((run.stdout + run.stderr).split())


def ufw_preflight(tmp_path: Path, plan: object) -> tuple[int, str]:
    return preflight(tmp_path, "ufw", play_vars={} if plan is None else {"ray_cluster_plan": plan})


def test_ufw_preflight_passes_a_plan_with_ssh_first(tmp_path: Path) -> None:
    rc, out = ufw_preflight(tmp_path, {"hosts": {"localhost": {"firewall": [SSH, NODES]}}})
    assert rc == 0, out


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        (
            None,
            "host localhost: ray_cluster_plan: no plan for this host; run the wizardsofts.ray_cluster.cluster_plan role first",
        ),
        ({"hosts": {"other": {"firewall": [SSH]}}}, "host localhost: ray_cluster_plan: no plan for this host"),
        (
            {"hosts": {"localhost": {"firewall": [NODES, SSH]}}},
            "host localhost: ray_cluster_plan.hosts.localhost.firewall: the first rule is not SSH (first rule: [{",
        ),
        ({"hosts": {"localhost": {"firewall": []}}}, "the first rule is not SSH (first rule: [])"),
    ],
)
def test_ufw_preflight_names_what_is_wrong(tmp_path: Path, plan: object, words: str) -> None:
    rc, out = ufw_preflight(tmp_path, plan)
    assert rc == 2, out
    assert words in out, out


def test_docker_engine_preflight_names_the_missing_urls(tmp_path: Path) -> None:
    # This machine's own facts (its OS ships Compose v2 or not); Docker's repository without its URLs is
    # refused either way, naming the variables and their values.
    rc, out = preflight(tmp_path, "docker_engine", "docker_engine_source=docker_repo", facts=True)
    assert rc == 2, out
    assert (
        "host localhost: docker_engine: docker_engine_source=docker_repo, docker_engine_compose_v1=fail, "
        "docker_engine_repo_url='', docker_engine_repo_key_url=''. Docker's repository" in out
    ), out


@pytest.mark.parametrize(
    ("distribution", "major", "refused"),
    [("Debian", "12", True), ("Debian", "13", False), ("Ubuntu", "24", False), ("Fedora", "41", True)],
)
def test_docker_engine_preflight_knows_which_oses_ship_compose_v2(
    tmp_path: Path, distribution: str, major: str, refused: bool
) -> None:
    # Another OS's facts, as gathered (the play's ansible_facts).
    facts = {"distribution": distribution, "distribution_major_version": major, "distribution_version": major}
    rc, out = preflight(tmp_path, "docker_engine", play_vars={"ansible_facts": facts})
    if refused:
        assert rc == 2, out
        assert f"host localhost: {distribution} {major} ships Docker Compose v1 only" in out, out
    else:
        assert rc == 0, out
