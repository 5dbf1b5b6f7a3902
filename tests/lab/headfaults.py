"""Head faults on the converged lab, for tests/lab/test_32_head_faults.py and
benchmarks/head_faults.py: inject one fault, time the cluster back to whole from the GCS's own
node table, and say which containers restarted.

"Whole" is what the plan expects: on every server exactly its planned number of ALIVE nodes, the
head's node registered after the fault (a new head raylet), and no stale node left ALIVE. A poller
in a worker container on another server reads the GCS every 0.25 s, so the figure does not carry
the few seconds `ray status` needs to start.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from labkit import GCS_REDIS, jobs_api, lab_host, lab_hosts, plan, ray_containers, server

HEAD_HOST = "lab-84"
HEAD = "ray-head"
# The poller and the driver of the actor check run in a worker container on another server.
PROBE_HOST, PROBE_CONTAINER = "lab-80", "ray-worker-1"
FAULTS = ("gcs_server", "main_process", "container_restart", "server_reboot")
# With ray_cluster_gcs_storage=redis: its Redis restarted, and stopped for REDIS_DOWN_S.
REDIS = GCS_REDIS
REDIS_DOWN_S = 60
REDIS_FAULTS = ("redis_restart", "redis_down")

POLL = r"""
import json, sys, time
from ray._raylet import GcsClient
address, since, deadline, head_ip = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[5]
want = json.loads(sys.argv[4])
alive, error = {}, ""
while time.time() < deadline:
    try:
        nodes = GcsClient(address=address).get_all_node_info(timeout=2)
        error = ""
    except Exception as exc:  # the GCS is down or restarting
        nodes, error = {}, type(exc).__name__
    alive, new_head = {}, False
    for info in nodes.values():
        if info.state != 0:  # ALIVE
            continue
        alive[info.node_manager_address] = alive.get(info.node_manager_address, 0) + 1
        new_head = new_head or (info.node_manager_address == head_ip and info.start_time_ms >= since * 1000)
    if new_head and alive == want:
        print(json.dumps({"whole_at": time.time(), "alive": alive}))
        sys.exit(0)
    time.sleep(0.25)
print(json.dumps({"whole_at": None, "alive": alive, "error": error}))
"""

# A named detached actor on the probe's own worker node: created before a fault, asked after it.
ACTOR = r"""
import sys
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init(address="auto", namespace="head-faults", logging_level="ERROR", log_to_driver=False)

@ray.remote(num_cpus=0)
class Probe:
    def __init__(self):
        self.calls = 0
    def ping(self):
        self.calls += 1
        return self.calls

if sys.argv[1] == "create":
    try:
        ray.kill(ray.get_actor("head-fault-probe"))
    except ValueError:
        pass
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    actor = Probe.options(name="head-fault-probe", lifetime="detached", scheduling_strategy=here).remote()
else:
    actor = ray.get_actor("head-fault-probe")
print(ray.get(actor.ping.remote(), timeout=60))
"""

# A driver that keeps submitting small tasks for 30 s (through a head fault), then waits for all.
TASKS = r"""
import json, time
import ray
ray.init(address="auto", namespace="head-faults", logging_level="ERROR", log_to_driver=False)

@ray.remote(num_cpus=0.1)
def square(x):
    return x * x

refs, start = [], time.time()
while time.time() - start < 30:
    refs.append(square.remote(len(refs)))
    time.sleep(0.5)
values = ray.get(refs, timeout=240)
print(json.dumps({"submitted": len(refs), "correct": sum(1 for i, v in enumerate(values) if v == i * i)}))
"""


def tasks_through_a_fault() -> dict[str, int]:
    """Run the TASKS driver in the probe's worker container: ``{submitted, correct}``."""
    return json.loads(_exec_python(TASKS))


@dataclass
class Outcome:
    fault: str
    injected: float  # epoch seconds
    whole_at: float | None
    head_running_at: float | None  # when the head container last started
    restarted: list[str] = field(default_factory=list)  # containers (host/name) that restarted
    alive: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        return None if self.whole_at is None else self.whole_at - self.injected

    @property
    def after_head_running(self) -> float | None:
        if self.whole_at is None or self.head_running_at is None:
            return None
        return self.whole_at - self.head_running_at


def expected_by_address() -> dict[str, int]:
    return dict(Counter(node["ip"] for node in plan()["expected_nodes"]))


def _exec_python(script: str, *args: str) -> str:
    """Run a Python script in the probe's worker container (it has the token in its environment)."""
    argv = ["docker", "exec", PROBE_CONTAINER, "python3", "-c", script, *args]
    quoted = " ".join(["%s"] * len(argv))
    result = lab_host(PROBE_HOST).run(quoted, *argv)
    if result.rc:
        raise AssertionError(f"{PROBE_HOST}/{PROBE_CONTAINER}: rc={result.rc}: {result.stdout}{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def actor(action: str) -> int:
    """``create`` the probe actor (its first call returns 1) or ``ask`` it (the next call's count)."""
    return int(_exec_python(ACTOR, action))


def _started_at(host: str, container: str) -> float | None:
    text = server(host, "docker", "inspect", "-f", "{{.State.StartedAt}}", container, check=False).strip()
    if not text:
        return None
    # Docker prints nanoseconds; Python takes microseconds.
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest + '000000')[:6]}+00:00").timestamp()


