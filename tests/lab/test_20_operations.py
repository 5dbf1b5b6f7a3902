"""Routine changes on one server: only that server, only the affected containers, change."""

from __future__ import annotations

import time
from pathlib import Path

from labkit import (
    cluster_containers,
    cluster_token,
    grep_node_logs,
    inventory_with,
    lab_host,
    lab_hosts,
    log,
    node_print,
    plan,
    playbook,
    ray_containers,
    scraped,
    server,
    store_grep,
    wait_for,
    wait_whole,
    whole_line,
)

WORKER = {"cpus": 0.5, "num_cpus": 2, "memory": "1536m", "memory_reservation": "512m", "shm_size": "256m"}


MONITORING_HOST = "lab-84"


def wait_target(host: str, node: str, health: str | None) -> float:
    """Seconds until Prometheus scrapes the node's target with that health (None: no such target)."""
    return wait_for(f"{host}/{node} {health or 'gone'}", lambda: scraped().get(("ray_node", host, node)) == health or None, 60)


def all_containers() -> dict[str, dict[str, tuple[str, int]]]:
    return {host: ray_containers(host) for host in lab_hosts()}


def test_firewall_drift_on_one_server_is_repaired_by_a_tagged_rerun() -> None:
    wanted = server("lab-81", "ufw", "status", "verbose")
    rules = server("lab-81", "ufw", "show", "added")
    # By hand on the server: logging off, incoming allowed by default, UFW disabled.
    server("lab-81", "sh", "-c", "ufw logging off && ufw default allow incoming && ufw --force disable")
    assert server("lab-81", "ufw", "status", "verbose").startswith("Status: inactive")
    run = playbook("site.yml", "--tags", "ufw", "--limit", "lab-81")
    assert run.rc == 0, run
    assert run.changed_hosts() == {"lab-81"}, run
    assert server("lab-81", "ufw", "status", "verbose") == wanted
    assert server("lab-81", "ufw", "show", "added") == rules
    again = playbook("site.yml", "--tags", "ufw", "--limit", "lab-81")
    assert again.rc == 0 and not again.changed_hosts(), again
    log(f"UFW drift on lab-81 (disabled, logging off, default allow) repaired in {run.seconds:.0f} s")


LEFT_ALONE = "matches the plan: left alone"


def test_a_rerun_repairs_drift_on_the_servers_that_have_it_and_leaves_the_others_alone() -> None:
    before = all_containers()
    daemon_json = server("lab-82", "cat", "/etc/docker/daemon.json")
    token_file = plan()["cluster"]["auth_token_file"]
    # By hand: a worker stopped on lab-81, Docker's options rewritten on lab-82, the token file
    # opened to everyone on lab-80. lab-84 is not touched.
    server("lab-81", "docker", "stop", "ray-worker-2")
    server("lab-82", "sh", "-c", "echo '{}' > /etc/docker/daemon.json")
    server("lab-80", "chmod", "0644", token_file)
    run = playbook("site.yml")
    assert run.rc == 0, run
    # Each difference is named before anything changes, and only those servers are converged.
    for words in ("ray-worker-2: exited", "/etc/docker/daemon.json: content differs", f"{token_file}: mode 0644"):
        assert words in run.out, (words, run)
    assert run.out.count(LEFT_ALONE) == 1, run
    assert run.changed_hosts() == {"lab-80", "lab-81", "lab-82"}, run
    assert server("lab-82", "cat", "/etc/docker/daemon.json") == daemon_json
    assert lab_host("lab-80").file(token_file).mode == 0o600
    after = all_containers()
    assert after["lab-84"] == before["lab-84"], "a server without drift had containers restarted"
    assert after["lab-80"] == before["lab-80"], "fixing the token file's mode restarted containers"
    assert after["lab-81"]["ray-worker-2"][0] != before["lab-81"]["ray-worker-2"][0], "the stopped worker was not started"
    # site.yml's verification waited until the cluster was whole (the same check as status.yml's).
    assert whole_line() in run.out, run
    again = playbook("site.yml")
    assert again.rc == 0 and not again.changed_hosts(), again
    assert again.out.count(LEFT_ALONE) == 4, again
    log(f"drift on 3 servers repaired in {run.seconds:.0f} s (one left alone); a rerun left all alone in {again.seconds:.0f} s")


