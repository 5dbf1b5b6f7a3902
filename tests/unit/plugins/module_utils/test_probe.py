# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Unit tests for the host probe (plugins/module_utils/_probe.py).

Command outputs are what the lab printed (``docker exec ray-lab-80 ...``, Debian 13, dpkg 1.22,
systemd, docker.io 26.1.5, ufw 0.36.2), trimmed where a fixture says so; the few lines no lab
host has (held, removed packages) are built in dpkg's own format and say so. Commands run through
a fake runner that answers only the argv it was given and records every call.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils import _probe
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._lifecycle import engine_versions
from ansible_collections.wizardsofts.ray_cluster.plugins.module_utils._probe import (
    MISSING_STAT,
    containers_argv,
    digest_container,
    digest_info,
    image_argv,
    info_argv,
    packages_argv,
    parse_docker_info,
    parse_packages,
    parse_service,
    probe,
    read_docker,
    read_packages,
    read_services,
    read_token_file,
    read_ufw,
    service_argv,
    stat_path,
    stat_paths,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "probe"
DOCKER = "/usr/bin/docker"
DPKG_QUERY = "/usr/bin/dpkg-query"
SYSTEMCTL = "/usr/bin/systemctl"
UFW = "/usr/sbin/ufw"
LABEL = "com.wizardsofts.cluster"
IMAGE = "wizardsofts/ray:2.60.0-py311"
IMAGE_ID = "sha256:a583e3d456f4808a15c099d6b91d54c01739533111bd8477428b3dd162c2a745"

# dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Version}\n' ufw docker.io nosuchpkg (rc 1;
# dpkg lists in its own order, not the asked one).
DPKG_OUT = "docker.io\tii \t26.1.5+dfsg1-9+deb13u1+b1\nufw\tii \t0.36.2-9\n"
DPKG_ERR = "dpkg-query: no packages found matching nosuchpkg\n"
# ... libc6:amd64 (an arch-qualified name; ${Package} prints it without the architecture).
DPKG_ARCH_OUT = "libc6\tii \t2.41-12+deb13u5\n"
# Built in the same format: a held package, one removed with its configuration files left, one
# dpkg knows of but never installed (no lab host has these states).
DPKG_OTHER_STATES = "htop\thi \t3.4.1-5\nnano\trc \t8.4-1\nvim\tun \t\n"

# systemctl show <unit> --property=UnitFileState,ActiveState (rc 0 for all three).
SHOW_DOCKER = "ActiveState=active\nUnitFileState=enabled\n"
SHOW_UFW = "ActiveState=inactive\nUnitFileState=enabled\n"  # a oneshot unit: enabled, not active
SHOW_MISSING = "ActiveState=inactive\nUnitFileState=\n"  # systemctl show nosuch

# docker info --format '{{json .}}', trimmed to a few fields.
INFO_UP = (
    '{"ID":"5e7911b1-bde1-4944-a281-2928d3da5aa6","Containers":4,"ContainersRunning":4,"Images":1,"Driver":"overlay2",'
    '"CgroupDriver":"cgroupfs","CgroupVersion":"1","Name":"lab-80","ServerVersion":"26.1.5+dfsg1",'
    '"ClientInfo":{"Version":"26.1.5+dfsg1","Plugins":[{"Name":"compose","Version":"2.26.1-4"}]}}\n'
)
# docker -H unix:///nonexistent.sock info --format '{{json .}}': the daemon is not there, yet the
# client exits 0 and prints its own half (trimmed), the reason in ServerErrors and on stderr.
DOWN_ERR = "Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?\n"
INFO_DOWN = (
    '{"ID":"","Containers":0,"Driver":"","ServerVersion":"","Name":"",'
    '"ServerErrors":["Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?"],'
    '"ClientInfo":{"Version":"26.1.5+dfsg1","Plugins":[{"Name":"compose","Version":"2.26.1-4"}]}}\n'
)
# docker ps -a -q --no-trunc --filter label=com.wizardsofts.cluster (two of the four).
PS_OUT = (
    "2827749047f7a1df3c1b4323a3a9d6555ffb0f4d0713c72aeaf7d62bdb232146\n"
    "68d178e2fc6f564c361d0353e4eaf5b7783678ae194e7da29d652491ba064453\n"
)
IDS = PS_OUT.split()
# docker inspect <ids>, trimmed to a few fields per container; the second one's State is that of a
# stopped container (all the lab's were running).
INSPECTED = [
    {
        "Id": IDS[0],
        "Name": "/ray-worker-4",
        "State": {"Status": "running", "Running": True, "Health": {"Status": "healthy"}},
        "Image": IMAGE_ID,
        "Config": {"Image": IMAGE, "Labels": {"com.docker.compose.project": "ray-workers", LABEL: "ray"}},
    },
    {
        "Id": IDS[1],
        "Name": "/ray-worker-3",
        "State": {"Status": "exited", "Running": False, "ExitCode": 137},
        "Image": IMAGE_ID,
        "Config": {"Image": IMAGE, "Labels": {"com.docker.compose.project": "ray-workers", LABEL: "ray"}},
    },
]
# What read_docker returns of them: the image count left out of info, an empty HostConfig added
# (these have none), the rest as inspected.
INFO_UP_DIGEST = {key: value for key, value in json.loads(INFO_UP).items() if key != "Images"}
INSPECTED_DIGEST = [dict(container, HostConfig={}) for container in INSPECTED]
# docker inspect <an id that is gone>: rc 1, "[]" on stdout.
NO_SUCH_OBJECT = "Error: No such object: 0000000000000000000000000000000000000000000000000000000000000000\n"
# docker image inspect --format '{{.Id}}' nosuch:1 (rc 1).
NO_SUCH_IMAGE = "Error response from daemon: No such image: nosuch:1\n"


class FakeRunner:
    """Answers each argv it knows; any other argv fails the test. ``calls`` records them."""

    def __init__(self, answers: Mapping[tuple[str, ...], tuple[int, str, str]]) -> None:
        self.answers = dict(answers)
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        key = tuple(argv)
        if key not in self.answers:
            raise AssertionError(f"unexpected command: {argv}")
        return self.answers[key]


def which_of(**paths: str | None) -> Any:
    """A ``which`` that knows ``paths`` (``dpkg_query`` stands for dpkg-query)."""
    known = {name.replace("_", "-"): path for name, path in paths.items()}
    return lambda name: known.get(name)


# --------------------------------------------------------------------------------------------
# stat
# --------------------------------------------------------------------------------------------


def test_stat_of_a_file_a_directory_and_a_missing_path(tmp_path: Path) -> None:
    data = b'{"live-restore": true}\n'
    file = tmp_path / "daemon.json"
    file.write_bytes(data)
    file.chmod(0o640)
    folder = tmp_path / "ray-cluster"
    folder.mkdir()
    folder.chmod(0o2750)
    user, group = _probe._owner(os.getuid()), _probe._group(os.getgid())
    result = stat_paths([str(file), str(folder), str(tmp_path / "nope")])
    assert list(result) == [str(file), str(folder), str(tmp_path / "nope")]
    assert result[str(file)] == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "owner": user,
        "group": group,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert result[str(folder)] == {
        "exists": True,
        "type": "directory",
        "mode": "2750",
        "owner": user,
        "group": group,
        "sha256": None,
    }
    assert result[str(tmp_path / "nope")] == MISSING_STAT
    assert MISSING_STAT == {"exists": False, "type": None, "mode": None, "owner": None, "group": None, "sha256": None}


def test_stat_names_owner_and_group(tmp_path: Path) -> None:
    import grp
    import pwd

    file = tmp_path / "f"
    file.write_text("x")
    result = stat_path(str(file))
    assert result["owner"] == pwd.getpwuid(os.getuid()).pw_name
    assert result["group"] == grp.getgrgid(os.getgid()).gr_name


def test_stat_of_an_empty_file_and_a_large_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    large = tmp_path / "large"
    content = os.urandom(3 * (1 << 20) + 17)  # several read chunks
    large.write_bytes(content)
    assert stat_path(str(empty))["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert stat_path(str(large))["sha256"] == hashlib.sha256(content).hexdigest()


def test_stat_follows_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("hello\n")
    target.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    assert stat_path(str(link)) == stat_path(str(target))
    assert stat_path(str(link))["mode"] == "0600"
    assert stat_path(str(dangling)) == MISSING_STAT


def test_stat_of_other_types_and_a_path_through_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o644)
    result = stat_path(str(fifo))  # never opened: reading a FIFO would block
    assert (result["type"], result["mode"], result["sha256"]) == ("other", "0644", None)
    file = tmp_path / "file"
    file.write_text("x")
    assert stat_path(str(file / "below")) == MISSING_STAT


def test_stat_ids_without_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(number: int) -> Any:
        raise KeyError(number)

    monkeypatch.setattr(_probe.pwd, "getpwuid", unknown)
    monkeypatch.setattr(_probe.grp, "getgrgid", unknown)
    file = tmp_path / "f"
    file.write_text("x")
    result = stat_path(str(file))
    assert (result["owner"], result["group"]) == (str(os.getuid()), str(os.getgid()))


def test_stat_fails_on_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "auth_token"
    file.write_text("secret")
    file.chmod(0o000)
    if os.geteuid() == 0:  # root reads it anyway: make open() refuse as it would for a user

        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise PermissionError(13, "Permission denied", str(file))

        monkeypatch.setattr(_probe, "open", refuse, raising=False)
    with pytest.raises(ValueError, match=rf"^cannot read {file}: Permission denied$"):
        stat_path(str(file))


def test_stat_fails_on_a_path_it_cannot_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: str) -> Any:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(_probe.os, "stat", refuse)
    with pytest.raises(ValueError, match=r"^cannot read /etc/ray-cluster/auth_token: Permission denied$"):
        stat_path("/etc/ray-cluster/auth_token")


