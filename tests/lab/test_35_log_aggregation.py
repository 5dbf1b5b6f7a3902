"""Log aggregation: every server ships its Ray nodes' logs to the receiver on the monitoring host
(rsyslog, RELP over TLS); the store keeps them per host and node, tagged with their file; nothing is
lost while the receiver is away; only the cluster's members reach the receiver's port."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from labkit import log, node_print, outsider_reach, plan, playbook, reach, server, store_grep, wait_for

# Workers on three servers (lab-84, the monitoring host, is the fourth).
NODES = [("lab-80", "ray-worker-2"), ("lab-81", "ray-worker-1"), ("lab-82", "ray-worker-1")]


def logs_plan() -> dict:
    return plan()["cluster"]["monitoring"]["logs"]


def test_markers_on_three_servers_reach_the_store_within_10_s_tagged_with_their_node(tmp_path: Path) -> None:
    store = logs_plan()["store"]["dir"]
    markers, seconds = {}, {}
    for host, node in NODES:
        marker = f"aggregated-{host}-{node}-{time.time_ns()}"
        assert node_print(host, node, "marker", marker) == "1"
        printed = time.monotonic()
        wait_for(f"{marker} in the store", lambda m=marker: store_grep(m), timeout=10, step=0.25)
        seconds[f"{host}/{node}"] = round(time.monotonic() - printed, 1)
        markers[(host, node)] = marker
    for (host, node), marker in markers.items():
        found = store_grep(marker)
        assert len(found) == 1, found
        path, line = found[0].split(":", 1)
        # Its host's directory, its node's file; the line names the session file that held it.
        assert path.startswith(f"{store}/{host}/{node}.log"), path
        stamp, source, text = line.split(" ", 2)
        assert stamp.startswith(time.strftime("%Y-%m-%d", time.gmtime())) and "/worker-" in source and text == marker, line
    # Each node's container output is there too (what `ray start` printed), in its node's file.
    for host, node in NODES:
        output = [line for line in store_grep("Local node IP", host) if line.split(":", 1)[0].split("/")[-1].startswith(node)]
        assert output and all(" container " in line for line in output), (host, node, output)
    # playbooks/logs.yml returns each from the store, in its node's file only.
    pattern = "|".join(markers.values())
    run = playbook("playbooks/logs.yml", "-e", json.dumps({"ray_logs_dest": str(tmp_path), "ray_logs_pattern": pattern}))
    assert run.rc == 0, run
    for (host, node), marker in markers.items():
        holding = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.log") if marker in p.read_text()]
        assert holding == [f"{host}/{node}.log"], (marker, holding)
    log(f"markers printed on 3 servers reached the store after (s, measured from the task's return): {seconds}")


def test_nothing_is_lost_while_the_receiver_is_stopped_for_60_s() -> None:
    logs = logs_plan()
    receiver, (host, node) = logs["receiver"], NODES[0]
    prefix, count = f"outage-{time.time_ns()}", 120
    server(receiver["host"], "docker", "stop", receiver["container"])
    stopped = time.monotonic()
    try:
        # Lines printed all through the outage (one every half second for 60 s).
        printer = threading.Thread(target=node_print, args=(host, node, "lines", f"{prefix}:{count}:0.5"), daemon=True)
        printer.start()
        printer.join(timeout=180)
        assert not printer.is_alive(), "the printing task did not finish"
        time.sleep(max(0.0, 60 - (time.monotonic() - stopped)))
        assert not store_grep(prefix), "the store received lines while the receiver was stopped"
    finally:
        server(receiver["host"], "docker", "start", receiver["container"])
    back = time.monotonic()
    wanted = {f"{prefix}-{i}" for i in range(count)}

    def received() -> set[str]:
        return {line.rsplit(" ", 1)[-1] for line in store_grep(prefix, host)}

    waited = wait_for("every line printed during the outage in the store", lambda: received() >= wanted, timeout=120, step=2)
    lines = store_grep(prefix, host)
    assert received() == wanted
    log(
        f"receiver stopped {back - stopped:.0f} s while {count} lines were printed on {host}/{node}: all {count} in the"
        f" store {waited:.0f} s after it came back ({len(lines) - count} duplicates)"
    )


def test_the_receiver_port_answers_the_members_only() -> None:
    receiver = logs_plan()["receiver"]
    port = [receiver["port"]]
    for host in ("lab-80", "lab-81", "lab-82"):
        assert reach(host, receiver["ip"], port, on_server=True) == {receiver["port"]: True}, host
    outside = outsider_reach({receiver["ip"]: port})[receiver["ip"]]
    assert outside == {receiver["port"]: False}, outside
    log(f"the receiver's port {receiver['port']}: open to every member, closed to a non-member")
