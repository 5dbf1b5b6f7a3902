# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Read a running Ray cluster back: the GCS node table against the plan, the wait loop.

Pure functions with no Ansible imports; bad input raises ``ValueError`` saying what was expected.
This file runs on the managed (head) host, so it stays importable on Python 3.8+
(``from __future__ import annotations``, no 3.10+ syntax at run time).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, NamedTuple

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status_text import parse_ray_status
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import gcs_redis_password

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


def _index_expected(
    expected: list[dict[str, Any]],
) -> tuple[dict[tuple[str, int], dict[str, Any]], dict[str, str], dict[str, dict[str, Any]]]:
    """The plan's nodes by (ip, port), the host of each ip, and zeroed totals per host."""
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
        totals = per_host.setdefault(exp["host"], {"expected": 0, "alive": 0, "cpus": 0.0, "memory": 0, "object_store_memory": 0})
        totals["expected"] += 1
    return plan, host_of_ip, per_host


def _node_entry(
    i: int, node: dict[str, Any], plan: dict[tuple[str, int], dict[str, Any]], host_of_ip: dict[str, str]
) -> tuple[dict[str, Any], tuple[str, int]]:
    """One row of Ray's node table, matched with the plan; and its (ip, port)."""
    absent = [k for k in _NODE_KEYS if k not in node]
    if absent:
        raise ValueError(f"nodes[{i}]: missing key(s) {', '.join(absent)}; expected ray.nodes() entries")
    key = _endpoint(node["NodeManagerAddress"], node["NodeManagerPort"], f"nodes[{i}] ({node['NodeID']})")
    exp = plan.get(key)
    entry = {
        "id": node["NodeID"],
        "ip": key[0],
        "port": key[1],
        "alive": bool(node.get("Alive", node.get("alive", False))),
        "host": exp["host"] if exp else host_of_ip.get(key[0]),
        "name": exp["name"] if exp else None,
        "role": exp.get("role") if exp else None,
        "resources": dict(node.get("Resources") or {}),
    }
    return entry, key


def summarize_cluster(nodes: list[dict[str, Any]], expected: list[dict[str, Any]]) -> dict[str, Any]:
    """Match Ray's node table with the plan's ``expected_nodes`` by (ip, node manager port).

    Dead entries (``Alive`` false, left behind by restarted containers) stay in ``nodes`` but never
    count as alive; an alive node on the same ip:port wins.
    """
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        raise ValueError(f"nodes: expected the list of dicts ray.nodes() returns, got {type(nodes).__name__}")
    if not isinstance(expected, list) or not all(isinstance(e, dict) for e in expected):
        raise ValueError(f"expected_nodes: expected a list of dicts, got {type(expected).__name__}")

    plan, host_of_ip, per_host = _index_expected(expected)
    out_nodes: list[dict[str, Any]] = []
    alive_keys: set[tuple[str, int]] = set()
    unexpected: list[dict[str, Any]] = []
    for i, node in enumerate(nodes):
        entry, key = _node_entry(i, node, plan, host_of_ip)
        out_nodes.append(entry)
        exp = plan.get(key)
        if not entry["alive"]:
            continue
        if exp is None:
            unexpected.append(entry)
            continue
        if key in alive_keys:
            continue  # two alive entries on one ip:port cannot both be this container
        alive_keys.add(key)
        host_totals = per_host[exp["host"]]
        host_totals["alive"] += 1
        host_totals["cpus"] += _amount_or_zero(entry["resources"], "CPU")
        host_totals["memory"] += round(_amount_or_zero(entry["resources"], "memory"))
        host_totals["object_store_memory"] += round(_amount_or_zero(entry["resources"], "object_store_memory"))

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


# The same table from the head's dashboard, read over HTTP from the head host in two GETs:
# ``/nodes?view=summary`` (the GCS node table as the dashboard holds it, with each node's manager
# port, but every key camelCased, resource and label names included: lossy) and the state API's
# ``/api/v0/nodes`` (exact resource and label names, no port), joined by node id.
# Measured on the lab's head (Ray 2.60.0, 22 entries, 2 busy cores): 70-110 ms each, against
# 1.5-2.5 s for NODE_TABLE_SCRIPT's Python start in the container. The dashboard is a separate
# process that starts after the GCS: when it does not answer, the reader falls back to the script.
DASHBOARD_SUMMARY_PATH = "/nodes?view=summary"
DASHBOARD_STATE_PATH = "/api/v0/nodes?detail=1&limit=10000"
DASHBOARD_TIMEOUT = 5


