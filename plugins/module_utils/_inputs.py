# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The planner's first stage, reading the input: values, variable names, groups, the token.

Private to the collection (the leading underscore): other collections must not import it; it may
change in any release. Pure functions, no Ansible imports. Every refusal is a :class:`PlanError`
naming the host (when per host), the variable and the value seen, in plain words; a secret's
value is never shown. The stages after it: ``_settings`` (cluster-wide variables), ``_nodes``
(one host's nodes), ``_plan`` (the whole plan) and ``_compose`` (the plan rendered).
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

MIB = 1024 * 1024

# Host variables with these prefixes belong to this collection: each one must be a name the
# collection knows, so a typo stops the run instead of being ignored.
# Not `ufw_`: other UFW roles use it too (ufw_rules, ufw_logging), and refusing their variables
# would break a play that runs them beside this collection.
PREFIXES = ("ray_", "docker_engine_", "cluster_plan_", "celery_")
# Facts the collection's modules set on the hosts: the plan, and ray_cluster_status's reading.
# Facts the collection sets: the plan, the status, site.yml's read of each host and what differs there.
COLLECTION_FACTS = (
    "ray_cluster_plan",
    "ray_cluster",
    "cluster_plan_host",
    "ray_cluster_differences",
    # site.yml's one check of every role's input (the roles then skip their own).
    "ray_cluster_input_checked",
    "ray_monitoring_health",
    "celery_status",
)
# Extra vars the playbooks document (-e name=value); hostvars hold extra vars, so they must be
# known. tests/unit/plugins/module_utils/test_inputs.py keeps this list in step with the YAML.
PLAYBOOK_VARIABLES = (
    "ray_site_converge_all",
    "ray_restart_head",
    "ray_restart_workers",
    "ray_restart_wait_timeout",
    "ray_restart_celery",
    "ray_status_wait_timeout",
    "ray_teardown_remove_images",
    "ray_teardown_remove_firewall_rules",
    "ray_teardown_remove_token",
    "ray_teardown_remove_logs",
    "ray_logs_since",
    "ray_logs_pattern",
    "ray_logs_nodes",
    "ray_logs_dest",
    "ray_logs_source",
)
# The token's variables, the role's own first: ray_compose_auth_token defaults to ray_cluster_auth_token.
AUTH_TOKEN_VARIABLES = ("ray_compose_auth_token", "ray_cluster_auth_token")
# Known names that are never inputs of the plan: the facts, and the secret token, which the
# ray_compose role writes to a root-only file on each host (the plan never holds it).
NOT_PLAN_INPUTS = frozenset({*COLLECTION_FACTS, *AUTH_TOKEN_VARIABLES})

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


# --------------------------------------------------------------------------- single values

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:([kmgtp])(i?b)?|(b))?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def parse_size(value: Any, host: str | None = None, variable: str = "size") -> int:
    """Parse ``6G``, ``6g``, ``512m``, ``2000000000``, ``1.5GiB``, ``2gb`` to bytes (binary units)."""
    if isinstance(value, bool):
        raise PlanError(host, variable, value, "cannot parse it as a size")
    if isinstance(value, int):
        if value < 0:
            raise PlanError(host, variable, value, "a size cannot be negative")
        return value
    if isinstance(value, float):
        if value < 0 or not math.isfinite(value):
            raise PlanError(host, variable, value, "cannot parse it as a size")
        return int(value)
    match = _SIZE_RE.match(str(value).strip())
    if not match:
        raise PlanError(host, variable, value, "cannot parse it as a size (examples: 6G, 512m, 1.5GiB, 2000000000)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    return int(number * _SIZE_UNITS[unit])


def parse_whole_number(value: Any, host: str | None, variable: str, minimum: int | None = None) -> int:
    """A whole number (``3``, ``"3"``, ``3.0``), at least ``minimum``; anything else is refused."""
    if isinstance(value, bool):
        raise PlanError(host, variable, value, "expected a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise PlanError(host, variable, value, "expected a whole number")
    if minimum is not None and value < minimum:
        raise PlanError(host, variable, value, f"expected a whole number >= {minimum}")
    return value


def parse_number(value: Any, host: str | None, variable: str) -> float:
    """A finite number (``0.5``, ``"2"``); anything else is refused."""
    if isinstance(value, bool):
        raise PlanError(host, variable, value, "expected a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise PlanError(host, variable, value, "expected a number") from None
    if not math.isfinite(result):
        raise PlanError(host, variable, value, "expected a finite number")
    return result


def parse_port(value: Any, host: str | None, variable: str) -> int:
    """A TCP port, 1 to 65535."""
    port = parse_whole_number(value, host, variable)
    if not 1 <= port <= 65535:
        raise PlanError(host, variable, value, "expected a TCP port between 1 and 65535")
    return port


def parse_version(value: Any, host: str | None = None, variable: str = "ray_cluster_version") -> tuple[int, int, int]:
    match = _VERSION_RE.match(str(value))
    if not match:
        raise PlanError(host, variable, value, "expected a Ray release such as 2.60.0")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def source_text(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """A network as firewall source, the way ``ufw show added`` prints it: a single address bare."""
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def normalise_source(text: str) -> str:
    """``any``, or an IPv4/IPv6 address or network in :func:`source_text` form; ``ValueError`` otherwise."""
    if text == "any":
        return text
    return source_text(ipaddress.ip_network(text, strict=False))


def member_sources(ips: list[str]) -> list[str]:
    """Node addresses as the fewest networks that hold exactly those addresses (the Ray members' default
    firewall sources; the Celery hosts' at the broker)."""
    nets = [ipaddress.ip_network(ip) for ip in ips]
    result: list[str] = []
    for version in (4, 6):
        result += [source_text(net) for net in ipaddress.collapse_addresses(n for n in nets if n.version == version)]
    return result


def parse_source(value: Any, host: str | None, variable: str) -> str:
    """A firewall source: ``any`` or an IPv4/IPv6 address or network, normalised."""
    try:
        return normalise_source(str(value).strip())
    except ValueError:
        raise PlanError(host, variable, value, "expected an IP address or CIDR network, or 'any'") from None


def parse_ip(value: Any, host: str, variable: str) -> str:
    """An IPv4 or IPv6 address, in its short form."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise PlanError(host, variable, value, "expected an IP address") from None


def address_port(address: str, port: int) -> str:
    """``address:port`` as URLs and Ray's ``--address`` take it: an IPv6 address in brackets."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


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
