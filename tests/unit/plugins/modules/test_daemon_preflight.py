# -*- coding: utf-8 -*-
"""Unit tests for the daemon_preflight module: its real main() through the harness.

docker info comes from the fixture (engine_facts replaced) and every host_state
reader answers from a FakeHost, so the module runs end to end on Debian's
docker.service without Docker, systemd or /proc of a real dockerd.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import unit_fixture

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import host_state
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import EngineError
from ansible_collections.bulwark.hardening.plugins.modules import daemon_preflight
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")

# /lib/systemd/system/docker.service of Debian 12's docker.io (tests/unit/fixtures).
DEBIAN_UNIT = unit_fixture("debian12-docker.service")
# CapEff of root on a host, and in a container without CAP_SYS_RESOURCE (bit 24).
STATUS_WITH_SYS_RESOURCE = "Name:\tdockerd\nCapEff:\t000001ffffffffff\n"
STATUS_WITHOUT_SYS_RESOURCE = "Name:\tdockerd\nCapEff:\t000001fffeffffff\n"
NOFILE_65536 = {"nofile": {"Name": "nofile", "Soft": 65536, "Hard": 65536}}
WHOLE_ID_RANGE = [(0, 0, 4294967295)]


def docker_info(**changes):
    with open(os.path.join(FIXTURES, "info.json"), "r", encoding="utf-8") as handle:
        info = json.load(handle)
    info.update(changes)
    return info


class FakeHost(object):
    """The host dockerd runs on: what engine_facts and each host_state reader answer (change the attributes)."""

    def __init__(self):
        self.info = docker_info(Containers=0, ContainersRunning=0, Images=0)
        self.volume_count = 0
        self.local_images = {}
        self.units = ([DEBIAN_UNIT], None)
        self.unit_calls = []
        self.processes = {
            "dockerd": (1234, {"nofile": (1048576, 1048576)}, STATUS_WITH_SYS_RESOURCE),
            "containerd": (987, {"nofile": (1048576, 1048576)}, STATUS_WITH_SYS_RESOURCE),
        }
        self.files = {}
        self.environment = {}

    def engine_facts(self, module):
        return self.info, self.volume_count, self.local_images

    def unit_files(self, service, exclude=()):
        self.unit_calls.append((service, list(exclude)))
        return self.units

    def process_limits(self, name, pidfiles=()):
        return self.processes.get(name, (None, {}, None))

    def unit_environment(self, texts):
        return self.environment

    def read_text(self, path):
        return self.files.get(path)

    @staticmethod
    def id_maps():
        return {"uid": WHOLE_ID_RANGE, "gid": WHOLE_ID_RANGE}

    @staticmethod
    def subordinate_ranges():
        return {"uid": [], "gid": []}

    @staticmethod
    def nr_open():
        return 1048576

    @staticmethod
    def user_id(name):
        return None

    @staticmethod
    def which(program):
        return "/usr/bin/" + program


READERS = ("unit_files", "process_limits", "unit_environment", "read_text", "id_maps", "subordinate_ranges", "nr_open",
           "user_id", "which")


@pytest.fixture
def host(monkeypatch):
    fake = FakeHost()
    monkeypatch.setattr(daemon_preflight, "engine_facts", fake.engine_facts)
    for name in READERS:
        monkeypatch.setattr(host_state, name, getattr(fake, name))
    return fake


def run(settings, check_mode=False, **params):
    args = dict(settings=settings)
    args.update(params)
    return run_module(daemon_preflight.main, args, check_mode=check_mode)


def test_a_clean_plan_returns_the_config_and_the_command_line(host):
    outcome = run({"icc": False, "live-restore": True})
    assert not outcome.failed
    assert outcome.changed is False
    assert outcome.result["config"] == {"icc": False, "live-restore": True}
    assert outcome.result["dockerd_args"] == ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"]
    assert outcome.result["subordinate_ids"] == {}
    assert outcome.result["problems"] == []
    assert (outcome.result["hosts"], outcome.result["exec_start"]) == (None, None)


def test_the_daemon_facts_it_read_are_returned(host):
    outcome = run({})
    assert outcome.result["daemon"] == {"version": "20.10.24+dfsg1", "pid": 1234, "userns": False, "can_raise_limits": True}


def test_settings_merge_over_the_current_daemon_json(host):
    host.files["/etc/docker/daemon.json"] = '{"data-root": "/srv/docker", "icc": true}'
    outcome = run({"icc": False})
    assert outcome.result["config"] == {"data-root": "/srv/docker", "icc": False}


def test_an_unreadable_current_daemon_json_fails_naming_it(host):
    host.files["/etc/docker/daemon.json"] = "{not json"
    outcome = run({"icc": False})
    assert outcome.failed
    assert outcome.msg.startswith("/etc/docker/daemon.json: daemon.json is not valid JSON")


def test_the_environment_file_expands_into_dockerd_args(host):
    host.environment = {"DOCKER_OPTS": "--dns 8.8.8.8"}
    outcome = run({})
    assert outcome.result["dockerd_args"][-2:] == ["--dns", "8.8.8.8"]


def test_ulimits_above_dockerds_hard_limit_without_cap_sys_resource_fail_naming_the_variable(host):
    host.processes["dockerd"] = (1234, {"nofile": (20000, 20000)}, STATUS_WITHOUT_SYS_RESOURCE)
    outcome = run({"default-ulimits": NOFILE_65536}, variables={"default-ulimits": "docker_daemon_default_ulimits"})
    assert outcome.failed
    assert outcome.msg.startswith("The daemon configuration change was not made: docker_daemon_default_ulimits: nofile 65536 "
                                  "is above dockerd and containerd's own hard limit 20000, and no process here may raise a limit")
    assert len(outcome.result["problems"]) == 1
    assert outcome.result["daemon"]["can_raise_limits"] is False


def test_the_same_ulimits_pass_when_dockerd_may_raise_limits(host):
    host.processes["dockerd"] = (1234, {"nofile": (20000, 20000)}, STATUS_WITH_SYS_RESOURCE)
    outcome = run({"default-ulimits": NOFILE_65536}, variables={"default-ulimits": "docker_daemon_default_ulimits"})
    assert not outcome.failed


def test_tls_listen_moves_the_listeners_into_daemon_json(host):
    outcome = run({"tlsverify": True}, tls_listen="tcp://0.0.0.0:2376")
    assert not outcome.failed
    assert outcome.result["hosts"] == ["fd://", "tcp://0.0.0.0:2376"]
    assert outcome.result["config"]["hosts"] == ["fd://", "tcp://0.0.0.0:2376"]
    assert outcome.result["exec_start"] == "/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS"


def test_the_changes_own_drop_in_is_left_out_when_reading_the_unit(host):
    drop_in = "/etc/systemd/system/docker.service.d/bulwark-tls.conf"
    run({}, drop_in=drop_in)
    assert host.unit_calls == [("docker.service", [drop_in])]


def test_a_missing_docker_service_fails_with_that_error(host):
    host.units = ([], "systemd has no unit docker.service: the role manages dockerd through it")
    outcome = run({"icc": False})
    assert outcome.failed
    assert outcome.msg == "systemd has no unit docker.service: the role manages dockerd through it"


def test_remapping_on_a_fresh_daemon_returns_the_subordinate_ids(host):
    outcome = run({"userns-remap": "default"})
    assert not outcome.failed
    assert outcome.result["subordinate_ids"] == {"/etc/subuid": "dockremap:100000:65536", "/etc/subgid": "dockremap:100000:65536"}


def test_remapping_over_existing_containers_is_left_off_unless_confirmed(host):
    host.info = docker_info()  # 4 containers (3 running), 15 images
    host.volume_count = 2
    left = run({"userns-remap": "default", "live-restore": True})
    confirmed = run({"userns-remap": "default", "live-restore": True}, confirm_userns=True)
    assert not left.failed
    assert left.result["settings"] == {"live-restore": True}
    assert left.result["left_open"][0]["rule"] == "2.10"  # user namespaces in CIS v1.8, the default
    assert "4 containers, 15 images, 2 volumes" in left.result["left_open"][0]["reason"]
    assert confirmed.result["settings"] == {"userns-remap": "default", "live-restore": True}
    assert confirmed.result["left_open"] == []


def test_left_open_names_the_rule_by_its_id_in_the_cis_version(host):
    host.info = docker_info()  # containers and images exist: remapping is left open
    v1_6 = run({"userns-remap": "default", "live-restore": True}, cis_version="1.6")
    v1_8 = run({"userns-remap": "default", "live-restore": True}, cis_version="1.8")
    assert [entry["rule"] for entry in v1_6.result["left_open"]] == ["2.9"]
    assert [entry["rule"] for entry in v1_8.result["left_open"]] == ["2.10"]


def test_content_trust_is_left_off_over_local_images_in_use(host):
    host.local_images = {"shop/app:latest": ["shop-app-1"]}
    left = run({}, content_trust=True)
    confirmed = run({}, content_trust=True, confirm_local_images=True)
    assert left.result["content_trust"] is False
    assert "shop/app:latest (shop-app-1)" in left.result["left_open"][0]["reason"]
    assert confirmed.result["content_trust"] is True


def test_an_unreachable_daemon_fails_saying_to_start_docker(monkeypatch):
    # The real engine_facts, over a connection that fails: nothing else is read before it.
    def refuse(connection):
        raise EngineError("Cannot reach the Docker API at %s: connection refused" % connection.docker_host)

    monkeypatch.setattr(daemon_preflight, "connect", refuse)
    outcome = run({"icc": False})
    assert outcome.failed
    assert outcome.msg == ("Cannot reach the Docker API at unix:///var/run/docker.sock: connection refused. "
                           "Install and start Docker before hardening it.")


def test_without_the_docker_sdk_the_socket_is_read_all_the_same(host, monkeypatch):
    # Nothing is installed before every check has run.
    monkeypatch.setattr(daemon_preflight, "HAS_DOCKER", False)
    monkeypatch.setattr(daemon_preflight.environment, "package_lists_empty", lambda: True)
    outcome = run({"icc": False}, check_mode=True)
    assert not outcome.failed
    assert outcome.result["sdk_missing"] is True
    assert outcome.result["config"] == {"icc": False}
    # An image-built host: the SDK's install must update apt's lists first.
    assert outcome.result["package_lists_empty"] is True


def test_without_the_docker_sdk_over_tls_it_checks_nothing_and_says_so(host, monkeypatch):
    monkeypatch.setattr(daemon_preflight, "HAS_DOCKER", False)
    outcome = run({"icc": False}, check_mode=True, docker_host="tcp://10.0.0.5:2376", tls=True)
    assert not outcome.failed
    assert outcome.changed is False
    assert outcome.result["sdk_missing"] is True
    assert outcome.result["problems"] == []
    assert "config" not in outcome.result and "subordinate_ids_missing" not in outcome.result
    assert outcome.msg.startswith("nothing was checked: Failed to import the required Python library (docker)")
    assert host.unit_calls == [], "it read the host without the SDK"


def test_with_the_sdk_it_says_it_is_there(host):
    assert run({}).result["sdk_missing"] is False
    assert run({}).result["package_lists_empty"] is False


def test_a_fresh_host_needs_the_remap_user_and_both_ranges(host):
    outcome = run({"userns-remap": "dockremap"}, check_mode=True)
    assert outcome.result["userns_user_exists"] is False
    assert outcome.result["subordinate_ids_missing"] == outcome.result["subordinate_ids"]


def test_a_remapped_host_needs_nothing_written(host, monkeypatch):
    ranges = {"uid": [("dockremap", 100000, 65536)], "gid": [("dockremap", 100000, 65536)]}
    monkeypatch.setattr(host_state, "subordinate_ranges", lambda: ranges)
    monkeypatch.setattr(host_state, "user_id", {"dockremap": 999}.get)
    outcome = run({"userns-remap": "dockremap"})
    assert outcome.result["userns_user_exists"] is True
    assert outcome.result["subordinate_ids_missing"] == {}
    assert outcome.result["subordinate_ids"] == {"/etc/subuid": "dockremap:100000:65536", "/etc/subgid": "dockremap:100000:65536"}


def test_the_engine_is_read_without_the_sdk_in_three_calls_and_one_inspect_per_image(monkeypatch):
    class Client(object):
        docker_host = "unix:///var/run/docker.sock"

        def __init__(self):
            self.calls = []

        def call(self, name, *args):
            self.calls.append((name,) + args)
            return {
                "info": docker_info(),
                "volumes": {"Volumes": [{"Name": "shop_db"}]},
                "containers": [{"Id": "a" * 64, "Names": ["/shop-app-1"], "Image": "shop/app:latest", "ImageID": "sha256:1"},
                               {"Id": "b" * 64, "Names": ["/shop-app-2"], "Image": "shop/app:latest", "ImageID": "sha256:1"},
                               {"Id": "c" * 64, "Names": ["/shop-db-1"], "Image": "postgres:15", "ImageID": "sha256:2"}],
                "inspect_image": {"sha256:1": {"RepoDigests": []},
                                  "sha256:2": {"RepoDigests": ["postgres@sha256:" + "d" * 64]}}.get(args[0] if args else None),
            }[name]

    client = Client()
    monkeypatch.setattr(daemon_preflight, "connect", lambda connection: client)
    module = type("Module", (), {"params": {}})()
    info, volumes, local_images = daemon_preflight.engine_facts(module)
    assert (info["Containers"], volumes) == (4, 1)
    assert local_images == {"shop/app:latest": ["shop-app-1", "shop-app-2"]}
    assert [call[0] for call in client.calls] == ["info", "volumes", "containers", "inspect_image", "inspect_image"]


# --- secrets in what it returns (harden.yml -v prints the whole result) ----------------------------------

MIRROR = "https://mirroruser:M1rror-t0ken-8@mirror.example.com"
MIRROR_SHOWN = "https://mirroruser:********@mirror.example.com"


def test_a_registry_mirror_credential_is_masked_in_the_result_and_the_echoed_arguments(host):
    outcome = run({"registry-mirrors": [MIRROR], "icc": False})
    assert not outcome.failed, outcome.msg
    assert "M1rror-t0ken-8" not in outcome.stdout
    assert outcome.result["config"]["registry-mirrors"] == [MIRROR_SHOWN]
    assert outcome.result["settings"]["registry-mirrors"] == [MIRROR_SHOWN]


def test_a_credential_in_the_current_file_and_on_the_command_line_is_masked_in_a_failure_too(host):
    host.files["/etc/docker/daemon.json"] = '{"proxies": {"http-proxy": "http://proxyuser:Pr0xy-pw-31@proxy:3128"}}'
    host.environment = {"DOCKER_OPTS": "--registry-mirror %s" % MIRROR}
    host.processes["dockerd"] = (1234, {"nofile": (20000, 20000)}, STATUS_WITHOUT_SYS_RESOURCE)
    outcome = run({"default-ulimits": NOFILE_65536})
    assert outcome.failed
    assert "Pr0xy-pw-31" not in outcome.stdout and "M1rror-t0ken-8" not in outcome.stdout
    assert outcome.result["config"]["proxies"]["http-proxy"] == "http://proxyuser:********@proxy:3128"
    assert outcome.result["dockerd_args"][-1] == MIRROR_SHOWN


def test_a_tls_drop_in_that_would_repeat_a_secret_of_the_command_line_is_refused(host):
    host.units = ([DEBIAN_UNIT.replace("$DOCKER_OPTS", "--registry-mirror %s $DOCKER_OPTS" % MIRROR)], None)
    outcome = run({"tlsverify": True}, tls_listen="tcp://0.0.0.0:2376")
    assert outcome.failed and "M1rror-t0ken-8" not in outcome.stdout
    assert outcome.result["problems"] == [
        "docker_daemon_tls_enabled: dockerd's ExecStart holds a secret, which the TLS drop-in would have to repeat and "
        "this module never returns unmasked: move it to daemon.json or an EnvironmentFile variable"]
