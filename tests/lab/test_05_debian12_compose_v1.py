"""A Debian 12 server (its docker.io ships Compose v1 only) is refused before anything changes.

The seed's server 84 ran docker-compose v1, which silently ignores `deploy.resources`: every
container would run without its CPU and memory limits. The lab puts a real Debian 12 (bookworm)
system in place of lab-82 and runs the real site.yml against it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import inventory_with, log, playbook

# Debian 12 minbase with python3 (lab/images.sh builds it as the Ray image's base).
BOOKWORM_IMAGE = "wizardsofts-lab/python:3.11-bookworm"
CONTAINER = "ray-lab-bookworm"
# A bare Debian 12 system (no sshd, no sudo): reached through the Docker API as root.
BOOKWORM_CONNECTION = {"lab_container": CONTAINER, "lab_connection": "community.docker.docker", "ansible_become": False}


def docker(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture(scope="module")
def bookworm_server() -> Iterator[str]:
    docker("rm", "-f", CONTAINER, check=False)
    docker(
        "run", "-d", "--name", CONTAINER, "--hostname", "lab-82",
        "--label", "com.wizardsofts.ray_cluster.lab=bookworm", BOOKWORM_IMAGE, "sleep", "infinity",
    )  # fmt: skip
    try:
        release = docker("exec", CONTAINER, "sh", "-c", ". /etc/os-release && echo $VERSION_ID $VERSION_CODENAME").stdout
        assert release.split() == ["12", "bookworm"], release
        yield CONTAINER
    finally:
        docker("rm", "-f", CONTAINER, check=False)


def installed(container: str, package: str) -> bool:
    out = docker("exec", container, "dpkg-query", "-W", "-f=${Status}", package, check=False).stdout
    return "install ok installed" in out


def test_debian12_is_refused_before_any_change(bookworm_server: str, tmp_path: Path) -> None:
    inventory = inventory_with(tmp_path, {"lab-82": BOOKWORM_CONNECTION})
    run = playbook("site.yml", "--limit", "lab-82", inventory=inventory)
    assert run.rc != 0, run
    failure = run.out[run.out.find("fatal:") :]
    for word in ("lab-82", "Debian 12", "Compose v1 only", "docker_engine_source=docker_repo"):
        assert word in failure, f"the refusal does not name {word!r}:\n{failure[:2000]}"
    # Refused in the first play: UFW (whose role comes first) was not even installed.
    assert not run.changed_hosts(), run
    assert "PLAY [Converge the Ray cluster]" not in run.out, run
    for package in ("ufw", "docker.io", "docker-compose"):
        assert not installed(bookworm_server, package), f"{package} was installed on the refused server"
    log(f"Debian 12 server refused (Compose v1 only) in {run.seconds:.1f} s, nothing installed")


def test_debian12_repo_option_needs_the_repository_urls(bookworm_server: str, tmp_path: Path) -> None:
    inventory = inventory_with(tmp_path, {"lab-82": {**BOOKWORM_CONNECTION, "docker_engine_compose_v1": "repo"}})
    run = playbook("site.yml", "--limit", "lab-82", inventory=inventory)
    assert run.rc != 0, run
    failure = run.out[run.out.find("fatal:") :]
    for word in ("lab-82", "docker_engine_compose_v1=repo", "docker_engine_repo_url=''"):
        assert word in failure, f"the failure does not name {word!r}:\n{failure[:2000]}"
    assert not run.changed_hosts(), run
    assert not installed(bookworm_server, "ufw")
