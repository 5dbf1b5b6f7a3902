# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""What a host has now, read in one module run: paths, Debian packages, systemd units, UFW, Docker.

Private to the collection (no compatibility promise). Runs on each host (the ray_cluster_deployed
module), so it stays importable on Python 3.9+ (``from __future__ import annotations``, no 3.10+
syntax at run time). Pure functions with no Ansible imports: commands go through a ``run(argv) ->
(rc, stdout, stderr)`` callable and executables are found with a ``which(name) -> path or None``
callable, both passed in by the module (tests pass fakes). Errors are ``ValueError`` naming the
path or the command and the reason.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import stat as stat_mod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import UFW_FILES, UFW_LOADED_CHAIN
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import token_file_digest

if TYPE_CHECKING:
    Runner = Callable[[list[str]], tuple[int, str, str]]
    Which = Callable[[str], "str | None"]

# dpkg-query expands the \t and \n escapes itself.
DPKG_FORMAT = r"${Package}\t${db:Status-Abbrev}\t${Version}\n"
SERVICE_PROPERTIES = "UnitFileState,ActiveState"
MISSING_STAT: dict[str, Any] = {"exists": False, "type": None, "mode": None, "owner": None, "group": None, "sha256": None}
_CHUNK = 1 << 20


def _unique(names: Iterable[str]) -> list[str]:
    """The names in their order, each once."""
    return list(dict.fromkeys(names))


def _last_line(text: str) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else "no output"


def _command_error(what: str, rc: int, stdout: str, stderr: str) -> ValueError:
    return ValueError(f"{what} failed (rc={rc}): {_last_line(stderr or stdout)}")


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def read_files(paths: Iterable[str]) -> dict[str, str | None]:
    """Each path's text, or ``None`` when it does not exist (a fresh host has no compose file yet)."""
    result: dict[str, str | None] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                result[path] = handle.read()
        except FileNotFoundError:
            result[path] = None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text file (not UTF-8)") from None
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    return result


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stat_path(path: str) -> dict[str, Any]:
    """One path as it is now, symlinks followed: ``exists``, ``type`` (``file``, ``directory``,
    ``other``), ``mode`` (``"0644"``), ``owner``, ``group`` and, for a regular file, ``sha256``.

    A missing path (or a dangling link) gives :data:`MISSING_STAT`; one that cannot be read raises.
    """
    if not os.path.isabs(path):
        raise ValueError(f"{path}: not an absolute path")
    try:
        st = os.stat(path)
        kind = "file" if stat_mod.S_ISREG(st.st_mode) else "directory" if stat_mod.S_ISDIR(st.st_mode) else "other"
        digest = _sha256(path) if kind == "file" else None
    except (FileNotFoundError, NotADirectoryError):
        return dict(MISSING_STAT)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    return {
        "exists": True,
        "type": kind,
        "mode": f"{stat_mod.S_IMODE(st.st_mode):04o}",
        "owner": _owner(st.st_uid),
        "group": _group(st.st_gid),
        "sha256": digest,
    }


