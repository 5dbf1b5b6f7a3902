# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the UFW helpers (plugins/module_utils/_firewall.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import (
    UFW_MULTIPORT_SLOTS,
    multiport_rules,
    parse_ufw_added,
    parse_ufw_files,
    parse_ufw_rules,
    parse_ufw_status,
    ufw_rule_diff,
)

HEADER = "Added user rules (see 'ufw status' for running firewall):"
PREFIX = "ray_cluster"


def added(*rules: str) -> str:
    """Text as ``ufw show added`` prints it."""
    return "\n".join([HEADER, *rules]) + "\n"


def rule(port: str, src: str = "any", comment: str = "ray_cluster nodes", proto: str = "tcp") -> dict[str, str]:
    return {"port": port, "proto": proto, "src": src, "comment": comment}


# --------------------------------------------------------------------------- parse_ufw_added

PARSED = [
    (
        "short-form-with-comment",
        "ufw allow 22/tcp comment 'ray_cluster ssh'",
        {"action": "allow", "port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"},
    ),
    (
        "long-form-with-comment",
        "ufw allow from 172.28.84.80 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'",
        {
            "action": "allow",
            "port": "20000:20399",
            "proto": "tcp",
            "src": "172.28.84.80",
            "dst": "any",
            "comment": "ray_cluster nodes",
        },
    ),
    (
        "long-form-network",
        "ufw allow from 172.28.84.0/24 to any port 6379 proto tcp comment 'ray_cluster gcs'",
        {"action": "allow", "port": "6379", "proto": "tcp", "src": "172.28.84.0/24", "comment": "ray_cluster gcs"},
    ),
    (
        "long-form-slash-32",
        "ufw allow from 172.28.84.80/32 to any port 8265 proto tcp",
        {"action": "allow", "port": "8265", "proto": "tcp", "src": "172.28.84.80", "comment": ""},
    ),
    (
        "ipv6-source",
        "ufw allow from 2001:db8::/32 to any port 22 proto tcp comment 'ray_cluster ssh'",
        {"action": "allow", "port": "22", "proto": "tcp", "src": "2001:db8::/32", "comment": "ray_cluster ssh"},
    ),
    (
        "ipv6-single-address",
        "ufw allow from 2001:DB8::1 to any port 22 proto tcp",
        {"action": "allow", "port": "22", "proto": "tcp", "src": "2001:db8::1", "comment": ""},
    ),
    (
        "short-form-without-comment",
        "ufw allow 80/tcp",
        {"action": "allow", "port": "80", "proto": "tcp", "src": "any", "comment": ""},
    ),
    ("short-form-without-proto", "ufw allow 53", {"action": "allow", "port": "53", "proto": "any", "src": "any", "comment": ""}),
    ("short-form-range", "ufw allow 20000:20099/tcp", {"action": "allow", "port": "20000:20099", "proto": "tcp", "src": "any"}),
    ("deny-rule", "ufw deny 23/tcp", {"action": "deny", "port": "23", "proto": "tcp"}),
    ("limit-rule", "ufw limit 22/tcp comment 'rate'", {"action": "limit", "port": "22", "comment": "rate"}),
    ("from-any", "ufw allow from any to any port 443 proto tcp", {"action": "allow", "port": "443", "src": "any"}),
    ("source-only", "ufw allow from 10.0.0.0/8", {"action": "allow", "port": "", "proto": "any", "src": "10.0.0.0/8"}),
    (
        "comment-with-spaces-and-quotes",
        "ufw allow 8080/tcp comment 'web \"admin\" port'",
        {"action": "allow", "port": "8080", "comment": 'web "admin" port'},
    ),
    (
        "logged-long-form",
        "ufw allow log-all from 10.0.0.1 to any port 22 proto tcp",
        {"action": "allow", "port": "22", "proto": "tcp", "src": "10.0.0.1"},
    ),
    ("interface-rule", "ufw allow in on eth0", {"action": "other", "direction": "in"}),
    (
        "interface-rule-with-port",
        "ufw allow in on eth0 to any port 22 proto tcp comment 'ray_cluster ssh'",
        {"action": "other", "direction": "in", "comment": "ray_cluster ssh"},
    ),
    ("inbound-short-form", "ufw allow in 22/tcp", {"action": "allow", "direction": "in", "port": "22", "proto": "tcp"}),
    ("route-rule", "ufw route allow in on eth1 out on eth2", {"action": "other"}),
    ("app-rule", "ufw allow from 10.0.0.1 to any app OpenSSH", {"action": "other", "src": "10.0.0.1"}),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in PARSED], ids=[c[0] for c in PARSED])