def test_stat_wants_absolute_paths() -> None:
    with pytest.raises(ValueError, match="etc/hosts: not an absolute path"):
        stat_paths(["etc/hosts"])


# --------------------------------------------------------------------------------------------
# packages
# --------------------------------------------------------------------------------------------


def test_packages_argv_is_one_call_with_dpkgs_format() -> None:
    assert packages_argv(DPKG_QUERY, ["ufw", "docker.io", "ufw"]) == [
        DPKG_QUERY,
        "-W",
        r"-f=${Package}\t${db:Status-Abbrev}\t${Version}\n",
        "ufw",
        "docker.io",
    ]


def test_read_packages_of_the_lab() -> None:
    names = ["ufw", "docker.io", "nosuchpkg"]
    run = FakeRunner({tuple(packages_argv(DPKG_QUERY, names)): (1, DPKG_OUT, DPKG_ERR)})
    result = read_packages(run, DPKG_QUERY, names)
    assert result == {"ufw": "0.36.2-9", "docker.io": "26.1.5+dfsg1-9+deb13u1+b1", "nosuchpkg": None}
    assert list(result) == names
    assert len(run.calls) == 1


def test_packages_map_arch_qualified_names_back() -> None:
    assert parse_packages(["libc6:amd64"], DPKG_ARCH_OUT) == {"libc6:amd64": "2.41-12+deb13u5"}
    # ${binary:Package} style output (architecture on dpkg's side) maps back as well.
    assert parse_packages(["libc6"], "libc6:amd64\tii \t2.41-12+deb13u5\n") == {"libc6": "2.41-12+deb13u5"}


