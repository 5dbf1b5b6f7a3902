# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_cluster_deployed module: main() reads files and, when asked, the rest of the
host; it changes nothing.

Docs checks: test_module_docs.py; logic: test_changes.py (files) and test_probe.py (the rest).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status import node_table_argv
from ansible_collections.wizardsofts.ray_cluster.plugins.modules import ray_cluster_deployed

PROBE_KEYS = {"stats", "packages", "services", "ufw", "docker"}


def run_main(args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        ray_cluster_deployed.main()
    return json.loads(capsys.readouterr().out)


def test_main_reads_files_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    present = tmp_path / "head" / "compose.yaml"
    present.parent.mkdir()
    present.write_text("services: {}\n", encoding="utf-8")
    missing = tmp_path / "workers" / "compose.yaml"
    for check_mode in (False, True):
        result = run_main({"files": [str(present), str(missing)], "_ansible_check_mode": check_mode}, capsys)
        assert result["changed"] is False
        assert result["deployed"] == {str(present): "services: {}\n", str(missing): None}


def test_main_fails_with_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main({"files": [str(tmp_path)]}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"ray_cluster_deployed: cannot read {tmp_path}")


class FakeHost:
    """Stands in for AnsibleModule's get_bin_path and run_command: ``bins`` maps names to paths
    (a missing name is not installed); commands are answered from ``answers`` and recorded."""

    def __init__(self, bins: dict[str, str], answers: dict[tuple[str, ...], tuple[int, str, str]]) -> None:
        self.bins = bins
        self.answers = answers
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.looked_up: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def get_bin_path(_module: AnsibleModule, name: str, required: bool = False, opt_dirs: Any = None) -> str | None:
            self.looked_up.append(name)
            return self.bins.get(name)

        def run_command(_module: AnsibleModule, argv: list[str], **kwargs: Any) -> tuple[int, str, str]:
            self.calls.append((list(argv), dict(kwargs.get("environ_update") or {})))
            return self.answers[tuple(argv)]

        monkeypatch.setattr(AnsibleModule, "get_bin_path", get_bin_path)
        monkeypatch.setattr(AnsibleModule, "run_command", run_command)


def test_main_returns_only_what_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    host = FakeHost({}, {})
    host.install(monkeypatch)
    file = tmp_path / "daemon.json"
    file.write_text("{}\n", encoding="utf-8")
    file.chmod(0o644)
    for check_mode in (False, True):
        result = run_main({"_ansible_check_mode": check_mode}, capsys)
        assert result["changed"] is False
        assert result["deployed"] == {}
        assert not PROBE_KEYS & set(result)

        result = run_main({"stat": [str(file), str(tmp_path / "nope")], "_ansible_check_mode": check_mode}, capsys)
        assert result["changed"] is False
        assert PROBE_KEYS & set(result) == {"stats"}
        assert result["stats"][str(file)]["mode"] == "0644"
        assert result["stats"][str(file)]["sha256"] == "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"
        assert result["stats"][str(tmp_path / "nope")]["exists"] is False

        # Neither ufw nor docker installed: their keys are there, null; nothing runs.
        result = run_main({"ufw": True, "docker": True, "images": ["x:1"], "_ansible_check_mode": check_mode}, capsys)
        assert result["changed"] is False
        assert (result["ufw"], result["docker"]) == (None, None)
        assert PROBE_KEYS & set(result) == {"ufw", "docker"}
    assert host.calls == []
    assert host.looked_up == ["ufw", "docker", "ufw", "docker"]


def test_main_reads_the_host_the_same_in_check_mode(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    show = ("/usr/bin/systemctl", "show", "docker", "--property=UnitFileState,ActiveState")
    dpkg = ("/usr/bin/dpkg-query", "-W", r"-f=${Package}\t${db:Status-Abbrev}\t${Version}\n", "ufw", "nosuch")
    host = FakeHost(
        {"dpkg-query": "/usr/bin/dpkg-query", "systemctl": "/usr/bin/systemctl", "docker": "/usr/bin/docker"},
        {
            dpkg: (1, "ufw\tii \t0.36.2-9\n", "dpkg-query: no packages found matching nosuch\n"),
            show: (0, "ActiveState=active\nUnitFileState=enabled\n", ""),
            ("/usr/bin/docker", "info", "--format", "{{json .}}"): (
                0,
                '{"ServerVersion":"","ServerErrors":["Cannot connect to the Docker daemon"]}',
                "Cannot connect to the Docker daemon\n",
            ),
        },
    )
    host.install(monkeypatch)
    args = {"packages": ["ufw", "nosuch"], "services": ["docker"], "docker": True, "images": ["x:1"], "container_label": "a"}
    results = [run_main({**args, "_ansible_check_mode": check_mode}, capsys) for check_mode in (False, True)]
    for result in results:
        assert result["changed"] is False
        assert PROBE_KEYS & set(result) == {"packages", "services", "docker"}
        assert result["packages"] == {"ufw": "0.36.2-9", "nosuch": None}
        assert result["services"] == {"docker": {"enabled": True, "active": True}}
        # The daemon is down: no image or container is asked for.
        assert result["docker"] == {
            "info": None,
            "error": "Cannot connect to the Docker daemon",
            "images": {"x:1": None},
            "containers": [],
        }
    assert len(host.calls) == 6
    assert all(env.get("LC_ALL") == "C" for _argv, env in host.calls)


def test_main_fails_when_a_command_does(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHost({}, {}).install(monkeypatch)
    result = run_main({"services": ["docker"]}, capsys)
    assert result["failed"] is True
    assert result["msg"] == "ray_cluster_deployed: systemctl not found (the services option needs systemd)"


def test_main_reads_the_cluster_beside_the_rest_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = (
        Path(__file__).resolve().parents[3] / "fixtures" / "ray_status" / "node_tables" / "ray2600_restarted_worker.stdout"
    ).read_text()
    node_table = tuple(node_table_argv("/usr/bin/docker", "ray-head"))
    host = FakeHost({"docker": "/usr/bin/docker"}, {node_table: (0, table, "")})
    host.install(monkeypatch)
    expected = [{"host": "lab-a", "name": "ray-head", "role": "head", "ip": "10.9.9.9", "node_manager_port": 21000}]
    status = {"container": "ray-head", "expected_nodes": expected}
    for check_mode in (False, True):
        result = run_main({"cluster_status": status, "_ansible_check_mode": check_mode}, capsys)
        assert result["changed"] is False and result["cluster_error"] == ""
        assert result["cluster"]["whole"] is False  # not at that address: a reading, not a failure
        assert result["cluster"]["missing_by_host"] == {"lab-a": ["ray-head"]}
        assert result["cluster"]["gcs_storage"] is None
    assert [argv for argv, _env in host.calls] == [list(node_table)] * 2
    # Without it, nothing of the cluster is read or returned.
    assert "cluster" not in run_main({}, capsys)
    # The head container down: the rest is still read, the reason is returned.
    FakeHost({"docker": "/usr/bin/docker"}, {node_table: (1, "", "Error: No such container: ray-head\n")}).install(monkeypatch)
    file = tmp_path / "f"
    file.write_text("x")
    result = run_main({"cluster_status": status, "files": [str(file)]}, capsys)
    assert result["deployed"] == {str(file): "x"}
    assert result["cluster"] is None
    assert result["cluster_error"].endswith("(node table) failed (rc=1): Error: No such container: ray-head")
    # No docker on the host.
    FakeHost({}, {}).install(monkeypatch)
    result = run_main({"cluster_status": status}, capsys)
    assert (result["cluster"], result["cluster_error"]) == (None, "no docker command on the host")
