#!/usr/bin/python
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Read what a host has now (files, packages, services, UFW, Docker), so the controller can tell what a run would change."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ray_cluster_deployed
short_description: Read what a host has now (files, packages, services, UFW, Docker), for the plan's change checks
version_added: 0.1.0
description:
  - Reads, in one module run, what the controller needs to tell whether a host already matches the
    cluster plan; nothing is changed. Each option asks for one section of the result, and a section
    that is not asked for is not read and its key is left out (RV(deployed) is always returned).
  - O(files) - each file's text, or null when the file does not exist. Docker is not needed (a
    fresh host has neither Docker nor a file). The C(cluster_plan) role runs it on every host with
    the plan's two compose project files (C(<ray_cluster_compose_dir>/head/compose.yaml) and
    C(.../workers/compose.yaml)); the P(wizardsofts.ray_cluster.ray_cluster_changes#filter) filter
    then compares them with the plan and says, per host, which containers a run would add, change
    and remove.
  - O(stat) - each path's type, permission bits, owner, group and, for a regular file, the SHA-256
    of its content (symlinks are followed).
  - O(packages) - each Debian package's installed version, from one C(dpkg-query) call.
  - O(services) - whether each systemd unit is enabled and active (C(systemctl show), one call per
    unit).
  - O(ufw) - UFW's own files (its rules, C(/etc/ufw/user.rules) and C(user6.rules), and its settings,
    C(/etc/ufw/ufw.conf) and C(/etc/default/ufw)) as they are, and whether its chains are loaded
    (C(iptables -L ufw-user-input)) - what C(ufw show added) and C(ufw status verbose) read, without
    starting UFW twice.
  - O(docker) - C(docker info), the ids of the images of O(images) and C(docker inspect) of every
    container, running or not, labelled O(container_label).
  - A file or path that exists but cannot be read (permissions; for O(files) also a directory or a
    file that is not UTF-8) fails the task with the path and the reason, and so does a
    C(dpkg-query) or C(systemctl) call that fails.
author:
  - WizardSofts platform team
extends_documentation_fragment:
  - wizardsofts.ray_cluster.read_only
options:
  files:
    description:
      - Absolute paths of the files to read.
      - RV(deployed) has exactly these paths as keys.
    type: list
    elements: str
    default: []
  stat:
    description:
      - Absolute paths to describe (RV(stats)), symlinks followed. A file's content is hashed, not
        returned.
      - Not given, RV(stats) is left out.
    type: list
    elements: str
  packages:
    description:
      - Names of Debian packages (optionally with an architecture, C(libc6:amd64)) to look up with
        C(dpkg-query) (RV(packages)).
      - Not given, RV(packages) is left out; an empty list returns an empty mapping and runs nothing.
    type: list
    elements: str
  services:
    description:
      - Names of systemd units (C(docker) or C(docker.service)) to look up with C(systemctl show)
        (RV(services)).
      - Not given, RV(services) is left out; an empty list returns an empty mapping and runs nothing.
    type: list
    elements: str
  ufw:
    description:
      - Read UFW's rules and settings files and whether its chains are loaded (RV(ufw)); null when C(ufw) is
        not installed.
    type: bool
    default: false
  docker:
    description:
      - Read Docker (RV(docker)) - C(docker info), the image ids of O(images) and the containers
        labelled O(container_label); null when C(docker) is not installed.
    type: bool
    default: false
  images:
    description:
      - Image names (C(repository:tag)) whose local image id to return; used with O(docker=true).
    type: list
    elements: str
    default: []
  container_label:
    description:
      - A label (C(key) or C(key=value), as C(docker ps --filter label=...) takes it); every
        container carrying it, running or not, is inspected. Used with O(docker=true).
      - Empty inspects no container.
    type: str
    default: ""
  cluster_status:
    description:
      - Also read the running cluster once from inside the head container (on the head host), as
        M(wizardsofts.ray_cluster.ray_cluster_status) does with C(read_status=false) and no wait, beside the
        other reads; RV(cluster) is that reading.
    type: dict
    suboptions:
      container:
        description: The head container.
        type: str
        required: true
      expected_nodes:
        description: The plan's C(expected_nodes).
        type: list
        elements: dict
        required: true
      gcs_storage_path:
        description: The head's GCS store on the host (its usage is reported); empty for none.
        type: str
        default: ""
      dashboard_url:
        description:
          - The head's dashboard, read first (see M(wizardsofts.ray_cluster.ray_cluster_status)); empty reads
            inside the head container only.
        type: str
        default: ""
  token_file:
    description:
      - The cluster token's file (on the head host); RV(token) digests it without returning the token, and
        O(cluster_status) sends its token to the dashboard.
      - Empty reads no token file.
    type: str
    default: ""
