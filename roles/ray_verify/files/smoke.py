"""Smoke job run inside the head container: spread tasks over the nodes and move objects between them.

Prints one JSON line: elapsed seconds, tasks per node id, cross-node transfers and bytes moved.
"""

import json
import os
import sys
import time

import numpy as np
import ray

TASKS = int(os.environ.get("SMOKE_TASKS", "20"))
OBJECT_MB = int(os.environ.get("SMOKE_OBJECT_MB", "8"))

ray.init(address="auto", logging_level="ERROR", log_to_driver=False)


@ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
def produce(i):
    time.sleep(1)
    data = np.full(OBJECT_MB * 1024 * 1024 // 8, i, dtype=np.float64)
    return ray.get_runtime_context().get_node_id(), data


@ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
def consume(item):
    producer, data = item
    return producer, ray.get_runtime_context().get_node_id(), float(data[0]), data.nbytes


start = time.monotonic()
produced = [produce.remote(i) for i in range(TASKS)]
# Each consumer gets another task's object: Ray pulls it to the consumer's node.
consumed = ray.get([consume.remote(produced[(i + 1) % TASKS]) for i in range(TASKS)], timeout=300)
# The driver on the head pulls every produced object too.
pulled = ray.get(produced, timeout=300)
elapsed = time.monotonic() - start

tasks_per_node = {}
for node_id, _ in pulled:
    tasks_per_node[node_id] = tasks_per_node.get(node_id, 0) + 1
cross = [c for c in consumed if c[0] != c[1]]
ok = sorted(int(c[2]) for c in consumed) == list(range(TASKS))
print(
    json.dumps(
        {
            "ok": ok,
            "tasks": TASKS,
            "elapsed": round(elapsed, 2),
            "tasks_per_node": tasks_per_node,
            "cross_node_transfers": len(cross),
            "bytes_moved": sum(c[3] for c in cross),
        }
    )
)
sys.exit(0 if ok else 1)
