# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The Ray nodes of one host: their specs merged from the inventory's layers, sizes and capacity.

Private to the collection (no compatibility promise). Pure functions, no Ansible imports. Every
refusal is a :class:`PlanError` naming the host, the spec variable and the value seen; findings
that do not stop the plan go to a ``warnings`` list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    MIB,
    PlanError,
    check_worker_count_set,
    format_size,
    parse_number,
    parse_size,
    parse_whole_number,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import LABEL_RE

# Ray refuses an object store below this (ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES).
OBJECT_STORE_MINIMUM = 75 * MIB
# RAY_FACTS: size shm at least 1.1 x the object store.
SHM_HEADROOM = 1.1
# Ray's default object store: 30 % of the memory it sees.
OBJECT_STORE_FRACTION = 0.3
# What Ray's object store (in /dev/shm, charged to the container's memory) must leave of a node's
# memory limit: the raylet, the dashboard and runtime-env agents and one idle Python worker
# already take some 300-400 MiB, so below 512 MiB the first task's heap makes the kernel kill the
# container. A warning, not a refusal: a node that only moves objects may get by.
HEAP_FLOOR = 512 * MIB
SPEC_KEYS = (
    "name",
    "cpus",
    "num_cpus",
    "memory",
    "memory_reservation",
    "shm_size",
    "object_store_memory",
    "gpus",
    "resources",
    "labels",
)
HEAD_SPEC_DEFAULTS: dict[str, Any] = {
    "name": "ray-head",
    "cpus": 2,
    "memory": "4g",
    "shm_size": "2g",
}
WORKER_SPEC_DEFAULTS: dict[str, Any] = {
    "cpus": 2,
    "memory": "6g",
    "shm_size": "2g",
}
# Docker container names need two characters at least.
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
# Ray's own resources: a custom resource may not take their names.
_BUILTIN_RESOURCES = ("CPU", "GPU", "memory", "object_store_memory")


# --------------------------------------------------------------------------- one node's spec


def merge_layers(host: str, layers: list[tuple[Any, str]]) -> dict[str, Any]:
    """Merge spec layers (defaults first); each is a mapping of known keys, or None."""
    merged: dict[str, Any] = {}
    for layer, layer_var in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise PlanError(host, layer_var, layer, "expected a mapping of node settings")
        unknown = sorted(set(layer) - set(SPEC_KEYS))
        if unknown:
            raise PlanError(host, f"{layer_var}.{unknown[0]}", layer[unknown[0]], f"unknown key; allowed: {', '.join(SPEC_KEYS)}")
        merged.update(layer)
    return merged


def _container_name(host: str, variable: str, spec: Mapping[str, Any], default_name: str) -> str:
    name = str(spec.get("name") or default_name)
    if not _NAME_RE.match(name):
        raise PlanError(host, f"{variable}.name", name, "expected a container name of letters, digits, '.', '_' or '-'")
    return name


def _cpus(host: str, variable: str, spec: Mapping[str, Any], allow_zero_cpus: bool) -> tuple[float, int]:
    """(CPU limit, logical CPUs Ray schedules on)."""
    cpus = parse_number(spec.get("cpus"), host, f"{variable}.cpus")
    if cpus <= 0:
        raise PlanError(host, f"{variable}.cpus", spec.get("cpus"), "CPU limit must be greater than 0")
    if spec.get("num_cpus") is None:
        return cpus, max(1, int(cpus))
    num_cpus = parse_whole_number(spec["num_cpus"], host, f"{variable}.num_cpus", minimum=0)
    if num_cpus == 0 and not allow_zero_cpus:
        raise PlanError(host, f"{variable}.num_cpus", 0, "a worker needs at least 1 logical CPU")
    return cpus, num_cpus


def _memory(host: str, variable: str, spec: Mapping[str, Any]) -> tuple[int, int, int | None]:
    """(memory limit, shm size, memory reservation or None) in bytes."""
    memory = parse_size(spec.get("memory"), host, f"{variable}.memory")
    if memory == 0:
        raise PlanError(host, f"{variable}.memory", spec.get("memory"), "memory limit must be greater than 0")
    shm = parse_size(spec.get("shm_size"), host, f"{variable}.shm_size")
    if spec.get("memory_reservation") is None:
        return memory, shm, None
    reservation = parse_size(spec["memory_reservation"], host, f"{variable}.memory_reservation")
    if reservation > memory:
        raise PlanError(
            host,
            f"{variable}.memory_reservation",
            spec["memory_reservation"],
            f"reservation is above the memory limit {spec.get('memory')!r}",
        )
    return memory, shm, reservation


