"""Faults of workers and servers: the cluster heals by itself; status.yml names what is missing.
Times are printed. Head faults: test_32_head_faults.py."""

from __future__ import annotations

import subprocess
import time

from labkit import lab_host, lab_hosts, log, playbook, ray_containers, server, wait_whole


def kill_main_process(host: str, container: str) -> float:
    """SIGKILL a container's main process from its server, as an OOM kill would (docker kill
    would count as a manual stop and defeat the restart policy)."""
    server(host, "sh", "-c", f"kill -9 $(docker inspect -f '{{{{.State.Pid}}}}' {container})")
    return time.monotonic()


def test_worker_process_kill_restarts_the_container_and_it_rejoins() -> None:
    restarts = ray_containers("lab-80")["ray-worker-1"][1]
    killed = kill_main_process("lab-80", "ray-worker-1")
    time.sleep(3)
    wait_whole(timeout=300)
    assert ray_containers("lab-80")["ray-worker-1"][1] == restarts + 1
    log(f"worker SIGKILL: whole again after at most {time.monotonic() - killed:.0f} s")


def test_server_reboot_brings_docker_ray_and_ufw_back() -> None:
    rules = server("lab-81", "ufw", "show", "added")
    before = ray_containers("lab-81")
    started = time.monotonic()
    subprocess.run(["docker", "restart", lab_hosts()["lab-81"]], check=True, capture_output=True, timeout=180)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            state = lab_host("lab-81").run("systemctl is-system-running").stdout.strip()
        except RuntimeError:  # testinfra's SSH backend: the server does not answer yet
            state = "unreachable"
        if state in ("running", "degraded"):
            break
        time.sleep(2)
    # Docker brings the Ray containers back by their restart policy: new processes, same containers.
    while time.monotonic() < deadline:
        now = ray_containers("lab-81")
        if set(now) == set(before) and all(now[n][0] != before[n][0] for n in now):
            break
        time.sleep(2)
    else:
        raise AssertionError(f"lab-81's Ray containers did not come back: {ray_containers('lab-81')}")
    time.sleep(10)  # let the head notice the old nodes are gone before reading the cluster
    wait_whole(timeout=300)
    assert "Status: active" in server("lab-81", "ufw", "status")
    assert lab_host("lab-81").service("docker").is_running
    assert server("lab-81", "ufw", "show", "added") == rules
    log(f"server reboot (lab-81): UFW active with the same rules, cluster whole after at most {time.monotonic() - started:.0f} s")


def test_status_names_the_missing_server_and_the_cluster_heals_when_it_is_back() -> None:
    container = lab_hosts()["lab-82"]
    subprocess.run(["docker", "stop", container], check=True, capture_output=True, timeout=180)
    try:
        # The head notices a lost node after its health checks fail (some seconds).
        deadline = time.monotonic() + 120
        while True:
            run = playbook("playbooks/status.yml")
            if run.rc != 0 or time.monotonic() > deadline:
                break
            time.sleep(5)
        assert run.rc != 0, run
        assert "lab-82" in run.out and "ray-worker-1" in run.out, run
        assert "10 of 11" in run.out or "missing nodes per host" in run.out, run
        log("status.yml with lab-82 stopped: failed and named lab-82/ray-worker-1")
    finally:
        subprocess.run(["docker", "start", container], check=True, capture_output=True, timeout=180)
    wait_whole(timeout=300)
