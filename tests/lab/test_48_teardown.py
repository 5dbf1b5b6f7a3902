"""Tear the cluster down: no Ray container, compose project, image or GCS store left, and no rule
but SSH's; Docker and UFW stay. A second teardown changes nothing. The lab is on whichever GCS
storage the tests before left it (Redis after test_40's upgrade round trip)."""

from __future__ import annotations

from pathlib import Path

from labkit import LAB_INVENTORY, cluster_containers, gcs_in_redis, lab_host, lab_hosts, log, plan, playbook, ray_image, server


def test_teardown_removes_the_cluster_its_image_and_its_rules(redis_inventory: Path) -> None:
    image = ray_image()
    monitoring = plan()["cluster"]["monitoring"]
    options = ("-e", "ray_teardown_remove_firewall_rules=true", "-e", "ray_teardown_remove_images=true")
    inventory = redis_inventory if gcs_in_redis() else LAB_INVENTORY
    run = playbook("playbooks/teardown.yml", *options, inventory=inventory)
    assert run.rc == 0, run
    for host in lab_hosts():
        assert cluster_containers(host) == {}, f"{host} still runs the cluster's containers"
        assert server(host, "docker", "image", "inspect", monitoring["image"], check=False) in ("", "[]\n"), host
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
    # Prometheus's data stays unless asked (ray_monitoring_remove_data).
    volumes = server(monitoring["host"], "docker", "volume", "ls", "--format", "{{.Name}}").split()
    assert f"{monitoring['project']['name']}_prometheus-data" in volumes, volumes
    log(f"teardown: no Ray or monitoring container, image or compose project left, only the SSH rule, in {run.seconds:.0f} s")
    again = playbook("playbooks/teardown.yml", *options, inventory=inventory)
    assert again.rc == 0, again
    assert again.recap and not again.changed_hosts(), again