def stat_paths(paths: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each path to :func:`stat_path`."""
    return {path: stat_path(path) for path in paths}


# --------------------------------------------------------------------------------------------
# Debian packages
# --------------------------------------------------------------------------------------------


def packages_argv(dpkg_query: str, names: Iterable[str]) -> list[str]:
    """One ``dpkg-query`` call for all the names: package, status abbreviation and version per line."""
    return [dpkg_query, "-W", f"-f={DPKG_FORMAT}", *_unique(names)]


def _base(name: str) -> str:
    """A package name without its architecture (``libc6:amd64`` -> ``libc6``)."""
    return name.split(":", 1)[0]


def parse_packages(names: Iterable[str], stdout: str) -> dict[str, str | None]:
    """Each asked name to its installed version, or ``None`` when dpkg does not list it as installed.

    Installed means the status letter (the second of ``${db:Status-Abbrev}``) is ``i``: ``ii``, and
    ``hi`` for a held package. ``rc`` (configuration files left), ``un`` and unknown names are
    ``None``. Names compare without their architecture, whichever side carries it.
    """
    installed: dict[str, str] = {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0]:
            continue
        package, abbrev, version = fields
        if len(abbrev) >= 2 and abbrev[1] == "i" and version:
            installed.setdefault(_base(package), version)
    return {name: installed.get(_base(name)) for name in names}


def read_packages(run: Runner, dpkg_query: str | None, names: Iterable[str]) -> dict[str, str | None]:
    """The packages' installed versions (see :func:`parse_packages`); no names, no call.

    ``dpkg-query`` exits 1 when some names are unknown and still lists the others; any other
    failure raises.
    """
    names = list(names)
    if not names:
        return {}
    if not dpkg_query:
        raise ValueError("dpkg-query not found (the packages option needs a Debian host)")
    rc, stdout, stderr = run(packages_argv(dpkg_query, names))
    if rc not in (0, 1):
        raise _command_error("dpkg-query", rc, stdout, stderr)
    return parse_packages(names, stdout)


# --------------------------------------------------------------------------------------------
# systemd units
# --------------------------------------------------------------------------------------------


def service_argv(systemctl: str, name: str) -> list[str]:
    return [systemctl, "show", name, f"--property={SERVICE_PROPERTIES}"]


def parse_service(stdout: str) -> dict[str, bool]:
    """``systemctl show``'s ``Key=Value`` lines to ``enabled`` (``UnitFileState=enabled``) and
    ``active`` (``ActiveState=active``); a unit that does not exist has neither."""
    properties = dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    return {
        "enabled": properties.get("UnitFileState", "").strip() == "enabled",
        "active": properties.get("ActiveState", "").strip() == "active",
    }


def read_services(run: Runner, systemctl: str | None, names: Iterable[str]) -> dict[str, dict[str, bool]]:
    """Each unit to :func:`parse_service`, one ``systemctl show`` per unit; a failed call raises."""
    names = list(names)
    if not names:
        return {}
    if not systemctl:
        raise ValueError("systemctl not found (the services option needs systemd)")
    result: dict[str, dict[str, bool]] = {}
    for name in names:
        rc, stdout, stderr = run(service_argv(systemctl, name))
        if rc != 0:
            raise _command_error(f"systemctl show {name}", rc, stdout, stderr)
        result[name] = parse_service(stdout)
    return result


# --------------------------------------------------------------------------------------------
# UFW
# --------------------------------------------------------------------------------------------


def read_ufw(run: Runner, ufw: str | None, iptables: str | None, files: dict[str, str] | None = None) -> dict[str, Any] | None:
    """UFW's files (``files``, by default :data:`UFW_FILES`: key -> path; read as key -> text, ``None``
    for a missing one) and whether its chains are loaded (``iptables -L`` of
    :data:`UFW_LOADED_CHAIN`; ``None`` without iptables): what ``ufw show added`` and ``ufw status
    verbose`` read, without starting UFW's Python twice. ``None`` without ufw."""
    if not ufw:
        return None
    loaded = None
    if iptables:
        rc, _out, _err = run([iptables, "-n", "-L", UFW_LOADED_CHAIN])
        loaded = rc == 0
    paths = files or UFW_FILES
    texts = read_files(paths.values())
    return {"files": {key: texts[path] for key, path in paths.items()}, "loaded": loaded}


# --------------------------------------------------------------------------------------------
# Docker
# --------------------------------------------------------------------------------------------


def info_argv(docker: str) -> list[str]:
    return [docker, "info", "--format", "{{json .}}"]


def image_argv(docker: str, name: str) -> list[str]:
    return [docker, "image", "inspect", "--format", "{{.Id}}", name]


def image_id(run: Runner, docker: str, name: str) -> str | None:
    """The id of the local image ``name`` (``sha256:...``), or ``None`` when the engine has no such
    image; raises when the engine cannot say (no daemon, no permission)."""
    rc, stdout, stderr = run(image_argv(docker, name))
    if rc == 0 and stdout.strip():
        return stdout.strip()
    if rc != 0 and "no such image" in (stderr or "").lower():
        return None
    raise _command_error(f"docker image inspect {name}", rc, stdout, stderr)


