# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Read a running Ray cluster back: ``ray status`` text, the GCS node table, the wait loop.

Pure functions with no Ansible imports; bad input raises ``ValueError`` saying what was expected.
This file runs on the managed (head) host, so it stays importable on Python 3.8+
(``from __future__ import annotations``, no 3.10+ syntax at run time).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

# --------------------------------------------------------------------------------------------
# `ray status` text
# --------------------------------------------------------------------------------------------

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
        if section in (None, "unknown", "banner") or item in _EMPTY_MARKERS:
            continue
        if section == "active":
            count, node = _parse_node_line(item, lineno, "Active/Healthy")
            facts["active_nodes"] += count
            facts["node_ids"].append(node)
        elif section == "idle":
            count, node = _parse_node_line(item, lineno, "Idle")
            facts["idle_nodes"] += count
            facts["idle_node_ids"].append(node)
        elif section == "pending":
            m = _LAUNCHING_RE.search(item)
            facts["pending_nodes"] += int(m["count"]) if m else 1
        elif section == "failures":
            facts["recent_failures"] += 1
        elif section == "usage":
            name, usage = _parse_usage(item, lineno)
            facts["resources"][name] = usage
        elif section == "demands":
            facts["demands"].append(item)
        elif section == "constraints":
            facts["constraints"].append(item)

    if "active" not in seen:
        snippet = first[:80]
        raise ValueError(f"{_EXPECTED_STATUS}; got text starting with {snippet!r}")
    if facts["format"] == "active" and facts["idle_nodes"] is not None:
        facts["format"] = "active_idle"
    facts["ready"] = True
    return facts


# --------------------------------------------------------------------------------------------
# Node table (ray.nodes()) against the plan's expected_nodes
# --------------------------------------------------------------------------------------------

_EXPECTED_KEYS = ("host", "name", "ip", "node_manager_port")
_NODE_KEYS = ("NodeID", "NodeManagerAddress", "NodeManagerPort")


def _endpoint(ip: Any, port: Any, what: str) -> tuple[str, int]:
    try:
        return str(ip), int(port)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected an integer port, got {port!r}") from None


