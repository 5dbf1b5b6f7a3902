# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the planner's gate for bad input (plugins/module_utils/_inputs.py).

Each refusal is checked through ``build_plan`` on the seed topology (conftest's ``lab_hosts``),
with its exact message once, so a reworded message is a conscious change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from planner_cases import GIB, HEAD, KNOWN, REPO_ROOT, ROLES_DIR, WORKERS, Hosts, cluster, plan, refusal

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    AUTH_TOKEN_MIN_LENGTH,
    MIB,
    NOT_PLAN_INPUTS,
    PLAYBOOK_VARIABLES,
    PREFIXES,
    PlanError,
    auth_token_of,
    check_auth_token,
    known_variables,
    parse_size,
    parse_source,
    parse_version,
    plain,
    role_variables,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import RAY_PREVIOUS_VERSION
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import CLUSTER_DEFAULTS, PLANNER_VARIABLES

TOKEN = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)


# --------------------------------------------------------------------------- unknown variables

# (id, host, variable set there, the name the message suggests or None)
UNKNOWN = [
    ("host-variable-typo", "lab-82", "ray_worker_cont", "ray_worker_count"),
    ("cluster-variable-typo", "lab-80", "ray_cluster_nmae", "ray_cluster_name"),
    ("role-variable-typo", "lab-81", "ray_image_methd", "ray_image_method"),
    ("extra-var-typo", HEAD, "ray_teardown_remove_image", "ray_teardown_remove_images"),
    ("docker-engine-typo", "lab-80", "docker_engine_sorce", "docker_engine_source"),
    ("cluster-plan-typo", HEAD, "cluster_plan_head_gruop", "cluster_plan_head_group"),
    ("nothing-close", "lab-81", "ray_zzz", None),
]


@pytest.mark.parametrize(("host", "name", "nearest"), [c[1:] for c in UNKNOWN], ids=[c[0] for c in UNKNOWN])
def test_unknown_variable_is_refused_with_the_nearest_name(lab_hosts: Hosts, host: str, name: str, nearest: str | None) -> None:
    lab_hosts[host][name] = "s3cr3t-looking-value"
    error = refusal(lab_hosts)
    assert (error.host, error.variable, error.value) == (host, name, None)
    hint = f"; did you mean {nearest}?" if nearest else " (no role or playbook of this collection reads it)"
    assert str(error) == f"host {host}: {name}: unknown variable{hint} (value not shown)"
    assert "s3cr3t" not in str(error)


def test_unknown_variable_message() -> None:
    hosts = {
        HEAD: {"ray_node_ip": "10.0.0.84", "ray_worker_count": 0},
        "lab-82": {"ray_node_ip": "10.0.0.82", "ray_worker_cont": 2},
    }
    with pytest.raises(PlanError) as exc:
        build_plan([HEAD], ["lab-82"], hosts, known=KNOWN)
    assert str(exc.value) == "host lab-82: ray_worker_cont: unknown variable; did you mean ray_worker_count? (value not shown)"


# (id, variable set on every host) - known names of every kind are accepted
KNOWN_NAMES = [
    ("role-option", "ray_image_method"),
    ("role-option-of-another-entry-point", "ray_verify_smoke_object_mb"),
    ("docker-engine", "docker_engine_source"),
    ("ufw", "ufw_logging"),
    ("cluster-plan", "cluster_plan_cluster_group"),
    *[(f"extra-var-{name}", name) for name in PLAYBOOK_VARIABLES],
    ("unrelated-prefix", "lab_subnet"),
    ("another-ufw-role", "ufw_rules"),
    ("private", "_ray_verify_nodes"),
    ("registered", "__ray_compose_up"),
]


@pytest.mark.parametrize("name", [c[1] for c in KNOWN_NAMES], ids=[c[0] for c in KNOWN_NAMES])
def test_known_names_are_accepted(lab_hosts: Hosts, name: str) -> None:
    cluster(**{name: None})(lab_hosts)
    assert plan(lab_hosts)["cluster"]["expected_node_count"] == 11


