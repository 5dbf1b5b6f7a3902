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
what is written to it), nor the session's sockets, ports or runtime environments.

It runs as root in directories the containers write, so it never follows a symbolic link, not even one
that replaces a directory while it runs: it walks and removes through directory descriptors, each
opened with ``O_NOFOLLOW`` in its parent's, and removes a file only if it is still the file it counted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
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
    ident: tuple[int, int] = (0, 0)  # (st_dev, st_ino): removed only if the name still holds this file


# A directory opened in its parent's descriptor: never through a symbolic link.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _open_dir(name: str, dir_fd: int | None = None) -> int | None:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None


def _current_session(node_fd: int) -> str | None:
    try:
        target = os.readlink(LATEST_LINK, dir_fd=node_fd)
    except OSError:
        return None
    return os.path.basename(target.rstrip("/")) or None


def current_session(node_dir: str) -> str | None:
    """The name of the node's current session directory (the ``session_latest`` link's target), if any."""
    node_fd = _open_dir(node_dir)
    if node_fd is None:
        return None
    try:
        return _current_session(node_fd)
    finally:
        os.close(node_fd)


def _walk(dir_fd: int, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], os.stat_result]]:
    """Every entry under the directory ``dir_fd`` (its path as names from there), with its ``lstat``;
    subdirectories are opened in their parent's descriptor without following links."""
    try:
        names = os.listdir(dir_fd)
    except OSError:
        return
    for name in names:
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            continue
        parts = (*prefix, name)
        yield parts, info
        if stat.S_ISDIR(info.st_mode):
            sub_fd = _open_dir(name, dir_fd)
            if sub_fd is not None:
                try:
                    yield from _walk(sub_fd, parts)
                finally:
                    os.close(sub_fd)


def _closed_log(parts: list[str]) -> bool:
    """A file of the current session (its path in the session) that no running process writes."""
    if len(parts) < 2 or parts[0] != "logs":
        return False
    return parts[1] == "old" or bool(ROTATED_RE.search(parts[-1]))


def _entries(node_fd: int, node_dir: str) -> list[Entry]:
    current = _current_session(node_fd)
    found = []
    for parts, info in _walk(node_fd):
        if not stat.S_ISREG(info.st_mode):
            continue
        in_session = len(parts) > 1 and parts[0].startswith(SESSION_PREFIX) and parts[0] != LATEST_LINK
        removable = in_session and (parts[0] != current or _closed_log(list(parts[1:])))
        path = os.path.join(node_dir, *parts)
        found.append(Entry(path, info.st_blocks * 512, info.st_mtime, removable, (info.st_dev, info.st_ino)))
    return found


def entries(node_dir: str) -> list[Entry]:
    """The node directory's regular files: their disk use and whether pruning may remove them."""
    node_fd = _open_dir(node_dir)
    if node_fd is None:
        return []
    try:
        return _entries(node_fd, node_dir)
    finally:
        os.close(node_fd)


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


def _remove_tree(dir_fd: int, name: str) -> None:
    """Remove the directory ``name`` of ``dir_fd`` and what is in it, never through a link."""
    sub_fd = _open_dir(name, dir_fd)
    if sub_fd is None:
        return
    try:
        for child in os.listdir(sub_fd):
            try:
                info = os.stat(child, dir_fd=sub_fd, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    _remove_tree(sub_fd, child)
                else:
                    os.unlink(child, dir_fd=sub_fd)
            except OSError:
                continue
    finally:
        os.close(sub_fd)
    with contextlib.suppress(OSError):
        os.rmdir(name, dir_fd=dir_fd)


def _remove_empty_sessions(node_fd: int, current: str | None) -> None:
    """Earlier sessions' directories whose files are all gone (sockets and empty directories are left in them)."""
    for name in os.listdir(node_fd):
        if not name.startswith(SESSION_PREFIX) or name in (LATEST_LINK, current):
            continue
        session_fd = _open_dir(name, node_fd)  # a link, or not a directory: None
        if session_fd is None:
            continue
        try:
            empty = not any(stat.S_ISREG(info.st_mode) for _parts, info in _walk(session_fd))
        finally:
            os.close(session_fd)
        if empty:
            _remove_tree(node_fd, name)


def _unlink(node_fd: int, parts: list[str], ident: tuple[int, int]) -> bool:
    """Remove the file at ``parts`` under the node's directory, if it is still the file counted."""
    fds = [node_fd]
    try:
        for name in parts[:-1]:
            sub_fd = _open_dir(name, fds[-1])
            if sub_fd is None:
                return False
            fds.append(sub_fd)
        info = os.stat(parts[-1], dir_fd=fds[-1], follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or (ident != (0, 0) and (info.st_dev, info.st_ino) != ident):
            return False
        os.unlink(parts[-1], dir_fd=fds[-1])
        return True
    except OSError:
        return False
    finally:
        for fd in fds[1:]:
            os.close(fd)


def prune_node(node_dir: str, limit: int) -> tuple[int, int]:
    """Bring one node's directory within ``limit``: (files removed, bytes freed)."""
    node_fd = _open_dir(node_dir)
    if node_fd is None:
        return 0, 0
    try:
        chosen = removals(_entries(node_fd, node_dir), limit)
        removed = freed = 0
        for entry in chosen:
            if _unlink(node_fd, os.path.relpath(entry.path, node_dir).split(os.sep), entry.ident):
                removed += 1
                freed += entry.size
        if chosen:
            _remove_empty_sessions(node_fd, _current_session(node_fd))
        return removed, freed
    finally:
        os.close(node_fd)


def prune(root: str, limit: int) -> dict[str, tuple[int, int]]:
    """Every node directory under ``root``: the ones something was removed from."""
    report = {}
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return report
    for name in names:
        # prune_node opens it without following a link: a link or a file is no node's directory.
        removed, freed = prune_node(os.path.join(root, name), limit)
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
