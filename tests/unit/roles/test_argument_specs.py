# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Every role's meta/argument_specs.yml stays in step with its defaults/main.yml.

cluster_plan's spec also lists the inventory variables the planner reads; their spec defaults
must equal the planner's own (CLUSTER_DEFAULTS, HOST_DEFAULTS).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _nodes, _settings

ROLES_DIR = Path(__file__).resolve().parents[3] / "roles"
# Every role directory, so a new role fails here until it has a spec.
ROLES = tuple(sorted(p.name for p in ROLES_DIR.iterdir() if (p / "tasks").is_dir()))
PLANNER_INPUTS: dict[str, Any] = {**_settings.CLUSTER_DEFAULTS, **_settings.HOST_DEFAULTS}
# Options a role's spec lists beyond its defaults/main.yml.
EXTRA_OPTIONS: dict[str, set[str]] = {"cluster_plan": set(PLANNER_INPUTS)}


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _defaults(role: str) -> dict[str, Any]:
    return _load(ROLES_DIR / role / "defaults" / "main.yml") or {}


def _options(role: str) -> dict[str, dict[str, Any]]:
    spec = _load(ROLES_DIR / role / "meta" / "argument_specs.yml")
    return spec["argument_specs"]["main"]["options"]


def test_roles_are_found() -> None:
    assert "cluster_plan" in ROLES
    assert len(ROLES) >= 8


@pytest.mark.parametrize("role", ROLES, ids=ROLES)
def test_main_entry_point_is_documented(role: str) -> None:
    spec = _load(ROLES_DIR / role / "meta" / "argument_specs.yml")
    main = spec["argument_specs"]["main"]
    assert main["short_description"]
    assert main["description"]
    for name, option in main["options"].items():
        assert option.get("type"), f"{role}: {name} has no type"
        assert option.get("description"), f"{role}: {name} has no description"


@pytest.mark.parametrize("role", ROLES, ids=ROLES)
def test_options_match_defaults(role: str) -> None:
    assert set(_options(role)) == set(_defaults(role)) | EXTRA_OPTIONS.get(role, set())


@pytest.mark.parametrize("role", ROLES, ids=ROLES)
def test_spec_defaults_equal_defaults_file(role: str) -> None:
    options = _options(role)
    for name, value in _defaults(role).items():
        assert "default" in options[name], f"{role}: {name} has no default in the spec"
        assert options[name]["default"] == value, f"{role}: {name}"


@pytest.mark.parametrize("role", ROLES, ids=ROLES)
def test_choices_hold_the_default(role: str) -> None:
    for name, option in _options(role).items():
        if "choices" in option:
            assert option["default"] in option["choices"], f"{role}: {name}"


@pytest.mark.parametrize("name", sorted(PLANNER_INPUTS), ids=sorted(PLANNER_INPUTS))
def test_cluster_plan_inputs_default_like_the_planner(name: str) -> None:
    # ray_node_ip has no spec default (None = derived), as in HOST_DEFAULTS.
    assert _options("cluster_plan")[name].get("default") == PLANNER_INPUTS[name]


@pytest.mark.parametrize("name", ["ray_head_spec", "ray_worker_spec", "ray_worker_overrides"])
def test_cluster_plan_node_spec_keys(name: str) -> None:
    assert set(_options("cluster_plan")[name]["options"]) == set(_nodes.SPEC_KEYS)


@pytest.mark.parametrize(
    ("name", "choices"),
    [("ray_cluster_dashboard_bind", _settings.DASHBOARD_BINDS), ("ray_cluster_auth_mode", _settings.AUTH_MODES)],
    ids=["dashboard_bind", "auth_mode"],
)
def test_cluster_plan_choices_like_the_planner(name: str, choices: tuple[str, ...]) -> None:
    assert tuple(_options("cluster_plan")[name]["choices"]) == choices


def _entry_points(role: str) -> dict[str, dict[str, Any]]:
    return _load(ROLES_DIR / role / "meta" / "argument_specs.yml")["argument_specs"]


