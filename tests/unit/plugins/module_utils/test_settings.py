# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the cluster-wide variables and their table of rules (plugins/module_utils/_settings.py).

Each rule is checked through ``build_plan`` on the seed topology (conftest's ``lab_hosts``) and, where
a setting shows in the plan or the compose files, its effect there.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from planner_cases import (
    CUSTOM_TOKEN_FILE,
    FINGERPRINT,
    HEAD,
    KINDS,
    RELATIVE_TOKEN_FILE,
    ErrorCase,
    Hosts,
    build,
    cluster,
    environment,
    host_vars,
    mismatch_error,
    plan,
    refusal,
    refusal_test,
    setting_error,
)

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import RAY_PREVIOUS_VERSION, RAY_VERSION
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import (
    SOURCE_MIN_PREFIX_DEFAULT,
    cluster_settings,
    source_min_prefix,
    source_width_problem,
)

# --------------------------------------------------------------------------- refusals

# (id, mutation of the lab topology, host named in the error, variable, text of the value in the message)
SETTINGS_ERRORS: list[ErrorCase] = [
    # sources
    (
        "allowed-sources-bad-cidr",
        cluster(ray_cluster_allowed_sources=["172.28.84.0/33"]),
        None,
        "ray_cluster_allowed_sources",
        "'172.28.84.0/33'",
    ),
    (
        "admin-sources-bad-address",
        cluster(ray_cluster_admin_sources=["10.0.0.300"]),
        None,
        "ray_cluster_admin_sources",
        "'10.0.0.300'",
    ),
    ("ssh-sources-bad-network", cluster(ray_cluster_ssh_sources=["office"]), None, "ray_cluster_ssh_sources", "'office'"),
    setting_error("allowed-sources-any", "ray_cluster_allowed_sources", ["any"]),
    setting_error("admin-sources-any", "ray_cluster_admin_sources", ["10.0.0.0/8", "any"]),
    setting_error("allowed-sources-a-string", "ray_cluster_allowed_sources", "172.28.84.0/24"),
    # versions and cluster-wide settings
    mismatch_error("version-mismatch", "ray_cluster_version", RAY_PREVIOUS_VERSION),
    setting_error("version-short", "ray_cluster_version", "2.60"),
    setting_error("version-latest", "ray_cluster_version", "latest"),
    ("unknown-cluster-variable", host_vars("lab-82", ray_cluster_nmae="ray"), "lab-82", "ray_cluster_nmae", "(value not shown)"),
    (
        "token-auth-before-2.52",
        cluster(ray_cluster_auth_mode="token", ray_cluster_version="2.51.0"),
        None,
        "ray_cluster_auth_mode",
        "'token'",
    ),
    setting_error("bad-auth-mode", "ray_cluster_auth_mode", "password"),
    ("token-auth-before-2.52-by-default", cluster(ray_cluster_version="2.51.0"), None, "ray_cluster_auth_mode", "'token'"),
    setting_error("relative-auth-token-file", "ray_cluster_auth_token_file", RELATIVE_TOKEN_FILE),
    setting_error("empty-auth-token-file", "ray_cluster_auth_token_file", ""),
    mismatch_error("auth-token-file-mismatch", "ray_cluster_auth_token_file", CUSTOM_TOKEN_FILE),
    setting_error("bad-dashboard-bind", "ray_cluster_dashboard_bind", "public"),
    setting_error("bad-python-version", "ray_cluster_python_version", "3"),
    setting_error("bad-cluster-name", "ray_cluster_name", "my ray"),
    setting_error("bad-label-prefix", "ray_cluster_label_prefix", "-x"),
    setting_error("relative-compose-dir", "ray_cluster_compose_dir", "ray"),
    setting_error("port-out-of-range", "ray_cluster_gcs_port", 70000),
    setting_error("port-not-a-number", "ray_cluster_client_port", "ten"),
    setting_error("same-fixed-port-twice", "ray_cluster_dashboard_port", 6379),
    setting_error("worker-ports-per-node-zero", "ray_cluster_worker_ports_per_node", 0),
    setting_error("ephemeral-range-shape", "ray_cluster_ephemeral_port_range", [32768]),
    setting_error("reconnect-timeout-too-short", "ray_cluster_gcs_reconnect_timeout_s", 2),
    setting_error("bad-gcs-storage", "ray_cluster_gcs_storage", "etcd"),
    setting_error("relative-gcs-storage-dir", "ray_cluster_gcs_storage_dir", "gcs"),
    setting_error("gcs-storage-dir-with-a-space", "ray_cluster_gcs_storage_dir", "/var/lib/my store"),
    setting_error("token-file-with-a-colon", "ray_cluster_auth_token_file", "/etc/ray:x/token"),
    mismatch_error("gcs-storage-mismatch", "ray_cluster_gcs_storage", "none"),
    ("rocksdb-before-2.59-by-default", cluster(ray_cluster_version="2.58.0"), None, "ray_cluster_gcs_storage", "'rocksdb'"),
    setting_error("gcs-storage-unknown", "ray_cluster_gcs_storage", "etcd"),
    (
        "redis-without-token",
        cluster(ray_cluster_gcs_storage="redis", ray_cluster_auth_mode="disabled"),
        None,
        "ray_cluster_gcs_storage",
        "'redis'",
    ),
    (
        "redis-memory-too-small",
        cluster(ray_cluster_gcs_storage="redis", ray_cluster_gcs_redis_memory="32m"),
        None,
        "ray_cluster_gcs_redis_memory",
        "'32m'",
    ),
    setting_error("redis-memory-bad", "ray_cluster_gcs_redis_memory", "lots"),
    setting_error("redis-port-bad", "ray_cluster_gcs_redis_port", 70000),
    ("redis-port-is-gcs-port", cluster(ray_cluster_gcs_redis_port=6379), None, "ray_cluster_gcs_redis_port", "6379"),
    setting_error("log-max-files-zero", "ray_cluster_log_max_files", 0),
    setting_error("log-max-size-bad", "ray_cluster_log_max_size", "big"),
    # Ray's node logs
    setting_error("node-log-dir-relative", "ray_cluster_node_log_dir", "logs"),
    setting_error("node-log-dir-with-a-space", "ray_cluster_node_log_dir", "/var/log/my logs"),
    setting_error("node-log-file-size-bad", "ray_cluster_node_log_file_size", "big"),
    setting_error("node-log-file-size-too-small", "ray_cluster_node_log_file_size", "512k"),
    setting_error("node-log-file-size-one-byte-short", "ray_cluster_node_log_file_size", 2**20 - 1),
    setting_error("node-log-file-backups-zero", "ray_cluster_node_log_file_backups", 0),
    setting_error("node-log-budget-bad", "ray_cluster_node_log_budget", "lots"),
    setting_error("node-log-budget-too-small", "ray_cluster_node_log_budget", "100m"),
    (
        "node-log-budget-too-small-for-the-rotation",
        cluster(ray_cluster_node_log_file_size="256m", ray_cluster_node_log_file_backups=4),
        None,
        "ray_cluster_node_log_budget",
        "'2g'",
    ),
    setting_error("oversubscription-not-bool", "ray_cluster_allow_oversubscription", "maybe"),
    setting_error("stagger-not-bool", "ray_cluster_stagger_worker_start", 1),
    setting_error("confirm-not-bool", "ray_cluster_confirm_removal", "sure"),
]

SWITCHES = ["ray_cluster_allow_oversubscription", "ray_cluster_stagger_worker_start", "ray_cluster_confirm_removal"]


@pytest.mark.parametrize("variable", SWITCHES)
@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("true", True), ("Yes", True), (False, False), ("false", False), ("NO", False)]
)
def test_every_switch_takes_the_words_extra_vars_pass(lab_hosts: Hosts, variable: str, value: Any, expected: bool) -> None:
    """-e variable=true reaches the planner as the string "true": every switch reads it alike."""
    cluster(**{variable: value})(lab_hosts)
    assert cluster_settings(lab_hosts)[variable] is expected