def containers_argv(docker: str, label: str) -> list[str]:
    return [docker, "ps", "-a", "-q", "--no-trunc", "--filter", f"label={label}"]


def parse_docker_info(rc: int, stdout: str, stderr: str) -> tuple[dict[str, Any] | None, str]:
    """``docker info``'s JSON and ``''``, or ``None`` and why the daemon could not be read.

    A client that cannot reach the daemon may still exit 0 and print its own half of the JSON,
    with the reason in ``ServerErrors``: that counts as failed too.
    """
    reason = (stderr or "").strip()
    if rc != 0:
        return None, reason or f"docker info failed (rc={rc}): {_last_line(stdout)}"
    try:
        info = json.loads(stdout)
    except ValueError:
        return None, reason or f"docker info printed no JSON: {_last_line(stdout)}"
    if not isinstance(info, dict):
        return None, reason or "docker info printed no JSON object"
    server_errors = info.get("ServerErrors") or []
    if server_errors:
        return None, reason or "; ".join(str(error) for error in server_errors)
    return info, ""


# What the collection reads of ``docker info`` and ``docker inspect`` (its judges and verification):
# the module returns only these, because every later task of the run carries the result.
INFO_KEYS = ("ID", "Name", "ServerVersion", "Driver", "CgroupDriver", "CgroupVersion", "Containers", "ContainersRunning")
STATE_KEYS = ("Status", "Running", "Restarting", "OOMKilled", "ExitCode", "StartedAt", "FinishedAt")
HOST_CONFIG_KEYS = ("NetworkMode", "RestartPolicy", "NanoCpus", "Memory", "MemoryReservation", "ShmSize")
COMPOSE_LABELS = ("com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.config-hash")


def _pick(source: Any, keys: Iterable[str]) -> dict[str, Any]:
    source = source if isinstance(source, dict) else {}
    return {key: source[key] for key in keys if key in source}


def digest_info(info: dict[str, Any]) -> dict[str, Any]:
    """``docker info``'s JSON cut to :data:`INFO_KEYS` and the client's version and plugins
    (name and version each: Compose v2 is one)."""
    digest = _pick(info, INFO_KEYS)
    client = info.get("ClientInfo")
    if isinstance(client, dict):
        digest["ClientInfo"] = {
            "Version": client.get("Version"),
            "Plugins": [_pick(plugin, ("Name", "Version")) for plugin in client.get("Plugins") or [] if isinstance(plugin, dict)],
        }
    return digest


def digest_container(container: dict[str, Any], label_prefix: str) -> dict[str, Any]:
    """One ``docker inspect`` entry cut to what the collection reads: ``Id``, ``Name``, ``Image``,
    ``Created``, ``RestartCount``; ``State`` (:data:`STATE_KEYS` and the health status);
    ``Config.Image`` and the labels of the cluster (``label_prefix``) and :data:`COMPOSE_LABELS`; ``HostConfig``
    (:data:`HOST_CONFIG_KEYS`). The image's own labels and the health log are left out."""
    digest = _pick(container, ("Id", "Name", "Image", "Created", "RestartCount"))
    state = container.get("State") if isinstance(container.get("State"), dict) else {}
    digest["State"] = _pick(state, STATE_KEYS)
    if isinstance(state.get("Health"), dict):
        digest["State"]["Health"] = _pick(state["Health"], ("Status", "FailingStreak"))
    config = container.get("Config") if isinstance(container.get("Config"), dict) else {}
    labels = config.get("Labels") if isinstance(config.get("Labels"), dict) else {}
    digest["Config"] = {
        "Image": config.get("Image"),
        "Labels": {
            key: value
            for key, value in labels.items()
            if key in COMPOSE_LABELS or (label_prefix and key.startswith(label_prefix))
        },
    }
    digest["HostConfig"] = _pick(container.get("HostConfig"), HOST_CONFIG_KEYS)
    return digest


def parse_inspect(stdout: str) -> list[dict[str, Any]]:
    """``docker inspect``'s JSON list; raises when it is not one."""
    try:
        entries = json.loads(stdout or "[]")
    except ValueError:
        raise ValueError(f"docker inspect printed no JSON: {_last_line(stdout)}") from None
    if not isinstance(entries, list):
        raise ValueError("docker inspect printed no JSON list")
    return entries


