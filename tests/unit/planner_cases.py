# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""What the planner's unit tests share: the lab's groups, mutations of its host variables, plan builders,
the refusal check and views of the rendered compose files.

The planner's tests are split as the planner is (test_inputs, test_settings, test_nodes, test_plan,
test_compose); each builds plans of the seed topology (conftest's ``lab_hosts``) changed by the
mutations here. A refusal case is ``(id, mutation, host named or None, variable, text of the value)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from conftest import LAB_HEAD, LAB_TOPOLOGY, REPO_ROOT

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import (
    compose_content,
    node_command,
    node_environment,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError, known_variables
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import PLANNER_VARIABLES

GIB = 1024**3
HEAD = LAB_HEAD
WORKERS = [name for name, *_ in LAB_TOPOLOGY]
ROLES_DIR = REPO_ROOT / "roles"
KNOWN = known_variables(PLANNER_VARIABLES, ROLES_DIR)
KINDS = ("head", "workers")
# A token's sha256 fingerprint as the role passes it (never the token): token auth is the default.
FINGERPRINT = "ab" * 16
TOKEN_PATH = "/run/secrets/ray-auth-token"  # noqa: S105 (a path, not a secret)
CUSTOM_TOKEN_FILE = "/srv/secrets/ray.token"  # noqa: S105 (a path, not a secret)
RELATIVE_TOKEN_FILE = "etc/ray-cluster/auth_token"  # noqa: S105 (a path, not a secret)
# ``ray start`` flags of a node's own port block, and the head's fixed ports.
PORT_FLAGS = {
    "node-manager-port": "node_manager",
    "object-manager-port": "object_manager",
    "runtime-env-agent-port": "runtime_env_agent",
    "dashboard-agent-grpc-port": "dashboard_agent_grpc",
    "dashboard-agent-listen-port": "dashboard_agent_http",
    "metrics-export-port": "metrics_export",
    "min-worker-port": "min_worker",
    "max-worker-port": "max_worker",
}
HEAD_PORT_FLAGS = {"port": 6379, "dashboard-port": 8265, "ray-client-server-port": 10001}

Hosts = dict[str, dict[str, Any]]
Mutation = Callable[[Hosts], "tuple[list[str], list[str]] | None"]
# (id, mutation of the lab topology, host named in the error, variable, text of the value in the message)
ErrorCase = tuple[str, Mutation, "str | None", str, str]


# --------------------------------------------------------------------------- plans


def build(hosts: Hosts, head: list[str] | None = None, workers: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
    """The plan of ``hosts`` with the lab's groups unless given."""
    return build_plan([HEAD] if head is None else head, list(WORKERS) if workers is None else workers, hosts, **kwargs)


def plan(hosts: Hosts, cluster_hosts: list[str] | None = None, workers: list[str] | None = None) -> dict[str, Any]:
    """The plan as the action plugin makes it: the roles' variables are known too."""
    return build(hosts, workers=workers, cluster_hosts=cluster_hosts, known=KNOWN)


def refusal(hosts: Hosts, **kwargs: Any) -> PlanError:
    with pytest.raises(PlanError) as exc:
        plan(hosts, **kwargs)
    return exc.value


# --------------------------------------------------------------------------- mutations for the tables


def host_vars(host: str, **values: Any) -> Mutation:
    """Set host variables on one host."""

    def mutate(hosts: Hosts) -> None:
        hosts[host].update(copy.deepcopy(values))

    return mutate


def drop(host: str, *keys: str) -> Mutation:
    def mutate(hosts: Hosts) -> None:
        for key in keys:
            hosts[host].pop(key, None)

    return mutate


def spec(host: str, variable: str, **values: Any) -> Mutation:
    """Update a spec mapping (``ray_worker_spec`` or ``ray_head_spec``) on one host."""

    def mutate(hosts: Hosts) -> None:
        hosts[host].setdefault(variable, {}).update(values)

    return mutate


def cluster(**values: Any) -> Mutation:
    """Set cluster-wide variables the same on every host, as group_vars would."""

    def mutate(hosts: Hosts) -> None:
        for hvars in hosts.values():
            hvars.update(copy.deepcopy(values))

    return mutate


def groups(head: list[str], workers: list[str]) -> Mutation:
    def mutate(hosts: Hosts) -> tuple[list[str], list[str]]:
        return head, workers

    return mutate


def chain(*mutations: Mutation) -> Mutation:
    def mutate(hosts: Hosts) -> tuple[list[str], list[str]] | None:
        result = None
        for m in mutations:
            result = m(hosts) or result
        return result

    return mutate


def apply(mutation: Mutation, hosts: Hosts) -> dict[str, Any]:
    grouping = mutation(hosts)
    head, workers = grouping if grouping else ([HEAD], list(WORKERS))
    return build_plan(head, workers, hosts)


# --------------------------------------------------------------------------- refusals


def spec_error(case_id: str, host: str, variable: str, key: str, value: Any) -> ErrorCase:
    """A refused value of one key of a spec mapping, named ``variable.key`` and shown as its repr."""
    return (case_id, spec(host, variable, **{key: value}), host, f"{variable}.{key}", repr(value))


def host_error(case_id: str, host: str, variable: str, value: Any) -> ErrorCase:
    """A refused host variable, shown as its repr."""
    return (case_id, host_vars(host, **{variable: value}), host, variable, repr(value))


def setting_error(case_id: str, variable: str, value: Any, host: str | None = None) -> ErrorCase:
    """A refused cluster-wide variable, set on every host and shown as its repr."""
    return (case_id, cluster(**{variable: value}), host, variable, repr(value))


def mismatch_error(case_id: str, variable: str, value: Any, host: str = "lab-81") -> ErrorCase:
    """A cluster-wide variable set otherwise on one host than on the others: the message names that host's value."""
    return (case_id, host_vars(host, **{variable: value}), None, variable, f"{host}={value!r}")


def check_refusal(hosts: Hosts, mutation: Mutation, host: str | None, variable: str, value: str) -> None:
    """The plan of the mutated hosts is refused naming the host, the variable and the value."""
    with pytest.raises(PlanError) as exc:
        apply(mutation, hosts)
    message = str(exc.value)
    assert exc.value.host == host
    assert exc.value.variable == variable
    if host:
        assert message.startswith(f"host {host}: {variable}: "), message
    else:
        assert message.startswith(f"{variable}: "), message
    assert value in message.rsplit("(got ", 1)[-1], message


def refusal_test(cases: list[ErrorCase]) -> Callable[..., None]:
    """The test of a table of refusal cases (assign it to a ``test_*`` name), one case a test, named by its id."""

    @pytest.mark.parametrize(("mutation", "host", "variable", "value"), [c[1:] for c in cases], ids=[c[0] for c in cases])
    def test(lab_hosts: Hosts, mutation: Mutation, host: str | None, variable: str, value: str) -> None:
        check_refusal(lab_hosts, mutation, host, variable, value)

    return test


# --------------------------------------------------------------------------- rendered values


def command(plan: dict[str, Any], host: str, node: dict[str, Any]) -> list[str]:
    """The ``ray start`` argv the compose file runs for one of ``host``'s planned nodes."""
    return node_command(node, plan["hosts"][host]["node_ip"], plan["cluster"])


def environment(plan: dict[str, Any], node: dict[str, Any]) -> dict[str, str]:
    return node_environment(node, plan["cluster"])


def services(plan: dict[str, Any], host: str, kind: str) -> dict[str, Any]:
    """The services of one of a host's rendered compose projects, as YAML reads them."""
    return yaml.safe_load(compose_content(plan, host, kind, FINGERPRINT))["services"]


def kind_nodes(hplan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n for n in hplan["nodes"] if (n["role"] == "head") == (kind == "head")]


def parse_flags(argv: list[str]) -> dict[str, str]:
    """``--name=value`` arguments of a ``ray start`` argv as a dict (flags without ``=`` map to '')."""
    flags: dict[str, str] = {}
    for arg in argv:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            assert name not in flags, f"flag {name} given twice in {argv}"
            flags[name] = value
    return flags


def port_flags(argv: list[str]) -> dict[str, int]:
    return {name: int(value) for name, value in parse_flags(argv).items() if name.endswith("-port") or name == "port"}
