# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Reading Ray node logs for a time window and a pattern (playbooks/logs.yml): a server's node log
directories, or the log receiver's store on the monitoring host.

Private to the collection (no compatibility promise). Standard library only. A node's log directory
(its ``/tmp/ray`` on the host: see ``_log_prune``) holds one directory per session, each with its
``logs``. Ray's files have no common line format (a task's printed lines carry no time), so the time
window selects files: those written to within it (a file last written before the window holds no
line of it). The pattern, a regular expression, selects lines.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable, Iterator

_DURATION_RE = re.compile(r"^([0-9]+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SESSION_PREFIX = "session_"


def parse_duration(text: str) -> int:
    """``30s``, ``15m``, ``2h``, ``1d`` -> seconds (``ValueError`` for anything else)."""
    match = _DURATION_RE.match(str(text).strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a duration such as 30s, 15m, 2h or 1d, got {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def log_files(node_dir: str, since: float) -> list[tuple[float, str]]:
    """(mtime, path) of every regular file under the node's sessions' ``logs`` written at ``since`` or
    later, oldest first (symbolic links are not followed)."""
    found = []
    try:
        sessions = sorted(os.listdir(node_dir))
    except OSError:
        return []
    for session in sessions:
        top = os.path.join(node_dir, session, "logs")
        # The node directory is its container's to write: never follow a link it made there.
        if not session.startswith(SESSION_PREFIX) or os.path.islink(os.path.join(node_dir, session)) or os.path.islink(top):
            continue
        for directory, subdirs, names in os.walk(top):
            subdirs[:] = sorted(d for d in subdirs if not os.path.islink(os.path.join(directory, d)))
            for name in names:
                path = os.path.join(directory, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and info.st_mtime >= since:
                    found.append((info.st_mtime, path))
    return sorted(found)


def matching_lines(lines: Iterable[str], pattern: re.Pattern[str] | None) -> Iterator[str]:
    for line in lines:
        if pattern is None or pattern.search(line):
            yield line if line.endswith("\n") else line + "\n"


def write_node_logs(node_dir: str, since: float, pattern: str, out_path: str, container_output: str = "") -> int:
    """Write the node's matching lines to ``out_path``, each file's under a ``==> path <==`` header (the
    path in the node's directory), then the container's output (``container_output``, already read for
    the window) under ``==> container output <==``. Returns the number of lines written."""
    compiled = re.compile(pattern) if pattern else None
    count = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for _mtime, path in log_files(node_dir, since):
            try:
                # Not through a link put in its place since it was listed.
                with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), encoding="utf-8", errors="replace") as handle:
                    chosen = list(matching_lines(handle, compiled))
            except OSError:
                continue
            if chosen:
                out.write(f"==> {os.path.relpath(path, node_dir)} <==\n")
                out.writelines(chosen)
                count += len(chosen)
        chosen = list(matching_lines(container_output.splitlines(), compiled))
        if chosen:
            out.write("==> container output <==\n")
            out.writelines(chosen)
            count += len(chosen)
    return count


# The aggregated store (the log receiver's, on the monitoring host): ``<store>/<host>/<node>.log`` and
# its rotated files ``<node>.log.<time>``, each line ``<time> <file> <line>``, its time in UTC (RFC 3339).
def store_files(store_dir: str, host: str, node: str, since: float) -> list[tuple[float, str]]:
    """(mtime, path) of the node's files in the store written at ``since`` or later, oldest first."""
    directory = os.path.join(store_dir, host)
    found = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        if name != f"{node}.log" and not name.startswith(f"{node}.log."):
            continue
        info = os.lstat(os.path.join(directory, name))
        if stat.S_ISREG(info.st_mode) and info.st_mtime >= since:
            found.append((info.st_mtime, os.path.join(directory, name)))
    return sorted(found)


def write_store_logs(store_dir: str, host: str, node: str, since: float, pattern: str, out_path: str) -> int:
    """Write the node's lines of the store received at ``since`` or later (by each line's own time) that
    match ``pattern`` to ``out_path``; the number of lines written."""
    compiled = re.compile(pattern) if pattern else None
    since_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since))
    count = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for _mtime, path in store_files(store_dir, host, node, since):
            with open(path, encoding="utf-8", errors="replace") as handle:
                recent = (line for line in handle if line[:19] >= since_text)
                for line in matching_lines(recent, compiled):
                    out.write(line)
                    count += 1
    return count
