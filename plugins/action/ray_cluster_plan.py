# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Action plugin: read the cluster from the inventory and compute the plan on the controller."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import (
    PLAN_ARGUMENT_SPEC,
    PLAN_HOST_VARIABLES,
    PlanError,
    build_plan,
    facts_for_plan,
)

# Not inputs of the plan: this plugin's own fact from an earlier run, and the secret token, which
# never enters the plan (the ray_compose role writes it to a root-only file on each host).
NOT_PLAN_INPUTS = frozenset({"ray_cluster_plan", "ray_cluster_auth_token"})


def inventory_hosts(
    hostvars: Any, groups: dict[str, list[str]], head_group: str, worker_group: str
) -> tuple[list[str], list[str], dict[str, dict[str, Any]]]:
    """Collect the plan's input from the inventory: group members, their variables and facts."""
    head_hosts = list(groups.get(head_group, []))
    worker_hosts = list(groups.get(worker_group, []))
    data: dict[str, dict[str, Any]] = {}
    for host in dict.fromkeys([*head_hosts, *worker_hosts]):
        hvars = hostvars[host]
        entry = {key: hvars[key] for key in hvars if key.startswith("ray_cluster_") and key not in NOT_PLAN_INPUTS}
        for key in PLAN_HOST_VARIABLES:
            if key in hvars:
                entry[key] = hvars[key]
        entry["facts"] = facts_for_plan(hvars.get("ansible_facts"))
        data[host] = entry
    return head_hosts, worker_hosts, data


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=PLAN_ARGUMENT_SPEC)
        if args["hosts"] is None:
            head_hosts, worker_hosts, hosts = inventory_hosts(
                task_vars["hostvars"], task_vars["groups"], args["head_group"], args["worker_group"]
            )
        else:
            head_hosts, worker_hosts, hosts = args["head_hosts"] or [], args["worker_hosts"] or [], args["hosts"]
        try:
            plan = build_plan(head_hosts, worker_hosts, hosts)
        except PlanError as exc:
            raise AnsibleActionFail(str(exc), result={"host": exc.host, "variable": exc.variable}) from None
        if plan["warnings"]:
            result["warnings"] = list(plan["warnings"])
        result.update(changed=False, plan=plan, ansible_facts={"ray_cluster_plan": plan})
        return result
