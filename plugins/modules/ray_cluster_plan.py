#!/usr/bin/python
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Compute the Ray cluster plan from inventory data."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ray_cluster_plan
short_description: Compute the Ray cluster plan (nodes, pinned ports, compose files, firewall rules)
version_added: 0.1.0
description:
  - Computes, from the cluster's inventory variables, everything the roles apply; nothing is
    changed anywhere. The plan holds, per host, the Ray nodes (containers) with a pinned port
    block each, the compose projects already serialised to YAML, the UFW rules and the host's
    capacity; and, for the whole cluster, the head address and the list of expected nodes that
    M(wizardsofts.ray_cluster.ray_cluster_status) compares the running cluster with.
  - Used as a task, the action plugin of the same name reads O(hosts) from the inventory
    (every host of O(head_group) and O(worker_group), their C(ray_*) variables, C(ansible_host)
    and gathered facts) and computes the plan on the controller, so run it once
    (C(run_once=true)). Passing O(hosts) explicitly computes the plan for that data instead.
  - Invalid input fails with a message that names the host, the variable and the value (a secret's
    value is never shown). The action plugin is the single gate for bad input - every host variable
    with one of the collection's prefixes (C(ray_), C(docker_engine_), C(cluster_plan_), C(ufw_)) must
    be one the collection knows (a planner input, a role option or a playbook's extra var; an unknown
    one is refused with the nearest known name); each host of O(worker_group) must set
    C(ray_worker_count); no host of O(cluster_group) may be outside O(head_group) and O(worker_group);
    C(ray_cluster_auth_token) must be the same on every host, printable ASCII without whitespace and
    at least 32 characters long. The token is checked, never put in the plan.
  - The variables are described in the collection's C(docs/DESIGN.md) and in the C(cluster_plan)
    role's argument specification.
author:
  - WizardSofts platform team
extends_documentation_fragment:
  - wizardsofts.ray_cluster.read_only
options:
  head_group:
    description: Inventory group holding the head host (exactly one host).
    type: str
    default: ray_head
  worker_group:
    description: Inventory group holding the hosts that run workers.
    type: str
    default: ray_workers
  cluster_group:
    description:
      - Inventory group holding every cluster host (the parent of O(head_group) and O(worker_group)).
        A host in it but in neither of the other two is refused. No check when the group does not exist.
      - Ignored when O(hosts) is given explicitly.
    type: str
    default: ray_cluster
  head_hosts:
    description:
      - Hosts of the head group, when O(hosts) is given explicitly.
      - Ignored when O(hosts) is taken from the inventory.
    type: list
    elements: str
  worker_hosts:
    description:
      - Hosts of the worker group, when O(hosts) is given explicitly.
    type: list
    elements: str
  hosts:
    description:
      - Variables per host (C(ray_cluster_*), C(ray_node_ip), C(ray_worker_count),
        C(ray_worker_spec), C(ray_worker_overrides), C(ray_head_spec), C(ansible_host)), plus
        an optional C(facts) mapping with C(vcpus), C(memtotal_mb) and C(default_ipv4).
        Other names with the collection's prefixes must be known (role options are); the token
        (C(ray_cluster_auth_token)) is refused here.
      - When omitted (the usual case) the action plugin reads them from the inventory.
    type: dict
"""

EXAMPLES = r"""
- name: Compute the cluster plan once, on the controller
  wizardsofts.ray_cluster.ray_cluster_plan:
  run_once: true

- name: Plan for explicit data (no inventory needed)
  wizardsofts.ray_cluster.ray_cluster_plan:
    head_hosts: [srv1]
    worker_hosts: [srv1, srv2]
    hosts:
      srv1:
        ray_node_ip: 192.0.2.10
        ray_worker_count: 2
        ray_worker_spec: {cpus: 2, memory: 6G, shm_size: 2g}
      srv2:
        ray_node_ip: 192.0.2.11
        ray_worker_count: 4
        ray_worker_spec: {cpus: 2, memory: 6G, shm_size: 2g}
  register: plan

- name: Show where the head listens
  ansible.builtin.debug:
    msg: "{{ plan.plan.cluster.head_address }}"
"""

RETURN = r"""
plan:
  description: The cluster plan.
  returned: success
  type: dict
  contains:
    cluster:
      description: Cluster-wide values (version, image, head host, head address, dashboard URL, expected node count...).
      type: dict
      returned: success
    expected_nodes:
      description: One entry per Ray node (host, name, role, ip, node_manager_port, num_cpus, memory, object_store_memory).
      type: list
      elements: dict
      returned: success
    hosts:
      description: >-
        Per host: C(node_ip), C(is_head), C(nodes) (resources, pinned C(ports), C(command), C(environment)),
        C(node_port_range), C(projects.head) and C(projects.workers) (compose C(name), C(dir), C(file),
        C(services), C(content)), C(firewall) (UFW rules) and C(capacity).
      type: dict
      returned: success
    warnings:
      description: >-
        Non-fatal findings, such as allowed oversubscription or an object store that leaves a node
        less than 512 MiB of its memory limit.
      type: list
      elements: str
      returned: success
ansible_facts:
  description: The same plan as fact C(ray_cluster_plan).
  returned: success
  type: dict
  sample: {"ray_cluster_plan": {"cluster": {"head_address": "192.0.2.10:6379"}}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import PlanError
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import PLAN_ARGUMENT_SPEC, build_plan


def main() -> None:
    module = AnsibleModule(argument_spec=PLAN_ARGUMENT_SPEC, supports_check_mode=True)
    if module.params["hosts"] is None:
        module.fail_json(msg="hosts is required when the module runs without its action plugin")
    try:
        # Without the action plugin (not the usual path) the role options are not known here.
        plan = build_plan(module.params["head_hosts"] or [], module.params["worker_hosts"] or [], module.params["hosts"])
    except PlanError as exc:
        module.fail_json(msg=str(exc), host=exc.host, variable=exc.variable)
    for warning in plan["warnings"]:
        module.warn(warning)
    module.exit_json(changed=False, plan=plan, ansible_facts={"ray_cluster_plan": plan})


if __name__ == "__main__":
    main()
