# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Run the real Ansible CLIs (``ansible-playbook``, ``ansible-doc``) from unit tests, one way for all.

The CLIs of the running Python's virtual environment, with the repository's ``ansible.cfg``
(which resolves the collection from this checkout), no colour, and temporary directories under
the test's ``tmp_path``. Only the controller is involved: the local connection or none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

needs_ansible_cli = pytest.mark.skipif(not (BIN / "ansible-playbook").exists(), reason="ansible CLIs not next to sys.executable")


def run_cli(tool: str, *args: str, tmp_path: Path, timeout: int = 180, path: str = "") -> subprocess.CompletedProcess[str]:
    """``tool`` (``ansible-playbook``, ``ansible-doc``...) with ``args``, from the repository root;
    ``path`` goes before the PATH (stand-in commands)."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-remote"),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    if path:
        env["PATH"] = f"{path}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(BIN / tool), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
