# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The cluster token's file text and fingerprint: the one place they are defined.

Private to the collection (no compatibility promise). Imported on the controller (filters) and on
the hosts (the ray_cluster_deployed module reads the head's token file), so it stays importable on
Python 3.9+ and has no Ansible imports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

# Hex digits of the token's sha256 kept in the containers' label.
FINGERPRINT_LENGTH = 32


def token_fingerprint(token: Any) -> str:
    """The token's fingerprint: the first 32 hex digits of its sha256 (never the token itself)."""
    if not isinstance(token, str) or not token:
        raise ValueError("no token to fingerprint (expected a non-empty string)")
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def token_file_text(token: Any) -> str:
    """The token file's exact text: the token and a newline."""
    if not isinstance(token, str) or not token:
        raise ValueError("no token to write (expected a non-empty string)")
    return f"{token}\n"


def token_file_digest(text: str) -> dict[str, str | None]:
    """A token file's text -> ``fingerprint`` of the token it holds (surrounding whitespace
    stripped, as the collection reads it back) and ``sha256`` of the text the collection would write
    for that token; both ``None`` when it holds none. Never the token."""
    token = text.strip()
    if not token:
        return {"fingerprint": None, "sha256": None}
    return {
        "fingerprint": token_fingerprint(token),
        "sha256": hashlib.sha256(token_file_text(token).encode("utf-8")).hexdigest(),
    }


# The GCS's Redis password derives from the cluster token: sha256 of this prefix and the token, in
# hex. The containers compute it from the token file they mount (GCS_REDIS_PASSWORD_SH, which must
# give the same text); the collection never writes it anywhere.
GCS_REDIS_PASSWORD_PREFIX = "wizardsofts.ray_cluster/gcs-redis/"  # noqa: S105 (a derivation prefix, not a secret)
_BLANKS = str.maketrans("", "", " \t\r\n")


def gcs_redis_password(token: Any) -> str:
    """The GCS Redis password of a cluster token (spaces, tabs and line ends left out, as the
    containers' shell reads the token file)."""
    return _derived(GCS_REDIS_PASSWORD_PREFIX, token, "the GCS Redis password")


# Ray's dashboard logs in to Prometheus as user "ray" with a password derived the same way (the head
# computes it from its token file when it starts: see _compose); Prometheus's web.yml holds its hash.
PROMETHEUS_RAY_USER = "ray"
PROMETHEUS_RAY_PASSWORD_PREFIX = "wizardsofts.ray_cluster/prometheus-ray/"  # noqa: S105 (a derivation prefix, not a secret)


def prometheus_ray_password(token: Any) -> str:
    """The password of Prometheus's user ``ray`` (Ray's dashboard) for a cluster token."""
    return _derived(PROMETHEUS_RAY_PASSWORD_PREFIX, token, "the password of Ray's dashboard at Prometheus")


def _derived(prefix: str, token: Any, what: str) -> str:
    bare = token.translate(_BLANKS) if isinstance(token, str) else ""
    if not bare:
        raise ValueError(f"no token to derive {what} from (expected a non-empty string)")
    return hashlib.sha256(f"{prefix}{bare}".encode()).hexdigest()


# A bcrypt hash of a password, the same every time for the same password (its salt derives from the
# password), so writing it again changes nothing. Prometheus and Alertmanager take bcrypt only.
BCRYPT_COST = 10
_BCRYPT_SALT_CONTEXT = b"wizardsofts.ray_cluster/bcrypt-salt"
_STD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT_B64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def bcrypt_hash(password: Any, cost: int = BCRYPT_COST) -> str:
    """The bcrypt hash (``$2b$``) of ``password`` with a salt derived from it. Needs the ``bcrypt``
    package (the controller's requirements)."""
    if not isinstance(password, str) or not password:
        raise ValueError("no password to hash (expected a non-empty string)")
    try:
        import bcrypt
    except ImportError:
        raise ValueError("the bcrypt Python package is needed on the controller (pip install bcrypt)") from None
    raw = hmac.new(password.encode("utf-8"), _BCRYPT_SALT_CONTEXT, hashlib.sha256).digest()[:16]
    salt = base64.b64encode(raw).decode("ascii").rstrip("=").translate(str.maketrans(_STD_B64, _BCRYPT_B64))
    return bcrypt.hashpw(password.encode("utf-8"), f"$2b${cost:02d}${salt}".encode("ascii")).decode("ascii")


def derived_password_sh(prefix: str, token_path: str) -> str:
    """A POSIX shell expression printing the password derived with ``prefix`` from the token in
    ``token_path`` (``$(...)`` keeps its trailing newline out; the file holds the token and a newline)."""
    return f"$(printf '%s%s' '{prefix}' \"$(tr -d ' \\t\\r\\n' < {token_path})\" | sha256sum | cut -c1-64)"


def gcs_redis_password_sh(token_path: str) -> str:
    """A POSIX shell expression printing :func:`gcs_redis_password` of the token in ``token_path``."""
    return derived_password_sh(GCS_REDIS_PASSWORD_PREFIX, token_path)


def prometheus_ray_password_sh(token_path: str) -> str:
    """A POSIX shell expression printing :func:`prometheus_ray_password` of the token in ``token_path``."""
    return derived_password_sh(PROMETHEUS_RAY_PASSWORD_PREFIX, token_path)


# The logins' record, written beside Prometheus's web.yml (the ray_monitoring role): the bcrypt hashes of the
# logins with the digests of the secrets they were made from (the sha256 of the monitoring password file's
# text, the cluster token's fingerprint). A run whose secrets are those the record names takes the hashes
# from it, from the hosts' one read, instead of reading the secrets and hashing them again. Never a secret.
def login_record_text(password_sha256: str, password_hash: str, token_fingerprint: str = "", ray_password_hash: str = "") -> str:
    """The record's exact text (JSON, one line)."""
    record = {
        "password_sha256": password_sha256,
        "password_hash": password_hash,
        "token_fingerprint": token_fingerprint,
        "ray_password_hash": ray_password_hash,
    }
    return json.dumps(record, sort_keys=True) + "\n"


def login_hashes(record_text: Any, password_sha256: Any, token_fingerprint: Any) -> dict[str, str] | None:
    """The hashes the record holds (``password_hash``, ``ray_password_hash``, ``password_sha256``) when it
    was written for these secrets: ``password_sha256`` (of the password file's text) and
    ``token_fingerprint`` ('' without Ray's dashboard login) as the record names them, hashes of this
    collection's bcrypt cost, Ray's dashboard's exactly when there is a token. Else None (no record, an
    unknown secret, another password or token, a record not written by this collection): decide the
    secrets and hash them."""
    if not record_text or not isinstance(record_text, str) or not password_sha256 or token_fingerprint is None:
        return None
    try:
        record = json.loads(record_text)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("password_sha256") != password_sha256:
        return None
    if record.get("token_fingerprint") != token_fingerprint:
        return None
    prefix = f"$2b${BCRYPT_COST:02d}$"
    password_hash, ray_password_hash = record.get("password_hash"), record.get("ray_password_hash")
    if not isinstance(password_hash, str) or not password_hash.startswith(prefix):
        return None
    if not isinstance(ray_password_hash, str) or ray_password_hash.startswith(prefix) != bool(token_fingerprint):
        return None
    if not token_fingerprint and ray_password_hash:
        return None
    return {"password_hash": password_hash, "ray_password_hash": ray_password_hash, "password_sha256": password_sha256}
