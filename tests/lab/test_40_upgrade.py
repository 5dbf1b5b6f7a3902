"""Upgrade the whole cluster between two Ray versions and back. The way back also rotates the token
and moves the GCS to Redis (ray_cluster_gcs_storage=redis): one recreation of the whole cluster
proves all three, and leaves the lab on Redis for test_44 (the GCS in Redis) and test_48 (teardown)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from labkit import (
    GCS_REDIS,
    ROOT,
    cluster_token,
    gcs_in_redis,
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
    whole_line,
)

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._image import archive_file, other_archives

OLD = pins.RAY_PREVIOUS_VERSION
# ray_image_archive_dir's default: the controller's cache of image archives.
ARCHIVES = Path.home() / ".cache" / "wizardsofts.ray_cluster" / "images"


def test_partial_upgrade_is_refused() -> None:
    run = playbook("playbooks/upgrade.yml", "--limit", "lab-80")
    assert run.rc != 0, run
    assert "leaves out" in run.out and "lab-84" in run.out, run
    assert not run.changed_hosts(), run


def test_upgrade_to_another_ray_and_back_with_a_new_token_and_the_gcs_in_redis(tmp_path: Path, redis_inventory: Path) -> None:
    # The lab builds the other version's image once (about 80 s; bin/test builds it in the background).
    subprocess.run([str(ROOT / "lab" / "images.sh")], env={**os.environ, "RAY_VERSION": OLD}, check=True, timeout=1200, cwd=ROOT)
    inventory = inventory_with(tmp_path, {"group:ray_cluster": {"ray_cluster_version": OLD, "ray_cluster_image": ray_image(OLD)}})
    run = playbook("playbooks/upgrade.yml", inventory=inventory, timeout=1800)
    assert run.rc == 0, run
    assert f"nodes on Ray {OLD}" in run.out, run
    # site.yml's verification (upgrade.yml runs it) waited until the cluster was whole.
    assert whole_line() in run.out, run
    log(f"moved all 11 nodes to Ray {OLD} in {run.seconds:.0f} s")
    # The archive method shipped the other version from the controller's cache, which keeps one
    # archive per image: the one shipped (other builds' archives of that tag were removed).
    # (A name no build has, so "the other builds" of it are all the archives of that image.)
    unbuilt = archive_file(ray_image(OLD), "sha256:" + "0" * 64, str(ARCHIVES))
    archives = other_archives(unbuilt, [str(path) for path in ARCHIVES.glob("*.tar")])
    assert len(archives) == 1, archives

    # Back to the planned Ray with a new token (a variable change; the lab keeps it afterwards:
    # later runs read it back from the head host) and the GCS in Redis.
    old_token = cluster_token()
    before = {host: ray_containers(host) for host in lab_hosts()}
    new_token = secrets.token_hex(24)
    token_option = json.dumps({"ray_cluster_auth_token": new_token})
    run = playbook("playbooks/upgrade.yml", "-e", token_option, inventory=redis_inventory, timeout=1800)
    assert run.rc == 0, run
    assert new_token not in run.out
    assert f"nodes on Ray {pins.RAY_VERSION}" in run.out, run
    cluster = plan()["cluster"]
    for host in lab_hosts():
        token = lab_host(host).file(cluster["auth_token_file"])
        assert token.content_string.strip() == new_token and token.mode == 0o600 and token.user == "root", host
        after = ray_containers(host)
        new = {GCS_REDIS} if host == cluster["head_host"] else set()
        assert set(after) == set(before[host]) | new, f"{host}: {sorted(after)} after, {sorted(before[host])} before"
        assert all(after[name][0] != before[host][name][0] for name in before[host]), f"{host}: a container was not recreated"
    assert whole_line() in run.out, run
    assert gcs_in_redis()
    # The GCS state of the other version, and of the other storage, was removed with them: the head
    # host keeps one store, Redis's, for this version.
    assert lab_host(cluster["head_host"]).file(cluster["gcs_storage_root"]).listdir() == [f"redis-ray-{pins.RAY_VERSION}"]
    assert jobs_api(token=new_token)[0] == 200
    assert jobs_api(token=old_token)[0] in (401, 403)
    log(
        f"moved all 11 nodes back to Ray {pins.RAY_VERSION} with a new token and the GCS in Redis in {run.seconds:.0f} s;"
        " the old token is refused"
    )