def _dashboard_data(body: str, what: str) -> Any:
    try:
        data = json.loads(body)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the dashboard's {what} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        raise ValueError(f"expected {{'data': {{...}}}} as the dashboard's {what}, got {str(body)[:300]!r}")
    return data["data"]


def parse_dashboard_nodes(summary_body: str, state_body: str) -> list[dict[str, Any]]:
    """The bodies of the dashboard's ``GET`` :data:`DASHBOARD_SUMMARY_PATH` and
    :data:`DASHBOARD_STATE_PATH` -> node table entries with :data:`NODE_TABLE_KEYS` (what
    NODE_TABLE_SCRIPT prints for the same cluster)."""
    summary = _dashboard_data(summary_body, "node summary").get("summary")
    if not isinstance(summary, list) or not all(isinstance(e, dict) and isinstance(e.get("raylet"), dict) for e in summary):
        raise ValueError(
            f"expected {{'data': {{'summary': [{{'raylet': {{...}}}}, ...]}}}} from the dashboard, got {summary_body[:300]!r}"
        )
    state = _dashboard_data(state_body, "node list").get("result")
    listed = state.get("result") if isinstance(state, dict) else None
    if not isinstance(listed, list) or not all(isinstance(n, dict) and n.get("node_id") for n in listed):
        raise ValueError(
            f"expected {{'data': {{'result': {{'result': [{{'node_id': ...}}, ...]}}}}}} from the dashboard, "
            f"got {state_body[:300]!r}"
        )
    if state.get("total") != len(listed):
        raise ValueError(f"the dashboard's node list is truncated: {len(listed)} of {state.get('total')} nodes")
    exact = {n["node_id"]: n for n in listed}
    summarized = {e["raylet"].get("nodeId") for e in summary}
    # The two reads are not one snapshot, and the summary follows the GCS a little later than the
    # list (a node removed by a scale-down stays ALIVE there for a moment): a node they disagree on
    # makes the reading unusable, and the caller reads the GCS itself.
    for node in listed:
        if node.get("state") == "ALIVE" and node["node_id"] not in summarized:
            raise ValueError(f"node {node['node_id']} is ALIVE in the dashboard's node list but not in its node summary")
    nodes = []
    for i, entry in enumerate(summary):
        raylet = entry["raylet"]
        node_id = raylet.get("nodeId")
        if not node_id:
            raise ValueError(f"the dashboard's node summary, entry {i}: no nodeId in {str(raylet)[:200]!r}")
        alive = raylet.get("state") == "ALIVE"
        if alive and node_id not in exact:  # registered between the two reads
            raise ValueError(f"node {node_id} is in the dashboard's node summary but not in its node list")
        named = exact.get(node_id, {})
        if node_id in exact and alive != (named.get("state") == "ALIVE"):
            raise ValueError(
                f"node {node_id} is {raylet.get('state')} in the dashboard's node summary "
                f"but {named.get('state')} in its node list"
            )
        node = {
            "NodeID": node_id,
            "Alive": alive,
            # A dead node's entry in the summary may have lost its address (not its port): the list has it.
            "NodeManagerAddress": raylet.get("nodeManagerAddress") or named.get("node_ip") or "",
            "NodeManagerPort": raylet.get("nodeManagerPort") or 0,
            "NodeName": raylet.get("nodeName"),
            "Resources": (named.get("resources_total") or {}) if alive else {},  # as ray.nodes() has it
            "Labels": named.get("labels") or {},
        }
        nodes.append({key: node[key] for key in NODE_TABLE_KEYS})
    return nodes


