"""Ray's logs on the servers: one directory per node (its /tmp/ray), rotated by Ray, kept within the
node's budget by each server's pruner, and kept when the container is recreated (test_20's resize)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from labkit import grep_node_logs, lab_host, log, node_log_dir, node_print, plan, playbook, server, wait_for

# A worker on another server than the head's.
HOST, NODE = "lab-80", "ray-worker-1"
PRINTED = 200 * 10**6


def current_logs(host: str, path: str) -> str:
    """The node's current session's logs directory on its server (session_latest points inside the container)."""
    return f"{path}/{server(host, 'readlink', f'{path}/session_latest').strip().rsplit('/', 1)[-1]}/logs"


def disk_use(host: str, path: str) -> int:
    """Bytes on disk under ``path`` on a server (du's allocated size)."""
    return int(server(host, "du", "-sB1", path).split()[0])


def test_every_node_has_its_log_directory_on_its_server() -> None:
    the_plan = plan()
    logs = the_plan["cluster"]["node_logs"]
    for host, host_plan in the_plan["hosts"].items():
        for name, path in host_plan["node_log_dirs"].items():
            inspect = json.loads(server(host, "docker", "inspect", "--format", "{{json .Mounts}}", name))
            binds = {m["Destination"]: m["Source"] for m in inspect if m["Type"] == "bind"}
            mounted = binds.get("/tmp/ray")  # noqa: S108 (Ray's directory in the container)
            assert mounted == path, f"{host}/{name}: its /tmp/ray is {mounted}, not {path}"
            env = server(host, "docker", "inspect", "--format", "{{json .Config.Env}}", name)
            assert f"RAY_ROTATION_MAX_BYTES={logs['file_size']}" in env
            assert f"RAY_ROTATION_BACKUP_COUNT={logs['file_backups']}" in env
            assert "raylet.out" in server(host, "ls", current_logs(host, path)).split(), (
                f"{host}/{name}: no raylet.out in its current session's logs"
            )
        timer = lab_host(host).service(f"{logs['prune_unit']}.timer")
        assert timer.is_enabled and timer.is_running, f"{host}: the pruner's timer is not running"


def test_a_task_printing_200_mb_stays_within_the_node_budget_and_the_store_budget() -> None:
    the_plan = plan()
    logs = the_plan["cluster"]["node_logs"]
    aggregation = the_plan["cluster"]["monitoring"].get("logs") or {}
    path = node_log_dir(HOST, NODE)
    # Disk use sampled twice a second: the node's directory on its server and, with log aggregation,
    # the store on the monitoring host (which goes on receiving after the task ends).
    watched = {"node": (HOST, path)}
    if aggregation:
        watched["store"] = (aggregation["receiver"]["host"], aggregation["store"]["dir"])
    peak, last, stop = dict.fromkeys(watched, 0), dict.fromkeys(watched, 0), threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for key, (host, where) in watched.items():
                last[key] = disk_use(host, where)
                peak[key] = max(peak[key], last[key])
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.time()
    try:
        lines = node_print(HOST, NODE, "bytes", str(PRINTED))
        seconds = time.time() - started
        if aggregation:
            # Until the store has a line the node printed after (the shipper has caught up with it).
            after = f"after-the-200-mb-{time.time_ns()}"
            node_print(HOST, NODE, "marker", after)
            store = aggregation["store"]["dir"]
            grep = ["grep", "-rlF", "--", after, f"{store}/{HOST}"]
            wait_for("the line printed after the 200 MB", lambda: server(watched["store"][0], *grep, check=False), 180)
    finally:
        stop.set()
        sampler.join(timeout=30)
    assert int(lines) == PRINTED // 1000
    # Ray rotated the task's output: no file under the node's directory is larger than the file size
    # (the pruner may already have removed the rotated ones).
    larger = server(HOST, "find", path, "-type", "f", "-size", f"+{logs['file_size'] + 2**16}c")
    assert not larger.strip(), f"files above Ray's rotation size {logs['file_size']}: {larger}"
    assert peak["node"] <= logs["budget"], f"{path} took {peak['node']} bytes, above its budget of {logs['budget']}"
    measured = f"its log directory peaked at {peak['node'] / 2**20:.1f} MiB (budget {logs['budget'] / 2**20:.0f} MiB)"
    if aggregation:
        budget = aggregation["store"]["budget"]
        assert peak["store"] <= budget, f"the store took {peak['store']} bytes, above its budget of {budget}"
        measured += f", the store {peak['store'] / 2**20:.1f} MiB (budget {budget / 2**20:.0f} MiB)"
    log(f"{PRINTED // 10**6} MB printed in {seconds:.0f} s by a task on {HOST}/{NODE}: {measured}")


def test_the_server_prunes_a_node_directory_beyond_its_budget() -> None:
    logs = plan()["cluster"]["node_logs"]
    path = node_log_dir(HOST, NODE)
    # An earlier session's worker logs that together exceed the budget, dated a day back.
    old = f"{path}/session_2000-01-01_00-00-00_000000_1/logs/old"
    size = logs["budget"] // 8
    script = (
        f"mkdir -p {old} && for i in $(seq 1 10); do head -c {size} /dev/zero > {old}/worker-$i.out;"
        f" touch -d '1 day ago' {old}/worker-$i.out; done"
    )
    server(HOST, "sh", "-c", script)
    current = current_logs(HOST, path)
    assert disk_use(HOST, path) > logs["budget"]
    waited = wait_for(
        "the pruner to bring the node's directory within its limit",
        lambda: disk_use(HOST, path) <= logs["prune_limit"],
        timeout=3 * logs["prune_interval_s"] + 10,
        step=1,
    )
    assert disk_use(HOST, path) <= logs["prune_limit"]
    assert "raylet.out" in server(HOST, "ls", current).split(), "the current session's logs were removed"
    server(HOST, "rm", "-rf", f"{path}/session_2000-01-01_00-00-00_000000_1")
    log(f"{HOST}/{NODE}: 10 x {size / 2**20:.0f} MiB of old logs pruned below the limit in {waited:.0f} s")


def test_logs_playbook_fetches_a_marker_from_the_chosen_node(tmp_path: Path) -> None:
    marker = f"node-log-marker-{time.time_ns()}"
    assert node_print(HOST, NODE, "marker", marker) == "1"
    files = grep_node_logs(HOST, NODE, marker)
    assert files and all("/logs/worker-" in f for f in files), files
    # From the servers themselves (the path without log aggregation; with it, the store: test_35).
    chosen = json.dumps(
        {
            "ray_logs_nodes": [f"{HOST}/{NODE}"],
            "ray_logs_dest": str(tmp_path),
            "ray_logs_pattern": marker,
            "ray_logs_source": "servers",
        }
    )
    run = playbook("playbooks/logs.yml", "--limit", HOST, "-e", chosen)
    assert run.rc == 0, run
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.log")) == [Path(HOST, f"{NODE}.log")]
    text = Path(tmp_path, HOST, f"{NODE}.log").read_text()
    assert f"{marker}\n" in text and "==> session_" in text, text
    # Every node by default (the last 15 minutes): one file per planned node of the chosen server.
    every = playbook(
        "playbooks/logs.yml", "--limit", HOST, "-e", f"ray_logs_dest={tmp_path}/all", "-e", "ray_logs_source=servers"
    )
    assert every.rc == 0, every
    wanted = sorted(f"{name}.log" for name in plan()["hosts"][HOST]["node_log_dirs"])
    assert sorted(p.name for p in Path(tmp_path, "all", HOST).iterdir()) == wanted
    assert marker in Path(tmp_path, "all", HOST, f"{NODE}.log").read_text()


def test_logs_playbook_refuses_a_bad_window(tmp_path: Path) -> None:
    run = playbook("playbooks/logs.yml", "--limit", HOST, "-e", f"ray_logs_dest={tmp_path}", "-e", "ray_logs_since=yesterday")
    assert run.rc != 0 and "ray_logs_since" in run.out and "yesterday" in run.out, run
    assert not any(tmp_path.iterdir())