def test_the_head_token_file_rewritten_by_hand_is_repaired_without_a_restart() -> None:
    # The same token, written otherwise (spaces, CRLF): the rerun reads it back from the head's
    # digest (never the token), so only the head's file differs; the containers keep running.
    cluster = plan()["cluster"]
    head, token_file, token = cluster["head_host"], cluster["auth_token_file"], cluster_token()
    before = all_containers()
    server(head, "sh", "-c", f"printf '  %s\\r\\n' \"$(cat {token_file})\" > {token_file}")
    assert lab_host(head).file(token_file).content_string == f"  {token}\r\n"
    run = playbook("site.yml")
    assert run.rc == 0, run
    assert f"{token_file}: content differs" in run.out, run
    assert run.out.count(LEFT_ALONE) == len(lab_hosts()) - 1, run
    assert run.changed_hosts() == {head}, run
    assert lab_host(head).file(token_file).content_string == token + "\n"
    assert all_containers() == before, "rewriting the same token restarted containers"
    again = playbook("site.yml")
    assert again.rc == 0 and not again.changed_hosts() and again.out.count(LEFT_ALONE) == len(lab_hosts()), again
    log(f"the head's token file rewritten by hand: repaired in {run.seconds:.0f} s, no container restarted")


def test_resize_one_worker_with_a_tag_limited_rerun(tmp_path: Path) -> None:
    # A line the worker's task printed before the resize: its log file must outlive the container.
    marker = f"before-the-resize-{time.time_ns()}"
    assert node_print("lab-81", "ray-worker-2", "marker", marker) == "1"
    before = all_containers()
    # Only lab-81's second worker gets a smaller memory limit.
    inventory = inventory_with(tmp_path, {"lab-81": {"ray_worker_overrides": [{}, {"memory": "1400m"}]}})
    run = playbook("site.yml", "--tags", "ray_worker", "--limit", "lab-81", inventory=inventory)
    assert run.rc == 0, run
    assert set(run.recap) == {"lab-81"} and run.changed_hosts() == {"lab-81"}, run
    after = all_containers()
    for host in lab_hosts():
        if host != "lab-81":
            assert after[host] == before[host], f"{host} containers changed"
    assert after["lab-81"]["ray-worker-1"] == before["lab-81"]["ray-worker-1"], "an unaffected worker was recreated"
    assert after["lab-81"]["ray-worker-2"] != before["lab-81"]["ray-worker-2"], "the resized worker was not recreated"
    limit = ray_containers_memory("lab-81", "ray-worker-2")
    assert limit == 1400 * 1024 * 1024
    wait_whole(inventory)
    kept = grep_node_logs("lab-81", "ray-worker-2", marker)
    assert kept and all("/logs/" in path for path in kept), f"the recreated worker lost its earlier logs: {kept}"
    if plan()["cluster"]["monitoring"].get("logs"):
        # And in the log store, under its host and node.
        stored = [line.split(":", 1)[0].split("/")[-2:] for line in store_grep(marker)]
        assert len(stored) == 1 and stored[0][0] == "lab-81" and stored[0][1].startswith("ray-worker-2.log"), stored
    # Back to the inventory as it is: again only that one container is recreated.
    run = playbook("site.yml", "--tags", "ray_worker", "--limit", "lab-81")
    assert run.rc == 0 and run.changed_hosts() == {"lab-81"}, run
    assert ray_containers_memory("lab-81", "ray-worker-2") == 1536 * 1024 * 1024
    wait_whole()


def ray_containers_memory(host: str, name: str) -> int:
    return int(server(host, "docker", "inspect", "--format", "{{.HostConfig.Memory}}", name).strip())


