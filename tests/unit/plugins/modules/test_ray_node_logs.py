# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Tests for the ray_node_logs module: main() writes one file per node of the lines that match, and
changes nothing on the cluster.

Logic: test_log_read.py.
"""

from __future__ import annotations

import ast
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wizardsofts.ray_cluster.plugins.modules import ray_node_logs

SESSION = "session_2026-05-02_10-00-00_123456_7"


def run_main(args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        ray_node_logs.main()
    return json.loads(capsys.readouterr().out)


def write(path: Path, text: str, age: float) -> Path:
    """A file last written ``age`` seconds ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    mtime = time.time() - age
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, str]:
    worker = tmp_path / "logs" / "ray-worker-1"
    write(worker / SESSION / "logs" / "raylet.out", "INFO up\nERROR lost\n", age=60)
    write(worker / SESSION / "logs" / "worker.err", "ERROR long ago\n", age=3 * 3600)  # before a 1h window
    head = tmp_path / "logs" / "ray-head"
    write(head / SESSION / "logs" / "gcs_server.out", "INFO fine\n", age=60)
    return {"ray-worker-1": str(worker), "ray-head": str(head), "ray-worker-2": str(tmp_path / "logs" / "missing")}


def test_main_writes_one_file_per_node(tmp_path: Path, dirs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "out" / "collected"
    for check_mode in (False, True):
        result = run_main(
            {
                "dirs": dirs,
                "since": "1h",
                "pattern": "ERROR",
                "dest": str(dest),
                "container_output": False,
                "_ansible_check_mode": check_mode,
            },
            capsys,
        )
        assert result["changed"] is False
        assert result["files"] == {name: str(dest / f"{name}.log") for name in dirs}
        assert result["lines"] == {"ray-head": 0, "ray-worker-1": 1, "ray-worker-2": 0}
        assert (dest / "ray-worker-1.log").read_text(encoding="utf-8") == f"==> {SESSION}/logs/raylet.out <==\nERROR lost\n"
        assert (dest / "ray-head.log").read_text(encoding="utf-8") == ""
        assert (dest / "ray-worker-2.log").read_text(encoding="utf-8") == ""
    assert dest.stat().st_mode & 0o777 == 0o700 & ~_umask()


def test_main_a_wider_window_takes_older_files(tmp_path: Path, dirs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main({"dirs": dirs, "since": "1d", "pattern": "ERROR", "dest": str(tmp_path), "container_output": False}, capsys)
    assert result["lines"]["ray-worker-1"] == 2
    assert (tmp_path / "ray-worker-1.log").read_text(encoding="utf-8") == (
        f"==> {SESSION}/logs/worker.err <==\nERROR long ago\n==> {SESSION}/logs/raylet.out <==\nERROR lost\n"
    )  # oldest file first


def test_main_never_runs_docker_without_container_output(
    tmp_path: Path, dirs: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("not expected")

    monkeypatch.setattr(AnsibleModule, "run_command", refuse)
    monkeypatch.setattr(AnsibleModule, "get_bin_path", refuse)
    result = run_main({"dirs": dirs, "dest": str(tmp_path / "o"), "container_output": False}, capsys)
    assert result["lines"] == {"ray-head": 1, "ray-worker-1": 2, "ray-worker-2": 0}  # the default 15m, every line


def test_main_adds_the_containers_output(
    tmp_path: Path, dirs: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def get_bin_path(_module: AnsibleModule, name: str, required: bool = False, opt_dirs: Any = None) -> str | None:
        return "/usr/bin/docker" if name == "docker" else None

    def run_command(_module: AnsibleModule, argv: list[str], **_kwargs: Any) -> tuple[int, str, str]:
        calls.append(list(argv))
        if argv[-1] == "ray-worker-2":
            return 1, "", "Error: No such container: ray-worker-2\n"
        return 0, f"{argv[-1]} ERROR out\n", f"{argv[-1]} ERROR err\n"

    monkeypatch.setattr(AnsibleModule, "get_bin_path", get_bin_path)
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    result = run_main({"dirs": dirs, "since": "2h", "pattern": "ERROR", "dest": str(tmp_path / "o")}, capsys)
    assert calls == [["/usr/bin/docker", "logs", "--since", "7200s", name] for name in sorted(dirs)]
    assert result["lines"] == {"ray-head": 2, "ray-worker-1": 3, "ray-worker-2": 0}
    assert (tmp_path / "o" / "ray-head.log").read_text(encoding="utf-8") == (
        "==> container output <==\nray-head ERROR out\nray-head ERROR err\n"
    )


@pytest.mark.parametrize("since", ["0m", "15", "1w", "-1m", ""], ids=repr)
def test_main_fails_naming_a_bad_since(tmp_path: Path, capsys: pytest.CaptureFixture[str], since: str) -> None:
    dest = tmp_path / "o"
    result = run_main({"dirs": {}, "since": since, "dest": str(dest), "container_output": False}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"since={since!r}")
    assert "expected a duration" in result["msg"]
    assert not dest.exists()


def test_main_fails_naming_a_bad_pattern(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main({"dirs": {}, "pattern": "(unclosed", "dest": str(tmp_path / "o"), "container_output": False}, capsys)
    assert result["failed"] is True
    assert "pattern='(unclosed'" in result["msg"]


def test_docs_match_argument_spec() -> None:
    """As test_module_docs.py checks the other modules (whose list does not name this one)."""
    tree = ast.parse(Path(ray_node_logs.__file__).read_text(encoding="utf-8"))
    spec = next(
        ast.literal_eval(node.value) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "argument_spec"
    )
    options = yaml.safe_load(ray_node_logs.DOCUMENTATION)["options"]
    assert set(options) == set(spec)
    for option, want in spec.items():
        assert options[option]["type"] == want["type"], option
        assert options[option].get("default") == want.get("default"), option
        assert options[option].get("required", False) == want.get("required", False), option
    assert set(yaml.safe_load(ray_node_logs.RETURN)) == {"files", "lines"}
    for task in yaml.safe_load(ray_node_logs.EXAMPLES):
        assert set(task["wizardsofts.ray_cluster.ray_node_logs"]) <= set(options)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
