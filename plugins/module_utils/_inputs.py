# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The planner's gate for bad input: variable names, groups, firewall sources, memory, the token.

Private to the collection (the leading underscore): other collections must not import it; it may
change in any release. Pure functions, no Ansible imports; ``_plan`` calls them and re-exports
:class:`PlanError`. Every refusal is a :class:`PlanError` naming the host (when per host), the
variable and the value seen, in plain words; a secret's value is never shown.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

MIB = 1024 * 1024

# Host variables with these prefixes belong to this collection: each one must be a name the
# collection knows, so a typo stops the run instead of being ignored.
# Not `ufw_`: other UFW roles use it too (ufw_rules, ufw_logging), and refusing their variables
# would break a play that runs them beside this collection.
PREFIXES = ("ray_", "docker_engine_", "cluster_plan_")
# Facts the collection's modules set on the hosts: the plan, and ray_cluster_status's reading.
COLLECTION_FACTS = ("ray_cluster_plan", "ray_cluster")
# Extra vars the playbooks document (-e name=value); hostvars hold extra vars, so they must be
# known. tests/unit/plugins/module_utils/test_inputs.py keeps this list in step with the YAML.
PLAYBOOK_VARIABLES = (
    "ray_restart_head",
    "ray_restart_workers",
    "ray_restart_wait_timeout",
    "ray_status_wait_timeout",
    "ray_teardown_remove_images",
    "ray_teardown_remove_firewall_rules",
    "ray_teardown_remove_token",
)
# The token's variables, the role's own first: ray_compose_auth_token defaults to ray_cluster_auth_token.
AUTH_TOKEN_VARIABLES = ("ray_compose_auth_token", "ray_cluster_auth_token")
# Known names that are never inputs of the plan: the facts, and the secret token, which the
# ray_compose role writes to a root-only file on each host (the plan never holds it).
NOT_PLAN_INPUTS = frozenset({*COLLECTION_FACTS, *AUTH_TOKEN_VARIABLES})

SOURCE_MIN_PREFIX_VARIABLE = "ray_cluster_source_min_prefix"
SOURCE_MIN_PREFIX_DEFAULT = {"ipv4": 8, "ipv6": 32}
_ADDRESS_BITS = {"ipv4": 32, "ipv6": 128}
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
# What Ray's object store (in /dev/shm, charged to the container's memory) must leave of a node's
# memory limit: the raylet, the dashboard and runtime-env agents and one idle Python worker
# already take some 300-400 MiB, so below 512 MiB the first task's heap makes the kernel kill the
# container. A warning, not a refusal: a node that only moves objects may get by.
HEAP_FLOOR = 512 * MIB
# Ray 2.60 reads the first line of RAY_AUTH_TOKEN_PATH, trims whitespace and sends the token in
# "authorization: Bearer <token>" HTTP and gRPC headers, which take printable ASCII only; it
# generates 64 hex characters itself (secrets.token_hex(32)). The length floor is ours.
AUTH_TOKEN_MIN_LENGTH = 32


class _Marker:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


# The value of a PlanError for a variable that is not set at all.
NOT_SET: Any = _Marker("not set")


class PlanError(ValueError):
    """An inventory value the plan cannot accept.

    The message ends with the value seen, ``(got 'two')``, or ``(value not shown)`` when
    ``shown`` is false (secrets, unknown names that might be misplaced secrets).
    """

    def __init__(self, host: str | None, variable: str, value: Any, problem: str, *, shown: bool = True) -> None:
        where = f"host {host}: " if host else ""
        if not shown:
            tail = "(value not shown)"
        elif value is NOT_SET:
            tail = "(not set)"
        else:
            tail = f"(got {plain(value)!r})"
        super().__init__(f"{where}{variable}: {problem} {tail}")
        self.host = host
        self.variable = variable
        self.value = plain(value) if shown and value is not NOT_SET else None


