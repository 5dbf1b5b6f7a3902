# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for plugins/module_utils/_token.py (the token file's text, fingerprint and digest; the logins' record)."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import (
    BCRYPT_COST,
    login_hashes,
    login_record_text,
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


# --------------------------------------------------------------------------- the logins' record
SHA = hashlib.sha256(b"secret\n").hexdigest()
FP = token_fingerprint(TOKEN)
HASH = f"$2b${BCRYPT_COST:02d}$" + "a" * 53
RAY_HASH = f"$2b${BCRYPT_COST:02d}$" + "b" * 53
RECORD = login_record_text(SHA, HASH, FP, RAY_HASH)


def test_the_record_holds_the_hashes_and_the_digests_never_a_secret() -> None:
    assert RECORD.endswith("\n") and RECORD.count("\n") == 1
    assert login_hashes(RECORD, SHA, FP) == {"password_hash": HASH, "ray_password_hash": RAY_HASH, "password_sha256": SHA}
    assert TOKEN not in RECORD and "secret" not in RECORD
    # Without a token (no Ray dashboard login): the fingerprint is '' and so is Ray's hash.
    assert login_hashes(login_record_text(SHA, HASH), SHA, "") == {
        "password_hash": HASH,
        "ray_password_hash": "",
        "password_sha256": SHA,
    }


@pytest.mark.parametrize(
    ("record", "sha", "fingerprint"),
    [
        (RECORD, hashlib.sha256(b"other\n").hexdigest(), FP),  # another password in the file
        (RECORD, SHA, token_fingerprint("another-token")),  # another token
        (RECORD, None, FP),  # the password file not read (or none)
        (RECORD, SHA, None),  # the token not known
        (RECORD, SHA, ""),  # no token any more: Ray's hash must go
        (login_record_text(SHA, HASH), SHA, FP),  # a token now: Ray's hash is missing
        ("", SHA, FP),
        (None, SHA, FP),
        ("not json", SHA, FP),
        ("[1, 2]", SHA, FP),
        (login_record_text(SHA, "$2b$04$" + "a" * 53, FP, RAY_HASH), SHA, FP),  # another bcrypt cost
        (login_record_text(SHA, "plain", FP, RAY_HASH), SHA, FP),  # not a hash
        (login_record_text(SHA, HASH, FP, ""), SHA, FP),
        (login_record_text(SHA, HASH, "", RAY_HASH), SHA, ""),
    ],
)
def test_a_record_for_other_secrets_or_not_this_collection_s_gives_nothing(
    record: object, sha: object, fingerprint: object
) -> None:
    assert login_hashes(record, sha, fingerprint) is None
