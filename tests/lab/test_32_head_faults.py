"""Head fault tolerance (the default GCS storage, rocksdb): a head crash, restart or reboot costs
seconds and restarts no worker. The figures are printed; benchmarks/head_faults.py repeats them."""

from __future__ import annotations

import pytest
from headfaults import HEAD_HOST, Outcome, inject_and_time, work_through_a_fault
from labkit import log, plan, wait_whole

# Generous bounds: the figures that matter are printed (and measured 5 times by the benchmark);
# the bound is what the workers' GCS wait allows (60 s) plus the head's own restart.
BOUND_S = 90


def _report(outcome: Outcome) -> None:
    after = outcome.after_head_running
    log(
        f"head fault {outcome.fault}: whole again {outcome.seconds:.1f} s after it"
        + (f", {after:.1f} s after the head container was running again" if after is not None else "")
        + f"; restarted: {outcome.restarted}"
    )


def test_a_killed_gcs_is_back_in_seconds_with_every_worker_actor_and_job() -> None:
    assert plan()["cluster"]["gcs_storage"] == "rocksdb", "the lab runs the default GCS storage"
    work = work_through_a_fault("gcs_server")
    _report(work.outcome)
    log(f"tasks submitted through the outage: {work.tasks}")
    assert work.tasks["correct"] == work.tasks["submitted"] > 0, work.tasks
    assert work.outcome.seconds is not None and work.outcome.seconds < BOUND_S, work.outcome
    # `ray start --block` ends the head container when its GCS dies; nothing else restarts.
    assert work.outcome.restarted == [f"{HEAD_HOST}/ray-head"], work.outcome
    # The detached actor on a worker kept running and answers (its second call); the finished
    # job is still listed with its status.
    assert work.actor_calls == 2
    assert work.job_status == "SUCCEEDED"


@pytest.mark.parametrize("fault", ["main_process", "container_restart"])
def test_head_process_kill_and_container_restart_restart_no_worker(fault: str) -> None:
    outcome = inject_and_time(fault)
    _report(outcome)
    assert outcome.seconds is not None and outcome.seconds < BOUND_S, outcome
    assert outcome.restarted == [f"{HEAD_HOST}/ray-head"], outcome


def test_head_server_reboot_restarts_only_that_servers_containers() -> None:
    outcome = inject_and_time("server_reboot")
    _report(outcome)
    assert outcome.seconds is not None and outcome.seconds < BOUND_S + 60, outcome
    assert all(name.startswith(f"{HEAD_HOST}/") for name in outcome.restarted), outcome
    wait_whole(timeout=120)  # and status.yml agrees
