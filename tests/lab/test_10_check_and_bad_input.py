"""Check mode and bad input on the converged lab: nothing may change on any server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from labkit import UNSET, Run, inventory_with, pins, playbook, snapshot

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


# A token that must never appear in any output, even when it is refused.
OTHER = pins.RAY_PREVIOUS_VERSION  # a real Ray version, not the planned one
BAD_TOKEN = "Zq7-lab-test-token-with-a-newline\nsecond-line-0123456789"  # noqa: S105 (a test value)

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
    # (The lab allows oversubscription: its servers share two cores. A real inventory does not.)
    ("cpus-above-host-vcpus", {"lab-80": {"ray_worker_spec": {**WORKER, "cpus": 1}},
                               "group:ray_cluster": {"ray_cluster_allow_oversubscription": False}},
     None, ["lab-80", "cpus", "4"]),
    ("cpus-zero", {"lab-81": {"ray_worker_spec": {**WORKER, "cpus": 0}}}, None, ["lab-81", "cpus", "0"]),
    ("no-head", {}, {"ray_head": []}, ["groups.ray_head", "[]"]),
    ("two-heads", {}, {"ray_head": ["lab-84", "lab-80"]}, ["groups.ray_head", "lab-84", "lab-80"]),
    # The lab reaches a server at its ray_node_ip: keep the connection address valid.
    (
        "head-address-invalid",
        {"lab-84": {"ray_node_ip": "head.invalid", "ansible_host": "172.28.84.84"}},
        None,
        ["lab-84", "ray_node_ip", "head.invalid"],
    ),
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
    ("ray-version-mismatch", {"lab-80": {"ray_cluster_version": OTHER}}, None, ["ray_cluster_version", "lab-80=", OTHER]),
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
    # site.yml's own option.
    ("converge-all-not-a-boolean", {"group:ray_cluster": {"ray_site_converge_all": "sometimes"}}, None,
     ["ray_site_converge_all", "sometimes"]),
    # Removal without ray_cluster_confirm_removal: the removal guard stops the run the same way.
    (
        "removes-every-worker-of-a-host",
        {"lab-82": {"ray_worker_count": 0}},
        None,
        ["lab-82", "ray-worker-1", "ray_cluster_confirm_removal=true"],
    ),
    (
        "removes-more-than-the-share",
        {"lab-80": {"ray_worker_count": 1}},
        None,
        ["lab-80", "ray-worker-4", "(27%)", "ray_cluster_removal_max_share=0.25"],
    ),
    # Input that used to slip through (issue 9).
    ("misspelt-host-variable", {"lab-82": {"ray_worker_count": UNSET, "ray_worker_cont": 1}}, None,
     ["lab-82", "ray_worker_cont", "did you mean ray_worker_count"]),
    ("misspelt-group-variable", {"group:ray_workers": {"ray_worker_spce": WORKER}}, None,
     ["ray_worker_spce", "did you mean ray_worker_spec"]),
    ("missing-worker-count", {"lab-82": {"ray_worker_count": UNSET}}, None, ["lab-82", "ray_worker_count"]),
    ("whole-ipv4-space", {"group:ray_cluster": {"ray_cluster_allowed_sources": ["0.0.0.0/0"]}}, None,
     ["ray_cluster_allowed_sources", "0.0.0.0/0"]),
    ("whole-ipv6-space", {"group:ray_cluster": {"ray_cluster_admin_sources": ["::/0"]}}, None,
     ["ray_cluster_admin_sources", "::/0"]),
    ("source-wider-than-min-prefix", {"group:ray_cluster": {"ray_cluster_admin_sources": ["172.0.0.0/6"]}}, None,
     ["ray_cluster_admin_sources", "172.0.0.0/6", "ray_cluster_source_min_prefix"]),
    ("token-with-newline", {"group:ray_cluster": {"ray_cluster_auth_token": BAD_TOKEN}}, None, ["ray_cluster_auth_token"]),
    ("token-too-short", {"group:ray_cluster": {"ray_cluster_auth_token": "short-token"}}, None, ["ray_cluster_auth_token"]),
    ("shm-above-memory", {"lab-82": {"ray_worker_spec": {**WORKER, "shm_size": "2g"}}}, None,
     ["lab-82", "ray_worker_spec.shm_size", "2g"]),
    ("host-in-no-cluster-group", {}, {"ray_workers": ["lab-84", "lab-80", "lab-81"], "ray_cluster": ["lab-82"]},
     ["lab-82", "ray_workers"]),
    ("empty-ssh-sources", {"group:ray_cluster": {"ray_cluster_ssh_sources": []}}, None, ["ray_cluster_ssh_sources", "[]"]),
    ("memory-zero", {"lab-81": {"ray_worker_spec": {**WORKER, "memory": "0"}}}, None,
     ["lab-81", "ray_worker_spec.memory", "'0'"]),
    ("cpus-not-a-number", {"lab-81": {"ray_worker_spec": {**WORKER, "cpus": "two"}}}, None,
     ["lab-81", "ray_worker_spec.cpus", "'two'"]),
]  # fmt: skip

# The cases the planner itself refuses: playbooks/plan.yml (which contacts no host) must refuse
# them exactly as site.yml does. The others need facts, what runs, or a role's own variables.
PLANNER_CASES = [case for case in BAD_INPUT if case[0] not in {
    "cpus-above-host-vcpus", "unknown-image-method", "negative-worker-wait", "docker-repo-without-url",
    "converge-all-not-a-boolean", "removes-every-worker-of-a-host", "removes-more-than-the-share",
}]  # fmt: skip


# site.yml runs the same planner as playbooks/plan.yml, in its first play: every case goes through
# plan.yml (no host is contacted, so all of them are cheap), and through site.yml the cases the
# planner cannot judge alone plus one of each kind of planner refusal (a host variable, a size, a
# group's members, a source, a version, a token that must not leak, a misspelt name). Each site.yml
# run gathers facts on the four servers: all 37 would add about two minutes and prove nothing more.
SITE_PLANNER_SAMPLE = {
    "negative-worker-count", "shm-smaller-than-object-store", "two-heads", "invalid-cidr",
    "ray-version-mismatch", "token-with-newline", "misspelt-host-variable",
}  # fmt: skip
assert SITE_PLANNER_SAMPLE.issubset(case[0] for case in PLANNER_CASES), "a sampled case is not a planner case"
SITE_CASES = [case for case in BAD_INPUT if case not in PLANNER_CASES or case[0] in SITE_PLANNER_SAMPLE]


# Bad-input runs are read-only and independent: run them a few at a time (each is mostly waiting
# on SSH and on the plan), then let one test per case judge its own run.
PARALLEL_RUNS = 3


def run_cases(playbook_path: str, cases: list[Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    def one(case: Any) -> tuple[str, Run]:
        case_id, changes, groups, _ = case
        return case_id, playbook(playbook_path, inventory=inventory_with(tmp_path_factory.mktemp(case_id), changes, groups))

    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        return dict(pool.map(one, cases))


@pytest.fixture(scope="module")
def lab_before() -> dict[str, Any]:
    return snapshot()


@pytest.fixture(scope="module")
def site_runs(lab_before: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    return run_cases("site.yml", SITE_CASES, tmp_path_factory)


@pytest.fixture(scope="module")
def plan_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    return run_cases("playbooks/plan.yml", PLANNER_CASES, tmp_path_factory)


def assert_refused(run: Run, words: list[str]) -> None:
    """The run failed, its failure names every word (host, variable, value), and no token leaked."""
    assert run.rc != 0, run
    failure = run.out[run.out.find("fatal:") :] if "fatal:" in run.out else run.out
    for word in words:
        assert word in failure, f"{run.argv[3]} does not name {word!r}:\n{failure[:3000]}"
    assert "lab-test-token" not in run.out, "a refused token was printed"


@pytest.mark.parametrize(("case_id", "words"), [(c[0], c[3]) for c in SITE_CASES], ids=[c[0] for c in SITE_CASES])
def test_bad_input_stops_before_any_change(site_runs: dict[str, Run], case_id: str, words: list[str]) -> None:
    run = site_runs[case_id]
    assert_refused(run, words)
    # The run stops in its first play (plan and every role's input checks): no task reported a
    # change anywhere, and the converging play never started.
    assert not run.changed_hosts(), run
    assert "PLAY [Converge the Ray cluster]" not in run.out, run


@pytest.mark.parametrize(("case_id", "words"), [(c[0], c[3]) for c in PLANNER_CASES], ids=[c[0] for c in PLANNER_CASES])
def test_the_plan_alone_refuses_the_same_input(plan_runs: dict[str, Run], case_id: str, words: list[str]) -> None:
    assert_refused(plan_runs[case_id], words)


def test_removal_is_allowed_when_confirmed_and_shown_first(tmp_path: Path, lab_before: dict[str, Any]) -> None:
    """With ray_cluster_confirm_removal, a check run passes the guard and names what would go (on the
    server concerned: the guard judges each server's own removals)."""
    inventory = inventory_with(tmp_path, {"lab-82": {"ray_worker_count": 0}})
    run = playbook("site.yml", "--check", "--limit", "lab-82", "-e", "ray_cluster_confirm_removal=true", inventory=inventory)
    assert run.rc == 0, run
    assert "host lab-82: remove ray-worker-1" in run.out, run
    assert snapshot() == lab_before


def test_bad_input_left_the_lab_as_it_was(lab_before: dict[str, Any]) -> None:
    assert snapshot() == lab_before
