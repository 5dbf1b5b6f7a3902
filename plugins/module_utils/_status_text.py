# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Read the text ``ray status`` prints (any Ray 1.x/2.x format) into facts.

Private to the collection (no compatibility promise). Pure functions with no Ansible imports; bad
input raises ``ValueError`` saying what was expected. Runs on the managed (head) host with
``_status``, so it stays importable on Python 3.8+ (no 3.10+ syntax at run time).
"""

from __future__ import annotations

import re
from typing import Any

NO_STATUS_PREFIX = "No cluster status"

# Section titles printed by `ray status` across Ray 1.x .. 2.60, mapped to one meaning.
_SECTIONS = {
    "Node status": "banner",
    "Resources": "banner",
    "Healthy:": "active",  # before Ray 2.8
    "Active:": "active",
    "Idle:": "idle",
    "Pending:": "pending",
    "Recent failures:": "failures",
    "Usage:": "usage",
    "Total Usage:": "usage",
    "Constraints:": "constraints",
    "Total Constraints:": "constraints",
    "From request_resources:": "constraints",
    "Demands:": "demands",
    "Total Demands:": "demands",
    "Pending Demands:": "demands",
}
_EMPTY_MARKERS = {
    "(no active nodes)",
    "(no idle nodes)",
    "(no pending nodes)",
    "(no failures)",
    "(no resource demands)",
    "(none)",
}
# Binary units are what Ray prints (format_memory); KB/MB/GB/TB are read as SI in case a build prints them.
_UNITS = {
    "B": 1,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "PiB": 2**50,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
}
_MEMORY_RESOURCES = {"memory", "object_store_memory"}
# A number as Python prints a float or an int: any sign (Ray prints negative usage when its
# accounting is off, e.g. `-8.0/2.0 accelerator_type:T4`), an exponent (`1e-05`), `.5`.
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_UNIT = r"(?:[KMGTP]i?B|B)"
# `0.0/2.0 CPU`, `0B/16.31GiB memory`, Ray 1.x `0.00/70.437 GiB memory`, `-1073741824B/2.00GiB memory`,
# optionally followed by `(x used of y reserved in placement groups)`. The name is anything Ray
# prints (`accelerator_type:T4`, `TPU-v4-16-head`, `my.res`, a custom name with spaces).
_USAGE_RE = re.compile(
    rf"^(?P<used>{_NUM})(?P<used_unit>{_UNIT})?/(?P<total>{_NUM})(?P<total_unit>{_UNIT})?"
    rf"(?:\s+(?P<unit>{_UNIT}))?\s+(?P<name>\S.*?)(?:\s+\([^()]*\))?$"
)
_NODE_RE = re.compile(r"^(?P<count>\d+)\s+(?P<id>\S.*)$")
_LAUNCHING_RE = re.compile(r",\s*(?P<count>\d+)\s+launching$")
_EXPECTED_STATUS = (
    "expected the output of `ray status`: an 'Active:' (Ray >= 2.8) or 'Healthy:' (older) node "
    "section, or 'No cluster status. It may take a few seconds ...'"
)


def _to_bytes(number: str, unit: str | None) -> float:
    return float(round(float(number) * _UNITS[unit or "B"]))


def _parse_usage(line: str, lineno: int) -> tuple[str, dict[str, float]]:
    m = _USAGE_RE.match(line)
    if not m:
        raise ValueError(
            f"ray status line {lineno}: expected a resource usage line such as '0.0/2.0 CPU' or '0B/1.00GiB memory', got {line!r}"
        )
    name = m["name"]
    used_unit = m["used_unit"] or m["unit"]
    total_unit = m["total_unit"] or m["unit"]
    if name in _MEMORY_RESOURCES or used_unit or total_unit:
        return name, {"used": _to_bytes(m["used"], used_unit), "total": _to_bytes(m["total"], total_unit)}
    return name, {"used": float(m["used"]), "total": float(m["total"])}


def _parse_node_line(line: str, lineno: int, section: str) -> tuple[int, str]:
    m = _NODE_RE.match(line)
    if not m:
        raise ValueError(f"ray status line {lineno}: expected '<count> <node id or type>' in the {section} section, got {line!r}")
    return int(m["count"]), m["id"].strip()


def _read_item(facts: dict[str, Any], section: str, item: str, lineno: int) -> None:
    """Add one indented line of a section to the facts."""
    if section == "active":
        count, node = _parse_node_line(item, lineno, "Active/Healthy")
        facts["active_nodes"] += count
        facts["node_ids"].append(node)
    elif section == "idle":
        count, node = _parse_node_line(item, lineno, "Idle")
        facts["idle_nodes"] += count
        facts["idle_node_ids"].append(node)
    elif section == "pending":
        launching = _LAUNCHING_RE.search(item)
        facts["pending_nodes"] += int(launching["count"]) if launching else 1
    elif section == "failures":
        facts["recent_failures"] += 1
    elif section == "usage":
        name, usage = _parse_usage(item, lineno)
        facts["resources"][name] = usage
    elif section in ("demands", "constraints"):
        facts[section].append(item)


def parse_ray_status(text: str) -> dict[str, Any]:
    """Turn the text of ``ray status`` (any Ray 1.x/2.x format) into facts.

    Returns ``ready``, ``format``, ``active_nodes``, ``idle_nodes`` (None when the format has no
    Idle section), ``pending_nodes``, ``recent_failures``, ``node_ids`` (Active/Healthy section),
    ``idle_node_ids``, ``resources`` (name -> used/total; memory in bytes), ``demands`` and
    ``constraints`` (raw lines).
    """
    if not isinstance(text, str):
        raise ValueError(f"{_EXPECTED_STATUS}; got a {type(text).__name__}, not text")
    facts: dict[str, Any] = {
        "ready": False,
        "format": "no_status",
        "active_nodes": 0,
        "idle_nodes": None,
        "pending_nodes": 0,
        "recent_failures": 0,
        "node_ids": [],
        "idle_node_ids": [],
        "resources": {},
        "demands": [],
        "constraints": [],
    }
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith(NO_STATUS_PREFIX):
        return facts

    # Start at the banner when something (a warning) was printed before it.
    start = next((i for i, ln in enumerate(lines) if ln.startswith("=") and "Autoscaler status" in ln), 0)
    section: str | None = None
    seen: set[str] = set()
    for lineno, raw in enumerate(lines[start:], start=start + 1):
        if not raw.strip():
            continue
        if not raw[0].isspace():
            title = raw.strip()
            if set(title) <= {"=", "-"} or title.startswith("="):
                continue  # banner and separators
            section = _SECTIONS.get(title, "unknown")  # `Node: <id>` (verbose), timings, new sections
            if title in ("Healthy:", "Active:"):
                facts["format"] = "healthy" if title == "Healthy:" else "active"
            if section == "idle":
                facts["idle_nodes"] = 0
            seen.add(section)
            continue
        item = raw.strip()
        if section not in (None, "unknown", "banner") and item not in _EMPTY_MARKERS:
            _read_item(facts, section, item, lineno)

    if "active" not in seen:
        snippet = first[:80]
        raise ValueError(f"{_EXPECTED_STATUS}; got text starting with {snippet!r}")
    if facts["format"] == "active" and facts["idle_nodes"] is not None:
        facts["format"] = "active_idle"
    facts["ready"] = True
    return facts
