# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The Ray image's ``archive`` method: the image ID in a ``docker save`` archive, the archive's name.

Private to wizardsofts.ray_cluster. Pure functions, no Ansible imports; errors are ``ValueError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

# manifest.json's ``Config``: ``<id>.json`` (the classic docker save layout) or
# ``blobs/sha256/<id>`` (the OCI layout Docker 25 and later writes).
_CONFIG_RE = re.compile(r"^(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?$")


def image_id_from_manifest(manifest: Any) -> str:
    """The ID (``sha256:<hex>``) of the first image of a ``docker save`` archive's ``manifest.json``."""
    try:
        entries = json.loads(manifest) if isinstance(manifest, (str, bytes)) else manifest
    except ValueError:
        raise ValueError(f"manifest.json is not JSON: {str(manifest)[:80]!r}") from None
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        raise ValueError(f"manifest.json lists no image: {str(manifest)[:80]!r}")
    config = str(entries[0].get("Config", ""))
    match = _CONFIG_RE.match(config)
    if not match:
        raise ValueError(f"manifest.json: the first image's Config is {config!r}, not an image ID")
    return f"sha256:{match.group(1)}"


def archive_file(image: str, image_id: str, archive_dir: str, archive_path: str = "") -> str:
    """Where the image's archive is on the controller: ``archive_path`` if given, else a name in ``archive_dir``.

    The name holds the image name (``/`` and ``:`` made ``_``) and the ID's first 12 hex digits,
    so another build of the same tag gets another archive.
    """
    if archive_path:
        return archive_path
    digest = str(image_id).removeprefix("sha256:")
    if not re.fullmatch(r"[0-9a-f]{12,64}", digest):
        raise ValueError(f"image ID {image_id!r}: expected sha256:<hex>")
    if not image:
        raise ValueError("image: expected the image's name, got an empty value")
    return f"{archive_dir}/{re.sub(r'[/:]', '_', image)}-{digest[:12]}.tar"


# An archive's name as archive_file makes it: the image name's part, then the ID's 12 hex digits.
_ARCHIVE_RE = re.compile(r"^(.+)-[0-9a-f]{12}\.tar$")


def other_archives(archive: str, paths: list[str]) -> list[str]:
    """Of ``paths`` (the archive directory's files), the archives :func:`archive_file` made for other
    builds of ``archive``'s image (same name, another ID), sorted: what the role removes once
    ``archive`` is the one shipped. Another image's archives (another name) are never among them."""
    match = _ARCHIVE_RE.match(archive)
    if not match:
        raise ValueError(f"archive {archive!r}: not a name archive_file makes (<image>-<12 hex digits>.tar)")
    stem = match.group(1)
    return sorted(path for path in paths if path != archive and (m := _ARCHIVE_RE.match(path)) and m.group(1) == stem)
