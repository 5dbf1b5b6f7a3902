# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for what a run would change and the removal guard (plugins/module_utils/_changes.py).

What runs is simulated by rendering the compose files of an earlier plan (the seed topology) with
``compose_content``, exactly what the ray_compose role writes; the plan under test comes from the
same inventory with one change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import make_lab_hosts
from planner_cases import HEAD, WORKERS, Mutation, build, chain, cluster, host_vars

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._changes import (
    DUMMY_FINGERPRINT,
    change_summary,
    deployed_from,
    deployed_services,
    plan_changes,
    removal_refusal,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._probe import read_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import cluster_settings

HOSTS = WORKERS
# The token's fingerprint the running containers carry, and another one (a rotated token).
FINGERPRINT = "ab" * 16
OTHER_FINGERPRINT = "cd" * 16
HEAD_FILE = "/opt/ray-cluster/head/compose.yaml"
WORKERS_FILE = "/opt/ray-cluster/workers/compose.yaml"


def plan_of(*mutations: Mutation, head: str = HEAD) -> dict[str, Any]:
    hosts = make_lab_hosts()
    chain(*mutations)(hosts)
    return build(hosts, head=[head])


def running(plan: dict[str, Any], fingerprint: str = FINGERPRINT, hosts: list[str] | None = None) -> dict[str, Any]:
    """What each host has on disk after the ray_compose role applied ``plan`` (``None``: no file)."""
    result = {}
    for host in HOSTS if hosts is None else hosts:
        projects = plan["hosts"][host]["projects"]
        result[host] = {projects[k]["file"]: compose_content(plan, host, k, fingerprint) or None for k in projects}
    return result


def workers(host: str, count: int) -> Mutation:
    return host_vars(host, ray_worker_count=count)


DEPLOYED = plan_of()
RUNNING = running(DEPLOYED)
ALL_LAB = {
    "lab-84": ["ray-head", "ray-worker-1", "ray-worker-2", "ray-worker-3"],
    "lab-80": ["ray-worker-1", "ray-worker-2", "ray-worker-3", "ray-worker-4"],
    "lab-81": ["ray-worker-1", "ray-worker-2"],
    "lab-82": ["ray-worker-1"],
}


# --------------------------------------------------------------------------- plan_changes

# (id, plan mutations, what runs, expected non-empty lists per host; hosts not named: all unchanged)
CHANGES: list[tuple[str, list[Mutation], dict[str, Any], dict[str, dict[str, list[str]]]]] = [
    ("rerun-changes-nothing", [], RUNNING, {}),
    ("scale-down", [workers("lab-80", 2)], RUNNING, {"lab-80": {"removed": ["ray-worker-3", "ray-worker-4"]}}),
    ("scale-up", [workers("lab-82", 3)], RUNNING, {"lab-82": {"added": ["ray-worker-2", "ray-worker-3"]}}),
    ("no-worker-left", [workers("lab-82", 0)], RUNNING, {"lab-82": {"removed": ["ray-worker-1"]}}),
    (
        "resize-one-worker",
        [host_vars("lab-81", ray_worker_overrides=[{}, {"memory": "1400m"}])],
        RUNNING,
        {"lab-81": {"changed": ["ray-worker-2"]}},
    ),
    (
        "rename-a-worker",
        [host_vars("lab-82", ray_worker_overrides=[{"name": "gpu-1"}])],
        RUNNING,
        {"lab-82": {"added": ["gpu-1"], "removed": ["ray-worker-1"]}},
    ),
    (
        "new-image-changes-every-node",
        [cluster(ray_cluster_image="example/ray:2.60.0-py311")],
        RUNNING,
        {host: {"changed": names} for host, names in ALL_LAB.items()},
    ),
    # The controller does not know the token: a rotated token is not counted as a change.
    ("token-fingerprint-ignored", [], running(DEPLOYED, OTHER_FINGERPRINT), {}),
    (
        "fresh-cluster-adds-everything",
        [],
        {host: {HEAD_FILE: None, WORKERS_FILE: None} for host in HOSTS},
        {host: {"added": names} for host, names in ALL_LAB.items()},
    ),
    # A file that says the same in other words (comments, quoting, key order) is unchanged.
    (
        "same-services-other-formatting",
        [],
        {
            **RUNNING,
            "lab-81": {
                HEAD_FILE: None,
                WORKERS_FILE: yaml.safe_dump(yaml.safe_load(RUNNING["lab-81"][WORKERS_FILE]), sort_keys=True),
            },
        },
        {},
    ),
    (
        "head-moves-to-another-host",
        [],
        running(plan_of(host_vars("lab-80", ray_head_spec={"cpus": 0.5, "memory": "2g", "shm_size": "512m"}), head="lab-80")),
        {
            # Every worker's --address names the head: all of them change, the head moves.
            "lab-84": {"added": ["ray-head"], "changed": ALL_LAB["lab-84"][1:]},
            "lab-80": {"removed": ["ray-head"], "changed": ALL_LAB["lab-80"]},
            "lab-81": {"changed": ALL_LAB["lab-81"]},
            "lab-82": {"changed": ALL_LAB["lab-82"]},
        },
    ),
]


@pytest.mark.parametrize(("mutations", "deployed", "expected"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_plan_changes(mutations: list[Mutation], deployed: dict[str, Any], expected: dict[str, Any]) -> None:
    plan = plan_of(*mutations)
    changes = plan_changes(plan, deployed)
    assert list(changes) == HOSTS
    for host, entry in changes.items():
        want = expected.get(host, {})
        for key in ("added", "removed", "changed"):
            assert entry[key] == want.get(key, []), f"{host} {key}"
        running_names = [n for names in entry["deployed"].values() for n in names]
        assert sorted(entry["unchanged"] + entry["changed"]) == sorted(set(running_names) - set(entry["removed"]))


def test_plan_changes_reads_only_the_hosts_given() -> None:
    changes = plan_changes(plan_of(workers("lab-80", 1)), {"lab-80": RUNNING["lab-80"]})
    assert list(changes) == ["lab-80"]
    assert changes["lab-80"]["removed"] == ["ray-worker-2", "ray-worker-3", "ray-worker-4"]
    assert changes["lab-80"]["deployed"] == {"head": [], "workers": ALL_LAB["lab-80"]}


def test_plan_changes_refuses_an_unknown_host() -> None:
    with pytest.raises(ValueError, match="host lab-99: not in the cluster plan"):
        plan_changes(DEPLOYED, {"lab-99": {}})


def test_auth_disabled_renders_without_a_fingerprint() -> None:
    plan = plan_of(cluster(ray_cluster_auth_mode="disabled"))
    changes = plan_changes(plan, running(plan, fingerprint=""))
    assert all(not entry["changed"] and not entry["added"] for entry in changes.values())
    # Turning token authentication on changes every container's environment.
    changes = plan_changes(DEPLOYED, running(plan, fingerprint=""))
    assert changes["lab-82"]["changed"] == ["ray-worker-1"]


# --------------------------------------------------------------------------- deployed_services

PARSE: list[tuple[str, Any, list[str]]] = [
    ("missing", None, []),
    ("empty", "", []),
    ("blank", " \n\n", []),
    ("comments-only", "# nothing here\n", []),
    ("no-services", "name: ray-workers\n", []),
    ("container-name-wins", "services:\n  w:\n    container_name: ray-worker-1\n  x: {image: i}\n", ["ray-worker-1", "x"]),
    ("rendered", RUNNING["lab-80"][WORKERS_FILE], ALL_LAB["lab-80"]),
]


@pytest.mark.parametrize(("text", "names"), [c[1:] for c in PARSE], ids=[c[0] for c in PARSE])
def test_deployed_services(text: Any, names: list[str]) -> None:
    assert list(deployed_services(text)) == names


BAD_FILES: list[tuple[str, str, str]] = [
    ("not-yaml", "services: [\n", "not valid YAML at line 2"),
    ("a-list", "- a\n- b\n", "expected a mapping with services"),
    ("services-a-list", "services: [a, b]\n", "services is not a mapping"),
    ("service-a-string", "services:\n  w: nope\n", "service w is not a mapping"),
]


@pytest.mark.parametrize(("text", "problem"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_deployed_services_names_the_file(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^host lab-80: {WORKERS_FILE}: .*{problem}"):
        deployed_services(text, f"host lab-80: {WORKERS_FILE}")


def test_a_bad_file_fails_the_comparison_with_host_and_path() -> None:
    deployed = {**RUNNING, "lab-81": {HEAD_FILE: None, WORKERS_FILE: "services: [\n"}}
    with pytest.raises(ValueError, match=f"host lab-81: {WORKERS_FILE}: not valid YAML"):
        plan_changes(DEPLOYED, deployed)


# --------------------------------------------------------------------------- removal_refusal

# (id, plan mutations, hosts read (None: all), expected message parts; [] = no refusal)
REFUSALS: list[tuple[str, list[Mutation], list[str] | None, list[str]]] = [
    ("nothing-removed", [workers("lab-82", 3)], None, []),
    ("within-the-share", [workers("lab-80", 2)], None, []),
    (
        "more-than-the-share",
        [workers("lab-80", 1)],
        None,
        [
            "host lab-80: would remove ray-worker-2, ray-worker-3, ray-worker-4;",
            "3 of the cluster's 11",
            "(27%)",
            "more than ray_cluster_removal_max_share=0.25",
        ],
    ),
    (
        "every-worker-of-a-host",
        [workers("lab-82", 0)],
        None,
        [
            "host lab-82: would remove ray-worker-1 (every worker of this host)",
            "1 of the cluster's 11",
            "(9%)",
            "within ray_cluster_removal_max_share=0.25",
        ],
    ),
    (
        "every-worker-renamed",
        [host_vars("lab-82", ray_worker_overrides=[{"name": "gpu-1"}])],
        None,
        ["host lab-82: would remove ray-worker-1 (every worker of this host)"],
    ),
    (
        "names-every-host-with-removals",
        [workers("lab-82", 0), workers("lab-81", 1)],
        None,
        ["host lab-81: would remove ray-worker-2;", "host lab-82: would remove ray-worker-1 (every worker"],
    ),
    ("confirmed", [workers("lab-82", 0), cluster(ray_cluster_confirm_removal=True)], None, []),
    ("confirmed-on-the-command-line", [workers("lab-80", 0), cluster(ray_cluster_confirm_removal="true")], None, []),
    ("higher-share", [workers("lab-80", 1), cluster(ray_cluster_removal_max_share=0.5)], None, []),
    (
        "lower-share",
        [workers("lab-80", 3), cluster(ray_cluster_removal_max_share=0.05)],
        None,
        ["1 of the cluster's 11", "more than ray_cluster_removal_max_share=0.05"],
    ),
    # --limit lab-80: the other hosts count with their planned nodes (4 + 2 + 1), 3 of 11 again.
    ("limit-counts-unread-hosts", [workers("lab-80", 1)], ["lab-80"], ["3 of the cluster's 11", "(27%)"]),
    # Hosts not read are not compared: their removals are not seen (nor counted).
    ("unread-host-not-compared", [workers("lab-82", 0)], ["lab-80", "lab-81"], []),
]


@pytest.mark.parametrize(("mutations", "read", "parts"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_removal_refusal(mutations: list[Mutation], read: list[str] | None, parts: list[str]) -> None:
    plan = plan_of(*mutations)
    deployed = RUNNING if read is None else {host: RUNNING[host] for host in read}
    refusal = removal_refusal(plan, plan_changes(plan, deployed), read)
    if not parts:
        assert refusal == ""
        return
    assert refusal.startswith("removing Ray containers needs a confirmation: ")
    assert refusal.endswith("set ray_cluster_confirm_removal=true to allow it (-e ray_cluster_confirm_removal=true)")
    for part in parts:
        assert part in refusal


def test_removal_refusal_whole_message() -> None:
    plan = plan_of(workers("lab-82", 0))
    assert removal_refusal(plan, plan_changes(plan, RUNNING), HOSTS) == (
        "removing Ray containers needs a confirmation: host lab-82: would remove ray-worker-1 (every worker of "
        "this host); that is 1 of the cluster's 11 deployed nodes (9%), within ray_cluster_removal_max_share=0.25; "
        "set ray_cluster_confirm_removal=true to allow it (-e ray_cluster_confirm_removal=true)"
    )


def test_fresh_cluster_never_needs_a_confirmation() -> None:
    plan = plan_of(workers("lab-82", 0))
    fresh = {host: {HEAD_FILE: None, WORKERS_FILE: None} for host in HOSTS}
    assert removal_refusal(plan, plan_changes(plan, fresh), HOSTS) == ""


# --------------------------------------------------------------------------- change_summary


def test_change_summary() -> None:
    plan = plan_of(workers("lab-82", 0), workers("lab-81", 3), host_vars("lab-80", ray_worker_overrides=[{"memory": "1400m"}]))
    assert change_summary(plan_changes(plan, RUNNING)) == [
        "host lab-80: change ray-worker-1; 3 unchanged",
        "host lab-81: add ray-worker-3; 2 unchanged",
        "host lab-82: remove ray-worker-1; 0 unchanged",
        "in all: add 1, change 1, remove 1, 9 unchanged (on the 4 hosts read)",
    ]


def test_summary_when_nothing_changes() -> None:
    assert change_summary(plan_changes(DEPLOYED, RUNNING)) == [
        "no Ray container to add, change or remove (11 unchanged on the 4 hosts read)"
    ]
    assert change_summary(plan_changes(DEPLOYED, {"lab-82": RUNNING["lab-82"]})) == [
        "no Ray container to add, change or remove (1 unchanged on the 1 host read)"
    ]


# --------------------------------------------------------------------------- deployed_from

FILES = {HEAD_FILE: None, WORKERS_FILE: "services: {}\n"}
FROM: list[tuple[str, Any, Any]] = [
    ("path-mapping", FILES, FILES),
    ("registered-result", {"changed": False, "deployed": FILES}, FILES),
    ("host-vars", {"inventory_hostname": "lab-80", "__cluster_plan_deployed": {"deployed": FILES}}, FILES),
    ("nothing-deployed-asked", {}, {}),
    ("skipped", {"__cluster_plan_deployed": {"changed": False, "skipped": True}}, None),
    ("failed", {"__cluster_plan_deployed": {"failed": True, "msg": "cannot read"}}, None),
    ("host-vars-without-result", {"inventory_hostname": "lab-80"}, None),
    ("not-a-mapping", "text", None),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in FROM], ids=[c[0] for c in FROM])
def test_deployed_from(value: Any, expected: Any) -> None:
    assert deployed_from(value) == expected


# --------------------------------------------------------------------------- read_files (on the host)


def test_read_files(tmp_path: Path) -> None:
    present = tmp_path / "compose.yaml"
    present.write_text("services: {}\n", encoding="utf-8")
    missing = tmp_path / "workers" / "compose.yaml"
    assert read_files([str(present), str(missing)]) == {str(present): "services: {}\n", str(missing): None}
    assert read_files([]) == {}


def test_read_files_names_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"cannot read {tmp_path}: Is a directory"):
        read_files([str(tmp_path)])
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match=f"{binary}: not a text file"):
        read_files([str(binary)])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_read_files_unreadable(tmp_path: Path) -> None:
    secret = tmp_path / "compose.yaml"
    secret.write_text("x", encoding="utf-8")
    secret.chmod(0)
    with pytest.raises(ValueError, match="Permission denied"):
        read_files([str(secret)])


# --------------------------------------------------------------------------- the two cluster variables

SETTINGS_OK: list[tuple[str, str, Any, Any]] = [
    ("confirm-default", "ray_cluster_confirm_removal", None, False),
    ("confirm-true", "ray_cluster_confirm_removal", True, True),
    ("confirm-cli-true", "ray_cluster_confirm_removal", "true", True),
    ("confirm-cli-no", "ray_cluster_confirm_removal", "no", False),
    ("share-default", "ray_cluster_removal_max_share", None, 0.25),
    ("share-one", "ray_cluster_removal_max_share", 1, 1.0),
    ("share-cli", "ray_cluster_removal_max_share", "0.5", 0.5),
]


@pytest.mark.parametrize(("variable", "value", "expected"), [c[1:] for c in SETTINGS_OK], ids=[c[0] for c in SETTINGS_OK])
def test_removal_settings(variable: str, value: Any, expected: Any) -> None:
    hosts = make_lab_hosts()
    if value is not None:
        cluster(**{variable: value})(hosts)
    assert cluster_settings(hosts)[variable] == expected
    plan = build(hosts)
    assert plan["cluster"][variable.removeprefix("ray_cluster_")] == expected


SETTINGS_BAD: list[tuple[str, str, Any]] = [
    ("confirm-number", "ray_cluster_confirm_removal", 1),
    ("confirm-word", "ray_cluster_confirm_removal", "maybe"),
    ("share-zero", "ray_cluster_removal_max_share", 0),
    ("share-negative", "ray_cluster_removal_max_share", -0.1),
    ("share-above-one", "ray_cluster_removal_max_share", 1.5),
    ("share-percent", "ray_cluster_removal_max_share", "25%"),
    ("share-bool", "ray_cluster_removal_max_share", True),
]


@pytest.mark.parametrize(("variable", "value"), [c[1:] for c in SETTINGS_BAD], ids=[c[0] for c in SETTINGS_BAD])
def test_removal_settings_refused(variable: str, value: Any) -> None:
    hosts = make_lab_hosts()
    cluster(**{variable: value})(hosts)
    with pytest.raises(PlanError) as caught:
        cluster_settings(hosts)
    assert caught.value.variable == variable
    assert repr(value) in str(caught.value)


def test_dummy_fingerprint_is_a_valid_one() -> None:
    assert compose_content(DEPLOYED, "lab-82", "workers", DUMMY_FINGERPRINT)
