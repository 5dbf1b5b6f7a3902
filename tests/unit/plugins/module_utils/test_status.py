# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for plugins/module_utils/_status.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status import (
    DASHBOARD_STATE_PATH,
    DASHBOARD_SUMMARY_PATH,
    NODE_TABLE_MARKER,
    NODE_TABLE_SCRIPT,
    ClusterIncompleteError,
    cluster_now,
    command_error,
    dashboard_fetch,
    format_missing,
    node_reader,
    node_table_argv,
    parse_dashboard_nodes,
    parse_node_table_output,
    read_cluster,
    read_dashboard_nodes,
    status_argv,
    store_usage,
    summarize_cluster,
    wait_for_cluster,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status_text import parse_ray_status

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "ray_status"
STATUS_FIXTURES = sorted(p.stem for p in FIXTURES.glob("*.txt"))
GIB = 2**30


def test_enough_fixtures() -> None:
    assert len(STATUS_FIXTURES) >= 8
    formats = {json.loads((FIXTURES / f"{n}.json").read_text())["format"] for n in STATUS_FIXTURES}
    assert formats == {"no_status", "healthy", "active", "active_idle"}


@pytest.mark.parametrize("name", STATUS_FIXTURES, ids=STATUS_FIXTURES)
def test_fixture(name: str) -> None:
    expected = json.loads((FIXTURES / f"{name}.json").read_text())
    assert parse_ray_status((FIXTURES / f"{name}.txt").read_text()) == expected


