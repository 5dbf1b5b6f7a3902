# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The log aggregation of the plan rendered: rsyslog's configuration for each host's shipper and for
the receiver on the monitoring host, the receiver's store pruner, and their compose services.

Private to the collection (no compatibility promise). Pure mappings from ``cluster.monitoring.logs``
and ``cluster.node_logs``: no number is computed here; the same plan always gives byte-identical text.

Why rsyslog (of the distribution's rsyslog, syslog-ng and systemd-journal-remote): its ``imfile``
follows Ray's files by pattern, through Ray's rotation, keeping its place in each in a state file; RELP
(``omrelp``/``imrelp``) acknowledges every message, so nothing sent is lost when the receiver stops, and
a disk-assisted queue keeps what is not acknowledged across the shipper's restarts; both speak TLS
(OpenSSL). syslog-ng has no acknowledged transport in its free edition, and systemd-journal-upload
ships the journal only (Ray's files are not in it).

What travels: one RFC 5424 message per line, its text a JSON object (after rsyslog's ``@cee:`` cookie)
with the cluster, host, node, file (``<session>/<name>``, or ``container`` for the container's output),
the time the line was read (the container output's own time) and the line. The receiver appends each to
``<store>/<host>/<node>.log`` as ``<time> <file> <line>``, rotates a node's file at the plan's size and
prunes the rotated ones beyond the plan's limit and age.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._compose import (
    MANAGED_HEADER,
    NODE_NAME_ENV,
    stack_service,
)

# Inside the containers.
CONFIG_PATH = "/etc/ray-logs"
STATE_PATH = "/var/lib/rsyslog"
NODE_LOGS_PATH = "/ray-logs"
CONTAINERS_PATH = "/docker-containers"
STORE_PATH = "/store"
# Ray's files the shipper follows: its output and logs and their rotated names (``raylet.out.1``,
# ``agent.1.log``): imfile knows a file by its inode, so it reads a file it has not finished after Ray
# renames it, from where it was, without reading it again.
RAY_FILE_PATTERNS = ("*.out*", "*.err*", "*.log")
# How often the receiver's pruner also runs on its own (age, and rotated files left over).
STORE_PRUNE_INTERVAL_S = 60


def _header() -> str:
    return MANAGED_HEADER


def shipper_config(plan: dict[str, Any], host: str) -> str:
    """One host's shipper: its nodes' log files and their containers' output, to the receiver."""
    cluster = plan["cluster"]
    logs = cluster["monitoring"]["logs"]
    receiver, shipper = logs["receiver"], logs["shipper"]
    inputs = "".join(
        f'input(type="imfile" File="{NODE_LOGS_PATH}/*/session_*/logs/{pattern}" Tag="ray-node" addMetadata="on"'
        ' ruleset="ray-files")\n'
        for pattern in RAY_FILE_PATTERNS
    )
    return (
        f"{_header()}"
        f"# Host {host}: ships the Ray nodes' logs of cluster {cluster['name']} to {receiver['address']}.\n"
        f'global(workDirectory="{STATE_PATH}" maxMessageSize="64k")\n'
        'module(load="imfile" mode="inotify")\n'
        'module(load="mmjsonparse")\n'
        'module(load="omrelp" tls.tlslib="openssl")\n'
        f"{inputs}"
        f'input(type="imfile" File="{CONTAINERS_PATH}/*/*-json.log" Tag="ray-container" ruleset="ray-containers")\n'
        'template(name="ray-read-time" type="string" string="%timegenerated:::date-rfc3339%")\n'
        'template(name="ray-payload" type="list" option.jsonf="on") {\n'
        '  property(outname="t" name="$.t" format="jsonf")\n'
        f'  constant(outname="cluster" value="{cluster["name"]}" format="jsonf")\n'
        f'  constant(outname="host" value="{host}" format="jsonf")\n'
        '  property(outname="node" name="$.node" format="jsonf")\n'
        '  property(outname="file" name="$.file" format="jsonf")\n'
        '  property(outname="msg" name="$.msg" format="jsonf" droplastlf="on")\n'
        "}\n"
        'template(name="ray-forward" type="string"'
        f' string="<134>1 %timegenerated:::date-rfc3339% {host} ray-logs - - - @cee:%$.payload%")\n'
        'ruleset(name="ray-files") {\n'
        "  set $.node = field($!metadata!filename, 47, 3);\n"
        '  set $.file = field($!metadata!filename, 47, 4) & "/" & field($!metadata!filename, 47, 6);\n'
        '  set $.t = exec_template("ray-read-time");\n'
        "  set $.msg = $msg;\n"
        "  call ray-ship\n"
        "}\n"
        'ruleset(name="ray-containers") {\n'
        '  action(type="mmjsonparse" cookie="")\n'
        f'  if $parsesuccess == "OK" and $!attrs!{NODE_NAME_ENV} != "" then {{\n'
        f"    set $.node = $!attrs!{NODE_NAME_ENV};\n"
        '    set $.file = "container";\n'
        "    set $.t = $!time;\n"
        "    set $.msg = $!log;\n"
        "    call ray-ship\n"
        "  }\n"
        "}\n"
        "# RELP: each message acknowledged by the receiver; unacknowledged ones wait in a disk-assisted queue\n"
        "# (kept across restarts), retried for ever.\n"
        'ruleset(name="ray-ship") {\n'
        '  set $.payload = exec_template("ray-payload");\n'
        f'  action(type="omrelp" target="{receiver["ip"]}" port="{receiver["port"]}" template="ray-forward"\n'
        f'         tls="on" tls.caCert="{CONFIG_PATH}/log-receiver.pem" tls.authMode="name"'
        f' tls.permittedPeer=["{receiver["tls_name"]}"]\n'
        '         queue.type="LinkedList" queue.filename="ray-logs" queue.saveOnShutdown="on"\n'
        f'         queue.maxDiskSpace="{shipper["queue_max"]}" action.resumeRetryCount="-1" action.resumeInterval="2")\n'
        "}\n"
    )


def receiver_config(plan: dict[str, Any]) -> str:
    """The receiver: RELP over TLS on the monitoring host's node address, one file per host and node."""
    cluster = plan["cluster"]
    logs = cluster["monitoring"]["logs"]
    receiver, store = logs["receiver"], logs["store"]
    return (
        f"{_header()}"
        f"# Host {receiver['host']}: receives the Ray nodes' logs of cluster {cluster['name']}.\n"
        f'global(workDirectory="{STATE_PATH}" maxMessageSize="64k")\n'
        'module(load="imrelp" tls.tlslib="openssl")\n'
        'module(load="mmjsonparse")\n'
        f'input(type="imrelp" address="{receiver["ip"]}" port="{receiver["port"]}" ruleset="ray-logs" maxDataSize="80k"\n'
        f'      tls="on" tls.myCert="{CONFIG_PATH}/receiver.pem" tls.myPrivKey="{CONFIG_PATH}/receiver.key"'
        f' tls.caCert="{CONFIG_PATH}/receiver.pem")\n'
        'template(name="ray-path" type="string"'
        f' string="{STORE_PATH}/%$!host:::secpath-replace%/%$!node:::secpath-replace%.log")\n'
        'template(name="ray-line" type="string" string="%$!t% %$!file% %$!msg%\\n")\n'
        'ruleset(name="ray-logs") {\n'
        '  action(type="mmjsonparse")\n'
        f'  if $parsesuccess == "OK" and $!cluster == "{cluster["name"]}" then {{\n'
        '    action(type="omfile" dynaFile="ray-path" template="ray-line" dirCreateMode="0750" fileCreateMode="0640"\n'
        f'           dynaFileCacheSize="{max(len(plan["expected_nodes"]) + 10, 10)}"'
        f' rotation.sizeLimit="{store["file_size"]}"\n'
        f'           rotation.sizeLimitCommand="/bin/sh {CONFIG_PATH}/store-prune.sh")\n'
        "  }\n"
        "}\n"
    )


def store_prune_script(plan: dict[str, Any]) -> str:
    """The receiver's pruner: run by rsyslog when a node's file reaches the size (it is closed then), and
    every minute: renames each file at the size or above (``<node>.log.<time>``), then removes rotated
    files beyond the age and the oldest ones beyond the limit, and empty host directories."""
    store = plan["cluster"]["monitoring"]["logs"]["store"]
    return (
        "#!/bin/sh\n"
        f"{_header()}"
        "set -u\n"
        f"cd {STORE_PATH} || exit 0\n"
        f"find . -type f -name '*.log' -size +{store['file_size'] - 1}c | while read -r f; do\n"
        '  mv -f "$f" "$f.$(date +%s%N)"\n'
        "done\n"
        f"find . -type f -name '*.log*' -mmin +{store['max_age_days'] * 1440} -delete\n"
        "total=0\n"
        "for size in $(find . -type f -printf '%s\\n'); do total=$((total + size)); done\n"
        "find . -type f -name '*.log.*' -printf '%T@ %s %p\\n' | sort -n | while read -r _ size path; do\n"
        f'  [ "$total" -le {store["prune_limit"]} ] && break\n'
        '  rm -f "$path"\n'
        "  total=$((total - size))\n"
        "done\n"
        "find . -mindepth 1 -type d -empty -delete\n"
        "exit 0\n"
    )


def _service(cluster: dict[str, Any], name: str, volumes: list[str], entrypoint: list[str], command: list[str]) -> dict[str, Any]:
    # As root: the shipper reads the nodes' files and the engine's container logs (root's), the receiver writes the store.
    return {**stack_service(cluster, name, entrypoint, command, volumes), "user": "root"}


def shipper_service(plan: dict[str, Any]) -> dict[str, Any]:
    cluster = plan["cluster"]
    logs = cluster["monitoring"]["logs"]
    shipper = logs["shipper"]
    return _service(
        cluster,
        shipper["container"],
        [
            f"{shipper['config_dir']}:{CONFIG_PATH}:ro",
            f"{cluster['node_logs']['dir']}:{NODE_LOGS_PATH}:ro",
            f"{shipper['docker_containers_dir']}:{CONTAINERS_PATH}:ro",
            f"log-shipper-state:{STATE_PATH}",
        ],
        ["/usr/sbin/rsyslogd"],
        # No pid file: on the state volume it outlives the container, and a restarted rsyslogd (pid 1 again)
        # refuses to start beside "pid 1" and restarts in a loop.
        ["-n", "-f", f"{CONFIG_PATH}/rsyslog.conf", "-i", "NONE"],
    )


def receiver_service(plan: dict[str, Any]) -> dict[str, Any]:
    cluster = plan["cluster"]
    logs = cluster["monitoring"]["logs"]
    receiver = logs["receiver"]
    loop = (
        f"while :; do /bin/sh {CONFIG_PATH}/store-prune.sh; sleep {STORE_PRUNE_INTERVAL_S}; done &"
        f" exec /usr/sbin/rsyslogd -n -f {CONFIG_PATH}/rsyslog.conf -i NONE"  # no pid file: see shipper_service
    )
    return _service(
        cluster,
        receiver["container"],
        [
            f"{receiver['config_dir']}:{CONFIG_PATH}:ro",
            f"{logs['store']['dir']}:{STORE_PATH}",
            f"log-receiver-state:{STATE_PATH}",
        ],
        ["/bin/sh", "-c"],
        [loop],
    )


def log_files(plan: dict[str, Any], host: str, receiver_cert: str) -> dict[str, str]:
    """The log aggregation's files on ``host`` (path -> text): its shipper's configuration and the
    receiver's certificate (``receiver_cert``, read from the monitoring host; not written while
    unknown) and, on the monitoring host, the receiver's configuration and pruner. None when off."""
    logs = plan["cluster"]["monitoring"].get("logs") if plan["cluster"]["monitoring"] else None
    if not logs:
        return {}
    files = {logs["shipper"]["config"]: shipper_config(plan, host)}
    if receiver_cert:
        files[logs["shipper"]["receiver_cert"]] = receiver_cert
    if host == logs["receiver"]["host"]:
        files[logs["receiver"]["config"]] = receiver_config(plan)
        files[logs["receiver"]["prune_script"]] = store_prune_script(plan)
    return files