notes:
  - The collection writes its compose files world-readable (mode C(0644)), so O(files) works
    with and without privilege escalation. O(ufw), O(docker) and O(stat) of the collection's
    private files need it (C(become=true)).
  - Executables are looked up on E(PATH) and in the C(sbin) directories, C(/usr/bin) first for
    C(docker) and C(/usr/sbin) first for C(ufw) and C(iptables). The commands run with C(LC_ALL=C), so their text
    is not translated.
  - A Docker client that cannot reach its daemon exits 0 with only its own half of C(docker info);
    the module counts that as failed (RV(docker.info) null, the reason in RV(docker.error)).
seealso:
  - plugin: wizardsofts.ray_cluster.ray_cluster_changes
    plugin_type: filter
  - module: wizardsofts.ray_cluster.ray_cluster_plan
"""

EXAMPLES = r"""
- name: Read the compose files this host runs now
  wizardsofts.ray_cluster.ray_cluster_deployed:
    files:
      - "{{ ray_cluster_plan.hosts[inventory_hostname].projects.head.file }}"
      - "{{ ray_cluster_plan.hosts[inventory_hostname].projects.workers.file }}"
  check_mode: false
  register: __cluster_plan_deployed

- name: Show what a run would add, change and remove
  ansible.builtin.debug:
    msg: "{{ (ray_cluster_plan | wizardsofts.ray_cluster.ray_cluster_changes(hostvars, ansible_play_hosts)).summary }}"
  run_once: true

- name: Read everything the plan's change checks need, in one round trip
  wizardsofts.ray_cluster.ray_cluster_deployed:
    files:
      - /opt/ray-cluster/workers/compose.yaml
    stat:
      - /etc/docker/daemon.json
      - /etc/ray-cluster
    packages: [ufw, docker.io]
    services: [docker]
    ufw: true
    docker: true
    images:
      - wizardsofts/ray:2.60.0-py311
    container_label: com.wizardsofts.cluster
    token_file: /etc/ray-cluster/auth-token
  become: true
  check_mode: false
  register: __host_probe
"""

RETURN = r"""
cluster:
  description:
    - The running cluster as read once with O(cluster_status) - the same keys as the C(ray_cluster) fact of
      M(wizardsofts.ray_cluster.ray_cluster_status) (C(whole), C(alive_nodes), C(missing_by_host), ...), C(gcs_storage)
      included; planned nodes missing make a reading too.
    - Null when the cluster could not be read (RV(cluster_error) says why).
  returned: when O(cluster_status) is given
  type: dict
  sample: {whole: true, alive_nodes: 11, expected_node_count: 11, missing: [], source: gcs}
cluster_error:
  description: Why RV(cluster) is null; empty when it is not.
  returned: when O(cluster_status) is given
  type: str
  sample: "docker exec ray-head python3 (node table) failed (rc=1): Error response from daemon: container is not running"
