# -*- coding: utf-8 -*-
"""The CIS section 3 file table: where each Docker file is on a host, and the file policy rules built from it."""

from __future__ import annotations

import os

from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import DEFAULT_DOCKER_GROUP, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.files.docker_files import (
    DOCKER_FILES, Target, group_of, policy_rules, targets,
)

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import DEBIAN_DOCKER_FILES, DEBIAN_UNITS, state

TLS = {"tlscacert": "/etc/docker/tls/ca.pem", "tlscert": "/etc/docker/tls/cert.pem", "tlskey": "/etc/docker/tls/key.pem"}
HOST = DEBIAN_DOCKER_FILES


def links(mapping):
    """A HostFacts.realpath for symlinks given as {link: target}."""
    return lambda path: mapping.get(path, path)


def entry(name):
    return next(item for item in DOCKER_FILES if item.name == name)


def host(files=None, units=None):
    files = HOST if files is None else files
    return HostFacts(files=dict((path, FileStat(path, *values)) for path, values in files.items()),
                     units=DEBIAN_UNITS if units is None else units)


def daemon(**settings):
    return DaemonConfig(cmdline=settings, file_options={})


def host_state(files=None, units=None, **settings):
    return state(host=host(files, units), daemon=daemon(**settings))


# --- targets -----------------------------------------------------------------------

def test_an_existing_file_is_its_own_target():
    assert targets(entry("docker.service"), host_state()) == [
        Target("/lib/systemd/system/docker.service", "/lib/systemd/system/docker.service", None)]


def test_an_absent_file_is_reported():
    assert targets(entry("/etc/sysconfig/docker"), host_state()) == [
        Target("/etc/sysconfig/docker", None, "/etc/sysconfig/docker does not exist")]


def test_a_unit_systemd_does_not_know_is_not_a_target():
    assert targets(entry("docker.socket"), host_state(units={"docker.service": "/lib/systemd/system/docker.service"})) == []


def test_tls_files_are_not_targets_without_tls():
    assert targets(entry("tlskey"), host_state()) == []


def test_tls_files_are_where_the_daemon_settings_say():
    assert targets(entry("tlskey"), host_state(**TLS)) == [Target("/etc/docker/tls/key.pem", "/etc/docker/tls/key.pem", None)]


def test_every_regular_file_below_certs_d_is_a_target():
    files = dict(HOST, **{"/etc/docker/certs.d/registry.lan:5000/client.cert": (0, 0, 0o444, "file"),
                          "/etc/docker/certs.d/registry.lan:5000": (0, 0, 0o755, "dir")})
    assert [target.path for target in targets(entry("/etc/docker/certs.d/*"), host_state(files))] == [
        "/etc/docker/certs.d/registry.lan:5000/ca.crt", "/etc/docker/certs.d/registry.lan:5000/client.cert"]


def test_a_masked_unit_is_left_alone_with_a_note():
    # `systemctl mask docker.socket`: /etc/systemd/system/docker.socket -> /dev/null, a character device.
    files = dict(HOST, **{"/etc/systemd/system/docker.socket": (0, 0, 0o666, "other")})
    units = dict(DEBIAN_UNITS, **{"docker.socket": "/etc/systemd/system/docker.socket"})
    [target] = targets(entry("docker.socket"), host_state(files, units))
    assert (target.path, target.real_path) == ("/etc/systemd/system/docker.socket", None)
    assert target.note == ("/etc/systemd/system/docker.socket is not a regular file "
                           "(it is: device, fifo or other special file): left alone")


def test_a_symlink_to_the_wrong_kind_names_its_target():
    files = dict(HOST, **{"/dev/null": (0, 0, 0o666, "other")})
    units = dict(DEBIAN_UNITS, **{"docker.socket": "/etc/systemd/system/docker.socket"})
    audit_state = host_state(files, units)
    audit_state.host.realpath = links({"/etc/systemd/system/docker.socket": "/dev/null"})
    [target] = targets(entry("docker.socket"), audit_state)
    assert target.real_path is None
    assert target.note == ("/etc/systemd/system/docker.socket (a symlink to /dev/null) is not a regular file "
                           "(it is: device, fifo or other special file): left alone")


def test_a_directory_where_a_file_belongs_is_left_alone():
    files = dict(HOST, **{"/etc/docker/daemon.json": (0, 0, 0o755, "dir")})
    [target] = targets(entry("daemon.json"), host_state(files))
    assert (target.real_path, target.note) == (
        None, "/etc/docker/daemon.json is not a regular file (it is: directory): left alone")


def test_targets_resolve_symlinks_on_disk(tmp_path):
    unit = tmp_path / "lib" / "docker.service"
    unit.parent.mkdir()
    unit.write_text("[Service]\nExecStart=/usr/sbin/dockerd -H fd://\n", encoding="utf-8")
    link = tmp_path / "docker.service"
    link.symlink_to(unit)
    audit_state = state(host=HostFacts(units={"docker.service": str(link)}), daemon=daemon())
    assert targets(entry("docker.service"), audit_state) == [Target(str(link), os.path.realpath(str(unit)), None)]


