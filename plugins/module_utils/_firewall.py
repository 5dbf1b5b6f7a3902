# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Compare the plan's firewall rules with what UFW has, read from ``ufw show added`` or from UFW's
own files.

The ufw role reads ``ufw show added`` once, and only the rules :func:`ufw_rule_diff` returns go
through ``community.general.ufw``: a rerun with nothing to do costs one command, however many
rules the plan has. The read of every host before a run (``ray_cluster_deployed``) reads the files
those commands read (:data:`UFW_FILES`) instead of starting UFW's Python twice: the same rules and
state (:func:`parse_ufw_files`), in a few milliseconds.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._inputs import normalise_source

_HEADER = "Added user rules (see 'ufw status' for running firewall):"
_NO_RULES = "(None)"


def _normalise_src(value: str) -> str:
    """A rule's source as the plan writes it (``ufw show added`` may say ``Anywhere``)."""
    return normalise_source("any" if value == "Anywhere" else value)


def parse_ufw_added(text: str) -> list[dict[str, str]]:
    """Parse ``ufw show added`` into rules ``{action, port, proto, src, comment}``.

    Handles both forms UFW prints: ``ufw allow 22/tcp comment 'x'`` and
    ``ufw allow from 10.1.2.3 to any port 20000:20399 proto tcp comment 'x'``.
    Rules this collection never writes (other actions, interfaces, routes) come back with
    ``"managed": false`` details kept in ``raw``.
    """
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        raise ValueError("expected the output of 'ufw show added', got nothing")
    if lines[0] != _HEADER:
        raise ValueError(f"expected the output of 'ufw show added' starting with {_HEADER!r}, got {lines[0]!r}")
    rules: list[dict[str, str]] = []
    for line in lines[1:]:
        if line == _NO_RULES:
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise ValueError(f"cannot parse ufw rule {line!r}: {exc}") from None
        if not words or words[0] != "ufw":
            raise ValueError(f"expected a line starting with 'ufw', got {line!r}")
        rules.append(_parse_rule(words[1:], line))
    return rules


def _parse_rule(words: list[str], raw: str) -> dict[str, str]:
    rule = {"action": "", "port": "", "proto": "any", "src": "any", "comment": "", "raw": raw}
    if words and words[0] in ("allow", "deny", "reject", "limit"):
        rule["action"] = words.pop(0)
    else:
        rule["action"] = "other"
        return rule
    if "comment" in words:
        at = words.index("comment")
        rule["comment"] = " ".join(words[at + 1 :])
        words = words[:at]
    if words and words[0] in ("in", "out"):
        rule["direction"] = words.pop(0)
        if words and words[0] == "on":
            rule["action"] = "other"
            return rule
    if len(words) == 1:
        # Short form: "22/tcp", "22", "OpenSSH".
        port, _, proto = words[0].partition("/")
        rule["port"], rule["proto"] = port, proto or "any"
        return rule
    it = iter(range(len(words)))
    for i in it:
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word == "from":
            rule["src"] = _normalise_src(nxt)
        elif word == "to":
            rule["dst"] = nxt
        elif word == "port":
            rule["port"] = nxt
        elif word == "proto":
            rule["proto"] = nxt
        elif word == "app":
            rule["action"] = "other"
        else:
            continue
        next(it, None)
    return rule