def test_parse_ufw_added_rules(line: str, expected: dict[str, str]) -> None:
    [parsed] = parse_ufw_added(added(line))
    assert parsed["raw"] == line
    assert {key: parsed.get(key) for key in expected} == expected


def test_parse_ufw_added_no_rules() -> None:
    assert parse_ufw_added(added("(None)")) == []
    assert parse_ufw_added(HEADER) == []


def test_parse_ufw_added_keeps_order_and_skips_blank_lines() -> None:
    text = (
        f"\n{HEADER}\n"
        "ufw allow 22/tcp comment 'ray_cluster ssh'\n\n"
        "  ufw allow from 172.28.84.80 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'  \n"
        "ufw allow from 172.28.84.81 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'\n"
    )
    assert [(r["port"], r["src"]) for r in parse_ufw_added(text)] == [
        ("22", "any"),
        ("20000:20399", "172.28.84.80"),
        ("20000:20399", "172.28.84.81"),
    ]


GARBAGE = [
    ("empty", "", "got nothing"),
    ("whitespace", "  \n \n", "got nothing"),
    ("wrong-header", "Status: active\nufw allow 22/tcp", "starting with"),
    ("ufw-status-output", "Status: inactive", "starting with"),
    ("line-not-ufw", added("iptables -A INPUT -j ACCEPT"), "expected a line starting with 'ufw'"),
    ("unbalanced-quote", added("ufw allow 22/tcp comment 'ray_cluster ssh"), "cannot parse ufw rule"),
    ("bad-source", added("ufw allow from nowhere to any port 22 proto tcp"), "nowhere"),
]


