"""What converge and the idempotence run left on every server, read with testinfra: UFW on and
denying by default, the token file root's alone and the same everywhere, the token in no command
line, container configuration or compose file, and no container restarted by the rerun. The
comparisons with the plan (rules, compose files, nodes) are verify.yml's and the status module's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from labkit import lab_host, lab_hosts, plan, ray_containers, server

HOSTS = sorted(lab_hosts())


def token_of(host: str) -> str:
    return lab_host(host).file(plan()["cluster"]["auth_token_file"]).content_string.strip()


@pytest.mark.parametrize("host", HOSTS)
def test_idempotence_run_restarted_no_container(host: str) -> None:
    record = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "start-times.json"
    before = {name: tuple(state) for name, state in json.loads(record.read_text())[host].items()}
    assert before, f"{host}: converge recorded no Ray container"
    assert ray_containers(host) == before


@pytest.mark.parametrize("host", HOSTS)
def test_ufw_is_active_and_denies_incoming_by_default(host: str) -> None:
    status = server(host, "ufw", "status", "verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming)" in status


@pytest.mark.parametrize("host", HOSTS)
def test_token_file_is_roots_alone_and_the_heads_token(host: str) -> None:
    token_file = lab_host(host).file(plan()["cluster"]["auth_token_file"])
    assert (token_file.user, token_file.group, token_file.mode) == ("root", "root", 0o600)
    token = token_of(host)
    assert len(token) >= 32
    assert token == token_of(plan()["cluster"]["head_host"]), f"{host} holds another token than the head"


@pytest.mark.parametrize("host", HOSTS)
def test_token_leaks_into_no_command_line_container_or_compose_file(host: str) -> None:
    token = token_of(host)
    names = [node["name"] for node in plan()["hosts"][host]["nodes"]]
    inspect = server(host, "docker", "inspect", *names)
    assert "RAY_AUTH_MODE=token" in inspect and "RAY_AUTH_TOKEN_PATH=" in inspect, f"{host}: auth is not on"
    assert token not in inspect, f"{host}: the token is in docker inspect output"
    assert token not in server(host, "ps", "-eo", "args"), f"{host}: the token is on a command line"
    for project in plan()["hosts"][host]["projects"].values():
        compose = lab_host(host).file(project["file"])
        assert not compose.exists or token not in compose.content_string, f"{host}: the token is in {project['file']}"


def test_the_gcs_keeps_the_clusters_state_on_the_head_host_only() -> None:
    cluster = plan()["cluster"]
    assert cluster["gcs_storage"] == "rocksdb", "the lab runs the default GCS storage"
    store = lab_host(cluster["head_host"]).file(cluster["gcs_storage_path"])
    assert store.is_directory and (store.user, store.group, store.mode) == ("root", "root", 0o700)
    assert store.listdir(), "the GCS wrote nothing to its store"
    head = json.loads(server(cluster["head_host"], "docker", "inspect", cluster["head_container"]))[0]
    assert "RAY_gcs_storage=rocksdb" in head["Config"]["Env"]
    assert any(m["Source"] == cluster["gcs_storage_path"] and m["RW"] for m in head["Mounts"]), head["Mounts"]
    for host in HOSTS:
        if host != cluster["head_host"]:
            assert not lab_host(host).file(cluster["gcs_storage_root"]).exists, f"{host} has GCS state"