def test_packages_count_only_installed_states() -> None:
    assert parse_packages(["htop", "nano", "vim"], DPKG_OTHER_STATES) == {"htop": "3.4.1-5", "nano": None, "vim": None}
    # Two architectures of one package, only one installed: that one counts.
    assert parse_packages(["libfoo"], "libfoo\tun \t\nlibfoo\tii \t1.0\n") == {"libfoo": "1.0"}


def test_packages_all_unknown_and_none_asked() -> None:
    run = FakeRunner({tuple(packages_argv(DPKG_QUERY, ["nosuch"])): (1, "", "dpkg-query: no packages found matching nosuch\n")})
    assert read_packages(run, DPKG_QUERY, ["nosuch"]) == {"nosuch": None}
    nothing = FakeRunner({})
    assert read_packages(nothing, None, []) == {}
    assert nothing.calls == []


def test_packages_fail_on_another_error() -> None:
    run = FakeRunner({tuple(packages_argv(DPKG_QUERY, ["ufw"])): (2, "", "dpkg-query: error: cannot access archive\n")})
    with pytest.raises(ValueError, match=r"^dpkg-query failed \(rc=2\): dpkg-query: error: cannot access archive$"):
        read_packages(run, DPKG_QUERY, ["ufw"])
    with pytest.raises(ValueError, match="dpkg-query not found"):
        read_packages(FakeRunner({}), None, ["ufw"])


