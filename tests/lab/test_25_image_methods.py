"""The ray_image role's build and pull methods, on one lab server (archive is what converge uses)."""

from __future__ import annotations

import json
import subprocess

from labkit import lab_hosts, log, pins, playbook, ray_containers, ray_image, server

RAY_IMAGE = ray_image()
BASE_IMAGE = "wizardsofts-lab/python:3.11-bookworm"
REGISTRY = "ray-lab-registry"
REGISTRY_IMAGE = "wizardsofts-lab/registry:trixie"
REGISTRY_IP = "172.28.84.5"
HOST = "lab-82"


def sh(*argv: str, timeout: int = 600) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{argv}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def load_into(host: str, image: str) -> None:
    """docker save on this machine | docker load in the lab server's own engine."""
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    subprocess.run(
        ["docker", "exec", "-i", lab_hosts()[host], "docker", "load"], stdin=save.stdout, check=True, capture_output=True
    )
    save.wait()


def test_build_method_builds_the_image_on_the_host() -> None:
    name = RAY_IMAGE.replace("wizardsofts/ray:", "wizardsofts/ray-built:")
    load_into(HOST, BASE_IMAGE)
    run = playbook(
        "playbooks/image.yml",
        "--limit", HOST,
        "-e", "ray_image_method=build",
        "-e", f"ray_cluster_image={name}",
        "-e", f"ray_image_build_base={BASE_IMAGE}",
        "-e", "ray_image_build_ca_bundle=/etc/ssl/certs/ca-certificates.crt",
        timeout=1800,
    )  # fmt: skip
    try:
        assert run.rc == 0, run
        version = server(HOST, "docker", "run", "--rm", "--network", "host", name, "ray", "--version")
        assert version.strip().endswith(pins.RAY_VERSION)
        # The distribution's Redis server is in it (ray_cluster_gcs_storage=redis runs it).
        redis = server(HOST, "docker", "run", "--rm", "--network", "host", name, "redis-server", "--version")
        assert redis.startswith("Redis server v="), redis
        log(f"build method: built {name} on {HOST} in {run.seconds:.0f} s")
        again = playbook(
            "playbooks/image.yml", "--limit", HOST, "-e", "ray_image_method=build", "-e", f"ray_cluster_image={name}",
            "-e", f"ray_image_build_base={BASE_IMAGE}",
        )  # fmt: skip
        assert again.rc == 0 and not again.changed_hosts(), again
    finally:
        server(HOST, "docker", "image", "rm", "-f", name, BASE_IMAGE, check=False)


def test_pull_method_pulls_the_same_image_from_a_registry() -> None:
    pulled = f"{REGISTRY_IP}:5000/{RAY_IMAGE}"
    sh("docker", "rm", "-f", REGISTRY)
    sh(
        "docker", "run", "-d", "--name", REGISTRY, "--network", "ray-lab", "--ip", REGISTRY_IP,
        "-p", "127.0.0.1:5000:5000", "--label", "com.wizardsofts.ray_cluster.lab=registry", REGISTRY_IMAGE,
    )  # fmt: skip
    before = ray_containers(HOST)
    insecure = json.dumps({"docker_engine_daemon_options": {"insecure-registries": [f"{REGISTRY_IP}:5000"]}})
    try:
        sh("docker", "tag", RAY_IMAGE, f"127.0.0.1:5000/{RAY_IMAGE}")
        sh("docker", "push", "-q", f"127.0.0.1:5000/{RAY_IMAGE}")
        # The lab's registry speaks plain HTTP: let the server's engine use it (daemon.json changes,
        # dockerd restarts; live-restore keeps the Ray containers running).
        run = playbook("playbooks/docker.yml", "--limit", HOST, "-e", insecure)
        assert run.rc == 0, run
        assert ray_containers(HOST) == before, "the daemon restart restarted Ray containers"
        run = playbook("playbooks/image.yml", "--limit", HOST, "-e", "ray_image_method=pull", "-e", f"ray_cluster_image={pulled}")
        assert run.rc == 0 and run.changed_hosts() == {HOST}, run
        here = sh("docker", "image", "inspect", "-f", "{{.Id}}", RAY_IMAGE).strip()
        there = server(HOST, "docker", "image", "inspect", "-f", "{{.Id}}", pulled).strip()
        assert here == there
        run = playbook("playbooks/image.yml", "--limit", HOST, "-e", "ray_image_method=pull", "-e", f"ray_cluster_image={pulled}")
        assert run.rc == 0 and not run.changed_hosts(), run
        log(f"pull method: {HOST} pulled {pulled} (same image ID as built here), rerun changed nothing")
    finally:
        server(HOST, "docker", "image", "rm", "-f", pulled, check=False)
        assert playbook("playbooks/docker.yml", "--limit", HOST).rc == 0
        subprocess.run(["docker", "rm", "-f", REGISTRY], capture_output=True, check=False)
        subprocess.run(["docker", "image", "rm", f"127.0.0.1:5000/{RAY_IMAGE}"], capture_output=True, check=False)
    assert ray_containers(HOST) == before


def test_image_role_is_a_no_op_on_a_converged_lab() -> None:
    run = playbook("playbooks/image.yml")
    assert run.rc == 0 and not run.changed_hosts(), run