def dashboard_fetch(url: str, token_file: str = "", timeout: float = DASHBOARD_TIMEOUT) -> Callable[[str], str]:
    """A function that GETs a path of the dashboard at ``url`` (the plan's ``dashboard_url``), with the
    token in ``token_file`` when token authentication is on, and returns the body; raises ``ValueError``."""

    def fetch(path: str) -> str:
        headers = {}
        try:
            if token_file:
                with open(token_file, encoding="utf-8") as handle:
                    headers["Authorization"] = f"Bearer {handle.read().strip()}"
            request = urllib.request.Request(url.rstrip("/") + path, headers=headers)  # noqa: S310 - the plan's URL
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the plan's URL
                return response.read().decode("utf-8")
        except (OSError, ValueError, urllib.error.URLError, http.client.HTTPException) as exc:  # a cut answer too
            raise ValueError(f"GET {url.rstrip('/')}{path}: {exc}") from None

    return fetch


def read_dashboard_nodes(fetch: Callable[[str], str]) -> list[dict[str, Any]]:
    """The node table through the dashboard (:func:`dashboard_fetch`); raises ``ValueError``."""
    return parse_dashboard_nodes(fetch(DASHBOARD_SUMMARY_PATH), fetch(DASHBOARD_STATE_PATH))


# --------------------------------------------------------------------------------------------
# The wait loop
# --------------------------------------------------------------------------------------------


class ClusterIncompleteError(ValueError):
    """The cluster did not reach the plan in time; ``result`` holds the last reading."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


class Reading(NamedTuple):
    """One reading of the cluster: where the node table came from (``dashboard``, ``gcs`` or
    ``driver``), the table, the ``ray status`` text (None when it was not read), and why the
    dashboard's read was not used (None when it was, or when there is no dashboard to read)."""

    source: str
    nodes: list[dict[str, Any]]
    status_text: str | None
    dashboard_error: str | None = None


def read_cluster(read: Callable[[], tuple[Any, ...]], expected: list[dict[str, Any]]) -> dict[str, Any]:
    """One reading: ``read()`` -> a :class:`Reading` (or a tuple of its fields) -> facts."""
    reading = Reading(*read())
    status_text = reading.status_text
    result = summarize_cluster(reading.nodes, expected)
    result["source"] = reading.source
    result["dashboard_error"] = reading.dashboard_error
    result["status_text"] = status_text
    if status_text is None:
        result["status"], result["status_error"] = None, "not read (read_status=false)"
        return result
    try:
        result["status"] = parse_ray_status(status_text)
        result["status_error"] = None
    except ValueError as exc:  # the text is secondary: a new format must not hide the node table
        result["status"] = None
        result["status_error"] = str(exc)
    return result


