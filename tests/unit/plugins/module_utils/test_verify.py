# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""_verify: docker inspect against the plan's nodes, the smoke job's spread, the summary table."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._verify import (
    container_mismatches,
    gcs_state_line,
    smoke_spread,
    summary_lines,
)

IMAGE = "wizardsofts/ray:test"
NODE = {"name": "ray-worker-1", "cpus": 0.5, "memory": 1073741824, "shm_size": 268435456, "memory_reservation": None}
INSPECT = {
    "Name": "/ray-worker-1",
    "HostConfig": {
        "NanoCpus": 500000000,
        "Memory": 1073741824,
        "ShmSize": 268435456,
        "RestartPolicy": {"Name": "unless-stopped"},
        "NetworkMode": "host",
        "MemoryReservation": 0,
    },
    "State": {"Running": True},
    "Config": {"Image": IMAGE},
}


def inspect_with(**changes: Any) -> dict[str, Any]:
    """INSPECT with ``section__key=value`` changes (``HostConfig__Memory=1``)."""
    result = copy.deepcopy(INSPECT)
    for path, value in changes.items():
        section, key = path.split("__")
        result[section][key] = value
    return result


def test_container_as_planned_has_no_mismatch() -> None:
    assert container_mismatches([INSPECT], [NODE], IMAGE) == []


# (id, inspect, node changes, expected problem)
MISMATCHES = [
    ("cpus", inspect_with(HostConfig__NanoCpus=10**9), {}, "ray-worker-1: NanoCpus is 1000000000, the plan says 500000000"),
    ("memory", inspect_with(HostConfig__Memory=1), {}, "ray-worker-1: Memory is 1, the plan says 1073741824"),
    ("shm", inspect_with(HostConfig__ShmSize=2), {}, "ray-worker-1: ShmSize is 2, the plan says 268435456"),
    (
        "restart",
        inspect_with(HostConfig__RestartPolicy={"Name": "no"}),
        {},
        "ray-worker-1: RestartPolicy is 'no', the plan says 'unless-stopped'",
    ),
    (
        "network",
        inspect_with(HostConfig__NetworkMode="bridge"),
        {},
        "ray-worker-1: NetworkMode is 'bridge', the plan says 'host'",
    ),
    ("stopped", inspect_with(State__Running=False), {}, "ray-worker-1: Running is False, the plan says True"),
    ("image", inspect_with(Config__Image="other:1"), {}, f"ray-worker-1: Image is 'other:1', the plan says {IMAGE!r}"),
    ("reservation", INSPECT, {"memory_reservation": 512}, "ray-worker-1: MemoryReservation is 0, the plan says 512"),
]


@pytest.mark.parametrize(("inspect", "node", "problem"), [c[1:] for c in MISMATCHES], ids=[c[0] for c in MISMATCHES])
def test_mismatch_names_container_key_seen_and_planned(inspect: dict[str, Any], node: dict[str, Any], problem: str) -> None:
    assert container_mismatches([inspect], [{**NODE, **node}], IMAGE) == [problem]


def test_missing_container_and_empty_sections() -> None:
    assert container_mismatches([], [NODE], IMAGE) == ["ray-worker-1: no such container"]
    bare = container_mismatches([{"Name": "/ray-worker-1"}], [NODE], IMAGE)
    assert "ray-worker-1: Running is None, the plan says True" in bare
    assert len(bare) == 7  # every key but MemoryReservation (not planned)


def test_smoke_spread_maps_node_ids_to_hosts_and_containers_and_names_the_nodes_without_a_task() -> None:
    nodes = [
        {"id": "a" * 40, "host": "h1", "name": "ray-head", "alive": True},
        {"id": "b" * 40, "host": "h2", "name": "ray-worker-1", "alive": True},
        {"id": "d" * 40, "host": "h2", "name": "ray-worker-2", "alive": True},
        {"id": "e" * 40, "host": "h2", "name": "ray-worker-3", "alive": False},  # dead: no task expected
        {"id": "f" * 40, "host": None, "name": None, "alive": True},  # alive, not in the plan
    ]
    result = {"tasks_per_node": {"b" * 40: 3, "a" * 40: 2, "c" * 40: 1}, "elapsed": 1.5, "bytes_moved": 10}
    assert smoke_spread(result, nodes) == {
        "tasks": 6,
        "elapsed": 1.5,
        "per_node": {"h1/ray-head": 2, "h2/ray-worker-1": 3, "?/cccccccc": 1},
        "per_host": {"?": 1, "h1": 2, "h2": 3},
        "hosts": 3,
        "nodes": 3,
        "missing": ["?/ffffffff", "h2/ray-worker-2"],
        "cross_node_transfers": 0,
        "bytes_moved": 10,
    }


def test_summary_lines_per_host_and_total() -> None:
    plan = {
        "cluster": {"hosts": ["h1", "h2"]},
        "hosts": {"h1": {"nodes": [{}, {}]}, "h2": {"nodes": [{}]}},
    }
    cluster = {"per_host": {"h1": {"alive": 2, "cpus": 1.5, "memory": 2 * 1024**3, "object_store_memory": 512 * 1024**2}}}
    lines = summary_lines(cluster, plan)
    assert lines[0].split() == ["host", "nodes", "CPUs", "memory", "object", "store"]
    assert set(lines[1]) == {"-"} and lines[-3] == lines[1]
    assert lines[2].split() == ["h1", "2/2", "1.5", "2.00GiB", "512.00MiB"]
    assert lines[3].split() == ["h2", "0/1", "0", "0B", "0B"]
    assert lines[-2].split() == ["total", "2/3", "1.5", "2.00GiB", "512.00MiB"]
    assert lines[-1].startswith("GCS state: in memory")
    # Read in the head container because the dashboard's read failed: the summary says why.
    cluster["dashboard_error"] = "GET http://10.0.0.1:8265/nodes?view=summary: HTTP Error 401: Unauthorized"
    assert summary_lines(cluster, plan)[-1] == (
        "read in the head container: the dashboard's read failed"
        " (GET http://10.0.0.1:8265/nodes?view=summary: HTTP Error 401: Unauthorized)"
    )


def test_summary_names_where_the_gcs_keeps_the_state() -> None:
    plan = {
        "cluster": {
            "hosts": ["h1"],
            "head_host": "h1",
            "gcs_storage": "rocksdb",
            "gcs_storage_path": "/var/lib/ray-cluster/gcs/ray/ray-2.60.0",
        },
        "hosts": {"h1": {"nodes": [{}]}},
    }
    assert summary_lines({}, plan)[-1] == (
        "GCS state: rocksdb in /var/lib/ray-cluster/gcs/ray/ray-2.60.0 on h1 (a restarted head resumes this cluster)"
    )


@pytest.mark.parametrize(
    ("store", "ending"),
    [
        (None, "on h1 (a restarted head resumes this cluster)"),
        ({"present": True, "files": 3, "bytes": 2048}, "on h1, 3 files, 2.00KiB (a restarted head resumes this cluster)"),
        ({"present": False, "files": 0, "bytes": 0}, "on h1: MISSING (a restarted head would start a new cluster)"),
    ],
)
def test_gcs_state_line_shows_the_store_as_read(store: dict[str, Any] | None, ending: str) -> None:
    cluster = {"head_host": "h1", "gcs_storage": "rocksdb", "gcs_storage_path": "/srv/gcs/ray/ray-2.60.0"}
    assert gcs_state_line(cluster, store) == f"GCS state: rocksdb in /srv/gcs/ray/ray-2.60.0 {ending}"
