"""Helpers for the day-2 lab tests: run the collection's real playbooks against the container lab.

These tests need the converged lab that `molecule test -s default --destroy never` leaves
(bin/test runs them in that order). Every playbook run goes to the lab's own containers only.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import testinfra
import testinfra.host
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))  # the collection by its FQCN (a link to this checkout)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _pins as pins  # noqa: E402
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._settings import GCS_REDIS_CONTAINER  # noqa: E402

BIN = Path(sys.executable).parent
LAB_INVENTORY = ROOT / "inventories" / "local"
# The lab inventory with the GCS in Redis (conftest's redis_inventory) runs this container too.
GCS_REDIS = GCS_REDIS_CONTAINER
RECAP_RE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def log(message: str) -> None:
    """Progress and figures, shown with `pytest -s` (bin/test runs it so)."""
    print(f"[lab {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Run:
    def __init__(self, argv: list[str], proc: subprocess.CompletedProcess[str], seconds: float) -> None:
        self.argv, self.rc, self.seconds = argv, proc.returncode, seconds
        self.out = proc.stdout + proc.stderr

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        return {
            m.group(1): {
                "ok": int(m.group(2)),
                "changed": int(m.group(3)),
                "unreachable": int(m.group(4)),
                "failed": int(m.group(5)),
            }
            for m in RECAP_RE.finditer(self.out)
        }

    def changed_hosts(self) -> set[str]:
        return {host for host, counts in self.recap.items() if counts["changed"]}

    def __repr__(self) -> str:
        lines = self.out.splitlines()
        # What failed, then the recap: the parts of the run that explain a failing assertion.
        failed = [i for i, line in enumerate(lines) if line.startswith(("fatal:", "failed:", "[ERROR]"))]
        shown = [line for i in failed[:4] for line in lines[i : i + 25]]
        return "\n".join([f"<rc={self.rc} {' '.join(self.argv[1:])}>", *shown, *lines[-8:]])


def playbook(
    playbook_path: str,
    *args: str,
    inventory: Path = LAB_INVENTORY,
    timeout: int = 1200,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> Run:
    """Run a playbook of this checkout (a path under ROOT) or of an installed collection (its FQCN,
    such as ``wizardsofts.ray_cluster.site``). ``env`` is laid over the default environment (which
    reads this checkout's ansible.cfg); ``cwd`` is where it runs (default: the checkout)."""
    target = str(ROOT / playbook_path) if playbook_path.endswith((".yml", ".yaml")) else playbook_path
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), target, *args]
    run_env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    run_env.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    run = Run(argv, proc, time.monotonic() - start)
    shown = " ".join("-e <secret>" if "token" in a else a for a in argv[3:])
    log(f"{shown}: rc={run.rc} in {run.seconds:.1f} s, changed on {sorted(run.changed_hosts()) or 'no host'}")
    return run


def ray_image(version: str = pins.RAY_VERSION) -> str:
    """The lab's Ray image for a Ray version (lab/images.sh builds it)."""
    return f"wizardsofts/ray:{version}-py{pins.RAY_PYTHON_VERSION.replace('.', '')}"


def lab_hosts() -> dict[str, str]:
    """Inventory name -> lab container name."""
    data = yaml.safe_load((LAB_INVENTORY / "hosts.yml").read_text())
    hosts = data["ray_cluster"]["children"]["ray_workers"]["hosts"]
    return {name: values["lab_container"] for name, values in hosts.items()}


def adhoc(pattern: str, module: str, args: str = "", inventory: Path = LAB_INVENTORY) -> dict[str, dict[str, Any]]:
    """Run one ad-hoc module with the lab inventory; each host's result (JSON callback)."""
    argv = [str(BIN / "ansible"), "-i", str(inventory), pattern, "-m", module, *(["-a", args] if args else [])]
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
    }
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    try:
        results = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
    except (ValueError, KeyError, IndexError):
        results = {}
    if proc.returncode or not results:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise AssertionError(f"ansible {pattern} -m {module} failed (rc={proc.returncode}): {tail}")
    return results


@functools.cache
def connections() -> dict[str, dict[str, str]]:
    """How Ansible reaches each lab server, as the inventory renders it (host -> connection,
    address, user, key, ssh arguments). `debug` runs on the controller: no server is contacted."""
    fields = {
        "connection": "ansible_connection",
        "address": "ansible_host",
        "user": "ansible_user",
        "key": "ansible_ssh_private_key_file",
        "ssh_args": "ansible_ssh_common_args",
    }
    template = "{{ {" + ", ".join(f"'{key}': {var} | default('')" for key, var in fields.items()) + "} }}"
    return {host: result["msg"] for host, result in adhoc("ray_cluster", "ansible.builtin.debug", f"msg={template}").items()}


