# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The roles' argument specs as one spec: site.yml checks every selected role's input in one task
(the ray_role_options lookup) instead of one validation per role entry point it calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

# What ArgumentSpecValidator reads of an option; the rest (description, default, version_added) is left
# out: a default may be a template (the token option's), which the task's arguments must never render.
VALIDATION_KEYS = frozenset(
    {
        "type",
        "elements",
        "choices",
        "required",
        "no_log",
        "aliases",
        "options",
        "mutually_exclusive",
        "required_together",
        "required_one_of",
        "required_if",
        "required_by",
        "apply_defaults",
    }
)


def validation_spec(options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``options`` (an entry point's options) with only what validation reads, nested options too."""
    spec: dict[str, dict[str, Any]] = {}
    for name, option in options.items():
        kept = {key: value for key, value in (option or {}).items() if key in VALIDATION_KEYS}
        if isinstance(kept.get("options"), Mapping):
            kept["options"] = validation_spec(kept["options"])
        spec[str(name)] = kept
    return spec


def role_options(roles_dir: Path, role: str) -> dict[str, dict[str, Any]]:
    """The validation spec of ``role``'s main entry point (``roles_dir/<role>/meta/argument_specs.yml``)."""
    if not role or "/" in role or role.startswith("."):
        raise ValueError(f"not a role name: {role!r}")
    path = roles_dir / role / "meta" / "argument_specs.yml"
    try:
        specs = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ValueError(f"this collection has no role {role!r} (no {path})") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    main = ((specs.get("argument_specs") or {}).get("main")) or {}
    return validation_spec(main.get("options") or {})


def merged_options(roles_dir: Path, roles: Iterable[str]) -> dict[str, dict[str, Any]]:
    """One validation spec for the main entry points of ``roles``. An option two roles declare must be
    declared alike (else the one check would validate it for one of them only)."""
    merged: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for role in roles:
        for name, option in role_options(roles_dir, role).items():
            if name in merged and merged[name] != option:
                raise ValueError(f"option {name} is declared differently by the roles {owner[name]} and {role}")
            merged[name] = option
            owner.setdefault(name, role)
    return merged
