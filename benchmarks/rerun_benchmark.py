#!/usr/bin/env python3
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Where a rerun's time goes, against floors measured in the same run (not a test: nothing is
asserted on time). Needs the converged lab (``bin/lab up``); prints one Markdown table.

    .venv/bin/python benchmarks/rerun_benchmark.py [--runs 3] [--cold] [-e lab_connection=...]

Rows, each with its floor from the same sitting, same inventory and connection:

1. ``site.yml`` rerun with nothing to change vs the trivial play (one ping per host) with the facts
   site.yml gathers, and tasks run per host; the smoke job's share of the rerun.
2. Tasks run per host in check mode with 2, 4 and 16 workers on one server (must not grow).
3. A tag-limited rerun of one server (``--tags ray_worker --limit lab-81``) vs the floor limited to it.
4. ``--cold`` (removes and restarts every Ray container twice, ~10 minutes): the Ray layer's cold
   converge (Docker and image in place, no Ray container: ``site.yml``) vs the plain-compose floor
   (the same compose files, ``docker compose up -d`` on every server in parallel, waited on with a bare
   ``ray status`` loop), and the smoke job on a cold cluster.
5. The plan for 1,000 hosts x 32 workers (``plan_benchmark.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
from labkit import inventory_with, lab_hosts, plan, playbook, server  # noqa: E402

PROFILE = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"}
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)", re.MULTILINE)
# The smoke job's own time, as its check reports it (it runs beside the verification's wait).
SMOKE_TASK = re.compile(r"smoke job: \d+ tasks in ([0-9.]+) s")
ACTIVE_NODE = re.compile(r"^\s+\d+ node_", re.MULTILINE)


def tasks_run(out: str) -> dict[str, int]:
    """Tasks each host ran (ok, which counts changed, plus failed): skipped ones cost next to nothing."""
    return {m.group(1): int(m.group(2)) + int(m.group(4)) for m in RECAP.finditer(out)}


def timed(runs: int, *args: str, **kwargs) -> tuple[float, object]:
    """Median seconds of ``runs`` runs of a playbook, and the last run; every run must succeed."""
    seconds, run = [], None
    for _ in range(runs):
        run = playbook(*args, **kwargs)
        if run.rc:
            raise SystemExit(f"failed: {run!r}")
        seconds.append(run.seconds)
    return statistics.median(seconds), run


def interleaved(runs: int, *commands: list[str]) -> list[float]:
    """The median seconds of each playbook command, its runs taken in turn with the others' (the lab's
    two cores are never idle: a slower minute then weighs on every command alike)."""
    seconds: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for i, args in enumerate(commands):
            seconds[i].append(timed(1, *args)[0])
    return [statistics.median(each) for each in seconds]


def rerun_rows(runs: int, extra: list[str]) -> list[tuple[str, str, str]]:
    # Timed like the floor (no profiler); one more run, profiled, counts the tasks and the smoke job.
    floor, floor_facts, noop = interleaved(
        runs,
        ["benchmarks/floor.yml", *extra],
        ["benchmarks/floor.yml", "-e", "floor_facts=true", *extra],
        ["site.yml", *extra],
    )
    _, run = timed(1, "site.yml", *extra, env=PROFILE)
    changed = sorted(run.changed_hosts())
    smoke = SMOKE_TASK.search(run.out)
    per_host = tasks_run(run.out)
    rows = [
        ("trivial play (ping per host, no facts)", f"{floor:.1f}", ""),
        ("trivial play with site.yml's facts (the floor)", f"{floor_facts:.1f}", "1.0x"),
        (
            f"site.yml rerun, nothing to change (changed on: {', '.join(changed) or 'no host'})",
            f"{noop:.1f}",
            f"{noop / floor_facts:.1f}x the floor",
        ),
        ("  tasks run per host in that rerun", " ".join(f"{h}={n}" for h, n in per_host.items()), ""),
        ("  of which the smoke job", smoke.group(1) if smoke else "not run", ""),
    ]
    tag_floor, tagged = interleaved(
        runs,
        ["benchmarks/floor.yml", "-e", "floor_facts=true", "--limit", "lab-81", *extra],
        ["site.yml", "--tags", "ray_worker", "--limit", "lab-81", *extra],
    )
    _, run = timed(1, "site.yml", "--tags", "ray_worker", "--limit", "lab-81", *extra)
    rows += [
        ("floor limited to lab-81", f"{tag_floor:.1f}", "1.0x"),
        (
            f"site.yml --tags ray_worker --limit lab-81, nothing to change (changed on: {sorted(run.changed_hosts()) or 'none'})",
            f"{tagged:.1f}",
            f"{tagged / tag_floor:.1f}x its floor",
        ),
    ]
    return rows