@functools.cache
def plan() -> dict[str, Any]:
    """The cluster plan for the lab inventory, computed by the collection on the controller."""
    return adhoc("localhost", "wizardsofts.ray_cluster.ray_cluster_plan")["localhost"]["plan"]


@functools.cache
def lab_host(name: str) -> testinfra.host.Host:
    """A testinfra host for a lab server, reached the way the inventory reaches it: over SSH as
    the operator with sudo (as the team reaches its servers), or through Docker as root when the
    inventory says `lab_connection=community.docker.docker`."""
    conn = connections()[name]
    if conn["connection"] == "ssh":
        return testinfra.get_host(
            f"ssh://{conn['user']}@{conn['address']}",
            ssh_identity_file=conn["key"],
            ssh_extra_args=conn["ssh_args"],
            controlpath=f"/tmp/labkit-ssh-{conn['user']}@{conn['address']}",  # noqa: S108 (ssh's control socket)
            controlpersist=300,
            sudo=True,
        )
    if conn["connection"].endswith("docker"):
        return testinfra.get_host(f"docker://{conn['user'] or 'root'}@{conn['address']}")
    raise AssertionError(f"{name}: no testinfra backend for the inventory connection {conn['connection']!r}")


def server(host: str, *argv: str, check: bool = True) -> str:
    """Run a command on a lab server as root (through its testinfra host); its standard output."""
    result = lab_host(host).run(" ".join(["%s"] * len(argv)), *argv)
    if check and result.rc:
        raise AssertionError(f"{host}: {argv} rc={result.rc}: {result.stdout}{result.stderr}")
    return result.stdout


def cluster_token(host: str | None = None) -> str:
    """The token in a server's token file (the head server's by default), where the plan puts it."""
    cluster = plan()["cluster"]
    return lab_host(host or cluster["head_host"]).file(cluster["auth_token_file"]).content_string.strip()


