# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the ray_image_id lookup (plugins/lookup/ray_image_id.py) and _probe.image_id."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.wizardsofts.ray_cluster.plugins.lookup.ray_image_id import LookupModule
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._probe import image_id

IMAGE_ID = "sha256:a583e3d456f4808a15c099d6b91d54c01739533111bd8477428b3dd162c2a745"
# A docker command as the lookup calls it: `docker image inspect --format {{.Id}} <name>`; it answers
# like Docker 26's CLI for three names and fails like a CLI without a daemon for any other.
FAKE_DOCKER = f"""#!/bin/sh
[ "$1 $2 $3 $4" = "image inspect --format {{{{.Id}}}}" ] || {{ echo "unexpected: $*" >&2; exit 2; }}
case "$5" in
  wizardsofts/ray:2.60.0-py311) echo {IMAGE_ID} ;;
  nosuch:1) echo "Error response from daemon: No such image: nosuch:1" >&2; exit 1 ;;
  old:1) echo "Error: No such image: old:1" >&2; exit 1 ;;
  *) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    docker = tmp_path / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    return docker


def test_lookup_finds_the_image_and_says_empty_for_a_missing_one(fake_docker: Path) -> None:
    lookup = LookupModule()
    assert lookup.run(["wizardsofts/ray:2.60.0-py311"], {}) == [IMAGE_ID]
    assert lookup.run(["nosuch:1", " wizardsofts/ray:2.60.0-py311 ", "old:1"], {}) == ["", IMAGE_ID, ""]


def test_lookup_fails_when_the_engine_cannot_say(fake_docker: Path) -> None:
    with pytest.raises(
        AnsibleLookupError, match=r"cannot say: docker image inspect other:1 failed \(rc=1\): Cannot connect to the Docker daemon"
    ):
        LookupModule().run(["other:1"], {})


@pytest.mark.parametrize("name", ["", "  ", None, 3])
def test_lookup_refuses_what_is_not_a_name(fake_docker: Path, name: object) -> None:
    with pytest.raises(AnsibleLookupError, match="expected an image name"):
        LookupModule().run([name], {})


def test_lookup_without_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AnsibleLookupError, match="no docker command on the controller"):
        LookupModule().run(["wizardsofts/ray:2.60.0-py311"], {})


def test_image_id_reads_the_answer() -> None:
    def run(answer: tuple[int, str, str]):
        return lambda argv: answer

    assert image_id(run((0, IMAGE_ID + "\n", "")), "docker", "x") == IMAGE_ID
    assert image_id(run((1, "", "Error response from daemon: No such image: x\n")), "docker", "x") is None
    with pytest.raises(ValueError, match=r"^docker image inspect x failed \(rc=0\)"):
        image_id(run((0, "", "")), "docker", "x")  # an answer with no id is no answer
    with pytest.raises(ValueError, match=r"permission denied"):
        image_id(run((1, "", "permission denied while trying to connect to the Docker daemon socket\n")), "docker", "x")


def _engine_answers() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _engine_answers(), reason="no Docker engine answers on this machine")
def test_lookup_against_this_machines_engine() -> None:
    # The real CLI and daemon: an image it has (any), and one it cannot have.
    docker = shutil.which("docker")
    assert docker
    listed = subprocess.run(
        [docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], capture_output=True, text=True, check=True
    )
    name = next(line.split()[0] for line in listed.stdout.splitlines() if "<none>" not in line)
    found = LookupModule().run([name, "wizardsofts/nosuch-image:0.0.0-never"], {})
    expected = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Id}}", name], capture_output=True, text=True, check=True
    )
    assert found == [expected.stdout.strip(), ""]
    assert found[0].startswith("sha256:")
