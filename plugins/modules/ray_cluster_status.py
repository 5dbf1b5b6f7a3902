#!/usr/bin/python
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Read the Ray cluster from inside the head container and compare it with the plan."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ray_cluster_status
short_description: Read the running Ray cluster and compare it with the plan's expected nodes
version_added: 0.1.0
description:
  - Runs on the head host and reads the cluster; nothing is changed.
  - The node list is the GCS node table (the list C(ray.nodes) returns). With O(dashboard_url) it is
    read first from the head's dashboard (C(GET /nodes?view=summary), about 0.1 s). When no URL is
    given, or the dashboard does not answer (it starts after the GCS), it is read from inside the
    head container with C(docker exec), by a short Python script through Ray's GCS client, so no
    driver job is registered; if that internal API is missing it falls back to C(ray.init) with
    C(address=auto) and C(ray.nodes).
  - Each Ray node is matched to an entry of O(expected_nodes) by its IP address and node manager
    port, which the plan pins per container. Dead entries that Ray keeps for restarted containers
    are listed but never count as alive.
  - C(ray status) is also run and parsed (see the P(wizardsofts.ray_cluster.ray_status_facts#filter)
    filter); its text is returned as well.
  - With O(wait_timeout) the module reads again every O(delay) seconds until every expected node
    is alive; when the time runs out it fails with a message listing, per host, the nodes still
    missing.
author:
  - WizardSofts platform team
extends_documentation_fragment:
  - wizardsofts.ray_cluster.read_only
options:
  container:
    description: Name of the head node's container on this host.
    type: str
    default: ray-head
  expected_nodes:
    description:
      - The plan's C(expected_nodes) list (see M(wizardsofts.ray_cluster.ray_cluster_plan)).
      - Each item needs C(host), C(name), C(ip) and C(node_manager_port); C(role) and the
        resource keys are returned as given.
      - Empty means nothing is expected; every alive node is then reported as unexpected.
    type: list
    elements: dict
    default: []
  wait_timeout:
    description:
      - Seconds to keep reading until every expected node is alive.
      - C(0) reads once and fails at once when an expected node is missing.
    type: int
    default: 0
  fail_on_incomplete:
    description:
      - Fail when an expected node is still missing at the end (the message lists them per host).
      - With C(false) the module returns the facts, with C(whole=false), and lets the play decide.
    type: bool
    default: true
  delay:
    description: Seconds between two readings while waiting.
    type: int
    default: 5
  docker_cli:
    description: The Docker client to run, a name looked up on E(PATH) or an absolute path.
    type: str
    default: docker
  gcs_storage_path:
    description:
      - The GCS store on this host (the plan's C(cluster.gcs_storage_path)); its presence and size
        are returned in RV(ansible_facts.ray_cluster.gcs_storage). Empty for none.
    type: str
    default: ""
  gcs_redis_address:
    description:
      - The GCS's Redis (the plan's C(cluster.gcs_redis.address)), with C(ray_cluster_gcs_storage=redis).
        The module logs in as O(gcs_redis_username), with the password derived from the token in
        O(token_file), and asks for C(PING); the answer is returned in
        RV(ansible_facts.ray_cluster.gcs_storage) as C(redis), and a failure to read the cluster says
        what the Redis answered. Empty for the other storages.
    type: str
    default: ""
  gcs_redis_username:
    description:
      - The Redis ACL user the head logs in as (the plan's C(cluster.gcs_redis.username)). Required with
        O(gcs_redis_address).
    type: str
    default: ""
  dashboard_url:
    description:
      - The head's dashboard as this host reaches it (the plan's C(cluster.dashboard_url)). Empty reads
        the node table from inside the head container only.
    type: str
    default: ""
  token_file:
    description:
      - The file holding the cluster's token on this host (the plan's C(cluster.auth_token_file)), sent
        to the dashboard as a bearer token. Empty when token authentication is off.
    type: str
    default: ""
  read_status:
    description:
      - Also run C(ray status) in the head container and parse it into RV(ansible_facts.ray_cluster.status).
      - C(false) reads the node table alone, which is all the comparison with the plan needs (one Python
        start in the head container instead of two); C(status) is then null and C(status_text) null.
    type: bool
    default: true
notes:
  - The head container must be running and have C(python3) and C(ray) on its E(PATH); with
    token authentication the container's environment supplies the token to both.
seealso:
  - module: wizardsofts.ray_cluster.ray_cluster_plan
  - plugin: wizardsofts.ray_cluster.ray_status_facts
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Wait up to five minutes until every planned node is alive
  wizardsofts.ray_cluster.ray_cluster_status:
    container: ray-head
    expected_nodes: "{{ ray_cluster_plan.expected_nodes }}"
    wait_timeout: 300
    delay: 5
  delegate_to: "{{ ray_cluster_plan.cluster.head_host }}"
  run_once: true

- name: Show hosts with missing nodes
  ansible.builtin.debug:
    var: ray_cluster.missing_by_host