# --------------------------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------------------------


def test_parse_service_of_the_lab() -> None:
    assert parse_service(SHOW_DOCKER) == {"enabled": True, "active": True}
    assert parse_service(SHOW_UFW) == {"enabled": True, "active": False}
    assert parse_service(SHOW_MISSING) == {"enabled": False, "active": False}
    assert parse_service("ActiveState=active\nUnitFileState=enabled-runtime\n") == {"enabled": False, "active": True}


def test_read_services_one_call_per_unit() -> None:
    run = FakeRunner(
        {
            tuple(service_argv(SYSTEMCTL, "docker")): (0, SHOW_DOCKER, ""),
            tuple(service_argv(SYSTEMCTL, "nosuch")): (0, SHOW_MISSING, ""),
        }
    )
    assert read_services(run, SYSTEMCTL, ["docker", "nosuch"]) == {
        "docker": {"enabled": True, "active": True},
        "nosuch": {"enabled": False, "active": False},
    }
    assert run.calls == [
        [SYSTEMCTL, "show", "docker", "--property=UnitFileState,ActiveState"],
        [SYSTEMCTL, "show", "nosuch", "--property=UnitFileState,ActiveState"],
    ]


def test_read_services_fails_when_systemctl_does() -> None:
    error = "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
    run = FakeRunner({tuple(service_argv(SYSTEMCTL, "docker")): (1, "", error)})
    with pytest.raises(ValueError, match=r"^systemctl show docker failed \(rc=1\): System has not been booted"):
        read_services(run, SYSTEMCTL, ["docker"])
    with pytest.raises(ValueError, match="systemctl not found"):
        read_services(FakeRunner({}), None, ["docker"])


# --------------------------------------------------------------------------------------------
# ufw
# --------------------------------------------------------------------------------------------


UFW_FIXTURES = FIXTURES / "ufw"
IPTABLES = "/usr/sbin/iptables"
LOADED_ARGV = (IPTABLES, "-n", "-L", "ufw-user-input")


def ufw_files(tmp_path: Path, missing: tuple[str, ...] = ()) -> dict[str, str]:
    """UFW's four files as a lab server has them, under ``tmp_path`` (``missing`` left out)."""
    names = {"rules": "user.rules", "rules6": "user6.rules", "conf": "ufw.conf", "defaults": "default-ufw"}
    files = {}
    for key, name in names.items():
        files[key] = str(tmp_path / name)
        if key not in missing:
            (tmp_path / name).write_text((UFW_FIXTURES / name).read_text())
    return files


def test_read_ufw_reads_its_files_and_whether_it_is_loaded(tmp_path: Path) -> None:
    files = ufw_files(tmp_path)
    run = FakeRunner({LOADED_ARGV: (0, "Chain ufw-user-input (1 references)\n", "")})
    result = read_ufw(run, UFW, IPTABLES, files)
    assert result == {"files": {k: Path(v).read_text() for k, v in files.items()}, "loaded": True}
    assert run.calls == [list(LOADED_ARGV)]  # UFW itself is not run


def test_read_ufw_not_loaded_missing_files_no_iptables_no_ufw(tmp_path: Path) -> None:
    files = ufw_files(tmp_path, missing=("rules6",))
    run = FakeRunner({LOADED_ARGV: (1, "", "iptables: No chain/target/match by that name.\n")})
    result = read_ufw(run, UFW, IPTABLES, files)
    assert result is not None
    assert (result["loaded"], result["files"]["rules6"], result["files"]["conf"] is not None) == (False, None, True)
    assert read_ufw(FakeRunner({}), UFW, None, files)["loaded"] is None  # type: ignore[index]
    nothing = FakeRunner({})
    assert read_ufw(nothing, None, IPTABLES, files) is None
    assert nothing.calls == []


