# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/module_utils/_token.py (the token file's text, fingerprint and digest)."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import (
    token_file_digest,
    token_file_text,
    token_fingerprint,
)

TOKEN = "q7k2m9x4p1w8r5t3y6u0i2o4a7s9d1f3g5h8j0k2l4z6x8c1v3b5n7m9q2w4e6r8"  # noqa: S105 (a test value)


def test_file_text_is_the_token_and_a_newline() -> None:
    assert token_file_text(TOKEN) == TOKEN + "\n"
    for bad in ("", None, 3):
        with pytest.raises(ValueError, match="no token to write"):
            token_file_text(bad)


def test_digest_of_the_file_the_collection_writes() -> None:
    digest = token_file_digest(token_file_text(TOKEN))
    assert digest == {
        "fingerprint": token_fingerprint(TOKEN),
        "sha256": hashlib.sha256((TOKEN + "\n").encode()).hexdigest(),
    }
    assert len(digest["fingerprint"] or "") == 32


@pytest.mark.parametrize("text", [TOKEN, f"  {TOKEN}\r\n\n", f"\t{TOKEN} "])
def test_digest_reads_the_token_back_as_the_role_does(text: str) -> None:
    # The role reads the head's file back with Jinja's trim (str.strip): the fingerprint is the
    # token's; the sha256 is the one of the text the role would write, so a file written otherwise
    # (these) differs from it and is rewritten.
    digest = token_file_digest(text)
    assert digest["fingerprint"] == token_fingerprint(TOKEN)
    assert digest["sha256"] == hashlib.sha256(token_file_text(TOKEN).encode()).hexdigest()
    assert digest["sha256"] != hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("text", ["", "\n", "  \t\n"])
def test_digest_of_a_file_without_a_token(text: str) -> None:
    assert token_file_digest(text) == {"fingerprint": None, "sha256": None}
