# -*- coding: utf-8 -*-
"""Unit tests for host.ssh_session: the SSH session from the module's environment or its ancestors'."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_session


def proc(processes):
    """read(path) over a made-up /proc: {pid: (parent pid, name, {environment})}."""
    def read(path):
        _proc, pid, what = path.split("/")[1:]
        if int(pid) not in processes:
            return None
        parent, name, environment = processes[int(pid)]
        if what == "status":
            return ("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t%s\nPPid:\t%d\n" % (name, pid, parent)).encode()
        return b"".join(("%s=%s\0" % item).encode() for item in environment.items())
    return read


# python (the module) <- sh <- sudo (environment reset) <- sh <- the session's shell (sshd started it).
TREE = {
    900: (899, "python3", {"PATH": "/usr/bin", "SUDO_USER": "deploy"}),
    899: (898, "sh", {"PATH": "/usr/bin"}),
    898: (897, "sudo", {"PATH": "/usr/bin"}),
    897: (812, "sh", {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22", "USER": "deploy"}),
    812: (811, "bash", {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22"}),
    811: (1, "sshd", {}),
}


def test_ssh_connection_gives_both_ends():
    session = ssh_session.from_variables({"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22"}, "x")
    assert session == ssh_session.SshSession("192.0.2.10", 50022, "192.0.2.1", 22, "SSH_CONNECTION of x")


def test_ssh_client_gives_the_client_and_the_server_port_only():
    session = ssh_session.from_variables({"SSH_CLIENT": "2001:db8::5 50022 22"}, "x")
    assert session == ssh_session.SshSession("2001:db8::5", 50022, None, 22, "SSH_CLIENT of x")


def test_malformed_values_are_no_session():
    assert ssh_session.from_variables({"SSH_CONNECTION": "192.0.2.10,user=root 1 2 3"}, "x") is None
    assert ssh_session.from_variables({"SSH_CONNECTION": "somewhere 1 there 22"}, "x") is None
    assert ssh_session.from_variables({}, "x") is None


def test_the_modules_own_environment_comes_first():
    session = ssh_session.current({"SSH_CONNECTION": "198.51.100.7 40000 192.0.2.1 2222"}, 900, proc(TREE))
    assert session.client_address == "198.51.100.7" and session.server_port == 2222
    assert session.source == "SSH_CONNECTION of the module's environment"


def test_under_sudo_the_nearest_ancestor_with_the_variables_gives_the_session():
    session = ssh_session.current({"PATH": "/usr/bin"}, 900, proc(TREE))
    assert session == ssh_session.SshSession("192.0.2.10", 50022, "192.0.2.1", 22,
                                             "SSH_CONNECTION of process 897 (sh)")


def test_no_ancestor_with_the_variables_is_no_session():
    tree = dict((pid, (parent, name, {})) for pid, (parent, name, _environment) in TREE.items())
    assert ssh_session.current({}, 900, proc(tree)) is None


def test_a_process_that_vanished_ends_the_walk():
    assert ssh_session.current({}, 900, proc({900: (899, "python3", {})})) is None


def test_a_stated_address_is_a_session_without_ports():
    expected = ssh_session.SshSession("192.0.2.10", None, None, None, "host_ssh_client_address")
    assert ssh_session.stated(" 192.0.2.10 ") == expected
    assert ssh_session.stated("laptop") is None
    assert ssh_session.stated("") is None
