#!/usr/bin/env python3
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""How long the cluster plan and the compose rendering take for a large inventory (not a test: nothing is asserted on time).

Builds the plan for ``--hosts`` hosts with ``--workers`` workers each (the first host also runs the
head) through the planner's entry point, ``build_plan``, ``--runs`` times, and prints the min and
median wall time. Then, separately, renders every host's ``head`` and ``workers`` compose content
from the plan (``compose_content``, what the ``ray_compose_content`` filter runs at apply time)
``--runs`` times, prints the min and median of that, and checks the text is byte-identical across
renderings of the same plan and of an independently built plan.

    .venv/bin/python benchmarks/plan_benchmark.py [--hosts 1000] [--workers 32] [--runs 5]
        [--allowed-sources 198.18.0.0/15]

Without ``--allowed-sources`` the firewall sources are the default: the members' node addresses
collapsed to the fewest networks that hold exactly them (``member_sources``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import ipaddress
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collections"))

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

FIRST_IP = ipaddress.ip_address("198.18.0.1")
# Token authentication is on by default: rendering needs a token fingerprint (never the token).
FINGERPRINT = "ab" * 16
KINDS = ("head", "workers")


def inventory(hosts: int, workers: int, allowed_sources: list[str]) -> tuple[list[str], list[str], dict[str, Any]]:
    names = [f"srv{i:04d}" for i in range(hosts)]
    data: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        data[name] = {
            "ray_node_ip": str(FIRST_IP + i),
            "ray_worker_count": workers,
            "ray_worker_spec": {"cpus": 1, "memory": "4g", "shm_size": "1g"},
            "ray_worker_overrides": [{"gpus": 1, "resources": {"accel": 1}, "labels": {"zone": "a"}}],
            "facts": {"vcpus": workers + 2, "memtotal_mb": (workers + 2) * 4096, "default_ipv4": None},
        }
        if allowed_sources:
            data[name]["ray_cluster_allowed_sources"] = list(allowed_sources)
    data[names[0]]["ray_head_spec"] = {"cpus": 2, "memory": "8g", "shm_size": "2g"}
    return [names[0]], names, data


def render_all(plan: dict[str, Any]) -> tuple[str, int, int]:
    """Render every host's projects; (sha256 over all of them, bytes, non-empty files)."""
    digest = hashlib.sha256()
    size = files = 0
    for name in plan["hosts"]:
        for kind in KINDS:
            content = compose_content(plan, name, kind, FINGERPRINT).encode()
            digest.update(f"{name}/{kind}\0".encode() + content + b"\0")
            size += len(content)
            files += bool(content)
    return digest.hexdigest(), size, files


def summary(label: str, times: list[float]) -> str:
    return f"{label}: min={min(times):.3f}s median={statistics.median(times):.3f}s max={max(times):.3f}s (runs={len(times)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--allowed-sources", nargs="*", default=[], metavar="CIDR")
    args = parser.parse_args()
    runs = max(args.runs, 2)

    head, workers, hosts = inventory(args.hosts, args.workers, args.allowed_sources)
    plan_times: list[float] = []
    plans: list[dict[str, Any]] = []
    for _ in range(runs):
        data = copy.deepcopy(hosts)  # the planner must not depend on (or keep) earlier input
        start = time.perf_counter()
        plan = build_plan(head, workers, data)
        plan_times.append(time.perf_counter() - start)
        plans.append(plan)
    first, last = plans[0], plans[-1]
    plans_equal = first == last
    del plans[1:-1]

    # The filter gets the fact back from Ansible: JSON types only.
    fact = json.loads(json.dumps(first))
    render_times: list[float] = []
    digests: list[str] = []
    for _ in range(runs):
        start = time.perf_counter()
        digest, size, files = render_all(fact)
        render_times.append(time.perf_counter() - start)
        digests.append(digest)
    digests.append(render_all(first)[0])  # the plan as built, before the JSON round trip
    digests.append(render_all(last)[0])  # an independently built plan
    identical = len(set(digests)) == 1

    nodes = first["cluster"]["expected_node_count"]
    rules = sum(len(h["firewall"]) for h in first["hosts"].values())
    sources = first["cluster"]["allowed_sources"]
    plan_bytes = len(json.dumps(first))
    given = " ".join(args.allowed_sources)
    print(f"hosts={args.hosts} workers/host={args.workers} allowed_sources={given or 'default (collapsed members)'}")
    print(f"nodes={nodes} sources={len(sources)} {sources[:4]}{' ...' if len(sources) > 4 else ''} firewall_rules={rules}")
    print(f"plan_json_bytes={plan_bytes} compose_files={files} compose_bytes={size}")
    print(summary("build_plan", plan_times))
    print(summary("render all compose content", render_times))
    print(f"plans equal across runs: {plans_equal}")
    print(f"compose content byte-identical ({len(digests)} renderings): {identical} (sha256 {digests[0][:16]})")
    return 0 if identical and plans_equal else 1


if __name__ == "__main__":
    sys.exit(main())