- name: Read once, without comparing with a plan
  wizardsofts.ray_cluster.ray_cluster_status:
    container: ray-head
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: dict
  contains:
    ray_cluster:
      description: The cluster as read, compared with O(expected_nodes).
      returned: success
      type: dict
      contains:
        nodes:
          description: Every entry of Ray's node table, dead ones included, in Ray's order.
          type: list
          elements: dict
          contains:
            id: {description: Ray node id (hex)., type: str}
            ip: {description: Node manager address., type: str}
            port: {description: Node manager port., type: int}
            alive: {description: Whether Ray reports the node alive., type: bool}
            host: {description: Inventory host of the matching expected node (or whose IP it has); null if none., type: str}
            name: {description: Container name of the matching expected node; null if none., type: str}
            role: {description: C(head) or C(worker) from the matching expected node; null if none., type: str}
            resources: {description: The node's total resources as Ray reports them (memory in bytes)., type: dict}
        alive_nodes:
          description: Number of alive entries in the node table.
          type: int
          sample: 11
        expected_node_count:
          description: Length of O(expected_nodes).
          type: int
          sample: 11
        missing:
          description: Expected nodes with no alive node on their IP and node manager port.
          type: list
          elements: dict
        missing_by_host:
          description: Host to names of its missing nodes (hosts with none missing are left out).
          type: dict
          sample: {lab-85: [ray-worker-2]}
        unexpected:
          description: Alive nodes that match no expected node (same keys as the items of RV(ansible_facts.ray_cluster.nodes)).
          type: list
          elements: dict
        whole:
          description: True when nothing is missing and nothing unexpected is alive.
          type: bool
        per_host:
          description:
            - Per expected host, C(expected) and C(alive) node counts and the sums of the alive
              nodes' C(cpus), C(memory) and C(object_store_memory) (bytes).
          type: dict
          sample: {lab-84: {expected: 4, alive: 4, cpus: 11.0, memory: 7516192768, object_store_memory: 939524096}}
        source:
          description:
            - Where the node table came from, C(gcs) (GCS client) or C(driver) (fallback through
              C(ray.init) and C(ray.nodes)) or C(dashboard) (O(dashboard_url)).
          type: str
          sample: gcs
        dashboard_error:
          description:
            - Why the dashboard's read (O(dashboard_url)) was not used, when the table came from the head
              container instead (it does not answer yet, refused the token, its two reads disagreed...);
              null when it was used or not asked.
          type: str
          sample: "dashboard: HTTP Error 401: Unauthorized"
        status:
          description:
            - C(ray status) parsed by the P(wizardsofts.ray_cluster.ray_status_facts#filter) filter
              (C(ready), C(format), C(active_nodes), C(idle_nodes), C(pending_nodes),
              C(recent_failures), C(node_ids), C(idle_node_ids), C(resources), C(demands),
              C(constraints)); null when the text could not be parsed.
          type: dict
        status_error:
          description: Why C(status) is null, else null.
          type: str
        status_text:
          description: The raw text C(ray status) printed; null with O(read_status=false).
          type: str
        attempts:
          description: Number of readings made.
          type: int
          sample: 1
        elapsed:
          description: Seconds spent, readings and waits included.
          type: float
          sample: 0.93
        gcs_storage:
          description:
            - The GCS store at O(gcs_storage_path) - C(path), C(present), C(files) and C(bytes) - and,
              with O(gcs_redis_address), C(redis) - C(address), C(answering), C(logged_in) and C(error)
              (null when it answered the login and PING) - or null without either.
          type: dict
          sample: {path: /var/lib/ray-cluster/gcs/ray/ray-2.60.0, present: true, files: 12, bytes: 1048576}
ray_cluster:
  description: On failure because nodes are missing, the last reading (same keys as C(ansible_facts.ray_cluster)).
  returned: failure when expected nodes are missing
  type: dict
"""


from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status import (
    ClusterIncompleteError,
    dashboard_fetch,
    gcs_store,
    gcs_store_problem,
    node_reader,
    wait_for_cluster,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "container": {"type": "str", "default": "ray-head"},
            "expected_nodes": {"type": "list", "elements": "dict", "default": []},
            "wait_timeout": {"type": "int", "default": 0},
            "delay": {"type": "int", "default": 5},
            "fail_on_incomplete": {"type": "bool", "default": True},
            "docker_cli": {"type": "str", "default": "docker"},
            "gcs_storage_path": {"type": "str", "default": ""},
            "read_status": {"type": "bool", "default": True},
            "dashboard_url": {"type": "str", "default": ""},
            "token_file": {"type": "str", "default": "", "no_log": False},
            "gcs_redis_address": {"type": "str", "default": ""},
            "gcs_redis_username": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    p = module.params
    if p["gcs_redis_address"] and not p["gcs_redis_username"]:
        module.fail_json(msg="ray_cluster_status: gcs_redis_username is required with gcs_redis_address")
    docker = p["docker_cli"] if "/" in p["docker_cli"] else module.get_bin_path(p["docker_cli"], required=True)

    fetch = dashboard_fetch(p["dashboard_url"], p["token_file"]) if p["dashboard_url"] else None
    read = node_reader(module.run_command, docker, p["container"], p["read_status"], fetch)

    def store() -> dict[str, Any] | None:
        return gcs_store(p["gcs_storage_path"], p["gcs_redis_address"], p["gcs_redis_username"], p["token_file"])

    try:
        result = wait_for_cluster(read, p["expected_nodes"], p["wait_timeout"], p["delay"])
    except ClusterIncompleteError as exc:
        gcs = store()
        problem = "; ".join(filter(None, [str(exc), gcs_store_problem(gcs)]))
        if p["fail_on_incomplete"]:
            module.fail_json(msg=problem, ray_cluster={**exc.result, "gcs_storage": gcs})
        module.warn(problem)
        module.exit_json(changed=False, ansible_facts={"ray_cluster": {**exc.result, "gcs_storage": gcs}})
    except ValueError as exc:
        gcs = store()
        module.fail_json(msg="; ".join(filter(None, [f"ray_cluster_status: {exc}", gcs_store_problem(gcs)])), gcs_storage=gcs)
    module.exit_json(changed=False, ansible_facts={"ray_cluster": {**result, "gcs_storage": store()}})


if __name__ == "__main__":
    main()