test_setting_errors_name_host_variable_and_value = refusal_test(SETTINGS_ERRORS)


def test_version_mismatch_names_every_host(lab_hosts: Hosts) -> None:
    lab_hosts["lab-81"]["ray_cluster_version"] = RAY_PREVIOUS_VERSION
    with pytest.raises(PlanError, match="must be the same on every cluster host") as exc:
        build(lab_hosts)
    for name in (
        f"lab-84='{RAY_VERSION}'",
        f"lab-80='{RAY_VERSION}'",
        f"lab-81='{RAY_PREVIOUS_VERSION}'",
        f"lab-82='{RAY_VERSION}'",
    ):
        assert name in str(exc.value)


def test_token_auth_message_names_the_version(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_auth_mode="token", ray_cluster_version="2.51.0")(lab_hosts)
    with pytest.raises(PlanError, match=r"needs Ray >= 2\.52\.0, ray_cluster_version is 2\.51\.0"):
        build(lab_hosts)


@pytest.mark.parametrize(
    ("value", "problem"),
    [("gcs", "expected an absolute path"), ("/var/lib/my store", "letters, digits and _ . / - only")],
    ids=["relative", "space"],
)
def test_mount_path_message_says_what_is_wrong(lab_hosts: Hosts, value: str, problem: str) -> None:
    cluster(ray_cluster_gcs_storage_dir=value)(lab_hosts)
    with pytest.raises(PlanError, match=re.escape(problem)):
        build(lab_hosts)


