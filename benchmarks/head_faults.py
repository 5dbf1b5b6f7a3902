#!/usr/bin/env python3
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Head faults, repeated: how long the cluster takes to be whole again, and what restarted (not a
test: nothing is asserted). Needs the converged lab (``bin/lab up``); prints one Markdown table.

    .venv/bin/python benchmarks/head_faults.py [--runs 5] [--faults gcs_server,main_process,...]
        [--storage redis]   # converge the lab to that GCS storage first, and back at the end

Faults (tests/lab/headfaults.py): SIGKILL of the head's ``gcs_server``, SIGKILL of its main process
(``ray start --head --block``), ``docker restart`` of the head container, a reboot of the head's
server (``docker restart`` of the lab server); with ``--storage redis`` also ``redis_restart`` and
``redis_down`` (Redis stopped for 60 s, then started). "Whole": every server runs its planned number of ALIVE
nodes with a newly registered head, read from the GCS every 0.25 s by a worker on another server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
from headfaults import FAULTS, HEAD_HOST, REDIS_FAULTS, Outcome, inject_and_time  # noqa: E402
from labkit import LAB_INVENTORY, inventory_with, playbook, wait_whole  # noqa: E402


def _figures(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "n/a"
    missing = len(values) - len(known)
    return f"{statistics.median(known):.1f} / {max(known):.1f}" + (f" ({missing} never whole)" if missing else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--faults", default="")
    parser.add_argument("--storage", choices=["default", "redis", "rocksdb", "none"], default="default")
    args = parser.parse_args()
    faults = args.faults.split(",") if args.faults else [*FAULTS, *(REDIS_FAULTS if args.storage == "redis" else ())]
    inventory = LAB_INVENTORY
    if args.storage != "default":
        changes = {"group:ray_cluster": {"ray_cluster_gcs_storage": args.storage}}
        inventory = inventory_with(Path(tempfile.mkdtemp(prefix="head-faults-")), changes)
        if playbook("site.yml", inventory=inventory).rc:
            print(f"site.yml with ray_cluster_gcs_storage={args.storage} failed", file=sys.stderr)
            return 1
    try:
        results = _measure(faults, args.runs, inventory)
    finally:
        if inventory != LAB_INVENTORY:
            playbook("site.yml", inventory=LAB_INVENTORY)
    _table(results)
    return 0


def _measure(faults: list[str], runs: int, inventory: Path) -> dict[str, list[Outcome]]:
    results: dict[str, list[Outcome]] = {}
    for fault in faults:
        for run in range(runs):
            wait_whole(inventory, timeout=300)
            time.sleep(5)  # settled: the head's health checks and the workers' reports are current
            outcome = inject_and_time(fault)
            results.setdefault(fault, []).append(outcome)
            shown = "never" if outcome.seconds is None else f"{outcome.seconds:.1f} s"
            print(f"{fault} run {run + 1}: whole after {shown}; restarted {outcome.restarted}", flush=True)
    wait_whole(inventory, timeout=300)
    return results


def _table(results: dict[str, list[Outcome]]) -> None:
    print()
    print("| fault | runs | whole after the fault, median / max (s) | after the head container ran again (s) | worker restarts |")
    print("|---|---|---|---|---|")
    for fault, outcomes in results.items():
        workers = sum(1 for o in outcomes for name in o.restarted if not name.startswith(f"{HEAD_HOST}/"))
        print(
            f"| {fault} | {len(outcomes)} | {_figures([o.seconds for o in outcomes])} "
            f"| {_figures([o.after_head_running for o in outcomes])} | {workers} on other servers |"
        )


if __name__ == "__main__":
    sys.exit(main())