def _amount_or_zero(resources: dict[str, Any], key: str) -> float:
    """A resource amount from Ray's table; 0.0 when it is missing or not a number (never raises)."""
    try:
        return float(resources.get(key, 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def summarize_cluster(nodes: list[dict[str, Any]], expected: list[dict[str, Any]]) -> dict[str, Any]:
    """Match Ray's node table with the plan's ``expected_nodes`` by (ip, node manager port).

    Dead entries (``Alive`` false, left behind by restarted containers) stay in ``nodes`` but never
    count as alive; an alive node on the same ip:port wins.
    """
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        raise ValueError(f"nodes: expected the list of dicts ray.nodes() returns, got {type(nodes).__name__}")
    if not isinstance(expected, list) or not all(isinstance(e, dict) for e in expected):
        raise ValueError(f"expected_nodes: expected a list of dicts, got {type(expected).__name__}")

    plan: dict[tuple[str, int], dict[str, Any]] = {}
    host_of_ip: dict[str, str] = {}
    per_host: dict[str, dict[str, Any]] = {}
    for i, exp in enumerate(expected):
        absent = [k for k in _EXPECTED_KEYS if k not in exp]
        if absent:
            raise ValueError(f"expected_nodes[{i}]: missing key(s) {', '.join(absent)} in {exp!r}")
        key = _endpoint(exp["ip"], exp["node_manager_port"], f"expected_nodes[{i}] ({exp['name']})")
        if key in plan:
            raise ValueError(
                f"expected_nodes[{i}] ({exp['host']}/{exp['name']}): {key[0]}:{key[1]} is already planned for "
                f"{plan[key]['host']}/{plan[key]['name']}"
            )
        plan[key] = exp
        host_of_ip.setdefault(key[0], exp["host"])
        h = per_host.setdefault(exp["host"], {"expected": 0, "alive": 0, "cpus": 0.0, "memory": 0, "object_store_memory": 0})
        h["expected"] += 1

    out_nodes: list[dict[str, Any]] = []
    alive_keys: set[tuple[str, int]] = set()
    unexpected: list[dict[str, Any]] = []
    for i, node in enumerate(nodes):
        absent = [k for k in _NODE_KEYS if k not in node]
        if absent:
            raise ValueError(f"nodes[{i}]: missing key(s) {', '.join(absent)}; expected ray.nodes() entries")
        key = _endpoint(node["NodeManagerAddress"], node["NodeManagerPort"], f"nodes[{i}] ({node['NodeID']})")
        alive = bool(node.get("Alive", node.get("alive", False)))
        resources = dict(node.get("Resources") or {})
        exp = plan.get(key)
        entry = {
            "id": node["NodeID"],
            "ip": key[0],
            "port": key[1],
            "alive": alive,
            "host": exp["host"] if exp else host_of_ip.get(key[0]),
            "name": exp["name"] if exp else None,
            "role": exp.get("role") if exp else None,
            "resources": resources,
        }
        out_nodes.append(entry)
        if not alive:
            continue
        if exp is None:
            unexpected.append(entry)
            continue
        if key in alive_keys:
            continue  # two alive entries on one ip:port cannot both be this container
        alive_keys.add(key)
        h = per_host[exp["host"]]
        h["alive"] += 1
        h["cpus"] += _amount_or_zero(resources, "CPU")
        h["memory"] += round(_amount_or_zero(resources, "memory"))
        h["object_store_memory"] += round(_amount_or_zero(resources, "object_store_memory"))

    missing = [exp for key, exp in plan.items() if key not in alive_keys]
    missing_by_host: dict[str, list[str]] = {}
    for exp in missing:
        missing_by_host.setdefault(exp["host"], []).append(exp["name"])
    return {
        "nodes": out_nodes,
        "alive_nodes": sum(1 for n in out_nodes if n["alive"]),
        "expected_node_count": len(expected),
        "missing": missing,
        "missing_by_host": missing_by_host,
        "unexpected": unexpected,
        "whole": not missing and not unexpected,
        "per_host": per_host,
    }


def format_missing(summary: dict[str, Any]) -> str:
    """``lab-85: ray-worker-1, ray-worker-2; lab-86: ray-worker-1`` (empty when nothing is missing)."""
    return "; ".join(f"{host}: {', '.join(names)}" for host, names in sorted(summary["missing_by_host"].items()))


# --------------------------------------------------------------------------------------------
# Reading the node table inside the head container
# --------------------------------------------------------------------------------------------

NODE_TABLE_MARKER = "RAY_CLUSTER_NODE_TABLE_JSON:"
NODE_TABLE_KEYS = ("NodeID", "Alive", "NodeManagerAddress", "NodeManagerPort", "NodeName", "Resources", "Labels")

# Run as `python3 -c NODE_TABLE_SCRIPT` inside the head container; prints one marker line of JSON.
# First choice: Ray's GlobalState over a GCS client (what `ray._private.services.wait_for_node`
# uses). It registers no driver/job. Fallback: `ray.init(address="auto")` + `ray.nodes()`, which
# registers a driver job on every call.
# Measured with Ray 2.60.0 on a 2-core VM against a 2-node loopback cluster, 5 runs each, whole
# `python -c` process (most of it is `import ray`): GlobalState 0.52-0.80 s wall (median 0.66 s),
# ray.init + ray.nodes() 0.74-0.98 s (median 0.89 s). The GCS path also works on Ray 2.40.0 and
# 2.7.2 (which has GcsClientOptions.from_gcs_address() instead of create()).
# With the GCS down both Ray paths block for minutes, so the script first checks that the GCS
# port accepts a TCP connection (exit 3 if not) and SIGALRM ends it after NODE_TABLE_TIMEOUT s.
NODE_TABLE_TIMEOUT = 60
NODE_TABLE_SCRIPT = f"""
import json, signal, socket, sys
signal.alarm({NODE_TABLE_TIMEOUT})
KEYS = {NODE_TABLE_KEYS!r}
from ray._private import services
address = services.canonicalize_bootstrap_address_or_die("auto")
host, _, port = address.rpartition(":")
try:
    socket.create_connection((host, int(port)), timeout=5).close()
except (OSError, ValueError) as exc:
    sys.stderr.write("the GCS at %s is not reachable: %s\\n" % (address, exc))
    sys.exit(3)
def via_gcs():
    from ray._private.state import GlobalState
    from ray._raylet import GcsClientOptions
    if hasattr(GcsClientOptions, "create"):
        options = GcsClientOptions.create(address, None, allow_cluster_id_nil=True, fetch_cluster_id_if_nil=False)
    else:
        options = GcsClientOptions.from_gcs_address(address)
    state = GlobalState()
    state._initialize_global_state(options)
    return state.node_table()
def via_driver():
    import logging
    import ray
    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    try:
        return ray.nodes()
    finally:
        ray.shutdown()
try:
    source, table = "gcs", via_gcs()
except Exception as exc:
    sys.stderr.write("GCS node table failed (%s); falling back to ray.nodes()\\n" % (exc,))
    source, table = "driver", via_driver()
nodes = [{{k: n.get(k) for k in KEYS}} for n in table]
sys.stdout.write("\\n{NODE_TABLE_MARKER}" + json.dumps({{"source": source, "nodes": nodes}}) + "\\n")
"""


def parse_node_table_output(stdout: str) -> tuple[str, list[dict[str, Any]]]:
    """The output of NODE_TABLE_SCRIPT -> (source, nodes)."""
    line = next((ln for ln in reversed(str(stdout).splitlines()) if ln.startswith(NODE_TABLE_MARKER)), None)
    if line is None:
        raise ValueError(f"expected a line starting with {NODE_TABLE_MARKER} from the node table script, got {stdout[-300:]!r}")
    try:
        data = json.loads(line[len(NODE_TABLE_MARKER) :])
    except json.JSONDecodeError as exc:
        raise ValueError(f"node table script printed invalid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise ValueError(f"expected {{'source': ..., 'nodes': [...]}} from the node table script, got {data!r}")
    return str(data.get("source")), data["nodes"]


# --------------------------------------------------------------------------------------------
# The wait loop
# --------------------------------------------------------------------------------------------


class ClusterIncompleteError(ValueError):
    """The cluster did not reach the plan in time; ``result`` holds the last reading."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def read_cluster(read: Callable[[], tuple[str, list[dict[str, Any]], str]], expected: list[dict[str, Any]]) -> dict[str, Any]:
    """One reading: ``read()`` -> (source, node table, ``ray status`` text) -> facts."""
    source, table, status_text = read()
    result = summarize_cluster(table, expected)
    result["source"] = source
    result["status_text"] = status_text
    try:
        result["status"] = parse_ray_status(status_text)
        result["status_error"] = None
    except ValueError as exc:  # the text is secondary: a new format must not hide the node table
        result["status"] = None
        result["status_error"] = str(exc)
    return result


def wait_for_cluster(
    read: Callable[[], tuple[str, list[dict[str, Any]], str]],
    expected: list[dict[str, Any]],
    wait_timeout: float = 0,
    delay: float = 5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Read until every expected node is alive or ``wait_timeout`` seconds pass (0 = read once).

    ``read`` may raise ``ValueError`` (container or GCS not up yet): that counts as a failed attempt.
    Raises ``ClusterIncompleteError`` (result attached) when nodes are still missing at the end,
    and ``ValueError`` when no attempt could read the cluster at all.
    """
    if wait_timeout < 0:
        raise ValueError(f"wait_timeout: expected seconds >= 0, got {wait_timeout!r}")
    if delay <= 0 and wait_timeout > 0:
        raise ValueError(f"delay: expected seconds > 0 when wait_timeout is set, got {delay!r}")
    start = clock()
    attempts = 0
    result: dict[str, Any] | None = None
    last_error: str | None = None
    while True:
        attempts += 1
        try:
            result = read_cluster(read, expected)
            last_error = None
        except ValueError as exc:
            last_error = str(exc)
        elapsed = clock() - start
        if result is not None and last_error is None and not result["missing"]:
            break
        remaining = wait_timeout - elapsed
        if remaining <= 0:
            break
        sleep(min(delay, remaining))

    elapsed = round(clock() - start, 3)
    where = f"after {attempts} attempt(s) in {elapsed:g} s"
    if result is None:
        raise ValueError(f"could not read the Ray cluster {where}: {last_error}")
    result["attempts"] = attempts
    result["elapsed"] = elapsed
    if last_error is not None:
        result["read_error"] = last_error
    if result["missing"]:
        alive = result["expected_node_count"] - len(result["missing"])
        raise ClusterIncompleteError(
            f"Ray cluster incomplete {where}: {alive} of {result['expected_node_count']} planned nodes alive; "
            f"missing {format_missing(result)}",
            result,
        )
    return result


def exec_argv(docker_cli: str, container: str, *command: str) -> list[str]:
    """``docker exec <container> <command...>`` as an argv list (no shell)."""
    if not container:
        raise ValueError("container: expected the name of the head container, got an empty value")
    return [docker_cli, "exec", container, *command]


def node_table_argv(docker_cli: str, container: str) -> list[str]:
    """argv that prints the node table as JSON inside the head container."""
    return exec_argv(docker_cli, container, "python3", "-c", NODE_TABLE_SCRIPT)


def status_argv(docker_cli: str, container: str) -> list[str]:
    """argv of ``ray status`` inside the head container."""
    return exec_argv(docker_cli, container, "ray", "status")


def command_error(what: str, rc: int, stdout: str, stderr: str) -> str:
    """One-line message for a failed command: what, rc and the last line of its output."""
    tail = (stderr or stdout or "").strip().splitlines()
    return f"{what} failed (rc={rc}): {tail[-1] if tail else 'no output'}"