def wait_for_cluster(
    read: Callable[[], Reading],
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


def store_usage(path: str) -> dict[str, Any]:
    """The GCS store on the head host: ``{path, present, files, bytes}`` (a missing store means a
    restarted head would start a new cluster)."""
    if not os.path.isdir(path):
        return {"path": path, "present": False, "files": 0, "bytes": 0}
    files = size = 0
    for folder, _dirs, names in os.walk(path):
        for name in names:
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # the GCS rotates its files while we read
                continue
            files += 1
    return {"path": path, "present": True, "files": files, "bytes": size}


def _resp(*words: str) -> bytes:
    """One Redis command in RESP (an array of bulk strings)."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode("utf-8")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not a host:port address: {address!r}")
    return host.strip("[]"), int(port)


def redis_health(address: str, username: str, password: str, timeout: float = 3.0) -> dict[str, Any]:
    """The GCS's Redis, asked to log in and answer ``PING``: ``{address, answering, logged_in, error}``.
    ``answering`` says a Redis answered at all, ``logged_in`` that it took the login and answered
    PONG; ``error`` says what went wrong (unreachable, login refused, loading its data...)."""
    result: dict[str, Any] = {"address": address, "answering": False, "logged_in": False, "error": None}
    try:
        host, port = _split_address(address)
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_resp("AUTH", username, password) + _resp("PING"))
            data = b""
            while data.count(b"\r\n") < 2:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except (OSError, ValueError) as exc:
        result["error"] = f"unreachable: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
        return result
    replies = data.decode("utf-8", "replace").split("\r\n")[:2]
    if not replies or not replies[0]:
        result["error"] = "closed the connection without an answer"
        return result
    result["answering"] = True
    auth, ping = replies[0], replies[1] if len(replies) > 1 else ""
    if auth != "+OK":
        result["error"] = f"login refused: {auth.lstrip('-')}"
    elif ping != "+PONG":
        result["error"] = f"PING answered {ping.lstrip('+-') or 'nothing'}"
    else:
        result["logged_in"] = True
    return result


def gcs_store(path: str, redis_address: str, redis_username: str, token_file: str) -> dict[str, Any] | None:
    """The GCS store as read on the head host: :func:`store_usage` of ``path`` and, with a Redis
    address, its :func:`redis_health` (``redis``), logged in with the password derived from the
    token in ``token_file``. None with neither."""
    if not path and not redis_address:
        return None
    store = store_usage(path) if path else {"path": "", "present": True, "files": 0, "bytes": 0}
    if redis_address:
        try:
            with open(token_file, encoding="utf-8") as handle:
                password = gcs_redis_password(handle.read())
        except (OSError, ValueError) as exc:
            store["redis"] = {"address": redis_address, "answering": False, "logged_in": False, "error": f"no password: {exc}"}
        else:
            store["redis"] = redis_health(redis_address, redis_username, password)
    return store


def gcs_store_problem(store: dict[str, Any] | None) -> str:
    """What is wrong with the GCS store as read (empty when nothing is)."""
    redis = (store or {}).get("redis")
    if redis and not redis["logged_in"]:
        return f"GCS store redis at {redis['address']}: {redis['error']}"
    return ""


def node_reader(
    run: Callable[[list[str]], tuple[int, str, str]],
    docker_cli: str,
    container: str,
    read_status: bool,
    fetch: Callable[[str], str] | None = None,
) -> Callable[[], Reading]:
    """The cluster's node table (and ``ray status`` with ``read_status``): one :class:`Reading` per call;
    raises ``ValueError`` when it cannot be read. With ``fetch`` (:func:`dashboard_fetch`) the table
    comes from the dashboard (source ``dashboard``) and, when that fails, from the head container
    with ``run(argv) -> (rc, stdout, stderr)`` (source ``gcs`` or ``driver``), and the reading says
    why the dashboard's read was not used."""

    def table() -> tuple[str, list[dict[str, Any]], str | None]:
        dashboard_error = None
        if fetch is not None:
            try:
                return "dashboard", read_dashboard_nodes(fetch), None
            except ValueError as exc:
                # The dashboard starts after the GCS, or is down: the container's own read, and why.
                dashboard_error = str(exc)
        rc, out, err = run(node_table_argv(docker_cli, container))
        if rc != 0:
            raise ValueError(command_error(f"docker exec {container} python3 (node table)", rc, out, err))
        return (*parse_node_table_output(out), dashboard_error)

    def read() -> Reading:
        source, nodes, dashboard_error = table()
        if not read_status:
            return Reading(source, nodes, None, dashboard_error)
        rc, status_out, err = run(status_argv(docker_cli, container))
        if rc != 0:
            raise ValueError(command_error(f"docker exec {container} ray status", rc, status_out, err))
        return Reading(source, nodes, status_out, dashboard_error)

    return read


def cluster_now(
    run: Callable[[list[str]], tuple[int, str, str]],
    docker_cli: str,
    container: str,
    expected: list[dict[str, Any]],
    gcs_storage_path: str = "",
    fetch: Callable[[str], str] | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """One reading of the cluster, as ``ray_cluster_status`` reports it without waiting (the node
    table, not ``ray status``; ``gcs_storage`` from :func:`store_usage`), and ``''``; or ``None`` and
    why it could not be read. A cluster with planned nodes missing is a reading, not an error."""
    try:
        result = wait_for_cluster(node_reader(run, docker_cli, container, False, fetch), expected)
    except ClusterIncompleteError as exc:
        result = exc.result
    except ValueError as exc:
        return None, str(exc)
    return {**result, "gcs_storage": store_usage(gcs_storage_path) if gcs_storage_path else None}, ""
