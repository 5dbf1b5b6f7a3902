# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""The Celery launcher (roles/celery/files/launcher): configuration, URLs, app import, queue depths.

No network and no broker. The launcher is not part of plugins/, so its directory is put on
sys.path here. Celery itself is used when installed; otherwise a stand-in ``celery`` module with a
``Celery`` class is enough for the app-import tests.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

LAUNCHER = Path(__file__).resolve().parents[3] / "roles" / "celery" / "files" / "launcher"
if str(LAUNCHER) not in sys.path:
    sys.path.insert(0, str(LAUNCHER))

from ray_cluster_celery import cli, ray_jobs  # noqa: E402
from ray_cluster_celery.config import (  # noqa: E402
    ConfigError,
    broker_urls,
    celery_settings,
    import_app,
    load_config,
    parse_config,
    read_secret,
    redis_url,
)
from ray_cluster_celery.status import PRIORITY_SEP, collect, queue_depths, queue_keys  # noqa: E402

try:
    from celery import Celery
except ImportError:
    # The controller's venv has no Celery (and this directory, tests/unit/celery, may then be found
    # as a namespace package `celery`): a stand-in module with the one name the launcher uses.
    _celery = types.ModuleType("celery")

    class Celery:  # type: ignore[no-redef]
        def __init__(self, main: str | None = None) -> None:
            self.main = main

    _celery.Celery = Celery  # type: ignore[attr-defined]
    sys.modules["celery"] = _celery

SAMPLE = {
    "app": "wizardsofts_celery_sample.app:app",
    "broker": {
        "address": "172.28.84.84",
        "port": 6390,
        "password_file": "/run/secrets/broker_password",
        "db": 0,
        "result_db": 1,
    },
    "visibility_timeout_s": 7200,
    "task_time_limit_s": 3600,
    "prefetch_multiplier": 1,
    "worker": {"name": "celery-1@lab-80", "concurrency": 2, "queues": ["celery"]},
    "flower": {"address": "172.28.84.84", "port": 5555, "user": "admin", "password_file": "/run/secrets/flower_password"},
    "ray": {"jobs_url": "http://172.28.84.84:8265", "token_file": "/run/secrets/ray_token"},
}


def sample(**changes: object) -> dict:
    raw = json.loads(json.dumps(SAMPLE))
    raw.update(changes)
    return raw


# ---- configuration ------------------------------------------------------------------------------
def test_the_documented_example_parses() -> None:
    cfg = parse_config(sample())
    assert cfg.app == "wizardsofts_celery_sample.app:app"
    assert (cfg.broker.address, cfg.broker.port, cfg.broker.db, cfg.broker.result_db) == ("172.28.84.84", 6390, 0, 1)
    assert cfg.worker.name == "celery-1@lab-80" and cfg.worker.concurrency == 2 and cfg.worker.queues == ("celery",)
    assert cfg.flower.user == "admin" and cfg.flower.purge_offline_workers_s == 300
    assert cfg.ray.jobs_url == "http://172.28.84.84:8265"


def test_minimal_config_takes_the_defaults() -> None:
    cfg = parse_config({"app": "proj", "broker": {"address": "10.0.0.1"}})
    assert (cfg.broker.port, cfg.broker.password_file) == (6379, None)
    assert (cfg.visibility_timeout_s, cfg.task_time_limit_s) == (7200, 3600)
    assert cfg.worker.queues == ("celery",) and cfg.flower.user is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "JSON object"),
        (sample(app=""), "'app'"),
        (sample(broker={"port": 6390}), "broker.address"),
        (sample(broker={"address": "a", "port": "6390"}), "broker.port"),
        (sample(broker={"address": "a", "pasword_file": "/x"}), "unknown key(s) in broker: pasword_file"),
        (sample(worker={"queues": []}), "worker.queues"),
        (sample(worker={"concurrency": 0}), "worker.concurrency"),
        (sample(prefetch_multiplier=True), "prefetch_multiplier"),
        (sample(flower={"user": "admin"}), "go together"),
        (sample(visibility_timeout_s=600, task_time_limit_s=3600), "longer than 'task_time_limit_s'"),
        (sample(extra=1), "unknown key(s) in the configuration: extra"),
    ],
)
def test_bad_configs_are_refused(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as exc:
        parse_config(raw)
    assert message in str(exc.value)


def test_no_time_limit_needs_no_visibility_check() -> None:
    assert parse_config(sample(task_time_limit_s=None, visibility_timeout_s=60)).task_time_limit_s is None


def test_load_config_from_the_env_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(sample()))
    monkeypatch.setenv("RAY_CLUSTER_CELERY_CONFIG", str(path))
    assert load_config().worker.name == "celery-1@lab-80"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.json"))


