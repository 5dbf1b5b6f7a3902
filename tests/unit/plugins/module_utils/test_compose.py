# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for rendering: the ``ray start`` argv, the compose files (plugins/module_utils/_compose.py)
and the YAML emitter (plugins/module_utils/_yaml.py)."""

from __future__ import annotations

import copy
import hashlib
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import yaml
from planner_cases import (
    CUSTOM_TOKEN_FILE,
    FINGERPRINT,
    HEAD,
    HEAD_PORT_FLAGS,
    KINDS,
    PORT_FLAGS,
    TOKEN_PATH,
    Hosts,
    Mutation,
    apply,
    build,
    cluster,
    command,
    environment,
    kind_nodes,
    parse_flags,
    port_flags,
    services,
)

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import (
    AUTH_TOKEN_CONTAINER_PATH,
    HEALTH_PATH,
    MANAGED_HEADER,
    compose_content,
    compose_service,
    compose_services,
    health_check,
    node_command,
    node_environment,
    spec_hash,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import MIB, parse_size
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._pins import RAY_VERSION
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._yaml import to_yaml

# --------------------------------------------------------------------------- ray start


def test_lab_ray_start_argv_pins_exactly_the_node_ports(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    for host, hplan in plan["hosts"].items():
        for node in hplan["nodes"]:
            argv = command(plan, host, node)
            assert argv[:4] == ["ray", "start", "--block", "--disable-usage-stats"]
            flags = parse_flags(argv)
            port_flags = {name: int(value) for name, value in flags.items() if name.endswith("-port") or name == "port"}
            own = {flag: node["ports"][key] for flag, key in PORT_FLAGS.items()}
            if node["role"] == "head":
                assert "head" in flags
                assert "address" not in flags
                assert port_flags == {**own, **HEAD_PORT_FLAGS}, (host, node["name"])
                assert flags["dashboard-host"] == hplan["node_ip"]
            else:
                assert "head" not in flags
                assert flags["address"] == "172.28.84.84:6379"
                assert port_flags == own, (host, node["name"])
            assert flags["node-ip-address"] == hplan["node_ip"]
            assert int(flags["num-cpus"]) == node["num_cpus"]
            assert int(flags["num-gpus"]) == 0
            assert int(flags["object-store-memory"]) == node["object_store_memory"]
            assert int(flags["memory"]) == node["memory"] - node["object_store_memory"]
            assert "resources" not in flags
            assert "labels" not in flags


def test_lab_environment(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    head = plan["hosts"][HEAD]["nodes"][0]
    worker = plan["hosts"]["lab-80"]["nodes"][0]
    # The default GCS storage (rocksdb): the head keeps the state on its host, every node waits 60 s.
    assert environment(plan, head) == {
        "AUTOSCALER_METRIC_PORT": "8266",
        "DASHBOARD_METRIC_PORT": "8267",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": TOKEN_PATH,
        "RAY_gcs_rpc_server_reconnect_timeout_s": "60",
        "RAY_gcs_storage": "rocksdb",
        "RAY_gcs_storage_path": "/var/lib/ray-gcs",
        "RAY_ROTATION_MAX_BYTES": "67108864",
        "RAY_ROTATION_BACKUP_COUNT": "3",
        "RAY_CLUSTER_NODE": "ray-head",
    }
    assert environment(plan, worker) == {
        "RAY_CLUSTER_NODE": worker["name"],
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": TOKEN_PATH,
        "RAY_gcs_rpc_server_reconnect_timeout_s": "60",
        "RAY_ROTATION_MAX_BYTES": "67108864",
        "RAY_ROTATION_BACKUP_COUNT": "3",
    }
    assert not {"command", "environment", "health_url"} & set(worker), "the plan no longer carries rendered values"


@pytest.mark.parametrize(
    ("storage", "timeout", "want_timeout", "head_env", "head_volume"),
    [
        ("rocksdb", None, "60", {"RAY_gcs_storage": "rocksdb", "RAY_gcs_storage_path": "/var/lib/ray-gcs"},
         "/srv/gcs/ray/ray-2.60.0:/var/lib/ray-gcs"),
        ("rocksdb", 45, "45", {"RAY_gcs_storage": "rocksdb", "RAY_gcs_storage_path": "/var/lib/ray-gcs"},
         "/srv/gcs/ray/ray-2.60.0:/var/lib/ray-gcs"),
        ("none", None, "20", {}, None),
        ("none", "30", "30", {}, None),
    ],
)  # fmt: skip
def test_gcs_storage_sets_the_head_and_every_node_wait(
    lab_hosts: Hosts, storage: str, timeout: Any, want_timeout: str, head_env: dict[str, str], head_volume: str | None
) -> None:
    for hvars in lab_hosts.values():
        hvars.update(
            {"ray_cluster_gcs_storage": storage, "ray_cluster_gcs_storage_dir": "/srv/gcs/", "ray_cluster_version": "2.60.0"}
        )
        if timeout is not None:
            hvars["ray_cluster_gcs_reconnect_timeout_s"] = timeout
    plan = build(lab_hosts)
    assert plan["cluster"]["gcs_storage"] == storage
    assert plan["cluster"]["gcs_reconnect_timeout_s"] == int(want_timeout)
    for host, _hplan, node, service in rendered_nodes(plan):
        env = service["environment"]
        assert env["RAY_gcs_rpc_server_reconnect_timeout_s"] == want_timeout, (host, node["name"])
        storage_env = {key: value for key, value in env.items() if key.startswith("RAY_gcs_storage")}
        gcs_volumes = [volume for volume in service.get("volumes", []) if volume.endswith(":/var/lib/ray-gcs")]
        if node["role"] == "head":
            assert storage_env == head_env
            assert gcs_volumes == ([head_volume] if head_volume else [])
        else:
            assert storage_env == {} and gcs_volumes == [], "only the head keeps GCS state"
    if storage == "none":
        assert plan["cluster"]["gcs_storage_root"] == plan["cluster"]["gcs_storage_path"] == ""
    else:
        assert plan["cluster"]["gcs_storage_root"] == "/srv/gcs/ray"


def test_gcs_storage_path_changes_with_the_ray_version(lab_hosts: Hosts) -> None:
    """An upgrade starts a new store: another version's state is never loaded into the new cluster."""
    paths = set()
    for version in ("2.59.0", "2.60.0"):
        for hvars in lab_hosts.values():
            hvars["ray_cluster_version"] = version
        paths.add(build(copy.deepcopy(lab_hosts))["cluster"]["gcs_storage_path"])
    assert len(paths) == 2