# --------------------------------------------------------------------------------------------
# Docker
# --------------------------------------------------------------------------------------------


def docker_runner(extra: Mapping[tuple[str, ...], tuple[int, str, str]] | None = None) -> FakeRunner:
    """The lab's daemon: the image is there, nosuch:1 is not, two labelled containers; ``extra``
    adds or replaces answers."""
    answers: dict[tuple[str, ...], tuple[int, str, str]] = {
        tuple(info_argv(DOCKER)): (0, INFO_UP, ""),
        tuple(image_argv(DOCKER, IMAGE)): (0, IMAGE_ID + "\n", ""),
        tuple(image_argv(DOCKER, "nosuch:1")): (1, "", NO_SUCH_IMAGE),
        tuple(containers_argv(DOCKER, LABEL)): (0, PS_OUT, ""),
        (DOCKER, "inspect", *IDS): (0, json.dumps(INSPECTED, indent=4) + "\n", ""),
    }
    answers.update(extra or {})
    return FakeRunner(answers)


def test_parse_docker_info() -> None:
    info, error = parse_docker_info(0, INFO_UP, "")
    assert error == ""
    assert info is not None
    assert (info["ServerVersion"], info["ClientInfo"]["Plugins"][0]["Version"]) == ("26.1.5+dfsg1", "2.26.1-4")


def test_parse_docker_info_with_the_daemon_down() -> None:
    # The client exits 0: ServerErrors says it failed.
    assert parse_docker_info(0, INFO_DOWN, DOWN_ERR) == (None, DOWN_ERR.strip())
    assert parse_docker_info(0, INFO_DOWN, "") == (None, DOWN_ERR.strip())
    assert parse_docker_info(1, "", "permission denied while trying to connect\n") == (
        None,
        "permission denied while trying to connect",
    )
    assert parse_docker_info(0, "not json", "") == (None, "docker info printed no JSON: not json")
    assert parse_docker_info(0, "[]", "") == (None, "docker info printed no JSON object")


def test_read_docker_of_the_lab() -> None:
    run = docker_runner()
    result = read_docker(run, DOCKER, [IMAGE, "nosuch:1"], LABEL)
    assert result is not None
    assert result["error"] == ""
    assert result["info"] == INFO_UP_DIGEST
    assert result["images"] == {IMAGE: IMAGE_ID, "nosuch:1": None}
    assert result["containers"] == INSPECTED_DIGEST
    assert run.calls[0] == [DOCKER, "info", "--format", "{{json .}}"]
    assert [DOCKER, "image", "inspect", "--format", "{{.Id}}", IMAGE] in run.calls
    assert [DOCKER, "ps", "-a", "-q", "--no-trunc", "--filter", f"label={LABEL}"] in run.calls
    assert run.calls[-1] == [DOCKER, "inspect", *IDS]


def test_read_docker_with_the_daemon_down_asks_nothing_more() -> None:
    run = FakeRunner({tuple(info_argv(DOCKER)): (0, INFO_DOWN, DOWN_ERR)})
    assert read_docker(run, DOCKER, [IMAGE, "nosuch:1"], LABEL) == {
        "info": None,
        "error": DOWN_ERR.strip(),
        "images": {IMAGE: None, "nosuch:1": None},
        "containers": [],
    }
    assert len(run.calls) == 1


def test_read_docker_without_label_images_or_containers() -> None:
    run = docker_runner()
    assert read_docker(run, DOCKER, [], "") == {"info": INFO_UP_DIGEST, "error": "", "images": {}, "containers": []}
    assert run.calls == [info_argv(DOCKER)]
    empty = FakeRunner({tuple(info_argv(DOCKER)): (0, INFO_UP, ""), tuple(containers_argv(DOCKER, "other")): (0, "", "")})
    assert read_docker(empty, DOCKER, [], "other")["containers"] == []
    assert len(empty.calls) == 2  # no docker inspect of nothing


