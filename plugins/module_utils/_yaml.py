# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Deterministic block YAML for the compose files (dicts, lists and scalars; insertion order kept).

Private to the collection (no compatibility promise). Why not PyYAML's ``safe_dump`` (measured on
a 4-worker compose file of the local lab, PyYAML 6.0.4, ``sort_keys=False``, block style):

- its text differs from what hosts run now: plain scalars where this emitter double-quotes every
  string (``name: ray-workers`` for ``name: "ray-workers"``) and lists at the parent key's indent.
  A new text rewrites every deployed compose file once, and its quoting would then follow PyYAML's
  rules for what looks like a number, a date or a boolean, which change between YAML versions;
  here every string is a JSON string, which any YAML 1.1 or 1.2 reader reads back the same.
- it is slower: 1.26 ms a file with libyaml (``CSafeDumper``), 9.8 ms without it (a controller
  may lack libyaml), against 0.4-0.5 ms here; the plan benchmark renders 1,001 such files.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Plain words YAML 1.1 readers turn into booleans or null.
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    # JSON strings are valid YAML double-quoted scalars: unambiguous and stable.
    return json.dumps(str(value), ensure_ascii=False)


def to_yaml(value: Any, indent: int = 0) -> str:
    """Deterministic block YAML for dicts, lists and scalars (insertion order kept)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_yaml_key(key)}:")
                lines.append(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{_yaml_key(key)}: {_yaml_empty(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_yaml_empty(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


def _yaml_empty(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def _yaml_key(key: Any) -> str:
    text = str(key)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)