# --------------------------------------------------------------------------- compose


def test_compose_content_parses(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    for host, hplan in plan["hosts"].items():
        for kind in KINDS:
            nodes = kind_nodes(hplan, kind)
            content = compose_content(plan, host, kind, FINGERPRINT)
            if not nodes:
                assert content == ""
                continue
            assert content.startswith(MANAGED_HEADER + f"# Host {host}: {len(nodes)} Ray {kind} container(s).\n")
            assert content.endswith("\n")
            doc = yaml.safe_load(content)
            assert list(doc) == ["name", "services"]
            assert doc["name"] == hplan["projects"][kind]["name"] == f"ray-{kind}"
            assert list(doc["services"]) == hplan["projects"][kind]["services"] == [n["name"] for n in nodes]
            for node in nodes:
                service = doc["services"][node["name"]]
                assert service["container_name"] == node["name"]
                assert service["image"] == f"wizardsofts/ray:{RAY_VERSION}-py311"
                assert service["network_mode"] == "host"
                assert service["restart"] == "unless-stopped"
                assert parse_size(service["shm_size"]) == node["shm_size"]
                limits = service["deploy"]["resources"]["limits"]
                assert float(limits["cpus"]) == node["cpus"]
                assert parse_size(limits["memory"]) == node["memory"]
                assert "reservations" not in service["deploy"]["resources"]
                assert service["command"] == command(plan, host, node)
                assert service["environment"] == environment(plan, node)
                role = node["role"]
                expected_labels = {
                    "com.wizardsofts.cluster": "ray",
                    "com.wizardsofts.server": host,
                    "com.wizardsofts.service": f"ray-{role}",
                }
                if role == "worker":
                    expected_labels["com.wizardsofts.worker-id"] = str(node["worker_id"])
                expected_labels["com.wizardsofts.auth-token-sha256"] = FINGERPRINT
                # The spec label: the hash of the service without it (what a container was created from).
                unlabelled = {**service, "labels": {k: v for k, v in service["labels"].items() if k != "com.wizardsofts.spec"}}
                expected_labels["com.wizardsofts.spec"] = spec_hash(unlabelled)
                assert service["labels"] == expected_labels
                gcs = [f"{plan['cluster']['gcs_storage_path']}:/var/lib/ray-gcs"] if role == "head" else []
                logs = f"/var/log/ray-cluster/ray/{node['name']}:/tmp/ray"
                assert hplan["node_log_dirs"][node["name"]] == f"/var/log/ray-cluster/ray/{node['name']}"
                assert service["volumes"] == [logs, f"/etc/ray-cluster/auth_token:{TOKEN_PATH}:ro", *gcs]
                # Each line of its json-file log names the node (the log shipper reads it).
                options = {"env": "RAY_CLUSTER_NODE", "max-file": "3", "max-size": "50m"}
                assert service["logging"] == {"driver": "json-file", "options": options}
                assert service["environment"]["RAY_CLUSTER_NODE"] == node["name"]


def rendered_nodes(plan: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """``(host, host plan, node, its rendered service)`` of every planned node."""
    for host, hplan in plan["hosts"].items():
        for kind in KINDS:
            if not kind_nodes(hplan, kind):
                continue
            rendered = services(plan, host, kind)
            for node in kind_nodes(hplan, kind):
                yield host, hplan, node, rendered[node["name"]]


def test_compose_commands_pin_exactly_the_node_ports(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{}, {"name": "ray-gpu", "gpus": 1}]
    plan = build(lab_hosts)
    seen: dict[str, set[int]] = {}
    for host, hplan, node, service in rendered_nodes(plan):
        argv = service["command"]
        own = {flag: node["ports"][key] for flag, key in PORT_FLAGS.items()}
        expected = {**own, **HEAD_PORT_FLAGS} if node["role"] == "head" else own
        assert port_flags(argv) == expected, (host, node["name"])
        # No other node's port block appears in this node's command.
        block = set(range(node["ports"]["node_manager"], node["ports"]["max_worker"] + 1))
        assert set(own.values()) <= block
        ports = seen.setdefault(host, set())
        assert not ports & block, (host, node["name"])
        ports |= block
        assert parse_flags(argv)["node-ip-address"] == hplan["node_ip"]


def test_compose_health_check_uses_the_node_agent_port(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    for _host, hplan, node, service in rendered_nodes(plan):
        check = service["healthcheck"]
        assert check["test"][:3] == ["CMD", "bash", "-c"]
        script = check["test"][3].replace("$$", "$")  # as compose hands it to bash
        assert script == health_check(node, hplan["node_ip"])
        assert f"/dev/tcp/{hplan['node_ip']}/{node['ports']['dashboard_agent_http']} " in script
        assert f"GET {HEALTH_PATH} " in script
        assert subprocess.run(["bash", "-n", "-c", script], check=False).returncode == 0
        assert {k: check[k] for k in ("interval", "timeout", "retries", "start_period", "start_interval")} == {
            "interval": "15s",
            "timeout": "10s",
            "retries": 4,
            "start_period": "120s",
            "start_interval": "1s",
        }
    worker = services(plan, "lab-80", "workers")["ray-worker-1"]
    assert "/dev/tcp/172.28.84.80/20004 " in worker["healthcheck"]["test"][3]
    ipv6 = copy.deepcopy(lab_hosts)
    for i, hvars in enumerate(ipv6.values(), start=1):
        hvars["ray_node_ip"] = f"2001:db8::{i}"
    assert "/dev/tcp/2001:db8::2/20004 " in services(build(ipv6), "lab-80", "workers")["ray-worker-1"]["healthcheck"]["test"][3]


class _Agent(http.server.BaseHTTPRequestHandler):
    """A node's dashboard agent as the health check sees it: the status and body the test sets."""

    answer: ClassVar[tuple[int, bytes]] = (200, b"success")
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        status, body = type(self).answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("answer", "healthy"),
    [
        ((200, b"success"), True),
        ((200, b"{'result': 'success'}" * 400), True),  # an answer longer than one read
        ((200, b"raylet not ready"), False),
        ((503, b"success"), False),
        ((404, b"not found"), False),
        (None, False),  # nothing listens
    ],
)
def test_the_health_check_passes_on_a_200_that_says_success_only(answer: tuple[int, bytes] | None, healthy: bool) -> None:
    # The script itself, run by bash against an agent on loopback.
    server = http.server.HTTPServer(("127.0.0.1", 0), _Agent)
    port = server.server_address[1]
    if answer is None:
        server.server_close()
    else:
        _Agent.answer, _Agent.paths = answer, []
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = health_check({"ports": {"dashboard_agent_http": port}}, "127.0.0.1")
        run = subprocess.run(["bash", "-c", script], capture_output=True, timeout=20, check=False)
        assert (run.returncode == 0) is healthy, run
        if answer is not None:
            assert _Agent.paths == [HEALTH_PATH]
    finally:
        if answer is not None:
            server.shutdown()
            server.server_close()


def test_compose_content_is_byte_identical(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{"resources": {"b": 1, "a": 2}, "labels": {"y": "1", "x": "2"}}]
    first = build(copy.deepcopy(lab_hosts))
    second = build(copy.deepcopy(lab_hosts))
    assert first == second
    # As Ansible hands the fact back to the filter: JSON types only.
    via_json = json.loads(json.dumps(first))
    before = copy.deepcopy(first)
    for host in first["hosts"]:
        for kind in KINDS:
            text = compose_content(first, host, kind, FINGERPRINT).encode()
            assert text == compose_content(first, host, kind, FINGERPRINT).encode()
            assert text == compose_content(second, host, kind, FINGERPRINT).encode()
            assert text == compose_content(via_json, host, kind, FINGERPRINT).encode()
    assert first == before, "rendering must not change the plan"


def test_compose_content_ignores_input_key_order(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_spec"].update(resources={"b": 1, "a": 2}, labels={"y": "1", "x": "2"})
    reordered = copy.deepcopy(lab_hosts)
    spec_80 = reordered["lab-80"]["ray_worker_spec"]
    reordered["lab-80"]["ray_worker_spec"] = {
        k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(list(spec_80.items()))
    }
    reordered = {k: dict(reversed(list(v.items()))) for k, v in reversed(list(reordered.items()))}
    a = compose_content(build(lab_hosts), "lab-80", "workers", FINGERPRINT)
    b = compose_content(build(reordered), "lab-80", "workers", FINGERPRINT)
    assert a == b
    flags = parse_flags(yaml.safe_load(a)["services"]["ray-worker-1"]["command"])
    assert (flags["resources"], flags["labels"]) == ('{"a":2,"b":1}', "x=2,y=1")


BAD_RENDER = [
    ("unknown-kind", "lab-80", "worker", "head or workers"),
    ("kind-case", "lab-80", "Head", "head or workers"),
    ("unknown-host", "lab-99", "workers", "lab-99 is not in the cluster plan"),
]


@pytest.mark.parametrize(("host", "kind", "match"), [c[1:] for c in BAD_RENDER], ids=[c[0] for c in BAD_RENDER])
def test_compose_content_rejects_bad_host_or_kind(lab_hosts: Hosts, host: str, kind: str, match: str) -> None:
    plan = build(lab_hosts)
    with pytest.raises(ValueError, match=match):
        compose_content(plan, host, kind, FINGERPRINT)


def test_compose_reservation_and_custom_settings(lab_hosts: Hosts) -> None:
    cluster(
        ray_cluster_name="prod",
        ray_cluster_label_prefix="org.example",
        ray_cluster_compose_dir="/srv/ray/",
        ray_cluster_image="registry.example/ray:1",
        ray_cluster_log_max_size="10m",
        ray_cluster_log_max_files=7,
        ray_cluster_gcs_reconnect_timeout_s=45,
        ray_cluster_autoscaler_metrics_port=9100,
        ray_cluster_dashboard_metrics_port=9101,
    )(lab_hosts)
    lab_hosts["lab-82"]["ray_worker_spec"]["memory_reservation"] = "512m"
    plan = build(lab_hosts)
    c = plan["cluster"]
    assert (c["log_max_size"], c["log_max_files"], c["gcs_reconnect_timeout_s"]) == ("10m", 7, 45)
    assert (c["autoscaler_metrics_port"], c["dashboard_metrics_port"], c["dashboard_bind"]) == (9100, 9101, "node_ip")
    project = plan["hosts"]["lab-82"]["projects"]["workers"]
    assert (project["name"], project["dir"], project["file"]) == (
        "prod-workers",
        "/srv/ray/workers",
        "/srv/ray/workers/compose.yaml",
    )
    doc = yaml.safe_load(compose_content(plan, "lab-82", "workers", FINGERPRINT))
    service = doc["services"]["ray-worker-1"]
    assert doc["name"] == "prod-workers"
    assert service["image"] == "registry.example/ray:1"
    assert parse_size(service["deploy"]["resources"]["reservations"]["memory"]) == 512 * MIB
    assert set(service["labels"]) == {
        "org.example.cluster",
        "org.example.server",
        "org.example.service",
        "org.example.worker-id",
        "org.example.auth-token-sha256",
        "org.example.spec",
    }
    assert service["labels"]["org.example.cluster"] == "prod"
    assert service["logging"]["options"] == {"env": "RAY_CLUSTER_NODE", "max-file": "7", "max-size": "10m"}
    assert service["environment"]["RAY_gcs_rpc_server_reconnect_timeout_s"] == "45"
    head = services(plan, HEAD, "head")["ray-head"]
    assert head["environment"]["AUTOSCALER_METRIC_PORT"] == "9100"
    assert head["environment"]["DASHBOARD_METRIC_PORT"] == "9101"


@pytest.mark.parametrize(
    ("bind", "host_flag", "url"),
    [
        ("node_ip", "172.28.84.84", "http://172.28.84.84:8265"),
        ("loopback", "127.0.0.1", "http://127.0.0.1:8265"),
        ("all", "0.0.0.0", "http://172.28.84.84:8265"),  # noqa: S104
    ],
    ids=["node_ip", "loopback", "all"],
)
def test_dashboard_bind(lab_hosts: Hosts, bind: str, host_flag: str, url: str) -> None:
    cluster(ray_cluster_dashboard_bind=bind)(lab_hosts)
    plan = build(lab_hosts)
    assert plan["cluster"]["dashboard_bind"] == bind
    assert parse_flags(services(plan, HEAD, "head")["ray-head"]["command"])["dashboard-host"] == host_flag
    assert plan["cluster"]["dashboard_url"] == url


def test_compose_service_is_a_pure_mapping_of_the_plan(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    hplan = plan["hosts"]["lab-81"]
    node = hplan["nodes"][1]
    service = compose_service(
        "lab-81", node, hplan["node_ip"], plan["cluster"], FINGERPRINT, hplan["node_log_dirs"][node["name"]]
    )
    assert service["command"] == node_command(node, hplan["node_ip"], plan["cluster"])
    assert service["environment"] == node_environment(node, plan["cluster"])
    rendered = services(plan, "lab-81", "workers")[node["name"]]
    spec = rendered["labels"].pop("com.wizardsofts.spec")  # compose_services adds it (hash of the rest)
    assert rendered == yaml.safe_load(to_yaml(service))
    assert spec == spec_hash(service)


@pytest.mark.parametrize(
    ("stagger", "host", "expected"),
    [
        (False, "lab-80", {}),
        (True, "lab-80", {"ray-worker-2": "ray-worker-1", "ray-worker-3": "ray-worker-2", "ray-worker-4": "ray-worker-3"}),
        (True, "lab-82", {}),
        (True, "lab-84", {"ray-worker-2": "ray-worker-1", "ray-worker-3": "ray-worker-2"}),
    ],
    ids=["parallel", "chain-of-four", "single-worker", "head-host-workers"],
)
def test_staggered_worker_start_chains_each_worker_to_the_previous(
    lab_hosts: Hosts, stagger: bool, host: str, expected: dict[str, str]
) -> None:
    cluster(ray_cluster_stagger_worker_start=stagger)(lab_hosts)
    plan = build(lab_hosts)
    services = yaml.safe_load(compose_content(plan, host, "workers", FINGERPRINT))["services"]
    seen = {name: next(iter(svc["depends_on"])) for name, svc in services.items() if "depends_on" in svc}
    assert seen == expected
    assert all(
        svc["depends_on"][dep]["condition"] == "service_healthy" for svc in services.values() for dep in svc.get("depends_on", {})
    )
    head = yaml.safe_load(compose_content(plan, "lab-84", "head", FINGERPRINT))["services"]
    assert all("depends_on" not in svc for svc in head.values())


# --------------------------------------------------------------------------- Ray's node logs


# (id, mutation, Ray's rotation in every node's environment, the cluster's log directory on every host)
NODE_LOG_RENDER = [
    ("defaults", cluster(), ("67108864", "3"), "/var/log/ray-cluster/ray"),
    (
        "custom",
        cluster(
            ray_cluster_name="prod",
            ray_cluster_node_log_dir="/srv/ray-logs/",
            ray_cluster_node_log_file_size="10m",
            ray_cluster_node_log_file_backups=5,
            ray_cluster_node_log_budget="1g",
        ),
        ("10485760", "5"),
        "/srv/ray-logs/prod",
    ),
    ("auth-disabled", cluster(ray_cluster_auth_mode="disabled"), ("67108864", "3"), "/var/log/ray-cluster/ray"),
    ("redis", cluster(ray_cluster_gcs_storage="redis"), ("67108864", "3"), "/var/log/ray-cluster/ray"),
]


@pytest.mark.parametrize(
    ("mutation", "rotation", "log_dir"), [c[1:] for c in NODE_LOG_RENDER], ids=[c[0] for c in NODE_LOG_RENDER]
)
def test_every_node_rotates_its_logs_into_its_own_host_directory(
    lab_hosts: Hosts, mutation: Mutation, rotation: tuple[str, str], log_dir: str
) -> None:
    plan = apply(mutation, lab_hosts)
    assert plan["cluster"]["node_logs"]["dir"] == log_dir
    seen = 0
    for host, hplan in plan["hosts"].items():
        assert set(hplan["node_log_dirs"]) == {node["name"] for node in hplan["nodes"]}, host
        host_dirs = []
        for kind in KINDS:
            if not kind_nodes(hplan, kind):
                continue
            for name, service in services(plan, host, kind).items():
                if name == plan["cluster"]["gcs_redis"].get("container"):
                    # Not a Ray node: neither Ray's rotation nor a log directory.
                    assert not any(v.endswith(":/tmp/ray") for v in service["volumes"])
                    assert not any(k.startswith("RAY_ROTATION") for k in service.get("environment") or {})
                    continue
                env = service["environment"]
                assert (env["RAY_ROTATION_MAX_BYTES"], env["RAY_ROTATION_BACKUP_COUNT"]) == rotation, (host, name)
                # Ray's temporary directory (its session logs) is the first volume: the node's own directory.
                assert service["volumes"][0] == f"{log_dir}/{name}:/tmp/ray", (host, name)
                assert [v for v in service["volumes"] if v.endswith(":/tmp/ray")] == [service["volumes"][0]]
                assert hplan["node_log_dirs"][name] == f"{log_dir}/{name}"
                host_dirs.append(service["volumes"][0].split(":")[0])
                seen += 1
        assert len(host_dirs) == len(set(host_dirs)) == len(hplan["nodes"]), (host, "one directory per node")
    assert seen == plan["cluster"]["expected_node_count"]


def test_node_log_dirs_are_distinct_on_a_host_with_custom_names(lab_hosts: Hosts) -> None:
    lab_hosts["lab-80"]["ray_worker_overrides"] = [{}, {"name": "ray-gpu", "gpus": 1}]
    plan = build(lab_hosts)
    dirs = plan["hosts"]["lab-80"]["node_log_dirs"]
    assert dirs == {
        "ray-worker-1": "/var/log/ray-cluster/ray/ray-worker-1",
        "ray-gpu": "/var/log/ray-cluster/ray/ray-gpu",
        "ray-worker-3": "/var/log/ray-cluster/ray/ray-worker-3",
        "ray-worker-4": "/var/log/ray-cluster/ray/ray-worker-4",
    }
    rendered = services(plan, "lab-80", "workers")
    assert {name: service["volumes"][0] for name, service in rendered.items()} == {
        name: f"{path}:/tmp/ray" for name, path in dirs.items()
    }


def test_compose_service_without_a_log_dir_mounts_none(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    hplan = plan["hosts"]["lab-82"]
    node = hplan["nodes"][0]
    bare = compose_service("lab-82", node, hplan["node_ip"], plan["cluster"], FINGERPRINT)
    with_logs = compose_service("lab-82", node, hplan["node_ip"], plan["cluster"], FINGERPRINT, "/logs/ray-worker-1")
    assert bare["volumes"] == [f"/etc/ray-cluster/auth_token:{TOKEN_PATH}:ro"]
    assert with_logs["volumes"] == ["/logs/ray-worker-1:/tmp/ray", *bare["volumes"]]
    assert {k: v for k, v in with_logs.items() if k != "volumes"} == {k: v for k, v in bare.items() if k != "volumes"}


def test_node_log_settings_change_the_spec_label(lab_hosts: Hosts) -> None:
    """A new rotation or log directory recreates the containers: both are in the spec the label hashes."""
    labels = []
    for mutation in (
        cluster(),
        cluster(ray_cluster_node_log_file_backups=4),
        cluster(ray_cluster_node_log_dir="/srv/ray-logs"),
    ):
        rendered = services(apply(mutation, copy.deepcopy(lab_hosts)), "lab-82", "workers")["ray-worker-1"]
        labels.append(rendered["labels"]["com.wizardsofts.spec"])
    assert len(set(labels)) == 3
    # The budget is the host's to keep (the pruner): the containers stay.
    same = services(apply(cluster(ray_cluster_node_log_budget="4g"), copy.deepcopy(lab_hosts)), "lab-82", "workers")
    assert same["ray-worker-1"]["labels"]["com.wizardsofts.spec"] == labels[0]


# --------------------------------------------------------------------------- token authentication

OTHER_FINGERPRINT = "0123456789abcdef" * 4


SAMPLE_TOKEN = "k3x9q2vz8m1w7t4r6y0p5n2b8c4d6f1h3j5l7s9u0a2e4g6i8o1"  # noqa: S105 (a test value)


def rendered_projects(plan: dict[str, Any], fingerprint: str) -> list[tuple[str, str, str]]:
    """``(host, kind, text)`` of every non-empty compose project of the plan."""
    return [
        (host, kind, compose_content(plan, host, kind, fingerprint))
        for host, hplan in plan["hosts"].items()
        for kind in KINDS
        if kind_nodes(hplan, kind)
    ]


def test_auth_token_container_path() -> None:
    assert AUTH_TOKEN_CONTAINER_PATH == TOKEN_PATH


# (mutation, fingerprint passed, token mode expected, token file in the plan)
AUTH_RENDER = [
    ("token-by-default", cluster(), FINGERPRINT, True, "/etc/ray-cluster/auth_token"),
    (
        "token-custom-file",
        cluster(ray_cluster_auth_mode="token", ray_cluster_auth_token_file=CUSTOM_TOKEN_FILE),
        OTHER_FINGERPRINT,
        True,
        CUSTOM_TOKEN_FILE,
    ),
    (
        "token-at-2.52",
        cluster(ray_cluster_version="2.52.0", ray_cluster_gcs_storage="none"),
        "0" * 16,
        True,
        "/etc/ray-cluster/auth_token",
    ),
    ("disabled", cluster(ray_cluster_auth_mode="disabled"), "", False, "/etc/ray-cluster/auth_token"),
    ("disabled-ignores-a-fingerprint", cluster(ray_cluster_auth_mode="disabled"), FINGERPRINT, False, None),
    (
        "disabled-before-2.52",
        cluster(ray_cluster_auth_mode="disabled", ray_cluster_version="2.51.0", ray_cluster_gcs_storage="none"),
        "",
        False,
        None,
    ),
]


@pytest.mark.parametrize(
    ("mutation", "fingerprint", "token", "token_file"), [c[1:] for c in AUTH_RENDER], ids=[c[0] for c in AUTH_RENDER]
)
def test_auth_mode_rendering(lab_hosts: Hosts, mutation: Mutation, fingerprint: str, token: bool, token_file: str | None) -> None:
    plan = apply(mutation, lab_hosts)
    c = plan["cluster"]
    assert c["auth_mode"] == ("token" if token else "disabled")
    if token_file:
        assert c["auth_token_file"] == token_file
    projects = rendered_projects(plan, fingerprint)
    assert len(projects) == 5
    for host, kind, text in projects:
        for name, service in yaml.safe_load(text)["services"].items():
            where = (host, kind, name)
            env = service["environment"]
            label = service["labels"].get("com.wizardsofts.auth-token-sha256")
            token_volumes = [volume for volume in service.get("volumes", []) if TOKEN_PATH in volume]
            assert env["RAY_AUTH_MODE"] == c["auth_mode"], where
            if token:
                assert env["RAY_AUTH_TOKEN_PATH"] == TOKEN_PATH, where
                assert token_volumes == [f"{token_file}:{TOKEN_PATH}:ro"], where
                assert label == fingerprint, where
            else:
                assert "RAY_AUTH_TOKEN_PATH" not in env, where
                assert token_volumes == [], where
                assert label is None, where
        if not token:
            assert "auth-token" not in text
            assert TOKEN_PATH not in text
            if fingerprint:
                assert fingerprint not in text


def test_fingerprint_changes_only_the_label_lines(lab_hosts: Hosts) -> None:
    plan = build(lab_hosts)
    changed = 0
    for (host, kind, a), (_, _, b) in zip(
        rendered_projects(plan, FINGERPRINT), rendered_projects(plan, OTHER_FINGERPRINT), strict=True
    ):
        lines_a, lines_b = a.splitlines(), b.splitlines()
        assert len(lines_a) == len(lines_b), (host, kind)
        diff = [(x, y) for x, y in zip(lines_a, lines_b, strict=True) if x != y]
        # Per container: the fingerprint label, and the spec label (a hash of the spec, label included).
        assert len(diff) == 2 * len(yaml.safe_load(a)["services"]), (host, kind)
        fingerprints = [(x, y) for x, y in diff if "auth-token-sha256" in x]
        assert len(fingerprints) == len(diff) // 2
        for x, y in fingerprints:
            assert x.strip() == f'com.wizardsofts.auth-token-sha256: "{FINGERPRINT}"'
            assert y.strip() == f'com.wizardsofts.auth-token-sha256: "{OTHER_FINGERPRINT}"'
        assert all(x.strip().startswith("com.wizardsofts.spec: ") for x, _ in diff if (x, _) not in fingerprints)
        changed += len(fingerprints)
    assert changed == plan["cluster"]["expected_node_count"]


def test_fingerprint_changes_nothing_when_auth_is_disabled(lab_hosts: Hosts) -> None:
    plan = apply(cluster(ray_cluster_auth_mode="disabled"), lab_hosts)
    assert rendered_projects(plan, "") == rendered_projects(plan, FINGERPRINT) == rendered_projects(plan, "x")


# Fingerprints compose_content refuses with token authentication (16 to 64 lower-case hex digits only).
BAD_FINGERPRINTS = [
    ("empty", ""),
    ("none", None),
    ("too-short", "a" * 15),
    ("too-long", "a" * 65),
    ("upper-case-hex", "AB" * 16),
    ("mixed-case-hex", "aB" * 16),
    ("raw-token", SAMPLE_TOKEN),
    ("raw-token-upper-case", "Kx9Q2vZ8M1w7T4r6Y0p5"),
    ("token-with-symbols", "s3cr3t+/token=="),
    ("prefixed", "sha256:" + "ab" * 16),
    ("trailing-newline", "ab" * 16 + "\n"),
    ("padded", " " + "ab" * 16),
    ("non-hex-letter", "ab" * 15 + "ag"),
]


@pytest.mark.parametrize("fingerprint", [c[1] for c in BAD_FINGERPRINTS], ids=[c[0] for c in BAD_FINGERPRINTS])
@pytest.mark.parametrize(("host", "kind"), [(HEAD, "head"), ("lab-80", "workers"), ("lab-82", "head")])
def test_token_auth_needs_a_hex_fingerprint(lab_hosts: Hosts, fingerprint: Any, host: str, kind: str) -> None:
    # Also for a project without services (lab-82 has no head): the role always passes it.
    plan = build(lab_hosts)
    with pytest.raises(ValueError, match="fingerprint") as exc:
        compose_content(plan, host, kind, fingerprint)
    if fingerprint:
        assert fingerprint not in str(exc.value), "the error must not echo what may be the token"


def test_token_auth_without_fingerprint_argument_raises(lab_hosts: Hosts) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        compose_content(build(lab_hosts), "lab-80", "workers")


@pytest.mark.parametrize("length", [16, 32, 64], ids=["16", "32", "64"])
def test_fingerprint_lengths_accepted(lab_hosts: Hosts, length: int) -> None:
    fingerprint = ("0123456789abcdef" * 4)[:length]
    doc = yaml.safe_load(compose_content(build(lab_hosts), "lab-80", "workers", fingerprint))
    assert {s["labels"]["com.wizardsofts.auth-token-sha256"] for s in doc["services"].values()} == {fingerprint}


@pytest.mark.parametrize(
    "token",
    [SAMPLE_TOKEN, "S3cr3t-Token_With.Symbols", "0" * 64],
    ids=["generated-like", "symbols", "all-digits"],
)
def test_token_never_appears_in_rendered_content(lab_hosts: Hosts, token: str) -> None:
    plan = build(lab_hosts)
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(plan)
    for fingerprint in (digest, digest[:32]):
        for host, kind, text in rendered_projects(plan, fingerprint):
            assert token not in text, (host, kind)
            assert fingerprint in text, (host, kind)


# --------------------------------------------------------------------------- the YAML emitter

TO_YAML = [
    {"a": 1, "b": "x", "c": True, "d": 0.5},
    {"nested": {"list": [1, "two", {"three": [3]}], "empty_list": [], "empty_dict": {}}},
    {"odd key": "with: colon", "quote": 'say "hi"', "unicode": "café", "newline": "a\nb", "bool_word": "yes", "num": "123"},
    [[1, 2], [3], {"k": "v"}],
    {"list_of_dicts": [{"a": 1, "b": {"c": [1, 2]}}, {"d": []}]},
]


@pytest.mark.parametrize("value", TO_YAML, ids=["scalars", "nested", "quoting", "nested-lists", "list-of-dicts"])
def test_to_yaml_round_trips(value: Any) -> None:
    assert yaml.safe_load(to_yaml(value)) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", '"x"'), (3, "3"), (False, "false")],
    ids=["string", "int", "bool"],
)
def test_to_yaml_top_level(value: Any, expected: str) -> None:
    assert to_yaml(value) == expected


# Plain words YAML 1.1 reads as booleans or null are quoted as keys; other words stay plain.
YAML_KEYS = [
    *((key, True) for key in ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "Yes", "ON", "NULL")),
    *((key, False) for key in ("yes_no", "nothing", "truest", "x")),
]


@pytest.mark.parametrize(("key", "quoted"), YAML_KEYS, ids=[k for k, _ in YAML_KEYS])
def test_to_yaml_quotes_keys_yaml_would_not_read_as_strings(key: str, quoted: bool) -> None:
    text = to_yaml({key: 1})
    assert yaml.safe_load(text) == {key: 1}
    assert text == (f'"{key}": 1' if quoted else f"{key}: 1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"a": None}, "a: null"), ([None, 1], "- null\n- 1"), (None, "null")],
    ids=["mapping-value", "list-item", "top-level"],
)
def test_to_yaml_none_is_null(value: Any, expected: str) -> None:
    text = to_yaml(value)
    assert text == expected
    assert yaml.safe_load(text) == value


def test_spec_label_changes_with_the_spec_and_only_then(lab_hosts: Hosts) -> None:
    def spec_labels(hosts: Hosts, fingerprint: str = FINGERPRINT) -> dict[str, str]:
        services = compose_services(build(hosts), "lab-80", "workers", fingerprint)
        return {name: service["labels"]["com.wizardsofts.spec"] for name, service in services.items()}

    before = spec_labels(lab_hosts)
    assert len(set(before.values())) == len(before) == 4  # one per container (names and ports differ)
    assert spec_labels(lab_hosts) == before  # deterministic
    other_token = spec_labels(lab_hosts, "cd" * 16)
    assert all(other_token[name] != before[name] for name in before)
    bigger = {
        **lab_hosts,
        "lab-80": {**lab_hosts["lab-80"], "ray_worker_spec": {**lab_hosts["lab-80"]["ray_worker_spec"], "cpus": 1.5}},
    }
    assert all(spec_labels(bigger)[name] != before[name] for name in before)