def jobs_api(path: str = "", body: dict[str, str] | None = None, token: str | None = None) -> tuple[int, Any]:
    """The head's Jobs API (the plan's dashboard URL) with the cluster's token, or ``token``: POST when
    ``body`` is given. Returns (HTTP status, the parsed answer); a refusal (4xx, 5xx) is returned, not raised."""
    url = f"{plan()['cluster']['dashboard_url']}/api/jobs/{path}"
    headers = {"Authorization": f"Bearer {cluster_token() if token is None else token}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the lab head, http)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def cluster_containers(host: str) -> dict[str, dict[str, Any]]:
    """Every container of the cluster on one server (Ray's and monitoring's): name -> docker inspect."""
    containers = lab_host(host).docker.get_containers(label="com.wizardsofts.cluster")
    if not containers:
        return {}
    return {c["Name"].lstrip("/"): c for c in json.loads(server(host, "docker", "inspect", *(c.id for c in containers)))}


def ray_containers(host: str) -> dict[str, tuple[str, int]]:
    """Ray container name -> (start time, restart count) on one server (the Ray projects' containers)."""
    return {
        name: (c["State"]["StartedAt"], c["RestartCount"])
        for name, c in cluster_containers(host).items()
        if c["Config"]["Labels"].get("com.docker.compose.project", "").rsplit("-", 1)[-1] in ("head", "workers")
    }


def gcs_in_redis() -> bool:
    """Whether the head's server runs the GCS's Redis: the lab was last converged with
    ray_cluster_gcs_storage=redis (the upgrade test leaves it so, for the Redis tests and teardown)."""
    return GCS_REDIS in server(plan()["cluster"]["head_host"], "docker", "ps", "--format", "{{.Names}}").split()


def compose_files(host: str) -> dict[str, str]:
    """Compose file path -> its SHA-256, for every project under the collection's directory."""
    root = lab_host(host).file("/opt/ray-cluster")
    if not root.is_directory:
        return {}
    files = (lab_host(host).file(f"{root.path}/{project}/compose.yaml") for project in root.listdir())
    return {file.path: file.sha256sum for file in files if file.exists}


def snapshot() -> dict[str, Any]:
    """What a bad or read-only run must leave untouched on every server."""
    return {
        host: {"containers": ray_containers(host), "compose": compose_files(host), "ufw": server(host, "ufw", "show", "added")}
        for host in lab_hosts()
    }


# A value for inventory_with: remove the variable from the host's host_vars.
UNSET = object()


def inventory_with(tmp_path: Path, changes: dict[str, dict[str, Any]], groups: dict[str, list[str]] | None = None) -> Path:
    """A copy of the lab inventory with variables changed (host -> {var: value}, ``UNSET``
    removes one; the key ``group:<name>`` changes group variables) and, optionally, other members
    for ray_head or ray_workers (group -> host list; ``ray_cluster`` -> hosts that are direct
    members of the parent group only)."""
    target = tmp_path / "inventory"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(LAB_INVENTORY, target)
    # The lab's SSH key, by its absolute path: the inventory names it relative to its own directory,
    # which a copy does not keep (an SSH connection kept open from an earlier run would hide that
    # until the next new connection, such as one after a server's reboot).
    key = (ROOT / "lab" / "cache" / "ssh" / "id_ed25519").resolve()
    connection = target / "group_vars" / "ray_cluster" / "zz-lab-key.yml"
    connection.write_text(f"---\nansible_ssh_private_key_file: {key}\n")
    if groups:
        hosts_file = target / "hosts.yml"
        data = yaml.safe_load(hosts_file.read_text())
        children = data["ray_cluster"]["children"]
        connection = {**children["ray_workers"]["hosts"]}
        for group, members in groups.items():
            if group == "ray_cluster":
                data["ray_cluster"]["hosts"] = {h: connection.get(h) for h in members}
            else:
                children[group] = {"hosts": {h: connection.get(h) for h in members}}
        # Hosts must stay in the inventory for their connection settings even when in no group.
        data["all"] = {"hosts": {h: v for h, v in connection.items()}}
        hosts_file.write_text("---\n" + yaml.safe_dump(data, sort_keys=False))
    for host, variables in changes.items():
        if host.startswith("group:"):
            path = target / "group_vars" / host.split(":", 1)[1] / "zz-test.yml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("---\n" + yaml.safe_dump(variables, sort_keys=False))
            continue
        path = target / "host_vars" / f"{host}.yml"
        current = yaml.safe_load(path.read_text()) if path.exists() else {}
        current = {**(current or {}), **variables}
        current = {key: value for key, value in current.items() if value is not UNSET}
        path.write_text("---\n" + yaml.safe_dump(current, sort_keys=False))
    return target


def whole_line() -> str:
    """The line ray_verify's wait prints when the cluster is whole (site.yml, upgrade.yml, restart.yml and
    status.yml print it): every planned node of the lab alive."""
    count = plan()["cluster"]["expected_node_count"]
    return f"the cluster is whole: {count} of {count} nodes alive"


def wait_whole(inventory: Path = LAB_INVENTORY, timeout: int = 300) -> Run:
    run = playbook("playbooks/status.yml", "-e", f"ray_status_wait_timeout={timeout}", inventory=inventory, timeout=timeout + 120)
    assert run.rc == 0, run
    return run


def record_start_times(path: Path) -> bool:
    """Keep every server's Ray containers with their start times, once (molecule's first
    converge); verify compares after the idempotence run. True when it wrote the record."""
    if path.exists():
        return False
    path.write_text(json.dumps({host: ray_containers(host) for host in lab_hosts()}, indent=1, sort_keys=True) + "\n")
    return True


# --------------------------------------------------------------------------- the monitoring stack


def monitoring() -> dict[str, Any]:
    return plan()["cluster"]["monitoring"]


def password() -> str:
    return lab_host(monitoring()["host"]).file(monitoring()["password_file"]).content_string.strip()


def get(url: str, secret: str | None = None, user: str = "admin") -> tuple[int, Any]:
    """GET from Prometheus or Alertmanager (the controller is an admin source): (status, parsed JSON or None)."""
    headers = {}
    if secret is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:  # noqa: S310 (the lab)
            body = response.read()
            return response.status, json.loads(body) if body.startswith((b"{", b"[")) else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def prometheus(path: str) -> Any:
    status, body = get(f"{monitoring()['prometheus_url']}{path}", password())
    assert status == 200, (path, status)
    return body["data"]


def query(expr: str) -> list[dict[str, Any]]:
    return prometheus("/api/v1/query?query=" + urllib.parse.quote(expr))["result"]


def scraped() -> dict[tuple[str, str, str], str]:
    """(job, host, node or component) -> health of every target Prometheus scrapes."""
    found = {}
    for target in prometheus("/api/v1/targets?state=active")["activeTargets"]:
        labels = target["labels"]
        which = labels.get("component", "") if labels["job"] == "ray_head" else labels.get("node", "")
        found[(labels["job"], labels["host"], which)] = target["health"]
    return found


def wait_for(what: str, check: Any, timeout: float, step: float = 2.0) -> float:
    start = time.monotonic()
    while True:
        result = check()
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {result!r})")
        time.sleep(step)


