"""The GCS in Redis (ray_cluster_gcs_storage=redis) on the lab: converged from the inventory and
rerun with nothing changed; Redis refuses clients without the cluster's password and is closed to
the other servers; head faults and Redis's own (a restart, 60 s down) end with the cluster whole
and no worker restarted, and status.yml says what is wrong while Redis is down. The lab comes to
Redis from test_40's upgrade round trip (see the on_redis fixture). benchmarks/head_faults.py
--storage redis repeats the figures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from headfaults import HEAD_HOST, REDIS, REDIS_DOWN_S, Outcome, inject_and_time, work_through_a_fault
from labkit import LAB_INVENTORY, cluster_token, gcs_in_redis, lab_host, log, plan, playbook, server, wait_whole

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import gcs_redis_password

BOUND_S = 90
OTHER_SERVER = "lab-80"
REDIS_PORT = 6380  # the default ray_cluster_gcs_redis_port


@pytest.fixture(scope="module")
def on_redis(redis_inventory: Path) -> Iterator[Path]:
    """The lab with its GCS in Redis. In the suite, test_40's upgrade round trip left it there (its
    way back converged this inventory) and test_48's teardown follows. Run alone, this module
    converges the lab to Redis first and back to the default storage at the end."""
    if gcs_in_redis():
        yield redis_inventory
        return
    started = time.monotonic()
    run = playbook("site.yml", inventory=redis_inventory, timeout=900)
    log(f"converge to GCS storage redis: {time.monotonic() - started:.0f} s")
    assert run.rc == 0, run
    yield redis_inventory
    started = time.monotonic()
    back = playbook("site.yml", inventory=LAB_INVENTORY, timeout=900)
    log(f"converge back to the default GCS storage: {time.monotonic() - started:.0f} s")
    assert back.rc == 0, back


def _report(outcome: Outcome) -> None:
    shown = "never" if outcome.seconds is None else f"{outcome.seconds:.1f} s"
    log(f"redis {outcome.fault}: whole again after {shown}; restarted: {outcome.restarted}")


def test_redis_converges_and_a_rerun_changes_nothing(on_redis: Path) -> None:
    assert "ray-gcs-redis" in server(HEAD_HOST, "docker", "ps", "--format", "{{.Names}} {{.Status}}")
    run = playbook("site.yml", inventory=on_redis)
    assert run.rc == 0, run
    assert run.changed_hosts() == set(), run
    status = playbook("playbooks/status.yml", inventory=on_redis)
    assert status.rc == 0, status
    assert "GCS state: redis at " in status.out and "(ray-gcs-redis)" in status.out


def _redis_cli(*argv: str, password: str | None = None) -> str:
    """redis-cli in the Redis container, to the head's node address (the password, when given, in
    the environment: never on a command line)."""
    env = ["-e", f"REDISCLI_AUTH={password}"] if password is not None else []
    address = ["-h", plan()["cluster"]["head_ip"], "-p", str(REDIS_PORT)]
    argv = ["docker", "exec", *env, REDIS, "redis-cli", *address, *argv]
    result = lab_host(HEAD_HOST).run(" ".join(["%s"] * len(argv)), *argv)
    return (result.stdout + result.stderr).strip()  # redis-cli prints a refused login on stderr


def _connects(host: str) -> bool:
    """Whether a TCP connection from a lab server to the Redis port of the head's node address opens."""
    probe = f"exec 3<>/dev/tcp/{plan()['cluster']['head_ip']}/{REDIS_PORT}"
    return lab_host(host).run("timeout 3 bash -c %s", probe).rc == 0


def test_redis_needs_the_password_and_is_closed_to_other_servers(on_redis: Path) -> None:
    del on_redis
    assert _redis_cli("ping").startswith("NOAUTH")
    assert "WRONGPASS" in _redis_cli("--user", "ray", "ping", password="not-the-password")  # noqa: S106 (a wrong one)
    assert "WRONGPASS" in _redis_cli("--user", "default", "ping", password="anything")  # noqa: S106 (a wrong one)
    password = gcs_redis_password(cluster_token())
    assert _redis_cli("--user", "ray", "ping", password=password).splitlines() == ["PONG"]
    for option, value in (("maxmemory-policy", "noeviction"), ("appendonly", "yes")):
        assert _redis_cli("--user", "ray", "config", "get", option, password=password).split() == [option, value]
    # The password is in no compose file or container spec (the containers derive it from the token).
    specs = server(HEAD_HOST, "sh", "-c", "cat /opt/ray-cluster/head/compose.yaml; docker inspect ray-head ray-gcs-redis")
    assert password not in specs and cluster_token() not in specs
    # Reachable from the head's own server (where the head runs), closed to the other servers by UFW.
    assert _connects(HEAD_HOST)
    assert not _connects(OTHER_SERVER)


def test_head_faults_with_redis_keep_workers_actors_and_jobs(on_redis: Path) -> None:
    del on_redis
    work = work_through_a_fault("gcs_server")
    _report(work.outcome)
    assert work.tasks["correct"] == work.tasks["submitted"] > 0, work.tasks
    assert work.outcome.seconds is not None and work.outcome.seconds < BOUND_S, work.outcome
    assert work.outcome.restarted == [f"{HEAD_HOST}/ray-head"], work.outcome
    assert (work.actor_calls, work.job_status) == (2, "SUCCEEDED")
    outcome = inject_and_time("container_restart")
    _report(outcome)
    assert outcome.seconds is not None and outcome.seconds < BOUND_S, outcome
    assert outcome.restarted == [f"{HEAD_HOST}/ray-head"], outcome


def test_a_redis_restart_restarts_only_the_head(on_redis: Path) -> None:
    del on_redis
    outcome = inject_and_time("redis_restart")
    _report(outcome)
    assert outcome.seconds is not None and outcome.seconds < BOUND_S, outcome
    assert set(outcome.restarted) <= {f"{HEAD_HOST}/ray-head", f"{HEAD_HOST}/{REDIS}"}, outcome


def test_redis_down_for_a_minute_is_reported_and_the_cluster_heals(on_redis: Path) -> None:
    seen: list[str] = []

    def status_while_down() -> None:
        time.sleep(5)
        status = playbook("playbooks/status.yml", inventory=on_redis)
        seen.append(f"rc={status.rc} " + " ".join(status.out.split()))

    outcome = inject_and_time("redis_down", during=status_while_down)
    _report(outcome)
    assert seen and not seen[0].startswith("rc=0 "), seen
    assert "GCS store redis at " in seen[0] and ": unreachable: " in seen[0], seen
    assert outcome.seconds is not None and outcome.seconds < REDIS_DOWN_S + BOUND_S, outcome
    assert set(outcome.restarted) <= {f"{HEAD_HOST}/ray-head", f"{HEAD_HOST}/{REDIS}"}, outcome
    wait_whole(on_redis)
