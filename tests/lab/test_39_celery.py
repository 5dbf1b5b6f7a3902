"""Celery beside Ray on the lab (issue 16): the broker on lab-84, Flower there, a Celery worker on each of
lab-80, lab-81 and lab-82, the collection's sample app, deployed with `--tags ufw,celery` from an
inventory that adds the Celery groups. 1,000 tasks on three servers, a task that submits a Ray job, the
logins and the firewall, a killed worker's task redelivered, a broker restart that loses nothing, a
scale-up of one server, and the removal that leaves the lab as it was. Times are printed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labkit import (
    LAB_INVENTORY,
    adhoc,
    inventory_with,
    jobs_api,
    lab_host,
    log,
    outsider_reach,
    playbook,
    reach,
    scraped,
    server,
    wait_for,
)

BROKER_HOST = FLOWER_HOST = "lab-84"
WORKER_HOSTS = ("lab-80", "lab-81", "lab-82")
# The Flower container runs the app image (the app and the launcher): the tests' client, never killed.
CLIENT = ("lab-84", "celery-flower")
# A short time limit, so the visibility timeout (twice it) that brings a lost task back is short too.
TIME_LIMIT_S = 25
# Monitoring too: Prometheus scrapes Flower (its configuration changes with Celery, and back after).
TAGS = ("--tags", "ufw,celery,monitoring")


def _pip_cert() -> str:
    """The CA bundle this machine's pip trusts, as lab/images.sh finds it (the app image's build uses the same mirror)."""
    run = subprocess.run(["pip3", "config", "get", "global.cert"], capture_output=True, text=True, check=False)
    configured = run.out.strip() if run.returncode == 0 else ""
    cert = os.environ.get("PIP_CERT") or configured or "/etc/ssl/certs/ca-certificates.crt"
    return cert if Path(cert).is_file() else ""


def celery_inventory(tmp_path: Path, counts: dict[str, int] | None = None) -> Path:
    settings: dict[str, Any] = {
        "celery_image_method": "archive",
        "celery_task_time_limit_s": TIME_LIMIT_S,
        # The four lab servers share the machine's two cores: their Ray nodes already claim each one's two vCPUs.
        "ray_cluster_allow_oversubscription": True,
    }
    if _pip_cert():
        settings["celery_image_build_ca_bundle"] = _pip_cert()
    changes: dict[str, dict[str, Any]] = {"group:ray_cluster": settings}
    changes.update({host: {"celery_worker_count": count} for host, count in (counts or dict.fromkeys(WORKER_HOSTS, 1)).items()})
    groups = {"celery_broker": [BROKER_HOST], "celery_flower": [FLOWER_HOST], "celery_workers": list(WORKER_HOSTS)}
    return inventory_with(tmp_path, changes, groups)


def celery_containers(host: str) -> dict[str, str]:
    """The host's Celery containers: name -> start time."""
    out = server(host, "docker", "ps", "--filter", "label=com.docker.compose.project=ray-celery", "--format", "{{.Names}}")
    names = sorted(out.split())
    if not names:
        return {}
    started = server(host, "docker", "inspect", "-f", "{{.State.StartedAt}}", *names).split()
    return dict(zip(names, started, strict=True))


def client(script: str, *args: str, timeout: int = 600) -> Any:
    """Run ``script`` in the client container with the app configured as the workers have it (``app``), and
    return the JSON it prints last."""
    prelude = (
        "import json, sys, time\n"
        "from ray_cluster_celery.cli import configured_app\n"
        "from ray_cluster_celery.config import load_config\n"
        "app, _ = configured_app(load_config())\n"
    )
    host, container = CLIENT
    out = server(host, "timeout", str(timeout), "docker", "exec", container, "python3", "-c", prelude + script, *args)
    return json.loads(out.strip().splitlines()[-1])


def flower_get(path: str, secret: str | None = None) -> tuple[int, Any]:
    celery = celery_plan()
    headers = {"Authorization": "Basic " + base64.b64encode(f"admin:{secret}".encode()).decode()} if secret else {}
    request = urllib.request.Request(f"{celery['flower']['url']}{path}", headers=headers)  # noqa: S310 (the lab)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the lab, http)
            body = response.read()
            return response.status, json.loads(body) if body.startswith((b"{", b"[")) else body.decode()
    except urllib.error.HTTPError as exc:
        return exc.code, None