def test_a_symlink_on_disk_to_dev_null_is_left_alone(tmp_path):
    link = tmp_path / "docker.socket"
    link.symlink_to("/dev/null")
    audit_state = state(host=HostFacts(units={"docker.socket": str(link)}), daemon=daemon())
    [target] = targets(entry("docker.socket"), audit_state)
    assert (target.path, target.real_path) == (str(link), None)
    assert target.note.startswith("%s (a symlink to /dev/null) is not a regular file" % link)


def test_realpath_is_the_path_itself_when_files_are_fixed():
    assert host().realpath("/etc/systemd/system/docker.service") == "/etc/systemd/system/docker.service"


# --- the docker sockets ---------------------------------------------------------------

def socket_paths(**settings):
    files = dict(HOST, **{"/run/docker-alt.sock": (0, 105, 0o660, "socket")})
    return [target.path for target in targets(entry("docker socket"), host_state(files, **settings))]


def test_without_hosts_the_socket_is_the_default_one():
    assert socket_paths() == ["/var/run/docker.sock"]


def test_fd_hosts_mean_the_default_socket():
    assert socket_paths(hosts=["fd://"]) == ["/var/run/docker.sock"]


def test_unix_hosts_are_the_sockets():
    assert socket_paths(hosts=["fd://", "unix:///run/docker-alt.sock", "tcp://0.0.0.0:2376"]) == [
        "/run/docker-alt.sock", "/var/run/docker.sock"]


def test_tcp_hosts_alone_mean_no_socket():
    assert socket_paths(hosts=["tcp://0.0.0.0:2376"]) == []


# --- group_of ---------------------------------------------------------------------------

def test_group_of_a_file_with_a_fixed_group():
    assert group_of(entry("daemon.json"), host_state()) == "root"


def test_the_socket_group_defaults_to_docker():
    assert group_of(entry("docker socket"), host_state()) == DEFAULT_DOCKER_GROUP == "docker"


def test_the_socket_group_follows_the_hosts_docker_group_name():
    audit_state = host_state()
    audit_state.host.docker_group_name = "dockerusers"
    assert group_of(entry("docker socket"), audit_state) == "dockerusers"


def test_an_empty_docker_group_name_falls_back_to_docker():
    audit_state = host_state()
    audit_state.host.docker_group_name = None
    assert group_of(entry("docker socket"), audit_state) == "docker"


# --- policy_rules -----------------------------------------------------------------------

def test_policy_rules_one_per_existing_file():
    rules = policy_rules(host_state(**TLS))
    assert [rule["path"] for rule in rules] == [
        "/lib/systemd/system/docker.service", "/lib/systemd/system/docker.socket", "/etc/docker",
        "/etc/docker/certs.d/registry.lan:5000/ca.crt", "/etc/docker/tls/ca.pem", "/etc/docker/tls/cert.pem",
        "/etc/docker/tls/key.pem", "/var/run/docker.sock", "/etc/docker/daemon.json", "/etc/default/docker",
        "/run/containerd/containerd.sock"]


def test_a_policy_rule_has_owner_group_maximum_mode_and_both_cis_ids():
    rules = dict((rule["path"], rule) for rule in policy_rules(host_state(**TLS)))
    assert rules["/etc/docker/tls/key.pem"] == {
        "path": "/etc/docker/tls/key.pem", "owner": "root", "group": "root", "mode": "0400", "rules": ["3.13", "3.14"]}
    assert rules["/etc/docker"]["mode"] == "0755"
    assert rules["/var/run/docker.sock"] == {
        "path": "/var/run/docker.sock", "owner": "root", "group": "docker", "mode": "0660", "rules": ["3.15", "3.16"]}


def test_sysconfig_docker_keeps_the_benchmarks_numbering():
    files = dict(HOST, **{"/etc/sysconfig/docker": (0, 0, 0o644, "file")})
    rules = dict((rule["path"], rule) for rule in policy_rules(host_state(files)))
    assert rules["/etc/sysconfig/docker"]["rules"] == ["3.22", "3.21"]


def test_policy_rules_leave_out_absent_and_wrong_kind_files():
    files = dict(HOST)
    del files["/etc/default/docker"]
    files["/etc/docker/daemon.json"] = (0, 0, 0o755, "dir")
    paths = [rule["path"] for rule in policy_rules(host_state(files))]
    assert "/etc/default/docker" not in paths
    assert "/etc/docker/daemon.json" not in paths


def test_policy_rules_use_the_real_path_of_a_link():
    audit_state = host_state(units=dict(DEBIAN_UNITS, **{"docker.service": "/etc/systemd/system/docker.service"}))
    audit_state.host.realpath = links({"/etc/systemd/system/docker.service": "/lib/systemd/system/docker.service"})
    rules = policy_rules(audit_state, entries=[entry("docker.service")])
    assert [rule["path"] for rule in rules] == ["/lib/systemd/system/docker.service"]


def test_policy_rules_for_the_socket_group_of_the_host():
    audit_state = host_state(group="dockerusers")
    [rule] = policy_rules(audit_state, entries=[entry("docker socket")])
    assert rule["group"] == "dockerusers"
