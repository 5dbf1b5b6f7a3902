# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Lookup: the id of an image in the controller's own Docker engine."""

from __future__ import annotations

DOCUMENTATION = r"""
name: ray_image_id
author: WizardSofts
short_description: The id of an image in the controller's Docker engine
version_added: 1.0.0
description:
  - Returns, for each image name given, the id (C(sha256:<hex>)) the controller's Docker engine has
    under that name, or an empty string when it has no such image.
  - Runs C(docker image inspect) on the controller, in the lookup itself (no task, no connection, no
    module run), so a run that only compares this id with the hosts' costs almost nothing. The
    C(docker) command honours C(DOCKER_HOST) and the current Docker context, as it does for the user.
  - Fails, naming the image and the reason, when there is no C(docker) command on the controller or
    the engine cannot be asked (no daemon, no permission).
  - The C(archive) method of the wizardsofts.ray_cluster.ray_image role uses it to find the image
    every host must have.
options:
  _terms:
    description: Image names, each with its tag (C(name:tag)) or digest.
    type: list
    elements: str
    required: true
seealso:
  - module: community.docker.docker_image_info
"""

EXAMPLES = r"""
- name: The id of the image every host must have
  ansible.builtin.set_fact:
    controller_image_id: "{{ lookup('wizardsofts.ray_cluster.ray_image_id', 'wizardsofts/ray:2.60.0-py311') }}"
"""

RETURN = r"""
_raw:
  description: For each name, the image's id, or an empty string when the engine has no such image.
  type: list
  elements: str
  sample: ["sha256:a583e3d456f4808a15c099d6b91d54c01739533111bd8477428b3dd162c2a745"]
"""

import shutil
import subprocess
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._probe import image_id

# No engine answers slower than this when it answers at all.
TIMEOUT_S = 60


def _run(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return 124, "", f"no answer in {TIMEOUT_S} s"
    return done.returncode, done.stdout, done.stderr


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        self.set_options(var_options=variables, direct=kwargs)
        docker = shutil.which("docker")
        if not docker:
            raise AnsibleLookupError("ray_image_id: no docker command on the controller (install the Docker CLI there)")
        found = []
        for name in terms:
            if not isinstance(name, str) or not name.strip():
                raise AnsibleLookupError(f"ray_image_id: expected an image name, got {name!r}")
            try:
                found.append(image_id(_run, docker, name.strip()) or "")
            except ValueError as exc:
                raise AnsibleLookupError(f"ray_image_id: the controller's Docker engine cannot say: {exc}") from None
        return found