@pytest.mark.parametrize("name", sorted(NOT_PLAN_INPUTS), ids=sorted(NOT_PLAN_INPUTS))
def test_facts_and_the_token_are_not_plan_inputs(lab_hosts: Hosts, name: str) -> None:
    lab_hosts["lab-80"][name] = TOKEN
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == ("lab-80", name)
    assert str(error) == f"host lab-80: {name}: not an input of the plan: leave it out of the planner's data (value not shown)"


def test_without_roles_dir_only_the_planner_inputs_are_known(lab_hosts: Hosts) -> None:
    # The module's own path (no action plugin) cannot read the roles: a role option is unknown there.
    lab_hosts["lab-80"]["ray_image_method"] = "pull"
    with pytest.raises(PlanError, match="ray_image_method: unknown variable"):
        build_plan([HEAD], WORKERS, lab_hosts)


def test_role_variables_reads_every_entry_point() -> None:
    names = role_variables(ROLES_DIR)
    assert {"ray_image_method", "ufw_logging", "docker_engine_source", "cluster_plan_cluster_group"} <= names
    assert {"ray_compose_auth_token", "ray_verify_smoke_object_mb", "ray_worker_wait_timeout"} <= names
    assert {"ray_cluster_version", "ray_worker_count", "ray_head_spec"} <= names  # cluster_plan lists the planner's inputs
    assert "cpus" not in names  # node spec keys are sub-options, not variables


def test_role_variables_without_specs_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no role argument specs under"):
        role_variables(tmp_path)


def test_known_variables() -> None:
    assert set(CLUSTER_DEFAULTS) <= KNOWN
    assert set(PLAYBOOK_VARIABLES) <= KNOWN
    assert NOT_PLAN_INPUTS <= KNOWN
    assert known_variables(PLANNER_VARIABLES) == PLANNER_VARIABLES | NOT_PLAN_INPUTS | set(PLAYBOOK_VARIABLES)


# Every collection-prefixed name the YAML uses as a variable must be known, so that the list of
# playbook extra vars (and the roles' specs) stays in step with the playbooks and roles.
YAML_FILES = sorted(
    {
        *REPO_ROOT.glob("playbooks/*.yml"),
        REPO_ROOT / "site.yml",
        *REPO_ROOT.glob("roles/**/*.yml"),
        *REPO_ROOT.glob("molecule/**/*.yml"),
        *REPO_ROOT.glob("inventories/**/*.yml"),
    }
)
# Not preceded by a word character (registered __* and private _* names), a dot (FQCNs such as
# wizardsofts.ray_cluster.ray_image, attributes) or a path character.
_NAME = re.compile(r"(?<![\w./-])(?:" + "|".join(p.rstrip("_") for p in PREFIXES) + r")_[a-z0-9_]*[a-z0-9]")
# Names in the YAML that are not variables: roles (also their tags) and inventory groups.
NOT_VARIABLES = {p.name for p in ROLES_DIR.iterdir() if p.is_dir()} | {"ray_cluster", "ray_head", "ray_workers"}


def test_yaml_files_are_found() -> None:
    assert REPO_ROOT / "playbooks" / "teardown.yml" in YAML_FILES
    assert len(YAML_FILES) > 40


def test_every_variable_the_yaml_uses_is_known() -> None:
    unknown: dict[str, list[str]] = {}
    for path in YAML_FILES:
        for name in set(_NAME.findall(path.read_text(encoding="utf-8"))) - NOT_VARIABLES - KNOWN:
            unknown.setdefault(name, []).append(str(path.relative_to(REPO_ROOT)))
    assert not unknown, f"names the collection does not know (add extra vars to PLAYBOOK_VARIABLES): {unknown}"


def test_playbook_variables_are_all_used() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in YAML_FILES)
    assert [name for name in PLAYBOOK_VARIABLES if name not in text] == []


