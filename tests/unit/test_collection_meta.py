# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The collection's metadata says what its shipped content needs, and nothing else.

- galaxy.yml's dependencies are exactly the collections that roles/, playbooks/ and plugins/ use
  (besides ansible.builtin and this collection), with the same ranges as requirements.yml;
- no placeholder address in galaxy.yml;
- every filter a FilterModule registers has its ``plugins/filter/<name>.yml`` documentation.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SELF = "wizardsofts.ray_cluster"
ALWAYS_THERE = {"ansible.builtin", SELF}
FQCN = re.compile(r"^([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*$")
# In Jinja: lookup('ns.coll.name' ...), query(...), q(...), and filters/tests `| ns.coll.name`.
JINJA_FQCN = re.compile(
    r"(?:\b(?:lookup|query|q)\(\s*['\"]|\|\s*|\bis\s+(?:not\s+)?)([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b"
)
PY_IMPORT = re.compile(r"\bansible_collections\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\b")


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _yaml_files() -> Iterator[Path]:
    for pattern in ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "roles/*/meta/main.yml", "playbooks/*.yml"):
        yield from sorted(ROOT.glob(pattern))


def _collections_in(node: Any, parent_key: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            key = str(key)
            match = FQCN.match(key)
            if match:  # a module, or an action such as ansible.builtin.include_role
                yield match.group(1)
            yield from _collections_in(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _collections_in(item, parent_key)
    elif isinstance(node, str):
        match = FQCN.match(node.strip())
        if match and parent_key in ("role", "name", "connection", "become_method"):
            yield match.group(1)
        yield from (m.group(1) for m in JINJA_FQCN.finditer(node))


def used_collections() -> dict[str, set[str]]:
    """Collection -> the shipped files that use it."""
    used: dict[str, set[str]] = {}
    for path in _yaml_files():
        for collection in _collections_in(_load(path)):
            used.setdefault(collection, set()).add(str(path.relative_to(ROOT)))
    for path in sorted(ROOT.glob("plugins/**/*.py")):
        for namespace, name in PY_IMPORT.findall(path.read_text(encoding="utf-8")):
            used.setdefault(f"{namespace}.{name}", set()).add(str(path.relative_to(ROOT)))
    return used


def test_the_scan_finds_what_the_roles_use() -> None:
    used = used_collections()
    assert "roles/ufw/tasks/configure.yml" in used["community.general"]
    assert "roles/ray_compose/tasks/service.yml" in used["community.docker"]
    assert SELF in used and "ansible.builtin" in used


def test_dependencies_are_what_the_shipped_content_uses() -> None:
    dependencies = set(_load(ROOT / "galaxy.yml")["dependencies"])
    needed = {name: files for name, files in used_collections().items() if name not in ALWAYS_THERE}
    assert set(needed) == dependencies, f"used by shipped content: {needed}; declared: {sorted(dependencies)}"


def test_requirements_yml_has_the_dependency_ranges() -> None:
    dependencies = _load(ROOT / "galaxy.yml")["dependencies"]
    requirements = {c["name"]: c["version"] for c in _load(ROOT / "requirements.yml")["collections"]}
    assert requirements == dependencies


@pytest.mark.parametrize("key", ["repository", "documentation", "homepage", "issues"])
def test_no_placeholder_address(key: str) -> None:
    value = _load(ROOT / "galaxy.yml").get(key)
    assert value is None or not re.search(r"example\.|\.invalid\b|localhost|TODO", str(value)), f"{key}: {value}"


FILTER_FILES = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.py") if not p.name.startswith("_"))
FILTERS = sorted(
    name
    for stem in FILTER_FILES
    for name in importlib.import_module(f"ansible_collections.{SELF}.plugins.filter.{stem}").FilterModule().filters()
)


def test_filters_are_found() -> None:
    assert {"ray_cluster", "ray_status", "ray_lifecycle"} <= set(FILTER_FILES)
    assert {"ray_status_facts", "ray_size_to_bytes", "ray_cluster_summary", "ray_token_fingerprint"} <= set(FILTERS)
    assert len(FILTERS) == len(set(FILTERS)), "two filter files register the same name"


@pytest.mark.parametrize("name", FILTERS, ids=FILTERS)
def test_every_filter_is_documented(name: str) -> None:
    doc_file = ROOT / "plugins" / "filter" / f"{name}.yml"
    assert doc_file.is_file(), f"{name}: add {doc_file.relative_to(ROOT)} (DOCUMENTATION, EXAMPLES, RETURN)"
    doc = _load(doc_file)
    assert doc["DOCUMENTATION"]["name"] == name
    assert doc["DOCUMENTATION"]["short_description"] and doc["DOCUMENTATION"]["description"]
    assert "_input" in doc["DOCUMENTATION"]["options"]
    assert doc["EXAMPLES"] and doc["RETURN"]["_value"]["description"]


def test_no_filter_doc_without_a_filter() -> None:
    docs = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml"))
    assert docs == FILTERS
