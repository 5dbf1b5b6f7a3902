# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the pruner of the Ray nodes' log directories (plugins/module_utils/_log_prune.py).

Sizes are what the pruner counts, the disk a file takes (``st_blocks * 512``): files are written with
real bytes, in multiples of 4096, and every expectation is computed from ``os.lstat``.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _log_prune
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._log_prune import (
    KEEP_SHARE,
    Entry,
    current_session,
    entries,
    main,
    prune,
    prune_node,
    removals,
)

BLOCK = 4096
CURRENT = "session_2026-05-02_10-00-00_123456_7"
EARLIER = "session_2026-05-01_09-00-00_654321_7"
OLDEST = "session_2026-04-30_08-00-00_111111_7"


def write(path: Path, size: int = BLOCK, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def disk(path: Path) -> int:
    """What the pruner counts for a file: the disk it takes."""
    return os.lstat(path).st_blocks * 512


def ident(path: Path) -> tuple[int, int]:
    info = os.lstat(path)
    return info.st_dev, info.st_ino


def node(parent: Path, name: str = "ray-worker-1", current: str | None = CURRENT) -> Path:
    """A node's directory, its ``session_latest`` link as Ray makes it (an absolute in-container path)."""
    node_dir = parent / name
    node_dir.mkdir(parents=True)
    if current is not None:
        (node_dir / "session_latest").symlink_to(f"/tmp/ray/{current}")  # noqa: S108 (the path in the container)
    return node_dir


def by_path(found: list[Entry], node_dir: Path) -> dict[str, Entry]:
    return {os.path.relpath(entry.path, node_dir): entry for entry in found}


# --------------------------------------------------------------------------- current_session


def test_current_session_is_the_links_basename(tmp_path: Path) -> None:
    assert current_session(str(node(tmp_path))) == CURRENT


def test_current_session_without_the_link(tmp_path: Path) -> None:
    node_dir = node(tmp_path, current=None)
    (node_dir / EARLIER).mkdir()
    assert current_session(str(node_dir)) is None
    assert current_session(str(tmp_path / "missing")) is None


def test_current_session_ignores_a_trailing_slash(tmp_path: Path) -> None:
    node_dir = node(tmp_path, current=None)
    (node_dir / "session_latest").symlink_to(f"/tmp/ray/{CURRENT}/")  # noqa: S108
    assert current_session(str(node_dir)) == CURRENT


def test_current_session_of_a_relative_link(tmp_path: Path) -> None:
    node_dir = node(tmp_path, current=None)
    (node_dir / "session_latest").symlink_to(CURRENT)
    assert current_session(str(node_dir)) == CURRENT


def test_current_session_of_a_link_to_the_root_is_none(tmp_path: Path) -> None:
    node_dir = node(tmp_path, current=None)
    (node_dir / "session_latest").symlink_to("/")
    assert current_session(str(node_dir)) is None


def test_current_session_is_not_a_directory_named_session_latest(tmp_path: Path) -> None:
    node_dir = node(tmp_path, current=None)
    (node_dir / "session_latest").mkdir()
    assert current_session(str(node_dir)) is None


# --------------------------------------------------------------------------- entries

# (path in the node's directory, whether pruning may remove it)
REMOVABLE = [
    # The current session: only exited workers' files and the older files of Ray's rotation.
    (f"{CURRENT}/logs/old/worker-ab-02000000-168.out", True),
    (f"{CURRENT}/logs/old/python-core-worker-ab_168.log", True),
    (f"{CURRENT}/logs/old/nested/deeper.txt", True),
    (f"{CURRENT}/logs/raylet.out.1", True),
    (f"{CURRENT}/logs/raylet.err.3", True),
    (f"{CURRENT}/logs/dashboard_agent.1.log", True),
    (f"{CURRENT}/logs/worker-ab-ff-223.out.2", True),
    (f"{CURRENT}/logs/events/event_GCS.log.1", True),
    (f"{CURRENT}/logs/raylet.out", False),
    (f"{CURRENT}/logs/gcs_server.err", False),
    (f"{CURRENT}/logs/dashboard_agent.log", False),
    (f"{CURRENT}/logs/python-core-worker-ab_168.log", False),
    (f"{CURRENT}/logs/worker-ab-02000000-168.err", False),
    (f"{CURRENT}/logs/worker-ab-ff-223.out", False),
    (f"{CURRENT}/logs/events/event_GCS.log", False),
    (f"{CURRENT}/sockets/raylet", False),
    (f"{CURRENT}/sockets/plasma_store", False),
    (f"{CURRENT}/runtime_resources/pip/abc/virtualenv/lib/site.py", False),
    (f"{CURRENT}/ports_by_node.json", False),
    (f"{CURRENT}/session.json", False),
    (f"{CURRENT}/raylet.out.1", False),  # rotated-looking, but not under logs
    # An earlier session: every regular file.
    (f"{EARLIER}/logs/raylet.out", True),
    (f"{EARLIER}/logs/python-core-worker-ab_168.log", True),
    (f"{EARLIER}/logs/events/event_GCS.log", True),
    (f"{EARLIER}/sockets/raylet", True),
    (f"{EARLIER}/runtime_resources/pip/abc/virtualenv/lib/site.py", True),
    (f"{EARLIER}/ports_by_node.json", True),
    # Not in a session: never.
    ("ray_current_cluster", False),
    ("raylet.out.1", False),
    ("other/logs/old/w.out", False),
]


def test_entries_removability(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    for rel, _removable in REMOVABLE:
        write(node_dir / rel)
    found = by_path(entries(str(node_dir)), node_dir)
    assert set(found) == {rel for rel, _ in REMOVABLE}
    assert {rel: entry.removable for rel, entry in found.items()} == dict(REMOVABLE)


def test_entries_a_file_named_like_a_session_is_not_a_session(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    write(node_dir / "session_stray.json")
    assert [entry.removable for entry in entries(str(node_dir))] == [False]


def test_entries_sizes_and_mtimes_are_the_files(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    small = write(node_dir / CURRENT / "logs" / "raylet.out", 10, mtime=1_000)
    big = write(node_dir / EARLIER / "logs" / "raylet.out", 3 * BLOCK, mtime=2_000)
    found = by_path(entries(str(node_dir)), node_dir)
    assert found[f"{CURRENT}/logs/raylet.out"] == Entry(str(small), disk(small), 1_000, False, ident(small))
    assert found[f"{EARLIER}/logs/raylet.out"] == Entry(str(big), disk(big), 2_000, True, ident(big))
    assert disk(small) > 0  # a 10-byte file takes a block


def test_entries_of_a_missing_directory(tmp_path: Path) -> None:
    assert entries(str(tmp_path / "missing")) == []


def test_entries_without_a_current_session_every_session_file_is_removable(tmp_path: Path) -> None:
    node_dir = node(tmp_path, current=None)
    write(node_dir / CURRENT / "logs" / "raylet.out")
    write(node_dir / "ray_current_cluster")
    found = by_path(entries(str(node_dir)), node_dir)
    assert {rel: entry.removable for rel, entry in found.items()} == {
        f"{CURRENT}/logs/raylet.out": True,
        "ray_current_cluster": False,
    }


def test_entries_never_follow_symbolic_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    big = write(outside / "big.bin", 64 * BLOCK)
    write(outside / "dir" / "inner.log", 64 * BLOCK)
    node_dir = node(tmp_path / "root")
    kept = write(node_dir / EARLIER / "logs" / "raylet.out")
    (node_dir / EARLIER / "logs" / "link.out").symlink_to(big)
    (node_dir / EARLIER / "logs" / "linked-dir").symlink_to(outside / "dir")
    (node_dir / "session_2026-01-01_00-00-00_000000_1").symlink_to(outside)  # a session that is a link
    (node_dir / CURRENT).mkdir()
    found = entries(str(node_dir))
    assert [entry.path for entry in found] == [str(kept)]
    assert sum(entry.size for entry in found) == disk(kept)


# --------------------------------------------------------------------------- removals


def entry(name: str, size: int, mtime: float, removable: bool = True) -> Entry:
    return Entry(f"/n/{name}", size, mtime, removable)


def test_removals_none_within_the_limit() -> None:
    found = [entry("a", 100, 1), entry("b", 100, 2)]
    assert removals(found, 200) == []
    assert removals(found, 1000) == []
    assert removals([], 0) == []


def test_removals_oldest_first_down_to_the_keep_share() -> None:
    a, b, c, d = entry("a", 100, 3), entry("b", 100, 1), entry("c", 100, 2), entry("d", 100, 4)
    live = entry("live", 500, 0, removable=False)
    # 900 > 800: down to 720 -> b (800), c (700).
    assert removals([a, b, c, d, live], 800) == [b, c]
    assert int(800 * KEEP_SHARE) == 720


def test_removals_stop_as_soon_as_the_target_is_reached() -> None:
    files = [entry(str(i), 100, i) for i in range(10)]
    # 1000 > 999: the target is 899; removing the oldest one reaches 900, the second 800.
    assert removals(files, 999) == files[:2]
    # 1000 > 950: the target is 855 -> two files (800).
    assert removals(files, 950) == files[:2]
    # The target exactly reached: 1000 > 900, target 810 -> 900, 800.
    assert removals(files, 900, keep_share=0.9) == files[:2]
    assert removals(files, 1000 - 1, keep_share=1.0) == files[:1]
    assert removals(files, 500, keep_share=0.5) == files[:8]


def test_removals_ties_in_mtime_go_by_path() -> None:
    b, a = entry("b", 100, 5), entry("a", 100, 5)
    assert removals([b, a, entry("z", 100, 9)], 250, keep_share=0.5) == [a, b]


def test_removals_never_a_file_that_may_not_be_removed() -> None:
    live_old = entry("live-old", 1000, 0, removable=False)
    closed = entry("closed", 10, 5)
    live_new = entry("live-new", 1000, 9, removable=False)
    # Far over the limit: every removable file goes, and nothing else.
    assert removals([live_old, closed, live_new], 100) == [closed]
    assert removals([live_old, live_new], 100) == []


# --------------------------------------------------------------------------- prune_node and prune


def test_prune_node_end_to_end(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    earlier_raylet = write(node_dir / EARLIER / "logs" / "raylet.out", 4 * BLOCK, mtime=100)
    earlier_worker = write(node_dir / EARLIER / "logs" / "old" / "worker-ab-1.out", BLOCK, mtime=110)
    (node_dir / EARLIER / "sockets").mkdir()  # left behind: no regular file
    live_raylet = write(node_dir / CURRENT / "logs" / "raylet.out", 4 * BLOCK, mtime=50)  # oldest, but live
    exited = write(node_dir / CURRENT / "logs" / "old" / "worker-ab-2.out", BLOCK, mtime=200)
    rotated = write(node_dir / CURRENT / "logs" / "raylet.out.1", 2 * BLOCK, mtime=210)
    live_worker = write(node_dir / CURRENT / "logs" / "worker-ab-3.out", BLOCK, mtime=300)
    sizes = {path: disk(path) for path in (earlier_raylet, earlier_worker, live_raylet, exited, rotated, live_worker)}
    total = sum(sizes.values())
    expected = [earlier_raylet, earlier_worker, exited]
    after = total - sum(sizes[path] for path in expected)
    # A limit whose keep share is reached by removing exactly those three (and not by two).
    limit = math.ceil(after / KEEP_SHARE) + 1
    assert total > limit
    assert after + sizes[exited] > int(limit * KEEP_SHARE) >= after

    assert prune_node(str(node_dir), limit) == (3, sum(sizes[path] for path in expected))
    assert not any(path.exists() for path in expected)
    assert all(path.exists() for path in (live_raylet, rotated, live_worker))
    assert not (node_dir / EARLIER).exists()  # left with no regular file: removed whole
    assert (node_dir / "session_latest").is_symlink()
    # Within the limit now: a second run removes nothing.
    assert prune_node(str(node_dir), limit) == (0, 0)


def test_prune_node_within_the_limit_changes_nothing(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    files = [write(node_dir / EARLIER / "logs" / "raylet.out"), write(node_dir / CURRENT / "logs" / "old" / "w.out")]
    (node_dir / OLDEST / "sockets").mkdir(parents=True)
    total = sum(disk(path) for path in files)
    assert prune_node(str(node_dir), total) == (0, 0)
    assert all(path.exists() for path in files)
    assert (node_dir / OLDEST).is_dir()  # only a run that removes something tidies sessions


def test_prune_node_keeps_an_earlier_session_with_files_left(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    old = write(node_dir / EARLIER / "logs" / "raylet.out", BLOCK, mtime=100)
    newer = write(node_dir / EARLIER / "logs" / "gcs_server.out", BLOCK, mtime=400)
    live = write(node_dir / CURRENT / "logs" / "raylet.out", BLOCK, mtime=500)
    sizes = [disk(path) for path in (old, newer, live)]
    # One byte over the limit: removing the oldest file is enough.
    limit = sum(sizes) - 1
    assert sizes[1] + sizes[2] <= int(limit * KEEP_SHARE)
    assert prune_node(str(node_dir), limit) == (1, sizes[0])
    assert not old.exists()
    assert newer.exists()
    assert (node_dir / EARLIER).is_dir()


def test_prune_node_never_removes_the_current_session(tmp_path: Path) -> None:
    node_dir = node(tmp_path)
    exited = [write(node_dir / CURRENT / "logs" / "old" / f"worker-{i}.out", BLOCK, mtime=100 + i) for i in range(3)]
    (node_dir / CURRENT / "sockets").mkdir()
    write(node_dir / OLDEST / "logs" / "old" / "w.out", BLOCK, mtime=1)
    # Every removable file goes; the current session, with no regular file left, stays.
    removed, _freed = prune_node(str(node_dir), 1)
    assert removed == 4
    assert not any(path.exists() for path in exited)
    assert (node_dir / CURRENT / "sockets").is_dir()
    assert not (node_dir / OLDEST).exists()


def test_prune_node_removes_an_emptied_session_not_a_links_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    big = write(outside / "big.bin", 16 * BLOCK)
    node_dir = node(tmp_path / "root")
    old = write(node_dir / EARLIER / "logs" / "raylet.out", 2 * BLOCK, mtime=100)
    (node_dir / EARLIER / "logs" / "link.bin").symlink_to(big)
    (node_dir / OLDEST).symlink_to(outside)  # a session directory that is a link
    write(node_dir / CURRENT / "logs" / "raylet.out", BLOCK, mtime=200)
    size = disk(old)
    assert prune_node(str(node_dir), 1) == (1, size)
    assert not (node_dir / EARLIER).exists()  # its link went with it
    assert big.exists()
    assert os.lstat(big).st_size == 16 * BLOCK
    assert (node_dir / OLDEST).is_symlink()


def test_prune_node_does_not_count_or_remove_a_links_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    big = write(outside / "big.bin", 256 * BLOCK, mtime=1)
    node_dir = node(tmp_path / "root")
    (node_dir / EARLIER / "logs").mkdir(parents=True)
    (node_dir / EARLIER / "logs" / "raylet.out").symlink_to(big)
    live = write(node_dir / CURRENT / "logs" / "raylet.out", BLOCK, mtime=200)
    # The link's target would be far over the limit, were it counted.
    assert prune_node(str(node_dir), disk(live)) == (0, 0)
    assert big.exists()
    assert (node_dir / EARLIER / "logs" / "raylet.out").is_symlink()


def test_prune_node_never_follows_a_directory_swapped_for_a_link_after_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container may replace a directory of an earlier session with a link to a host directory
    # between the walk and the removal: the file of the same name there must stay.
    host = tmp_path / "host"
    victim = write(host / "raylet.out", BLOCK)
    node_dir = node(tmp_path / "root")
    write(node_dir / EARLIER / "logs" / "raylet.out", 4 * BLOCK, mtime=100)
    write(node_dir / CURRENT / "logs" / "raylet.out", BLOCK, mtime=200)
    walked = entries(str(node_dir))
    (node_dir / EARLIER / "logs").rename(tmp_path / "moved-away")
    (node_dir / EARLIER / "logs").symlink_to(host)
    monkeypatch.setattr(_log_prune, "_entries", lambda _fd, _dir: walked)
    assert prune_node(str(node_dir), 1) == (0, 0)
    assert victim.read_bytes() == b"x" * BLOCK
    # The session, left with no file of its own, went: its link with it, not what the link named.
    assert not (node_dir / EARLIER).exists() and victim.exists()
    # The session directory itself a link now.
    (node_dir / EARLIER).symlink_to(tmp_path / "moved-away")
    assert prune_node(str(node_dir), 1) == (0, 0)
    assert (tmp_path / "moved-away" / "raylet.out").exists()
    assert (node_dir / EARLIER).is_symlink()


def test_prune_node_removes_only_the_file_it_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node_dir = node(tmp_path)
    counted = write(node_dir / EARLIER / "logs" / "raylet.out", 4 * BLOCK, mtime=100)
    write(node_dir / CURRENT / "logs" / "raylet.out", BLOCK, mtime=200)
    walked = entries(str(node_dir))
    # Another file under the same name since the walk (made first, so it cannot reuse the inode).
    other = write(node_dir / EARLIER / "logs" / "raylet.out.new", BLOCK)
    other.replace(counted)
    other = counted
    monkeypatch.setattr(_log_prune, "_entries", lambda _fd, _dir: walked)
    assert prune_node(str(node_dir), 1) == (0, 0)
    assert other.exists()


def test_prune_every_node_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    busy = node(root, "ray-worker-1")
    old = write(busy / EARLIER / "logs" / "raylet.out", 4 * BLOCK, mtime=100)
    write(busy / CURRENT / "logs" / "raylet.out", BLOCK, mtime=200)
    quiet = node(root, "ray-worker-2")
    kept = write(quiet / EARLIER / "logs" / "raylet.out", BLOCK, mtime=100)
    write(root / "stray.log", 64 * BLOCK)  # a file, not a node
    outside = node(tmp_path / "elsewhere", "ray-worker-9")
    outside_old = write(outside / EARLIER / "logs" / "raylet.out", 64 * BLOCK, mtime=1)
    (root / "ray-worker-9").symlink_to(outside)  # a link, not a node

    limit = 2 * BLOCK
    assert disk(kept) <= limit
    size = disk(old)
    assert prune(str(root), limit) == {"ray-worker-1": (1, size)}
    assert not old.exists()
    assert kept.exists()
    assert outside_old.exists()
    assert (root / "stray.log").exists()


def test_prune_a_missing_root(tmp_path: Path) -> None:
    assert prune(str(tmp_path / "missing"), 1) == {}


def test_prune_an_empty_root(tmp_path: Path) -> None:
    assert prune(str(tmp_path), 1) == {}


# --------------------------------------------------------------------------- main


def test_main_prints_one_line_per_pruned_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "logs"
    first = node(root, "ray-head")
    a = write(first / EARLIER / "logs" / "raylet.out", 2 * BLOCK, mtime=100)
    b = write(first / EARLIER / "logs" / "gcs_server.out", BLOCK, mtime=110)
    second = node(root, "ray-worker-1")
    c = write(second / OLDEST / "logs" / "raylet.out", 3 * BLOCK, mtime=100)
    third = node(root, "ray-worker-2")  # nothing to remove
    write(third / CURRENT / "logs" / "raylet.out", BLOCK)

    expected = [f"ray-head: removed 2 files, {disk(a) + disk(b)} bytes", f"ray-worker-1: removed 1 files, {disk(c)} bytes"]
    assert main(["--limit", "1", str(root)]) == 0
    assert capsys.readouterr().out.splitlines() == expected
    assert not any(path.exists() for path in (a, b, c))


def test_main_without_anything_to_prune_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--limit", "1", str(tmp_path / "missing")]) == 0
    assert capsys.readouterr().out == ""


def test_main_requires_the_limit(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path)])
    assert exc.value.code == 2


def test_the_script_runs_alone_with_the_standard_library(tmp_path: Path) -> None:
    """The role copies the file to the hosts and runs it as a script: no import of the collection."""
    root = tmp_path / "logs"
    node_dir = node(root, "ray-worker-1")
    old = write(node_dir / EARLIER / "logs" / "raylet.out", 2 * BLOCK, mtime=100)
    size = disk(old)
    proc = subprocess.run(
        [sys.executable, "-I", _log_prune.__file__, "--limit", "1", str(root)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"ray-worker-1: removed 1 files, {size} bytes\n"
    assert not old.exists()
