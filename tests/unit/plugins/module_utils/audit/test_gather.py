# -*- coding: utf-8 -*-
"""Gathering: which API calls, how many, and what happens when the API is unusable.

A fake low-level client answers from the captured fixtures, so the call
budget (containers + distinct images + 2) is checked without a daemon.
"""

from __future__ import annotations

import copy

import pytest
from docker.errors import APIError, NotFound
from requests.exceptions import ConnectionError as RequestsConnectionError

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import AuditRules
from ansible_collections.bulwark.hardening.plugins.module_utils.system.packages import PackageStatus
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, AuditState, FileText
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError, run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import connection as engine
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, EngineError, connection_from

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import dockerd_config, extras, load


class FakeResponse(object):
    status_code = 400
    reason = "Bad Request"
    url = "http+docker://localhost/v1.41/info"


class FakeAPI(object):
    """The APIClient methods gather uses, answering from fixtures; records list filters."""

    def __init__(self, version, copies=1, reject_version=None):
        self.version = version
        self.reject_version = reject_version
        base = load("containers.json")
        self.inspect = {}
        for number in range(copies):
            for name, data in base.items():
                clone = copy.deepcopy(data)
                clone["Id"] = "%s-%d" % (name, number)
                clone["Name"] = "/%s-%d" % (name, number)
                self.inspect[clone["Id"]] = clone
        self.list_arguments = None

    def _check_version(self):
        if self.reject_version and self.version == self.reject_version:
            raise APIError("400", response=FakeResponse(),
                           explanation="client version 1.41 is too new. Maximum supported API version is 1.40")

    def info(self):
        self._check_version()
        return load("info.json")

    def containers(self, all=False, filters=None):  # pylint: disable=redefined-builtin
        self.list_arguments = {"all": all, "filters": filters}
        return [{"Id": data["Id"], "Names": [data["Name"]]} for data in self.inspect.values()
                if all or data["State"]["Running"]]

    def inspect_container(self, container_id):
        return self.inspect[container_id]

    def inspect_image(self, image_id):
        return load("image.json")

    def top(self, container_id):
        return extras()["top"]

    def diff(self, container_id):
        return []

    def history(self, image_id):
        return extras()["history"]

    def inspect_network(self, name):
        return load("network_bridge.json")

    def volumes(self):
        return {"Volumes": [{"Name": "shop_db", "Driver": "local"}], "Warnings": None}


def client_for(api_holder, **fake_options):
    def factory(version):
        api = FakeAPI(version, **fake_options)
        api_holder.append(api)
        return api
    return CountingClient(connection_from({}), api_factory=factory)


def test_budget_is_containers_plus_images_plus_two():
    apis = []
    result = run_audit(scope=["images", "containers", "bulwark"], client=client_for(apis, copies=25))
    assert result["containers"] == 75  # running fixtures only: hardened, insecure, hostnet
    assert result["images"] == 1
    # immutable containers (label bulwark.immutable=true) cost one diff each: 2 of the 3 running fixtures
    expected = {"info": 1, "containers": 1, "inspect_container": 75, "inspect_image": 1, "diff": 50}
    assert result["api_calls_by_endpoint"] == expected
    without_drift = run_audit(scope=["images", "containers"], client=client_for([], copies=25))
    assert without_drift["api_calls"] == 75 + 1 + 2


def test_optional_calls_only_when_asked():
    result = run_audit(scope=["images", "containers"], include_stopped=True, process_checks=True, image_history=True,
                       client=client_for([]))
    calls = result["api_calls_by_endpoint"]
    assert calls["top"] == 3  # running containers only
    assert calls["history"] == 1
    assert calls["inspect_container"] == 4


def test_filters_go_to_the_daemon_and_names_are_globbed():
    apis = []
    result = run_audit(scope=["containers"], label_filter=["bulwark.test=1"], name_filter=["hardened-*", "fixture-none"],
                       client=client_for(apis, copies=3))
    assert apis[0].list_arguments == {"all": False, "filters": {"label": ["bulwark.test=1"]}}
    assert result["containers"] == 3
    assert result["api_calls_by_endpoint"]["inspect_container"] == 3


def test_version_mismatch_is_retried_once_with_the_daemons_version():
    apis = []
    result = run_audit(scope=["daemon"], client=client_for(apis, reject_version=engine.PINNED_API_VERSION))
    assert [api.version for api in apis] == ["1.41", "1.40"]
    assert result["api_calls_by_endpoint"] == {"info": 2, "inspect_network": 1, "volumes": 1}


def test_container_removed_between_list_and_inspect_is_skipped():
    apis = []
    client = client_for(apis, copies=2)

    def vanish(container_id):
        raise NotFound("gone")
    apis[0].inspect_container = vanish
    assert run_audit(scope=["containers"], client=client)["containers"] == 0