def _derived_object_store(host: str, variable: str, spec: Mapping[str, Any], memory: int, shm: int) -> int:
    store = min(int(memory * OBJECT_STORE_FRACTION), int(shm / SHM_HEADROOM))
    store = store // MIB * MIB
    if store < OBJECT_STORE_MINIMUM:
        raise PlanError(
            host,
            f"{variable}.shm_size/memory",
            f"shm_size={spec.get('shm_size')}, memory={spec.get('memory')}",
            f"the derived object store ({format_size(store)}) is below Ray's minimum of 75MiB; raise shm_size and memory",
        )
    return store


def _given_object_store(host: str, variable: str, spec: Mapping[str, Any], memory: int, shm: int) -> int:
    given = spec["object_store_memory"]
    store = parse_size(given, host, f"{variable}.object_store_memory")
    if store < OBJECT_STORE_MINIMUM:
        raise PlanError(host, f"{variable}.object_store_memory", given, "below Ray's minimum of 75MiB")
    if store * 11 > shm * 10:  # shm >= 1.1 x store, in integers
        raise PlanError(
            host,
            f"{variable}.shm_size",
            spec.get("shm_size"),
            f"shm must be at least 1.1 x object_store_memory ({format_size(int(store * SHM_HEADROOM))})",
        )
    if store >= memory:
        raise PlanError(
            host,
            f"{variable}.object_store_memory",
            given,
            f"the object store must be smaller than the memory limit {spec.get('memory')!r}",
        )
    return store


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


def _resources(host: str, variable: str, spec: Mapping[str, Any]) -> dict[str, float]:
    resources = spec.get("resources") or {}
    if not isinstance(resources, dict):
        raise PlanError(host, f"{variable}.resources", resources, "expected a mapping of resource name to amount")
    clean: dict[str, float] = {}
    for key in sorted(resources):
        if key in _BUILTIN_RESOURCES or not LABEL_RE.match(str(key)):
            raise PlanError(host, f"{variable}.resources.{key}", resources[key], "not a valid custom resource name")
        amount = parse_number(resources[key], host, f"{variable}.resources.{key}")
        if amount < 0:
            raise PlanError(host, f"{variable}.resources.{key}", resources[key], "amount cannot be negative")
        clean[str(key)] = int(amount) if amount.is_integer() else amount
    return clean


def _labels(host: str, variable: str, spec: Mapping[str, Any]) -> dict[str, str]:
    labels = spec.get("labels") or {}
    if not isinstance(labels, dict):
        raise PlanError(host, f"{variable}.labels", labels, "expected a mapping of label name to value")
    clean: dict[str, str] = {}
    for key in sorted(labels):
        value = str(labels[key])
        if not LABEL_RE.match(str(key)) or not re.fullmatch(r"[A-Za-z0-9_.-]*", value):
            raise PlanError(host, f"{variable}.labels.{key}", labels[key], "labels take letters, digits, '.', '_' and '-'")
        clean[str(key)] = value
    return clean


