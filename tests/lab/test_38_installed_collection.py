"""The built artifact, installed the way a user installs it, runs against the converged lab.

Runs before test_40's upgrade (which leaves the lab on another GCS storage) and test_48's
teardown: it needs the cluster converged from the lab inventory. The playbook is the installed
copy's (FQCN), run from a directory outside this checkout with a copy of ansible.cfg that neither
points at this checkout's collections nor names an inventory; community.docker and
community.general come from the venv's `ansible` package.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from labkit import BIN, LAB_INVENTORY, ROOT, log, playbook

HOST = "lab-82"
# ansible.cfg settings that tie a run to this checkout; a user's configuration has neither.
CHECKOUT_SETTINGS = re.compile(r"^\s*(collections_paths?|inventory)\s*=", re.MULTILINE)


def _user_config(target: Path) -> Path:
    """This checkout's ansible.cfg (SSH multiplexing, pipelining, ...) without its checkout paths."""
    lines = (ROOT / "ansible.cfg").read_text().splitlines(keepends=True)
    target.write_text("".join(line for line in lines if not CHECKOUT_SETTINGS.match(line)))
    return target


def _install_artifact(tmp_path: Path, env: dict[str, str]) -> Path:
    dist, installed = tmp_path / "dist", tmp_path / "installed"
    galaxy = str(BIN / "ansible-galaxy")
    build = [galaxy, "collection", "build", "--output-path", str(dist), "--force"]
    subprocess.run(build, cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=300)
    (tarball,) = dist.glob("wizardsofts-ray_cluster-*.tar.gz")
    # --force: molecule's prerun installs this collection into ~/.ansible/collections, and without it
    # ansible-galaxy sees "already installed" there and leaves the scratch path empty.
    install = [galaxy, "collection", "install", "--force", "--offline", "-p", str(installed), str(tarball)]
    subprocess.run(install, cwd=tmp_path, env=env, check=True, capture_output=True, text=True, timeout=300)
    return installed


def test_installed_artifact_converges_a_server_with_nothing_to_change(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    config = _user_config(tmp_path / "ansible.cfg")
    env = {**os.environ, "ANSIBLE_CONFIG": str(config), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    env.pop("ANSIBLE_INVENTORY", None)
    installed = _install_artifact(tmp_path, env)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(installed)

    # The collection the run resolves is the installed copy, not this checkout.
    argv = [str(BIN / "ansible-galaxy"), "collection", "list", "wizardsofts.ray_cluster", "--format", "json"]
    listing = subprocess.run(argv, cwd=work, env=env, check=True, capture_output=True, text=True, timeout=120)
    paths = [Path(p).resolve() for p, found in json.loads(listing.stdout).items() if "wizardsofts.ray_cluster" in found]
    assert paths == [(installed / "ansible_collections").resolve()], listing.stdout

    run = playbook(
        "wizardsofts.ray_cluster.site", "--tags", "ray_worker", "--limit", HOST,
        inventory=LAB_INVENTORY, cwd=work,
        env={key: env[key] for key in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH")},
    )  # fmt: skip
    assert run.rc == 0, run
    assert HOST in run.recap, run
    assert run.recap[HOST]["changed"] == 0, run
    assert set(run.recap) == {HOST}, run
    log(f"installed artifact: site --tags ray_worker --limit {HOST} changed nothing in {run.seconds:.0f} s")