def _key(rule: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """What makes two rules the same; the plan's rules are all inbound (no ``direction``)."""
    return (
        str(rule.get("direction", "in")),
        str(rule["port"]),
        str(rule.get("proto", "any")),
        _normalise_src(str(rule.get("src", "any"))),
        str(rule.get("comment", "")),
    )


# UFW allows up to 15 ports in one rule, a low:high range counting as two.
UFW_MULTIPORT_SLOTS = 15


def _port_key(port: str) -> tuple[int, int]:
    low, _, high = port.partition(":")
    return int(low), int(high or low)


def multiport_rules(rules: list[dict[str, Any]], comment_prefix: str) -> list[dict[str, Any]]:
    """The UFW rules that allow what ``rules`` (the plan's, one port or range each) allow, as few as
    UFW takes: each source's ports of one protocol in one rule (more when they need over
    :data:`UFW_MULTIPORT_SLOTS` slots), listed as UFW stores them (by port), their purposes joined in
    the comment (``ray_cluster nodes monitoring``). SSH's rules stay apart and first.

    One rule per port and source would make the rules, and the ufw role's calls, grow with the
    workers (each has its metrics port) and the members: on the lab, 36 rules on the head host
    instead of 8, about 0.6 s each to add or delete."""
    ssh = f"{comment_prefix} ssh"
    merged = [dict(rule) for rule in rules if rule["comment"] == ssh]
    purposes_order: dict[str, int] = {}
    groups: dict[tuple[str, str], dict[str, list[str]]] = {}
    for rule in rules:
        if rule["comment"] == ssh:
            continue
        purpose = str(rule["comment"]).removeprefix(comment_prefix).strip()
        purposes_order.setdefault(purpose, len(purposes_order))
        ports = groups.setdefault((str(rule["src"]), str(rule["proto"])), {})
        if purpose not in ports.setdefault(str(rule["port"]), []):
            ports[str(rule["port"])].append(purpose)
    for (src, proto), ports in groups.items():
        chunks: list[list[str]] = [[]]
        used = 0
        for port in sorted(ports, key=_port_key):
            slots = 2 if ":" in port else 1
            if chunks[-1] and used + slots > UFW_MULTIPORT_SLOTS:
                chunks.append([])
                used = 0
            chunks[-1].append(port)
            used += slots
        for chunk in chunks:
            purposes = sorted({purpose for port in chunk for purpose in ports[port]}, key=purposes_order.__getitem__)
            comment = " ".join([comment_prefix, *purposes])
            merged.append({"port": ",".join(chunk), "proto": proto, "src": src, "comment": comment})
    return merged


def ufw_rule_diff(
    current: list[dict[str, Any]], desired: list[dict[str, Any]], comment_prefix: str
) -> dict[str, list[dict[str, Any]]]:
    """What to add and what to delete so UFW holds exactly the desired rules, as
    :func:`multiport_rules` writes them.

    Only rules whose comment starts with ``comment_prefix`` are ever deleted: rules the operator
    added by hand stay. SSH's rules come first.
    """
    desired = multiport_rules(desired, comment_prefix)
    have = {_key(r) for r in current if r.get("action") == "allow"}
    want = {_key(r) for r in desired}
    add = [r for r in desired if _key(r) not in have]
    delete = [
        {"port": r["port"], "proto": r["proto"], "src": r["src"], "comment": r["comment"]}
        for r in current
        if r.get("action") == "allow"
        and r.get("direction", "in") == "in"
        and (r.get("comment", "") == comment_prefix or r.get("comment", "").startswith(comment_prefix + " "))
        and _key(r) not in want
    ]
    return {"add": add, "delete": delete}


_STATUS_RE = re.compile(r"^Status:\s*(\w+)", re.MULTILINE)
_LOGGING_RE = re.compile(r"^Logging:\s*(?:on\s*\((\w+)\)|(off))", re.MULTILINE)
_DEFAULTS_RE = re.compile(r"(\w+)\s*\((incoming|outgoing|routed)\)")


def parse_ufw_status(status_verbose: str) -> dict[str, Any]:
    """UFW's state from ``ufw status verbose``: ``active`` (bool), ``logging`` (``off``,
    ``low``...) and the default policies ``incoming``, ``outgoing``, ``routed``. What the text
    does not say (an inactive UFW prints only its status) is ``None``, so a caller changes it."""
    status = _STATUS_RE.search(status_verbose)
    logging = _LOGGING_RE.search(status_verbose)
    state: dict[str, Any] = {
        "active": bool(status and status.group(1) == "active"),
        "logging": (logging.group(1) or logging.group(2)) if logging else None,
        "incoming": None,
        "outgoing": None,
        "routed": None,
    }
    for line in status_verbose.splitlines():
        if line.startswith("Default:"):
            for policy, direction in _DEFAULTS_RE.findall(line):
                state[direction] = policy
    return state


# --------------------------------------------------------------------------------------------
# UFW's own files (what `ufw show added` and `ufw status verbose` read)
# --------------------------------------------------------------------------------------------

# Key -> path. The rules are the ``### tuple ###`` lines UFW writes and reads back itself.
UFW_FILES = {
    "rules": "/etc/ufw/user.rules",
    "rules6": "/etc/ufw/user6.rules",
    "conf": "/etc/ufw/ufw.conf",
    "defaults": "/etc/default/ufw",
}
# `ufw status` says active when ENABLED=yes and its chains are loaded (it lists this one).
UFW_LOADED_CHAIN = "ufw-user-input"
_TUPLE = "### tuple ###"
_ANY_NET = ("0.0.0.0/0", "::/0")
_ACTIONS = ("allow", "deny", "reject", "limit")
_POLICIES = {"ACCEPT": "allow", "DROP": "deny", "REJECT": "reject"}


def _tuple_rule(line: str) -> dict[str, str]:
    """One ``### tuple ###`` line: ``action proto dport dst sport src [dapp sapp] direction[_iface]
    [comment=hex]`` -> a rule as :func:`parse_ufw_added` returns it. Logged, routed, interface and
    application rules, which this collection never writes, come back with action ``other``."""
    words = line[len(_TUPLE) :].split()
    comment = ""
    if words and words[-1].startswith("comment="):
        try:
            comment = bytes.fromhex(words.pop()[len("comment=") :]).decode("utf-8", "replace")
        except ValueError:
            raise ValueError(f"cannot parse the comment of UFW rule {line!r}") from None
    if len(words) not in (7, 9):
        raise ValueError(f"expected 'action proto dport dst sport src [dapp sapp] direction' in UFW rule {line!r}")
    action, proto, dport, dst, _sport, src = words[:6]
    direction = words[-1]
    rule = {
        "action": action if action in _ACTIONS and len(words) == 7 and "_" not in direction else "other",
        "port": "" if dport == "any" else dport,
        "proto": proto,
        "src": _normalise_src("any" if src in _ANY_NET else src),
        "dst": "any" if dst in _ANY_NET else dst,
        "direction": direction,
        "comment": comment,
        "raw": line,
    }
    return rule


def parse_ufw_rules(*texts: str | None) -> list[dict[str, str]]:
    """The rules in ``user.rules`` and ``user6.rules`` (``None`` for a file that is not there), once
    each: a rule for any address is in both files, as ``ufw show added`` prints it once."""
    rules: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        for line in str(text or "").splitlines():
            if not line.startswith(_TUPLE):
                continue
            rule = _tuple_rule(line.strip())
            key = tuple(v for k, v in sorted(rule.items()) if k != "raw")
            if key not in seen:
                seen.add(key)
                rules.append(rule)
    return rules


def _settings(text: str | None) -> dict[str, str]:
    """``KEY=value`` lines of a shell-style settings file (quotes dropped)."""
    found = {}
    for line in str(text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            found[key.strip()] = value.strip().strip("\"'")
    return found


def parse_ufw_files(files: dict[str, str | None], loaded: bool) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """UFW's rules and state from its files (:data:`UFW_FILES` keys -> text) and whether its chains
    are loaded: the rules as :func:`parse_ufw_added` returns them and the state as
    :func:`parse_ufw_status` does (``active`` when enabled and loaded)."""
    if files.get("conf") is None or files.get("defaults") is None:
        raise ValueError(f"expected UFW's {UFW_FILES['conf']} and {UFW_FILES['defaults']}")
    conf, defaults = _settings(files["conf"]), _settings(files["defaults"])
    level = conf.get("LOGLEVEL", "low").lower()
    state = {
        "active": conf.get("ENABLED", "no").lower() == "yes" and bool(loaded),
        "logging": level,
        "incoming": _POLICIES.get(defaults.get("DEFAULT_INPUT_POLICY", "").upper()),
        "outgoing": _POLICIES.get(defaults.get("DEFAULT_OUTPUT_POLICY", "").upper()),
        "routed": _POLICIES.get(defaults.get("DEFAULT_FORWARD_POLICY", "").upper()),
    }
    return parse_ufw_rules(files.get("rules"), files.get("rules6")), state