def test_read_docker_keeps_what_inspect_found() -> None:
    # A container removed between docker ps and docker inspect: rc 1, the others still listed.
    run = docker_runner({(DOCKER, "inspect", *IDS): (1, json.dumps(INSPECTED[:1]), NO_SUCH_OBJECT)})
    assert read_docker(run, DOCKER, [], LABEL)["containers"] == INSPECTED_DIGEST[:1]
    gone = docker_runner({(DOCKER, "inspect", *IDS): (1, "[]\n", NO_SUCH_OBJECT)})
    assert read_docker(gone, DOCKER, [], LABEL)["containers"] == []


def test_read_docker_fails_when_listing_fails() -> None:
    run = docker_runner({tuple(containers_argv(DOCKER, LABEL)): (1, "", "Error response from daemon: invalid filter\n")})
    with pytest.raises(ValueError, match=r"^docker ps failed \(rc=1\): Error response from daemon: invalid filter$"):
        read_docker(run, DOCKER, [], LABEL)
    broken = docker_runner({(DOCKER, "inspect", *IDS): (1, "", "Error: something else\n")})
    with pytest.raises(ValueError, match=r"^docker inspect failed \(rc=1\): Error: something else$"):
        read_docker(broken, DOCKER, [], LABEL)


def _leaves(value: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every leaf of nested dicts by its key path (lists are leaves)."""
    if not isinstance(value, dict):
        return {path: value}
    leaves: dict[tuple[str, ...], Any] = {}
    for key, item in value.items():
        leaves.update(_leaves(item, (*path, key)))
    return leaves


def test_digest_of_the_labs_real_inspect_keeps_what_the_collection_reads() -> None:
    # docker inspect of lab-84's four containers (the head and three workers), as read on the lab.
    full = json.loads((FIXTURES / "docker-inspect.json").read_text())
    digests = [digest_container(container, "com.wizardsofts.") for container in full]
    for container, digest in zip(full, digests, strict=True):
        kept = _leaves(digest)
        # Nothing made up: every kept value is the inspected one at the same place.
        assert all(kept[path] == _leaves(container)[path] for path in kept)
        assert set(kept) >= {
            ("Id",),
            ("Name",),
            ("Image",),
            ("RestartCount",),
            ("State", "Running"),
            ("State", "Status"),
            ("State", "StartedAt"),
            ("State", "Health", "Status"),
            ("Config", "Image"),
            ("HostConfig", "NanoCpus"),
            ("HostConfig", "Memory"),
            ("HostConfig", "ShmSize"),
            ("HostConfig", "NetworkMode"),
            ("HostConfig", "RestartPolicy", "Name"),
        }
        labels = digest["Config"]["Labels"]
        assert {
            "com.docker.compose.project",
            "com.docker.compose.service",
            "com.wizardsofts.spec",
            "com.wizardsofts.cluster",
        } <= set(labels)
        assert not [key for key in labels if key.startswith(("io.ray.", "org.opencontainers."))]  # the image's own
        assert "Log" not in digest["State"]["Health"]
    assert sorted(d["Name"] for d in digests) == ["/ray-head", "/ray-worker-1", "/ray-worker-2", "/ray-worker-3"]
    # What every later task of the run carries: a small part of the full read.
    assert len(json.dumps(digests)) * 5 < len(json.dumps(full))


def test_digest_of_the_labs_real_docker_info() -> None:
    full = json.loads((FIXTURES / "docker-info.json").read_text())
    digest = digest_info(full)
    assert digest["ServerVersion"] == full["ServerVersion"]
    assert digest["ClientInfo"]["Plugins"] == [
        {"Name": plugin["Name"], "Version": plugin["Version"]} for plugin in full["ClientInfo"]["Plugins"]
    ]
    assert engine_versions(digest) == engine_versions(full)
    assert len(json.dumps(digest)) * 5 < len(json.dumps(full))


def test_digests_of_odd_entries() -> None:
    assert digest_container({}, "x.") == {"State": {}, "Config": {"Image": None, "Labels": {}}, "HostConfig": {}}
    assert digest_container({"State": None, "Config": {"Labels": None}, "HostConfig": "?"}, "") == {
        "State": {},
        "Config": {"Image": None, "Labels": {}},
        "HostConfig": {},
    }
    assert digest_info({"ClientInfo": {"Plugins": [{"Name": "compose", "Version": "2.1.0", "Path": "/x"}, "junk"]}}) == {
        "ClientInfo": {"Version": None, "Plugins": [{"Name": "compose", "Version": "2.1.0"}]}
    }


def test_read_docker_without_docker() -> None:
    run = FakeRunner({})
    assert read_docker(run, None, [IMAGE], LABEL) is None
    assert run.calls == []


# --------------------------------------------------------------------------------------------
# probe: only the sections asked for
# --------------------------------------------------------------------------------------------


def test_probe_returns_only_what_is_asked(tmp_path: Path) -> None:
    run = FakeRunner({})
    assert probe(run, which_of()) == {}
    assert probe(run, which_of(), stat=[], packages=[], services=[]) == {"stats": {}, "packages": {}, "services": {}}
    assert run.calls == []
    assert set(probe(run, which_of(), stat=[str(tmp_path)])) == {"stats"}


def test_probe_everything(tmp_path: Path) -> None:
    names = ["ufw", "docker.io", "nosuchpkg"]
    run = docker_runner(
        {
            tuple(packages_argv(DPKG_QUERY, names)): (1, DPKG_OUT, DPKG_ERR),
            tuple(service_argv(SYSTEMCTL, "docker")): (0, SHOW_DOCKER, ""),
            LOADED_ARGV: (0, "", ""),
        }
    )
    which = which_of(dpkg_query=DPKG_QUERY, systemctl=SYSTEMCTL, ufw=UFW, iptables=IPTABLES, docker=DOCKER)
    result = probe(
        run,
        which,
        stat=[str(tmp_path / "nope")],
        packages=names,
        services=["docker"],
        ufw=True,
        docker=True,
        images=[IMAGE],
        container_label=LABEL,
    )
    assert set(result) == {"stats", "packages", "services", "ufw", "docker"}
    assert result["stats"] == {str(tmp_path / "nope"): MISSING_STAT}
    assert result["packages"]["docker.io"] == "26.1.5+dfsg1-9+deb13u1+b1"
    assert result["services"] == {"docker": {"enabled": True, "active": True}}
    assert result["ufw"]["loaded"] is True
    assert set(result["ufw"]["files"]) == {"rules", "rules6", "conf", "defaults"}
    assert result["docker"]["images"] == {IMAGE: IMAGE_ID}
    assert [c["Name"] for c in result["docker"]["containers"]] == ["/ray-worker-4", "/ray-worker-3"]


def test_probe_without_ufw_or_docker_installed() -> None:
    run = FakeRunner({})
    assert probe(run, which_of(), ufw=True, docker=True, images=[IMAGE], container_label=LABEL) == {"ufw": None, "docker": None}
    assert run.calls == []


# --------------------------------------------------------------------------------------------
# The token file
# --------------------------------------------------------------------------------------------


def test_read_token_file_never_returns_the_token(tmp_path: Path) -> None:
    token = "s3cr3t" * 8
    path = tmp_path / "auth-token"
    path.write_text(token + "\n")
    path.chmod(0o600)
    digest = read_token_file(str(path))
    assert digest == {
        "fingerprint": hashlib.sha256(token.encode()).hexdigest()[:32],
        "sha256": hashlib.sha256((token + "\n").encode()).hexdigest(),
    }
    assert token not in json.dumps(digest)
    assert read_token_file(str(tmp_path / "absent")) == {"fingerprint": None, "sha256": None}
    (tmp_path / "blank").write_text("\n")
    assert read_token_file(str(tmp_path / "blank")) == {"fingerprint": None, "sha256": None}


def test_read_token_file_fails_on_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^auth-token: expected an absolute path$"):
        read_token_file("auth-token")
    with pytest.raises(ValueError, match=r"cannot read the token file"):
        read_token_file(str(tmp_path))  # a directory
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match=r"binary: cannot read the token file"):
        read_token_file(str(tmp_path / "binary"))


def test_probe_reads_the_token_file_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("abc\n")
    run = FakeRunner({})
    assert "token" not in probe(run, lambda name: None)
    assert (
        probe(run, lambda name: None, token_file=str(tmp_path / "t"))["token"]["fingerprint"]
        == (hashlib.sha256(b"abc").hexdigest()[:32])
    )