# --------------------------------------------------------------------------- groups and worker counts


def test_worker_without_worker_count_is_refused(lab_hosts: Hosts) -> None:
    del lab_hosts["lab-82"]["ray_worker_count"]
    error = refusal(lab_hosts)
    assert (error.host, error.variable) == ("lab-82", "ray_worker_count")
    assert str(error) == (
        "host lab-82: ray_worker_count: the host is in the worker group but does not set how many workers it runs; "
        "set ray_worker_count on it (0 for none) (not set)"
    )


# (id, worker count of lab-82, accepted)
WORKER_COUNTS = [("zero", 0, True), ("none", None, False), ("string-zero", "0", True), ("one", 1, True)]


@pytest.mark.parametrize(("count", "accepted"), [c[1:] for c in WORKER_COUNTS], ids=[c[0] for c in WORKER_COUNTS])
def test_worker_count_must_be_explicit(lab_hosts: Hosts, count: Any, accepted: bool) -> None:
    lab_hosts["lab-82"]["ray_worker_count"] = count
    if accepted:
        assert len(plan(lab_hosts)["hosts"]["lab-82"]["nodes"]) == int(count)
    else:
        assert refusal(lab_hosts).variable == "ray_worker_count"


def test_head_only_host_needs_no_worker_count(lab_hosts: Hosts) -> None:
    del lab_hosts[HEAD]["ray_worker_count"]
    result = plan(lab_hosts, workers=["lab-80", "lab-81", "lab-82"])
    assert [n["role"] for n in result["hosts"][HEAD]["nodes"]] == ["head"]


# (id, cluster group members, stray host named or None)
MEMBERS = [
    ("same-hosts", WORKERS, None),
    ("no-cluster-group", None, None),
    ("fewer-hosts", ["lab-84", "lab-80"], None),
    ("one-stray", [*WORKERS, "lab-85"], "lab-85"),
    ("two-strays", ["lab-86", *WORKERS, "lab-85"], "lab-86"),
]


@pytest.mark.parametrize(("cluster_hosts", "stray"), [c[1:] for c in MEMBERS], ids=[c[0] for c in MEMBERS])
def test_cluster_host_outside_head_and_workers(lab_hosts: Hosts, cluster_hosts: list[str] | None, stray: str | None) -> None:
    if stray is None:
        assert plan(lab_hosts, cluster_hosts=cluster_hosts)["cluster"]["hosts"] == WORKERS
        return
    error = refusal(lab_hosts, cluster_hosts=cluster_hosts)
    assert (error.host, error.variable) == (stray, "groups")
    assert str(error).startswith(f"host {stray}: groups: in group ray_cluster but in neither ray_head nor ray_workers")


def test_cluster_host_outside_head_and_workers_message(lab_hosts: Hosts) -> None:
    assert str(refusal(lab_hosts, cluster_hosts=[*WORKERS, "lab-85"])) == (
        "host lab-85: groups: in group ray_cluster but in neither ray_head nor ray_workers, so the plan has "
        "nothing for it; add it to one of them or take it out of ray_cluster (got ['lab-85'])"
    )


def test_cluster_host_outside_names_the_inventory_groups(lab_hosts: Hosts) -> None:
    with pytest.raises(PlanError) as exc:
        build_plan(
            [HEAD], WORKERS, lab_hosts, cluster_hosts=[*WORKERS, "lab-85"], known=KNOWN, group_names=("all_ray", "heads", "nodes")
        )
    assert "in group all_ray but in neither heads nor nodes" in str(exc.value)


# --------------------------------------------------------------------------- sizes