token:
  description:
    - The token file of O(token_file), digested (never the token) - C(fingerprint) of the token it
      holds (its text without surrounding whitespace; the fingerprint filter
      P(wizardsofts.ray_cluster.ray_token_fingerprint#filter) computes the same), and C(sha256) of the
      exact text the collection writes for that token (P(wizardsofts.ray_cluster.ray_token_file_text#filter)).
    - Both are null when the file does not exist or holds only whitespace.
  returned: when O(token_file) is given
  type: dict
  sample:
    fingerprint: 9cd19bf61c9a5dd6d98d7a01dfc2f6ee
    sha256: 5e8c0b1f1c0f7f0e5d8e2f2b6d8f6c1a0e8f1e2d3c4b5a69788796a5b4c3d2e1
deployed:
  description: Each path of O(files) to the file's text; null when the file does not exist.
  returned: always
  type: dict
  sample:
    /opt/ray-cluster/head/compose.yaml: "# Managed by wizardsofts.ray_cluster (Ansible) from the cluster plan.\n..."
    /opt/ray-cluster/workers/compose.yaml: null
stats:
  description:
    - Each path of O(stat) to C(exists), C(type) (C(file), C(directory) or C(other)), C(mode) (the
      permission bits as four octal digits), C(owner) and C(group) (names, or the numeric id when it
      has none) and C(sha256) (hex digest of a regular file's content, else null).
    - A missing path has C(exists=false) and every other key null.
  returned: when O(stat) is given
  type: dict
  sample:
    /etc/docker/daemon.json: {exists: true, type: file, mode: "0644", owner: root, group: root,
                              sha256: 936e74470445637905ea6ac4f4bf8a7d5f05eb202a509c0d26177288a7d06a70}
    /etc/ray-cluster: {exists: true, type: directory, mode: "0700", owner: root, group: root, sha256: null}
    /nope: {exists: false, type: null, mode: null, owner: null, group: null, sha256: null}
packages:
  description:
    - Each name of O(packages) to its installed version, or null when dpkg does not list it as
      installed (unknown, removed, configuration files only). A held package (C(hi)) counts as
      installed.
  returned: when O(packages) is given
  type: dict
  sample: {ufw: 0.36.2-9, docker.io: 26.1.5+dfsg1-9+deb13u1+b1, nosuch: null}
services:
  description:
    - Each unit of O(services) to C(enabled) (its C(UnitFileState) is C(enabled)) and C(active) (its
      C(ActiveState) is C(active)). A unit that does not exist is neither.
  returned: when O(services) is given
  type: dict
  sample: {docker: {enabled: true, active: true}, nosuch: {enabled: false, active: false}}
ufw:
  description: UFW's files as they are; null when C(ufw) is not installed.
  returned: when O(ufw=true)
  type: dict
  contains:
    files:
      description:
        - C(rules) (C(/etc/ufw/user.rules)), C(rules6) (C(/etc/ufw/user6.rules)), C(conf) (C(/etc/ufw/ufw.conf))
          and C(defaults) (C(/etc/default/ufw)), each the file's text or null when it does not exist.
      type: dict
      sample:
        rules: "...\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=7261795f...\n"
        conf: "ENABLED=yes\nLOGLEVEL=low\n"
    loaded:
      description: Whether UFW's chains are loaded (C(ufw status) says active only then); null without C(iptables).
      type: bool
      sample: true
docker:
  description: Docker as read; null when C(docker) is not installed.
  returned: when O(docker=true)
  type: dict
  contains:
    info:
      description:
        - C(docker info) as JSON, cut to what the collection reads (C(ID), C(Name), C(ServerVersion),
          C(Driver), C(CgroupDriver), C(CgroupVersion), C(Containers), C(ContainersRunning), and
          C(ClientInfo) with the client's C(Version) and each plugin's C(Name) and C(Version)); null when
          the daemon could not be read (then no other Docker command is run).
      type: dict
      sample: {ServerVersion: 26.1.5+dfsg1, CgroupDriver: cgroupfs, Containers: 4, ContainersRunning: 4}
    error:
      description: Why RV(docker.info) is null (the client's error text); empty when it is not.
      type: str
      sample: ""
    images:
      description: Each name of O(images) to its local image id; null when there is no such image (or no daemon).
      type: dict
      sample: {"wizardsofts/ray:2.60.0-py311": "sha256:a583e3d456f4808a15c099d6b91d54c01739533111bd8477428b3dd162c2a745",
               "nosuch:1": null}
    containers:
      description:
        - C(docker inspect) of every container, running or not, labelled O(container_label), in
          C(docker ps) order; empty without O(container_label) or daemon.
        - Each entry is cut to what the collection reads, so that the registered result stays small
          (every later task of the run carries it), namely C(Id), C(Name), C(Image), C(Created),
          C(RestartCount); C(State) without the health check's log; C(Config.Image); the labels of
          Compose's project, service and config hash and those that share O(container_label)'s prefix
          (C(a.b.cluster) keeps C(a.b.*)); C(HostConfig)'s C(NetworkMode), C(RestartPolicy), C(NanoCpus),
          C(Memory), C(MemoryReservation) and C(ShmSize).
      type: list
      elements: dict
      sample:
        - Id: 2827749047f7a1df3c1b4323a3a9d6555ffb0f4d0713c72aeaf7d62bdb232146
          Name: /ray-worker-4
          State: {Status: running, Running: true, Health: {Status: healthy}}
          Config: {Image: "wizardsofts/ray:2.60.0-py311", Labels: {com.docker.compose.project: ray-workers}}
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._probe import probe, read_files
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._status import cluster_now, dashboard_fetch

# Where the collection's hosts have these (Debian packages docker.io and ufw); searched before PATH.
BIN_DIRS = {"docker": ["/usr/bin"], "ufw": ["/usr/sbin"], "iptables": ["/usr/sbin"]}
# Untranslated output: the controller parses ufw's text.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "list", "elements": "str", "default": []},
            "stat": {"type": "list", "elements": "str"},
            "packages": {"type": "list", "elements": "str"},
            "services": {"type": "list", "elements": "str"},
            "ufw": {"type": "bool", "default": False},
            "docker": {"type": "bool", "default": False},
            "images": {"type": "list", "elements": "str", "default": []},
            "container_label": {"type": "str", "default": ""},
            "token_file": {"type": "str", "default": "", "no_log": False},
            "cluster_status": {
                "type": "dict",
                "options": {
                    "container": {"type": "str", "required": True},
                    "expected_nodes": {"type": "list", "elements": "dict", "required": True},
                    "gcs_storage_path": {"type": "str", "default": ""},
                    "dashboard_url": {"type": "str", "default": ""},
                },
            },
        },
        supports_check_mode=True,
    )
    p = module.params

    def run(argv: list[str]) -> tuple[int, str, str]:
        return module.run_command(argv, environ_update=C_LOCALE)

    def which(name: str) -> str | None:
        return module.get_bin_path(name, opt_dirs=BIN_DIRS.get(name))

    # The head container's node table is the slowest read (a Python start in the container): it runs
    # beside the others.
    pool = ThreadPoolExecutor(max_workers=1)
    cluster = None
    if p["cluster_status"] is not None:
        docker = which("docker")
        status = p["cluster_status"]
        fetch = dashboard_fetch(status["dashboard_url"], p["token_file"]) if status["dashboard_url"] else None
        cluster = (
            pool.submit(
                cluster_now, run, docker, status["container"], status["expected_nodes"], status["gcs_storage_path"], fetch
            )
            if docker
            else None
        )
    try:
        result = {"deployed": read_files(p["files"])}
        result.update(
            probe(
                run,
                which,
                stat=p["stat"],
                packages=p["packages"],
                services=p["services"],
                ufw=p["ufw"],
                docker=p["docker"],
                images=p["images"],
                container_label=p["container_label"],
                token_file=p["token_file"],
            )
        )
    except ValueError as exc:
        pool.shutdown(wait=True)
        module.fail_json(msg=f"ray_cluster_deployed: {exc}")
    if p["cluster_status"] is not None:
        result["cluster"], result["cluster_error"] = cluster.result() if cluster else (None, "no docker command on the host")
    pool.shutdown(wait=True)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
