# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for one host's node specs and its capacity (plugins/module_utils/_nodes.py).

``node_spec`` is called directly where one spec is enough; the rest goes through ``build_plan`` on the
seed topology (conftest's ``lab_hosts``).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from planner_cases import (
    GIB,
    HEAD,
    ErrorCase,
    Hosts,
    build,
    cluster,
    command,
    groups,
    host_error,
    host_vars,
    parse_flags,
    plan,
    refusal,
    refusal_test,
    services,
    spec,
    spec_error,
)

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import MIB, PlanError, parse_size
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._nodes import (
    HEAP_FLOOR,
    capacity,
    capacity_variable,
    mount_of,
    node_log_disk,
    node_spec,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import facts_for_plan

# --------------------------------------------------------------------------- refusals

# (id, mutation of the lab topology, host named in the error, variable, text of the value in the message)
NODE_ERRORS: list[ErrorCase] = [
    # worker counts
    host_error("worker-count-negative", "lab-80", "ray_worker_count", -1),
    host_error("worker-count-fraction", "lab-80", "ray_worker_count", 1.5),
    host_error("worker-count-word", "lab-80", "ray_worker_count", "two"),
    host_error("worker-count-bool", "lab-80", "ray_worker_count", True),
    ("worker-count-not-in-ray_workers", groups([HEAD], ["lab-80", "lab-81", "lab-82"]), "lab-84", "ray_worker_count", "3"),
    # sizes
    spec_error("bad-memory", "lab-81", "ray_worker_spec", "memory", "6X"),
    spec_error("bad-shm", "lab-81", "ray_worker_spec", "shm_size", "lots"),
    spec_error("bad-head-memory", HEAD, "ray_head_spec", "memory", -1),
    spec_error("bad-reservation", "lab-80", "ray_worker_spec", "memory_reservation", "half"),
    spec_error("bad-object-store", "lab-80", "ray_worker_spec", "object_store_memory", "1e9"),
    # CPUs
    spec_error("cpus-zero", "lab-80", "ray_worker_spec", "cpus", 0),
    spec_error("cpus-negative", "lab-80", "ray_worker_spec", "cpus", -0.5),
    spec_error("cpus-word", "lab-80", "ray_worker_spec", "cpus", "many"),
    spec_error("cpus-nan", "lab-80", "ray_worker_spec", "cpus", "nan"),
    spec_error("head-cpus-zero", HEAD, "ray_head_spec", "cpus", 0),
    spec_error("worker-num-cpus-zero", "lab-81", "ray_worker_spec", "num_cpus", 0),
    spec_error("head-num-cpus-negative", HEAD, "ray_head_spec", "num_cpus", -1),
    spec_error("gpus-negative", "lab-82", "ray_worker_spec", "gpus", -1),
    # memory relations
    (
        "shm-below-1.1x-object-store",
        spec("lab-80", "ray_worker_spec", object_store_memory="200m", shm_size="200m"),
        "lab-80",
        "ray_worker_spec.shm_size",
        "'200m'",
    ),
    spec_error("reservation-above-limit", "lab-80", "ray_worker_spec", "memory_reservation", "2g"),
    (
        "object-store-above-memory",
        spec("lab-80", "ray_worker_spec", memory="1g", shm_size="4g", object_store_memory="1.5g"),
        "lab-80",
        "ray_worker_spec.object_store_memory",
        "'1.5g'",
    ),
    (
        "object-store-equals-memory",
        spec("lab-80", "ray_worker_spec", memory="1g", shm_size="4g", object_store_memory="1g"),
        "lab-80",
        "ray_worker_spec.object_store_memory",
        "'1g'",
    ),
    spec_error("object-store-below-75MiB", "lab-81", "ray_worker_spec", "object_store_memory", "50m"),
    # (id, the memory or shm_size that leaves too small an object store, the text naming it)
    *(
        (
            case_id,
            spec("lab-81", "ray_worker_spec", **{key: value}),
            "lab-81",
            "ray_worker_spec.shm_size/memory",
            f"{key}={value}",
        )
        for case_id, key, value in (
            ("derived-object-store-too-small-memory", "memory", "200m"),
            ("derived-object-store-too-small-shm", "shm_size", "64m"),
            ("derived-object-store-tiny-memory", "memory", 1000),
        )
    ),
    spec_error("cpus-bool", "lab-80", "ray_worker_spec", "cpus", True),
    # unknown keys, overrides, names
    (
        "unknown-key-in-override",
        host_vars("lab-80", ray_worker_overrides=[{"cpu": 1}]),
        "lab-80",
        "ray_worker_overrides[0].cpu",
        "1",
    ),
    (
        "unknown-key-in-second-override",
        host_vars("lab-80", ray_worker_overrides=[{}, {"memroy": "2g"}]),
        "lab-80",
        "ray_worker_overrides[1].memroy",
        "'2g'",
    ),
    spec_error("unknown-key-in-spec", "lab-81", "ray_worker_spec", "mem", "1g"),
    spec_error("unknown-key-in-head-spec", HEAD, "ray_head_spec", "port", 6379),
    host_error("spec-not-a-mapping", "lab-81", "ray_worker_spec", "big"),
    ("override-not-a-mapping", host_vars("lab-81", ray_worker_overrides=["big"]), "lab-81", "ray_worker_overrides[0]", "'big'"),
    host_error("overrides-not-a-list", "lab-81", "ray_worker_overrides", {"cpus": 1}),
    (
        "more-overrides-than-workers",
        host_vars("lab-82", ray_worker_overrides=[{}, {"cpus": 1}]),
        "lab-82",
        "ray_worker_overrides",
        "2 items",
    ),
    (
        "duplicate-name-via-override",
        host_vars("lab-80", ray_worker_overrides=[{"name": "ray-worker-2"}]),
        "lab-80",
        "ray_worker_overrides.name",
        "'ray-worker-2'",
    ),
    (
        "override-name-equals-head",
        host_vars(HEAD, ray_worker_overrides=[{"name": "ray-head"}]),
        HEAD,
        "ray_worker_overrides.name",
        "'ray-head'",
    ),
    (
        "bad-container-name",
        host_vars("lab-80", ray_worker_overrides=[{"name": "ray worker"}]),
        "lab-80",
        "ray_worker_overrides[0].name",
        "'ray worker'",
    ),
    (
        "resource-reserved-name",
        spec("lab-80", "ray_worker_spec", resources={"CPU": 1}),
        "lab-80",
        "ray_worker_spec.resources.CPU",
        "1",
    ),
    (
        "resource-negative",
        spec("lab-80", "ray_worker_spec", resources={"accel": -1}),
        "lab-80",
        "ray_worker_spec.resources.accel",
        "-1",
    ),
    spec_error("resources-not-a-mapping", "lab-80", "ray_worker_spec", "resources", ["accel"]),
    (
        "label-value-with-space",
        spec("lab-80", "ray_worker_spec", labels={"zone": "rack 1"}),
        "lab-80",
        "ray_worker_spec.labels.zone",
        "'rack 1'",
    ),
    spec_error("labels-not-a-mapping", "lab-80", "ray_worker_spec", "labels", "zone=a"),
    # capacity
    (
        "capacity-over-vcpus",
        host_vars("lab-80", facts={"vcpus": 1, "memtotal_mb": 65536, "default_ipv4": None}),
        "lab-80",
        "ray_worker_spec.cpus",
        "2.0",
    ),
    (
        "capacity-over-memory",
        host_vars("lab-80", facts={"vcpus": 8, "memtotal_mb": 2048, "default_ipv4": None}),
        "lab-80",
        "ray_worker_spec.memory",
        "'4.00GiB'",
    ),
]


test_node_errors_name_host_variable_and_value = refusal_test(NODE_ERRORS)


# --------------------------------------------------------------------------- accepted edge values


@pytest.mark.parametrize("count", ["3", " 3 ", 3.0], ids=["string", "padded-string", "whole-float"])
def test_worker_count_as_string_is_accepted(lab_hosts: Hosts, count: Any) -> None:
    lab_hosts["lab-80"]["ray_worker_count"] = count
    plan = build(lab_hosts)
    assert [n["name"] for n in plan["hosts"]["lab-80"]["nodes"]] == ["ray-worker-1", "ray-worker-2", "ray-worker-3"]


def test_head_may_have_zero_logical_cpus(lab_hosts: Hosts) -> None:
    lab_hosts[HEAD]["ray_head_spec"]["num_cpus"] = 0
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["nodes"][0]["num_cpus"] == 0
    assert "--num-cpus=0" in command(plan, HEAD, plan["hosts"][HEAD]["nodes"][0])
    assert plan["cluster"]["expected_cpus"] == 23


@pytest.mark.parametrize(("memory", "reservation"), [("1g", "1g"), ("1g", "512m"), ("1g", 0)], ids=["equal", "half", "zero"])
def test_memory_reservation_up_to_the_limit(lab_hosts: Hosts, memory: str, reservation: Any) -> None:
    spec("lab-80", "ray_worker_spec", memory=memory, memory_reservation=reservation)(lab_hosts)
    node = build(lab_hosts)["hosts"]["lab-80"]["nodes"][0]
    assert node["memory_reservation"] == parse_size(reservation)


# --------------------------------------------------------------------------- object store derivation

OBJECT_STORES = [
    # memory, shm, expected: min(30 % of memory, shm / 1.1) floored to MiB
    ("1g", "256m", 232 * MIB),  # shm / 1.1 = 232.7 MiB
    ("2g", "512m", 465 * MIB),  # shm / 1.1 = 465.45 MiB
    ("1g", "1g", 307 * MIB),  # 30 % = 307.2 MiB
    ("10g", "8g", 3072 * MIB),  # 30 % = 3072 MiB exactly
    ("1000m", "1000m", 300 * MIB),  # 30 % = 300 MiB < 909 MiB
    ("6g", "2g", 1843 * MIB),  # 30 % = 1843.2 MiB < 1861.8 MiB
    ("300m", "100m", 90 * MIB),  # 30 % = 90 MiB < 90.9 MiB
    ("260m", "260m", 78 * MIB),  # 30 % = 78 MiB, just above the 75 MiB minimum
]


@pytest.mark.parametrize(("memory", "shm", "expected"), OBJECT_STORES, ids=[f"{m}-{s}" for m, s, _ in OBJECT_STORES])
def test_object_store_derivation(memory: str, shm: str, expected: int) -> None:
    layer = {"cpus": 1, "memory": memory, "shm_size": shm}
    node = node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
    independent = min(math.floor(parse_size(memory) * 0.3), math.floor(parse_size(shm) / 1.1)) // MIB * MIB
    assert node["object_store_memory"] == expected == independent
    assert node["object_store_memory"] % MIB == 0
    assert node["heap_memory"] == parse_size(memory) - expected


def test_lab_object_stores(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    assert plan["hosts"][HEAD]["nodes"][0]["object_store_memory"] == 465 * MIB
    for hplan in plan["hosts"].values():
        for node in hplan["nodes"][1 if hplan["is_head"] else 0 :]:
            assert node["object_store_memory"] == 232 * MIB


def test_explicit_object_store_is_kept() -> None:
    layer = {"cpus": 1, "memory": "1g", "shm_size": "256m", "object_store_memory": "200m"}
    node = node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
    assert node["object_store_memory"] == 200 * MIB


# shm must be >= 1.1 x object_store_memory, compared exactly (104857600 * 1.1 > 115343360 in floats).
SHM_EDGES = [(115343360, True), (115343359, False), (115343361, True), (104857600, False)]


@pytest.mark.parametrize(("shm", "accepted"), SHM_EDGES, ids=[f"shm={s}" for s, _ in SHM_EDGES])
def test_shm_exactly_1_1_times_the_object_store(shm: int, accepted: bool) -> None:
    layer = {"cpus": 1, "memory": "1g", "shm_size": shm, "object_store_memory": "100m"}
    if accepted:
        assert node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)["shm_size"] == shm
    else:
        with pytest.raises(PlanError) as exc:
            node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
        assert exc.value.variable == "ray_worker_spec.shm_size"


# --------------------------------------------------------------------------- specs and overrides


@pytest.mark.parametrize(("cpus", "num_cpus"), [(0.5, 1), (1, 1), (2.9, 2), (4, 4)], ids=["half", "one", "truncated", "four"])
def test_num_cpus_defaults_to_truncated_cpus(cpus: float, num_cpus: int) -> None:
    node = node_spec("srv1", "ray_worker_spec", [({"cpus": cpus, "memory": "1g", "shm_size": "1g"}, "x")], "w1", False)
    assert node["num_cpus"] == num_cpus


def test_spec_defaults_apply(lab_hosts: Hosts) -> None:
    lab_hosts["lab-82"]["ray_worker_spec"] = {}
    del lab_hosts[HEAD]["ray_head_spec"]
    plan = build(lab_hosts)
    worker = plan["hosts"]["lab-82"]["nodes"][0]
    assert (worker["cpus"], worker["num_cpus"], worker["memory"], worker["shm_size"]) == (2, 2, 6 * GIB, 2 * GIB)
    head = plan["hosts"][HEAD]["nodes"][0]
    assert (head["name"], head["cpus"], head["memory"], head["shm_size"]) == ("ray-head", 2, 4 * GIB, 2 * GIB)


def test_overrides_apply_only_to_their_worker(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [
        {},
        {"name": "ray-gpu", "cpus": 1.5, "memory": "2g", "gpus": 1, "resources": {"accel": 2}, "labels": {"zone": "b"}},
    ]
    plan = build(lab_hosts)
    nodes = plan["hosts"]["lab-80"]["nodes"]
    assert [n["name"] for n in nodes] == ["ray-worker-1", "ray-gpu", "ray-worker-3", "ray-worker-4"]
    special = nodes[1]
    assert special["worker_id"] == 2
    assert (special["cpus"], special["num_cpus"], special["memory"], special["gpus"]) == (1.5, 2, 2 * GIB, 1)
    assert special["shm_size"] == 256 * MIB  # from ray_worker_spec
    assert special["resources"] == {"accel": 2}
    assert special["labels"] == {"zone": "b"}
    flags = parse_flags(command(plan, "lab-80", special))
    assert flags["resources"] == '{"accel":2}'
    assert flags["labels"] == "zone=b"
    assert flags["num-gpus"] == "1"
    for other in (nodes[0], *nodes[2:]):
        assert (other["cpus"], other["memory"], other["gpus"], other["resources"], other["labels"]) == (0.5, GIB, 0, {}, {})
    # The other hosts are untouched too.
    assert all(n["gpus"] == 0 for n in plan["hosts"]["lab-81"]["nodes"])
    service = services(plan, "lab-80", "workers")["ray-gpu"]
    assert service["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    ]
    assert service["labels"]["com.wizardsofts.worker-id"] == "2"


def test_resources_and_labels_are_normalised() -> None:
    layer = {
        "cpus": 1,
        "memory": "1g",
        "shm_size": "1g",
        "resources": {"b": "1.5", "a": 2.0},
        "labels": {"zone": "a", "rack": 3},
    }
    node = node_spec("srv1", "ray_worker_spec", [(layer, "ray_worker_spec")], "w1", False)
    assert node["resources"] == {"a": 2, "b": 1.5}
    assert list(node["resources"]) == ["a", "b"]
    assert node["labels"] == {"rack": "3", "zone": "a"}


# Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, so two characters at least.
CONTAINER_NAMES = [("w", False), ("-w", False), ("w w", False), ("wx", True), ("w.1", True), ("1_w-x", True)]


@pytest.mark.parametrize(("name", "valid"), CONTAINER_NAMES, ids=[repr(n) for n, _ in CONTAINER_NAMES])
def test_container_name_rule(name: str, valid: bool) -> None:
    layer = {"name": name, "cpus": 1, "memory": "1g", "shm_size": "1g"}
    if valid:
        assert node_spec("srv1", "ray_worker_spec", [(layer, "x")], "w1", False)["name"] == name
    else:
        with pytest.raises(PlanError, match="name"):
            node_spec("srv1", "ray_worker_spec", [(layer, "x")], "w1", False)


# --------------------------------------------------------------------------- memory


# (id, worker spec update on lab-80, variable refused, words)
MEMORY_REFUSED = [
    ("memory-zero-string", {"memory": "0"}, "ray_worker_spec.memory", "memory limit must be greater than 0 (got '0')"),
    ("memory-zero", {"memory": 0}, "ray_worker_spec.memory", "memory limit must be greater than 0 (got 0)"),
    (
        "memory-zero-with-store",
        {"memory": "0", "object_store_memory": "100m"},
        "ray_worker_spec.memory",
        "memory limit must be greater than 0",
    ),
    ("shm-above-memory", {"shm_size": "2g"}, "ray_worker_spec.shm_size", "above the container's memory limit of 1.00GiB"),
    ("shm-a-byte-above", {"memory": "1g", "shm_size": 1024**3 + 1}, "ray_worker_spec.shm_size", "(got 1073741825)"),
    ("cpus-word", {"cpus": "two"}, "ray_worker_spec.cpus", "expected a number (got 'two')"),
]


@pytest.mark.parametrize(("update", "variable", "words"), [c[1:] for c in MEMORY_REFUSED], ids=[c[0] for c in MEMORY_REFUSED])
def test_memory_refusals_blame_the_right_key(lab_hosts: Hosts, update: dict[str, Any], variable: str, words: str) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"].update(update)
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == ("lab-80", variable)
    assert words in str(error)


def test_shm_above_memory_message(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"].update(shm_size="2g")
    assert str(refusal(lab_hosts)) == (
        "host lab-80: ray_worker_spec.shm_size: above the container's memory limit of 1.00GiB (ray_worker_spec.memory): "
        "/dev/shm is charged to the container's memory, so it cannot hold more (got '2g')"
    )


def test_shm_equal_to_memory_is_accepted(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"].update(memory="1g", shm_size="1g")
    assert plan(lab_hosts)["hosts"]["lab-80"]["nodes"][0]["shm_size"] == 1024**3


# (id, spec update on a host, warning expected: its host and variable, or None)
HEAP = [
    ("lab-specs", HEAD, "ray_worker_spec", {}, None),
    ("store-leaves-exactly-the-floor", "lab-80", "ray_worker_spec", {"object_store_memory": "512m", "shm_size": "600m"}, None),
    (
        "store-leaves-less",
        "lab-80",
        "ray_worker_spec",
        {"object_store_memory": "700m", "shm_size": "800m"},
        ("lab-80", "ray_worker_spec.object_store_memory"),
    ),
    (
        "small-memory-derived",
        "lab-81",
        "ray_worker_spec",
        {"memory": "400m", "shm_size": "256m"},
        ("lab-81", "ray_worker_spec.memory"),
    ),
    ("head", HEAD, "ray_head_spec", {"memory": "700m", "shm_size": "400m"}, (HEAD, "ray_head_spec.memory")),
]


@pytest.mark.parametrize(("host", "variable", "update", "warned"), [c[1:] for c in HEAP], ids=[c[0] for c in HEAP])
def test_object_store_heap_floor_warns(
    lab_hosts: Hosts, host: str, variable: str, update: dict[str, Any], warned: tuple[str, str] | None
) -> None:
    lab_hosts[host][variable].update(update)
    warnings = plan(lab_hosts)["warnings"]
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 1, warnings
        assert warnings[0].startswith(f"host {warned[0]}: {warned[1]}: the object store ")


def test_heap_floor_warning_text(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"].update(object_store_memory="700m", shm_size="800m")
    assert plan(lab_hosts)["warnings"] == [
        "host lab-80: ray_worker_spec.object_store_memory: the object store (700.00MiB) leaves 324.00MiB of the "
        "1.00GiB memory limit to Ray's processes and the tasks, less than 512.00MiB: the container may run out of memory"
    ]
    assert HEAP_FLOOR == 512 * MIB


# --------------------------------------------------------------------------- capacity


# (id, node roles on the host, variable named)
CAPACITY = [
    ("workers-only", ["worker", "worker"], "ray_worker_spec.cpus"),
    ("head-and-workers", ["head", "worker"], "ray_head_spec.cpus/ray_worker_spec.cpus"),
    ("head-only", ["head"], "ray_head_spec.cpus"),
    ("no-nodes", [], "ray_worker_spec.cpus"),
]


@pytest.mark.parametrize(("roles", "variable"), [c[1:] for c in CAPACITY], ids=[c[0] for c in CAPACITY])
def test_capacity_variable(roles: list[str], variable: str) -> None:
    assert capacity_variable([{"role": r} for r in roles], "cpus") == variable


def test_capacity_refusal_on_the_head_host_names_the_head_spec(lab_hosts: Hosts) -> None:
    lab_hosts[HEAD]["ray_worker_count"] = 0
    lab_hosts[HEAD]["ray_head_spec"]["cpus"] = 4
    lab_hosts[HEAD]["facts"] = {"vcpus": 2, "memtotal_mb": 65536, "default_ipv4": None}
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == (HEAD, "ray_head_spec.cpus")


def test_capacity_oversubscription_warns(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_allow_oversubscription=True)(lab_hosts)
    lab_hosts["lab-80"]["facts"] = {"vcpus": 1, "memtotal_mb": 2048, "default_ipv4": None}
    plan = build(lab_hosts)
    assert plan["warnings"] == [
        "host lab-80: ray_worker_spec.cpus: the CPU limits add up to 2, above the host's 1 vCPUs (oversubscription allowed)",
        "host lab-80: ray_worker_spec.memory: the memory limits add up to 4.00GiB, above the host's 2.00GiB"
        " (oversubscription allowed)",
    ]
    assert plan["hosts"]["lab-80"]["capacity"] == {
        "cpus": 2,
        "memory": 4 * GIB,
        "vcpus": 1,
        "memtotal": 2 * GIB,
        # Four workers' log budgets (2g each); no file systems in the facts.
        "node_logs": 8 * GIB,
        "node_logs_mount": None,
    }


def test_capacity_within_limits_and_without_facts(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["facts"] = {"vcpus": 2, "memtotal_mb": 4096, "default_ipv4": None}
    plan = build(lab_hosts)
    assert plan["warnings"] == []
    assert plan["hosts"]["lab-80"]["capacity"] == {
        "cpus": 2,
        "memory": 4 * GIB,
        "vcpus": 2,
        "memtotal": 4 * GIB,
        "node_logs": 8 * GIB,
        "node_logs_mount": None,
    }
    assert plan["hosts"][HEAD]["capacity"] == {
        "cpus": 2,
        "memory": 5 * GIB,
        "vcpus": None,
        "memtotal": None,
        "node_logs": 8 * GIB,
        "node_logs_mount": None,
    }
    assert plan["hosts"]["lab-81"]["capacity"]["cpus"] == 1


# --------------------------------------------------------------------------- node logs' disk

ROOT = {"mount": "/", "size_total": 100 * GIB, "size_available": 50 * GIB}
VAR = {"mount": "/var", "size_total": 20 * GIB, "size_available": 10 * GIB}
VAR_LOG = {"mount": "/var/log", "size_total": 9 * GIB, "size_available": 5 * GIB}
VAR_LOG2 = {"mount": "/var/log2", "size_total": 1 * GIB, "size_available": 1 * GIB}
LOG_DIR = "/var/log/ray-cluster/ray"

# (id, path, mounts, the mount point found or None)
MOUNT_OF = [
    ("longest-prefix", LOG_DIR, [ROOT, VAR, VAR_LOG], "/var/log"),
    ("longest-prefix-in-any-order", LOG_DIR, [VAR_LOG, ROOT, VAR], "/var/log"),
    ("root-fallback", LOG_DIR, [ROOT, {"mount": "/srv"}, {"mount": "/var/lib"}], "/"),
    ("the-mount-point-itself", "/var/log", [ROOT, VAR_LOG], "/var/log"),
    ("string-prefix-only", "/var/log/x", [ROOT, VAR_LOG2], "/"),
    ("string-prefix-only-without-root", "/var/log/x", [VAR_LOG2], None),
    ("mount-point-with-a-trailing-slash", LOG_DIR, [ROOT, {"mount": "/var/log/"}], "/var/log/"),
    ("no-match", LOG_DIR, [{"mount": "/srv"}, {"mount": "/home"}], None),
    ("no-mounts", LOG_DIR, [], None),
    ("mounts-none", LOG_DIR, None, None),
    ("empty-mount-points-ignored", LOG_DIR, [{"mount": ""}, {"mount": None}, {}], None),
]


@pytest.mark.parametrize(("path", "mounts", "expected"), [c[1:] for c in MOUNT_OF], ids=[c[0] for c in MOUNT_OF])
def test_mount_of(path: str, mounts: list[dict[str, Any]] | None, expected: str | None) -> None:
    found = mount_of(path, mounts)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found["mount"] == expected
        assert found in (mounts or []), "the mount itself, sizes included"


NODE_LOGS = {"dir": LOG_DIR, "budget": 2 * GIB}


def test_node_log_disk_refuses_above_the_file_system_size() -> None:
    warnings: list[str] = []
    with pytest.raises(PlanError) as exc:
        node_log_disk("lab-80", 5, NODE_LOGS, [ROOT, VAR_LOG], warnings)
    assert (exc.value.host, exc.value.variable) == ("lab-80", "ray_cluster_node_log_budget")
    assert str(exc.value) == (
        "host lab-80: ray_cluster_node_log_budget: 5 nodes' log budgets add up to 10.00GiB, above the 9.00GiB of /var/log"
        " (ray_cluster_node_log_dir /var/log/ray-cluster/ray) (got '2.00GiB')"
    )
    assert warnings == []


def test_node_log_disk_warns_above_the_free_space() -> None:
    warnings: list[str] = []
    assert node_log_disk("lab-80", 3, NODE_LOGS, [ROOT, VAR_LOG], warnings) == {
        "node_logs": 6 * GIB,
        "node_logs_mount": "/var/log",
    }
    assert warnings == [
        "host lab-80: ray_cluster_node_log_budget: 3 nodes' log budgets add up to 6.00GiB, above the 5.00GiB free on"
        " /var/log now (logs already written count in neither)"
    ]


# (id, node count, mounts, expected mount point) - neither refused nor warned
NODE_LOG_DISK_QUIET = [
    ("fits", 2, [ROOT, VAR_LOG], "/var/log"),
    ("exactly-the-free-space", 2, [{**VAR_LOG, "size_available": 4 * GIB}], "/var/log"),
    ("exactly-the-size", 2, [{"mount": "/var/log", "size_total": 4 * GIB, "size_available": 4 * GIB}], "/var/log"),
    ("no-facts", 8, None, None),
    ("no-mounts", 8, [], None),
    ("no-mount-above-the-dir", 8, [{"mount": "/srv", "size_total": GIB, "size_available": 0}], None),
    ("sizes-unknown", 8, [{"mount": "/", "size_total": None, "size_available": None}], "/"),
    ("no-nodes", 0, [{"mount": "/", "size_total": GIB, "size_available": 0}], "/"),
]


@pytest.mark.parametrize(
    ("count", "mounts", "mount"), [c[1:] for c in NODE_LOG_DISK_QUIET], ids=[c[0] for c in NODE_LOG_DISK_QUIET]
)
def test_node_log_disk_quiet(count: int, mounts: list[dict[str, Any]] | None, mount: str | None) -> None:
    warnings: list[str] = []
    assert node_log_disk("lab-80", count, NODE_LOGS, mounts, warnings) == {
        "node_logs": count * 2 * GIB,
        "node_logs_mount": mount,
    }
    assert warnings == []


def test_capacity_adds_the_node_logs_only_when_given() -> None:
    nodes = [{"role": "worker", "cpus": 1, "memory": GIB}, {"role": "worker", "cpus": 1, "memory": GIB}]
    facts = {"vcpus": 4, "memtotal_mb": 8192, "mounts": [ROOT, VAR_LOG]}
    assert capacity("lab-80", nodes, facts, False, []) == {"cpus": 2, "memory": 2 * GIB, "vcpus": 4, "memtotal": 8 * GIB}
    assert capacity("lab-80", nodes, facts, False, [], None, NODE_LOGS) == {
        "cpus": 2,
        "memory": 2 * GIB,
        "vcpus": 4,
        "memtotal": 8 * GIB,
        "node_logs": 4 * GIB,
        "node_logs_mount": "/var/log",
    }


def test_capacity_node_logs_from_the_gathered_facts(lab_hosts: Hosts) -> None:
    """Through the plan: the facts' mounts as facts_for_plan keeps them, each host's nodes' budgets (2g each)."""
    mounts = [
        {"mount": "/", "size_total": 100 * GIB, "size_available": 50 * GIB, "device": "/dev/sda1"},
        {"mount": "/var/log", "size_total": 20 * GIB, "size_available": 7 * GIB},
    ]
    for host in ("lab-80", "lab-81"):
        lab_hosts[host]["facts"] = facts_for_plan({"processor_nproc": 8, "memtotal_mb": 16384, "mounts": mounts})
    built = plan(lab_hosts)
    assert built["warnings"] == [
        "host lab-80: ray_cluster_node_log_budget: 4 nodes' log budgets add up to 8.00GiB, above the 7.00GiB free on"
        " /var/log now (logs already written count in neither)"
    ]
    assert {host: built["hosts"][host]["capacity"]["node_logs"] for host in built["hosts"]} == {
        HEAD: 8 * GIB,
        "lab-80": 8 * GIB,
        "lab-81": 4 * GIB,
        "lab-82": 2 * GIB,
    }
    assert {host: built["hosts"][host]["capacity"]["node_logs_mount"] for host in built["hosts"]} == {
        HEAD: None,
        "lab-80": "/var/log",
        "lab-81": "/var/log",
        "lab-82": None,
    }


def test_capacity_refuses_node_logs_above_the_file_system(lab_hosts: Hosts) -> None:
    lab_hosts["lab-81"]["facts"] = facts_for_plan(
        {"processor_nproc": 8, "memtotal_mb": 16384, "mounts": [{"mount": "/", "size_total": 3 * GIB, "size_available": GIB}]}
    )
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == ("lab-81", "ray_cluster_node_log_budget")
    assert "2 nodes' log budgets add up to 4.00GiB, above the 3.00GiB of /" in str(error)


def test_capacity_node_logs_follow_the_budget_and_the_directory(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_node_log_dir="/srv/ray-logs", ray_cluster_node_log_budget="1g")(lab_hosts)
    lab_hosts["lab-82"]["facts"] = facts_for_plan(
        {"mounts": [{"mount": "/", "size_total": 1 * GIB, "size_available": 0}, {"mount": "/srv", "size_total": 2 * GIB}]}
    )
    capacity_82 = plan(lab_hosts)["hosts"]["lab-82"]["capacity"]
    assert (capacity_82["node_logs"], capacity_82["node_logs_mount"]) == (GIB, "/srv")
