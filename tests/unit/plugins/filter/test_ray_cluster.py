# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the collection's filters (plugins/filter/ray_cluster.py)."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wizardsofts.ray_cluster.plugins.filter.ray_cluster import (
    FilterModule,
    ray_size_to_bytes,
    ray_ufw_rule_diff,
)

HEADER = "Added user rules (see 'ufw status' for running firewall):"
SSH = {"port": "22", "proto": "tcp", "src": "any", "comment": "ray_cluster ssh"}
NODES = {"port": "20000:20399", "proto": "tcp", "src": "172.28.84.80", "comment": "ray_cluster nodes"}


def test_filters_are_registered() -> None:
    filters = FilterModule().filters()
    assert filters["ray_size_to_bytes"] is ray_size_to_bytes
    assert filters["ray_ufw_rule_diff"] is ray_ufw_rule_diff


SIZES = [("6G", 6442450944), ("512m", 536870912), ("1.5GiB", 1610612736), ("2gb", 2147483648), (2000000000, 2000000000)]


@pytest.mark.parametrize(("value", "expected"), SIZES, ids=[str(v) for v, _ in SIZES])
def test_ray_size_to_bytes(value: Any, expected: int) -> None:
    assert ray_size_to_bytes(value) == expected


@pytest.mark.parametrize("value", ["6X", -1, "", True, None], ids=["unit", "negative", "empty", "bool", "none"])
def test_ray_size_to_bytes_errors(value: Any) -> None:
    with pytest.raises(AnsibleFilterError) as exc:
        ray_size_to_bytes(value)
    assert "ray_size_to_bytes" in str(exc.value)
    assert repr(value) in str(exc.value)


DIFFS = [
    (
        "nothing-to-do",
        f"{HEADER}\nufw allow 22/tcp comment 'ray_cluster ssh'\n"
        "ufw allow from 172.28.84.80 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'\n",
        [SSH, NODES],
        {"add": [], "delete": []},
    ),
    ("empty-ufw", f"{HEADER}\n(None)\n", [SSH, NODES], {"add": [SSH, NODES], "delete": []}),
    (
        "stale-and-hand-made",
        f"{HEADER}\nufw allow 22/tcp comment 'ray_cluster ssh'\nufw allow 80/tcp\n"
        "ufw allow from 172.28.84.99 to any port 20000:20399 proto tcp comment 'ray_cluster nodes'\n",
        [SSH],
        {"add": [], "delete": [{**NODES, "src": "172.28.84.99"}]},
    ),
]


@pytest.mark.parametrize(("text", "desired", "expected"), [c[1:] for c in DIFFS], ids=[c[0] for c in DIFFS])
def test_ray_ufw_rule_diff(text: str, desired: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert ray_ufw_rule_diff(text, desired) == expected


def test_ray_ufw_rule_diff_custom_prefix() -> None:
    text = f"{HEADER}\nufw allow 9000/tcp comment 'other app'\nufw allow 22/tcp comment 'ray_cluster ssh'\n"
    assert ray_ufw_rule_diff(text, [], comment_prefix="other") == {
        "add": [],
        "delete": [{"port": "9000", "proto": "tcp", "src": "any", "comment": "other app"}],
    }


@pytest.mark.parametrize("text", ["", "  \n", None], ids=["empty", "blank", "none"])
def test_ray_ufw_rule_diff_without_ufw_output_adds_everything(text: Any) -> None:
    # No output at all: UFW is not installed yet (check mode on a fresh host).
    assert ray_ufw_rule_diff(text, [SSH, NODES]) == {"add": [SSH, NODES], "delete": []}


GARBAGE = [
    ("not-show-added", "Status: active\n", "starting with"),
    ("bad-line", f"{HEADER}\nallow 22/tcp\n", "expected a line starting with 'ufw'"),
    ("bad-quote", f"{HEADER}\nufw allow 22/tcp comment 'x\n", "cannot parse ufw rule"),
]


@pytest.mark.parametrize(("text", "match"), [c[1:] for c in GARBAGE], ids=[c[0] for c in GARBAGE])
def test_ray_ufw_rule_diff_errors(text: str, match: str) -> None:
    with pytest.raises(AnsibleFilterError, match=match) as exc:
        ray_ufw_rule_diff(text, [SSH])
    assert str(exc.value).startswith("ray_ufw_rule_diff: ")
