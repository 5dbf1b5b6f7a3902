"""The monitoring stack on the lab: every planned target scraped, rules that hold, the login, the
firewall, and an alert that reaches the lab's webhook receiver and resolves."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from labkit import ROOT, cluster_token, compose_files, lab_host, lab_hosts, log, plan, playbook, server, wait_whole

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._monitoring_files import RAY_NODE_METRIC
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._token import prometheus_ray_password

RULES_TEST = ROOT / "tests" / "lab" / "monitoring" / "rules_test.yml"
WEBHOOK = "ray-lab-webhook"
OUTSIDER = "ray-lab-outsider-metrics"


def monitoring() -> dict[str, Any]:
    return plan()["cluster"]["monitoring"]


def password() -> str:
    return lab_host(monitoring()["host"]).file(monitoring()["password_file"]).content_string.strip()


def get(url: str, secret: str | None = None, user: str = "admin") -> tuple[int, Any]:
    """GET from Prometheus or Alertmanager (the controller is an admin source): (status, parsed JSON or None)."""
    headers = {}
    if secret is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:  # noqa: S310 (the lab)
            body = response.read()
            return response.status, json.loads(body) if body.startswith((b"{", b"[")) else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def prometheus(path: str) -> Any:
    status, body = get(f"{monitoring()['prometheus_url']}{path}", password())
    assert status == 200, (path, status)
    return body["data"]


def query(expr: str) -> list[dict[str, Any]]:
    return prometheus("/api/v1/query?query=" + urllib.parse.quote(expr))["result"]


def planned_targets() -> set[tuple[str, str, str]]:
    """(job, host, node or component) of every target the plan gives Prometheus."""
    p = plan()
    cluster = p["cluster"]
    targets = {("ray_node", node["host"], node["name"]) for node in p["expected_nodes"]}
    targets |= {("ray_head", cluster["head_host"], component) for component in ("autoscaler", "dashboard")}
    for host in p["hosts"]:
        targets |= {("node_exporter", host, ""), ("docker_engine", host, "")}
    targets |= {("prometheus", monitoring()["host"], ""), ("alertmanager", monitoring()["host"], "")}
    return targets


def scraped() -> dict[tuple[str, str, str], str]:
    """(job, host, node or component) -> health of every target Prometheus scrapes."""
    found = {}
    for target in prometheus("/api/v1/targets?state=active")["activeTargets"]:
        labels = target["labels"]
        which = labels.get("component", "") if labels["job"] == "ray_head" else labels.get("node", "")
        found[(labels["job"], labels["host"], which)] = target["health"]
    return found


def wait_for(what: str, check: Any, timeout: float, step: float = 2.0) -> float:
    start = time.monotonic()
    while True:
        result = check()
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {result!r})")
        time.sleep(step)


def test_every_planned_target_is_up_and_a_core_metric_has_a_series_per_node() -> None:
    wanted = planned_targets()
    seconds = wait_for(
        "every planned target up",
        lambda: ((s := scraped()) and set(s) == wanted and set(s.values()) == {"up"}) or None,
        timeout=90,
    )
    log(f"Prometheus scrapes {len(wanted)} targets, every one up ({seconds:.0f} s after the test began)")
    series = {(r["metric"]["host"], r["metric"]["node"]) for r in query(RAY_NODE_METRIC)}
    assert series == {(node["host"], node["name"]) for node in plan()["expected_nodes"]}


def test_promtool_and_amtool_accept_what_the_role_wrote_and_the_rules_pass_their_unit_tests() -> None:
    head = monitoring()["host"]
    check = server(head, "docker", "exec", "ray-prometheus", "promtool", "check", "config", "/etc/ray-monitoring/prometheus.yml")
    assert "SUCCESS: 9 rules found" in check, check
    assert "SUCCESS" in server(
        head, "docker", "exec", "ray-alertmanager", "amtool", "check-config", "/etc/ray-monitoring/alertmanager.yml"
    )
    # The rule unit tests, against the rule file the role rendered from the lab's plan.
    script = "cat > /tmp/rules_test.yml && promtool test rules /tmp/rules_test.yml"
    heredoc = f"docker exec -i ray-prometheus sh -c '{script}' <<'EOF'\n{RULES_TEST.read_text()}\nEOF"
    out = server(head, "sh", "-c", heredoc)
    assert "SUCCESS" in out, out


# Grafana's own variables in Ray's queries: durations where Grafana puts one, "any value" elsewhere
# (every other variable stands in a label matcher).
GRAFANA_DURATIONS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "interval": "1m", "window": "5m"}
GRAFANA_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def _expressions(node: Any) -> list[str]:
    """Every query of a Grafana dashboard (panels, rows' panels, any depth)."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [expr for value in node.values() for expr in _expressions(value)]
    if isinstance(node, list):
        return [expr for value in node for expr in _expressions(value)]
    return []


def _instant(expr: str, secret: str) -> tuple[str, Any]:
    """Ask Prometheus one query (POST: Ray's are long): (status, result or error)."""
    request = urllib.request.Request(  # noqa: S310 (the lab)
        f"{monitoring()['prometheus_url']}/api/v1/query",
        data=urllib.parse.urlencode({"query": expr}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(f"admin:{secret}".encode()).decode()},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the lab)
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        body = json.load(exc)
    return body["status"], body.get("data", {}).get("result") if body["status"] == "success" else body.get("error")


def test_every_dashboard_query_is_valid_promql_and_the_overview_has_a_series_per_planned_node() -> None:
    """Grafana cannot run here: its dashboards (Ray's, generated by the cluster's Ray image, and the
    overview) are proven against the lab's real Prometheus instead."""
    dashboards = monitoring()["dashboards"]
    host = lab_host(monitoring()["host"])
    assert host.file(dashboards["ray_stamp"]).content_string == dashboards["ray_stamp_text"]
    files = sorted(server(monitoring()["host"], "find", dashboards["dir"], "-name", "*.json").split())
    ray_files = [path for path in files if path.startswith(dashboards["ray_dir"] + "/")]
    assert f"{dashboards['ray_dir']}/default_grafana_dashboard.json" in ray_files
    invalid, count, secret = [], 0, password()
    for path in files:
        for expr in _expressions(json.loads(host.file(path).content_string).get("panels", [])):
            count += 1
            query_text = GRAFANA_VARIABLE.sub(lambda m: GRAFANA_DURATIONS.get(next(g for g in m.groups() if g), ".*"), expr)
            status, error = _instant(query_text, secret)
            if status != "success":
                invalid.append((path.rsplit("/", 1)[-1], query_text, error))
    log(f"{count} queries of {len(files)} dashboards ({len(ray_files)} of Ray's) asked of Prometheus")
    assert not invalid, invalid[:5]
    assert count > 100  # Ray's dashboards hold hundreds: an empty extraction would prove nothing
    # The overview: a series for every planned node where its legend names the node, one for every
    # server with Ray nodes (at least) where it names the server.
    overview = json.loads(host.file(f"{dashboards['dir']}/ray_cluster_overview.json").content_string)
    nodes = {(node["host"], node["name"]) for node in plan()["expected_nodes"]}
    for target in [target for panel in overview["panels"] for target in panel["targets"]]:
        status, result = _instant(target["expr"], secret)
        assert status == "success", (target["expr"], result)
        if "{{node}}" in target["legendFormat"]:
            assert {(r["metric"]["host"], r["metric"]["node"]) for r in result} == nodes, target["expr"]
        elif "{{host}}" in target["legendFormat"]:
            assert {r["metric"]["host"] for r in result} >= {host for host, _node in nodes}, target["expr"]
        else:
            assert result, target["expr"]


def test_ray_dashboard_reaches_prometheus_with_its_own_login_derived_from_the_token() -> None:
    dashboard = plan()["cluster"]["dashboard_url"]
    token = cluster_token()

    def ask(path: str) -> tuple[int, Any]:
        request = urllib.request.Request(f"{dashboard}{path}", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (the lab head)
            return response.status, json.load(response)

    status, health = ask("/api/prometheus_health")
    assert (status, health["result"]) == (200, True), health
    # Ray's dashboard's user answers with the password derived from the token, and only with it.
    url = f"{monitoring()['prometheus_url']}/-/ready"
    derived = prometheus_ray_password(token)
    assert get(url, derived, user="ray")[0] == 200
    assert get(url, token, user="ray")[0] == 401
    # The derived password is in no compose file and in no container's configuration.
    head = plan()["cluster"]["head_host"]
    assert derived not in server(head, "docker", "inspect", "ray-head")
    assert all(derived not in text for text in compose_files(head).values())
    status, grafana = ask("/api/grafana_health")
    assert status == 200 and grafana["data"].get("grafanaHost") == "DISABLED", grafana  # the lab runs no Grafana


def test_the_web_endpoints_need_the_login() -> None:
    secret = password()
    for url in (monitoring()["prometheus_url"], monitoring()["alertmanager_url"]):
        assert get(f"{url}/-/ready")[0] == 401
        assert get(f"{url}/-/ready", "not-the-password")[0] == 401
        assert get(f"{url}/-/ready", secret)[0] == 200
    # The password is in no compose file and in no container's configuration.
    head = monitoring()["host"]
    assert secret not in server(head, "docker", "inspect", "ray-prometheus", "ray-alertmanager")
    assert secret not in server(head, "cat", monitoring()["project"]["file"])


def _reach(container: str, host_ip: str, ports: list[int], *, on_server: bool) -> dict[int, bool]:
    probe = (
        "import json, socket, sys\n"
        "out = {}\n"
        "for port in sys.argv[2:]:\n"
        "    try:\n"
        "        socket.create_connection((sys.argv[1], int(port)), timeout=3).close(); out[port] = True\n"
        "    except OSError:\n"
        "        out[port] = False\n"
        "print(json.dumps(out))\n"
    )
    argv = ["python3", "-c", probe, host_ip, *map(str, ports)]
    out = server(container, *argv) if on_server else _docker("exec", container, *argv)
    return {int(port): opened for port, opened in json.loads(out).items()}


def _docker(*argv: str) -> str:

    return subprocess.run(["docker", *argv], capture_output=True, text=True, check=True).stdout


def test_metrics_ports_answer_the_monitoring_host_only() -> None:
    p = plan()
    host = "lab-81"
    ip = p["hosts"][host]["node_ip"]
    ports = [node["ports"]["metrics_export"] for node in p["hosts"][host]["nodes"]]
    ports += [monitoring()["node_exporter_port"], monitoring()["docker_metrics_port"]]
    # Another member (not the monitoring host) and a lab container that is no member: no answer.
    assert not any(_reach("lab-80", ip, ports, on_server=True).values())
    network = _docker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", "ray-lab-84").strip()
    _docker(
        "run",
        "-d",
        "--rm",
        "--name",
        OUTSIDER,
        "--network",
        network,
        "--label",
        "com.wizardsofts.ray_cluster.lab=outsider",
        "wizardsofts-lab/python:3.11-bookworm",
        "sleep",
        "300",
    )
    try:
        outside = _reach(OUTSIDER, ip, ports, on_server=False)
        web = _reach(
            OUTSIDER, monitoring()["ip"], [monitoring()["prometheus_port"], monitoring()["alertmanager_port"]], on_server=False
        )
    finally:
        _docker("rm", "-f", OUTSIDER)
    assert not any(outside.values()), outside
    assert not any(web.values()), web
    # The monitoring host does reach them (it scrapes them).
    assert all(_reach(monitoring()["host"], ip, ports, on_server=True).values())
    log(
        f"{host}'s metrics ports {ports}: closed to lab-80 and to a non-member, open to {monitoring()['host']}; "
        "Prometheus's and Alertmanager's ports closed to the non-member"
    )


def notifications() -> list[dict[str, Any]]:
    out = _docker("exec", WEBHOOK, "cat", "/srv/alerts.jsonl")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _seen(since: int, alertname: str, status: str, **labels: str) -> list[dict[str, Any]]:
    return [
        alert
        for message in notifications()[since:]
        for alert in message["alerts"]
        if alert["labels"].get("alertname") == alertname
        and alert["status"] == status
        and all(alert["labels"].get(k) == v for k, v in labels.items())
    ]


def test_a_stopped_worker_fires_node_missing_at_the_webhook_and_resolves_when_back() -> None:
    host, node = "lab-82", "ray-worker-1"
    since = len(notifications())
    server(host, "docker", "stop", node)
    stopped = time.monotonic()
    try:
        fired = wait_for(
            "RayNodeMissing at the webhook", lambda: _seen(since, "RayNodeMissing", "firing", host=host, node=node), 150
        )
        # status.yml says it too (and fails: the cluster is not whole).
        status = playbook("playbooks/status.yml")
        planned = len(planned_targets())
        assert status.rc != 0, status
        assert f"{planned - 1} of {planned} planned targets up" in status.out, status
        assert f"RayNodeMissing {host}" in status.out, status
    finally:
        server(host, "docker", "start", node)
    log(
        f"RayNodeMissing for {host}/{node} reached the webhook {fired:.0f} s after the stop "
        f"(for {monitoring()['alert_for']}, scrape every {monitoring()['scrape_interval']})"
    )
    resolved = wait_for(
        "the resolved notification", lambda: _seen(since, "RayNodeMissing", "resolved", host=host, node=node), 180
    )
    log(f"and its resolution {resolved:.0f} s after the start ({time.monotonic() - stopped:.0f} s in all)")
    wait_whole()


def test_a_whole_server_down_pages_once_not_once_per_worker() -> None:
    host = "lab-81"
    container = lab_hosts()[host]
    nodes = [node["name"] for node in plan()["hosts"][host]["nodes"]]
    since = len(notifications())
    _docker("stop", container)
    try:
        fired = wait_for("RayHostDown at the webhook", lambda: _seen(since, "RayHostDown", "firing", host=host), 150)
        # Longer than Alertmanager's group wait: whatever else this outage would send has arrived by then.
        time.sleep(15)
        firing = [message for message in notifications()[since:] if message["status"] == "firing"]
    finally:
        _docker("start", container)
    alerts = sorted((a["labels"]["alertname"], a["labels"].get("host", "")) for m in firing for a in m["alerts"])
    assert len(firing) == 1, firing
    assert alerts == [("RayHostDown", host)], alerts
    log(
        f"{host} stopped with its {len(nodes)} Ray nodes: one notification ({alerts}) {fired:.0f} s after the stop; "
        "the nodes' own alerts and the cluster's were held back"
    )
    wait_whole()