def _tasks_from_calls() -> list[tuple[str, str, str]]:
    """(file, role, tasks_from) for every include_role/import_role of this collection's roles."""
    root = ROLES_DIR.parent
    calls: list[tuple[str, str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).endswith(("include_role", "import_role")) and isinstance(value, dict) and "tasks_from" in value:
                    role = str(value["name"]).removeprefix("wizardsofts.ray_cluster.")
                    calls.append((where, role, str(value["tasks_from"]).removesuffix(".yml")))
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for path in sorted([*root.glob("*.yml"), *root.glob("playbooks/*.yml"), *root.glob("roles/*/tasks/*.yml")]):
        walk(_load(path), str(path.relative_to(root)))
    return calls


TASKS_FROM = _tasks_from_calls()


def test_tasks_from_calls_are_found() -> None:
    assert ("playbooks/teardown.yml", "ray_image", "remove") in TASKS_FROM
    assert ("playbooks/site.yml", "docker_engine", "preflight") in TASKS_FROM
    assert ("playbooks/site.yml", "ufw", "drift") in TASKS_FROM


# Entry points site.yml's plan play runs after its one check of every role's options (the
# ray_role_options lookup): they have no spec, so Ansible does not validate the same options again
# (a task per entry point and run). cluster_plan's main entry point validates its own in that play.
CHECKED_ONCE = {
    ("cluster_plan", "probe"),
    ("docker_engine", "preflight"),
    ("docker_engine", "drift"),
    ("ufw", "drift"),
    ("ray_image", "drift"),
    ("ray_head", "drift"),
    ("ray_worker", "drift"),
    ("ray_compose", "drift"),
    ("ray_compose", "token"),
    ("ray_monitoring", "drift"),
    ("celery", "drift"),
    ("ray_verify", "preflight"),
    ("ray_verify", "verify"),  # site.yml's verify play: the main entry point after its preflight
}


def _site_checked_roles() -> set[str]:
    """The roles whose options site.yml's plan play checks in its one validate_argument_spec task."""
    plan_play = _load(ROLES_DIR.parent / "playbooks" / "site.yml")[0]
    checks = [task for task in plan_play["tasks"] if "ansible.builtin.validate_argument_spec" in task]
    assert len(checks) == 1, "site.yml's plan play must check every role's options in one task"
    spec = checks[0]["ansible.builtin.validate_argument_spec"]["argument_spec"]
    call = re.search(r"lookup\('wizardsofts\.ray_cluster\.ray_role_options',([^)]*)\)", spec)
    assert call, spec
    return set(re.findall(r"'([a-z_]+)'", call.group(1))) | {role["role"].split(".")[-1] for role in plan_play["roles"]}


@pytest.mark.parametrize(("where", "role", "entry"), TASKS_FROM, ids=[f"{w}:{r}.{e}" for w, r, e in TASKS_FROM])
def test_every_entry_point_used_is_in_the_spec(where: str, role: str, entry: str) -> None:
    if (role, entry) in CHECKED_ONCE:
        # site.yml checked the role's options before; a spec would have Ansible check them again.
        assert entry not in _entry_points(role), f"{where}: {role} tasks_from {entry} is checked once by site.yml, yet has a spec"
        assert role in _site_checked_roles(), f"{where}: site.yml's one check of the roles' options leaves out {role}"
    else:
        # Also makes Ansible validate the options of that entry point when it is called.
        assert entry in _entry_points(role), f"{where}: {role} tasks_from {entry} has no entry point in its argument_specs.yml"


def test_site_checks_every_role_that_has_options() -> None:
    assert _site_checked_roles() == {role for role in ROLES if _options(role)}


@pytest.mark.parametrize("role", ROLES, ids=ROLES)
def test_every_entry_point_is_described(role: str) -> None:
    for entry, spec in _entry_points(role).items():
        assert (ROLES_DIR / role / "tasks" / f"{entry}.yml").is_file(), f"{role}: entry point {entry} has no tasks file"
        assert spec.get("short_description"), f"{role}: {entry} has no short_description"
        assert spec.get("description"), f"{role}: {entry} has no description"
        for name, option in (spec.get("options") or {}).items():
            assert name in _options(role), f"{role}: {entry} lists {name}, which the main entry point does not"
            assert option == _options(role)[name], f"{role}: {entry} documents {name} unlike the main entry point"
