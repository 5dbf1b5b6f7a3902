"""Check mode and bad input on the converged lab: nothing may change on any server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from labkit import inventory_with, playbook, snapshot

WORKER = {"cpus": 0.5, "num_cpus": 2, "memory": "1536m", "memory_reservation": "512m", "shm_size": "256m"}


def test_check_mode_on_the_converged_lab_changes_nothing() -> None:
    before = snapshot()
    run = playbook("site.yml", "--check", "--diff")
    assert run.rc == 0, run
    assert run.recap and not run.changed_hosts(), run
    assert snapshot() == before


def test_check_mode_shows_the_compose_diff_a_real_run_would_apply(tmp_path: Path) -> None:
    before = snapshot()
    inventory = inventory_with(tmp_path, {"lab-82": {"ray_worker_spec": {**WORKER, "memory": "1400m"}}})
    run = playbook("site.yml", "--check", "--diff", "--limit", "lab-82", inventory=inventory)
    assert run.rc == 0, run
    assert "/opt/ray-cluster/workers/compose.yaml" in run.out, run
    # The memory limit (bytes) as it is now, and as the change would make it.
    assert f'-          memory: "{1536 * 1024 * 1024}"' in run.out, run
    assert f'+          memory: "{1400 * 1024 * 1024}"' in run.out, run
    assert snapshot() == before


# (id, changes, groups, words the failure must name: host, variable, value)
BAD_INPUT: list[tuple[str, dict[str, Any], dict[str, list[str]] | None, list[str]]] = [
    ("negative-worker-count", {"lab-80": {"ray_worker_count": -1}}, None, ["lab-80", "ray_worker_count", "-1"]),
    ("non-integer-worker-count", {"lab-81": {"ray_worker_count": "two"}}, None, ["lab-81", "ray_worker_count", "two"]),
    ("unparsable-size", {"lab-81": {"ray_worker_spec": {**WORKER, "memory": "6X"}}}, None, ["lab-81", "memory", "6X"]),
    (
        "shm-smaller-than-object-store",
        {"lab-82": {"ray_worker_spec": {**WORKER, "shm_size": "100m", "object_store_memory": "200m"}}},
        None,
        ["lab-82", "ray_worker_spec.shm_size", "100m"],
    ),
    (
        "reservation-above-limit",
        {"lab-80": {"ray_worker_spec": {**WORKER, "memory_reservation": "2g"}}},
        None,
        ["lab-80", "memory_reservation", "2g"],
    ),
    ("cpus-above-host-vcpus", {"lab-80": {"ray_worker_spec": {**WORKER, "cpus": 1}}}, None, ["lab-80", "cpus", "4"]),
    ("cpus-zero", {"lab-81": {"ray_worker_spec": {**WORKER, "cpus": 0}}}, None, ["lab-81", "cpus", "0"]),
    ("no-head", {}, {"ray_head": []}, ["groups.ray_head", "[]"]),
    ("two-heads", {}, {"ray_head": ["lab-84", "lab-80"]}, ["groups.ray_head", "lab-84", "lab-80"]),
    ("head-address-invalid", {"lab-84": {"ray_node_ip": "head.invalid"}}, None, ["lab-84", "ray_node_ip", "head.invalid"]),
    (
        "head-outside-allowed-sources",
        {"group:ray_cluster": {"ray_cluster_allowed_sources": ["172.28.84.80/30"]}},
        None,
        ["lab-84", "ray_cluster_allowed_sources", "172.28.84.80/30"],
    ),
    (
        "invalid-cidr",
        {"group:ray_cluster": {"ray_cluster_admin_sources": ["172.28.84.0/33"]}},
        None,
        ["ray_cluster_admin_sources", "172.28.84.0/33"],
    ),
    (
        "any-in-allowed-sources",
        {"group:ray_cluster": {"ray_cluster_allowed_sources": ["any"]}},
        None,
        ["ray_cluster_allowed_sources", "any"],
    ),
    (
        "port-plan-overflow",
        {"group:ray_cluster": {"ray_cluster_worker_ports_per_node": 5000}},
        None,
        ["ray_worker_count", "port plan overflow", "ephemeral"],
    ),
    ("ray-version-mismatch", {"lab-80": {"ray_cluster_version": "2.59.0"}}, None, ["ray_cluster_version", "lab-80=", "2.59.0"]),
    (
        "token-auth-on-old-ray",
        {"group:ray_cluster": {"ray_cluster_version": "2.51.0", "ray_cluster_image": "wizardsofts/ray:2.51.0-py311"}},
        None,
        ["ray_cluster_auth_mode", "2.52.0", "2.51.0"],
    ),
    ("unknown-per-worker-key", {"lab-81": {"ray_worker_overrides": [{"cpu": 1}]}}, None, ["lab-81", "cpu"]),
    (
        "duplicate-container-names",
        {"lab-80": {"ray_worker_overrides": [{"name": "rw"}, {"name": "rw"}]}},
        None,
        ["lab-80", "name", "rw"],
    ),
    ("duplicate-node-ips", {"lab-81": {"ray_node_ip": "172.28.84.80"}}, None, ["lab-81", "ray_node_ip", "172.28.84.80"]),
    ("unknown-cluster-variable", {"group:ray_cluster": {"ray_cluster_gcs_prot": 6380}}, None, ["ray_cluster_gcs_prot"]),
    # Role variables: site.yml checks every role's input before its first change.
    ("unknown-image-method", {"lab-81": {"ray_image_method": "ftp"}}, None, ["lab-81", "ray_image_method", "ftp"]),
    (
        "negative-worker-wait",
        {"lab-80": {"ray_worker_wait_timeout": -5}},
        None,
        ["lab-80", "ray_worker_wait_timeout", "-5"],
    ),
    ("docker-repo-without-url", {"lab-82": {"docker_engine_source": "docker_repo"}}, None, ["lab-82", "docker_engine_repo_url"]),
]


@pytest.fixture(scope="module")
def lab_before() -> dict[str, Any]:
    return snapshot()


@pytest.mark.parametrize(("changes", "groups", "words"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_stops_before_any_change(
    tmp_path: Path, lab_before: dict[str, Any], changes: dict[str, Any], groups: Any, words: list[str]
) -> None:
    run = playbook("site.yml", inventory=inventory_with(tmp_path, changes, groups))
    assert run.rc != 0, run
    failure = run.out[run.out.find("fatal:") :] if "fatal:" in run.out else run.out
    for word in words:
        assert word in failure, f"the failure does not name {word!r}:\n{failure[:3000]}"
    # The run stops in its first play (plan and every role's input checks): no task reported a
    # change anywhere, and the converging play never started.
    assert not run.changed_hosts(), run
    assert "PLAY [Converge the Ray cluster]" not in run.out, run


def test_bad_input_left_the_lab_as_it_was(lab_before: dict[str, Any]) -> None:
    assert snapshot() == lab_before
