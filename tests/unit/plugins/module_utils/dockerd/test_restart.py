# -*- coding: utf-8 -*-
"""Safe restarts: when one is due, what the running daemon applied, dockerd's log, and the roll-back checkpoint."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.bridge import ICC_OPTION
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.restart import (
    Checkpoint, describe_mismatches, failure_lines, unapplied_settings, written_since_start,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")

# `docker network inspect bridge` of a daemon with icc off.
BRIDGE = {
    "Name": "bridge", "Driver": "bridge", "Scope": "local",
    "Options": {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "false",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": "docker0",
        "com.docker.network.driver.mtu": "1500",
    },
    "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
}
# The probe container's inspect under log-opts max-size 10m, max-file 3.
PROBE = {"Id": "4f1c0e", "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}}}


def docker_info(**changes):
    with open(os.path.join(FIXTURES, "info.json"), "r", encoding="utf-8") as handle:
        info = json.load(handle)
    info.update(changes)
    return info


def registry_config(**changes):
    config = dict(docker_info()["RegistryConfig"])
    config.update(changes)
    return config


# --- the in-progress mark ----------------------------------------------------------

def test_a_change_is_in_progress_from_begin_to_finish(tmp_path):
    book = Checkpoint(str(tmp_path / "checkpoint"))
    assert not book.in_progress()
    book.begin()
    assert book.in_progress()
    assert stat.S_IMODE(os.stat(str(tmp_path / "checkpoint")).st_mode) == 0o700
    book.finish()
    assert not book.in_progress()


def test_finish_without_begin_is_harmless(tmp_path):
    Checkpoint(str(tmp_path / "never-made")).finish()


def test_the_mark_survives_a_new_checkpoint_object(tmp_path):
    # An interrupted run's mark is seen by the next run's module, a new process.
    Checkpoint(str(tmp_path)).begin()
    assert Checkpoint(str(tmp_path)).in_progress()


# --- unapplied_settings -----------------------------------------------------------

def test_settings_the_daemon_shows_are_applied():
    config = {"live-restore": False, "log-driver": "json-file", "debug": False, "storage-driver": "overlay2",
              "default-runtime": "runc", "seccomp-profile": "builtin", "registry-mirrors": [], "labels": []}
    assert unapplied_settings(config, docker_info()) == ([], [])


def test_live_restore_not_applied():
    mismatches, _unverified = unapplied_settings({"live-restore": True}, docker_info())
    assert mismatches == [{"key": "live-restore", "configured": True, "observed": False}]


def test_live_restore_applied():
    assert unapplied_settings({"live-restore": True}, docker_info(LiveRestoreEnabled=True)) == ([], [])


def test_log_driver_not_applied():
    mismatches, _unverified = unapplied_settings({"log-driver": "journald"}, docker_info())
    assert mismatches == [{"key": "log-driver", "configured": "journald", "observed": "json-file"}]


def test_userns_remap_shows_in_security_options():
    info = docker_info(SecurityOptions=["name=seccomp,profile=default", "name=userns"])
    assert unapplied_settings({"userns-remap": "default"}, info) == ([], [])


def test_userns_remap_missing_from_security_options():
    mismatches, _unverified = unapplied_settings({"userns-remap": "default"}, docker_info())
    assert mismatches == [{"key": "userns-remap", "configured": "default", "observed": False}]


def test_userns_remap_off_and_not_shown():
    assert unapplied_settings({"userns-remap": ""}, docker_info()) == ([], [])


def test_a_seccomp_profile_path_shows_in_security_options():
    info = docker_info(SecurityOptions=["name=seccomp,profile=/etc/docker/seccomp.json"])
    assert unapplied_settings({"seccomp-profile": "/etc/docker/seccomp.json"}, info) == ([], [])


def test_a_seccomp_profile_path_while_the_daemon_runs_the_default():
    mismatches, _unverified = unapplied_settings({"seccomp-profile": "/etc/docker/seccomp.json"}, docker_info())
    assert mismatches == [{"key": "seccomp-profile", "configured": "/etc/docker/seccomp.json", "observed": "default"}]


@pytest.mark.parametrize("reported", ["default", "builtin"])
def test_builtin_matches_how_each_engine_names_its_own_profile(reported):
    info = docker_info(SecurityOptions=["name=seccomp,profile=%s" % reported])
    assert unapplied_settings({"seccomp-profile": "builtin"}, info) == ([], [])


def test_a_seccomp_profile_without_seccomp_in_the_daemon():
    mismatches, _unverified = unapplied_settings({"seccomp-profile": "builtin"}, docker_info(SecurityOptions=[]))
    assert mismatches == [{"key": "seccomp-profile", "configured": "builtin", "observed": None}]


def test_insecure_registries_by_name_and_by_cidr():
    index = {"docker.io": {"Mirrors": [], "Name": "docker.io", "Official": True, "Secure": True},
             "registry.lan:5000": {"Mirrors": [], "Name": "registry.lan:5000", "Official": False, "Secure": False}}
    info = docker_info(RegistryConfig=registry_config(IndexConfigs=index, InsecureRegistryCIDRs=["10.0.0.0/8", "127.0.0.0/8"]))
    assert unapplied_settings({"insecure-registries": ["registry.lan:5000", "10.0.0.0/8"]}, info) == ([], [])


def test_an_insecure_registry_the_daemon_does_not_list():
    mismatches, _unverified = unapplied_settings({"insecure-registries": ["registry.lan:5000"]}, docker_info())
    assert mismatches[0]["key"] == "insecure-registries"
    assert mismatches[0]["observed"] == {"127.0.0.0/8"}


@pytest.mark.parametrize("configured", [["https://mirror.lan"], ["https://mirror.lan/"]])
def test_registry_mirrors_match_with_or_without_a_trailing_slash(configured):
    info = docker_info(RegistryConfig=registry_config(Mirrors=["https://mirror.lan/"]))
    assert unapplied_settings({"registry-mirrors": configured}, info) == ([], [])


def test_a_registry_mirror_the_daemon_does_not_use():
    mismatches, _unverified = unapplied_settings({"registry-mirrors": ["https://mirror.lan"]}, docker_info())
    assert mismatches == [{"key": "registry-mirrors", "configured": ["https://mirror.lan"], "observed": []}]


def test_authorization_plugins_loaded():
    info = docker_info(Plugins=dict(docker_info()["Plugins"], Authorization=["opa-docker-authz"]))
    assert unapplied_settings({"authorization-plugins": ["opa-docker-authz"]}, info) == ([], [])


def test_authorization_plugins_not_loaded():
    mismatches, _unverified = unapplied_settings({"authorization-plugins": ["opa-docker-authz"]}, docker_info())
    assert mismatches == [{"key": "authorization-plugins", "configured": ["opa-docker-authz"], "observed": []}]


def test_icc_read_from_the_default_bridge():
    assert unapplied_settings({"icc": False}, docker_info(), bridge=BRIDGE) == ([], [])


def test_icc_still_on_in_the_default_bridge():
    bridge = dict(BRIDGE, Options=dict(BRIDGE["Options"], **{ICC_OPTION: "true"}))
    mismatches, _unverified = unapplied_settings({"icc": False}, docker_info(), bridge=bridge)
    assert mismatches == [{"key": "icc", "configured": False, "observed": "true"}]


def test_icc_without_the_bridge_is_unverified():
    assert unapplied_settings({"icc": False}, docker_info()) == ([], ["icc"])


def test_log_opts_read_from_the_probe_container():
    config = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}
    assert unapplied_settings(config, docker_info(), probe=PROBE) == ([], [])


def test_log_opts_the_probe_container_did_not_get():
    mismatches, _unverified = unapplied_settings({"log-opts": {"max-size": "50m"}}, docker_info(), probe=PROBE)
    assert mismatches == [{"key": "log-opts", "configured": {"max-size": "50m"}, "observed": {"max-file": "3", "max-size": "10m"}}]


def test_log_opts_without_a_probe_are_unverified():
    assert unapplied_settings({"log-opts": {"max-size": "10m"}}, docker_info()) == ([], ["log-opts"])


def test_keys_the_engine_does_not_report_are_unverified_and_sorted():
    config = {"no-new-privileges": True, "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}},
              "live-restore": False}
    assert unapplied_settings(config, docker_info()) == ([], ["default-ulimits", "no-new-privileges"])


def test_describe_mismatches_in_one_line():
    mismatches, _unverified = unapplied_settings({"live-restore": True, "log-driver": "journald"}, docker_info())
    assert describe_mismatches(mismatches) == (
        'live-restore is true in daemon.json but the daemon reports false; '
        'log-driver is "journald" in daemon.json but the daemon reports "json-file"')


# --- failure_lines -----------------------------------------------------------------

NETWORK_ERROR = (
    "failed to start daemon: Error initializing network controller: error obtaining controller instance: failed to "
    "create NAT chain DOCKER: iptables failed: iptables -t nat -N DOCKER: iptables v1.8.9 (nf_tables): Could not "
    "fetch rule set generation id: Permission denied (you must be root)")
CONFLICT_ERROR = (
    "unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified "
    "both as a flag and in the configuration file: hosts: (from flag: [fd://], from file: [fd:// tcp://0.0.0.0:2376])")

# `journalctl --unit docker.service --output cat` after a refused restart; systemd tried twice.
NETWORK_FAILURE = """\
time="2026-05-09T07:40:01.112233445Z" level=info msg="Starting up"
time="2026-05-09T07:40:01.120000000Z" level=info msg="[graphdriver] using prior storage driver: overlay2"
time="2026-05-09T07:40:01.300000000Z" level=warning msg="Your kernel does not support CPU realtime scheduler"
time="2026-05-09T07:40:01.400000000Z" level=info msg="Loading containers: start."
{network}
docker.service: Main process exited, code=exited, status=1/FAILURE
docker.service: Failed with result 'exit-code'.
Failed to start docker.service - Docker Application Container Engine.
time="2026-05-09T07:40:03.512233445Z" level=info msg="Starting up"
{network}
docker.service: Main process exited, code=exited, status=1/FAILURE
Failed to start docker.service - Docker Application Container Engine.
""".format(network=NETWORK_ERROR)

CONFLICT_FAILURE = """\
{conflict}
docker.service: Main process exited, code=exited, status=1/FAILURE
""".format(conflict=CONFLICT_ERROR)

FATAL_FAILURE = """\
time="2026-05-09T07:41:00.100000000Z" level=info msg="Starting up"
time="2026-05-09T07:41:00.200000000Z" level=fatal msg="Error starting daemon: error initializing graphdriver: driver not supported"
time="2026-05-09T07:41:02.300000000Z" level=info msg="Starting up"
time="2026-05-09T07:41:02.400000000Z" level=fatal msg="Error starting daemon: error initializing graphdriver: driver not supported"
"""


def test_failure_lines_keep_the_telling_lines_once_in_order():
    assert failure_lines(NETWORK_FAILURE) == [NETWORK_ERROR, "Failed to start docker.service - Docker Application Container Engine."]


def test_failure_lines_of_a_flag_and_file_conflict():
    assert failure_lines(CONFLICT_FAILURE) == [CONFLICT_ERROR]


def test_a_fatal_line_repeated_under_new_timestamps_is_shown_once():
    assert failure_lines(FATAL_FAILURE) == [FATAL_FAILURE.splitlines()[3]]


def test_failure_lines_are_limited_to_the_latest():
    journal = "\n".join('time="t%d" level=error msg="attempt %d"' % (number, number) for number in range(8))
    assert failure_lines(journal, limit=3) == ['time="t%d" level=error msg="attempt %d"' % (number, number) for number in (5, 6, 7)]


def test_without_telling_lines_the_last_lines_are_shown():
    journal = "\n".join('time="t%d" level=info msg="step %d"' % (number, number) for number in range(7))
    assert failure_lines(journal, limit=2) == ['time="t5" level=info msg="step 5"', 'time="t6" level=info msg="step 6"']


def test_failure_lines_of_an_empty_journal():
    assert failure_lines("") == []
    assert failure_lines(None) == []


# --- Checkpoint ----------------------------------------------------------------------

def daemon_files(tmp_path):
    """daemon.json (0644) and a TLS key (0600) as dockerd reads them, and a drop-in path that does not exist yet."""
    etc = tmp_path / "etc"
    etc.mkdir()
    daemon_json, key, drop_in = etc / "daemon.json", etc / "key.pem", etc / "hosts.conf"
    daemon_json.write_text('{"icc": false}\n', encoding="utf-8")
    daemon_json.chmod(0o644)
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    key.chmod(0o600)
    return [str(daemon_json), str(key), str(drop_in)]


def test_record_copies_the_files_into_a_private_directory(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    assert checkpoint.record(paths) is True
    assert stat.S_IMODE(os.stat(checkpoint.directory).st_mode) == 0o700
    copies = [name for name in os.listdir(checkpoint.directory) if name.endswith(".copy")]
    assert len(copies) == 2
    assert all(stat.S_IMODE(os.stat(os.path.join(checkpoint.directory, name)).st_mode) == 0o600 for name in copies)


def test_the_manifest_describes_each_file_or_its_absence(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    manifest = checkpoint.manifest()
    assert manifest[paths[0]]["mode"] == 0o644
    assert manifest[paths[1]]["mode"] == 0o600
    assert manifest[paths[0]]["uid"] == os.getuid()
    assert len(manifest[paths[0]]["sha256"]) == 64
    assert manifest[paths[2]] == {"absent": True}


def test_a_private_directory_is_made_private_again(tmp_path):
    directory = tmp_path / "checkpoint"
    directory.mkdir(mode=0o755)
    Checkpoint(str(directory)).record(daemon_files(tmp_path))
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_record_returns_false_when_nothing_changed(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    assert checkpoint.record(paths) is False


def test_record_returns_true_after_a_change(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    os.chmod(paths[0], 0o600)
    assert checkpoint.record(paths) is True


def test_matches_follows_the_files(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    assert not checkpoint.matches(paths)
    checkpoint.record(paths)
    assert checkpoint.matches(paths)
    with open(paths[0], "w", encoding="utf-8") as handle:
        handle.write('{"icc": true}\n')
    assert not checkpoint.matches(paths)


def test_restore_puts_back_content_and_mode(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    with open(paths[0], "w", encoding="utf-8") as handle:
        handle.write('{"icc": false, "userns-remap": "default"}\n')
    os.chmod(paths[0], 0o666)
    assert checkpoint.restore() == [paths[0]]
    with open(paths[0], "r", encoding="utf-8") as handle:
        assert handle.read() == '{"icc": false}\n'
    assert stat.S_IMODE(os.stat(paths[0]).st_mode) == 0o644
    assert checkpoint.matches(paths)


def test_restore_removes_a_file_that_did_not_exist(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    with open(paths[2], "w", encoding="utf-8") as handle:
        handle.write("[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd\n")
    assert checkpoint.restore() == [paths[2]]
    assert not os.path.exists(paths[2])


def test_restore_brings_back_a_deleted_file(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    os.unlink(paths[1])
    assert checkpoint.restore() == [paths[1]]
    assert stat.S_IMODE(os.stat(paths[1]).st_mode) == 0o600


def test_restore_of_unchanged_files_changes_nothing(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    assert checkpoint.restore() == []


def test_restore_leaves_no_temporary_file(tmp_path):
    paths = daemon_files(tmp_path)
    checkpoint = Checkpoint(str(tmp_path / "checkpoint"))
    checkpoint.record(paths)
    os.chmod(paths[0], 0o640)
    checkpoint.restore()
    assert sorted(os.listdir(os.path.dirname(paths[0]))) == ["daemon.json", "key.pem"]


def test_restore_without_a_manifest_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no checkpoint in"):
        Checkpoint(str(tmp_path / "checkpoint")).restore()


def test_bip_read_from_the_default_bridge_gateway():
    assert unapplied_settings({"bip": "172.17.0.1/16"}, docker_info(), bridge=BRIDGE) == ([], [])


def test_a_bip_the_daemon_kept_from_before_is_not_applied():
    # Under live-restore with running containers dockerd keeps its old bridge: the file's bip never applies.
    mismatches, _unverified = unapplied_settings({"bip": "10.99.0.1/24"}, docker_info(), bridge=BRIDGE)
    assert [(item["key"], item["observed"]) for item in mismatches] == [("bip", ["172.17.0.1"])]


def test_mtu_read_from_the_default_bridge():
    assert unapplied_settings({"mtu": 1500}, docker_info(), bridge=BRIDGE) == ([], [])
    assert unapplied_settings({"mtu": 1400}, docker_info(), bridge=BRIDGE)[0][0]["observed"] == "1500"


# --- what dockerd has not read yet -------------------------------------------------------------

def test_files_written_after_dockerd_started_are_not_read_yet():
    mtimes = {"/etc/docker/daemon.json": 1000.0, "/etc/docker/seccomp.json": 1500.0}
    assert written_since_start(sorted(mtimes), 1200.0, mtimes.get) == ["/etc/docker/seccomp.json"]


def test_a_file_written_within_the_start_time_slack_counts_as_read():
    # /proc's boot time is whole seconds: a start read as 1200.0 may really be 1200.9.
    assert written_since_start(["/etc/docker/daemon.json"], 1200.0, {"/etc/docker/daemon.json": 1200.9}.get) == []


def test_absent_files_and_an_unknown_start_are_never_unread():
    assert written_since_start(["/etc/docker/daemon.json"], 1200.0, lambda path: None) == []
    assert written_since_start(["/etc/docker/daemon.json"], None, lambda path: 5000.0) == []
