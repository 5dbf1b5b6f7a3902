#!/usr/bin/python
# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Documentation of the ray_cluster_plan action: the action plugin of the same name does the work.

Like ansible.utils' ``validate``, this file holds only DOCUMENTATION, EXAMPLES and RETURN: every
call runs ``plugins/action/ray_cluster_plan.py`` on the controller, never a module on a host.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ray_cluster_plan
short_description: Compute the Ray cluster plan (nodes, pinned ports, compose projects, firewall rules)
version_added: 0.1.0
description:
  - Computes, from the cluster's inventory variables, everything the roles apply; nothing is
    changed anywhere. The plan holds, per host, the Ray nodes (containers) with a pinned port
    block each, where its compose projects live (the
    P(wizardsofts.ray_cluster.ray_compose_content#filter) filter renders them), the UFW rules and
    the host's capacity; and, for the whole cluster, the head address and the list of expected
    nodes that M(wizardsofts.ray_cluster.ray_cluster_status) compares the running cluster with.
  - Runs on the controller as an action (there is no module code to run on a host). Used as a
    task, the action plugin of the same name reads O(hosts) from the inventory
    (every host of O(head_group) and O(worker_group), their C(ray_*) variables, C(ansible_host)
    and gathered facts) and computes the plan on the controller, so run it once
    (C(run_once=true)). Passing O(hosts) explicitly computes the plan for that data instead.
  - Invalid input fails with a message that names the host, the variable and the value (a secret's
    value is never shown). The action plugin is the single gate for bad input - every host variable
    with one of the collection's prefixes (C(ray_), C(docker_engine_), C(cluster_plan_), C(ufw_)) must
    be one the collection knows (a planner input, a role option or a playbook's extra var; an unknown
    one is refused with the nearest known name); each host of O(worker_group) must set
    C(ray_worker_count); no host of O(cluster_group) may be outside O(head_group) and O(worker_group);
    C(ray_cluster_auth_token) must be the same on every host, printable ASCII without whitespace and
    at least 32 characters long. The token is checked, never put in the plan.
  - The variables are described in the collection's C(docs/DESIGN.md) and in the C(cluster_plan)
    role's argument specification.
author:
  - WizardSofts platform team
extends_documentation_fragment:
  - wizardsofts.ray_cluster.read_only
options:
  head_group:
    description: Inventory group holding the head host (exactly one host).
    type: str
    default: ray_head
  worker_group:
    description: Inventory group holding the hosts that run workers.
    type: str
    default: ray_workers
  cluster_group:
    description:
      - Inventory group holding every cluster host (the parent of O(head_group) and O(worker_group)).
        A host in it but in neither of the other two is refused. No check when the group does not exist.
      - Ignored when O(hosts) is given explicitly.
    type: str
    default: ray_cluster
  monitoring_group:
    description:
      - Inventory group whose one host (a cluster host) runs Prometheus and Alertmanager when
        C(ray_cluster_monitoring) is on; without it, the head's host.
      - Ignored when O(hosts) is given explicitly (see O(monitoring_hosts)).
    type: str
    default: ray_monitoring
  head_hosts:
    description:
      - Hosts of the head group, when O(hosts) is given explicitly.
      - Ignored when O(hosts) is taken from the inventory.
    type: list
    elements: str
  worker_hosts:
    description:
      - Hosts of the worker group, when O(hosts) is given explicitly.
    type: list
    elements: str
  monitoring_hosts:
    description:
      - Hosts of the monitoring group (at most one), when O(hosts) is given explicitly.
    type: list
    elements: str
  celery_groups:
    description:
      - The inventory groups of the Celery layer, by kind. C(broker) holds the one host that runs
        the broker (Celery is on when it has a host), C(workers) the hosts that run Celery workers
        (each sets C(celery_worker_count)), C(flower) the one host that runs Flower.
      - Ignored when O(hosts) is given explicitly (see O(celery_hosts)).
    type: dict
    default: {broker: celery_broker, workers: celery_workers, flower: celery_flower}
  celery_hosts:
    description:
      - The hosts of the Celery groups by kind (C(broker), C(workers), C(flower)), when O(hosts) is
        given explicitly.
    type: dict
  hosts:
    description:
      - Variables per host (C(ray_cluster_*), C(ray_node_ip), C(ray_worker_count),
        C(ray_worker_spec), C(ray_worker_overrides), C(ray_head_spec), C(celery_*), C(ansible_host)), plus
        an optional C(facts) mapping with C(vcpus), C(memtotal_mb) and C(default_ipv4).
        Other names with the collection's prefixes must be known (role options are); the token
        (C(ray_cluster_auth_token)) is refused here.
      - When omitted (the usual case) the action plugin reads them from the inventory.
    type: dict
"""

EXAMPLES = r"""
# The plan is returned, not set as a fact: register it and keep it with set_fact (the
# wizardsofts.ray_cluster.cluster_plan role does), so it is not copied with the facts for every task.
- name: Compute the cluster plan once, on the controller
  wizardsofts.ray_cluster.ray_cluster_plan:
  run_once: true
  register: planned

- name: Keep it for every host of the play
  ansible.builtin.set_fact:
    ray_cluster_plan: "{{ planned.plan }}"
  run_once: true

- name: Plan for explicit data (no inventory needed)
  wizardsofts.ray_cluster.ray_cluster_plan:
    head_hosts: [srv1]
    worker_hosts: [srv1, srv2]
    hosts:
      srv1:
        ray_node_ip: 192.0.2.10
        ray_worker_count: 2
        ray_worker_spec: {cpus: 2, memory: 6G, shm_size: 2g}
      srv2:
        ray_node_ip: 192.0.2.11
        ray_worker_count: 4
        ray_worker_spec: {cpus: 2, memory: 6G, shm_size: 2g}
  register: plan

- name: Show where the head listens
  ansible.builtin.debug:
    msg: "{{ plan.plan.cluster.head_address }}"
"""

RETURN = r"""
plan:
  description: The cluster plan (the wizardsofts.ray_cluster.cluster_plan role keeps it as C(ray_cluster_plan), a host variable).
  returned: success
  type: dict
  contains:
    cluster:
      description: Cluster-wide values.
      type: dict
      returned: success
      contains:
        name: {description: "Cluster name (compose project prefix).", type: str, returned: success}
        version: {description: "Ray version.", type: str, returned: success}
        python_version: {description: "Python minor version of the image.", type: str, returned: success}
        image: {description: "Ray image every node runs.", type: str, returned: success}
        image_extra_packages:
          description: The pinned packages the image has next to Ray (the ray_image role's C(build) default).
          type: str
          returned: success
        image_system_packages:
          description: The distribution's packages the image has (C(redis-server); the ray_image role's C(build) default).
          type: str
          returned: success
        head_host: {description: "Inventory name of the head host.", type: str, returned: success}
        head_ip: {description: "Node address of the head host.", type: str, returned: success}
        head_address:
          description: "GCS address, C(ip:port) (an IPv6 address in brackets)."
          type: str
          returned: success
          sample: "192.0.2.10:6379"
        head_container: {description: "Container name of the head node.", type: str, returned: success}
        gcs_port: {description: "GCS port.", type: int, returned: success}
        dashboard_port: {description: "Dashboard port.", type: int, returned: success}
        dashboard_bind:
          description: "Where the dashboard listens: C(node_ip), C(loopback) or C(all)."
          type: str
          returned: success
        client_port: {description: "Ray Client server port.", type: int, returned: success}
        autoscaler_metrics_port: {description: "Autoscaler metrics port.", type: int, returned: success}
        dashboard_metrics_port: {description: "Dashboard metrics port.", type: int, returned: success}
        dashboard_url: {description: "Dashboard URL.", type: str, returned: success, sample: "http://192.0.2.10:8265"}
        client_address: {description: "Ray Client address.", type: str, returned: success, sample: "ray://192.0.2.10:10001"}
        auth_mode: {description: "C(token) or C(disabled).", type: str, returned: success}
        auth_token_file: {description: "Path of the token file on each host.", type: str, returned: success}
        auth_token_file_in_use:
          description: RV(plan.cluster.auth_token_file) with token authentication, empty without; the file the modules read.
          type: str
          returned: success
        gcs_reconnect_timeout_s: {description: "Seconds a node waits for the GCS to come back.", type: int, returned: success}
        gcs_storage: {description: "Where the GCS keeps the state: C(none), C(rocksdb), C(redis).", type: str, returned: success}
        gcs_storage_root:
          description: The cluster's GCS state directory on the head host (teardown removes it); empty with C(none).
          type: str
          returned: success
        gcs_storage_path:
          description:
            - The store of this Ray version, in RV(plan.cluster.gcs_storage_root); empty with C(none).
            - With C(redis), the Redis server's data directory (C(redis-ray-<version>)).
          type: str
          returned: success
        gcs_redis:
          description:
            - With C(redis), the Redis server the head host runs for the GCS - C(container), C(ip), C(port),
              C(address), C(username) (the ACL user; its password derives from the cluster token),
              C(namespace) (the cluster's key prefix), C(memory) (the container's limit, bytes) and
              C(maxmemory) (bytes). Empty otherwise.
          type: dict
          returned: success
        monitoring:
          description:
            - With C(ray_cluster_monitoring), the monitoring stack - C(host) and C(ip) (the monitoring host), C(image),
              C(packages), C(user) and C(uid) (the web login's user; the image's daemons' uid and gid), C(project) and
              C(exporters_project) (compose projects - C(name), C(dir), C(file), C(services)), C(config_dir),
              C(password_file), the four ports, C(prometheus_address), C(alertmanager_address), C(prometheus_url),
              C(alertmanager_url), C(scrape_interval), C(alert_for), C(retention_time), C(retention_size) (as
              Prometheus takes it), C(webhook_urls), C(head_ip), C(ray_user) (Ray's dashboard's login at Prometheus;
              empty without a cluster token), C(dashboards) (C(dir), C(ray_dir), C(ray_stamp), C(ray_stamp_text),
              C(datasource)) and C(grafana) (C(image), C(container), C(port), C(address), C(url); empty
              without C(ray_cluster_grafana)). Empty otherwise.
          type: dict
          returned: success
        celery:
          description:
            - With a host in the broker group (O(celery_groups)), the Celery layer - C(dir), C(config_dir), C(secrets_dir)
              and C(token_file) (each Celery host's project directory, the launcher's configuration, the secrets),
              C(uid) (the Celery image's user), C(packages) and C(system_packages) (what the build method installs in
              the Celery image), C(image) (Celery, Flower and the
              broker's Redis), C(app_image) (the workers' image; its tag derives from the app's content), C(app)
              (C(module), C(source), C(requirement)), C(broker) (C(host), C(ip), C(port), C(address), C(container),
              C(db), C(result_db), C(memory), C(maxmemory), C(data_dir), C(password_file), C(sources)), C(flower)
              (C(host), C(ip), C(port), C(url), C(container), C(user), C(password_file), C(memory), C(sources); empty
              without a Flower host), C(worker_hosts), C(queues) (every queue a worker consumes), C(expected_workers) (each
              worker's Celery name), C(status_from) (C(host) and C(container) the status reads the layer from; empty without
              Flower or workers), C(task_time_limit_s), C(visibility_timeout_s),
              C(prefetch_multiplier) and C(stop_timeout_s). Empty otherwise; each host's part is RV(plan.hosts.celery).
          type: dict
          returned: success
        node_logs:
          description:
            - Ray's logs on the hosts (each node's C(/tmp/ray), its session directory), kept within each node's budget.
          type: dict
          returned: success
          contains:
            dir:
              description: >-
                The cluster's log directory on each host, C(<ray_cluster_node_log_dir>/<name>); one directory per node
                in it (RV(plan.hosts.node_log_dirs)).
              type: str
              returned: success
            file_size:
              description: Size in bytes at which Ray rotates a log file (C(RAY_ROTATION_MAX_BYTES)).
              type: int
              returned: success
            file_backups:
              description: Rotated files Ray keeps of each log file (C(RAY_ROTATION_BACKUP_COUNT)).
              type: int
              returned: success
            budget: {description: "Disk in bytes one node's log directory may take.", type: int, returned: success}
            prune_limit:
              description: >-
                Size in bytes the pruner brings each node's log directory back to, the budget less one file with its
                backups (what a writer may add before the next pruning).
              type: int
              returned: success
            prune_interval_s: {description: "Seconds between two prunings of the log directories.", type: int, returned: success}
            prune_script: {description: "Path of the pruner on each host.", type: str, returned: success}
            prune_unit:
              description: Name of the pruner's systemd service and timer (without their suffix).
              type: str
              returned: success
        label_prefix: {description: "Prefix of the container labels.", type: str, returned: success}
        compose_dir: {description: "Directory of the compose projects on each host.", type: str, returned: success}
        log_max_size: {description: "Size of one container log file.", type: str, returned: success}
        log_max_files: {description: "Container log files kept.", type: int, returned: success}
        stagger_worker_start: {description: "Whether a host's workers start one after the other.", type: bool, returned: success}
        confirm_removal:
          description: Whether removing containers beyond the guard's limits is confirmed.
          type: bool
          returned: success
        removal_max_share:
          description: Share of the deployed nodes a run may remove without confirmation.
          type: float
          returned: success
        allowed_sources: {description: "Sources Ray's ports are open to.", type: list, elements: str, returned: success}
        admin_sources:
          description: Extra sources of the operator ports (dashboard, client, metrics).
          type: list
          elements: str
          returned: success
        hosts: {description: "The cluster hosts, the head host first.", type: list, elements: str, returned: success}
        expected_node_count: {description: "Number of Ray nodes in the plan.", type: int, returned: success}
        expected_cpus: {description: "Logical CPUs of all planned nodes.", type: int, returned: success}
    expected_nodes:
      description: One entry per Ray node, what M(wizardsofts.ray_cluster.ray_cluster_status) looks for.
      type: list
      elements: dict
      returned: success
      contains:
        host: {description: "Inventory host.", type: str, returned: success}
        name: {description: "Container name.", type: str, returned: success}
        role: {description: "C(head) or C(worker).", type: str, returned: success}
        ip: {description: "Node address.", type: str, returned: success}
        node_manager_port:
          description: The node manager port (identifies the node in Ray's node table).
          type: int
          returned: success
        num_cpus: {description: "Logical CPUs.", type: int, returned: success}
        memory: {description: "Ray's heap memory in bytes.", type: int, returned: success}
        object_store_memory: {description: "Object store in bytes.", type: int, returned: success}
    hosts:
      description: Per inventory host name, a dict with the fields below.
      type: dict
      returned: success
      contains:
        node_ip: {description: "Node address.", type: str, returned: success}
        is_head: {description: "Whether the host runs the head.", type: bool, returned: success}
        nodes:
          description: The host's Ray nodes, the head first.
          type: list
          elements: dict
          returned: success
          contains:
            role: {description: "C(head) or C(worker).", type: str, returned: success}
            worker_id: {description: "Worker number on the host, from 1.", type: int, returned: for workers}
            name: {description: "Container name.", type: str, returned: success}
            cpus: {description: "CPU limit of the container.", type: float, returned: success}
            num_cpus: {description: "Logical CPUs Ray schedules on.", type: int, returned: success}
            memory: {description: "Memory limit in bytes.", type: int, returned: success}
            memory_reservation: {description: "Memory reservation in bytes, or null.", type: int, returned: success}
            shm_size: {description: "Size of /dev/shm in bytes.", type: int, returned: success}
            object_store_memory: {description: "Object store in bytes.", type: int, returned: success}
            heap_memory: {description: "Memory left to Ray's processes and tasks, in bytes.", type: int, returned: success}
            gpus: {description: "GPUs.", type: int, returned: success}
            resources: {description: "Custom resources.", type: dict, returned: success}
            labels: {description: "Node labels.", type: dict, returned: success}
            index: {description: "Position on the host (its port block).", type: int, returned: success}
            ports:
              description: The node's pinned ports.
              type: dict
              returned: success
              contains:
                node_manager: {description: "Node manager port.", type: int, returned: success}
                object_manager: {description: "Object manager port.", type: int, returned: success}
                runtime_env_agent: {description: "Runtime env agent port.", type: int, returned: success}
                dashboard_agent_grpc: {description: "Dashboard agent gRPC port.", type: int, returned: success}
                dashboard_agent_http: {description: "Dashboard agent HTTP port (the health check).", type: int, returned: success}
                metrics_export: {description: "Metrics export port.", type: int, returned: success}
                min_worker: {description: "First worker port.", type: int, returned: success}
                max_worker: {description: "Last worker port.", type: int, returned: success}
        node_port_range:
          description: "The host's node ports, C([low, high]), or null without nodes."
          type: list
          elements: int
          returned: success
        projects:
          description: The host's compose projects, C(head) and C(workers), each with the fields below.
          type: dict
          returned: success
          contains:
            name: {description: "Compose project name.", type: str, returned: success}
            dir: {description: "Project directory.", type: str, returned: success}
            file: {description: "Compose file.", type: str, returned: success}
            services: {description: "Container names of the project.", type: list, elements: str, returned: success}
        node_log_dirs:
          description: Per node (container name), its log directory on the host, mounted as its C(/tmp/ray).
          type: dict
          returned: success
        celery:
          description:
            - The host's Celery part - C(project) (its compose project - C(name), C(dir), C(file), C(services); empty when
              the host runs no Celery container), C(broker) and C(flower) (whether it runs them) and C(workers) (each
              Celery worker container - C(name), C(hostname), C(cpus), C(memory), C(memory_reservation),
              C(concurrency), C(queues)).
          type: dict
          returned: success
        docker_metrics_address:
          description: Where the host's Docker engine serves its metrics (C(metrics-addr)); empty without monitoring.
          type: str
          returned: success
        firewall:
          description:
            - The UFW allow rules the host needs, SSH first. Each node's metrics port is left out of the node ranges
              the members reach; with monitoring it is open to the monitoring host only.
          type: list
          elements: dict
          returned: success
          contains:
            port: {description: "Port or C(low:high) range.", type: str, returned: success}
            proto: {description: "Protocol.", type: str, returned: success}
            src: {description: "Source address or network, or C(any).", type: str, returned: success}
            comment: {description: "Rule comment (starts with C(ray_cluster)).", type: str, returned: success}
        capacity:
          description: The host's summed limits beside what it has.
          type: dict
          returned: success
          contains:
            cpus: {description: "Sum of the CPU limits.", type: float, returned: success}
            memory:
              description: "Sum of the memory limits in bytes (on the head host, with the GCS's Redis)."
              type: int
              returned: success
            vcpus: {description: "The host's vCPUs (null without facts).", type: int, returned: success}
            memtotal: {description: "The host's memory in bytes (null without facts).", type: int, returned: success}
            node_logs:
              description: >-
                Sum of the host's nodes' log budgets in bytes; more than the size of the file system of
                RV(plan.cluster.node_logs.dir) is refused, more than is free on it warned.
              type: int
              returned: success
            node_logs_mount:
              description: The mount point of the file system that holds the log directories (null when the facts name none).
              type: str
              returned: success
    warnings:
      description: >-
        Non-fatal findings, such as allowed oversubscription, an object store that leaves a node
        less than 512 MiB of its memory limit or nodes' log budgets above the free space of their file system.
      type: list
      elements: str
      returned: success
"""
