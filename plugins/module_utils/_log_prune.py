#!/usr/bin/python3
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Keep each Ray node's log directory on a host within its budget.

Private to the collection (no compatibility promise). Standard library only: the ray_compose role
copies this file to every host that runs Ray nodes, where a systemd timer runs it every few seconds
(``prune-node-logs.py --limit BYTES <cluster log directory>``; the plan's limit leaves room, below
the node's budget, for what Ray writes between two runs).

Each subdirectory of the cluster's log directory is one node's ``/tmp/ray``: Ray's session
directories, the newest of them named by the ``session_latest`` link. Ray rotates each log file
itself (``RAY_ROTATION_MAX_BYTES``, ``RAY_ROTATION_BACKUP_COUNT``), but it keeps the files of every
worker process it ever started (``logs/old``) and every earlier session's directory: their number,
and so the disk they take, only grows. When a node's directory takes more than the limit, this
removes its oldest files (by modification time) until it takes at most ``KEEP_SHARE`` of it. It may
remove anything of an earlier session (a session directory left empty goes too) and, of the current
one, the files of exited workers (``logs/old``) and the older files Ray's rotation keeps (``x.out.1``,
``x.1.log``): never a file a running process still writes (removing it would free nothing and hide
what is written to it), nor the session's sockets, ports or runtime environments. Symbolic links are
never followed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import sys
from collections.abc import Iterator
from typing import NamedTuple

# Pruned down to this share of the limit, so that a busy node is not pruned on every run.
KEEP_SHARE = 0.9
SESSION_PREFIX = "session_"
LATEST_LINK = "session_latest"
# An older file of Ray's rotation: ``raylet.out.1`` (its C++ components, workers' output), ``agent.1.log`` (Python).
ROTATED_RE = re.compile(r"\.[0-9]+(\.[A-Za-z]+)?$")


class Entry(NamedTuple):
    path: str
    size: int  # on disk (allocated blocks)
    mtime: float
    removable: bool


def current_session(node_dir: str) -> str | None:
    """The name of the node's current session directory (the ``session_latest`` link's target), if any."""
    try:
        target = os.readlink(os.path.join(node_dir, LATEST_LINK))
    except OSError:
        return None
    return os.path.basename(target.rstrip("/")) or None


def _walk(top: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``top`` (not following symbolic links), with its ``lstat``."""
    try:
        names = os.listdir(top)
    except OSError:
        return
    for name in names:
        path = os.path.join(top, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        yield path, info
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path)


def _closed_log(parts: list[str]) -> bool:
    """A file of the current session (its path in the session) that no running process writes."""
    if len(parts) < 2 or parts[0] != "logs":
        return False
    return parts[1] == "old" or bool(ROTATED_RE.search(parts[-1]))


def entries(node_dir: str) -> list[Entry]:
    """The node directory's regular files: their disk use and whether pruning may remove them."""
    current = current_session(node_dir)
    found = []
    for path, info in _walk(node_dir):
        if not stat.S_ISREG(info.st_mode):
            continue
        parts = os.path.relpath(path, node_dir).split(os.sep)
        in_session = len(parts) > 1 and parts[0].startswith(SESSION_PREFIX) and parts[0] != LATEST_LINK
        removable = in_session and (parts[0] != current or _closed_log(parts[1:]))
        found.append(Entry(path, info.st_blocks * 512, info.st_mtime, removable))
    return found


def removals(found: list[Entry], limit: int, keep_share: float = KEEP_SHARE) -> list[Entry]:
    """The files to remove, oldest first, to bring the total within ``limit`` (down to ``keep_share`` of it);
    none when the total is within the limit."""
    total = sum(entry.size for entry in found)
    if total <= limit:
        return []
    target = int(limit * keep_share)
    chosen = []
    for entry in sorted((e for e in found if e.removable), key=lambda e: (e.mtime, e.path)):
        if total <= target:
            break
        chosen.append(entry)
        total -= entry.size
    return chosen


def _remove_empty_sessions(node_dir: str, current: str | None) -> None:
    """Earlier sessions' directories whose files are all gone (sockets and empty directories are left in them)."""
    for name in os.listdir(node_dir):
        path = os.path.join(node_dir, name)
        if not name.startswith(SESSION_PREFIX) or name in (LATEST_LINK, current) or os.path.islink(path):
            continue
        if not any(stat.S_ISREG(info.st_mode) for _path, info in _walk(path)):
            shutil.rmtree(path, ignore_errors=True)


def prune_node(node_dir: str, limit: int) -> tuple[int, int]:
    """Bring one node's directory within ``limit``: (files removed, bytes freed)."""
    chosen = removals(entries(node_dir), limit)
    freed = 0
    for entry in chosen:
        try:
            os.unlink(entry.path)
            freed += entry.size
        except OSError:
            continue
    if chosen:
        _remove_empty_sessions(node_dir, current_session(node_dir))
    return len(chosen), freed


def prune(root: str, limit: int) -> dict[str, tuple[int, int]]:
    """Every node directory under ``root``: the ones something was removed from."""
    report = {}
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return report
    for name in names:
        path = os.path.join(root, name)
        if os.path.isdir(path) and not os.path.islink(path):
            removed, freed = prune_node(path, limit)
            if removed:
                report[name] = (removed, freed)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keep each Ray node's log directory within its budget.")
    parser.add_argument("--limit", type=int, required=True, help="bytes one node's directory may take")
    parser.add_argument("root", help="the cluster's log directory (one subdirectory per node)")
    args = parser.parse_args(argv)
    for name, (removed, freed) in prune(args.root, args.limit).items():
        print(f"{name}: removed {removed} files, {freed} bytes")  # the journal's record
    return 0


if __name__ == "__main__":
    sys.exit(main())
