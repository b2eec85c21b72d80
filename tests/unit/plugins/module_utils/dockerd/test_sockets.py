# -*- coding: utf-8 -*-
"""docker.socket as systemd reads it, and which sockets dockerd serves with which group (issue 20, items 5 and 6)."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.sockets import (
    DEFAULT_DOCKER_GROUP, Listener, activated_tcp, daemon_listeners, unix_sockets,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.systemd_unit import SocketUnit, socket_unit

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import unit_fixture

DEBIAN_SOCKET = unit_fixture("debian12-docker.socket")
TCP_DROP_IN = "[Socket]\nListenStream=0.0.0.0:2375\n"


# --- socket_unit -------------------------------------------------------------------

def test_debians_docker_socket():
    assert socket_unit([DEBIAN_SOCKET]) == SocketUnit([("ListenStream", "/run/docker.sock")], "root", "docker", 0o660)


def test_a_drop_in_adds_a_listener_and_changes_the_group():
    unit = socket_unit([DEBIAN_SOCKET, TCP_DROP_IN + "SocketGroup=ops\n"])
    assert unit.listens == [("ListenStream", "/run/docker.sock"), ("ListenStream", "0.0.0.0:2375")]
    assert unit.group == "ops"


def test_an_empty_listen_line_resets_every_listener_before_it():
    unit = socket_unit([DEBIAN_SOCKET, "[Socket]\nListenStream=\nListenStream=/srv/docker.sock\n"])
    assert unit.listens == [("ListenStream", "/srv/docker.sock")]


def test_systemds_defaults_apply_without_owner_or_mode():
    unit = socket_unit(["[Socket]\nListenStream=/run/docker.sock\n"])
    assert (unit.user, unit.group, unit.mode) == ("root", "root", 0o666)
    assert socket_unit([DEBIAN_SOCKET, "[Socket]\nSocketMode=\nSocketGroup=\n"]).mode == 0o666


def test_keys_of_other_sections_are_not_the_sockets():
    assert socket_unit(["[Unit]\nListenStream=/x\n[Socket]\nListenStream=/run/docker.sock\n"]).listens == [
        ("ListenStream", "/run/docker.sock")]


def test_no_unit_text_is_no_socket_unit():
    assert socket_unit([]) is None


# --- reading a unit and its drop-ins ---------------------------------------------------------

def test_drop_ins_come_in_file_name_order_and_the_more_specific_directory_wins(tmp_path):
    etc, lib = tmp_path / "etc", tmp_path / "lib"
    (lib / "docker.socket.d").mkdir(parents=True)
    (etc / "docker.socket.d").mkdir(parents=True)
    (lib / "docker.socket").write_text(DEBIAN_SOCKET)
    (lib / "docker.socket.d" / "20-group.conf").write_text("[Socket]\nSocketGroup=lib\n")
    (etc / "docker.socket.d" / "20-group.conf").write_text("[Socket]\nSocketGroup=etc\n")
    (lib / "docker.socket.d" / "10-tcp.conf").write_text(TCP_DROP_IN)
    (lib / "docker.socket.d" / "notes.txt").write_text("[Socket]\nSocketGroup=ignored\n")
    dirs = (str(etc), str(lib))
    assert host_facts.unit_drop_ins("docker.socket", dirs) == [
        str(lib / "docker.socket.d" / "10-tcp.conf"), str(etc / "docker.socket.d" / "20-group.conf")]
    unit = socket_unit(host_facts.read_unit_texts("docker.socket", dirs))
    assert unit.group == "etc" and ("ListenStream", "0.0.0.0:2375") in unit.listens


def test_no_unit_file_means_no_texts(tmp_path):
    assert host_facts.read_unit_texts("docker.socket", (str(tmp_path),)) == []


# --- daemon_listeners: who owns each socket --------------------------------------------------

def test_fd_sockets_take_the_socket_units_group_not_dockerds():
    listeners = daemon_listeners(["fd://"], "ops", socket_unit([DEBIAN_SOCKET]))
    assert [(item.kind, item.address, item.group, item.mode) for item in listeners] == [
        ("unix", "/run/docker.sock", "docker", 0o660)]


def test_unix_sockets_take_dockerds_group():
    listeners = daemon_listeners(["fd://", "unix:///srv/api.sock"], "ops", socket_unit([DEBIAN_SOCKET]))
    assert [(item.address, item.group) for item in unix_sockets(listeners)] == [
        ("/run/docker.sock", "docker"), ("/srv/api.sock", "ops")]


def test_without_hosts_dockerd_makes_the_default_socket_with_its_group():
    assert daemon_listeners([], None, None) == [
        Listener("unix", "/var/run/docker.sock", DEFAULT_DOCKER_GROUP, 0o660, "dockerd's default socket")]


def test_fd_n_takes_one_activated_socket():
    unit = socket_unit([DEBIAN_SOCKET, TCP_DROP_IN])
    assert [item.address for item in daemon_listeners(["fd://4"], None, unit)] == ["0.0.0.0:2375"]
    assert [item.address for item in daemon_listeners(["fd://3"], None, unit)] == ["/run/docker.sock"]
    assert [item.address for item in daemon_listeners(["fd://"], None, unit)] == ["/run/docker.sock", "0.0.0.0:2375"]


def test_activated_tcp_listeners_are_found():
    unit = socket_unit([DEBIAN_SOCKET, "[Socket]\nListenStream=2375\nListenStream=[::1]:2376\nListenStream=@abstract\n"])
    tcp = activated_tcp(daemon_listeners(["fd://"], None, unit))
    assert [item.address for item in tcp] == ["2375", "[::1]:2376"]
    assert "docker.socket ListenStream=2375" in tcp[0].via


def test_without_the_socket_unit_the_packaged_one_is_assumed_and_said():
    [listener] = daemon_listeners(["fd://"], "ops", None)
    assert (listener.address, listener.group) == ("/var/run/docker.sock", "docker")
    assert "not found" in listener.via