@pytest.mark.parametrize(("text", "match"), [c[1:] for c in GARBAGE], ids=[c[0] for c in GARBAGE])
def test_parse_ufw_added_rejects_garbage(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_ufw_added(text)


# --------------------------------------------------------------------------- ufw_rule_diff

SSH = rule("22", comment="ray_cluster ssh")
NODES_80 = rule("20000:20399", "172.28.84.80")
NODES_81 = rule("20000:20399", "172.28.84.81")
CURRENT_TEXT = added(
    "ufw allow 22/tcp comment 'ray_cluster ssh'",
    "ufw allow from 172.28.84.80 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'",
    "ufw allow from 172.28.84.81 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'",
)

DIFFS: list[tuple[str, str, list[dict[str, Any]], dict[str, list[dict[str, Any]]]]] = [
    ("nothing-to-do", CURRENT_TEXT, [SSH, NODES_80, NODES_81], {"add": [], "delete": []}),
    ("empty-ufw-adds-all-in-order", added("(None)"), [SSH, NODES_80, NODES_81], {"add": [SSH, NODES_80, NODES_81], "delete": []}),
    (
        "add-missing",
        added("ufw allow 22/tcp comment 'ray_cluster ssh'"),
        [SSH, NODES_80, NODES_81],
        {"add": [NODES_80, NODES_81], "delete": []},
    ),
    ("delete-stale-managed", CURRENT_TEXT, [SSH, NODES_80], {"add": [], "delete": [NODES_81]}),
    (
        "range-change-adds-and-deletes",
        CURRENT_TEXT,
        [SSH, rule("20000:20199", "172.28.84.80"), rule("20000:20199", "172.28.84.81")],
        {
            "add": [rule("20000:20199", "172.28.84.80"), rule("20000:20199", "172.28.84.81")],
            "delete": [NODES_80, NODES_81],
        },
    ),
    (
        "never-delete-unmanaged",
        added(
            "ufw allow 22/tcp comment 'ray_cluster ssh'",
            "ufw allow 80/tcp",
            "ufw allow from 10.0.0.0/8 to any port 9100 proto tcp comment 'node exporter'",
            "ufw allow in on eth0",
        ),
        [SSH],
        {"add": [], "delete": []},
    ),
    (
        "never-delete-managed-deny",
        added("ufw deny 23/tcp comment 'ray_cluster old'"),
        [],
        {"add": [], "delete": []},
    ),
    (
        "slash-32-desired-equals-bare-current",
        CURRENT_TEXT,
        [SSH, rule("20000:20399", "172.28.84.80/32"), NODES_81],
        {"add": [], "delete": []},
    ),
    (
        "slash-32-current-equals-bare-desired",
        added("ufw allow from 172.28.84.80/32 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'"),
        [NODES_80],
        {"add": [], "delete": []},
    ),
    (
        "comment-change-replaces-the-rule",
        added("ufw allow 22/tcp comment 'ray_cluster old ssh'"),
        [SSH],
        {"add": [SSH], "delete": [rule("22", comment="ray_cluster old ssh")]},
    ),
    (
        "unmanaged-rule-with-same-port-does-not-satisfy",
        added("ufw allow 22/tcp"),
        [SSH],
        {"add": [SSH], "delete": []},
    ),
    (
        "ipv6-managed-stale",
        added("ufw allow from 2001:db8::/32 to any port 22 proto tcp comment 'ray_cluster ssh'"),
        [SSH],
        {"add": [SSH], "delete": [rule("22", "2001:db8::/32", "ray_cluster ssh")]},
    ),
    # Managed means: the comment is the prefix itself or starts with the prefix and a space.
    (
        "comment-equal-to-prefix-is-managed",
        added("ufw allow 9000/tcp comment 'ray_cluster'"),
        [],
        {"add": [], "delete": [rule("9000", comment="ray_cluster")]},
    ),
    (
        "comment-sharing-the-prefix-is-not-managed",
        added("ufw allow 9000/tcp comment 'ray_clusterx nodes'", "ufw allow 9001/tcp comment 'ray_cluster_old nodes'"),
        [],
        {"add": [], "delete": []},
    ),
    (
        "explicit-inbound-managed-stale",
        added("ufw allow in 9000/tcp comment 'ray_cluster old'"),
        [],
        {"add": [], "delete": [rule("9000", comment="ray_cluster old")]},
    ),
    (
        "never-delete-managed-outbound",
        added("ufw allow out 9000/tcp comment 'ray_cluster old'"),
        [],
        {"add": [], "delete": []},
    ),
    (
        "explicit-inbound-satisfies",
        added("ufw allow in 22/tcp comment 'ray_cluster ssh'"),
        [SSH],
        {"add": [], "delete": []},
    ),
]


@pytest.mark.parametrize(("text", "desired", "expected"), [c[1:] for c in DIFFS], ids=[c[0] for c in DIFFS])
def test_ufw_rule_diff(text: str, desired: list[dict[str, Any]], expected: dict[str, list[dict[str, Any]]]) -> None:
    assert ufw_rule_diff(parse_ufw_added(text), desired, PREFIX) == expected


def test_ufw_rule_diff_with_plan_rules(lab_hosts: dict[str, dict[str, Any]]) -> None:
    from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

    plan = build_plan(["lab-84"], list(lab_hosts), lab_hosts)
    desired = plan["hosts"]["lab-84"]["firewall"]
    first = ufw_rule_diff(parse_ufw_added(added("(None)")), desired, PREFIX)
    assert first == {"add": multiport_rules(desired, PREFIX), "delete": []}
    # What ufw would print after applying the rules: short form for 'any', long form otherwise.
    lines = []
    for r in first["add"]:
        port = r["port"]
        if r["src"] == "any":
            lines.append(f"ufw allow {port}/{r['proto']} comment '{r['comment']}'")
        else:
            lines.append(f"ufw allow from {r['src']} to any port {port} proto {r['proto']} comment '{r['comment']}'")
    assert ufw_rule_diff(parse_ufw_added(added(*lines)), desired, PREFIX) == {"add": [], "delete": []}


def test_ufw_rule_diff_outbound_rule_does_not_satisfy_inbound() -> None:
    current = parse_ufw_added(added("ufw allow out 22/tcp comment 'ray_cluster ssh'"))
    diff = ufw_rule_diff(current, [SSH], PREFIX)
    assert diff["add"] == [SSH]


# --------------------------------------------------------------------------- parse_ufw_status

STATUS_VERBOSE = """Status: active
Logging: on ({logging})
Default: {policy} (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere                   # ray_cluster ssh
"""

STATES = [
    (
        "deny-low",
        STATUS_VERBOSE.format(policy="deny", logging="low"),
        {"active": True, "logging": "low", "incoming": "deny", "outgoing": "allow", "routed": "disabled"},
    ),
    (
        "allow-high",
        STATUS_VERBOSE.format(policy="allow", logging="high"),
        {"active": True, "logging": "high", "incoming": "allow", "outgoing": "allow", "routed": "disabled"},
    ),
    (
        "reject-full",
        STATUS_VERBOSE.format(policy="reject", logging="full"),
        {"active": True, "logging": "full", "incoming": "reject", "outgoing": "allow", "routed": "disabled"},
    ),
    (
        # Read off a lab server (Debian 13, ufw 0.36.2) after `ufw logging off`.
        "logging-off-routed-deny",
        "Status: active\nLogging: off\nDefault: deny (incoming), allow (outgoing), deny (routed)\nNew profiles: skip\n",
        {"active": True, "logging": "off", "incoming": "deny", "outgoing": "allow", "routed": "deny"},
    ),
    (
        "inactive",
        "Status: inactive\n",
        {"active": False, "logging": None, "incoming": None, "outgoing": None, "routed": None},
    ),
    ("empty", "", {"active": False, "logging": None, "incoming": None, "outgoing": None, "routed": None}),
    (
        # A rule comment that looks like a Default line must not be read as one.
        "rule-comment-lookalike",
        STATUS_VERBOSE.format(policy="deny", logging="low").replace("# ray_cluster ssh", "# allow (incoming) note"),
        {"active": True, "logging": "low", "incoming": "deny", "outgoing": "allow", "routed": "disabled"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in STATES], ids=[c[0] for c in STATES])
def test_parse_ufw_status(text: str, expected: dict[str, object]) -> None:
    assert parse_ufw_status(text) == expected


# --------------------------------------------------------------------------------------------
# UFW's files: the same rules and state as `ufw show added` and `ufw status verbose`
# --------------------------------------------------------------------------------------------

UFW = Path(__file__).resolve().parents[2] / "fixtures" / "probe" / "ufw"
NAMES = {"rules": "user.rules", "rules6": "user6.rules", "conf": "ufw.conf", "defaults": "default-ufw"}


def ufw_files(**changed: str | None) -> dict[str, str | None]:
    files: dict[str, str | None] = {key: (UFW / name).read_text() for key, name in NAMES.items()}
    files.update(changed)
    return files


def _key_of(rule: dict[str, Any]) -> tuple[str, ...]:
    return (
        rule["action"],
        rule.get("direction", "in"),
        rule["port"],
        rule["proto"],
        rule["src"],
        rule.get("dst", "any"),
        rule["comment"],
    )


def test_files_hold_what_ufw_prints() -> None:
    """The lab's capture: every rule `ufw show added` lists, in its order, and the state `ufw status
    verbose` prints. Rules the collection never writes (logged, routed, on an interface) are
    ``other`` from the files; `show added`'s parser keeps a logged one as an allow without a port."""
    rules, state = parse_ufw_files(ufw_files(), loaded=True)
    printed = parse_ufw_added((UFW / "show-added.txt").read_text())
    assert len(rules) == len(printed) == 12
    for from_files, from_text in zip(rules, printed, strict=True):
        if from_files["action"] == "other":
            assert from_text["action"] == "other" or " log " in from_text["raw"], (from_files, from_text)
            continue
        assert _key_of(from_files) == _key_of(from_text), from_text["raw"]
    assert state == parse_ufw_status((UFW / "status-verbose.txt").read_text())
    assert [r["comment"] for r in rules[:4]] == ["ray_cluster ssh"] + ["ray_cluster nodes"] * 3
    assert rules[-1]["action"] == "deny" and rules[-1]["src"] == "2001:db8::/32"  # v6 only, once


def test_files_diff_like_the_printed_rules() -> None:
    desired = [r for r in parse_ufw_added((UFW / "show-added.txt").read_text()) if r["comment"].startswith("ray_cluster")]
    rules, _ = parse_ufw_files(ufw_files(), loaded=True)
    assert ufw_rule_diff(rules, desired, "ray_cluster") == {"add": [], "delete": []}
    fewer = ufw_files(rules=(UFW / "user.rules").read_text().replace("any 172.28.84.82 in", "any 172.28.84.83 in"))
    diff = ufw_rule_diff(parse_ufw_files(fewer, loaded=True)[0], desired, "ray_cluster")
    assert [r["src"] for r in diff["add"]] == ["172.28.84.82"]
    assert [r["src"] for r in diff["delete"]] == ["172.28.84.83"]


@pytest.mark.parametrize(
    ("changed", "loaded", "state"),
    [
        ({}, False, {"active": False}),  # enabled but its chains are not loaded: `ufw status` says inactive
        ({"conf": "ENABLED=no\nLOGLEVEL=low\n"}, True, {"active": False}),
        ({"conf": "ENABLED=yes\nLOGLEVEL=medium\n"}, True, {"active": True, "logging": "medium"}),
        ({"conf": "ENABLED=yes\nLOGLEVEL=off\n"}, True, {"logging": "off"}),
        (
            {"defaults": 'DEFAULT_INPUT_POLICY="ACCEPT"\nDEFAULT_OUTPUT_POLICY="DROP"\n'},
            True,
            {"incoming": "allow", "outgoing": "deny"},
        ),
        ({"defaults": "DEFAULT_INPUT_POLICY=REJECT\n"}, True, {"incoming": "reject", "outgoing": None}),
    ],
)
def test_file_states(changed: dict[str, str], loaded: bool, state: dict[str, Any]) -> None:
    _, seen = parse_ufw_files(ufw_files(**changed), loaded=loaded)
    assert {k: seen[k] for k in state} == state


def test_no_rules_files_and_bad_files() -> None:
    assert parse_ufw_files(ufw_files(rules=None, rules6=None), loaded=True)[0] == []
    with pytest.raises(ValueError, match=r"expected UFW's /etc/ufw/ufw\.conf and /etc/default/ufw"):
        parse_ufw_files(ufw_files(conf=None), loaded=True)
    with pytest.raises(ValueError, match="expected 'action proto dport dst sport src"):
        parse_ufw_rules("### tuple ### allow tcp 22 0.0.0.0/0 any\n")
    with pytest.raises(ValueError, match="cannot parse the comment"):
        parse_ufw_rules("### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=zz\n")


# --------------------------------------------------------------------------- multiport_rules


def _opened(rules: list[dict[str, str]]) -> set[tuple[int, str, str]]:
    """(port, proto, src) for every single port the rules open."""
    opened = set()
    for rule in rules:
        for part in rule["port"].split(","):
            low, _, high = part.partition(":")
            opened |= {(port, rule["proto"], rule["src"]) for port in range(int(low), int(high or low) + 1)}
    return opened


def _slots(port: str) -> int:
    return sum(2 if ":" in part else 1 for part in port.split(","))


@pytest.mark.parametrize("workers", [1, 4, 16])
def test_multiport_rules_open_exactly_the_plans_ports_in_few_rules(lab_hosts: dict[str, dict[str, Any]], workers: int) -> None:
    from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._plan import build_plan

    for hostvars in lab_hosts.values():  # with monitoring: one metrics port per node, each its own rule before
        hostvars.update(ray_cluster_allow_oversubscription=True, ray_cluster_monitoring=True)
    lab_hosts["lab-80"]["ray_worker_count"] = workers
    plan = build_plan(["lab-84"], list(lab_hosts), lab_hosts)
    for host, hplan in plan["hosts"].items():
        planned = hplan["firewall"]
        rules = multiport_rules(planned, PREFIX)
        assert _opened(rules) == _opened(planned), host
        assert rules[0] == planned[0] and rules[0]["comment"] == "ray_cluster ssh"
        assert all(_slots(rule["port"]) <= UFW_MULTIPORT_SLOTS for rule in rules)
        # Each port in the comment of the rule that opens it, with its purpose.
        for rule in planned:
            first_port = (int(rule["port"].split(":")[0]), "tcp", rule["src"])
            holders = [r for r in rules if first_port in _opened([r])]
            assert any(rule["comment"].split()[1] in r["comment"].split() for r in holders), (host, rule)
        # As UFW stores a multiport rule: by port.
        for rule in rules:
            parts = rule["port"].split(",")
            assert parts == sorted(parts, key=lambda p: (int(p.split(":")[0]), int(p.split(":")[-1]))), rule
        # One rule per source and protocol while the ports fit: the count follows the sources, not the workers.
        sources = {(r["src"], r["proto"]) for r in planned if r["comment"] != "ray_cluster ssh"}
        assert len(rules) - 1 <= len(sources) + sum(_slots(r["port"]) for r in rules) // UFW_MULTIPORT_SLOTS
    planned = plan["hosts"]["lab-80"]["firewall"]
    lab80 = multiport_rules(planned, PREFIX)
    # Far fewer than one per port (each node's range stops at its metrics port, open to the monitoring
    # host alone, so the ranges still follow the nodes, 15 slots to a rule).
    assert len(lab80) * (2 if workers == 1 else 4) <= len(planned), (len(lab80), len(planned))


def test_multiport_rules_split_past_fifteen_slots() -> None:
    ports = [str(p) for p in range(1000, 1010)] + [f"{p}:{p + 5}" for p in range(2000, 2060, 10)]
    planned = [SSH] + [{"port": port, "proto": "tcp", "src": "10.0.0.1", "comment": "ray_cluster nodes"} for port in ports]
    rules = multiport_rules(planned, PREFIX)
    assert [_slots(r["port"]) for r in rules[1:]] == [14, 8]  # a range does not fit in the 15th slot
    assert _opened(rules) == _opened(planned)
    assert all(r["comment"] == "ray_cluster nodes" for r in rules[1:])


def test_ufw_rule_diff_replaces_the_per_port_rules_of_an_older_release() -> None:
    planned = [
        SSH,
        {"port": "6379", "proto": "tcp", "src": "10.0.0.0/30", "comment": "ray_cluster gcs"},
        {"port": "20000:20099", "proto": "tcp", "src": "10.0.0.0/30", "comment": "ray_cluster nodes"},
        {"port": "9100", "proto": "tcp", "src": "10.0.0.9", "comment": "ray_cluster monitoring"},
    ]
    older = ["ufw allow 22/tcp comment 'ray_cluster ssh'"] + [
        f"ufw allow from {r['src']} to any port {r['port']} proto tcp comment '{r['comment']}'" for r in planned[1:]
    ]
    diff = ufw_rule_diff(parse_ufw_added(added(*older)), planned, PREFIX)
    assert diff["add"] == [
        {"port": "6379,20000:20099", "proto": "tcp", "src": "10.0.0.0/30", "comment": "ray_cluster gcs nodes"},
    ]
    # The old per-port rules go, but the monitoring rule, the same as before, and SSH stay.
    assert sorted(r["port"] for r in diff["delete"]) == ["20000:20099", "6379"]