def test_unreachable_socket_names_it_and_says_what_to_do(tmp_path):
    socket_url = "unix://%s/docker.sock" % tmp_path
    with pytest.raises(EngineError) as error:
        run_audit(connection=connection_from({"docker_host": socket_url}), scope=["daemon"])
    message = str(error.value)
    assert socket_url in message and "Start the Docker daemon" in message and "docker_host" in message


def test_permission_denied_advice():
    error = engine.explain("unix:///var/run/docker.sock",
                           RequestsConnectionError("('Connection aborted.', PermissionError(13, 'Permission denied'))"))
    assert "docker group" in str(error) and "become" in str(error)


@pytest.mark.parametrize("arguments,message", [
    ({"scope": ["network"]}, "unknown scope"),
    ({"label_filter": ["=x"]}, "label_filter"),
    ({"waivers": [{"rule": "5.1", "reason": "r", "expires": "soon"}]}, "YYYY-MM-DD"),
    ({"report": "some"}, "report must be"),
])
def test_bad_input_fails_before_any_call(arguments, message):
    apis = []
    client = client_for(apis)
    with pytest.raises(AuditError, match=message):
        run_audit(client=client, **arguments)
    assert client.total == 0


def test_report_lists_problems_by_default_and_counts_everything():
    problems = run_audit(scope=["containers"], client=client_for([]))
    everything = run_audit(scope=["containers"], report="all", client=client_for([]))
    assert set(f["status"] for f in problems["findings"]) <= {"fail", "warn", "waived"}
    assert problems["summary"]["total"] == everything["summary"]["total"] == len(everything["findings"])
    assert problems["summary"]["listed"] == len(problems["findings"]) < len(everything["findings"])


# --- daemon.json, read as dockerd reads it ------------------------------------

def dockerd_reading(monkeypatch, argv):
    """Make the host's dockerd look like it runs with argv (argv[0] included)."""
    monkeypatch.setattr(gather.host_facts, "find_pid", lambda comm, pidfiles=(): 4242)
    monkeypatch.setattr(gather.host_facts, "read_cmdline", lambda pid: list(argv))


def test_daemon_json_with_a_byte_order_mark_is_read_as_dockerd_reads_it(tmp_path, monkeypatch):
    config = tmp_path / "daemon.json"
    config.write_bytes(b'\xef\xbb\xbf{"icc": false, "log-level": "info"}\n')
    dockerd_reading(monkeypatch, ["/usr/sbin/dockerd", "--config-file", str(config)])
    daemon = gather.read_daemon_config()
    assert daemon.file_error is None
    assert daemon.config_path == str(config) and daemon.flag("icc") is False


def test_whitespace_only_daemon_json_is_an_empty_configuration(tmp_path):
    config = tmp_path / "daemon.json"
    config.write_text(" \n\t\n")
    assert gather.read_daemon_json(str(config)) == ({}, None)
    assert gather.read_daemon_json(str(tmp_path / "absent.json")) == (None, None)


@pytest.mark.parametrize("content,reason", [
    ('["icc", false]', "must be a JSON object, got list"),
    ('{"icc": false', "not valid JSON"),
])
def test_daemon_json_that_is_not_an_object_is_unreadable_with_the_reason(tmp_path, monkeypatch, content, reason):
    config = tmp_path / "daemon.json"
    config.write_text(content)
    dockerd_reading(monkeypatch, ["/usr/sbin/dockerd", "--config-file=%s" % config])
    daemon = gather.read_daemon_config()
    assert daemon.file_options is None and reason in daemon.file_error
    assert "unreadable" in daemon.describe("icc") and reason in daemon.describe("icc")


# --- the socket group (CIS 1.1.2, 3.15) ----------------------------------------

@pytest.mark.parametrize("argv,daemon_json,group", [
    ([], None, "docker"),
    (["-G", "dockerusers"], None, "dockerusers"),
    (["--group=1500"], None, "1500"),
    ([], '{"group": "ops"}', "ops"),
])
def test_socket_group_comes_from_the_effective_daemon_config(monkeypatch, argv, daemon_json, group):
    asked = []

    def docker_group(name):
        asked.append(name)
        return 1500, ["dave"]
    monkeypatch.setattr(gather.host_facts, "docker_group", docker_group)
    facts = gather.read_host_facts(dockerd_config(argv, daemon_json), ["files"])
    assert asked == [group]
    assert (facts.docker_group_name, facts.docker_gid, facts.docker_group_members) == (group, 1500, ["dave"])


# --- the dockerd package (CIS 1.2.2) -------------------------------------------

