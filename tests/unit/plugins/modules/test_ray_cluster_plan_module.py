# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The plan module's documentation and the plan task end to end, through the real Ansible CLIs.

Runs ``ansible-doc`` and ``ansible-playbook`` from the virtual environment of the running Python,
with the repository's ``ansible.cfg`` (which resolves the collection from this checkout).
Only the controller is involved: the plan is an action plugin and needs no connection.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_cli import needs_ansible_cli, run_cli

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import PLAN_ARGUMENT_SPEC

MODULE = "wizardsofts.ray_cluster.ray_cluster_plan"

pytestmark = needs_ansible_cli


def run(tool: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(tool, *args, tmp_path=tmp_path, timeout=120)


# --------------------------------------------------------------------------- ansible-doc


@pytest.fixture(scope="module")
def module_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = run("ansible-doc", "--json", MODULE, tmp_path=tmp_path_factory.mktemp("doc"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[MODULE]


def test_ansible_doc_renders(tmp_path: Path) -> None:
    result = run("ansible-doc", MODULE, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert text.startswith(f"> MODULE {MODULE} ")
    assert "Computes, from the cluster's inventory variables, everything the roles apply" in text
    for option in PLAN_ARGUMENT_SPEC:
        assert option in text
    assert "[WARNING]" not in result.stderr, result.stderr


def test_documented_options_match_the_argument_spec(module_doc: dict[str, Any]) -> None:
    options = module_doc["doc"]["options"]
    assert set(options) == set(PLAN_ARGUMENT_SPEC)
    for name, spec in PLAN_ARGUMENT_SPEC.items():
        documented = options[name]
        assert documented["type"] == spec["type"], name
        assert documented.get("elements") == spec.get("elements"), name
        assert documented.get("default") == spec.get("default"), name
        assert bool(documented.get("required", False)) == bool(spec.get("required", False)), name
        assert documented.get("description"), name


def test_documentation_sections(module_doc: dict[str, Any]) -> None:
    assert module_doc["doc"]["module"] == "ray_cluster_plan"
    assert module_doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert MODULE in module_doc["examples"]
    assert {"plan"} <= set(module_doc["return"])
    assert "ansible_facts" not in module_doc["return"]  # kept with set_fact, not copied with the facts for every task


# --------------------------------------------------------------------------- ansible-playbook

WORKER_SPEC = "{cpus: 0.5, num_cpus: 1, memory: 1g, shm_size: 256m}"


def inventory(heads: list[str]) -> str:
    head_hosts = "".join(f"        {h}:\n" for h in heads)
    return textwrap.dedent(
        f"""\
            ray_cluster:
              vars:
                ansible_connection: local
                ansible_python_interpreter: "{sys.executable}"
                ray_cluster_name: unit
              children:
                ray_head:
                  hosts:
            {{heads}}
                ray_workers:
                  hosts:
                    node-a:
                      ray_node_ip: 192.0.2.10
                      ray_worker_count: 1
                      ray_worker_spec: {WORKER_SPEC}
                      ray_head_spec: {{cpus: 0.5, memory: 2g, shm_size: 512m}}
                    node-b:
                      ray_node_ip: 192.0.2.11
                      ray_worker_count: 2
                      ray_worker_spec: {WORKER_SPEC}
                      ray_head_spec: {{cpus: 0.5, memory: 2g, shm_size: 512m}}
            """
    ).replace("{heads}\n", head_hosts)


PLAYBOOK = """\
- name: Plan the cluster
  hosts: ray_cluster
  gather_facts: false
  tasks:
    - name: Compute the plan
      wizardsofts.ray_cluster.ray_cluster_plan:
      run_once: true
      register: __plan

    - name: Keep it for every host
      ansible.builtin.set_fact:
        ray_cluster_plan: "{{ __plan.plan }}"
      run_once: true

    - name: Check the plan on every host
      ansible.builtin.assert:
        that:
          - ray_cluster_plan.cluster.name == 'unit'
          - ray_cluster_plan.cluster.head_address == '192.0.2.10:6379'
          - ray_cluster_plan.cluster.expected_node_count == 4
          - ray_cluster_plan.hosts[inventory_hostname].nodes | length == 2
          - __plan is not changed
          - __plan.ansible_facts is not defined  # a result, not a fact
        quiet: true
"""

SECOND_PLAN = """
    - name: Compute the plan again, as a second playbook of the same run would
      wizardsofts.ray_cluster.ray_cluster_plan:
      run_once: true
"""


def run_playbook(tmp_path: Path, heads: list[str], playbook: str = PLAYBOOK, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "hosts.yml").write_text(inventory(heads))
    (tmp_path / "plan.yml").write_text(playbook)
    return run("ansible-playbook", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "plan.yml"), *extra, tmp_path=tmp_path)


def test_playbook_computes_the_plan(tmp_path: Path) -> None:
    result = run_playbook(tmp_path, ["node-a"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "node-a                     : ok=3" in result.stdout, output  # plan, keep it, check
    assert "node-b                     : ok=1" in result.stdout, output
    assert "failed=0" in result.stdout


def test_playbook_computes_the_plan_in_check_mode(tmp_path: Path) -> None:
    result = run_playbook(tmp_path, ["node-a"], PLAYBOOK, "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_playbook_with_two_heads_fails(tmp_path: Path) -> None:
    result = run_playbook(tmp_path, ["node-a", "node-b"])
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "groups.ray_head" in output
    assert "exactly one host must be in group ray_head" in output
    assert "node-a" in output and "node-b" in output


def test_playbook_plans_twice_in_one_run(tmp_path: Path) -> None:
    result = run_playbook(tmp_path, ["node-a"], PLAYBOOK + SECOND_PLAN)
    output = result.stdout + result.stderr
    assert "ray_cluster_plan: unknown cluster variable" not in output
    assert result.returncode == 0, output


# --------------------------------------------------------------------------- playbooks/plan.yml refuses what site.yml refuses

PLAN_INVENTORY = """\
ray_cluster:
  vars:
    ray_worker_spec: {cpus: 0.5, memory: 1g, shm_size: 256m}
  children:
    ray_head:
      hosts:
        node-a:
    ray_workers:
      hosts:
        node-a: {ansible_host: 192.0.2.10, ray_worker_count: 1}
        node-b: {ansible_host: 192.0.2.11, ray_worker_count: 2}
"""
GOOD_TOKEN = "0123456789abcdef" * 4

# (id, inventory text replaced (old, new), extra args, words of the failure or None for success)
PLAN_RUNS = [
    ("valid", ("", ""), [], None),
    ("documented-extra-vars", ("", ""), ["-e", "ray_teardown_remove_images=true ray_status_wait_timeout=5"], None),
    (
        "stray-cluster-host",
        ("  children:\n", "  hosts:\n    node-c: {ansible_host: 192.0.2.12}\n  children:\n"),
        [],
        "host node-c: groups: in group ray_cluster but in neither ray_head nor ray_workers",
    ),
    (
        "unknown-extra-var",
        ("", ""),
        ["-e", "ray_restart_haed=true"],
        "host node-a: ray_restart_haed: unknown variable; did you mean ray_restart_head? (value not shown)",
    ),
    (
        "worker-without-count",
        ("node-b: {ansible_host: 192.0.2.11, ray_worker_count: 2}", "node-b: {ansible_host: 192.0.2.11}"),
        [],
        "host node-b: ray_worker_count: the host is in the worker group but does not set how many workers it runs",
    ),
    (
        "cpus-word",
        ("{cpus: 0.5, memory: 1g", "{cpus: two, memory: 1g"),
        [],
        "host node-a: ray_worker_spec.cpus: expected a number (got 'two')",
    ),
    (
        "token-with-space",
        ("", ""),
        ["-e", json.dumps({"ray_cluster_auth_token": GOOD_TOKEN[:40] + " " + GOOD_TOKEN[40:]})],
        "ray_cluster_auth_token: contains whitespace or a non-printable character (value not shown)",
    ),
    ("valid-token", ("", ""), ["-e", json.dumps({"ray_cluster_auth_token": GOOD_TOKEN})], None),
]


@pytest.mark.parametrize(("change", "extra", "words"), [c[1:] for c in PLAN_RUNS], ids=[c[0] for c in PLAN_RUNS])
def test_plan_playbook_refuses_bad_input(tmp_path: Path, change: tuple[str, str], extra: list[str], words: str | None) -> None:
    text = PLAN_INVENTORY.replace(*change) if change[0] else PLAN_INVENTORY
    assert text != PLAN_INVENTORY or not change[0], "the change did not apply"
    (tmp_path / "hosts.yml").write_text(text)
    result = run("ansible-playbook", "-i", str(tmp_path / "hosts.yml"), "playbooks/plan.yml", *extra, tmp_path=tmp_path)
    output = result.stdout + result.stderr
    assert GOOD_TOKEN[:40] not in output
    if words is None:
        assert result.returncode == 0, output
    else:
        assert result.returncode != 0, output
        assert words in " ".join(output.split()), output


# --------------------------------------------------------------------------- RETURN is the plan as built

STORED_PLAN = Path(__file__).resolve().parents[2] / "fixtures" / "rendering" / "dual-stack" / "plan.json"


def assert_fields(contains: dict[str, Any], values: list[dict[str, Any]], where: str) -> None:
    """The documented fields (``contains``) are exactly the fields of the values, level by level."""
    assert set(contains) == {key for value in values for key in value}, where
    for name, doc in contains.items():
        if not doc.get("contains"):
            continue
        children = [value[name] for value in values if isinstance(value.get(name), dict)]
        children += [item for value in values if isinstance(value.get(name), list) for item in value[name]]
        if name == "projects":  # keyed by kind, like hosts by host name
            children = [project for projects in children for project in projects.values()]
        assert_fields(doc["contains"], children, f"{where}.{name}")


def test_return_documents_the_plan_field_by_field() -> None:
    plan = json.loads(STORED_PLAN.read_text())
    module = importlib.import_module(f"ansible_collections.wizardsofts.ray_cluster.plugins.modules.{MODULE.split('.')[-1]}")
    doc = yaml.safe_load(module.RETURN)["plan"]["contains"]
    assert set(doc) == set(plan)
    assert_fields(doc["cluster"]["contains"], [plan["cluster"]], "cluster")
    assert_fields(doc["expected_nodes"]["contains"], plan["expected_nodes"], "expected_nodes")
    assert_fields(doc["hosts"]["contains"], list(plan["hosts"].values()), "hosts")


def test_module_file_is_documentation_only() -> None:
    module = importlib.import_module(f"ansible_collections.wizardsofts.ray_cluster.plugins.modules.{MODULE.split('.')[-1]}")
    names = {name for name in vars(module) if not name.startswith("__")}
    assert names == {"DOCUMENTATION", "EXAMPLES", "RETURN", "annotations"}
