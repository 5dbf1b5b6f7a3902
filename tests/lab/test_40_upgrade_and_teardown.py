"""Upgrade the whole cluster between two Ray versions and back; then tear it down."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from labkit import ROOT, inventory_with, lab_host, lab_hosts, log, pins, playbook, ray_containers, ray_image, server, wait_whole

OLD = pins.RAY_PREVIOUS_VERSION


def test_partial_upgrade_is_refused() -> None:
    run = playbook("playbooks/upgrade.yml", "--limit", "lab-80")
    assert run.rc != 0, run
    assert "leaves out" in run.out and "lab-84" in run.out, run
    assert not run.changed_hosts(), run


def test_upgrade_to_another_ray_and_back(tmp_path: Path) -> None:
    # The lab builds the other version's image once (about 80 s) and keeps it.
    subprocess.run([str(ROOT / "lab" / "images.sh")], env={**os.environ, "RAY_VERSION": OLD}, check=True, timeout=1200, cwd=ROOT)
    inventory = inventory_with(tmp_path, {"group:ray_cluster": {"ray_cluster_version": OLD, "ray_cluster_image": ray_image(OLD)}})
    run = playbook("playbooks/upgrade.yml", inventory=inventory, timeout=1800)
    assert run.rc == 0, run
    assert f"nodes on Ray {OLD}" in run.out, run
    wait_whole(inventory)
    log(f"moved all 11 nodes to Ray {OLD} in {run.seconds:.0f} s")
    run = playbook("playbooks/upgrade.yml", timeout=1800)
    assert run.rc == 0, run
    assert f"nodes on Ray {pins.RAY_VERSION}" in run.out, run
    wait_whole()
    log(f"moved all 11 nodes back to Ray {pins.RAY_VERSION} in {run.seconds:.0f} s")


def test_teardown_removes_the_cluster_its_image_and_its_rules() -> None:
    image = ray_image()
    options = ("-e", "ray_teardown_remove_firewall_rules=true", "-e", "ray_teardown_remove_images=true")
    run = playbook("playbooks/teardown.yml", *options)
    assert run.rc == 0, run
    for host in lab_hosts():
        assert ray_containers(host) == {}, f"{host} still runs Ray containers"
        rules = server(host, "ufw", "show", "added")
        managed = [line for line in rules.splitlines() if "ray_cluster" in line]
        assert managed and all("ray_cluster ssh" in line for line in managed), rules
        assert server(host, "docker", "image", "inspect", image, check=False) in ("", "[]\n"), f"{host} still has {image}"
        # No compose project, no image build context (the build method's test used lab-82).
        for path in ("/opt/ray-cluster", "/var/cache/ray-cluster"):
            left = lab_host(host).file(path)
            assert not left.exists or left.listdir() == [], f"{host} still has files in {path}"
        # Docker and UFW themselves stay.
        assert lab_host(host).service("docker").is_running
        assert server(host, "ufw", "status").startswith("Status: active")
    log(f"teardown: no Ray container, image or compose project left, only the SSH rule, in {run.seconds:.0f} s")
    again = playbook("playbooks/teardown.yml", *options)
    assert again.rc == 0, again
    assert again.recap and not again.changed_hosts(), again