# --------------------------------------------------------------------------- Ray's node logs

NODE_LOG_KEYS = ("dir", "file_size", "file_backups", "budget", "prune_limit", "prune_interval_s")


def node_logs(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan's node logs: the keys the settings give."""
    return {key: plan["cluster"]["node_logs"][key] for key in NODE_LOG_KEYS}


def test_node_log_defaults_are_accepted(lab_hosts: Hosts) -> None:
    settings = cluster_settings(lab_hosts)
    assert {key: value for key, value in settings.items() if key.startswith("ray_cluster_node_log_")} == {
        "ray_cluster_node_log_dir": "/var/log/ray-cluster",
        "ray_cluster_node_log_file_size": "64m",
        "ray_cluster_node_log_file_backups": 3,
        "ray_cluster_node_log_budget": "2g",
    }
    built = plan(lab_hosts)
    assert built["warnings"] == []
    assert node_logs(built) == {
        "dir": "/var/log/ray-cluster/ray",
        "file_size": 64 * 2**20,
        "file_backups": 3,
        "budget": 2 * 2**30,
        "prune_limit": 2 * 2**30 - 4 * 64 * 2**20,  # the budget less one file with its 3 backups
        "prune_interval_s": 10,
    }


# (id, settings, the plan's node logs: file size, backups, budget) - the budget just holds 2 x size x (backups + 1)
NODE_LOG_ACCEPTED = [
    ("smallest-file", {"ray_cluster_node_log_file_size": "1m", "ray_cluster_node_log_budget": "8m"}, (2**20, 3, 8 * 2**20)),
    ("bytes", {"ray_cluster_node_log_file_size": 2**20, "ray_cluster_node_log_budget": 8 * 2**20}, (2**20, 3, 8 * 2**20)),
    ("budget-exactly-two-rotations", {"ray_cluster_node_log_budget": "512m"}, (64 * 2**20, 3, 512 * 2**20)),
    (
        "one-backup",
        {
            "ray_cluster_node_log_file_backups": "1",
            "ray_cluster_node_log_file_size": "100m",
            "ray_cluster_node_log_budget": "400m",
        },
        (100 * 2**20, 1, 400 * 2**20),
    ),
]


@pytest.mark.parametrize(("values", "expected"), [c[1:] for c in NODE_LOG_ACCEPTED], ids=[c[0] for c in NODE_LOG_ACCEPTED])
def test_node_log_sizes_accepted(lab_hosts: Hosts, values: dict[str, Any], expected: tuple[int, int, int]) -> None:
    cluster(**values)(lab_hosts)
    logs = node_logs(build(lab_hosts))
    file_size, backups, budget = expected
    assert (logs["file_size"], logs["file_backups"], logs["budget"]) == expected
    # Pruned back to the budget less one file with its backups: room for another rotation, at least half the budget.
    assert logs["prune_limit"] == budget - file_size * (backups + 1) >= budget // 2


def test_node_log_file_size_message(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_node_log_file_size="512k")(lab_hosts)
    assert str(refusal(lab_hosts)) == "ray_cluster_node_log_file_size: expected at least 1m (got '512k')"


def test_node_log_budget_message_names_the_variable_and_value(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_node_log_budget="511m")(lab_hosts)
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == (None, "ray_cluster_node_log_budget")
    assert str(error) == (
        "ray_cluster_node_log_budget: a node's log budget must hold at least 2 files with their backups (2 x 64m x 4): "
        "raise it, or lower ray_cluster_node_log_file_size or ray_cluster_node_log_file_backups (got '511m')"
    )


def test_node_log_settings_must_match_on_every_host(lab_hosts: Hosts) -> None:
    lab_hosts["lab-81"]["ray_cluster_node_log_budget"] = "4g"
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == (None, "ray_cluster_node_log_budget")
    assert "lab-81='4g'" in str(error)


def test_node_log_dir_holds_one_directory_per_cluster_and_node(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_node_log_dir="/srv/logs/", ray_cluster_name="prod")(lab_hosts)
    built = build(lab_hosts)
    assert built["cluster"]["node_logs"]["dir"] == "/srv/logs/prod"
    for hplan in built["hosts"].values():
        assert hplan["node_log_dirs"] == {node["name"]: f"/srv/logs/prod/{node['name']}" for node in hplan["nodes"]}


# --------------------------------------------------------------------------- accepted values


def test_cluster_settings_defaults_and_image() -> None:
    settings = cluster_settings({"a": {}, "b": {"ray_cluster_version": RAY_VERSION}})
    assert settings["ray_cluster_image"] == f"wizardsofts/ray:{RAY_VERSION}-py311"
    assert settings["ray_cluster_ephemeral_port_range"] == [32768, 60999]
    assert settings["ray_cluster_port_base"] == 20000
    settings = cluster_settings({"a": {"ray_cluster_python_version": "3.12", "ray_cluster_port_base": "21000"}})
    assert settings["ray_cluster_image"] == f"wizardsofts/ray:{RAY_VERSION}-py312"
    assert settings["ray_cluster_port_base"] == 21000


def test_token_auth_from_2_52(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_auth_mode="token", ray_cluster_version="2.52.0", ray_cluster_gcs_storage="none")(lab_hosts)
    plan = build(lab_hosts)
    assert plan["cluster"]["auth_mode"] == "token"
    assert plan["cluster"]["image"] == "wizardsofts/ray:2.52.0-py311"
    for hplan in plan["hosts"].values():
        for node in hplan["nodes"]:
            assert environment(plan, node)["RAY_AUTH_MODE"] == "token"


# docker compose project names: lower-case letters, digits, '-' and '_', starting with a letter or digit.
CLUSTER_NAMES = [
    ("upper-case", "Ray", False),
    ("dot", "ray.lab", False),
    ("leading-dash", "-ray", False),
    ("leading-underscore", "_ray", False),
    ("space", "my ray", False),
    ("one-char", "r", True),
    ("digits-dash-underscore", "0ray_lab-2", True),
]


@pytest.mark.parametrize(("name", "valid"), [c[1:] for c in CLUSTER_NAMES], ids=[c[0] for c in CLUSTER_NAMES])
def test_cluster_name_gives_a_valid_compose_project_name(lab_hosts: Hosts, name: str, valid: bool) -> None:
    cluster(ray_cluster_name=name)(lab_hosts)
    if not valid:
        with pytest.raises(PlanError) as exc:
            build(lab_hosts)
        assert exc.value.variable == "ray_cluster_name"
        return
    plan = build(lab_hosts)
    for kind in KINDS:
        project = plan["hosts"][HEAD]["projects"][kind]["name"]
        assert project == f"{name}-{kind}"
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", project)
        assert yaml.safe_load(compose_content(plan, HEAD, kind, FINGERPRINT))["name"] == project


# --------------------------------------------------------------------------- firewall sources

# (id, allowed sources, admin sources, variable refused or None, words of the message)
SOURCES = [
    ("lab-subnet", ["172.28.84.0/24"], [], None, ""),
    ("slash-8", ["172.0.0.0/8"], [], None, ""),
    ("ipv6-slash-32", ["172.28.84.0/24", "2001:db8::/32"], ["2001:db8::/48"], None, ""),
    ("ipv4-whole", ["0.0.0.0/0"], [], "ray_cluster_allowed_sources", "0.0.0.0/0 is the whole IPv4 address space"),
    ("ipv4-half", ["0.0.0.0/1"], [], "ray_cluster_allowed_sources", "0.0.0.0/1 is wider than /8"),
    ("ipv4-slash-7", ["172.28.84.0/24"], ["10.0.0.0/7"], "ray_cluster_admin_sources", "10.0.0.0/7 is wider than /8"),
    ("ipv6-whole", ["172.28.84.0/24"], ["::/0"], "ray_cluster_admin_sources", "::/0 is the whole IPv6 address space"),
    ("ipv6-slash-16", ["172.28.84.0/24"], ["2001::/16"], "ray_cluster_admin_sources", "2001::/16 is wider than /32"),
    ("ipv4-mapped-whole", ["172.28.84.0/24"], ["::ffff:0:0/96"], "ray_cluster_admin_sources", "the whole IPv4 address space"),
    ("ipv4-mapped-wide", ["172.28.84.0/24"], ["::ffff:0:0/100"], "ray_cluster_admin_sources", "wider than /8"),
    ("any-admin", ["172.28.84.0/24"], ["any"], "ray_cluster_admin_sources", "'any' would open Ray's ports to everyone"),
]


@pytest.mark.parametrize(("allowed", "admin", "variable", "words"), [c[1:] for c in SOURCES], ids=[c[0] for c in SOURCES])
def test_ray_sources_no_wider_than_the_minimum_prefix(
    lab_hosts: Hosts, allowed: list[str], admin: list[str], variable: str | None, words: str
) -> None:
    cluster(ray_cluster_allowed_sources=allowed, ray_cluster_admin_sources=admin)(lab_hosts)
    if variable is None:
        assert plan(lab_hosts)["cluster"]["admin_sources"] == admin
        return
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == (None, variable)
    assert words in str(error)


def test_whole_address_space_message(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_allowed_sources=["172.28.84.0/24", "0.0.0.0/0"])(lab_hosts)
    assert str(refusal(lab_hosts)) == (
        "ray_cluster_allowed_sources: 0.0.0.0/0 is the whole IPv4 address space: it would open Ray's ports to everyone; "
        "list your networks (prefix /8 or longer, ray_cluster_source_min_prefix) (got ['172.28.84.0/24', '0.0.0.0/0'])"
    )


def test_wider_than_the_minimum_message(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_admin_sources=["10.0.0.0/12"], ray_cluster_source_min_prefix={"ipv4": 16})(lab_hosts)
    assert str(refusal(lab_hosts)) == (
        "ray_cluster_admin_sources: 10.0.0.0/12 is wider than /16: it would open Ray's ports to far more hosts than a "
        "cluster has; list your networks (prefix /16 or longer, ray_cluster_source_min_prefix) (got ['10.0.0.0/12'])"
    )


# (id, ssh sources, accepted)
SSH_SOURCES = [
    ("any", ["any"], True),
    ("everyone-v4", ["0.0.0.0/0"], True),
    ("office", ["192.0.2.0/24"], True),
    ("empty", [], False),
]


@pytest.mark.parametrize(("sources", "accepted"), [c[1:] for c in SSH_SOURCES], ids=[c[0] for c in SSH_SOURCES])
def test_ssh_sources(lab_hosts: Hosts, sources: list[str], accepted: bool) -> None:
    cluster(ray_cluster_ssh_sources=sources)(lab_hosts)
    if accepted:
        rules = plan(lab_hosts)["hosts"]["lab-80"]["firewall"]
        assert [r["src"] for r in rules if r["comment"] == "ray_cluster ssh"] == sources
        return
    assert str(refusal(lab_hosts)) == (
        "ray_cluster_ssh_sources: SSH would be closed by UFW's default deny: you would lock yourself out; "
        "list the networks you connect from, or keep the default [any] (got [])"
    )


# (id, value, expected or the variable refused)
MIN_PREFIXES = [
    ("default", SOURCE_MIN_PREFIX_DEFAULT, {"ipv4": 8, "ipv6": 32}),
    ("ipv4-only", {"ipv4": 16}, {"ipv4": 16, "ipv6": 32}),
    ("strings", {"ipv4": "24", "ipv6": "64"}, {"ipv4": 24, "ipv6": 64}),
    ("empty", {}, {"ipv4": 8, "ipv6": 32}),
    ("extremes", {"ipv4": 1, "ipv6": 128}, {"ipv4": 1, "ipv6": 128}),
    ("a-list", [8, 32], "ray_cluster_source_min_prefix"),
    ("a-number", 8, "ray_cluster_source_min_prefix"),
    ("unknown-family", {"ipv5": 8}, "ray_cluster_source_min_prefix"),
    ("ipv4-zero", {"ipv4": 0}, "ray_cluster_source_min_prefix.ipv4"),
    ("ipv4-33", {"ipv4": 33}, "ray_cluster_source_min_prefix.ipv4"),
    ("ipv6-129", {"ipv6": 129}, "ray_cluster_source_min_prefix.ipv6"),
    ("ipv4-bool", {"ipv4": True}, "ray_cluster_source_min_prefix.ipv4"),
    ("ipv4-word", {"ipv4": "eight"}, "ray_cluster_source_min_prefix.ipv4"),
    ("ipv4-negative", {"ipv4": -8}, "ray_cluster_source_min_prefix.ipv4"),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in MIN_PREFIXES], ids=[c[0] for c in MIN_PREFIXES])
def test_source_min_prefix_shape(value: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        assert source_min_prefix(value) == expected
        return
    with pytest.raises(PlanError) as exc:
        source_min_prefix(value)
    assert exc.value.variable == expected
    assert repr(value if expected.endswith("prefix") else next(iter(value.values()))) in str(exc.value)


def test_source_min_prefix_must_match_on_every_host(lab_hosts: Hosts) -> None:
    lab_hosts["lab-81"]["ray_cluster_source_min_prefix"] = {"ipv4": 16}
    assert refusal(lab_hosts).variable == "ray_cluster_source_min_prefix"


def test_source_width_problem_leaves_any_to_the_any_check() -> None:
    assert source_width_problem("any", SOURCE_MIN_PREFIX_DEFAULT) is None
    assert source_width_problem("10.1.2.3", SOURCE_MIN_PREFIX_DEFAULT) is None
