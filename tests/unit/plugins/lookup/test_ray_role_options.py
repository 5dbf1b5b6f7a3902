# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the ray_role_options lookup (plugins/lookup/ray_role_options.py) and _role_specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.wizardsofts.ray_cluster.plugins.lookup.ray_role_options import ROLES_DIR, LookupModule
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._role_specs import merged_options, validation_spec

SITE_ROLES = ["ufw", "docker_engine", "ray_image", "ray_compose", "ray_head", "ray_worker", "ray_monitoring", "ray_verify"]


def _walk(spec: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(spec.values())
    for option in spec.values():
        options += _walk(option.get("options") or {})
    return options


def test_the_lookup_merges_the_roles_main_options_without_descriptions_or_defaults() -> None:
    [spec] = LookupModule().run(SITE_ROLES, {})
    assert spec["ufw_logging"] == {"type": "str", "choices": ["off", "low", "medium", "high", "full"]}
    # The token option keeps no_log, and loses its default (a template the task must never render).
    assert spec["ray_compose_auth_token"] == {"type": "str", "no_log": True}
    assert {"ray_image_method", "ray_worker_wait_timeout", "ray_monitoring_password", "ray_verify_smoke_object_mb"} <= set(spec)
    for option in _walk(spec):
        assert not {"description", "default", "version_added"} & set(option), option
    # A list of names is the same as the names one by one.
    assert LookupModule().run([SITE_ROLES], {}) == [spec]


def test_every_option_of_those_roles_is_in_the_merged_spec() -> None:
    [spec] = LookupModule().run(SITE_ROLES, {})
    for role in SITE_ROLES:
        main = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
        assert set(main["options"]) <= set(spec), role


def _validate(spec: dict[str, Any], values: dict[str, Any]) -> list[str]:
    return ArgumentSpecValidator(spec).validate(values, validate_role_argument_spec=True).error_messages


def test_the_roles_defaults_pass_and_bad_values_are_named() -> None:
    [spec] = LookupModule().run(SITE_ROLES, {})
    defaults: dict[str, Any] = {}
    for role in SITE_ROLES:
        values = yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text()) or {}
        defaults.update({k: v for k, v in values.items() if k in spec and not (isinstance(v, str) and "{{" in v)})
    assert _validate(spec, defaults) == []
    errors = _validate(spec, {**defaults, "ray_image_method": "ftp", "ufw_enabled": "sometimes"})
    assert any("ray_image_method" in e and "ftp" in e for e in errors), errors
    assert any("ufw_enabled" in e and "sometimes" in e for e in errors), errors
    assert len(errors) == 2, errors  # nothing else was refused


def test_unknown_role_and_bad_names_are_refused() -> None:
    with pytest.raises(AnsibleLookupError, match="no role 'ray_nosuch'"):
        LookupModule().run(["ray_nosuch"], {})
    for name in ("../ufw", "", ".hidden"):
        with pytest.raises(AnsibleLookupError, match="not a role name"):
            LookupModule().run([name], {})


def _role(roles: Path, name: str, options: dict[str, Any]) -> None:
    meta = roles / name / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {"options": options}}}))


def test_an_option_two_roles_declare_differently_is_refused(tmp_path: Path) -> None:
    _role(tmp_path, "one", {"shared": {"type": "int", "default": 1, "description": "x"}, "own": {"type": "str"}})
    _role(tmp_path, "two", {"shared": {"type": "int", "default": 2, "description": "y"}})
    _role(tmp_path, "three", {"shared": {"type": "str"}})
    # Alike once descriptions and defaults are left out: one option.
    assert merged_options(tmp_path, ["one", "two"]) == {"shared": {"type": "int"}, "own": {"type": "str"}}
    with pytest.raises(ValueError, match="shared is declared differently by the roles one and three"):
        merged_options(tmp_path, ["one", "two", "three"])


def test_nested_options_keep_only_what_validation_reads() -> None:
    spec = validation_spec(
        {
            "outer": {
                "type": "dict",
                "default": {},
                "description": "d",
                "options": {"inner": {"type": "int", "default": 3, "description": "i"}},
            }
        }
    )
    assert spec == {"outer": {"type": "dict", "options": {"inner": {"type": "int"}}}}
    assert _validate(spec, {"outer": {"inner": "x"}}) != []
    assert _validate(spec, {"outer": {"inner": 4}}) == []