def test_secrets_lose_only_the_final_line_break(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(" s3cr et \n")
    assert read_secret(str(secret), "broker password") == " s3cr et "
    assert read_secret(None, "broker password") is None
    secret.write_text("\n")
    with pytest.raises(ConfigError, match="empty") as exc:
        read_secret(str(secret), "broker password")
    assert "s3cr" not in str(exc.value)


# ---- URLs -----------------------------------------------------------------------------------
AWKWARD = ["p@ss:w/rd", "100%sure", "a#b?c&d=e", "sp ace+plus", "ünï/cødé", "[]{}\\\"'`~!$^*()|;,<>"]


@pytest.mark.parametrize("password", AWKWARD)
def test_redis_url_quotes_awkward_passwords(password: str) -> None:
    url = redis_url("172.28.84.84", 6390, 1, password)
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("redis", "172.28.84.84", 6390, "/1")
    assert unquote(parts.password) == password
    assert parts.username in ("", None)


@pytest.mark.parametrize("password", AWKWARD)
def test_kombu_reads_the_password_back(password: str) -> None:
    url_mod = pytest.importorskip("kombu.utils.url")
    assert url_mod.url_to_parts(redis_url("h", 6390, 0, password)).password == password


def test_redis_url_without_password_and_ipv6() -> None:
    assert redis_url("10.0.0.1", 6379, 0) == "redis://10.0.0.1:6379/0"
    assert redis_url("fd00::1", 6390, 2, "x") == "redis://:x@[fd00::1]:6390/2"


def test_broker_urls_and_settings(tmp_path: Path) -> None:
    pw = tmp_path / "broker_password"
    pw.write_text("p@ss/w:rd\n")
    cfg = parse_config(sample(broker={**SAMPLE["broker"], "password_file": str(pw)}))
    broker, backend = broker_urls(cfg)
    assert broker == "redis://:p%40ss%2Fw%3Ard@172.28.84.84:6390/0"
    assert backend == "redis://:p%40ss%2Fw%3Ard@172.28.84.84:6390/1"
    conf = celery_settings(cfg, broker, backend)
    assert conf["task_acks_late"] is conf["task_reject_on_worker_lost"] is True
    assert conf["result_backend_transport_options"] == {"visibility_timeout": 7200}
    assert conf["broker_transport_options"] == {
        "visibility_timeout": 7200,
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
    assert conf["broker_connection_max_retries"] is None and conf["broker_connection_retry_on_startup"] is True
    assert (conf["worker_prefetch_multiplier"], conf["task_time_limit"]) == (1, 3600)
    assert conf["worker_send_task_events"] and conf["task_send_sent_event"] and conf["result_extended"]
    # the two transport-option dicts are not one object (Celery may update either)
    assert conf["broker_transport_options"] is not conf["result_backend_transport_options"]


def test_worker_and_flower_command_lines_carry_no_secret(tmp_path: Path) -> None:
    pw = tmp_path / "flower_password"
    pw.write_text("fl0wer-secret\n")
    cfg = parse_config(sample(flower={**SAMPLE["flower"], "password_file": str(pw)}))
    assert cli.worker_argv(cfg) == ["worker", "--loglevel=INFO", "--hostname=celery-1@lab-80", "-Q", "celery", "--concurrency=2"]
    argv = cli.flower_argv(cfg)
    assert argv[:3] == ["flower", "--address=172.28.84.84", "--port=5555"] and "--purge_offline_workers=300" in argv
    assert not any("fl0wer-secret" in a for a in argv)
    assert cli.flower_basic_auth(cfg) == "admin:fl0wer-secret"
    pw.write_text("a,b\n")
    with pytest.raises(ConfigError):
        cli.flower_basic_auth(cfg)


def test_flower_needs_an_address() -> None:
    cfg = parse_config(sample(flower={}))
    with pytest.raises(ConfigError, match=r"flower\.address"):
        cli.flower_argv(cfg)
    assert cli.flower_basic_auth(cfg) is None


def test_ray_jobs_refuses_other_schemes() -> None:
    with pytest.raises(ray_jobs.RayJobError, match="http"):
        ray_jobs.status("x", jobs_url="file:///etc", token=None)


def test_worker_name_defaults_to_celery_at_hostname() -> None:
    cfg = parse_config({"app": "x", "broker": {"address": "h"}, "worker": {"queues": ["a", "b"]}})
    assert cli.worker_name(cfg).startswith("celery@")
    assert cli.worker_argv(cfg)[3:5] == ["-Q", "a,b"]


# ---- app import -------------------------------------------------------------------------------
@pytest.fixture
def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Importable test modules: every form the launcher accepts, and some it refuses."""
    files = {
        "celtest_attr.py": "from celery import Celery\nmy_app = Celery('attr')\nclass Holder:\n    inner = Celery('dotted')\n",
        "celtest_app.py": "from celery import Celery\napp = Celery('bare-app')\n",
        "celtest_celery.py": "from celery import Celery\ncelery = Celery('bare-celery')\n",
        "celtest_pkg/__init__.py": "",
        "celtest_pkg/celery.py": "from celery import Celery\napp = Celery('pkg-celery-module')\n",
        "celtest_none.py": "app = 'not an app'\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in ("celtest_attr", "celtest_app", "celtest_celery", "celtest_pkg", "celtest_pkg.celery", "celtest_none"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("spec", "main"),
    [
        ("celtest_attr:my_app", "attr"),
        ("celtest_attr:Holder.inner", "dotted"),
        ("celtest_app", "bare-app"),
        ("celtest_celery", "bare-celery"),
        ("celtest_pkg", "pkg-celery-module"),
    ],
)
def test_app_import_forms(apps: Path, spec: str, main: str) -> None:
    app = import_app(spec)
    assert isinstance(app, Celery) and app.main == main


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("celtest_missing_module:app", "cannot import"),
        ("celtest_attr:nope", "no attribute nope"),
        ("celtest_none", "is not a Celery app"),
        ("celtest_attr:Holder", "is not a Celery app"),
        (":app", "no module"),
    ],
)
def test_app_import_errors(apps: Path, spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as exc:
        import_app(spec)
    assert message in str(exc.value)


# ---- queue depths -------------------------------------------------------------------------------
class FakeRedis:
    """The few redis-py calls the status command makes, on an in-memory dict of lists."""

    def __init__(self, lists: dict[str, int], unacked: int = 0, up: bool = True) -> None:
        self.lists, self.unacked, self.up = lists, unacked, up
        self.asked: list[str] = []

    def ping(self) -> bool:
        if not self.up:
            raise ConnectionError("refused")
        return True

    def hlen(self, key: str) -> int:
        return self.unacked if key == "unacked" else 0

    def pipeline(self) -> FakeRedis:
        self._batch: list[int] = []
        return self

    def llen(self, key: str) -> FakeRedis:
        self.asked.append(key)
        self._batch.append(self.lists.get(key, 0))
        return self

    def execute(self) -> list[int]:
        return self._batch


def test_queue_keys_follow_kombus_priority_steps() -> None:
    assert queue_keys("celery") == ["celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"]
    assert queue_keys("q", steps=[0, 5], prefix="p:") == ["p:q", f"p:q{PRIORITY_SEP}5"]


def test_kombu_agrees_on_the_priority_keys() -> None:
    redis_transport = pytest.importorskip("kombu.transport.redis")
    assert redis_transport.Channel.sep == PRIORITY_SEP
    assert tuple(redis_transport.PRIORITY_STEPS) == (0, 3, 6, 9)


def test_queue_depths_add_the_priority_lists() -> None:
    fake = FakeRedis(
        {"celery": 5, f"celery{PRIORITY_SEP}3": 2, f"celery{PRIORITY_SEP}9": 1, "other": 7, f"other{PRIORITY_SEP}6": 3},
    )
    assert queue_depths(fake, ["celery", "other", "empty"]) == {"celery": 8, "other": 10, "empty": 0}
    assert len(fake.asked) == 12


class FakeInspect:
    def __init__(self, pings: dict | None, active: dict | None) -> None:
        self._pings, self._active = pings, active

    def ping(self) -> dict | None:
        return self._pings

    def active(self) -> dict | None:
        return self._active


class FakeApp:
    def __init__(self, pings: dict | None, active: dict | None) -> None:
        self.control = types.SimpleNamespace(inspect=lambda timeout: FakeInspect(pings, active))


def test_status_document() -> None:
    app = FakeApp({"w1@h": {"ok": "pong"}, "w2@h": {"ok": "pong"}}, {"w1@h": [{"id": 1}, {"id": 2}], "w2@h": []})
    doc = collect(app, FakeRedis({"celery": 4}, unacked=2), ["celery"])
    assert doc["broker"]["reachable"] is True and doc["broker"]["unacked"] == 2
    assert doc["queues"] == {"celery": 4}
    assert doc["workers"] == {"w1@h": {"ok": True, "active": 2}, "w2@h": {"ok": True, "active": 0}}


def test_status_without_broker_or_workers() -> None:
    doc = collect(FakeApp(None, None), FakeRedis({}, up=False), ["celery"])
    assert doc == {"broker": {"reachable": False, "error": "ConnectionError"}, "queues": {}, "workers": {}}
    doc = collect(FakeApp(None, None), FakeRedis({}), ["celery"])
    assert doc["workers"] == {} and doc["queues"] == {"celery": 0}


# ---- Ray jobs --------------------------------------------------------------------------------
def test_ray_jobs_submit_and_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []
    states = iter(["PENDING", "RUNNING", "SUCCEEDED"])

    def fake_request(method: str, url: str, token: str | None, body: object = None, timeout: float = 30) -> dict:
        calls.append((method, url, token, body))
        if method == "POST":
            return {"job_id": "02000000", "submission_id": "raysubmit_abc"}
        return {"status": next(states)}

    monkeypatch.setattr(ray_jobs, "_request", fake_request)
    bearer = "tok"
    sid = ray_jobs.submit("python -c 1", jobs_url="http://head:8265/", token=bearer)
    assert sid == "raysubmit_abc"
    assert calls[0] == ("POST", "http://head:8265/api/jobs/", "tok", {"entrypoint": "python -c 1"})
    assert ray_jobs.wait(sid, timeout=5, poll_s=0, jobs_url="http://head:8265", token=bearer) == "SUCCEEDED"
    assert calls[-1][:2] == ("GET", "http://head:8265/api/jobs/raysubmit_abc")


def test_ray_jobs_reads_url_and_token_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "ray_token"
    token.write_text("tok-123\n")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(sample(ray={"jobs_url": "http://head:8265", "token_file": str(token)})))
    monkeypatch.setenv("RAY_CLUSTER_CELERY_CONFIG", str(path))
    seen: dict = {}

    def fake_urlopen(req: object, timeout: float) -> object:
        seen["url"], seen["auth"], seen["body"] = req.full_url, req.get_header("Authorization"), req.data

        class Resp:
            def __enter__(self) -> Resp:
                return self

            def __exit__(self, *a: object) -> None:
                return None

            def read(self) -> bytes:
                return b'{"submission_id": "raysubmit_x"}'

        return Resp()

    monkeypatch.setattr(ray_jobs.urllib.request, "urlopen", fake_urlopen)
    assert ray_jobs.submit("echo hi", runtime_env={"pip": ["x"]}) == "raysubmit_x"
    assert seen["url"] == "http://head:8265/api/jobs/" and seen["auth"] == "Bearer tok-123"
    assert json.loads(seen["body"]) == {"entrypoint": "echo hi", "runtime_env": {"pip": ["x"]}}
