# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for reading a node's logs for a window and a pattern (plugins/module_utils/_log_read.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._log_read import (
    log_files,
    matching_lines,
    parse_duration,
    write_node_logs,
)

EARLIER = "session_2026-05-01_09-00-00_654321_7"
CURRENT = "session_2026-05-02_10-00-00_123456_7"


def write(path: Path, text: str = "line\n", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def node(parent: Path) -> Path:
    node_dir = parent / "ray-worker-1"
    node_dir.mkdir(parents=True)
    (node_dir / "session_latest").symlink_to(f"/tmp/ray/{CURRENT}")  # noqa: S108 (the path in the container)
    return node_dir


# --------------------------------------------------------------------------- parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("90m", 5400), (" 15m ", 900)],
    ids=str,
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0m", "0s", "15", "1w", "-1m", "", "m", "1.5h", "15 m", "15M", "1h30m", "2hours"], ids=repr)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration such as 30s, 15m, 2h or 1d") as exc:
        parse_duration(text)
    assert repr(text) in str(exc.value)


# --------------------------------------------------------------------------- log_files


def test_log_files_of_the_sessions_logs_in_the_window_oldest_first(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "logs" / "other.log", mtime=250)
    write(outside / "inner" / "deep.log", mtime=250)
    node_dir = node(tmp_path / "root")
    first = write(node_dir / EARLIER / "logs" / "raylet.out", mtime=100)  # at the window's start: in
    third = write(node_dir / EARLIER / "logs" / "events" / "event_GCS.log", mtime=300)
    second = write(node_dir / CURRENT / "logs" / "worker-ab-1.out", mtime=200)
    fourth = write(node_dir / CURRENT / "logs" / "old" / "worker-ab-2.out", mtime=400)
    write(node_dir / CURRENT / "logs" / "gcs_server.out", mtime=99)  # before the window
    write(node_dir / CURRENT / "sockets" / "raylet", mtime=300)  # not under logs
    write(node_dir / CURRENT / "session.json", mtime=300)
    write(node_dir / "ray_current_cluster", mtime=300)  # not in a session
    write(node_dir / "other" / "logs" / "x.log", mtime=300)  # not a session
    (node_dir / CURRENT / "logs" / "link.log").symlink_to(outside / "logs" / "other.log")
    (node_dir / CURRENT / "logs" / "linked-dir").symlink_to(outside / "inner")
    (node_dir / "session_2026-01-01_00-00-00_000000_1").symlink_to(outside)  # a session that is a link

    assert log_files(str(node_dir), 100) == [(100, str(first)), (200, str(second)), (300, str(third)), (400, str(fourth))]
    assert log_files(str(node_dir), 301) == [(400, str(fourth))]
    assert log_files(str(node_dir), 401) == []


def test_log_files_ties_go_by_path(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    b = write(node_dir / CURRENT / "logs" / "b.log", mtime=100)
    a = write(node_dir / CURRENT / "logs" / "a.log", mtime=100)
    assert log_files(str(node_dir), 0) == [(100, str(a)), (100, str(b))]


def test_log_files_of_a_missing_directory(tmp_path: Path) -> None:
    assert log_files(str(tmp_path / "missing"), 0) == []
    empty = node(tmp_path)
    (empty / CURRENT).mkdir()  # a session without logs
    assert log_files(str(empty), 0) == []


def test_log_files_do_not_follow_a_logs_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "shadow", "root:secret\n", mtime=300)
    node_dir = node(tmp_path / "root")
    (node_dir / CURRENT).mkdir()
    (node_dir / CURRENT / "logs").symlink_to(outside)
    assert log_files(str(node_dir), 0) == []


# --------------------------------------------------------------------------- write_node_logs


def body(text: str) -> list[str]:
    """The lines of a written file that are not headers."""
    return [line for line in text.splitlines() if not re.fullmatch(r"==> .* <==", line)]


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    node_dir = node(tmp_path / "root")
    write(node_dir / EARLIER / "logs" / "raylet.out", "INFO start\nERROR boom\nINFO ok\n", mtime=100)
    write(node_dir / CURRENT / "logs" / "quiet.log", "INFO only\n", mtime=150)
    write(node_dir / CURRENT / "logs" / "worker.err", "Traceback (most recent call last)\nERROR second", mtime=200)
    write(node_dir / CURRENT / "logs" / "before.log", "ERROR too old\n", mtime=10)
    return node_dir


