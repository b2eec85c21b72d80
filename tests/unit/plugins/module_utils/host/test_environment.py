# -*- coding: utf-8 -*-
"""Unit tests for host.environment: container detection, active units, Docker installed, userns-remap."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.host import environment

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import FakeRun, reader


def no_file(_path):
    return False


def test_systemds_container_file_names_the_manager():
    assert environment.container_manager(reader({"/run/systemd/container": "lxc\n"}), exists=no_file) == "lxc"


def test_pid_1s_container_variable_names_the_manager():
    environ = "PATH=/usr/bin\0container=podman\0HOME=/\0"
    assert environment.container_manager(reader({"/proc/1/environ": environ}), exists=no_file) == "podman"


def test_an_empty_container_variable_still_means_a_container():
    assert environment.container_manager(reader({"/proc/1/environ": "container=\0"}), exists=no_file) == "unknown"


def test_dockers_marker_file_means_docker():
    assert environment.container_manager(reader({}), exists=lambda path: path == "/.dockerenv") == "docker"


def test_a_plain_host_is_no_container():
    assert environment.container_manager(reader({"/proc/1/environ": "HOME=/\0TERM=linux\0"}), exists=no_file) is None


def test_active_units_are_read_from_one_systemctl_call_in_order():
    states = "active\ninactive\nactive\ninactive\ninactive\ninactive\nactive\n"
    run = FakeRun({("systemctl", "is-active"): (3, states, "")})  # exit 3: some are inactive
    assert environment.active_units(run) == frozenset(["auditd", "chronyd", "systemd-timesyncd"])
    assert run.calls == [["systemctl", "is-active"] + list(environment.UNITS)]


def test_without_systemd_no_unit_is_active():
    run = FakeRun(default=(1, "", "System has not been booted with systemd as init system (PID 1). Can't operate.\n"))
    assert environment.active_units(run) == frozenset()


def test_detect_docker_installed_from_the_running_daemon_and_userns_remap(monkeypatch):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_unit", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(environment, "container_manager", lambda *args, **kwargs: None)
    daemon = DaemonConfig(cmdline={}, file_options={"userns-remap": "default"}, pid=812)
    env = environment.detect(daemon, FakeRun(default=(3, "inactive\n" * len(environment.UNITS), "")))
    assert env == environment.HostEnvironment(None, True, "default", frozenset())


def test_detect_docker_installed_from_the_binary_or_the_unit_without_a_running_daemon(monkeypatch):
    monkeypatch.setattr(environment, "container_manager", lambda *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_unit", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/usr/sbin/dockerd")
    assert environment.detect(DaemonConfig(cmdline=None, file_options=None), FakeRun()).docker_installed is True
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_unit", lambda name, *args, **kwargs: "/lib/systemd/system/docker.service")
    assert environment.detect(DaemonConfig(cmdline=None, file_options=None), FakeRun()).docker_installed is True


def test_detect_without_docker(monkeypatch):
    monkeypatch.setattr(environment, "container_manager", lambda *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_unit", lambda name, *args, **kwargs: None)
    env = environment.detect(DaemonConfig(cmdline=None, file_options=None), FakeRun())
    assert env.docker_installed is False and env.userns_remap is None


def test_package_lists_of_an_image_built_host_are_empty(tmp_path):
    # The image's build removed the lists: the directory is young, and empty apart from apt's lock and partial/.
    (tmp_path / "partial").mkdir()
    (tmp_path / "lock").write_text("")
    assert environment.package_lists_empty(str(tmp_path))


def test_package_lists_after_an_update_are_not_empty(tmp_path):
    (tmp_path / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").write_text("")
    assert not environment.package_lists_empty(str(tmp_path))


def test_a_missing_lists_directory_counts_as_empty(tmp_path):
    assert environment.package_lists_empty(str(tmp_path / "absent"))