# Hand-checked values, so the JSON files are not the only oracle.
@pytest.mark.parametrize(
    ("name", "checks"),
    [
        ("ray2600_no_status", {"ready": False, "active_nodes": 0, "idle_nodes": None, "resources": {}}),
        ("ray272_no_status", {"ready": False, "format": "no_status"}),
        (
            "ray2600_two_nodes",
            {
                "ready": True,
                "format": "active",
                "active_nodes": 2,
                "idle_nodes": None,
                "node_ids": [
                    "node_47c59e23c205cd1377ceb8b31d7519da795908f516da6c003608bda0",
                    "node_585b6dd481b5db653593d9e92b2032d3e8dd58ac0915f817fe239451",
                ],
                "demands": [],
                "constraints": [],
            },
        ),
        (
            "ray2600_pending_demands",
            {
                "demands": [
                    "{'CPU': 1.0, 'GPU': 1.0}: 2+ pending tasks/actors",
                    "{'CPU': 8.0} * 1 (PACK): 1+ pending placement groups",
                ]
            },
        ),
        ("ray2600_v2_idle", {"format": "active_idle", "active_nodes": 0, "idle_nodes": 2, "node_ids": []}),
        ("ray2600_v2_pending_verbose", {"active_nodes": 1, "idle_nodes": 1}),
        ("ray272_head_only", {"format": "healthy", "active_nodes": 1}),
        ("published_docs_2021_healthy", {"active_nodes": 3, "node_ids": ["ray.head.default", "ray.worker.cpu"]}),
        ("published_pr14608_failures", {"pending_nodes": 2, "recent_failures": 1}),
        ("published_pr36894_verbose_launching", {"active_nodes": 22, "pending_nodes": 4, "recent_failures": 1}),
        ("published_ray_v2_formatter_test", {"pending_nodes": 3, "recent_failures": 2}),
        ("published_pr49350_v2_idle_pending", {"active_nodes": 0, "idle_nodes": 1, "pending_nodes": 1}),
        (
            "published_issue26761_negative_usage",
            {
                "format": "healthy",
                "active_nodes": 2,
                "node_ids": ["ray.head.default", "ray.worker.default"],
                "demands": [
                    "{'CPU': 1.0, 'node:10.0.2.102': 0.001}: 1+ pending tasks/actors (1+ using placement groups)",
                    "{'CPU': 1.0, 'node:10.0.2.51': 0.001}: 1+ pending tasks/actors (1+ using placement groups)",
                ],
            },
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_fixture_values(name: str, checks: dict[str, Any]) -> None:
    facts = parse_ray_status((FIXTURES / f"{name}.txt").read_text())
    assert {k: facts[k] for k in checks} == checks


@pytest.mark.parametrize(
    ("name", "resource", "used", "total"),
    [
        ("ray2600_two_nodes", "CPU", 0.0, 2.0),
        ("ray2600_two_nodes", "custom_x", 0.0, 2.0),
        ("ray2600_two_nodes", "memory", 0.0, round(17.31 * GIB)),
        ("ray2600_pending_verbose", "object_store_memory", 0.0, round(7.09 * GIB)),
        ("published_docs_2021_healthy", "memory", 0.0, round(70.437 * GIB)),
        ("published_pr36894_verbose_launching", "object_store_memory", round(3.14 * GIB), 16 * GIB),
        ("published_pr36894_verbose_launching", "AcceleratorType:V100", 1.0, 2.0),
        ("published_ray_v2_formatter_test", "object_store_memory", round(5.42 * 1024), round(10.04 * 1024)),
        ("published_pr49350_v2_idle_pending", "object_store_memory", 0.0, round(495.58 * 2**20)),
        # Ray printed more used than total: kept as printed, negative included.
        ("published_issue26761_negative_usage", "accelerator_type:T4", -8.0, 2.0),
        ("published_issue26761_negative_usage", "CPU", 3.0, 8.0),
        ("published_issue26761_negative_usage", "object_store_memory", round(0.05 * GIB), round(8.895 * GIB)),
    ],
    ids=lambda v: str(v),
)
def test_resources(name: str, resource: str, used: float, total: float) -> None:
    # The verbose per-node blocks must not overwrite the cluster totals.
    facts = parse_ray_status((FIXTURES / f"{name}.txt").read_text())
    assert facts["resources"][resource] == {"used": float(used), "total": float(total)}


STATUS_HEAD = "======== Autoscaler status: 2026-01-01 00:00:00 ========\nNode status\n-----\n"


@pytest.mark.parametrize(
    ("line", "used", "total"),
    [
        ("1B/2KiB memory", 1.0, 2048.0),
        ("1.5MiB/1TiB object_store_memory", 1.5 * 2**20, float(2**40)),
        ("1KB/2MB memory", 1000.0, 2e6),
        ("1GB/1TB memory", 1e9, 1e12),
        ("0.50/1.000 GiB memory", float(GIB // 2), float(GIB)),
        ("2.0/4.0 CPU (1.0 used of 2.0 reserved in placement groups)", 2.0, 4.0),
        ("1e3/2e3 custom", 1000.0, 2000.0),
    ],
    ids=["B-KiB", "MiB-TiB", "SI-KB-MB", "SI-GB-TB", "ray1-unit-after", "placement-group-suffix", "exponent"],
)
def test_usage_units(line: str, used: float, total: float) -> None:
    text = f"{STATUS_HEAD}Active:\n 1 node_a\nResources\n-----\nUsage:\n {line}\n"
    (usage,) = parse_ray_status(text)["resources"].values()
    assert usage == {"used": used, "total": total}


# Usage lines as Ray's formatter can print them (python/ray/autoscaler/_private/util.py, parse_usage:
# f"{used}/{total} {resource}", memory through format_memory). The value is kept as printed.
@pytest.mark.parametrize(
    ("line", "name", "used", "total"),
    [
        ("-8.0/2.0 accelerator_type:T4 (0.0 used of 10.0 reserved in placement groups)", "accelerator_type:T4", -8.0, 2.0),
        ("-2.0/52.0 CPU (0.0 used of 2.0 reserved in placement groups)", "CPU", -2.0, 52.0),
        ("-1073741824B/2.00GiB memory", "memory", -float(GIB), 2.0 * GIB),
        ("-0.50/1.000 GiB object_store_memory", "object_store_memory", -float(GIB // 2), float(GIB)),
        ("0B/512.00KiB object_store_memory", "object_store_memory", 0.0, 512.0 * 1024),
        ("0.0/0.0 GPU", "GPU", 0.0, 0.0),
        ("+1.0/2.0 CPU", "CPU", 1.0, 2.0),
        ("1e-05/1.0 custom", "custom", 1e-05, 1.0),
        ("-1e-05/1.0 custom", "custom", -1e-05, 1.0),
        ("1E+20/1E+21 custom", "custom", 1e20, 1e21),
        (".5/1 custom", "custom", 0.5, 1.0),
        ("1/2 AcceleratorType:V100", "AcceleratorType:V100", 1.0, 2.0),
        ("0.0/4.0 TPU-v4-16-head", "TPU-v4-16-head", 0.0, 4.0),
        ("1.0/2.0 my.resource:x_1", "my.resource:x_1", 1.0, 2.0),
        ("1.0/2.0 custom resource (1.0 used of 2.0 reserved in placement groups)", "custom resource", 1.0, 2.0),
        ("0B/1.00GiB memory (0B used of 1.00GiB reserved in placement groups)", "memory", 0.0, float(GIB)),
    ],
    ids=[
        "negative",
        "negative-ray1.7",
        "negative-memory-bytes",
        "negative-ray1-unit-after",
        "B-KiB",
        "zero-total",
        "plus-sign",
        "small-exponent",
        "negative-exponent",
        "large-exponent",
        "leading-dot",
        "ints",
        "dashes",
        "dots-and-colons",
        "spaces-in-name",
        "memory-placement-group",
    ],
)
def test_usage_lines_ray_can_print(line: str, name: str, used: float, total: float) -> None:
    text = f"{STATUS_HEAD}Active:\n 1 node_a\nResources\n-----\nUsage:\n {line}\n"
    assert parse_ray_status(text)["resources"] == {name: {"used": used, "total": total}}


def test_text_before_banner_and_unknown_sections_are_ignored() -> None:
    text = (
        "2026-01-01 WARNING something noisy\n"
        f"{STATUS_HEAD}Active:\n 2 node_a\nSomething new:\n whatever 1/2/3\nPending:\n (no pending nodes)\n"
    )
    facts = parse_ray_status(text)
    assert (facts["active_nodes"], facts["node_ids"]) == (2, ["node_a"])


def test_crlf() -> None:
    facts = parse_ray_status(f"{STATUS_HEAD}Active:\n 1 node_a\n".replace("\n", "\r\n"))
    assert facts["node_ids"] == ["node_a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected the output of `ray status`"),
        ("   \n\n", "expected the output of `ray status`"),
        ("hello world\n", "got text starting with 'hello world'"),
        ("Traceback (most recent call last):\n  File x\nConnectionError: boom\n", "'Active:'"),
        (f"{STATUS_HEAD}Pending:\n (no pending nodes)\n", "'Healthy:'"),
        (f"{STATUS_HEAD}Active:\n node_without_count\n", "line 5: expected '<count> <node id or type>'"),
        (f"{STATUS_HEAD}Active:\n 1 a\nIdle:\n x y z\n", "in the Idle section"),
        (f"{STATUS_HEAD}Active:\n 1 a\nUsage:\n lots of CPU\n", "expected a resource usage line"),
        (f"{STATUS_HEAD}Active:\n 1 a\nTotal Usage:\n 1/2\n", "expected a resource usage line"),
        (f"{STATUS_HEAD}Active:\n 1 a\nUsage:\n n/a CPU\n", "expected a resource usage line"),
        (f"{STATUS_HEAD}Active:\n 1 a\nUsage:\n --8.0/2.0 CPU\n", "expected a resource usage line"),
        (f"{STATUS_HEAD}Active:\n 1 a\nUsage:\n 1.0/2.0GiB\n", "expected a resource usage line"),
        (None, "got a NoneType"),
        (b"Active:\n 1 a\n", "got a bytes"),
    ],
    ids=[
        "empty",
        "blank",
        "garbage",
        "traceback",
        "no-node-section",
        "node-line",
        "idle-line",
        "usage-line",
        "usage-without-name",
        "usage-not-a-number",
        "usage-double-sign",
        "usage-unit-without-name",
        "none",
        "bytes",
    ],
)
def test_parse_errors(text: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_ray_status(text)
    assert message in str(err.value)


# ---------------------------------------------------------------------------------------------
# summarize_cluster
# ---------------------------------------------------------------------------------------------

EXPECTED = [
    {
        "host": "lab-84",
        "name": "ray-head",
        "role": "head",
        "ip": "10.0.0.84",
        "node_manager_port": 20000,
        "num_cpus": 0,
        "memory": 2 * GIB,
        "object_store_memory": 256 * 2**20,
    },
    {
        "host": "lab-84",
        "name": "ray-worker-1",
        "role": "worker",
        "ip": "10.0.0.84",
        "node_manager_port": 20100,
        "num_cpus": 2,
        "memory": GIB,
        "object_store_memory": 128 * 2**20,
    },
    {
        "host": "lab-85",
        "name": "ray-worker-1",
        "role": "worker",
        "ip": "10.0.0.85",
        "node_manager_port": 20000,
        "num_cpus": 2,
        "memory": GIB,
        "object_store_memory": 128 * 2**20,
    },
    {
        "host": "lab-85",
        "name": "ray-worker-2",
        "role": "worker",
        "ip": "10.0.0.85",
        "node_manager_port": 20100,
        "num_cpus": 2,
        "memory": GIB,
        "object_store_memory": 128 * 2**20,
    },
]


def ray_node(
    node_id: str, ip: str, port: int, alive: bool = True, cpus: float = 2.0, memory: float = GIB, store: float = 128 * 2**20
) -> dict[str, Any]:
    """One entry as ray.nodes() returns it."""
    return {
        "NodeID": node_id,
        "Alive": alive,
        "alive": alive,
        "NodeManagerAddress": ip,
        "NodeManagerPort": port,
        "NodeName": ip,
        "Resources": {"CPU": cpus, "memory": memory, "object_store_memory": store, f"node:{ip}": 1.0},
        "Labels": {"ray.io/node-id": node_id},
    }


WHOLE = [
    ray_node("h", "10.0.0.84", 20000, cpus=0.0, memory=2 * GIB, store=256 * 2**20),
    ray_node("a", "10.0.0.84", 20100),
    ray_node("b", "10.0.0.85", 20000),
    ray_node("c", "10.0.0.85", 20100),
]


def test_whole_cluster() -> None:
    s = summarize_cluster(WHOLE, EXPECTED)
    assert (s["whole"], s["alive_nodes"], s["expected_node_count"]) == (True, 4, 4)
    assert (s["missing"], s["missing_by_host"], s["unexpected"]) == ([], {}, [])
    assert s["per_host"] == {
        "lab-84": {"expected": 2, "alive": 2, "cpus": 2.0, "memory": 3 * GIB, "object_store_memory": 384 * 2**20},
        "lab-85": {"expected": 2, "alive": 2, "cpus": 4.0, "memory": 2 * GIB, "object_store_memory": 256 * 2**20},
    }
    assert s["nodes"][0] == {
        "id": "h",
        "ip": "10.0.0.84",
        "port": 20000,
        "alive": True,
        "host": "lab-84",
        "name": "ray-head",
        "role": "head",
        "resources": WHOLE[0]["Resources"],
    }


@pytest.mark.parametrize(
    ("nodes", "whole", "alive", "missing_by_host", "unexpected_ids", "lab85_alive"),
    [
        (WHOLE[:3], False, 3, {"lab-85": ["ray-worker-2"]}, [], 1),
        (WHOLE[:2], False, 2, {"lab-85": ["ray-worker-1", "ray-worker-2"]}, [], 0),
        ([], False, 0, {"lab-84": ["ray-head", "ray-worker-1"], "lab-85": ["ray-worker-1", "ray-worker-2"]}, [], 0),
        # the killed worker's dead entry before its restart on the same ip:port: the live one wins
        ([*WHOLE, ray_node("c-old", "10.0.0.85", 20100, alive=False)], True, 4, {}, [], 2),
        ([ray_node("c-old", "10.0.0.85", 20100, alive=False), *WHOLE], True, 4, {}, [], 2),
        # only the dead entry: missing
        ([*WHOLE[:3], ray_node("c-old", "10.0.0.85", 20100, alive=False)], False, 3, {"lab-85": ["ray-worker-2"]}, [], 1),
        # a node outside the plan (same host IP, other port) and one from an unknown address
        ([*WHOLE, ray_node("x", "10.0.0.85", 20200)], False, 5, {}, ["x"], 2),
        ([*WHOLE, ray_node("y", "10.0.0.99", 20000)], False, 5, {}, ["y"], 2),
        # a dead unknown node is neither alive nor unexpected
        ([*WHOLE, ray_node("z", "10.0.0.99", 20000, alive=False)], True, 4, {}, [], 2),
    ],
    ids=[
        "one-missing",
        "host-missing",
        "empty-table",
        "dead-then-alive",
        "alive-then-dead",
        "only-dead",
        "unexpected-port",
        "unexpected-ip",
        "dead-unknown",
    ],
)
def test_summarize_cases(
    nodes: list[dict[str, Any]],
    whole: bool,
    alive: int,
    missing_by_host: dict[str, list[str]],
    unexpected_ids: list[str],
    lab85_alive: int,
) -> None:
    s = summarize_cluster(nodes, EXPECTED)
    assert s["whole"] is whole
    assert s["alive_nodes"] == alive
    assert s["missing_by_host"] == missing_by_host
    assert [n["id"] for n in s["unexpected"]] == unexpected_ids
    assert s["per_host"]["lab-85"]["alive"] == lab85_alive
    assert len(s["nodes"]) == len(nodes)
    assert [m["name"] for m in s["missing"]] == [n for names in missing_by_host.values() for n in names]


def test_unexpected_node_host_from_ip() -> None:
    s = summarize_cluster([*WHOLE, ray_node("x", "10.0.0.85", 20200), ray_node("y", "10.0.0.99", 1)], EXPECTED)
    assert [(n["host"], n["name"]) for n in s["unexpected"]] == [("lab-85", None), (None, None)]
    assert s["per_host"]["lab-85"]["cpus"] == 4.0  # unexpected nodes are not summed into a host


def test_per_host_sums_skip_dead_and_tolerate_missing_resources() -> None:
    nodes = [*WHOLE[:3], ray_node("c-old", "10.0.0.85", 20100, alive=False, cpus=64.0)]
    nodes[2] = {**nodes[2], "Resources": {}}
    s = summarize_cluster(nodes, EXPECTED)
    assert s["per_host"]["lab-85"] == {"expected": 2, "alive": 1, "cpus": 0.0, "memory": 0, "object_store_memory": 0}


def test_ports_as_strings_match() -> None:
    exp = [{**EXPECTED[0], "node_manager_port": "20000"}]
    s = summarize_cluster([{**WHOLE[0], "NodeManagerPort": "20000"}], exp)
    assert s["whole"] is True


def test_real_restarted_worker_table() -> None:
    """Ray 2.60.0's node table after a worker was killed and restarted on the same ports."""
    source, nodes = parse_node_table_output((FIXTURES / "node_tables" / "ray2600_restarted_worker.stdout").read_text())
    assert source == "gcs"
    ip = nodes[0]["NodeManagerAddress"]
    expected = [
        {"host": "lab-a", "name": "ray-head", "role": "head", "ip": ip, "node_manager_port": 21000},
        {"host": "lab-a", "name": "ray-worker-1", "role": "worker", "ip": ip, "node_manager_port": 21010},
    ]
    s = summarize_cluster(nodes, expected)
    assert (s["whole"], s["alive_nodes"], len(s["nodes"])) == (True, 2, 3)
    assert [(n["name"], n["alive"]) for n in s["nodes"]] == [("ray-head", True), ("ray-worker-1", True), ("ray-worker-1", False)]
    assert s["per_host"]["lab-a"]["cpus"] == 2.0
    assert s["per_host"]["lab-a"]["memory"] == round(sum(n["Resources"]["memory"] for n in nodes if n["Alive"]))


@pytest.mark.parametrize(
    ("nodes", "expected", "message"),
    [
        ("nope", [], "nodes: expected the list of dicts"),
        ([1], [], "nodes: expected the list of dicts"),
        ([], {"host": "a"}, "expected_nodes: expected a list of dicts"),
        ([], [{"host": "a", "name": "n", "ip": "1.2.3.4"}], "expected_nodes[0]: missing key(s) node_manager_port"),
        ([], [{**EXPECTED[0], "node_manager_port": "x"}], "expected an integer port, got 'x'"),
        ([], [EXPECTED[0], {**EXPECTED[0], "name": "dup"}], "10.0.0.84:20000 is already planned for lab-84/ray-head"),
        ([{"NodeID": "a"}], [], "nodes[0]: missing key(s) NodeManagerAddress, NodeManagerPort"),
        ([{**WHOLE[0], "NodeManagerPort": None}], [], "expected an integer port, got None"),
    ],
    ids=[
        "nodes-not-list",
        "node-not-dict",
        "expected-not-list",
        "expected-key",
        "expected-port",
        "duplicate-endpoint",
        "node-key",
        "node-port",
    ],
)
def test_summarize_errors(nodes: Any, expected: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        summarize_cluster(nodes, expected)
    assert message in str(err.value)


def test_format_missing() -> None:
    s = summarize_cluster(WHOLE[:1], EXPECTED)
    assert format_missing(s) == "lab-84: ray-worker-1; lab-85: ray-worker-1, ray-worker-2"


# ---------------------------------------------------------------------------------------------
# node table script and its output
# ---------------------------------------------------------------------------------------------


def test_node_table_script_compiles() -> None:
    compile(NODE_TABLE_SCRIPT, "<node table script>", "exec")
    assert NODE_TABLE_MARKER in NODE_TABLE_SCRIPT


def test_node_table_script_without_ray() -> None:
    """Without Ray installed the script fails (non-zero), never prints a half table."""
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", NODE_TABLE_SCRIPT], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode != 0
    assert NODE_TABLE_MARKER not in proc.stdout


@pytest.mark.parametrize(
    ("stdout", "source", "count"),
    [
        (f'noise\n{NODE_TABLE_MARKER}{{"source": "gcs", "nodes": []}}\n', "gcs", 0),
        (f'{NODE_TABLE_MARKER}{{"source": "driver", "nodes": [{{"NodeID": "a"}}]}}', "driver", 1),
        (f'{NODE_TABLE_MARKER}{{"source": "gcs", "nodes": []}}\n{NODE_TABLE_MARKER}{{"source": "x", "nodes": []}}', "x", 0),
    ],
    ids=["noise-before", "no-newline", "last-wins"],
)
def test_parse_node_table_output(stdout: str, source: str, count: int) -> None:
    got_source, nodes = parse_node_table_output(stdout)
    assert (got_source, len(nodes)) == (source, count)


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ("", "expected a line starting with"),
        ("Traceback ...\nConnectionError", "expected a line starting with"),
        (f"{NODE_TABLE_MARKER}{{not json", "invalid JSON"),
        (f'{NODE_TABLE_MARKER}{{"source": "gcs"}}', "expected {'source': ..., 'nodes': [...]}"),
        (f"{NODE_TABLE_MARKER}[]", "expected {'source': ..., 'nodes': [...]}"),
    ],
    ids=["empty", "traceback", "bad-json", "no-nodes", "not-a-dict"],
)
def test_parse_node_table_output_errors(stdout: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_node_table_output(stdout)
    assert message in str(err.value)


def test_argv() -> None:
    assert node_table_argv("docker", "ray-head") == ["docker", "exec", "ray-head", "python3", "-c", NODE_TABLE_SCRIPT]
    assert status_argv("/usr/bin/docker", "c") == ["/usr/bin/docker", "exec", "c", "ray", "status"]
    with pytest.raises(ValueError, match="container"):
        status_argv("docker", "")


@pytest.mark.parametrize(
    ("stdout", "stderr", "tail"),
    [
        ("", "Error: No such container: ray-head\n", "Error: No such container: ray-head"),
        ("out line\n", "", "out line"),
        ("", "", "no output"),
    ],
    ids=["stderr", "stdout", "nothing"],
)
def test_command_error(stdout: str, stderr: str, tail: str) -> None:
    assert command_error("docker exec x", 1, stdout, stderr) == f"docker exec x failed (rc=1): {tail}"


# ---------------------------------------------------------------------------------------------
# wait loop
# ---------------------------------------------------------------------------------------------

STATUS_TEXT = (FIXTURES / "ray2600_two_nodes.txt").read_text()


class FakeClock:
    """A clock that only moves when the loop sleeps or a read takes time."""

    def __init__(self, read_cost: float = 0.5) -> None:
        self.now = 100.0
        self.read_cost = read_cost
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def reader(clock: FakeClock, readings: list[Any]) -> Any:
    """Return each reading in turn (the last one repeats); an exception instance is raised."""
    calls = iter(range(10**6))

    def read() -> tuple[str, list[dict[str, Any]], str]:
        clock.now += clock.read_cost
        item = readings[min(next(calls), len(readings) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return read


@pytest.mark.parametrize(
    ("readings", "wait_timeout", "delay", "attempts", "sleeps"),
    [
        ([("gcs", WHOLE, STATUS_TEXT)], 0, 5, 1, []),
        ([("gcs", WHOLE, STATUS_TEXT)], 60, 5, 1, []),
        ([("gcs", WHOLE[:2], STATUS_TEXT), ("gcs", WHOLE[:3], STATUS_TEXT), ("gcs", WHOLE, STATUS_TEXT)], 60, 5, 3, [5, 5]),
        ([ValueError("docker exec ray-head failed (rc=1): No such container"), ("gcs", WHOLE, STATUS_TEXT)], 60, 5, 2, [5]),
        ([("gcs", WHOLE, "garbage")], 0, 5, 1, []),
    ],
    ids=["read-once", "whole-at-once", "joins-over-time", "container-not-up-yet", "status-text-unparsable"],
)
def test_wait_success(readings: list[Any], wait_timeout: int, delay: int, attempts: int, sleeps: list[float]) -> None:
    clock = FakeClock()
    result = wait_for_cluster(reader(clock, readings), EXPECTED, wait_timeout, delay, clock=clock, sleep=clock.sleep)
    assert result["whole"] is True
    assert result["attempts"] == attempts
    assert clock.sleeps == sleeps
    assert result["elapsed"] == pytest.approx(attempts * 0.5 + sum(sleeps))
    assert result["source"] == "gcs"
    if readings[-1][2] == "garbage":
        assert result["status"] is None
        assert "got text starting with 'garbage'" in result["status_error"]
    else:
        assert result["status"]["active_nodes"] == 2
        assert result["status_text"] == STATUS_TEXT
        assert result["status_error"] is None


def test_wait_without_ray_status_judges_by_the_node_table() -> None:
    clock = FakeClock()
    result = wait_for_cluster(reader(clock, [("gcs", WHOLE, None)]), EXPECTED, 0, 5, clock=clock, sleep=clock.sleep)
    assert result["whole"] is True
    assert result["status"] is None and result["status_text"] is None
    assert result["status_error"] == "not read (read_status=false)"


def test_wait_times_out_with_missing_by_host() -> None:
    clock = FakeClock()
    read = reader(clock, [("gcs", WHOLE[:2], STATUS_TEXT)])
    with pytest.raises(ClusterIncompleteError) as err:
        wait_for_cluster(read, EXPECTED, 12, 5, clock=clock, sleep=clock.sleep)
    # reads end at t=0.5, 6, 11.5 and, after the last 0.5 s left, 12.5
    assert clock.sleeps == [5, 5, 0.5]
    assert str(err.value) == (
        "Ray cluster incomplete after 4 attempt(s) in 12.5 s: 2 of 4 planned nodes alive; "
        "missing lab-85: ray-worker-1, ray-worker-2"
    )
    assert err.value.result["missing_by_host"] == {"lab-85": ["ray-worker-1", "ray-worker-2"]}
    assert err.value.result["attempts"] == 4


def test_wait_read_once_fails_at_once() -> None:
    clock = FakeClock()
    with pytest.raises(ClusterIncompleteError, match="after 1 attempt"):
        wait_for_cluster(reader(clock, [("gcs", [], "")]), EXPECTED, 0, 5, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []


def test_wait_never_readable() -> None:
    clock = FakeClock()
    read = reader(clock, [ValueError("docker exec ray-head ray status failed (rc=1): boom")])
    with pytest.raises(ValueError) as err:
        wait_for_cluster(read, EXPECTED, 10, 5, clock=clock, sleep=clock.sleep)
    assert not isinstance(err.value, ClusterIncompleteError)
    assert str(err.value).startswith("could not read the Ray cluster after 3 attempt(s)")
    assert str(err.value).endswith("boom")


def test_wait_last_read_failed_keeps_earlier_reading() -> None:
    clock = FakeClock()
    read = reader(clock, [("gcs", WHOLE[:3], STATUS_TEXT), ValueError("gone")])
    with pytest.raises(ClusterIncompleteError) as err:
        wait_for_cluster(read, EXPECTED, 6, 5, clock=clock, sleep=clock.sleep)
    assert err.value.result["read_error"] == "gone"
    assert err.value.result["missing_by_host"] == {"lab-85": ["ray-worker-2"]}


def test_wait_without_expected_nodes_reads_once() -> None:
    clock = FakeClock()
    result = wait_for_cluster(reader(clock, [("gcs", WHOLE, STATUS_TEXT)]), [], 60, 5, clock=clock, sleep=clock.sleep)
    assert (result["attempts"], len(result["unexpected"]), result["whole"]) == (1, 4, False)


@pytest.mark.parametrize(
    ("wait_timeout", "delay", "message"),
    [
        (-1, 5, "wait_timeout: expected seconds >= 0"),
        (10, 0, "delay: expected seconds > 0"),
        (10, -1, "delay: expected seconds > 0"),
    ],
    ids=["negative-timeout", "zero-delay", "negative-delay"],
)
def test_wait_bad_arguments(wait_timeout: int, delay: int, message: str) -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match=message):
        wait_for_cluster(
            reader(clock, [("gcs", WHOLE, STATUS_TEXT)]), EXPECTED, wait_timeout, delay, clock=clock, sleep=clock.sleep
        )


def test_store_usage_counts_the_gcs_files(tmp_path: Path) -> None:
    store = tmp_path / "ray-2.60.0"
    (store / "db").mkdir(parents=True)
    (store / "db" / "000001.sst").write_bytes(b"x" * 1000)
    (store / "session_name").write_text("session_1")
    assert store_usage(str(store)) == {"path": str(store), "present": True, "files": 2, "bytes": 1009}
    assert store_usage(str(tmp_path / "gone")) == {"path": str(tmp_path / "gone"), "present": False, "files": 0, "bytes": 0}


def test_cluster_now_reads_once_and_reports_a_partial_cluster(tmp_path: Path) -> None:
    stdout = (FIXTURES / "node_tables" / "ray2600_restarted_worker.stdout").read_text()
    ip = parse_node_table_output(stdout)[1][0]["NodeManagerAddress"]
    expected = [
        {"host": "lab-a", "name": "ray-head", "role": "head", "ip": ip, "node_manager_port": 21000},
        {"host": "lab-a", "name": "ray-worker-1", "role": "worker", "ip": ip, "node_manager_port": 21010},
        {"host": "lab-b", "name": "ray-worker-1", "role": "worker", "ip": "10.9.9.9", "node_manager_port": 21010},
    ]
    calls: list[list[str]] = []

    def run(argv: list[str]) -> tuple[int, str, str]:
        calls.append(argv)
        return 0, stdout, ""

    store = tmp_path / "gcs"
    store.mkdir()
    (store / "db").write_bytes(b"x" * 10)
    cluster, error = cluster_now(run, "/usr/bin/docker", "ray-head", expected[:2], str(store))
    assert error == "" and cluster is not None
    assert (cluster["whole"], cluster["alive_nodes"], cluster["attempts"]) == (True, 2, 1)
    assert cluster["gcs_storage"] == {"path": str(store), "present": True, "files": 1, "bytes": 10}
    assert cluster["status"] is None  # the node table only, never `ray status`
    assert calls == [node_table_argv("/usr/bin/docker", "ray-head")]
    # A planned node missing is a reading (the caller decides), not an error; no store asked, none reported.
    cluster, error = cluster_now(run, "/usr/bin/docker", "ray-head", expected)
    assert error == "" and cluster is not None
    assert (cluster["whole"], cluster["missing_by_host"], cluster["gcs_storage"]) == (False, {"lab-b": ["ray-worker-1"]}, None)
    assert len(calls) == 2  # read once each time: no wait


def test_cluster_now_says_why_it_could_not_read() -> None:
    def down(argv: list[str]) -> tuple[int, str, str]:
        return 1, "", "Error response from daemon: container ray-head is not running\n"

    cluster, error = cluster_now(down, "/usr/bin/docker", "ray-head", [])
    assert cluster is None
    assert error.endswith(
        "docker exec ray-head python3 (node table) failed (rc=1): Error response from daemon: container ray-head is not running"
    )


# The dashboard's two node reads and the node table script's output, read one after the other from
# the lab's converged cluster (Ray 2.60.0: 11 alive nodes, 11 dead ones left by restarted containers).
SUMMARY = FIXTURES / "node_tables" / "ray2600_dashboard_nodes_summary.json"
STATE = FIXTURES / "node_tables" / "ray2600_dashboard_state_nodes.json"
SAME_CLUSTER = FIXTURES / "node_tables" / "ray2600_dashboard_same_cluster.stdout"
DASHBOARD_PATHS = {DASHBOARD_SUMMARY_PATH: SUMMARY, DASHBOARD_STATE_PATH: STATE}


def test_dashboard_nodes_are_the_node_table() -> None:
    from_dashboard = parse_dashboard_nodes(SUMMARY.read_text(), STATE.read_text())
    source, from_script = parse_node_table_output(SAME_CLUSTER.read_text())
    assert source == "gcs"
    assert (len(from_dashboard), sum(n["Alive"] for n in from_dashboard)) == (22, 11)
    alive = {n["NodeID"]: n for n in from_script if n["Alive"]}
    # Every key, equal for every alive node: resource names too (the summary alone camelCases them).
    assert {n["NodeID"]: n for n in from_dashboard if n["Alive"]} == alive
    assert "object_store_memory" in next(iter(alive.values()))["Resources"]
    assert {n["NodeID"] for n in from_dashboard if not n["Alive"]} == {n["NodeID"] for n in from_script if not n["Alive"]}
    expected = [
        {
            "host": n["NodeManagerAddress"],
            "name": n["NodeID"][:8],
            "ip": n["NodeManagerAddress"],
            "node_manager_port": n["NodeManagerPort"],
        }
        for n in alive.values()
    ]
    by_dashboard, by_script = summarize_cluster(from_dashboard, expected), summarize_cluster(from_script, expected)
    assert by_dashboard["whole"]
    assert {k: v for k, v in by_dashboard.items() if k != "nodes"} == {k: v for k, v in by_script.items() if k != "nodes"}
    # A dead node's entry in the summary may have lost its port: it never counts, only its id is compared.
    assert sorted((n for n in by_dashboard["nodes"] if n["alive"]), key=str) == sorted(
        (n for n in by_script["nodes"] if n["alive"]), key=str
    )
    assert sorted(n["id"] for n in by_dashboard["nodes"]) == sorted(n["id"] for n in by_script["nodes"])


def _state(nodes: list[dict[str, Any]], total: int | None = None) -> str:
    return json.dumps({"data": {"result": {"total": len(nodes) if total is None else total, "result": nodes}}})


@pytest.mark.parametrize(
    ("summary", "state", "message"),
    [
        ("<html>401</html>", _state([]), "the dashboard's node summary is not JSON"),
        ('{"result": false, "msg": "Unauthorized"}', _state([]), "expected {'data': {...}} as the dashboard's node summary"),
        ('{"data": {"summary": [{"hostname": "x"}]}}', _state([]), "expected {'data': {'summary'"),
        ('{"data": {"summary": [{"raylet": {"state": "ALIVE"}}]}}', _state([]), "entry 0: no nodeId"),
        ('{"data": {"summary": []}}', '{"data": {"result": {"result": [{"state": "ALIVE"}]}}}', "{'node_id': ...}"),
        ('{"data": {"summary": []}}', _state([{"node_id": "a"}], total=101), "truncated: 1 of 101 nodes"),
        ('{"data": {"summary": [{"raylet": {"nodeId": "b", "state": "ALIVE"}}]}}', _state([{"node_id": "a"}]), "node b is in"),
        # A worker just removed: DEAD in the list, still ALIVE in the summary (seen on the lab).
        (
            '{"data": {"summary": [{"raylet": {"nodeId": "b", "state": "ALIVE"}}]}}',
            _state([{"node_id": "b", "state": "DEAD"}]),
            "node b is ALIVE in the dashboard's node summary but DEAD in its node list",
        ),
        (
            '{"data": {"summary": []}}',
            _state([{"node_id": "c", "state": "ALIVE"}]),
            "node c is ALIVE in the dashboard's node list but not",
        ),
    ],
)
def test_dashboard_nodes_errors(summary: str, state: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_dashboard_nodes(summary, state)


@pytest.fixture
def dashboard(tmp_path: Path):
    """A real HTTP server on loopback answering the dashboard's two node reads with the fixtures, only
    to the bearer token in a token file; yields (url, token file, requests seen)."""
    import http.server
    import threading

    token = "t0ken-for-the-test"  # noqa: S105 - a test value
    token_file = tmp_path / "auth_token"
    token_file.write_text(token + "\n")
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path == "/cut" + DASHBOARD_SUMMARY_PATH:  # the answer ends before its length
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"data": ')
                return
            ok = self.headers.get("Authorization") == f"Bearer {token}" and self.path in DASHBOARD_PATHS
            self.send_response(200 if ok else 401)
            self.end_headers()
            self.wfile.write(DASHBOARD_PATHS[self.path].read_bytes() if ok else b"Unauthorized")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", str(token_file), seen
    server.shutdown()
    server.server_close()


def test_dashboard_fetch_sends_the_token(dashboard: tuple[str, str, list[Any]]) -> None:
    url, token_file, seen = dashboard
    assert len(read_dashboard_nodes(dashboard_fetch(url + "/", token_file))) == 22
    bearer = "Bearer t0ken-for-the-test"
    assert seen == [(DASHBOARD_SUMMARY_PATH, bearer), (DASHBOARD_STATE_PATH, bearer)]
    with pytest.raises(ValueError, match=r"GET http://127\.0\.0\.1:\d+/nodes\?view=summary: HTTP Error 401"):
        read_dashboard_nodes(dashboard_fetch(url))
    with pytest.raises(ValueError, match="No such file"):
        dashboard_fetch(url, token_file + ".gone")(DASHBOARD_SUMMARY_PATH)
    with pytest.raises(ValueError, match="IncompleteRead"):
        dashboard_fetch(url + "/cut")(DASHBOARD_SUMMARY_PATH)


def test_node_reader_prefers_the_dashboard_and_falls_back_to_the_container(dashboard: tuple[str, str, list[Any]]) -> None:
    url, token_file, _ = dashboard
    calls: list[list[str]] = []

    def run(argv: list[str]) -> tuple[int, str, str]:
        calls.append(argv)
        return 0, SAME_CLUSTER.read_text(), ""

    read = node_reader(run, "/usr/bin/docker", "ray-head", False, dashboard_fetch(url, token_file))
    reading = read()
    assert (reading.source, len(reading.nodes), reading.status_text, reading.dashboard_error) == ("dashboard", 22, None, None)
    assert calls == []
    assert read_cluster(read, [])["dashboard_error"] is None
    # A wrong token, then a dashboard that is not listening: the container's own read, each time,
    # and the reading says why the dashboard's was not used.
    for fetch, why in ((dashboard_fetch(url), "HTTP Error 401"), (dashboard_fetch("http://127.0.0.1:9", timeout=1), "refused")):
        read = node_reader(run, "/usr/bin/docker", "ray-head", False, fetch)
        reading = read()
        assert (reading.source, len(reading.nodes)) == ("gcs", 22)
        assert reading.dashboard_error and why in reading.dashboard_error
        assert why in read_cluster(read, [])["dashboard_error"]
    assert calls == [node_table_argv("/usr/bin/docker", "ray-head")] * 4
    # Both failing: the container's error.
    with pytest.raises(ValueError, match=r"docker exec ray-head python3 \(node table\) failed \(rc=1\)"):
        node_reader(lambda argv: (1, "", "boom"), "/usr/bin/docker", "ray-head", False, dashboard_fetch(url))()