def test_write_node_logs_with_a_pattern(node_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray-worker-1.log"
    count = write_node_logs(str(node_dir), 50, "ERROR|Traceback", str(out), "c1 ERROR x\nc2 fine\n")
    text = out.read_text(encoding="utf-8")
    assert text == (
        f"==> {EARLIER}/logs/raylet.out <==\n"
        "ERROR boom\n"
        f"==> {CURRENT}/logs/worker.err <==\n"  # quiet.log: no matching line, no header
        "Traceback (most recent call last)\n"
        "ERROR second\n"  # its missing newline added
        "==> container output <==\n"
        "c1 ERROR x\n"
    )
    assert count == 4 == len(body(text))


def test_write_node_logs_with_an_empty_pattern_keeps_every_line(node_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.log"
    count = write_node_logs(str(node_dir), 50, "", str(out), "c1\nc2")
    text = out.read_text(encoding="utf-8")
    assert text == (
        f"==> {EARLIER}/logs/raylet.out <==\n"
        "INFO start\nERROR boom\nINFO ok\n"
        f"==> {CURRENT}/logs/quiet.log <==\n"
        "INFO only\n"
        f"==> {CURRENT}/logs/worker.err <==\n"
        "Traceback (most recent call last)\nERROR second\n"
        "==> container output <==\n"
        "c1\nc2\n"
    )
    assert count == 8 == len(body(text))


def test_write_node_logs_the_window_selects_files(node_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "recent.log"
    assert write_node_logs(str(node_dir), 5, "too old", str(out)) == 1
    assert out.read_text(encoding="utf-8") == f"==> {CURRENT}/logs/before.log <==\nERROR too old\n"
    assert write_node_logs(str(node_dir), 101, "ERROR", str(out)) == 1
    assert out.read_text(encoding="utf-8") == f"==> {CURRENT}/logs/worker.err <==\nERROR second\n"


def test_write_node_logs_without_container_output(node_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "n.log"
    assert write_node_logs(str(node_dir), 50, "boom", str(out)) == 1
    assert "container output" not in out.read_text(encoding="utf-8")
    # Container output with no matching line: no section either.
    assert write_node_logs(str(node_dir), 50, "boom", str(out), "nothing here\n") == 1
    assert "container output" not in out.read_text(encoding="utf-8")


def test_write_node_logs_nothing_matches(node_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.log"
    out.write_text("stale\n", encoding="utf-8")
    assert write_node_logs(str(node_dir), 50, "no such line", str(out), "neither\n") == 0
    assert out.read_text(encoding="utf-8") == ""  # overwritten


def test_write_node_logs_of_a_missing_directory(tmp_path: Path) -> None:
    out = tmp_path / "missing.log"
    assert write_node_logs(str(tmp_path / "missing"), 0, "", str(out), "only the container\n") == 1
    assert out.read_text(encoding="utf-8") == "==> container output <==\nonly the container\n"


def test_write_node_logs_searches_anywhere_in_a_line(tmp_path: Path) -> None:
    node_dir = node(tmp_path / "root")
    write(node_dir / CURRENT / "logs" / "a.log", "x Error y\nerror\nnothing\n", mtime=100)
    out = tmp_path / "a.log"
    assert write_node_logs(str(node_dir), 0, "(?i)error", str(out)) == 2
    assert body(out.read_text(encoding="utf-8")) == ["x Error y", "error"]


def test_write_node_logs_replaces_undecodable_bytes(tmp_path: Path) -> None:
    node_dir = node(tmp_path / "root")
    path = node_dir / CURRENT / "logs" / "bin.log"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"ok \xff\xfe line\n")
    out = tmp_path / "bin.out"
    assert write_node_logs(str(node_dir), 0, "ok", str(out)) == 1
    assert body(out.read_text(encoding="utf-8")) == ["ok \ufffd\ufffd line"]


def test_matching_lines_adds_missing_newlines() -> None:
    assert list(matching_lines(["a\n", "b", "c\n"], None)) == ["a\n", "b\n", "c\n"]
    assert list(matching_lines(["a\n", "b", "ab"], re.compile("b"))) == ["b\n", "ab\n"]
