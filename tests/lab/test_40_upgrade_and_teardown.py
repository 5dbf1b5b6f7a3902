"""Upgrade the whole cluster between two Ray versions and back (rotating the token on the way
back: one full-cluster recreation proves both); then tear it down."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from labkit import (
    ROOT,
    cluster_token,
    inventory_with,
    jobs_api,
    lab_host,
    lab_hosts,
    log,
    pins,
    plan,
    playbook,
    ray_containers,
    ray_image,
    server,
    wait_whole,
)

OLD = pins.RAY_PREVIOUS_VERSION


def test_partial_upgrade_is_refused() -> None:
    run = playbook("playbooks/upgrade.yml", "--limit", "lab-80")
    assert run.rc != 0, run
    assert "leaves out" in run.out and "lab-84" in run.out, run
    assert not run.changed_hosts(), run


def test_upgrade_to_another_ray_and_back_with_a_new_token(tmp_path: Path) -> None:
    # The lab builds the other version's image once (about 80 s; bin/test builds it in the background).
    subprocess.run([str(ROOT / "lab" / "images.sh")], env={**os.environ, "RAY_VERSION": OLD}, check=True, timeout=1200, cwd=ROOT)
    inventory = inventory_with(tmp_path, {"group:ray_cluster": {"ray_cluster_version": OLD, "ray_cluster_image": ray_image(OLD)}})
    run = playbook("playbooks/upgrade.yml", inventory=inventory, timeout=1800)
    assert run.rc == 0, run
    assert f"nodes on Ray {OLD}" in run.out, run
    wait_whole(inventory)
    log(f"moved all 11 nodes to Ray {OLD} in {run.seconds:.0f} s")

    # Back to the planned Ray with a new token (a variable change; the lab keeps it afterwards:
    # later runs read it back from the head host).
    old_token = cluster_token()
    before = {host: ray_containers(host) for host in lab_hosts()}
    new_token = secrets.token_hex(24)
    run = playbook("playbooks/upgrade.yml", "-e", json.dumps({"ray_cluster_auth_token": new_token}), timeout=1800)
    assert run.rc == 0, run
    assert new_token not in run.out
    assert f"nodes on Ray {pins.RAY_VERSION}" in run.out, run
    for host in lab_hosts():
        token = lab_host(host).file(plan()["cluster"]["auth_token_file"])
        assert token.content_string.strip() == new_token and token.mode == 0o600 and token.user == "root", host
        after = ray_containers(host)
        assert all(after[name][0] != before[host][name][0] for name in after), f"{host}: a container was not recreated"
    wait_whole()
    # The GCS state of the other version was removed with it: the head host keeps one store.
    cluster = plan()["cluster"]
    assert lab_host(cluster["head_host"]).file(cluster["gcs_storage_root"]).listdir() == [f"ray-{pins.RAY_VERSION}"]
    assert jobs_api(token=new_token)[0] == 200
    assert jobs_api(token=old_token)[0] in (401, 403)
    log(f"moved all 11 nodes back to Ray {pins.RAY_VERSION} with a new token in {run.seconds:.0f} s; the old token is refused")


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
        for path in ("/opt/ray-cluster", "/var/cache/ray-cluster", "/var/lib/ray-cluster/gcs"):
            left = lab_host(host).file(path)
            assert not left.exists or left.listdir() == [], f"{host} still has files in {path}"
        # Docker and UFW themselves stay.
        assert lab_host(host).service("docker").is_running
        assert server(host, "ufw", "status").startswith("Status: active")
    log(f"teardown: no Ray container, image or compose project left, only the SSH rule, in {run.seconds:.0f} s")
    again = playbook("playbooks/teardown.yml", *options)
    assert again.rc == 0, again
    assert again.recap and not again.changed_hosts(), again
