#!/usr/bin/python
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Gather a server's Ray node logs for a time window and a pattern, one file per node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ray_node_logs
short_description: Gather Ray nodes' logs for a time window and a pattern, one file per node
version_added: 0.4.0
description:
  - Reads each node's log directory on the host (the plan's C(hosts[host].node_log_dirs), the node's
    C(/tmp/ray)) - every session's C(logs), earlier sessions' included - and the node container's output
    (C(docker logs --since)), and writes the lines that match O(pattern) to O(dest)/C(<node>.log) on the
    host, each file's lines under a C(==> <path in the node's directory> <==) header.
  - Ray's files have no common line format (a task's printed lines carry no time), so O(since) selects
    files, those written to within the window; the container's output is selected by time line by line.
  - With O(store), reads the log receiver's store on the monitoring host instead (log aggregation) - each
    node of O(nodes), C(<store>/<host>/<node>.log) and its rotated files - and selects lines by their own
    time (when the shipper read them), writing O(dest)/C(<host>/<node>.log).
  - Changes nothing on the cluster; the files it writes under O(dest) are the playbook's to fetch and
    remove (playbooks/logs.yml).
author:
  - WizardSofts platform team
extends_documentation_fragment:
  - wizardsofts.ray_cluster.read_only
options:
  dirs:
    description: Node container name to its log directory on this host (without O(store)).
    type: dict
    default: {}
  store:
    description: The log receiver's store of the cluster on this host (the plan's C(cluster.monitoring.logs.store.dir)).
    type: path
  nodes:
    description: With O(store), host to the names of its nodes to read.
    type: dict
    default: {}
  since:
    description: The window, back from now - C(30s), C(15m), C(2h), C(1d).
    type: str
    default: 15m
  pattern:
    description: A Python regular expression a line must match (searched anywhere in it); empty for every line.
    type: str
    default: ""
  dest:
    description: The directory on this host the node files are written to (created, mode 0700).
    type: path
    required: true
  container_output:
    description: Also read each node container's output (C(docker logs)); nodes without a container are skipped.
    type: bool
    default: true
  docker_cli:
    description: The Docker client to run, a name looked up on E(PATH) or an absolute path.
    type: str
    default: docker
"""

EXAMPLES = r"""
- name: Gather the last hour's errors of this host's nodes
  wizardsofts.ray_cluster.ray_node_logs:
    dirs: "{{ ray_cluster_plan.hosts[inventory_hostname].node_log_dirs }}"
    since: 1h
    pattern: "(?i)error|traceback"
    dest: /tmp/ray-cluster-logs
"""

RETURN = r"""
files:
  description: Node name (C(<host>/<node>) with O(store)) to the file written for it on this host.
  returned: always
  type: dict
  sample: {ray-worker-1: /tmp/ray-cluster-logs/ray-worker-1.log}
lines:
  description: Node name (C(<host>/<node>) with O(store)) to the number of lines written for it.
  returned: always
  type: dict
  sample: {ray-worker-1: 42}
"""

import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._log_read import (
    parse_duration,
    write_node_logs,
    write_store_logs,
)


def _container_output(module: AnsibleModule, docker: str | None, name: str, seconds: int) -> str:
    if not docker:
        return ""
    rc, out, err = module.run_command([docker, "logs", "--since", f"{seconds}s", name])
    return out + err if rc == 0 else ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dirs": {"type": "dict", "default": {}},
            "store": {"type": "path"},
            "nodes": {"type": "dict", "default": {}},
            "since": {"type": "str", "default": "15m"},
            "pattern": {"type": "str", "default": ""},
            "dest": {"type": "path", "required": True},
            "container_output": {"type": "bool", "default": True},
            "docker_cli": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        seconds = parse_duration(params["since"])
        re.compile(params["pattern"])
    except (ValueError, re.error) as exc:
        module.fail_json(msg=f"since={params['since']!r}, pattern={params['pattern']!r}: {exc}")
    docker = module.get_bin_path(params["docker_cli"]) if params["container_output"] else None
    os.makedirs(params["dest"], mode=0o700, exist_ok=True)
    since = time.time() - seconds
    files, lines = {}, {}
    if params["store"]:
        for host, names in sorted(params["nodes"].items()):
            os.makedirs(os.path.join(params["dest"], host), mode=0o700, exist_ok=True)
            for name in sorted(names or []):
                path = os.path.join(params["dest"], host, f"{name}.log")
                lines[f"{host}/{name}"] = write_store_logs(params["store"], host, name, since, params["pattern"], path)
                files[f"{host}/{name}"] = path
        module.exit_json(changed=False, files=files, lines=lines)
    for name, directory in sorted(params["dirs"].items()):
        path = os.path.join(params["dest"], f"{name}.log")
        output = _container_output(module, docker, name, seconds)
        lines[name] = write_node_logs(str(directory), since, params["pattern"], path, output)
        files[name] = path
    module.exit_json(changed=False, files=files, lines=lines)


if __name__ == "__main__":
    main()
