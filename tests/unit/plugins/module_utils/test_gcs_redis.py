# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The GCS in Redis (ray_cluster_gcs_storage=redis): the plan, the compose services, the password
the containers derive from the token, and the status module's login and PING."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from planner_cases import FINGERPRINT, HEAD, Hosts, cluster, plan, refusal

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content, compose_services
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status import (
    gcs_store,
    gcs_store_problem,
    redis_health,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import (
    gcs_redis_password,
    gcs_redis_password_sh,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._verify import gcs_state_line

TOKEN = "q7k2m9x4p1w8r5t3y6u0i2o4a7s9d1f3g5h8j0k2l4z6x8c1v3b5n7m9q2w4e6r8"  # noqa: S105 (a test value)


def redis_plan(hosts: Hosts, **settings: Any) -> dict[str, Any]:
    cluster(ray_cluster_gcs_storage="redis", **settings)(hosts)
    return plan(hosts)


# --------------------------------------------------------------------------- the plan


def test_plan_puts_redis_beside_the_head_and_opens_no_port_for_it(lab_hosts: Hosts) -> None:
    built = redis_plan(lab_hosts, ray_cluster_gcs_redis_memory="256m")
    head_ip = built["cluster"]["head_ip"]
    assert built["cluster"]["gcs_redis"] == {
        "container": "ray-gcs-redis",
        "ip": head_ip,
        "port": 6380,
        "address": f"{head_ip}:6380",
        "username": "ray",
        "namespace": "ray",
        "memory": 256 * 2**20,
        "maxmemory": int(256 * 2**20 * 0.9),
    }
    assert built["cluster"]["gcs_storage_path"].endswith("/ray/redis-ray-2.60.0")
    assert built["cluster"]["gcs_reconnect_timeout_s"] == 60
    head = built["hosts"][HEAD]["projects"]["head"]
    assert head["services"] == ["ray-gcs-redis", built["cluster"]["head_container"]]
    for name, host_plan in built["hosts"].items():
        if name != HEAD:
            assert "ray-gcs-redis" not in host_plan["projects"]["workers"]["services"]
        for rule in host_plan["firewall"]:
            assert "6380" not in rule["port"].split(":"), (name, rule)


def test_redis_memory_counts_in_the_head_hosts_capacity(lab_hosts: Hosts) -> None:
    # The head host's Ray limits add up to 5 GiB; it has 5.5 GiB.
    lab_hosts[HEAD]["facts"] = {"vcpus": 8, "memtotal_mb": 5632, "default_ipv4": None}
    assert plan(lab_hosts)["hosts"][HEAD]["capacity"]["memory"] == 5 * 2**30
    fits = redis_plan(lab_hosts, ray_cluster_gcs_redis_memory="512m")
    assert fits["hosts"][HEAD]["capacity"]["memory"] == 5 * 2**30 + 512 * 2**20
    assert fits["hosts"]["lab-80"]["capacity"]["memory"] == 4 * 2**30  # a workers-only host: no Redis
    cluster(ray_cluster_gcs_redis_memory="1g")(lab_hosts)  # 6 GiB on the head host
    error = refusal(lab_hosts)
    assert error.host == HEAD
    assert error.variable == "ray_head_spec.memory/ray_worker_spec.memory/ray_cluster_gcs_redis_memory"
    assert error.value == "6.00GiB" and "above the host's 5.50GiB" in str(error)
    cluster(ray_cluster_allow_oversubscription=True)(lab_hosts)
    assert any("ray_cluster_gcs_redis_memory" in warning for warning in plan(lab_hosts)["warnings"])


def test_other_storages_have_no_redis(lab_hosts: Hosts) -> None:
    built = plan(lab_hosts)
    assert built["cluster"]["gcs_redis"] == {}
    assert "ray-gcs-redis" not in built["hosts"][HEAD]["projects"]["head"]["services"]
    assert "ray-gcs-redis" not in compose_content(built, HEAD, "head", FINGERPRINT)


def test_a_head_host_container_named_like_the_redis_is_refused(lab_hosts: Hosts) -> None:
    cluster(ray_cluster_gcs_storage="redis")(lab_hosts)
    lab_hosts[HEAD]["ray_head_spec"] = {**lab_hosts[HEAD].get("ray_head_spec", {}), "name": "ray-gcs-redis"}
    error = refusal(lab_hosts)
    assert error.host == HEAD
    assert "ray-gcs-redis" in str(error)


# --------------------------------------------------------------------------- the compose services


def test_head_logs_in_to_redis_with_a_password_no_file_holds(lab_hosts: Hosts) -> None:
    built = redis_plan(lab_hosts)
    services = compose_services(built, HEAD, "head", FINGERPRINT)
    assert list(services) == ["ray-gcs-redis", built["cluster"]["head_container"]]
    head = services[built["cluster"]["head_container"]]
    redis = built["cluster"]["gcs_redis"]
    assert head["environment"]["RAY_REDIS_ADDRESS"] == redis["address"]
    assert head["environment"]["RAY_external_storage_namespace"] == "ray"
    assert "RAY_gcs_storage" not in head["environment"]
    assert head["depends_on"] == {"ray-gcs-redis": {"condition": "service_healthy"}}
    assert head["command"][:3] == ["ray", "start", "--block"]  # the plan's argv, after the login the shell adds
    assert head["entrypoint"][:2] == ["/bin/sh", "-c"]
    assert "--redis-username=ray" in head["entrypoint"][2]
    assert all(volume.split(":")[1] != "/var/lib/ray-gcs" for volume in head["volumes"])
    server = services["ray-gcs-redis"]
    assert f"{built['cluster']['gcs_storage_path']}:/data" in server["volumes"]
    script = server["entrypoint"][2]
    for option in (
        f"--bind {redis['ip']}",
        "--port 6380",
        "--appendonly yes",
        "--maxmemory-policy noeviction",
        "user default off",
    ):
        assert option in script
    assert server["deploy"]["resources"]["limits"]["memory"] == str(redis["memory"])
    assert server["labels"]["com.wizardsofts.auth-token-sha256"] == FINGERPRINT  # a new token recreates it
    # The password is derived in the containers: neither the token nor the password is in the file.
    text = compose_content(built, HEAD, "head", FINGERPRINT)
    assert gcs_redis_password(TOKEN) not in text
    assert "$$(" in text and "$(" not in text.replace("$$(", "")  # every $ escaped from compose


@pytest.mark.parametrize("text", [TOKEN, f"{TOKEN}\n", f"  {TOKEN}\r\n"], ids=["bare", "newline", "spaces-crlf"])
def test_the_containers_shell_derives_the_password_python_derives(tmp_path: Path, text: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(text)
    shell = subprocess.run(
        ["/bin/sh", "-c", f'printf %s "{gcs_redis_password_sh(str(token_file))}"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout == gcs_redis_password(text) == gcs_redis_password(TOKEN)
    assert len(shell.stdout) == 64 and TOKEN not in shell.stdout


def test_no_password_without_a_token() -> None:
    with pytest.raises(ValueError, match="no token"):
        gcs_redis_password(" \n")


# --------------------------------------------------------------------------- the login and PING


class FakeRedis:
    """A Redis stand-in on loopback that answers each connection's commands with ``replies``."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = replies
        self.received = b""
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while self.received.count(b"\r\n") < 10:  # AUTH (3 words: 7 lines) and PING (3 lines) in RESP
                chunk = conn.recv(4096)
                if not chunk:
                    break
                self.received += chunk
            conn.sendall(b"".join(self.replies))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake_redis(request: pytest.FixtureRequest) -> Iterator[FakeRedis]:
    server = FakeRedis(request.param)
    yield server
    server.close()


@pytest.mark.parametrize(
    ("fake_redis", "logged_in", "error"),
    [
        ([b"+OK\r\n", b"+PONG\r\n"], True, None),
        (
            [b"-WRONGPASS invalid username-password pair or user is disabled.\r\n", b"-NOAUTH Authentication required.\r\n"],
            False,
            "login refused: WRONGPASS invalid username-password pair or user is disabled.",
        ),
        (
            [b"+OK\r\n", b"-LOADING Redis is loading the dataset in memory\r\n"],
            False,
            "PING answered LOADING Redis is loading the dataset in memory",
        ),
    ],
    indirect=["fake_redis"],
    ids=["pong", "wrong-password", "loading"],
)
def test_redis_health_logs_in_and_pings(fake_redis: FakeRedis, logged_in: bool, error: str | None) -> None:
    health = redis_health(fake_redis.address, "ray", "secret")
    fake_redis.thread.join(5)
    assert fake_redis.received == b"*3\r\n$4\r\nAUTH\r\n$3\r\nray\r\n$6\r\nsecret\r\n*1\r\n$4\r\nPING\r\n"
    assert health == {"address": fake_redis.address, "answering": True, "logged_in": logged_in, "error": error}


def test_redis_health_of_nothing_listening() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    health = redis_health(address, "ray", "secret", timeout=2)
    assert health["answering"] is False and health["logged_in"] is False
    assert health["error"].startswith("unreachable: ")


@pytest.mark.parametrize("fake_redis", [[b"+OK\r\n", b"+PONG\r\n"]], indirect=True)
def test_gcs_store_logs_in_with_the_password_of_the_token_file(fake_redis: FakeRedis, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    (tmp_path / "data").mkdir()
    store = gcs_store(str(tmp_path / "data"), fake_redis.address, "ray", str(token_file))
    fake_redis.thread.join(5)
    assert gcs_redis_password(TOKEN).encode() in fake_redis.received
    assert store is not None and store["present"] and store["redis"]["logged_in"]
    assert gcs_store_problem(store) == ""


def test_gcs_store_without_the_token_file_says_so(tmp_path: Path) -> None:
    store = gcs_store("", "127.0.0.1:1", "ray", str(tmp_path / "missing"))
    assert store is not None and store["redis"]["error"].startswith("no password: ")
    assert gcs_store_problem(store).startswith("GCS store redis at 127.0.0.1:1: no password: ")
    assert gcs_store("", "", "ray", "") is None


def test_state_line_says_redis_is_down(lab_hosts: Hosts) -> None:
    built = redis_plan(lab_hosts)
    address = built["cluster"]["gcs_redis"]["address"]
    down = {
        "path": "/x",
        "present": True,
        "files": 1,
        "bytes": 10,
        "redis": {"address": address, "answering": False, "logged_in": False, "error": "unreachable: Connection refused"},
    }
    line = gcs_state_line(built["cluster"], down)
    assert line.startswith(f"GCS state: redis at {address} (ray-gcs-redis), data in ")
    assert line.endswith("REDIS NOT READY: unreachable: Connection refused (the head's GCS cannot run without it)")
    up = {**down, "redis": {**down["redis"], "answering": True, "logged_in": True, "error": None}}
    assert gcs_state_line(built["cluster"], up).endswith("(a restarted head resumes this cluster)")
