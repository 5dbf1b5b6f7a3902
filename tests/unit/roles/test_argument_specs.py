# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Every role's meta/argument_specs.yml stays in step with its defaults/main.yml.

cluster_plan's spec also lists the inventory variables the planner reads; their spec defaults
must equal the planner's own (CLUSTER_DEFAULTS, HOST_DEFAULTS).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _plan

ROLES_DIR = Path(__file__).resolve().parents[3] / "roles"
# Every role directory, so a new role fails here until it has a spec.
ROLES = tuple(sorted(p.name for p in ROLES_DIR.iterdir() if (p / "tasks").is_dir()))
PLANNER_INPUTS: dict[str, Any] = {**_plan.CLUSTER_DEFAULTS, **_plan.HOST_DEFAULTS}
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
    assert set(_options("cluster_plan")[name]["options"]) == set(_plan.SPEC_KEYS)


@pytest.mark.parametrize(
    ("name", "choices"),
    [("ray_cluster_dashboard_bind", _plan.DASHBOARD_BINDS), ("ray_cluster_auth_mode", _plan.AUTH_MODES)],
    ids=["dashboard_bind", "auth_mode"],
)
def test_cluster_plan_choices_like_the_planner(name: str, choices: tuple[str, ...]) -> None:
    assert tuple(_options("cluster_plan")[name]["choices"]) == choices