def test_package_commands_run_once_and_only_for_the_host_scope(monkeypatch):
    asked = []

    def read_docker_package(binary):
        asked.append(binary)
        return PackageStatus("docker.io", "1", "2", ["/var/lib/dpkg/status", "http://deb"], None)
    monkeypatch.setattr(gather.packages, "read_docker_package", read_docker_package)
    monkeypatch.setattr(gather.audit_rules, "read_audit_rules", lambda: AuditRules("auditctl -l", [], None))
    monkeypatch.setattr(gather, "dockerd_binary", lambda daemon: "/usr/sbin/dockerd")
    state = gather.gather(client_for([]), gather.GatherRequest(["host"]), AuditOptions())
    assert asked == ["/usr/sbin/dockerd"] and state.host.docker_package.candidate == "2"
    gather.gather(client_for([]), gather.GatherRequest(["daemon", "files", "containers"]), AuditOptions())
    assert asked == ["/usr/sbin/dockerd"]


# --- the daemon-wide seccomp profile (CIS 2.17, 5.22) --------------------------

def test_custom_seccomp_profile_file_named_by_docker_info_is_read(tmp_path):
    profile = tmp_path / "seccomp.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')
    state = AuditState(info={"SecurityOptions": ["name=seccomp,profile=%s" % profile]})
    assert gather.read_seccomp_profile(state) == FileText(str(profile), '{"defaultAction": "SCMP_ACT_ALLOW"}', None)
    missing = AuditState(info={"SecurityOptions": ["name=seccomp,profile=%s" % (tmp_path / "gone.json")]})
    assert gather.read_seccomp_profile(missing).error
    for builtin in ("builtin", "default", "unconfined"):
        assert gather.read_seccomp_profile(AuditState(info={"SecurityOptions": ["name=seccomp,profile=" + builtin]})) is None


# --- waivers are checked before anything is gathered ----------------------------

@pytest.mark.parametrize("waiver,message", [
    ({"rule": "5.100", "reason": "r"}, r"unknown rule '5\.100'.*closest known ids: 5\.10"),
    ({"rule": "BW-06", "reason": "r"}, r"unknown rule 'BW-06'.*BW-006"),
    ({"rule": "5.11", "target": ["web-1"], "reason": "r"}, "target for rule 5.11 must be a string"),
    ({"rule": 5.1, "reason": "r"}, "must be a rule id string"),
])
def test_bad_waivers_fail_before_any_call(waiver, message):
    client = client_for([])
    with pytest.raises(AuditError, match=message):
        run_audit(client=client, waivers=[waiver])
    assert client.total == 0


# --- opt-in per-container extras of the bulwark scope (BW-012, BW-013) -----------

def test_drift_checks_diff_every_running_container_once():
    result = run_audit(scope=["containers", "bulwark"], include_stopped=True, drift_checks=True, client=client_for([], copies=2))
    # 6 running fixture copies (hardened and insecure are labelled immutable), the 2 stopped ones are not diffed:
    # one diff per running container, never a second one for the immutable ones BW-004 reads.
    assert result["containers"] == 8
    assert result["api_calls_by_endpoint"]["diff"] == 6
    without = run_audit(scope=["containers", "bulwark"], include_stopped=True, client=client_for([], copies=2))
    assert without["api_calls_by_endpoint"]["diff"] == 4  # immutable ones only (BW-004)
    assert run_audit(scope=["containers"], drift_checks=True, client=client_for([]))["api_calls_by_endpoint"].get("diff") is None


def test_process_checks_serve_the_bulwark_scope_alone():
    result = run_audit(scope=["bulwark"], process_checks=True, report="all", client=client_for([]))
    assert result["api_calls_by_endpoint"]["top"] == 3
    fetch = [finding for finding in result["findings"] if finding["rule"] == "BW-012"]
    assert [finding["status"] for finding in fetch] == ["pass"] * 3


def test_named_local_volumes_are_listed_once_for_5_6(monkeypatch):
    # A container that mounts a local volume: the volume list (its bind options) is read once, and shared with
    # the daemon scope's; without such a mount nothing more is called.
    assert "volumes" not in run_audit(scope=["containers"], client=client_for([]))["api_calls_by_endpoint"]
    volume_mount = {"Type": "volume", "Name": "shop_db", "Driver": "local", "Destination": "/data", "RW": True,
                    "Source": "/var/lib/docker/volumes/shop_db/_data"}
    original = FakeAPI.inspect_container

    def with_volume(self, container_id):
        data = copy.deepcopy(original(self, container_id))
        data["Mounts"] = list(data.get("Mounts") or []) + [volume_mount]
        return data
    monkeypatch.setattr(FakeAPI, "inspect_container", with_volume)
    assert run_audit(scope=["containers"], client=client_for([]))["api_calls_by_endpoint"]["volumes"] == 1
    assert run_audit(scope=["containers", "daemon"], client=client_for([]))["api_calls_by_endpoint"]["volumes"] == 1
