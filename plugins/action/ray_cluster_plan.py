# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Action plugin: read the cluster from the inventory and compute the plan on the controller."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._celery import (
    DEFAULT_CELERY_GROUPS,
    SAMPLE_APP_DIR,
    app_digest,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import (
    NOT_PLAN_INPUTS,
    PREFIXES,
    PlanError,
    auth_token_of,
    check_auth_token,
    known_variables,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import (
    PLAN_ARGUMENT_SPEC,
    PLAN_HOST_VARIABLES,
    build_plan,
    facts_for_plan,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import PLANNER_VARIABLES

# The collection's roles: their argument specs list the role variables a host may set.
ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


def inventory_hosts(
    hostvars: Any, groups: dict[str, list[str]], head_group: str, worker_group: str
) -> tuple[list[str], list[str], dict[str, dict[str, Any]]]:
    """Collect the plan's input from the inventory: group members, their variables and facts.

    Every variable with one of the collection's prefixes is passed, so the planner can refuse
    unknown names; only the planner's own inputs are read. The others are passed by name (value
    None): their values are the roles' to check, and reading one here would template it, which
    fails when it refers to the plan not computed yet. The token and the collection's facts are
    never passed (NOT_PLAN_INPUTS).
    """
    head_hosts = list(groups.get(head_group, []))
    worker_hosts = list(groups.get(worker_group, []))
    data: dict[str, dict[str, Any]] = {}
    for host in dict.fromkeys([*head_hosts, *worker_hosts]):
        hvars = hostvars[host]
        entry = {
            key: hvars[key] if key in PLANNER_VARIABLES else None
            for key in hvars
            if key.startswith(PREFIXES) and key not in NOT_PLAN_INPUTS
        }
        for key in PLAN_HOST_VARIABLES:
            if key in hvars:
                entry[key] = hvars[key]
        entry["facts"] = facts_for_plan(hvars.get("ansible_facts"))
        data[host] = entry
    return head_hosts, worker_hosts, data


def _celery_app_digest(hosts: dict[str, dict[str, Any]]) -> str:
    """The digest of the Celery app as the first host names it (the planner refuses hosts that differ):
    read here, on the controller, where the app's source is. Empty without Celery settings."""
    hvars = next(iter(hosts.values()), {})
    source = hvars.get("celery_app_source") or ""
    requirement = hvars.get("celery_app_requirement") or ""
    module = hvars.get("celery_app_module") or "wizardsofts_celery_sample.app:app"
    if not isinstance(source, str) or not isinstance(requirement, str) or not isinstance(module, str):
        return ""  # the planner refuses them, naming the variable
    if not source and not requirement:
        source = str(ROLES_DIR / SAMPLE_APP_DIR)
    return app_digest(module, source, requirement) if (requirement or os.path.isdir(source)) else ""


def cluster_members(groups: dict[str, list[str]], cluster_group: str) -> list[str] | None:
    """The cluster group's hosts, or None when the inventory has no such group (nothing to check)."""
    return list(groups[cluster_group]) if cluster_group in groups else None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=PLAN_ARGUMENT_SPEC)
        try:
            known = known_variables(PLANNER_VARIABLES, ROLES_DIR)
        except (OSError, ValueError) as exc:
            raise AnsibleActionFail(f"ray_cluster_plan: {exc}") from None
        notes: list[str] = []
        try:
            if args["hosts"] is None:
                plan, notes = self._plan_from_inventory(task_vars, args, known)
            else:
                head_hosts, worker_hosts = args["head_hosts"] or [], args["worker_hosts"] or []
                plan = build_plan(
                    head_hosts,
                    worker_hosts,
                    args["hosts"],
                    monitoring_hosts=args["monitoring_hosts"],
                    known=known,
                    monitoring_group=args["monitoring_group"],
                    celery_groups=args["celery_hosts"],
                    celery_group_names=args["celery_groups"],
                    celery_app_digest=_celery_app_digest(args["hosts"]),
                )
        except PlanError as exc:
            raise AnsibleActionFail(str(exc), result={"host": exc.host, "variable": exc.variable}) from None
        if plan["warnings"] or notes:
            result["warnings"] = [*plan["warnings"], *notes]
        result.update(changed=False, plan=plan)
        return result

    @staticmethod
    def _plan_from_inventory(
        task_vars: dict[str, Any], args: dict[str, Any], known: frozenset[str]
    ) -> tuple[dict[str, Any], list[str]]:
        """The plan from the inventory, and notes for the run's warnings."""
        hostvars, groups = task_vars["hostvars"], task_vars["groups"]
        head_hosts, worker_hosts, hosts = inventory_hosts(hostvars, groups, args["head_group"], args["worker_group"])
        cluster_hosts = cluster_members(groups, args["cluster_group"])
        group_names = (args["cluster_group"], args["head_group"], args["worker_group"])
        celery_names = {**DEFAULT_CELERY_GROUPS, **(args.get("celery_groups") or {})}
        plan = build_plan(
            head_hosts,
            worker_hosts,
            hosts,
            cluster_hosts=cluster_hosts,
            monitoring_hosts=groups.get(args["monitoring_group"]),
            known=known,
            group_names=group_names,
            monitoring_group=args["monitoring_group"],
            celery_groups={kind: groups.get(group) or [] for kind, group in celery_names.items()},
            celery_group_names=celery_names,
            celery_app_digest=_celery_app_digest(hosts),
        )
        # The token is checked here, never passed to the planner: the plan must not hold it.
        try:
            tokens = {host: auth_token_of(hostvars[host]) for host in plan["cluster"]["hosts"]}
        except AnsibleError:
            # Such as a vaulted token in a run without the vault password (playbooks/plan.yml): the
            # plan does not need it; the run that writes the token reads it, and fails, itself.
            return plan, ["ray_cluster_auth_token: not checked, it cannot be read on the controller (Vault password?)"]
        check_auth_token(tokens, plan["cluster"]["auth_mode"])
        return plan, []