# A driver (run in the head container, which has the token) whose one task runs on the Ray node at
# argv[1]:argv[2] (address, node manager port) and prints: argv[3] == "marker": the line argv[4];
# "bytes": argv[4] bytes, in 1000-byte lines; "lines": argv[4] = "<prefix>:<count>:<seconds between>",
# the lines <prefix>-0 ... <prefix>-<count - 1>.
NODE_PRINT = r"""
import sys
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init(address="auto", logging_level="ERROR", log_to_driver=False)
ip, port, mode, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
node = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeManagerAddress"] == ip and n["NodeManagerPort"] == port)

@ray.remote(num_cpus=0)
def say(mode, arg):
    if mode == "marker":
        print(arg, flush=True)
        return 1
    if mode == "lines":
        import time
        prefix, count, pause = arg.split(":")
        for i in range(int(count)):
            print(f"{prefix}-{i}", flush=True)
            time.sleep(float(pause))
        return int(count)
    line = "y" * 999
    for _ in range(int(arg) // 1000):
        print(line)
    return int(arg) // 1000

here = NodeAffinitySchedulingStrategy(node, soft=False)
print(ray.get(say.options(scheduling_strategy=here).remote(mode, arg), timeout=900))
"""


def node_print(host: str, node: str, mode: str, arg: str) -> str:
    """Run NODE_PRINT's task on ``host``'s Ray node ``node``; the driver's last line."""
    cluster = plan()["cluster"]
    entry = next(e for e in plan()["expected_nodes"] if e["host"] == host and e["name"] == node)
    argv = ["docker", "exec", cluster["head_container"], "python3", "-c", NODE_PRINT]
    argv += [entry["ip"], str(entry["node_manager_port"]), mode, arg]
    return server(cluster["head_host"], *argv).strip().splitlines()[-1]


def node_log_dir(host: str, node: str) -> str:
    """The node's log directory on its server (the plan's)."""
    return plan()["hosts"][host]["node_log_dirs"][node]


def grep_node_logs(host: str, node: str, text: str) -> list[str]:
    """The files under the node's log directory (on its server) that hold ``text``."""
    out = server(host, "grep", "-rlF", "--", text, node_log_dir(host, node), check=False)
    return [line for line in out.splitlines() if line]


def docker_cli(*argv: str) -> str:
    """The machine's own Docker client (the lab's engine): its standard output."""
    return subprocess.run(["docker", *argv], capture_output=True, text=True, check=True).stdout


_REACH = (
    "import json, socket, sys\n"
    "out = {}\n"
    "for port in sys.argv[2:]:\n"
    "    try:\n"
    "        socket.create_connection((sys.argv[1], int(port)), timeout=3).close(); out[port] = True\n"
    "    except OSError:\n"
    "        out[port] = False\n"
    "print(json.dumps(out))\n"
)


def reach(container: str, host_ip: str, ports: list[int], *, on_server: bool) -> dict[int, bool]:
    """Which TCP ports of ``host_ip`` accept a connection from a lab server (``on_server``) or a lab container."""
    argv = ["python3", "-c", _REACH, host_ip, *map(str, ports)]
    out = server(container, *argv) if on_server else docker_cli("exec", container, *argv)
    return {int(port): opened for port, opened in json.loads(out).items()}


OUTSIDER = "ray-lab-outsider"


def outsider_reach(targets: dict[str, list[int]]) -> dict[str, dict[int, bool]]:
    """From a container on the lab network that is no cluster member and no admin source: which of
    each address's ports accept a connection."""
    network = docker_cli("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", "ray-lab-84").strip()
    docker_cli(
        "run", "-d", "--rm", "--name", OUTSIDER, "--network", network,
        "--label", "com.wizardsofts.ray_cluster.lab=outsider", "wizardsofts-lab/python:3.11-bookworm", "sleep", "300",
    )  # fmt: skip
    try:
        return {ip: reach(OUTSIDER, ip, ports, on_server=False) for ip, ports in targets.items()}
    finally:
        docker_cli("rm", "-f", OUTSIDER)


def store_grep(text: str, host: str = "") -> list[str]:
    """The log store's lines (``path:line``, on the monitoring host) that hold ``text``, under one host's
    directory or all; none without log aggregation."""
    logs = plan()["cluster"]["monitoring"].get("logs") if plan()["cluster"]["monitoring"] else None
    if not logs:
        return []
    where = f"{logs['store']['dir']}/{host}" if host else logs["store"]["dir"]
    out = server(logs["receiver"]["host"], "grep", "-rF", "--", text, where, check=False)
    return [line for line in out.splitlines() if line]


if __name__ == "__main__":
    # python tests/lab/labkit.py record-start-times FILE   (molecule/default/converge.yml)
    if sys.argv[1:2] != ["record-start-times"] or len(sys.argv) != 3:
        sys.exit("usage: labkit.py record-start-times FILE")
    print("recorded" if record_start_times(Path(sys.argv[2])) else "kept the first record")
