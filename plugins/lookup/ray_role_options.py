# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Lookup: the options of some of this collection's roles, merged into one argument spec."""

from __future__ import annotations

DOCUMENTATION = r"""
name: ray_role_options
author: WizardSofts
short_description: The main entry point options of some of this collection's roles, as one argument spec
version_added: 1.0.0
description:
  - Returns one argument specification (for M(ansible.builtin.validate_argument_spec)) made of the options
    of the C(main) entry point of each role named, read from the role's C(meta/argument_specs.yml) in this
    collection.
  - Only what validation needs is kept (C(type), C(elements), C(choices), C(required), C(no_log), nested
    C(options) and the like), without descriptions or defaults, so a default that is a template (such as the
    token option's) is never rendered into the task's arguments.
  - site.yml's plan play checks the input of every role the run selects with it, in one task before any change,
    instead of one validation per role entry point it calls.
  - Fails, naming it, for a role this collection does not have, or two roles that declare the same option
    differently.
options:
  _terms:
    description: Role names of this collection, without the collection prefix (such as C(ufw) or C(ray_image)).
    type: list
    elements: str
    required: true
seealso:
  - module: ansible.builtin.validate_argument_spec
"""

EXAMPLES = r"""
- name: Check the input of the roles this run selects, in one task
  ansible.builtin.validate_argument_spec:
    argument_spec: "{{ lookup('wizardsofts.ray_cluster.ray_role_options', 'ufw', 'docker_engine', 'ray_image') }}"
"""

RETURN = r"""
_raw:
  description: One argument specification, option name to its validation attributes.
  type: list
  elements: dict
  sample: [{"ufw_logging": {"type": "str", "choices": ["off", "low", "medium", "high", "full"]}}]
"""

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._role_specs import merged_options

# plugins/lookup/<this file> -> the collection's roles directory.
ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        self.set_options(var_options=variables, direct=kwargs)
        roles: list[str] = []
        for term in terms:
            roles += [str(name) for name in term] if isinstance(term, list) else [str(term)]
        try:
            return [merged_options(ROLES_DIR, roles)]
        except ValueError as exc:
            raise AnsibleLookupError(f"ray_role_options: {exc}") from None