def test_scale_a_server_up_and_down(tmp_path: Path) -> None:
    before = all_containers()
    inventory = inventory_with(tmp_path, {"lab-82": {"ray_worker_count": 2}})
    # A new worker needs its ports opened too: the firewall and worker concerns, on that server.
    run = playbook("site.yml", "--tags", "ufw,ray_worker", "--limit", "lab-82", inventory=inventory)
    assert run.rc == 0, run
    assert set(run.recap) == {"lab-82"}, run
    up = all_containers()
    assert set(up["lab-82"]) == {"ray-worker-1", "ray-worker-2"}
    assert up["lab-82"]["ray-worker-1"] == before["lab-82"]["ray-worker-1"], "the existing worker was restarted"
    for host in set(lab_hosts()) - {"lab-82"}:
        assert up[host] == before[host]
    status = wait_whole(inventory)
    assert "12 of 12 nodes alive" in status.out, status
    log("scaled lab-82 to 2 workers: 12 nodes alive")
    # The monitoring host's targets follow (its own concern): the new node is scraped, Prometheus is not restarted.
    prometheus = cluster_containers(MONITORING_HOST)["ray-prometheus"]["State"]["StartedAt"]
    run = playbook("site.yml", "--tags", "monitoring", "--limit", MONITORING_HOST, inventory=inventory)
    assert run.rc == 0 and run.changed_hosts() == {MONITORING_HOST}, run
    assert cluster_containers(MONITORING_HOST)["ray-prometheus"]["State"]["StartedAt"] == prometheus, "Prometheus restarted"
    seconds = wait_target("lab-82", "ray-worker-2", "up")
    log(f"the new worker's metrics scraped {seconds:.0f} s after the monitoring run, Prometheus kept running")

    run = playbook("site.yml", "--tags", "ufw,ray_worker", "--limit", "lab-82")
    assert run.rc == 0, run
    run = playbook("site.yml", "--tags", "monitoring", "--limit", MONITORING_HOST)
    assert run.rc == 0 and run.changed_hosts() == {MONITORING_HOST}, run
    wait_target("lab-82", "ray-worker-2", None)
    down = all_containers()
    assert set(down["lab-82"]) == {"ray-worker-1"}, "the surplus worker is still there"
    assert down["lab-82"]["ray-worker-1"] == before["lab-82"]["ray-worker-1"], "the remaining worker was restarted"
    status = wait_whole()
    assert "11 of 11 nodes alive" in status.out, status


def test_rolling_restart_keeps_the_head_and_restarts_every_worker() -> None:
    before = all_containers()
    run = playbook("playbooks/restart.yml")
    assert run.rc == 0, run
    after = all_containers()
    assert after["lab-84"]["ray-head"] == before["lab-84"]["ray-head"]
    for host, containers in after.items():
        for name, started in containers.items():
            if name != "ray-head":
                assert started[0] != before[host][name][0], f"{host}/{name} was not restarted"
    log(f"rolling restart of {sum(len(c) for c in after.values()) - 1} workers on 4 servers: {run.seconds:.0f} s")
    # restart.yml waited, after each server, until the cluster was whole (the same check as status.yml's).
    servers = [host for host, containers in after.items() if any(name.startswith("ray-worker") for name in containers)]
    assert run.out.count(whole_line()) == len(servers), run


def test_head_restart_and_every_worker_rejoins() -> None:
    before = all_containers()
    run = playbook("playbooks/restart.yml", "-e", "ray_restart_workers=false", "-e", "ray_restart_head=true")
    assert run.rc == 0, run
    after = all_containers()
    assert after["lab-84"]["ray-head"][0] != before["lab-84"]["ray-head"][0], "the head was not restarted"
    # The playbook waited until every planned node was alive again on the new head (the same check as
    # status.yml's).
    assert whole_line() in run.out, run
    log(f"head restart, the cluster whole again (11/11) after {run.seconds:.0f} s")