def read_containers(run: Runner, docker: str, label: str) -> list[dict[str, Any]]:
    """``docker inspect`` of every container, running or not, with the label (cut by
    :func:`digest_container`, keeping the labels that share the label's prefix: ``a.b.cluster`` keeps
    ``a.b.*``); no label, none.

    A container removed between the listing and the inspection is left out (``docker inspect``
    exits 1 but still lists the others).
    """
    if not label:
        return []
    rc, stdout, stderr = run(containers_argv(docker, label))
    if rc != 0:
        raise _command_error("docker ps", rc, stdout, stderr)
    ids = _unique(line.strip() for line in stdout.splitlines() if line.strip())
    if not ids:
        return []
    rc, stdout, stderr = run([docker, "inspect", *ids])
    if rc != 0 and not stdout.strip().startswith("["):
        raise _command_error("docker inspect", rc, stdout, stderr)
    prefix = label.rsplit(".", 1)[0] + "." if "." in label else label
    return [digest_container(container, prefix) for container in parse_inspect(stdout) if isinstance(container, dict)]


def read_docker(run: Runner, docker: str | None, images: Iterable[str] = (), container_label: str = "") -> dict[str, Any] | None:
    """``info``, ``error``, ``images`` (name to image id, ``None`` when absent) and ``containers``
    (see :func:`read_containers`); ``None`` without docker.

    When the daemon cannot be read, every image is ``None`` and there are no containers, without
    asking further.
    """
    if not docker:
        return None
    images = _unique(images)
    info, error = parse_docker_info(*run(info_argv(docker)))
    if info is None:
        return {"info": None, "error": error, "images": dict.fromkeys(images), "containers": []}
    found: dict[str, str | None] = {}
    for name in images:
        rc, stdout, _stderr = run(image_argv(docker, name))
        found[name] = (stdout.strip() or None) if rc == 0 else None
    return {"info": digest_info(info), "error": "", "images": found, "containers": read_containers(run, docker, container_label)}


# --------------------------------------------------------------------------------------------
# The cluster token's file
# --------------------------------------------------------------------------------------------


def read_token_file(path: str) -> dict[str, str | None]:
    """The token file at ``path`` digested by :func:`token_file_digest` (never the token); both
    values ``None`` when the file does not exist. Raises when it cannot be read."""
    if not os.path.isabs(path):
        raise ValueError(f"{path}: expected an absolute path")
    try:
        with open(path, encoding="utf-8") as handle:
            return token_file_digest(handle.read())
    except FileNotFoundError:
        return {"fingerprint": None, "sha256": None}
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the token file ({exc})") from None


# --------------------------------------------------------------------------------------------
# All of it
# --------------------------------------------------------------------------------------------


def probe(
    run: Runner,
    which: Which,
    *,
    stat: Iterable[str] | None = None,
    packages: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
    ufw: bool = False,
    docker: bool = False,
    images: Iterable[str] = (),
    container_label: str = "",
    token_file: str = "",
) -> dict[str, Any]:
    """The sections asked for, each under its own key (``stats``, ``packages``, ``services``,
    ``ufw``, ``docker``, ``token``); a list given as ``None``, a flag left false or an empty
    ``token_file`` leaves its key out.

    Executables are looked up only for the sections that need them.
    """
    result: dict[str, Any] = {}
    if stat is not None:
        result["stats"] = stat_paths(stat)
    if packages is not None:
        packages = list(packages)
        result["packages"] = read_packages(run, which("dpkg-query") if packages else None, packages)
    if services is not None:
        services = list(services)
        result["services"] = read_services(run, which("systemctl") if services else None, services)
    if ufw:
        ufw_path = which("ufw")
        result["ufw"] = read_ufw(run, ufw_path, which("iptables") if ufw_path else None)
    if docker:
        result["docker"] = read_docker(run, which("docker"), images, container_label)
    if token_file:
        result["token"] = read_token_file(token_file)
    return result
