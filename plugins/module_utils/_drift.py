# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Does a host already match the plan? One judge per role, over one read of the host.

The ``ray_cluster_deployed`` module reads a host once (files, packages, services, UFW, Docker);
each judge here says, for one role, what on the host differs from what that role would make
it. An empty list means the role would change nothing there, so a rerun can leave the host
alone. A judge that cannot tell (something it does not read, a read that failed) says so: a
host is only left alone when every judge has proven it matches.

Private to wizardsofts.ray_cluster. Pure functions, no Ansible imports; errors are ``ValueError``.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._celery_files import (
    celery_files,
    celery_services,
    host_secrets,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import compose_content, compose_services
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._firewall import (
    parse_ufw_added,
    parse_ufw_files,
    parse_ufw_status,
    ufw_rule_diff,
)
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._lifecycle import engine_problems
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import monitoring_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._node_logs import node_log_files

# The monitoring files: root's, readable by the monitoring image's group (_monitoring.MONITORING_UID).
_MONITORING_FILE_MODE = "0640"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_drift(
    probe: Mapping[str, Any],
    path: str,
    *,
    kind: str = "file",
    mode: str,
    sha256: str | None = None,
    owner: str = "root",
    group: str | None = None,
) -> list[str]:
    """What differs between the probe's stat of ``path`` and a ``kind`` (file or directory) owned by
    ``owner`` (user, and group unless ``group`` is given) with ``mode`` and, for a file, content of ``sha256``."""
    group = owner if group is None else group
    stat = (probe.get("stats") or {}).get(path)
    if stat is None:
        return [f"{path}: not read"]
    if not stat.get("exists"):
        return [f"{path}: missing"]
    problems = []
    if stat.get("type") != kind:
        problems.append(f"{path}: a {stat.get('type')}, not a {kind}")
    if stat.get("mode") != mode:
        problems.append(f"{path}: mode {stat.get('mode')}, not {mode}")
    if (stat.get("owner"), stat.get("group")) != (owner, group):
        problems.append(f"{path}: owned by {stat.get('owner')}:{stat.get('group')}, not {owner}:{group}")
    if sha256 is not None and stat.get("sha256") != sha256:
        problems.append(f"{path}: content differs")
    return problems


def files_to_write(probe: Mapping[str, Any], files: Mapping[str, str], mode: str, group: str | None = None) -> dict[str, str]:
    """Of ``files`` (path -> text), those a role must write: the ones the probe did not see as they
    would be written (the text, ``mode``, owned by root and ``group``). Every file when the host's
    files were not read (no probe), so a role run without site.yml's read writes them all."""
    if not probe or probe.get("stats") is None:
        return dict(files)
    return {
        path: text for path, text in files.items() if file_drift(probe, path, mode=mode, sha256=sha256_text(text), group=group)
    }


def packages_drift(probe: Mapping[str, Any], names: list[str]) -> list[str]:
    seen = probe.get("packages")
    if seen is None:
        return ["packages: not read"]
    return [f"package {name}: not installed" for name in names if not seen.get(name)]


def ufw_drift(
    probe: Mapping[str, Any], firewall: list[dict[str, Any]], comment_prefix: str, logging: str, remove_stale: bool
) -> list[str]:
    """What the ufw role would change: UFW missing (no ``ufw`` command), rules to add (and stale ones to delete), the
    default policies, the logging level, UFW being off."""
    ufw = probe.get("ufw")
    if ufw is None:
        return ["ufw: not installed"]
    if "files" in ufw:  # ray_cluster_deployed: UFW's files
        if ufw["loaded"] is None or ufw["files"].get("conf") is None or ufw["files"].get("defaults") is None:
            return ["ufw: its rules or state could not be read"]
        rules, state = parse_ufw_files(ufw["files"], ufw["loaded"])
    else:  # the ufw role: `ufw show added` and `ufw status verbose` as printed
        if ufw.get("added") is None or ufw.get("status") is None:
            return ["ufw: its rules or state could not be read"]
        rules = parse_ufw_added(ufw["added"]) if ufw["added"].strip() else []
        state = parse_ufw_status(ufw["status"])
    problems = []
    diff = ufw_rule_diff(rules, firewall, comment_prefix)
    if diff["add"]:
        problems.append(f"ufw: {len(diff['add'])} planned rule(s) missing")
    if remove_stale and diff["delete"]:
        problems.append(f"ufw: {len(diff['delete'])} rule(s) the plan no longer has")
    if not state["active"]:
        problems.append("ufw: inactive")
    for direction, policy in (("incoming", "deny"), ("outgoing", "allow")):
        if state.get(direction) != policy:
            problems.append(f"ufw: default {direction} is {state.get(direction)}, not {policy}")
    if state.get("logging") != logging:
        problems.append(f"ufw: logging is {state.get('logging')}, not {logging}")
    return problems


def docker_drift(
    probe: Mapping[str, Any], packages: list[str], daemon_json: str, min_engine: str, min_compose: str, daemon_json_path: str
) -> list[str]:
    """What the docker_engine role would change: its packages, the daemon options file at
    ``daemon_json_path`` (the exact text it writes) and its directory, the service enabled and
    running, and an engine recent enough."""
    problems = packages_drift(probe, packages)
    problems += file_drift(probe, posixpath.dirname(daemon_json_path), kind="directory", mode="0755")
    problems += file_drift(probe, daemon_json_path, mode="0644", sha256=sha256_text(daemon_json))
    service = (probe.get("services") or {}).get("docker")
    if not service or not service.get("enabled") or not service.get("active"):
        problems.append(f"docker service: {service or 'not read'} (wanted enabled and active)")
    docker = probe.get("docker")
    if not docker or docker.get("info") is None:
        problems.append(f"docker: not answering ({(docker or {}).get('error', 'not installed')})".strip())
    else:
        problems += engine_problems(docker["info"], min_engine, min_compose)
    return problems


def image_drift(probe: Mapping[str, Any], image: str, image_id: str = "") -> list[str]:
    """What the ray_image role would change: the image missing, or (``image_id`` given: the archive
    method ships one exact image) a different image under the name."""
    docker = probe.get("docker")
    if not docker or docker.get("info") is None:
        return ["docker: not answering, the image cannot be read"]
    seen = (docker.get("images") or {}).get(image)
    if not seen:
        return [f"image {image}: missing"]
    if image_id and seen != image_id:
        return [f"image {image}: {seen[:19]}, not {image_id[:19]}"]
    return []


def _container_drift(container: Mapping[str, Any] | None, name: str, spec_label: str, spec: str) -> list[str]:
    if container is None:
        return [f"{name}: no container"]
    state = container.get("State") or {}
    labels = (container.get("Config") or {}).get("Labels") or {}
    if not state.get("Running") or state.get("Restarting"):
        return [f"{name}: {state.get('Status', 'not running')}"]
    problems = []
    health = (state.get("Health") or {}).get("Status")
    if health not in (None, "healthy"):
        problems.append(f"{name}: {health}")
    if labels.get(spec_label) != spec:
        problems.append(f"{name}: created from another spec")
    return problems


def compose_drift(
    probe: Mapping[str, Any],
    plan: Mapping[str, Any],
    host: str,
    kind: str,
    token_fingerprint: str = "",
    token_sha256: str = "",
    files_only: bool = False,
) -> list[str]:
    """What the ray_compose role (one of the host's projects) would change: the token file, the
    compose file (the exact text it writes) and its directory, the head's GCS store directory, and
    the project's containers (each running, healthy and created from the planned spec; none the
    plan does not have). ``files_only``: all but the containers (what the role writes before it
    brings the project up)."""
    cluster = plan["cluster"]
    project = plan["hosts"][host]["projects"][kind]
    wanted = bool(project["services"])
    deployed = (probe.get("deployed") or {}).get(project["file"], "not read")
    problems: list[str] = []
    if wanted and cluster["auth_mode"] == "token":
        problems += file_drift(probe, cluster["auth_token_file"], mode="0600", sha256=token_sha256)
    if wanted:
        content = compose_content(plan, host, kind, token_fingerprint)
        if deployed != content:
            problems.append(f"{project['file']}: {'missing' if deployed is None else 'differs from the plan'}")
        problems += file_drift(probe, project["dir"], kind="directory", mode="0755")
        problems += file_drift(probe, project["file"], mode="0644")
        if kind == "head" and cluster["gcs_storage_path"]:
            problems += file_drift(probe, cluster["gcs_storage_path"], kind="directory", mode="0700")
        problems += node_logs_drift(probe, plan, host, kind)
    elif deployed is not None:
        problems.append(f"{project['file']}: the plan has no {kind} project here any more")
    if files_only:
        return problems
    docker = probe.get("docker")
    if not docker or docker.get("info") is None:
        return [*problems, "docker: not answering, the containers cannot be read"] if wanted else problems
    prefix = cluster["label_prefix"]
    containers = _project_containers(docker, project["name"])
    for name, service in compose_services(plan, host, kind, token_fingerprint).items():
        problems += _container_drift(containers.get(name), name, f"{prefix}.spec", service["labels"][f"{prefix}.spec"])
    problems += [f"{name}: not in the plan" for name in sorted(set(containers) - set(project["services"]))]
    return problems


def _project_containers(docker: Mapping[str, Any], project: str) -> dict[str, Mapping[str, Any]]:
    """The read containers of one compose project, by name."""
    return {
        str(c.get("Name", "")).lstrip("/"): c
        for c in docker.get("containers") or []
        if ((c.get("Config") or {}).get("Labels") or {}).get("com.docker.compose.project") == project
    }


def recreated_containers(
    probe: Mapping[str, Any], plan: Mapping[str, Any], host: str, kind: str, token_fingerprint: str = ""
) -> list[str]:
    """The running containers of one of the host's projects that the ray_compose role would recreate:
    those the plan still has, created from another spec (a new image tag, token, size or option).
    site.yml stops such workers before it recreates the head, so they do not restart in a loop
    against a head they can no longer join while it starts."""
    docker = probe.get("docker") or {}
    if docker.get("info") is None:
        return []
    project = plan["hosts"][host]["projects"][kind]
    containers = _project_containers(docker, project["name"])
    label = f"{plan['cluster']['label_prefix']}.spec"
    return [
        name
        for name, service in compose_services(dict(plan), host, kind, token_fingerprint).items()
        if name in containers
        and ((containers[name].get("State") or {}).get("Running"))
        and ((containers[name].get("Config") or {}).get("Labels") or {}).get(label) != service["labels"][label]
    ]


def node_logs_drift(probe: Mapping[str, Any], plan: Mapping[str, Any], host: str, kind: str) -> list[str]:
    """What the ray_compose role would change in the logs of one of the host's projects: the cluster's log
    directory (root's only), each of the project's nodes' directories (any container user may write them,
    as Ray's /tmp/ray), the pruner and its units (the exact text) and its timer enabled and active."""
    role = "head" if kind == "head" else "worker"
    names = [node["name"] for node in plan["hosts"][host]["nodes"] if node["role"] == role]
    if not names:
        return []
    logs = plan["cluster"]["node_logs"]
    dirs = plan["hosts"][host]["node_log_dirs"]
    problems = file_drift(probe, logs["dir"], kind="directory", mode="0700")
    for name in names:
        problems += file_drift(probe, dirs[name], kind="directory", mode="0777")
    problems += file_drift(probe, posixpath.dirname(logs["prune_script"]), kind="directory", mode="0755")
    for path, text in node_log_files(plan, host).items():
        problems += file_drift(probe, path, mode="0644", sha256=sha256_text(text))
    timer = f"{logs['prune_unit']}.timer"
    state = (probe.get("services") or {}).get(timer)
    if state is None:
        problems.append(f"{timer}: not read")
    elif not (state.get("enabled") and state.get("active")):
        problems.append(f"{timer}: not enabled and running")
    return problems


def monitoring_drift(
    probe: Mapping[str, Any],
    plan: Mapping[str, Any],
    host: str,
    password_hash: str,
    password_sha256: str,
    image_id: str = "",
    ray_password_hash: str = "",
    receiver_cert: str = "",
    token_fingerprint: str = "",
) -> list[str]:
    """What the ray_monitoring role would change on ``host``: each file it writes (with the login's
    ``password_hash``, Ray's dashboard's ``ray_password_hash``, the log receiver's certificate
    ``receiver_cert`` and, in the logins' record, ``password_sha256`` and the token's
    ``token_fingerprint``), the password file on the monitoring host (``password_sha256``: the sha256 of
    the text it must hold), with log aggregation the receiver's key and store there, the image
    (``image_id``: see :func:`image_drift`) and each of the host's monitoring containers running.
    Nothing when monitoring is off."""
    monitoring = plan["cluster"]["monitoring"]
    if not monitoring:
        return []
    group = str(monitoring["uid"])
    problems = []
    files = monitoring_files(
        dict(plan), host, password_hash, ray_password_hash, receiver_cert, password_sha256, token_fingerprint
    )
    for path, text in files.items():
        problems += file_drift(probe, path, mode=_MONITORING_FILE_MODE, sha256=sha256_text(text), group=group)
    logs = monitoring["logs"]
    if logs and not receiver_cert:
        problems.append(f"{logs['shipper']['receiver_cert']}: the receiver's certificate is not known yet")
    services = list(monitoring["exporters_project"]["services"])
    if host == monitoring["host"]:
        problems += file_drift(probe, monitoring["password_file"], mode="0640", sha256=password_sha256, group=group)
        if logs:
            problems += file_drift(probe, logs["receiver"]["key"], mode="0600")
            problems += file_drift(probe, logs["store"]["dir"], kind="directory", mode="0750")
        services += monitoring["project"]["services"]
    problems += image_drift(probe, monitoring["image"], image_id)
    containers = {str(c.get("Name", "")).lstrip("/"): c for c in ((probe.get("docker") or {}).get("containers") or [])}
    for name in services:
        container = containers.get(name)
        state = (container or {}).get("State") or {}
        if not state.get("Running"):
            problems.append(f"{name}: {state.get('Status', 'no container')}")
    return problems


# The celery role's files and secrets: root's, readable by the Celery image's group; the broker's data
# the Celery user's own.
CELERY_FILE_MODE = "0640"
CELERY_DIR_MODE = "0750"
CELERY_DATA_MODE = "0700"


def celery_images(plan: Mapping[str, Any], host: str) -> list[str]:
    """The images a host's Celery containers run: the Celery image (the broker), the app's (workers, Flower)."""
    celery, part = plan["cluster"].get("celery") or {}, plan["hosts"][host].get("celery") or {}
    if not celery or not part["project"]["services"]:
        return []
    return [celery["image"]] * part["broker"] + [celery["app_image"]] * bool(part["workers"] or part["flower"])


def celery_drift(
    probe: Mapping[str, Any],
    plan: Mapping[str, Any],
    host: str,
    secrets_sha256: Mapping[str, str],
    image_ids: Mapping[str, str] | None = None,
) -> list[str]:
    """What the celery role would change on ``host``: its files (the compose file, the launcher's
    configuration), the secrets its containers read (``secrets_sha256``: name -> the sha256 of the text
    the file must hold), the broker's data directory, the images (``image_ids``: image -> the exact ID
    the archive method ships, else any image under the name) and the project's containers (each running,
    healthy and created from the planned spec; none the plan does not have, also where the plan has no
    Celery container any more)."""
    celery, part = plan["cluster"].get("celery") or {}, plan["hosts"][host]["celery"]
    problems: list[str] = []
    docker = probe.get("docker")
    if not docker or docker.get("info") is None:
        return ["docker: not answering, the containers cannot be read"] if part["project"]["services"] else []
    prefix = plan["cluster"]["label_prefix"]
    containers = _project_containers(docker, part["project"]["name"])
    if not celery or not part["project"]["services"]:
        return [f"{container}: not in the plan" for container in sorted(containers)]
    group = str(celery["uid"])
    for path, text in celery_files(dict(plan), host).items():
        problems += file_drift(probe, path, mode=CELERY_FILE_MODE, sha256=sha256_text(text), group=group)
    for secret in host_secrets(dict(plan), host):
        path = f"{celery['secrets_dir']}/{secret}"
        problems += file_drift(probe, path, mode=CELERY_FILE_MODE, sha256=secrets_sha256.get(secret, "unknown"), group=group)
    if part["broker"]:
        data = celery["broker"]["data_dir"]
        problems += file_drift(probe, data, kind="directory", mode=CELERY_DATA_MODE, owner=group, group=group)
    for image in celery_images(plan, host):
        problems += image_drift(probe, image, (image_ids or {}).get(image, ""))
    for container, service in celery_services(dict(plan), host).items():
        problems += _container_drift(containers.get(container), container, f"{prefix}.spec", service["labels"][f"{prefix}.spec"])
    problems += [f"{container}: not in the plan" for container in sorted(set(containers) - set(part["project"]["services"]))]
    return problems