def plain(value: Any) -> Any:
    """``value`` as native Python types, so that its ``repr`` is what the user wrote.

    Ansible hands over its own subclasses of str, int, dict and list (tagged or unsafe values);
    a value of any other type is shown as text, except an encrypted one, which is not shown.
    """
    if value is None or isinstance(value, bool):
        return value
    # The base types' own constructors: plain copies, whatever the subclass overrides.
    if isinstance(value, int):
        return int.__new__(int, value)
    if isinstance(value, float):
        return float.__new__(float, value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    if "vault" in type(value).__name__.lower() or "encrypted" in type(value).__name__.lower():
        return "<encrypted, not shown>"
    return str(value)


def format_size(num_bytes: int) -> str:
    """Human form of a byte count, as ``ray status`` prints it (``1.50GiB``)."""
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if num_bytes >= factor:
            return f"{num_bytes / factor:.2f}{unit}"
    return f"{num_bytes}B"


# --------------------------------------------------------------------------- variable names


def role_variables(roles_dir: str | Path) -> frozenset[str]:
    """Every option of every entry point in the roles' ``meta/argument_specs.yml``."""
    # Imported here: the controller has PyYAML (Ansible needs it); a host running the module may not.
    import yaml

    paths = sorted(Path(roles_dir).glob("*/meta/argument_specs.y*ml"))
    if not paths:
        raise ValueError(f"no role argument specs under {roles_dir}: cannot tell known variables from typos")
    names: set[str] = set()
    for path in paths:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in (spec.get("argument_specs") or {}).values():
            names.update((entry or {}).get("options") or {})
    return frozenset(names)


def known_variables(planner_inputs: Iterable[str], roles_dir: str | Path | None = None) -> frozenset[str]:
    """The planner's inputs, the collection's facts and extra vars, and (given ``roles_dir``) every role option."""
    roles = role_variables(roles_dir) if roles_dir is not None else frozenset()
    return frozenset({*planner_inputs, *NOT_PLAN_INPUTS, *PLAYBOOK_VARIABLES, *roles})


def check_variable_names(hosts: Mapping[str, Mapping[str, Any]], known: Collection[str]) -> None:
    """Refuse a collection-prefixed variable the collection does not know, or a secret given to the planner."""
    for host in sorted(hosts):
        for name in sorted(hosts[host]):
            if name in NOT_PLAN_INPUTS:
                raise PlanError(host, name, None, "not an input of the plan: leave it out of the planner's data", shown=False)
            if name.startswith(PREFIXES) and name not in known:
                match = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {match[0]}?" if match else " (no role or playbook of this collection reads it)"
                raise PlanError(host, name, None, f"unknown variable{hint}", shown=False)


# --------------------------------------------------------------------------- groups and workers


# The inventory groups: the cluster's parent group, the head's, the workers'.
DEFAULT_GROUP_NAMES = ("ray_cluster", "ray_head", "ray_workers")


def check_cluster_members(
    cluster_hosts: Iterable[str] | None,
    head_hosts: list[str],
    worker_hosts: list[str],
    group_names: tuple[str, str, str] = DEFAULT_GROUP_NAMES,
) -> None:
    """Refuse a host of the cluster group that is in neither the head nor the worker group."""
    served = {*head_hosts, *worker_hosts}
    stray = [host for host in cluster_hosts or () if host not in served]
    if stray:
        cluster, head, workers = group_names
        raise PlanError(
            stray[0],
            "groups",
            stray,
            f"in group {cluster} but in neither {head} nor {workers}, so the plan has nothing for it; "
            f"add it to one of them or take it out of {cluster}",
        )


def check_worker_count_set(host: str, hvars: Mapping[str, Any], is_worker: bool) -> None:
    """A host of the worker group says how many workers it runs (0 allowed), never by default."""
    if is_worker and hvars.get("ray_worker_count") is None:
        raise PlanError(
            host,
            "ray_worker_count",
            NOT_SET,
            "the host is in the worker group but does not set how many workers it runs; set ray_worker_count on it (0 for none)",
        )


# --------------------------------------------------------------------------- firewall sources


def source_min_prefix(value: Any) -> dict[str, int]:
    """``ray_cluster_source_min_prefix``: ``{ipv4: 1-32, ipv6: 1-128}``, a missing family keeps its default."""
    if not isinstance(value, Mapping) or not set(value) <= set(SOURCE_MIN_PREFIX_DEFAULT):
        raise PlanError(None, SOURCE_MIN_PREFIX_VARIABLE, value, "expected a mapping such as {ipv4: 8, ipv6: 32}")
    result = dict(SOURCE_MIN_PREFIX_DEFAULT)
    for family, bits in _ADDRESS_BITS.items():
        if family not in value:
            continue
        number = value[family]
        text = str(number).strip() if isinstance(number, (int, str)) and not isinstance(number, bool) else ""
        if not text.isdigit() or not 1 <= int(text) <= bits:
            raise PlanError(None, f"{SOURCE_MIN_PREFIX_VARIABLE}.{family}", number, f"expected a prefix length from 1 to {bits}")
        result[family] = int(text)
    return result


def source_width_problem(source: str, minimum: Mapping[str, int]) -> str | None:
    """Why a Ray firewall source is too wide, or None. IPv4-mapped IPv6 networks count as IPv4."""
    if source == "any":
        return None
    network = ipaddress.ip_network(source)
    family, prefix = f"ipv{network.version}", network.prefixlen
    if network.version == 6 and network.subnet_of(_IPV4_MAPPED):
        family, prefix = "ipv4", prefix - _IPV4_MAPPED.prefixlen
    floor = minimum[family]
    advice = f"list your networks (prefix /{floor} or longer, {SOURCE_MIN_PREFIX_VARIABLE})"
    if prefix == 0:
        return f"{source} is the whole IPv{family[-1]} address space: it would open Ray's ports to everyone; {advice}"
    if prefix < floor:
        return f"{source} is wider than /{floor}: it would open Ray's ports to far more hosts than a cluster has; {advice}"
    return None


def check_sources(settings: dict[str, Any]) -> None:
    """Firewall sources (already parsed): SSH open to someone, Ray's ports to no more than networks."""
    settings[SOURCE_MIN_PREFIX_VARIABLE] = minimum = source_min_prefix(settings[SOURCE_MIN_PREFIX_VARIABLE])
    if not settings["ray_cluster_ssh_sources"]:
        raise PlanError(
            None,
            "ray_cluster_ssh_sources",
            [],
            "SSH would be closed by UFW's default deny: you would lock yourself out; "
            "list the networks you connect from, or keep the default [any]",
        )
    for key in ("ray_cluster_allowed_sources", "ray_cluster_admin_sources"):
        for source in settings[key]:
            problem = source_width_problem(source, minimum)
            if problem:
                raise PlanError(None, key, settings[key], problem)


# --------------------------------------------------------------------------- memory and capacity


def check_node_memory(
    host: str, variable: str, spec: Mapping[str, Any], sizes: tuple[int, int, int], warnings: list[str] | None
) -> None:
    """shm within the memory limit (refused otherwise); enough memory left beside the object store (warned).

    ``sizes`` is (memory, shm_size, object store) in bytes, already checked against Ray's minimum.
    """
    memory, shm, store = sizes
    if shm > memory:
        raise PlanError(
            host,
            f"{variable}.shm_size",
            spec.get("shm_size"),
            f"above the container's memory limit of {format_size(memory)} ({variable}.memory): "
            "/dev/shm is charged to the container's memory, so it cannot hold more",  # noqa: S108 (words, not a path)
        )
    if warnings is not None and memory - store < HEAP_FLOOR:
        key = "object_store_memory" if spec.get("object_store_memory") is not None else "memory"
        warnings.append(
            f"host {host}: {variable}.{key}: the object store ({format_size(store)}) leaves "
            f"{format_size(memory - store)} of the {format_size(memory)} memory limit to Ray's processes and "
            f"the tasks, less than {format_size(HEAP_FLOOR)}: the container may run out of memory"
        )


def capacity_variable(nodes: list[Mapping[str, Any]], key: str) -> str:
    """The spec variables behind a host's summed limits: ``ray_head_spec.cpus/ray_worker_spec.cpus``."""
    roles = {node["role"] for node in nodes}
    specs = [f"{spec}.{key}" for spec, role in (("ray_head_spec", "head"), ("ray_worker_spec", "worker")) if role in roles]
    return "/".join(specs) or f"ray_worker_spec.{key}"


# --------------------------------------------------------------------------- the secret token

# (passes, problem) in order; the value is never part of a message.
_TOKEN_RULES: tuple[tuple[Callable[[Any], bool], str], ...] = (
    (lambda t: isinstance(t, str), "expected a string (quote it in YAML)"),
    (lambda t: not any(c.isspace() or not c.isprintable() for c in t), "contains whitespace or a non-printable character"),
    (lambda t: t.isascii(), "contains a non-ASCII character; Ray sends the token in HTTP and gRPC headers (printable ASCII)"),
    (
        lambda t: len(t) >= AUTH_TOKEN_MIN_LENGTH,
        f"shorter than {AUTH_TOKEN_MIN_LENGTH} characters; use a random one such as `openssl rand -hex 32`",
    ),
)


def auth_token_of(hvars: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(variable, value) of the token a host's ray_compose role would use, or None when it uses none.

    Like the role: ray_compose_auth_token when the inventory sets it (even empty), else
    ray_cluster_auth_token. Empty means keep the head host's token or generate one.
    """
    for variable in AUTH_TOKEN_VARIABLES:
        if variable in hvars:
            value = hvars[variable]
            return None if value is None or value == "" else (variable, value)
    return None


def check_auth_token(tokens: Mapping[str, tuple[str, Any] | None], auth_mode: str) -> None:
    """One valid token for the whole cluster, or none (the roles keep or generate one).

    ``tokens`` maps every cluster host to :func:`auth_token_of` its variables.
    """
    given = {host: entry for host, entry in tokens.items() if entry is not None}
    if auth_mode != "token" or not given:
        return
    variable, token = next(iter(given.values()))
    by_value: dict[str, list[str]] = {}
    for host, (_, value) in sorted(given.items()):
        by_value.setdefault(repr(plain(value)), []).append(host)
    unset = sorted(set(tokens) - set(given))
    differences = []
    if len(by_value) > 1:
        differences.append("it differs between " + " | ".join(", ".join(hosts) for hosts in by_value.values()))
    if unset:
        differences.append(f"it is not set on {', '.join(unset)}")
    if differences:
        problem = "must be the same on every cluster host: " + "; ".join(differences)
        raise PlanError(None, variable, None, problem, shown=False)
    for passes, problem in _TOKEN_RULES:
        if not passes(token):
            raise PlanError(None, variable, None, problem, shown=False)
