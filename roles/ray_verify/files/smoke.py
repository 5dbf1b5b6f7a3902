"""Smoke job run inside the head container: one task on every alive node, pinned to it, and each
node's object read on the next node (a ring), so every node runs work and every node both sends and
receives an object.

One task per node, not a number of tasks spread at random: a job's tasks need worker processes of
their own on every node they reach, and starting those is most of a smoke job's time (20 tasks
spread over 11 nodes started about 20 of them; one per node starts one per node, and every node is
certain to be reached). A node without CPUs gets a task that asks for none.

Prints one JSON line: elapsed seconds, tasks per node id, cross-node transfers and bytes moved, and
``ok`` (every object arrived whole, every consumer ran where it was placed).
"""

import json
import os
import sys
import time

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

OBJECT_MB = int(os.environ.get("SMOKE_OBJECT_MB", "8"))

ray.init(address="auto", logging_level="ERROR", log_to_driver=False)


@ray.remote
def produce(i):
    return ray.get_runtime_context().get_node_id(), bytes([i % 256]) * (OBJECT_MB * 1024 * 1024)


@ray.remote
def consume(item):
    producer, data = item
    return producer, ray.get_runtime_context().get_node_id(), data[0], len(data), data.count(data[:1]) == len(data)


start = time.monotonic()
nodes = sorted((n["NodeID"], n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"])


def on(index):
    node_id, cpus = nodes[index % len(nodes)]
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False), "num_cpus": 1 if cpus >= 1 else 0}


produced = [produce.options(**on(i)).remote(i) for i in range(len(nodes))]
# Each node reads the object of the node before it: Ray moves it between the two.
consumed = ray.get([consume.options(**on(i + 1)).remote(produced[i]) for i in range(len(nodes))], timeout=300)
elapsed = time.monotonic() - start

tasks_per_node = {}
for producer, consumer, _first, _size, _whole in consumed:
    for node_id in (producer, consumer):
        tasks_per_node[node_id] = tasks_per_node.get(node_id, 0) + 1
placed = [nodes[i][0] == c[0] and nodes[(i + 1) % len(nodes)][0] == c[1] for i, c in enumerate(consumed)]
intact = [c[2] == i % 256 and c[3] == OBJECT_MB * 1024 * 1024 and c[4] for i, c in enumerate(consumed)]
cross = [c for c in consumed if c[0] != c[1]]
ok = bool(nodes) and all(placed) and all(intact)
print(
    json.dumps(
        {
            "ok": ok,
            "tasks": 2 * len(consumed),
            "elapsed": round(elapsed, 2),
            "tasks_per_node": tasks_per_node,
            "cross_node_transfers": len(cross),
            "bytes_moved": sum(c[3] for c in cross),
        }
    )
)
sys.exit(0 if ok else 1)
