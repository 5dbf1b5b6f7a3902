#!/usr/bin/env python3
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""How long the cluster plan takes for a large inventory (not a test: nothing here is asserted on time).

Builds the plan for ``--hosts`` hosts with ``--workers`` workers each (the first host also runs the
head) through the planner's entry point, ``build_plan``, ``--runs`` times, and prints the min and
median wall time and the node count. It also checks that two runs render byte-identical compose
content for every host.

    .venv/bin/python benchmarks/plan_benchmark.py [--hosts 1000] [--workers 32] [--runs 5]
        [--allowed-sources 10.0.0.0/8]

Without ``--allowed-sources`` every host's node IP is a firewall source on every host (the
default), so the plan holds hosts x hosts node rules.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import ipaddress
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collections"))

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

FIRST_IP = ipaddress.ip_address("10.0.0.1")


def inventory(hosts: int, workers: int, allowed_sources: list[str]) -> tuple[list[str], list[str], dict[str, Any]]:
    names = [f"srv{i:04d}" for i in range(hosts)]
    data: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        data[name] = {
            "ray_node_ip": str(FIRST_IP + i),
            "ray_worker_count": workers,
            "ray_worker_spec": {"cpus": 1, "memory": "4g", "shm_size": "1g"},
            "ray_worker_overrides": [{"gpus": 1, "resources": {"accel": 1}, "labels": {"zone": "a"}}],
            "ray_cluster_allowed_sources": list(allowed_sources),
            "facts": {"vcpus": workers + 2, "memtotal_mb": (workers + 2) * 4096, "default_ipv4": None},
        }
    data[names[0]]["ray_head_spec"] = {"cpus": 2, "memory": "8g", "shm_size": "2g"}
    return [names[0]], names, data


def compose_digest(plan: dict[str, Any]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for name, hplan in plan["hosts"].items():
        for kind in ("head", "workers"):
            content = hplan["projects"][kind]["content"].encode()
            digest.update(f"{name}/{kind}\0".encode() + content + b"\0")
            size += len(content)
    return digest.hexdigest(), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--allowed-sources", nargs="*", default=[], metavar="CIDR")
    args = parser.parse_args()

    head, workers, hosts = inventory(args.hosts, args.workers, args.allowed_sources)
    times: list[float] = []
    digests: list[str] = []
    for _ in range(max(args.runs, 2)):
        data = copy.deepcopy(hosts)  # the planner must not depend on (or keep) earlier input
        start = time.perf_counter()
        plan = build_plan(head, workers, data)
        times.append(time.perf_counter() - start)
        digest, size = compose_digest(plan)
        digests.append(digest)
    nodes = plan["cluster"]["expected_node_count"]
    rules = sum(len(h["firewall"]) for h in plan["hosts"].values())
    identical = len(set(digests)) == 1

    print(f"hosts={args.hosts} workers/host={args.workers} runs={len(times)} allowed_sources={args.allowed_sources or 'members'}")
    print(f"nodes={nodes} firewall_rules={rules} compose_bytes={size}")
    print(f"min={min(times):.3f}s median={statistics.median(times):.3f}s max={max(times):.3f}s")
    print(f"compose content byte-identical across runs: {identical} (sha256 {digests[0][:16]})")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