def _inject(fault: str, during: Callable[[], object] | None = None) -> None:
    if fault == "gcs_server":
        # Ray's GCS process inside the head container, seen from its server.
        server(HEAD_HOST, "pkill", "-9", "-x", "gcs_server")
    elif fault == "main_process":
        # `ray start --head --block`, PID 1 of the container (a crash or an OOM kill would do this;
        # docker kill would count as a manual stop and defeat the restart policy).
        server(HEAD_HOST, "sh", "-c", f"kill -9 $(docker inspect -f '{{{{.State.Pid}}}}' {HEAD})")
    elif fault == "container_restart":
        server(HEAD_HOST, "docker", "restart", HEAD)
    elif fault == "redis_restart":
        server(HEAD_HOST, "docker", "restart", REDIS)
    elif fault == "redis_down":
        server(HEAD_HOST, "docker", "stop", REDIS)
        stopped = time.monotonic()
        try:
            if during is not None:
                during()  # while Redis is down (e.g. what status.yml says then)
        finally:
            time.sleep(max(0.0, REDIS_DOWN_S - (time.monotonic() - stopped)))
            server(HEAD_HOST, "docker", "start", REDIS)
    elif fault == "server_reboot":
        subprocess.run(["docker", "restart", lab_hosts()[HEAD_HOST]], check=True, capture_output=True, timeout=180)
    else:
        raise ValueError(f"unknown head fault {fault!r}; one of {FAULTS + REDIS_FAULTS}")


def _containers_or_none(host: str) -> dict[str, tuple[str, int]] | None:
    try:
        return ray_containers(host)
    except (AssertionError, RuntimeError):  # the server does not answer (yet)
        return None


def inject_and_time(fault: str, timeout: float = 240, during: Callable[[], object] | None = None) -> Outcome:
    """Inject one head fault and wait until the cluster is whole again (or ``timeout`` passes);
    ``during`` runs while a ``redis_down`` fault lasts."""
    before = {host: ray_containers(host) for host in lab_hosts()}
    want = json.dumps(expected_by_address(), sort_keys=True)
    head_ip, address = plan()["cluster"]["head_ip"], plan()["cluster"]["head_address"]
    since = time.time()
    args = (address, f"{since:.3f}", f"{since + timeout:.3f}", want, head_ip)
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(_exec_python, POLL, *args)
        time.sleep(1.0)  # the poller is reading before the fault
        _inject(fault, during)
        result = json.loads(poll.result())
    if fault == "server_reboot":  # the head server's sshd may still be starting
        deadline = time.monotonic() + 120
        while _containers_or_none(HEAD_HOST) is None and time.monotonic() < deadline:
            time.sleep(2)
    after = {host: ray_containers(host) for host in lab_hosts()}
    restarted = [
        f"{host}/{name}"
        for host, containers in before.items()
        for name, state in containers.items()
        if after[host].get(name) != state
    ]
    return Outcome(fault, since, result["whole_at"], _started_at(HEAD_HOST, HEAD), sorted(restarted), result["alive"])


def job_status(submission_id: str, wanted: str, timeout: float = 120) -> str:
    """The job's status once it is ``wanted`` (or the last one read when ``timeout`` passes)."""
    deadline, status = time.monotonic() + timeout, "unreadable"
    while time.monotonic() < deadline:
        try:
            status = jobs_api(submission_id)[1]["status"]
        except (urllib.error.URLError, OSError, KeyError, TypeError, ValueError):
            status = "unreadable"  # the dashboard is starting again
        if status == wanted:
            break
        time.sleep(1)
    return status


@dataclass
class WorkThroughAFault:
    outcome: Outcome
    tasks: dict[str, int]  # submitted before, during and after the outage; how many came back right
    actor_calls: int  # the detached actor's call count after the fault (2: it kept its state)
    job_status: str  # the job finished before the fault, as listed after it


def work_through_a_fault(fault: str) -> WorkThroughAFault:
    """A detached actor and a finished job before the fault, tasks submitted through it: what is left after."""
    assert actor("create") == 1
    answered, submitted = jobs_api(body={"entrypoint": "python -c \"print('head-fault job')\""})
    assert answered == 200, (answered, submitted)
    job = submitted["submission_id"]
    assert job_status(job, "SUCCEEDED") == "SUCCEEDED"
    with ThreadPoolExecutor(max_workers=1) as pool:
        driver = pool.submit(tasks_through_a_fault)  # submits tasks before, during and after the outage
        time.sleep(8)
        outcome = inject_and_time(fault)
        tasks = driver.result()
    return WorkThroughAFault(outcome, tasks, actor("ask"), job_status(job, "SUCCEEDED"))