_PLAN: dict[str, Any] = {}


def celery_plan() -> dict[str, Any]:
    return _PLAN["celery"]


@pytest.fixture(scope="module")
def celery_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Celery deployed on the lab for the module; removed afterwards (the lab inventory has no Celery)."""
    inventory = celery_inventory(tmp_path_factory.mktemp("celery"))
    run = playbook("site.yml", *TAGS, inventory=inventory, timeout=900)
    assert run.rc == 0, run
    log(f"Celery deployed (app image built on the controller, images shipped, containers healthy) in {run.seconds:.0f} s")
    _PLAN["celery"] = adhoc("localhost", "wizardsofts.ray_cluster.ray_cluster_plan", inventory=inventory)["localhost"]["plan"][
        "cluster"
    ]["celery"]
    yield inventory
    removal = playbook("site.yml", *TAGS, inventory=LAB_INVENTORY, timeout=600)
    assert removal.rc == 0, removal
    for host in (BROKER_HOST, *WORKER_HOSTS):
        assert celery_containers(host) == {}, host
        assert not lab_host(host).file(celery_plan()["dir"]).exists, host
    assert lab_host(BROKER_HOST).file(celery_plan()["broker"]["data_dir"]).is_directory  # the broker's data stays
    again = playbook("site.yml", *TAGS, inventory=LAB_INVENTORY)
    assert again.rc == 0 and again.changed_hosts() == set(), again
    log(f"Celery removed from the lab in {removal.seconds:.0f} s (then a rerun changed nothing)")


def test_a_rerun_changes_nothing_and_restarts_nothing(celery_lab: Path) -> None:
    before = {host: celery_containers(host) for host in (BROKER_HOST, *WORKER_HOSTS)}
    assert set(before[BROKER_HOST]) == {"celery-broker", "celery-flower"}
    assert all(set(before[host]) == {"celery-worker-1"} for host in WORKER_HOSTS), before
    run = playbook("site.yml", *TAGS, inventory=celery_lab)
    assert run.rc == 0 and run.changed_hosts() == set(), run
    assert {host: celery_containers(host) for host in before} == before
    log(f"Celery rerun with nothing to change: changed=0, no container restarted, {run.seconds:.1f} s")


def test_1000_tasks_on_three_servers(celery_lab: Path) -> None:
    result = client(
        "n = int(sys.argv[1]); t0 = time.time()\n"
        "results = [app.send_task('sample.cpu', args=[20000]) for _ in range(n)]\n"
        "sent = time.time() - t0\n"
        "values = [r.get(timeout=300) for r in results]\n"
        "took = time.time() - t0\n"
        "hosts = {}\n"
        "for v in values: hosts[v['hostname']] = hosts.get(v['hostname'], 0) + 1\n"
        "print(json.dumps({'n': len(values), 'checksums': len({v['checksum'] for v in values}), 'hosts': hosts,"
        " 'sent': sent, 'took': took}))\n",
        "1000",
    )
    assert result["n"] == 1000 and result["checksums"] == 1
    assert {name.split("@")[1] for name in result["hosts"]} == set(WORKER_HOSTS), result
    log(
        f"1,000 sample.cpu tasks: sent in {result['sent']:.1f} s, all results back in {result['took']:.1f} s "
        f"({1000 / result['took']:.0f} tasks/s); per worker {result['hosts']}"
    )


def test_a_task_that_fails_and_retries_succeeds(celery_lab: Path) -> None:
    result = client("print(json.dumps(app.send_task('sample.flaky', args=['retry-check', 2]).get(timeout=120)))")
    assert result["attempts"] == 3, result


def test_a_task_submits_a_ray_job_visible_in_the_jobs_api(celery_lab: Path) -> None:
    entrypoint = "python -c \"import ray; ray.init(); print('celery-ray', ray.cluster_resources()['CPU'])\""
    started = time.monotonic()
    result = client(f"print(json.dumps(app.send_task('sample.submit_ray_job', args=[{entrypoint!r}]).get(timeout=300)))")
    assert result["status"] == "SUCCEEDED", result
    status, job = jobs_api(result["submission_id"])
    assert status == 200 and job["status"] == "SUCCEEDED", job
    assert job["metadata"].get("celery_task_id"), job
    log(
        f"a Celery task submitted Ray job {result['submission_id']} with the cluster token: SUCCEEDED"
        f" in {time.monotonic() - started:.1f} s"
    )


def test_the_broker_and_flower_need_their_secrets_and_are_members_only(celery_lab: Path) -> None:
    celery = celery_plan()
    broker = celery["broker"]
    refused = client(
        "import socket\n"
        "with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:\n"
        "    s.sendall(b'PING\\r\\n'); print(json.dumps(s.recv(200).decode()))\n",
        broker["ip"],
        str(broker["port"]),
    )
    assert "Authentication required" in refused, refused
    assert flower_get("/api/workers")[0] == 401
    assert flower_get("/api/workers", "not-the-password")[0] == 401
    secret = lab_host(FLOWER_HOST).file(celery["flower"]["password_file"]).content_string.strip()
    status, workers = flower_get("/api/workers?refresh=1", secret)
    assert status == 200 and {name.split("@")[1] for name in workers} == set(WORKER_HOSTS), workers
    # A Celery host reaches the broker, but not Flower (admins and the monitoring host only); an outsider neither.
    assert reach("lab-82", broker["ip"], [broker["port"], celery["flower"]["port"]], on_server=True) == {
        broker["port"]: True,
        celery["flower"]["port"]: False,
    }
    outside = outsider_reach({broker["ip"]: [broker["port"], celery["flower"]["port"]]})
    assert set(outside[broker["ip"]].values()) == {False}, outside


def test_prometheus_scrapes_flower(celery_lab: Path) -> None:
    seconds = wait_for("Flower's metrics scraped", lambda: scraped().get(("celery_flower", FLOWER_HOST, "")) == "up" or None, 60)
    log(f"Prometheus scrapes Flower's metrics (job celery_flower, up {seconds:.0f} s after the test began)")


def test_a_killed_worker_s_task_is_redelivered_and_completes(celery_lab: Path) -> None:
    started = client(
        "r = app.send_task('sample.long', args=[8])\n"
        "for _ in range(60):\n"
        "    active = app.control.inspect(timeout=1).active() or {}\n"
        "    who = [w for w, tasks in active.items() if any(t['id'] == r.id for t in tasks)]\n"
        "    if who: break\n"
        "    time.sleep(0.5)\n"
        "print(json.dumps({'id': r.id, 'worker': who[0]}))\n"
    )
    host = started["worker"].split("@")[1]
    # SIGKILL of the worker's main process, as an OOM kill would (docker kill would count as a manual stop).
    server(host, "sh", "-c", "kill -9 $(docker inspect -f '{{.State.Pid}}' celery-worker-1)")
    killed = time.monotonic()
    result = client("print(json.dumps(app.AsyncResult(sys.argv[1]).get(timeout=300)))", started["id"])
    assert result["redelivered"] is True, result
    assert result["seconds"] == 8
    log(
        f"worker on {host} killed mid-task: the task came back (visibility timeout {celery_plan()['visibility_timeout_s']} s) "
        f"and completed on {result['hostname']} {time.monotonic() - killed:.0f} s after the kill"
    )


def test_a_broker_restart_loses_no_queued_task_and_workers_reconnect(celery_lab: Path) -> None:
    workers_before = {host: celery_containers(host) for host in WORKER_HOSTS}
    queued = client(
        "app.control.cancel_consumer('celery', reply=True, timeout=5)\n"
        "ids = [app.send_task('sample.cpu', args=[1000]).id for _ in range(100)]\n"
        "with app.connection_for_write() as conn:\n"
        "    depth = conn.default_channel.client.llen('celery')\n"
        "print(json.dumps({'ids': ids, 'depth': depth}))\n"
    )
    assert queued["depth"] == 100, queued
    server(BROKER_HOST, "docker", "restart", "celery-broker")
    restarted = time.monotonic()
    result = client(
        "with app.connection_for_write() as conn:\n"
        "    depth = conn.default_channel.client.llen('celery')\n"
        "deadline = time.time() + 120\n"
        "while True:\n"
        "    replies = app.control.add_consumer('celery', reply=True, timeout=3) or []\n"
        "    if len(replies) == 3 or time.time() > deadline: break\n"
        "    time.sleep(1)\n"
        "values = [app.AsyncResult(i).get(timeout=300) for i in sys.argv[1:]]\n"
        "print(json.dumps({'depth': depth, 'done': len(values), 'replies': len(replies)}))\n",
        *queued["ids"],
    )
    assert result["depth"] == 100, result
    assert result["done"] == 100 and result["replies"] == 3, result
    assert {host: celery_containers(host) for host in WORKER_HOSTS} == workers_before  # reconnected, not restarted
    log(f"broker restarted with 100 tasks queued: 100 still queued after it, all done {time.monotonic() - restarted:.0f} s later")


def test_a_rolling_restart_drains_each_server_s_workers(celery_lab: Path) -> None:
    before = {host: celery_containers(host) for host in WORKER_HOSTS}
    # A task per worker, running when the restart begins: each is finished by its worker, not redelivered.
    sent = client("print(json.dumps([app.send_task('sample.long', args=[6]).id for _ in range(3)]))")
    time.sleep(2)
    run = playbook(
        "playbooks/restart.yml", "-e", "ray_restart_workers=false", "-e", "ray_restart_celery=true", inventory=celery_lab
    )
    assert run.rc == 0, run
    results = client("print(json.dumps([app.AsyncResult(i).get(timeout=120) for i in sys.argv[1:]]))", *sent)
    assert [r["redelivered"] for r in results] == [False] * 3, results
    after = {host: celery_containers(host) for host in WORKER_HOSTS}
    assert all(after[host][name] != before[host][name] for host in WORKER_HOSTS for name in before[host]), (before, after)
    log(f"rolling restart of the Celery workers (3 servers, one at a time, each finishing its task): {run.seconds:.0f} s")


def test_status_shows_the_broker_the_queues_and_the_workers(celery_lab: Path) -> None:
    run = playbook("playbooks/status.yml", inventory=celery_lab)
    assert run.rc == 0, run
    said = " ".join(run.out.split())
    assert "reachable, 0 task(s) delivered and not yet acknowledged" in said, said
    assert "queues (waiting tasks): celery=0" in said, said
    assert "workers: 3 answering of 3 planned" in said, said
    server("lab-82", "docker", "stop", "celery-worker-1")
    try:
        down = playbook("playbooks/status.yml", inventory=celery_lab)
        assert down.rc != 0, down
        assert "planned workers not answering: celery-worker-1@lab-82" in " ".join(down.out.split()), down.out
    finally:
        server("lab-82", "docker", "start", "celery-worker-1")
    log(f"status.yml reports the broker, the queue depth and 3 of 3 workers ({run.seconds:.1f} s), and names a stopped one")


def test_scaling_one_server_touches_nothing_else(celery_lab: Path, tmp_path: Path) -> None:
    counts = {**dict.fromkeys(WORKER_HOSTS, 1), "lab-81": 2}
    inventory = celery_inventory(tmp_path, counts)
    before = {host: celery_containers(host) for host in (BROKER_HOST, *WORKER_HOSTS)}
    run = playbook("site.yml", "--tags", "celery", "--limit", "lab-81", inventory=inventory)
    assert run.rc == 0 and run.changed_hosts() == {"lab-81"}, run
    assert set(celery_containers("lab-81")) == {"celery-worker-1", "celery-worker-2"}
    assert celery_containers("lab-81")["celery-worker-1"] == before["lab-81"]["celery-worker-1"]
    assert {host: celery_containers(host) for host in (BROKER_HOST, "lab-80", "lab-82")} == {
        host: before[host] for host in (BROKER_HOST, "lab-80", "lab-82")
    }
    hosts = client(
        "r = [app.send_task('sample.long', args=[1]) for _ in range(8)]\n"
        "print(json.dumps(sorted({v.get(timeout=120)['hostname'] for v in r})))"
    )
    assert "celery-worker-2@lab-81" in hosts, hosts
    log(f"lab-81 scaled to 2 Celery workers with --tags celery --limit lab-81 in {run.seconds:.0f} s; nothing else touched")
