# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/module_utils/_drift.py: each judge finds nothing on a host that matches
and names each kind of difference the role would repair."""

from __future__ import annotations

import copy
import posixpath
from pathlib import Path
from typing import Any

import pytest
from planner_cases import FINGERPRINT

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content, compose_services
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._drift import (
    compose_drift,
    docker_drift,
    files_to_write,
    image_drift,
    recreated_containers,
    sha256_text,
    ufw_drift,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import multiport_rules
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._node_logs import node_log_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "probe"
# ufw status verbose as the lab's servers print it (active, deny incoming, allow outgoing, logging low).
UFW_STATUS = (FIXTURES / "ufw-status-verbose.txt").read_text(encoding="utf-8")
# UFW's settings files as the lab's servers have them (enabled, logging low, the same policies).
UFW_CONF = (FIXTURES / "ufw" / "ufw.conf").read_text(encoding="utf-8")
UFW_DEFAULTS = (FIXTURES / "ufw" / "default-ufw").read_text(encoding="utf-8")
IMAGE = "wizardsofts/ray:2.60.0-py311"
IMAGE_ID = "sha256:" + "a5" * 32
TOKEN_TEXT = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1\n"  # noqa: S105 (a test value)
DAEMON_JSON = '{\n    "live-restore": true\n}\n'
PACKAGES = ["docker.io", "docker-cli", "docker-compose", "python3-requests", "python3-yaml"]


def _stat(kind: str, mode: str, text: str | None = None) -> dict[str, Any]:
    sha = sha256_text(text) if text is not None else None
    return {"exists": True, "type": kind, "mode": mode, "owner": "root", "group": "root", "sha256": sha}


def _rules_text(firewall: list[dict[str, Any]]) -> str:
    """What ``ufw show added`` prints where the ufw role has applied ``firewall`` (the plan's rules)."""
    lines = ["Added user rules (see 'ufw status' for running firewall):"]
    for rule in multiport_rules(firewall, "ray_cluster"):
        src = "" if rule["src"] == "any" else f"from {rule['src']} "
        lines.append(f"ufw allow {src}to any port {rule['port']} proto {rule['proto']} comment '{rule['comment']}'")
    return "\n".join(lines) + "\n"


def _tuple(rule: dict[str, Any]) -> str:
    """A rule as UFW writes it in user.rules."""
    src = "0.0.0.0/0" if rule["src"] == "any" else rule["src"]
    return f"### tuple ### allow {rule['proto']} {rule['port']} 0.0.0.0/0 any {src} in comment={rule['comment'].encode().hex()}"


def _ufw_files(firewall: list[dict[str, Any]]) -> dict[str, Any]:
    """What ray_cluster_deployed reads of UFW where the ufw role has applied ``firewall``."""
    applied = multiport_rules(firewall, "ray_cluster")
    rules = "### RULES ###\n\n" + "".join(_tuple(r) + "\n-A ufw-user-input ...\n\n" for r in applied) + "### END RULES ###\n"
    return {"files": {"rules": rules, "rules6": "", "conf": UFW_CONF, "defaults": UFW_DEFAULTS}, "loaded": True}


def _container(
    name: str, project: str, labels: dict[str, str], status: str = "running", health: str | None = "healthy"
) -> dict[str, Any]:
    state: dict[str, Any] = {"Running": status == "running", "Status": status}
    if health is not None:
        state["Health"] = {"Status": health}
    return {"Name": f"/{name}", "State": state, "Config": {"Labels": {**labels, "com.docker.compose.project": project}}}


def matching_probe(plan: dict[str, Any], host: str) -> dict[str, Any]:
    """What ray_cluster_deployed returns for a host the roles have just converged."""
    cluster, hplan = plan["cluster"], plan["hosts"][host]
    stats: dict[str, Any] = {
        "/etc/docker": _stat("directory", "0755"),
        "/etc/docker/daemon.json": _stat("file", "0644", DAEMON_JSON),
        cluster["auth_token_file"]: _stat("file", "0600", TOKEN_TEXT),
        cluster["gcs_storage_path"]: _stat("directory", "0700"),
    }
    deployed, containers = {}, []
    for kind, project in hplan["projects"].items():
        content = compose_content(plan, host, kind, FINGERPRINT)
        deployed[project["file"]] = content or None
        if content:
            stats[project["dir"]] = _stat("directory", "0755")
            stats[project["file"]] = _stat("file", "0644", content)
        for name, service in compose_services(plan, host, kind, FINGERPRINT).items():
            containers.append(_container(name, project["name"], service["labels"]))
    # Ray's node logs (roles/ray_compose configure.yml): the cluster's directory, each node's, the pruner and its timer.
    logs = cluster["node_logs"]
    services = {"docker": {"enabled": True, "active": True}}
    if hplan["nodes"]:
        stats[logs["dir"]] = _stat("directory", "0700")
        stats[posixpath.dirname(logs["prune_script"])] = _stat("directory", "0755")
        for path in hplan["node_log_dirs"].values():
            stats[path] = _stat("directory", "0777")
        for path, text in node_log_files(plan, host).items():
            stats[path] = _stat("file", "0644", text)
        services[f"{logs['prune_unit']}.timer"] = {"enabled": True, "active": True}
    info = {"ServerVersion": "26.1.5+dfsg1", "ClientInfo": {"Plugins": [{"Name": "compose", "Version": "2.26.1"}]}}
    return {
        "deployed": deployed,
        "stats": stats,
        "packages": dict.fromkeys(PACKAGES, "1.0"),
        "services": services,
        "ufw": _ufw_files(hplan["firewall"]),
        "docker": {"info": info, "error": "", "images": {IMAGE: IMAGE_ID}, "containers": containers},
    }


@pytest.fixture
def plan(lab_hosts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return build_plan(["lab-84"], list(lab_hosts), lab_hosts)


def judge_all(probe: dict[str, Any], plan: dict[str, Any], host: str) -> list[str]:
    return (
        ufw_drift(probe, plan["hosts"][host]["firewall"], "ray_cluster", "low", True)
        + docker_drift(probe, PACKAGES, DAEMON_JSON, "25.0", "2.24.0", "/etc/docker/daemon.json")
        + image_drift(probe, IMAGE, IMAGE_ID)
        + compose_drift(probe, plan, host, "head", FINGERPRINT, sha256_text(TOKEN_TEXT))
        + compose_drift(probe, plan, host, "workers", FINGERPRINT, sha256_text(TOKEN_TEXT))
    )


@pytest.mark.parametrize("host", ["lab-84", "lab-80", "lab-82"])
def test_a_converged_host_matches(plan: dict[str, Any], host: str) -> None:
    assert judge_all(matching_probe(plan, host), plan, host) == []


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(probe: dict[str, Any]) -> None:
        target = probe
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


def _container_state(name: str, **state: Any) -> Any:
    def change(probe: dict[str, Any]) -> None:
        container = next(c for c in probe["docker"]["containers"] if c["Name"] == f"/{name}")
        container["State"].update(state)

    return change


def _container_label(name: str, label: str, value: str) -> Any:
    def change(probe: dict[str, Any]) -> None:
        next(c for c in probe["docker"]["containers"] if c["Name"] == f"/{name}")["Config"]["Labels"][label] = value

    return change


def _drop_container(name: str) -> Any:
    def change(probe: dict[str, Any]) -> None:
        probe["docker"]["containers"] = [c for c in probe["docker"]["containers"] if c["Name"] != f"/{name}"]

    return change


def _extra_container(probe: dict[str, Any]) -> None:
    extra = copy.deepcopy(next(c for c in probe["docker"]["containers"] if c["Name"] == "/ray-worker-1"))
    extra["Name"] = "/ray-worker-9"
    probe["docker"]["containers"].append(extra)


def _first_rule_removed(probe: dict[str, Any]) -> None:
    files = probe["ufw"]["files"]
    first = next(line for line in files["rules"].splitlines() if line.startswith("### tuple"))
    files["rules"] = files["rules"].replace(first + "\n", "")


STALE = {"port": "6380", "proto": "tcp", "src": "10.9.9.9", "comment": "ray_cluster old"}


def _stale_rule(probe: dict[str, Any]) -> None:
    probe["ufw"]["files"]["rules6"] += _tuple(STALE) + "\n"


def _ufw_setting(key: str, old: str, new: str) -> Any:
    def change(probe: dict[str, Any]) -> None:
        files = probe["ufw"]["files"]
        assert old in files[key]
        files[key] = files[key].replace(old, new)

    return change


def _edited_file(path_key: str) -> Any:
    def change(probe: dict[str, Any]) -> None:
        path = path_key if path_key.startswith("/") else probe["_paths"][path_key]
        probe["stats"][path]["sha256"] = "0" * 64

    return change


SPEC_LABEL = "com.wizardsofts.spec"
WORKERS_FILE = "/opt/ray-cluster/workers/compose.yaml"
# (id, host, change, a word each expected line must contain)
DIFFERENCES = [
    ("ufw-missing", "lab-80", _set(("ufw",), None), "ufw: not installed"),
    ("ufw-unreadable", "lab-80", _set(("ufw", "loaded"), None), "could not be read"),
    ("ufw-conf-missing", "lab-80", _set(("ufw", "files", "conf"), None), "could not be read"),
    ("ufw-rule-missing", "lab-80", _first_rule_removed, "planned rule(s) missing"),
    ("ufw-rules-file-missing", "lab-80", _set(("ufw", "files", "rules"), None), "planned rule(s) missing"),
    ("ufw-stale-rule", "lab-80", _stale_rule, "no longer has"),
    ("ufw-disabled", "lab-80", _ufw_setting("conf", "ENABLED=yes", "ENABLED=no"), "inactive"),
    ("ufw-not-loaded", "lab-80", _set(("ufw", "loaded"), False), "inactive"),
    ("ufw-logging", "lab-80", _ufw_setting("conf", "LOGLEVEL=low", "LOGLEVEL=medium"), "logging is medium"),
    ("ufw-policy", "lab-80", _ufw_setting("defaults", 'INPUT_POLICY="DROP"', 'INPUT_POLICY="ACCEPT"'), "default incoming"),
    ("package-removed", "lab-80", _set(("packages", "python3-yaml"), None), "package python3-yaml"),
    ("daemon-json-edited", "lab-80", _edited_file("/etc/docker/daemon.json"), "daemon.json: content differs"),
    ("daemon-json-mode", "lab-80", _set(("stats", "/etc/docker/daemon.json", "mode"), "0666"), "mode 0666"),
    ("daemon-json-missing", "lab-80", _set(("stats", "/etc/docker/daemon.json"), {"exists": False}), "daemon.json: missing"),
    ("docker-stopped", "lab-80", _set(("services", "docker", "active"), False), "docker service"),
    ("docker-disabled", "lab-80", _set(("services", "docker", "enabled"), False), "docker service"),
    ("docker-not-answering", "lab-80", _set(("docker", "info"), None), "not answering"),
    ("docker-absent", "lab-80", _set(("docker",), None), "not answering"),
    ("compose-too-old", "lab-80", _set(("docker", "info", "ClientInfo", "Plugins"), []), "Compose v2 is missing"),
    ("image-missing", "lab-80", _set(("docker", "images", IMAGE), None), "missing"),
    ("image-other", "lab-80", _set(("docker", "images", IMAGE), "sha256:" + "bb" * 32), "not sha256:a5a5"),
    ("token-edited", "lab-80", _edited_file("/etc/ray-cluster/auth_token"), "auth_token: content differs"),
    ("token-mode", "lab-80", _set(("stats", "/etc/ray-cluster/auth_token", "mode"), "0644"), "mode 0644"),
    ("token-owner", "lab-80", _set(("stats", "/etc/ray-cluster/auth_token", "owner"), "nobody"), "owned by nobody"),
    (
        "compose-edited",
        "lab-80",
        _set(("deployed", WORKERS_FILE), "services: {}\n"),
        "differs from the plan",
    ),
    ("compose-missing", "lab-80", _set(("deployed", WORKERS_FILE), None), "compose.yaml: missing"),
    ("compose-dir-mode", "lab-80", _set(("stats", "/opt/ray-cluster/workers", "mode"), "0777"), "mode 0777"),
    ("gcs-store-missing", "lab-84", _set(("stats", "/var/lib/ray-cluster/gcs/ray/ray-2.60.0"), {"exists": False}), "missing"),
    ("container-exited", "lab-80", _container_state("ray-worker-2", Running=False, Status="exited"), "ray-worker-2: exited"),
    (
        "container-unhealthy",
        "lab-80",
        _container_state("ray-worker-3", Health={"Status": "bad"}),
        "ray-worker-3: bad",
    ),
    ("container-old-spec", "lab-80", _container_label("ray-worker-1", SPEC_LABEL, "0" * 16), "created from another spec"),
    ("container-removed", "lab-80", _drop_container("ray-worker-4"), "ray-worker-4: no container"),
    ("container-extra", "lab-80", _extra_container, "ray-worker-9: not in the plan"),
    ("head-exited", "lab-84", _container_state("ray-head", Running=False, Status="exited"), "ray-head: exited"),
    # Ray's node logs
    (
        "node-log-dir-missing",
        "lab-80",
        _set(("stats", "/var/log/ray-cluster/ray/ray-worker-3"), {"exists": False}),
        "/var/log/ray-cluster/ray/ray-worker-3: missing",
    ),
    ("node-log-dir-mode", "lab-82", _set(("stats", "/var/log/ray-cluster/ray/ray-worker-1", "mode"), "0755"), "mode 0755"),
    ("node-logs-dir-mode", "lab-84", _set(("stats", "/var/log/ray-cluster/ray", "mode"), "0755"), "mode 0755"),
    ("pruner-edited", "lab-80", _edited_file("/opt/ray-cluster/node-logs/prune-node-logs.py"), "content differs"),
    ("pruner-timer-stopped", "lab-80", _set(("services", "ray-cluster-ray-node-logs.timer", "active"), False), "timer"),
    ("pruner-timer-not-read", "lab-80", _set(("services", "ray-cluster-ray-node-logs.timer"), KeyError), "not read"),
]


@pytest.mark.parametrize(
    ("host", "change", "expected"), [case[1:] for case in DIFFERENCES], ids=[case[0] for case in DIFFERENCES]
)
def test_each_difference_is_named(plan: dict[str, Any], host: str, change: Any, expected: str) -> None:
    probe = matching_probe(plan, host)
    change(probe)
    differences = judge_all(probe, plan, host)
    assert differences, "a difference the role would repair went unseen"
    assert any(expected in line for line in differences), differences


# A project whose files are right and only containers differ: ray_compose skips its file tasks (site.yml).
CONTAINER_ONLY = {
    "container-exited",
    "container-unhealthy",
    "container-old-spec",
    "container-removed",
    "container-extra",
    "head-exited",
}
FILE_CASES = {
    "compose-edited",
    "compose-missing",
    "compose-dir-mode",
    "gcs-store-missing",
    "node-log-dir-missing",
    "node-log-dir-mode",
    "node-logs-dir-mode",
    "pruner-edited",
    "pruner-timer-stopped",
    "pruner-timer-not-read",
}
TOKEN_CASES = {"token-edited", "token-mode", "token-owner"}


@pytest.mark.parametrize(
    ("case_id", "host", "change"),
    [(c[0], c[1], c[2]) for c in DIFFERENCES if c[0] in CONTAINER_ONLY | FILE_CASES | TOKEN_CASES],
    ids=[c[0] for c in DIFFERENCES if c[0] in CONTAINER_ONLY | FILE_CASES | TOKEN_CASES],
)
def test_files_only_leaves_out_the_containers_and_nothing_else(
    plan: dict[str, Any], case_id: str, host: str, change: Any
) -> None:
    probe = matching_probe(plan, host)
    change(probe)
    sha = sha256_text(TOKEN_TEXT)
    files = [
        line for kind in ("head", "workers") for line in compose_drift(probe, plan, host, kind, FINGERPRINT, sha, files_only=True)
    ]
    everything = [line for kind in ("head", "workers") for line in compose_drift(probe, plan, host, kind, FINGERPRINT, sha)]
    assert set(files) <= set(everything)
    assert (files == []) == (case_id in CONTAINER_ONLY), files


def test_files_only_sees_a_new_token_and_a_missing_read(plan: dict[str, Any]) -> None:
    probe = matching_probe(plan, "lab-80")
    assert any(
        "auth_token: content differs" in line
        for line in compose_drift(probe, plan, "lab-80", "workers", "cd" * 16, "0" * 64, True)
    )
    assert compose_drift({"deployed": {}}, plan, "lab-80", "workers", FINGERPRINT, sha256_text(TOKEN_TEXT), True)


def test_stale_rules_count_only_when_removed(plan: dict[str, Any]) -> None:
    probe = matching_probe(plan, "lab-80")
    _stale_rule(probe)
    assert ufw_drift(probe, plan["hosts"]["lab-80"]["firewall"], "ray_cluster", "low", False) == []


def test_a_project_the_plan_dropped_differs_while_its_file_is_there(plan: dict[str, Any]) -> None:
    probe = matching_probe(plan, "lab-82")
    probe["deployed"]["/opt/ray-cluster/head/compose.yaml"] = "name: ray-head\n"
    assert compose_drift(probe, plan, "lab-82", "head", FINGERPRINT, sha256_text(TOKEN_TEXT)) == [
        "/opt/ray-cluster/head/compose.yaml: the plan has no head project here any more"
    ]


def test_a_new_token_or_plan_shows_on_every_container(plan: dict[str, Any], lab_hosts: dict[str, dict[str, Any]]) -> None:
    probe = matching_probe(plan, "lab-80")
    new_token = compose_drift(probe, plan, "lab-80", "workers", "cd" * 16, sha256_text("other\n"))
    assert sum("created from another spec" in line for line in new_token) == 4
    assert any("auth_token: content differs" in line for line in new_token)
    lab_hosts["lab-80"]["ray_worker_spec"]["cpus"] = 1.0
    bigger = build_plan(["lab-84"], list(lab_hosts), lab_hosts)
    changed = compose_drift(probe, bigger, "lab-80", "workers", FINGERPRINT, sha256_text(TOKEN_TEXT))
    assert "/opt/ray-cluster/workers/compose.yaml: differs from the plan" in changed
    assert sum("created from another spec" in line for line in changed) == 4


def test_the_recreated_containers_are_the_running_ones_from_another_spec(
    plan: dict[str, Any], lab_hosts: dict[str, dict[str, Any]]
) -> None:
    probe = matching_probe(plan, "lab-80")
    workers = [n["name"] for n in plan["hosts"]["lab-80"]["nodes"] if n["role"] == "worker"]
    assert len(workers) == 4
    assert recreated_containers(probe, plan, "lab-80", "workers", FINGERPRINT) == []
    # A new token: every worker; a worker already stopped or gone is not "running from another spec".
    _container_state(workers[1], Running=False, Status="exited")(probe)
    _drop_container(workers[2])(probe)
    assert recreated_containers(probe, plan, "lab-80", "workers", "cd" * 16) == [workers[0], workers[3]]
    # One worker's own spec: that worker only; an unhealthy one from the planned spec is not recreated.
    probe = matching_probe(plan, "lab-80")
    _container_label(workers[2], SPEC_LABEL, "0" * 16)(probe)
    _container_state(workers[0], Health={"Status": "unhealthy"})(probe)
    assert recreated_containers(probe, plan, "lab-80", "workers", FINGERPRINT) == [workers[2]]
    # A worker the plan no longer has is removed, not recreated; the head's project is judged on its own.
    lab_hosts["lab-80"]["ray_worker_count"] = 3
    smaller = build_plan(["lab-84"], list(lab_hosts), lab_hosts)
    assert recreated_containers(matching_probe(plan, "lab-80"), smaller, "lab-80", "workers", FINGERPRINT) == []
    head = matching_probe(plan, "lab-84")
    assert recreated_containers(head, plan, "lab-84", "head", "cd" * 16) == ["ray-head"]
    assert recreated_containers({}, plan, "lab-84", "head", FINGERPRINT) == []


def test_files_to_write_are_the_ones_the_read_saw_otherwise() -> None:
    files = {"/c/a.yml": "a\n", "/c/b.yml": "b\n", "/c/c.yml": "c\n", "/c/d.yml": "d\n", "/c/e.yml": "e\n"}
    stats = {
        "/c/a.yml": {**_stat("file", "0640", "a\n"), "group": "65534"},  # as written: left alone
        "/c/b.yml": {**_stat("file", "0640", "other\n"), "group": "65534"},  # another content
        "/c/c.yml": {**_stat("file", "0644", "c\n"), "group": "65534"},  # another mode
        "/c/d.yml": _stat("file", "0640", "d\n"),  # another group (root)
        # e.yml: not read (missing)
    }
    assert list(files_to_write({"stats": stats}, files, "0640", "65534")) == ["/c/b.yml", "/c/c.yml", "/c/d.yml", "/c/e.yml"]
    # Without a read of the host: every file.
    assert files_to_write({}, files, "0640", "65534") == files
    assert files_to_write({"stats": None}, files, "0640") == files


def test_a_read_that_did_not_happen_never_matches(plan: dict[str, Any]) -> None:
    assert judge_all({}, plan, "lab-80")
    assert docker_drift({}, PACKAGES, DAEMON_JSON, "25.0", "2.24.0", "/etc/docker/daemon.json")
    assert compose_drift({"deployed": {}}, plan, "lab-80", "workers", FINGERPRINT, sha256_text(TOKEN_TEXT))


# The ufw role judges what UFW prints (`ufw show added`, `ufw status verbose`) with the same function.
PRINTED = [
    ("unreadable", _set(("ufw", "added"), None), "could not be read"),
    (
        "rule-missing",
        lambda ufw: ufw.update(added="\n".join(ufw["added"].splitlines()[:1] + ufw["added"].splitlines()[2:])),
        "missing",
    ),
    ("stale-rule", lambda ufw: ufw.update(added=ufw["added"] + _rules_text([STALE]).splitlines()[1] + "\n"), "no longer has"),
    ("inactive", lambda ufw: ufw.update(status="Status: inactive\n"), "inactive"),
    ("logging", lambda ufw: ufw.update(status=UFW_STATUS.replace("on (low)", "on (medium)")), "logging is medium"),
    ("policy", lambda ufw: ufw.update(status=UFW_STATUS.replace("deny (in", "allow (in")), "default incoming"),
]


@pytest.mark.parametrize(("change", "expected"), [case[1:] for case in PRINTED], ids=[case[0] for case in PRINTED])
def test_each_ufw_difference_is_named_from_what_ufw_prints(plan: dict[str, Any], change: Any, expected: str) -> None:
    firewall = plan["hosts"]["lab-80"]["firewall"]
    probe = {"ufw": {"added": _rules_text(firewall), "status": UFW_STATUS}}
    assert ufw_drift(probe, firewall, "ray_cluster", "low", True) == []
    if expected == "could not be read":
        change(probe)
    else:
        change(probe["ufw"])
    assert any(expected in line for line in ufw_drift(probe, firewall, "ray_cluster", "low", True))