SIZES_ACCEPTED = [
    ("6G", 6 * GIB),
    ("6g", 6 * GIB),
    ("512m", 512 * MIB),
    ("512M", 512 * MIB),
    ("2000000000", 2_000_000_000),
    ("1.5GiB", 1610612736),
    ("1.5gib", 1610612736),
    ("2gb", 2 * GIB),
    ("2GB", 2 * GIB),
    ("100k", 102400),
    ("100KiB", 102400),
    ("1024b", 1024),
    ("1024B", 1024),
    ("1t", 1024**4),
    ("1p", 1024**5),
    ("0.5k", 512),
    (" 6G ", 6 * GIB),
    ("6 G", 6 * GIB),
    ("0", 0),
    (0, 0),
    (1, 1),
    (2_000_000_000, 2_000_000_000),
    (1536.0, 1536),
    (1.9, 1),
]


@pytest.mark.parametrize(("value", "expected"), SIZES_ACCEPTED, ids=[repr(v) for v, _ in SIZES_ACCEPTED])
def test_parse_size_accepts(value: Any, expected: int) -> None:
    result = parse_size(value)
    assert result == expected
    assert type(result) is int


SIZES_REJECTED = [
    "6X",
    -1,
    "-1",
    "",
    "   ",
    "g",
    "gb",
    True,
    False,
    float("nan"),
    "nan",
    float("inf"),
    -1.5,
    None,
    "1e9",
    "1.2.3g",
    "6GB/s",
    "6Gi",
    [6],
]


@pytest.mark.parametrize("value", SIZES_REJECTED, ids=[repr(v) for v in SIZES_REJECTED])
def test_parse_size_rejects(value: Any) -> None:
    with pytest.raises(PlanError) as exc:
        parse_size(value, "srv1", "ray_worker_spec.memory")
    message = str(exc.value)
    assert message.startswith("host srv1: ray_worker_spec.memory: ")
    assert repr(value) in message
    assert isinstance(exc.value, ValueError)
    assert (exc.value.host, exc.value.variable) == ("srv1", "ray_worker_spec.memory")


def test_plan_error_without_host_has_no_host_prefix() -> None:
    with pytest.raises(PlanError) as exc:
        parse_size("6X")
    assert str(exc.value) == "size: cannot parse it as a size (examples: 6G, 512m, 1.5GiB, 2000000000) (got '6X')"
    assert exc.value.host is None


# --------------------------------------------------------------------------- versions and sources

VERSIONS = [("2.60.0", (2, 60, 0)), ("2.52.0", (2, 52, 0)), ("10.0.12", (10, 0, 12))]