def tasks_by_worker_count(tmp: Path, extra: list[str]) -> tuple[str, str, str]:
    """Check-mode runs with lab-82 at 2, 4 and 16 workers: lab-82's task count must not change."""
    counts = []
    for workers in (2, 4, 16):  # each a change from the lab's 1, so every run takes the same path
        inventory = inventory_with(tmp / str(workers), {"lab-82": {"ray_worker_count": workers}})
        allow = ("-e", json.dumps({"ray_cluster_allow_oversubscription": True}))
        run = playbook("site.yml", "--check", "--limit", "lab-82", *allow, *extra, inventory=inventory)
        if run.rc:
            raise SystemExit(f"check-mode run with {workers} workers failed: {run!r}")
        counts.append(f"{workers}w: {tasks_run(run.out)['lab-82']}")
    return ("tasks run on lab-82 in check mode, by its worker count", ", ".join(counts), "")


def on_every_host(command: str) -> None:
    """Run one shell command as root on every server at once."""
    with ThreadPoolExecutor(len(lab_hosts())) as pool:
        list(pool.map(lambda host: server(host, "sh", "-c", command), lab_hosts()))


def compose_files(kind: str) -> dict[str, str]:
    return {h: p["projects"][kind]["file"] for h, p in plan()["hosts"].items() if p["projects"][kind]["services"]}


def compose(action: str, kinds: tuple[str, ...]) -> None:
    with ThreadPoolExecutor(len(lab_hosts())) as pool:
        jobs = [
            pool.submit(server, host, "docker", "compose", "-f", path, *action.split())
            for kind in kinds
            for host, path in compose_files(kind).items()
        ]
        for job in jobs:
            job.result()


def wait_bare(expected: int, timeout: float = 600) -> None:
    """A bare `ray status` loop in the head container until every planned node is active."""
    cluster = plan()["cluster"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = server(cluster["head_host"], "docker", "exec", cluster["head_container"], "ray", "status", check=False)
        active = out.split("Active:", 1)[-1].split("Pending:", 1)[0] if "Active:" in out else ""
        if len(ACTIVE_NODE.findall(active)) >= expected:
            return
        time.sleep(1)
    raise SystemExit(f"the cluster did not reach {expected} nodes in {timeout:.0f} s")


def cold_rows(extra: list[str]) -> list[tuple[str, str, str]]:
    expected = plan()["cluster"]["expected_node_count"]
    compose("down", ("workers", "head"))
    start = time.monotonic()
    compose("up -d", ("head",))
    compose("up -d", ("workers",))
    wait_bare(expected)
    floor = time.monotonic() - start
    compose("down", ("workers", "head"))
    run = playbook("site.yml", *extra, env=PROFILE, timeout=1800)
    if run.rc:
        raise SystemExit(f"cold converge failed: {run!r}")
    smoke = SMOKE_TASK.search(run.out)
    ratio = f"{run.seconds / floor:.1f}x"
    return [
        (f"plain-compose floor: head, then workers, up -d; bare ray status to {expected} nodes", f"{floor:.1f}", "1.0x"),
        ("site.yml, Ray layer cold (Docker and image in place, no Ray container)", f"{run.seconds:.1f}", ratio),
        ("  of which the smoke job (cold cluster)", smoke.group(1) if smoke else "not run", "seed: 20 tasks in 20.37 s"),
    ]


def plan_row() -> tuple[str, str, str]:
    argv = [sys.executable, str(ROOT / "benchmarks" / "plan_benchmark.py"), "--hosts", "1000", "--workers", "32", "--runs", "3"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600).stdout
    keys = ("build_plan", "render all compose content")
    found = {key: re.search(rf"^{key}:.*median=([0-9.]+)s", out, re.MULTILINE) for key in keys}
    figures = ", rendering ".join(match.group(1) if match else "?" for match in found.values())
    return ("plan for 1,000 hosts x 32 workers (build_plan, rendering)", figures, "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also the cold converge and its plain-compose floor")
    parser.add_argument("--skip-reruns", action="store_true", help="leave out the rerun rows (1 and 3)")
    parser.add_argument("-e", dest="extra_vars", action="append", default=[], help="extra vars for every playbook run")
    args = parser.parse_args()
    extra = [item for value in args.extra_vars for item in ("-e", value)]
    rows = [] if args.skip_reruns else rerun_rows(args.runs, extra)
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(tasks_by_worker_count(Path(tmp), extra))
    if args.cold:
        rows += cold_rows(extra)
    rows.append(plan_row())
    print("\n| what | seconds (median) | vs floor |\n|---|---|---|")
    for what, value, ratio in rows:
        print(f"| {what} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
