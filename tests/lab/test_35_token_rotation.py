"""Rotating the token (a variable change) recreates every Ray container with the new token."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

from labkit import lab_host, lab_hosts, log, playbook, ray_containers, wait_whole

HEAD_URL = "http://172.28.84.84:8265/api/jobs/"
TOKEN_FILE = "/etc/ray-cluster/auth_token"  # noqa: S105 (a path, not a secret)


def jobs_status(token: str) -> int:
    request = urllib.request.Request(HEAD_URL, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the lab head, http)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_token_rotation_rolls_the_cluster_to_the_new_token() -> None:
    old = lab_host("lab-84").file(TOKEN_FILE).content_string.strip()
    before = {host: ray_containers(host) for host in lab_hosts()}
    new = secrets.token_hex(24)
    # The head and worker steps only: the status wait below shows the cluster whole again (the
    # verify role's smoke job would add half a minute and prove nothing more about the token).
    run = playbook("site.yml", "--tags", "ray_head,ray_worker", "-e", json.dumps({"ray_cluster_auth_token": new}))
    # The lab keeps the new token afterwards: later runs read it back from the head host.
    assert run.rc == 0, run
    assert new not in run.out
    for host in lab_hosts():
        token = lab_host(host).file(TOKEN_FILE)
        assert token.content_string.strip() == new and token.mode == 0o600 and token.user == "root"
        after = ray_containers(host)
        assert all(after[name][0] != before[host][name][0] for name in after), f"{host}: a container kept the old token"
    whole = wait_whole()
    assert jobs_status(new) == 200
    assert jobs_status(old) == 403
    log(f"token rotation: 11 containers recreated in {run.seconds:.0f} s, whole {whole.seconds:.0f} s later, old token refused")