def node_spec(
    host: str,
    variable: str,
    layers: list[tuple[Any, str]],
    default_name: str,
    allow_zero_cpus: bool,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Merge spec layers (defaults first) and validate one node's resources (findings to ``warnings``)."""
    spec = merge_layers(host, layers)
    name = _container_name(host, variable, spec, default_name)
    cpus, num_cpus = _cpus(host, variable, spec, allow_zero_cpus)
    memory, shm, reservation = _memory(host, variable, spec)
    object_store = _derived_object_store if spec.get("object_store_memory") is None else _given_object_store
    store = object_store(host, variable, spec, memory, shm)
    check_node_memory(host, variable, spec, (memory, shm, store), warnings)
    gpus = parse_whole_number(spec.get("gpus", 0), host, f"{variable}.gpus", minimum=0)
    return {
        "name": name,
        "cpus": int(cpus) if cpus.is_integer() else cpus,
        "num_cpus": num_cpus,
        "memory": memory,
        "memory_reservation": reservation,
        "shm_size": shm,
        "object_store_memory": store,
        "heap_memory": memory - store,
        "gpus": gpus,
        "resources": _resources(host, variable, spec),
        "labels": _labels(host, variable, spec),
    }


# --------------------------------------------------------------------------- one host's nodes


def _head_node(host: str, hvars: Mapping[str, Any], warnings: list[str] | None) -> dict[str, Any]:
    spec = node_spec(
        host,
        "ray_head_spec",
        [(HEAD_SPEC_DEFAULTS, "defaults"), (hvars.get("ray_head_spec"), "ray_head_spec")],
        "ray-head",
        allow_zero_cpus=True,
        warnings=warnings,
    )
    return {"role": "head", **spec}


def _worker_overrides(host: str, hvars: Mapping[str, Any], is_worker: bool) -> list[Any]:
    """One entry per worker the host runs: its override, or None where it has none."""
    check_worker_count_set(host, hvars, is_worker)
    count = parse_whole_number(hvars.get("ray_worker_count", 0), host, "ray_worker_count", minimum=0)
    if count and not is_worker:
        raise PlanError(host, "ray_worker_count", count, "the host runs workers but is not in group ray_workers")
    overrides = hvars.get("ray_worker_overrides") or []
    if not isinstance(overrides, list):
        raise PlanError(host, "ray_worker_overrides", overrides, "expected a list (item i applies to worker i+1)")
    if len(overrides) > count:
        raise PlanError(
            host, "ray_worker_overrides", f"{len(overrides)} items", f"more overrides than ray_worker_count ({count})"
        )
    return [*overrides, *[None] * (count - len(overrides))]


def _worker_nodes(host: str, hvars: Mapping[str, Any], is_worker: bool, warnings: list[str] | None) -> list[dict[str, Any]]:
    overrides = _worker_overrides(host, hvars, is_worker)
    nodes: list[dict[str, Any]] = []
    shared: dict[str, Any] | None = None
    for number, override in enumerate(overrides, start=1):
        if override is None and shared is not None:
            # Workers without an override share one validated spec (large hosts stay cheap).
            spec = {**shared, "name": f"ray-worker-{number}"}
        else:
            variable = f"ray_worker_overrides[{number - 1}]"
            spec = node_spec(
                host,
                variable if override else "ray_worker_spec",
                [(WORKER_SPEC_DEFAULTS, "defaults"), (hvars.get("ray_worker_spec"), "ray_worker_spec"), (override, variable)],
                f"ray-worker-{number}",
                allow_zero_cpus=False,
                warnings=warnings,
            )
            if override is None:
                shared = spec
        nodes.append({"role": "worker", "worker_id": number, **spec})
    return nodes


def host_node_specs(
    host: str, hvars: dict[str, Any], is_head: bool, is_worker: bool, warnings: list[str] | None = None
) -> list[dict[str, Any]]:
    """The nodes one host runs, head first, with their validated specs (findings to ``warnings``)."""
    nodes = [_head_node(host, hvars, warnings)] if is_head else []
    nodes += _worker_nodes(host, hvars, is_worker, warnings)
    names: set[str] = set()
    for node in nodes:
        if node["name"] in names:
            raise PlanError(host, "ray_worker_overrides.name", node["name"], "duplicate container name on this host")
        names.add(node["name"])
    return nodes


# --------------------------------------------------------------------------- capacity


def capacity_variable(nodes: list[Mapping[str, Any]], key: str) -> str:
    """The spec variables behind a host's summed limits: ``ray_head_spec.cpus/ray_worker_spec.cpus``."""
    roles = {node["role"] for node in nodes}
    specs = [f"{spec}.{key}" for spec, role in (("ray_head_spec", "head"), ("ray_worker_spec", "worker")) if role in roles]
    return "/".join(specs) or f"ray_worker_spec.{key}"


def _capacity_problems(cpus: float, memory: int, vcpus: Any, memtotal: int | None) -> list[tuple[str, Any, str]]:
    """(spec key, value seen, problem) for each limit the host cannot hold."""
    problems = []
    if vcpus and cpus > float(vcpus) + 1e-9:
        problems.append(("cpus", cpus, f"the CPU limits add up to {cpus:g}, above the host's {vcpus} vCPUs"))
    if memtotal and memory > memtotal:
        shown = format_size(memory)
        problems.append(("memory", shown, f"the memory limits add up to {shown}, above the host's {format_size(memtotal)}"))
    return problems


def capacity(
    host: str,
    nodes: list[dict[str, Any]],
    facts: dict[str, Any],
    allow_oversubscription: bool,
    warnings: list[str],
    other_memory: Mapping[str, int] | None = None,
    node_logs: Mapping[str, Any] | None = None,
    other_cpus: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The host's summed limits beside its vCPUs and memory; more than it has is refused, or warned when
    allowed. ``other_memory`` and ``other_cpus``: the limits of the host's other containers (the GCS's
    Redis on the head host, Celery's), keyed by the variable that sets each. ``node_logs``: the plan's
    (each node's log budget, on the file system of their directory: more than its size is refused, more
    than is free now warned)."""
    other_memory = other_memory or {}
    other_cpus = {key: value for key, value in (other_cpus or {}).items() if value}
    cpus = float(sum(float(node["cpus"]) for node in nodes)) + float(sum(other_cpus.values()))
    memory = sum(node["memory"] for node in nodes) + sum(other_memory.values())
    vcpus = facts.get("vcpus")
    memtotal = facts["memtotal_mb"] * MIB if facts.get("memtotal_mb") else None
    for key, value, problem in _capacity_problems(cpus, memory, vcpus, memtotal):
        # The head's spec counts too: name the spec variables of the nodes this host runs.
        variable = "/".join([capacity_variable(nodes, key), *(other_memory if key == "memory" else other_cpus)])
        if allow_oversubscription:
            warnings.append(f"host {host}: {variable}: {problem} (oversubscription allowed)")
        else:
            raise PlanError(host, variable, value, f"{problem}; lower the limits or set ray_cluster_allow_oversubscription: true")
    logs = node_log_disk(host, len(nodes), node_logs, facts.get("mounts"), warnings) if node_logs else {}
    return {
        "cpus": int(cpus) if cpus.is_integer() else round(cpus, 3),
        "memory": memory,
        "vcpus": vcpus,
        "memtotal": memtotal,
        **logs,
    }


def mount_of(path: str, mounts: list[Mapping[str, Any]] | None) -> Mapping[str, Any] | None:
    """The mount (of gathered facts' ``mounts``) holding ``path``: the longest mount point above it."""
    best = None
    for mount in mounts or []:
        point = str(mount.get("mount") or "")
        above = point and (path == point or path.startswith(point.rstrip("/") + "/"))
        if above and (best is None or len(point) > len(str(best["mount"]))):
            best = mount
    return best


def node_log_disk(
    host: str, count: int, node_logs: Mapping[str, Any], mounts: list[Mapping[str, Any]] | None, warnings: list[str]
) -> dict[str, Any]:
    """The disk the host's nodes' logs may take (their budgets), beside the file system that holds them."""
    total = count * node_logs["budget"]
    mount = mount_of(node_logs["dir"], mounts)
    if total:
        what = f"{count} nodes' log budgets add up to {format_size(total)}"
        where = f"(ray_cluster_node_log_dir {node_logs['dir']})"
        check_disk(host, "ray_cluster_node_log_budget", format_size(node_logs["budget"]), total, mount, what, where, warnings)
    return {"node_logs": total, "node_logs_mount": mount["mount"] if mount else None}


def check_disk(
    host: str,
    variable: str,
    value: Any,
    total: int,
    mount: Mapping[str, Any] | None,
    what: str,
    where: str,
    warnings: list[str],
) -> None:
    """Refuse ``total`` bytes above the size of the file system ``mount`` (facts), warn above its free space."""
    if not mount:
        return
    size, free = mount.get("size_total"), mount.get("size_available")
    if size and total > size:
        raise PlanError(host, variable, value, f"{what}, above the {format_size(size)} of {mount['mount']} {where}")
    if free is not None and total > free:
        warnings.append(
            f"host {host}: {variable}: {what}, above the {format_size(free)} free on {mount['mount']} now"
            " (logs already written count in neither)"
        )


def log_store_disk(
    host: str, capacity: dict[str, Any], store: Mapping[str, Any], mounts: list[Mapping[str, Any]] | None, warnings: list[str]
) -> dict[str, Any]:
    """The monitoring host's log store (its budget) on its file system, with the nodes' logs when they share it."""
    mount = mount_of(store["dir"], mounts)
    total = store["budget"]
    shared = bool(mount) and mount["mount"] == capacity.get("node_logs_mount")
    if shared:
        total += capacity.get("node_logs") or 0
    what = f"the log store's budget {format_size(store['budget'])}" + (
        f" and the nodes' log budgets add up to {format_size(total)}" if shared else ""
    )
    check_disk(
        host,
        "ray_cluster_log_store_budget",
        format_size(store["budget"]),
        total,
        mount,
        what,
        f"(store {store['dir']})",
        warnings,
    )
    return {"log_store": store["budget"], "log_store_mount": mount["mount"] if mount else None}
