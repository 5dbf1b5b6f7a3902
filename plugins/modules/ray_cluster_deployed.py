#!/usr/bin/python
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Read the compose files a host runs now, so the controller can tell what a run would change."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ray_cluster_deployed
short_description: Read the Ray compose files a host has now, for the removal guard
version_added: 0.1.0
description:
  - Reads each file of O(files) on the host and returns its text, or null when the file does not
    exist. Nothing is changed, and Docker is not needed (a fresh host has neither Docker nor a file).
  - The C(cluster_plan) role runs it on every host with the plan's two compose project files
    (C(<ray_cluster_compose_dir>/head/compose.yaml) and C(.../workers/compose.yaml)); the
    P(wizardsofts.ray_cluster.ray_cluster_changes#filter) filter then compares them with the plan
    and says, per host, which containers a run would add, change and remove.
  - A file that exists but cannot be read (permissions, a directory, not UTF-8) fails the task
    with the path and the reason.
author:
  - WizardSofts platform team
extends_documentation_fragment:
  - wizardsofts.ray_cluster.read_only
options:
  files:
    description:
      - Absolute paths of the files to read.
      - The returned mapping has exactly these paths as keys.
    type: list
    elements: str
    required: true
notes:
  - The collection writes its compose files world-readable (mode C(0644)), so the module works
    with and without privilege escalation.
seealso:
  - plugin: wizardsofts.ray_cluster.ray_cluster_changes
    plugin_type: filter
  - module: wizardsofts.ray_cluster.ray_cluster_plan
"""

EXAMPLES = r"""
- name: Read the compose files this host runs now
  wizardsofts.ray_cluster.ray_cluster_deployed:
    files:
      - "{{ ray_cluster_plan.hosts[inventory_hostname].projects.head.file }}"
      - "{{ ray_cluster_plan.hosts[inventory_hostname].projects.workers.file }}"
  check_mode: false
  register: __cluster_plan_deployed

- name: Show what a run would add, change and remove
  ansible.builtin.debug:
    msg: "{{ (ray_cluster_plan | wizardsofts.ray_cluster.ray_cluster_changes(hostvars, ansible_play_hosts)).summary }}"
  run_once: true
"""

RETURN = r"""
deployed:
  description: Each path of O(files) to the file's text; null when the file does not exist.
  returned: success
  type: dict
  sample:
    /opt/ray-cluster/head/compose.yaml: "# Managed by wizardsofts.ray_cluster (Ansible) from the cluster plan.\n..."
    /opt/ray-cluster/workers/compose.yaml: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._changes import read_files


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "list", "elements": "str", "required": True},
        },
        supports_check_mode=True,
    )
    try:
        deployed = read_files(module.params["files"])
    except ValueError as exc:
        module.fail_json(msg=f"ray_cluster_deployed: {exc}")
    module.exit_json(changed=False, deployed=deployed)


if __name__ == "__main__":
    main()