@pytest.mark.parametrize(("value", "expected"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_parse_version_accepts(value: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(value) == expected


BAD_VERSIONS = ["2.60", "v2.60.0", "latest", "2.60.0rc1", "", "2.x.0", None, 2.6]


@pytest.mark.parametrize("value", BAD_VERSIONS, ids=[repr(v) for v in BAD_VERSIONS])
def test_parse_version_rejects(value: Any) -> None:
    with pytest.raises(PlanError, match=r"ray_cluster_version: expected a Ray release such as 2\.60\.0") as exc:
        parse_version(value)
    assert repr(value) in str(exc.value)


SOURCES = [
    ("any", "any"),
    ("172.28.84.80", "172.28.84.80"),
    ("172.28.84.80/32", "172.28.84.80"),
    (" 172.28.84.80 ", "172.28.84.80"),
    ("172.28.84.0/24", "172.28.84.0/24"),
    ("172.28.84.7/24", "172.28.84.0/24"),
    ("2001:db8::1", "2001:db8::1"),
    ("2001:db8::1/128", "2001:db8::1"),
    ("2001:db8::/32", "2001:db8::/32"),
]


@pytest.mark.parametrize(("value", "expected"), SOURCES, ids=[v for v, _ in SOURCES])
def test_parse_source_normalises(value: str, expected: str) -> None:
    assert parse_source(value, None, "ray_cluster_allowed_sources") == expected


BAD_SOURCES = ["172.28.84.0/33", "172.28.84.300", "lab-80", "", "ANY", "10.0.0.0/8/8"]


@pytest.mark.parametrize("value", BAD_SOURCES, ids=[repr(v) for v in BAD_SOURCES])
def test_parse_source_rejects(value: str) -> None:
    with pytest.raises(PlanError) as exc:
        parse_source(value, "srv1", "ray_cluster_admin_sources")
    assert str(exc.value).startswith("host srv1: ray_cluster_admin_sources: ")
    assert repr(value) in str(exc.value)


# --------------------------------------------------------------------------- the token

GOOD = "0123456789abcdef" * 4  # like Ray's own: 64 hex characters


# (id, token on every host, problem named, or None for accepted)
TOKENS = [
    ("ray-like", GOOD, None),
    ("minimum-length", "x" * AUTH_TOKEN_MIN_LENGTH, None),
    ("symbols", "A-b_c.d~e+f/g=h!i@j#k$l%m^n&o*p(q)" + "r" * 4, None),
    ("too-short", "x" * (AUTH_TOKEN_MIN_LENGTH - 1), "shorter than 32 characters"),
    ("inner-space", GOOD[:20] + " " + GOOD[20:], "contains whitespace or a non-printable character"),
    ("trailing-newline", GOOD + "\n", "contains whitespace or a non-printable character"),
    ("tab", GOOD + "\t", "contains whitespace or a non-printable character"),
    ("control", GOOD + "\x07", "contains whitespace or a non-printable character"),
    ("non-ascii", GOOD + "é", "contains a non-ASCII character"),
    ("a-number", 12345678901234567890123456789012345, "expected a string"),
    ("a-list", [GOOD], "expected a string"),
]


@pytest.mark.parametrize(("token", "problem"), [c[1:] for c in TOKENS], ids=[c[0] for c in TOKENS])
def test_auth_token_rules(token: Any, problem: str | None) -> None:
    tokens = dict.fromkeys(WORKERS, ("ray_cluster_auth_token", token))
    if problem is None:
        check_auth_token(tokens, "token")
        return
    with pytest.raises(PlanError) as exc:
        check_auth_token(tokens, "token")
    assert (exc.value.host, exc.value.variable, exc.value.value) == (None, "ray_cluster_auth_token", None)
    assert str(exc.value).startswith(f"ray_cluster_auth_token: {problem}")
    assert str(exc.value).endswith("(value not shown)")
    for shown in (str(token), str(token).strip(), GOOD):
        assert shown not in str(exc.value)


def test_auth_token_whitespace_message() -> None:
    with pytest.raises(PlanError) as exc:
        check_auth_token({"a": ("ray_cluster_auth_token", GOOD + " ")}, "token")
    assert str(exc.value) == "ray_cluster_auth_token: contains whitespace or a non-printable character (value not shown)"


# (id, token per host (None: not set), message or None)
TOKEN_SPREADS = [
    ("nowhere", {"a": None, "b": None}, None),
    ("everywhere", {"a": GOOD, "b": GOOD}, None),
    ("differs", {"a": GOOD, "b": GOOD[::-1], "c": GOOD}, "it differs between a, c | b"),
    ("some-hosts", {"a": GOOD, "b": None, "c": None}, "it is not set on b, c"),
    ("both", {"a": GOOD, "b": GOOD[::-1], "c": None}, "it differs between a | b; it is not set on c"),
]


@pytest.mark.parametrize(("spread", "problem"), [c[1:] for c in TOKEN_SPREADS], ids=[c[0] for c in TOKEN_SPREADS])
def test_auth_token_same_on_every_host(spread: dict[str, str | None], problem: str | None) -> None:
    tokens = {h: None if v is None else ("ray_cluster_auth_token", v) for h, v in spread.items()}
    if problem is None:
        check_auth_token(tokens, "token")
        return
    with pytest.raises(PlanError) as exc:
        check_auth_token(tokens, "token")
    assert str(exc.value) == f"ray_cluster_auth_token: must be the same on every cluster host: {problem} (value not shown)"
    assert GOOD not in str(exc.value) and GOOD[::-1] not in str(exc.value)


def test_auth_token_not_checked_without_token_auth() -> None:
    check_auth_token({"a": ("ray_cluster_auth_token", "short"), "b": None}, "disabled")


# (id, host variables, token the role would use)
TOKEN_SOURCES = [
    ("unset", {}, None),
    ("cluster-token", {"ray_cluster_auth_token": GOOD}, ("ray_cluster_auth_token", GOOD)),
    ("empty", {"ray_cluster_auth_token": ""}, None),
    (
        "role-token-wins",
        {"ray_cluster_auth_token": GOOD, "ray_compose_auth_token": "y" * 40},
        ("ray_compose_auth_token", "y" * 40),
    ),
    ("role-token-empty-wins", {"ray_cluster_auth_token": GOOD, "ray_compose_auth_token": ""}, None),
]


@pytest.mark.parametrize(("hvars", "expected"), [c[1:] for c in TOKEN_SOURCES], ids=[c[0] for c in TOKEN_SOURCES])
def test_auth_token_of_follows_the_ray_compose_role(hvars: dict[str, Any], expected: Any) -> None:
    assert auth_token_of(hvars) == expected


# --------------------------------------------------------------------------- plain values


class TaggedStr(str):
    """Like Ansible's tagged and unsafe strings: a str subclass with its own repr."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"_AnsibleTaggedStr({str.__repr__(self)})"


class TaggedInt(int):
    def __repr__(self) -> str:
        return f"_AnsibleTaggedInt({int(self)})"


class TaggedDict(dict):
    def __repr__(self) -> str:
        return f"_AnsibleLazyTemplateDict({dict.__repr__(self)})"


class VaultEncryptedString:
    def __str__(self) -> str:
        return "the-secret"


PLAIN = [
    ("str", TaggedStr("two"), "two", "'two'"),
    ("int", TaggedInt(3), 3, "3"),
    ("bool", True, True, "True"),
    ("none", None, None, "None"),
    ("float", 0.5, 0.5, "0.5"),
    ("dict", TaggedDict({TaggedStr("cpus"): TaggedStr("two")}), {"cpus": "two"}, "{'cpus': 'two'}"),
    ("list", [TaggedStr("a"), TaggedInt(1)], ["a", 1], "['a', 1]"),
    ("tuple", (1, 2), [1, 2], "[1, 2]"),
    ("encrypted", VaultEncryptedString(), "<encrypted, not shown>", "'<encrypted, not shown>'"),
    ("other", Path("/x"), "/x", "'/x'"),
]


@pytest.mark.parametrize(("value", "expected", "text"), [c[1:] for c in PLAIN], ids=[c[0] for c in PLAIN])
def test_plain(value: Any, expected: Any, text: str) -> None:
    result = plain(value)
    assert result == expected
    assert repr(result) == text
    assert type(result) in (type(None), bool, int, float, str, list, dict)


def test_plan_error_shows_values_as_written(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"] = TaggedDict({**lab_hosts["lab-80"]["ray_worker_spec"], "cpus": TaggedStr("two")})
    error = refusal(lab_hosts)
    assert str(error) == "host lab-80: ray_worker_spec.cpus: expected a number (got 'two')"
    assert error.value == "two" and type(error.value) is str


def test_plan_error_with_ansible_tagged_values(lab_hosts: Hosts) -> None:
    datatag = pytest.importorskip("ansible._internal._datatag._tags")
    origin = datatag.Origin(path="/inventory/host_vars/lab-80.yml", line_num=3)
    lab_hosts["lab-80"]["ray_worker_spec"]["cpus"] = origin.tag("two")
    lab_hosts["lab-81"]["ray_cluster_version"] = origin.tag(RAY_PREVIOUS_VERSION)
    message = str(refusal(lab_hosts))
    assert f"lab-81='{RAY_PREVIOUS_VERSION}'" in message and "Tagged" not in message
    del lab_hosts["lab-81"]["ray_cluster_version"]
    assert str(refusal(lab_hosts)) == "host lab-80: ray_worker_spec.cpus: expected a number (got 'two')"
