# -*- coding: utf-8 -*-
"""Where a container answers: published ports, host-network listeners read from a /proc tree, and the probe."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import ports
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.ports import (
    answering, answers, cgroup_procs_files, decode_address, endpoint_text, listening_endpoints,
    listening_sockets, parse_proc_net_tcp, pids_from_top, probe_host, published_endpoints, random_host_ports,
)

from remediate_fixtures import neighbours, web_inspect

LOCAL = "unix:///var/run/docker.sock"


# --- addresses and endpoints -----------------------------------------------------------------------------

@pytest.mark.parametrize("address, docker_host, host", [
    ("", LOCAL, "127.0.0.1"), ("0.0.0.0", LOCAL, "127.0.0.1"), ("::", LOCAL, "::1"), ("127.0.0.1", LOCAL, "127.0.0.1"),
    ("10.0.0.5", LOCAL, "10.0.0.5"), ("0.0.0.0", "tcp://docker.example:2376", "docker.example"),
    ("::", "ssh://ops@docker.example", "docker.example"), ("10.0.0.5", "tcp://docker.example:2376", "10.0.0.5"),
])
def test_probe_host(address, docker_host, host):
    assert probe_host(address, docker_host) == host


def test_endpoint_text():
    assert endpoint_text(("127.0.0.1", 8080)) == "127.0.0.1:8080"
    assert endpoint_text(("::1", 8080)) == "[::1]:8080"


def test_published_endpoints_of_the_donor():
    assert published_endpoints(neighbours()["donor"], LOCAL) == [("127.0.0.1", 18181)]


def test_published_endpoints_wildcards_udp_and_repeats():
    inspect = web_inspect({"NetworkSettings.Ports": {
        "8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}, {"HostIp": "::", "HostPort": "80"}],
        "8443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "443"}, {"HostIp": "127.0.0.1", "HostPort": "443"}],
        "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "53"}],
        "9000/tcp": None,
    }})
    assert published_endpoints(inspect, LOCAL) == [("127.0.0.1", 80), ("::1", 80), ("127.0.0.1", 443)]


def test_random_host_ports():
    assert random_host_ports(web_inspect()) == []
    inspect = web_inspect({"HostConfig.PortBindings": {"8080/tcp": [{"HostIp": "", "HostPort": ""}],
                                                       "9090/tcp": [{"HostIp": "", "HostPort": "9090"}]}})
    assert random_host_ports(inspect) == ["8080/tcp"]
    assert random_host_ports(web_inspect({"HostConfig.PublishAllPorts": True})) == ["8080/tcp"]


# --- /proc ----------------------------------------------------------------------------------------------------

def test_the_real_proc_net_tcp_of_a_host_network_container():
    listeners = parse_proc_net_tcp(neighbours()["hostnet_tcp"])
    assert ("0.0.0.0", 18182, "936922") in listeners and ("127.0.0.1", 18183, "935840") in listeners
    assert all(len(item) == 3 for item in listeners)


def test_ipv6_listeners_wildcard_loopback_and_ipv4_mapped():
    assert [(address, port) for address, port, _inode in parse_proc_net_tcp(neighbours()["listening_tcp6"])] == [
        ("127.0.0.1", 18186), ("::1", 18185), ("::", 18184)]


def test_only_listening_sockets_count():
    text = neighbours()["hostnet_tcp"] + ("   9: 0100007F:4706 0100007F:9C40 01 00000000:00000000 00:00000000 "
                                          "00000000     0        0 999999 1 0000000000000000 20 4 30 10 -1\n")
    assert "999999" not in [inode for _address, _port, inode in parse_proc_net_tcp(text)]


def test_decode_address():
    assert decode_address("0100007F") == "127.0.0.1"
    assert decode_address("00000000") == "0.0.0.0"
    assert decode_address("00000000000000000000000001000000") == "::1"


def test_cgroup_procs_files_v1_then_v2():
    files = cgroup_procs_files(neighbours()["hostnet_cgroup"], "/sys/fs/cgroup")
    container_id = neighbours()["hostnet"]["Id"]
    assert files[0] == "/sys/fs/cgroup/pids/docker/%s/cgroup.procs" % container_id
    assert files[-2:] == ["/sys/fs/cgroup/docker/%s/cgroup.procs" % container_id,
                          "/sys/fs/cgroup/unified/docker/%s/cgroup.procs" % container_id]
    assert cgroup_procs_files("0::/system.slice/docker-abc.scope\n", "/cg") == [
        "/cg/system.slice/docker-abc.scope/cgroup.procs", "/cg/unified/system.slice/docker-abc.scope/cgroup.procs"]


def test_pids_from_the_real_docker_top():
    assert pids_from_top(neighbours()["hostnet_top"]) == [12316, 12352, 12353]
    assert pids_from_top({"Titles": ["UID", "CMD"], "Processes": [["root", "sh"]]}) == []
    assert pids_from_top(None) == []


def fake_host(tmp_path, with_cgroup=True):
    """A /proc and /sys/fs/cgroup tree holding the real host-network container's files."""
    data = neighbours()
    inspect = data["hostnet"]
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    main = str(inspect["State"]["Pid"])
    (proc / main / "net").mkdir(parents=True)
    (proc / main / "cgroup").write_text(data["hostnet_cgroup"])
    (proc / main / "net" / "tcp").write_text(data["hostnet_tcp"])
    (proc / main / "net" / "tcp6").write_text(data["listening_tcp6"].splitlines()[0] + "\n")
    for pid, descriptors in data["hostnet_fds"].items():
        directory = proc / pid / "fd"
        directory.mkdir(parents=True)
        for fd, target in descriptors.items():
            os.symlink(target, str(directory / fd))
    if with_cgroup:
        procs = cgroup / "pids" / "docker" / inspect["Id"]
        procs.mkdir(parents=True)
        (procs / "cgroup.procs").write_text("".join(pid + "\n" for pid in data["hostnet_fds"]))
    return inspect, str(proc), str(cgroup)


def test_the_listeners_of_every_process_of_the_container(tmp_path):
    inspect, proc, cgroup = fake_host(tmp_path)
    assert listening_sockets(inspect, LOCAL, proc=proc, cgroup_root=cgroup) == ([("0.0.0.0", 18182), ("127.0.0.1", 18183)], None)


def test_without_its_cgroup_the_processes_come_from_docker_top(tmp_path):
    inspect, proc, cgroup = fake_host(tmp_path, with_cgroup=False)
    asked = []

    def top():
        asked.append(1)
        return neighbours()["hostnet_top"]
    assert listening_sockets(inspect, LOCAL, top=top, proc=proc, cgroup_root=cgroup)[0] == [("0.0.0.0", 18182),
                                                                                            ("127.0.0.1", 18183)]
    assert asked == [1]


def test_a_remote_engine_cannot_be_read_here(tmp_path):
    inspect, proc, cgroup = fake_host(tmp_path)
    assert listening_sockets(inspect, "tcp://docker.example:2376", proc=proc, cgroup_root=cgroup) == (
        None, "docker_host tcp://docker.example:2376 is not this host's socket, so its processes cannot be read here")


def test_a_process_of_another_pid_namespace_is_not_the_containers(tmp_path):
    inspect, proc, cgroup = fake_host(tmp_path)
    os.unlink(os.path.join(proc, str(inspect["State"]["Pid"]), "cgroup"))
    with open(os.path.join(proc, str(inspect["State"]["Pid"]), "cgroup"), "w") as handle:
        handle.write("0::/user.slice/session-1.scope\n")
    listening, why = listening_sockets(inspect, LOCAL, proc=proc, cgroup_root=cgroup)
    assert listening is None and "is not the container's" in why


def test_a_stopped_container_has_no_processes(tmp_path):
    inspect, proc, cgroup = fake_host(tmp_path)
    inspect["State"]["Pid"] = 0
    assert listening_sockets(inspect, LOCAL, proc=proc, cgroup_root=cgroup) == (None, "it does not run")


def test_unreadable_descriptors_are_unknown_not_none(tmp_path, monkeypatch):
    # What a user who is not root sees of root's processes (root itself reads every directory).
    inspect, proc, cgroup = fake_host(tmp_path)
    monkeypatch.setattr(ports, "socket_inodes", lambda pid, proc: set())
    monkeypatch.setattr(ports.os, "access", lambda path, mode: False)
    listening, why = listening_sockets(inspect, LOCAL, proc=proc, cgroup_root=cgroup)
    assert listening is None and "become: true" in why


def test_listening_endpoints():
    assert listening_endpoints([("0.0.0.0", 80), ("::", 80), ("127.0.0.1", 80), ("::", 443)], LOCAL) == [
        ("127.0.0.1", 80), ("::1", 80), ("::1", 443)]
    assert listening_endpoints(None, LOCAL) == []


# --- the probe ------------------------------------------------------------------------------------------------

def serve(behaviour):
    """A local TCP server: 'hold' keeps connections open, 'close' closes them at once; its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def loop():
        while True:
            try:
                connection, _address = server.accept()
            except OSError:
                return
            if behaviour == "close":
                connection.close()
            else:
                held.append(connection)
    held = []
    threading.Thread(target=loop, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_server_that_keeps_the_connection_answers():
    server, port = serve("hold")
    try:
        assert answers("127.0.0.1", port, wait=0.05)
    finally:
        server.close()


def test_a_connection_closed_at_once_is_no_answer():
    # docker-proxy accepts for a published port and closes when nothing listens behind it.
    server, port = serve("close")
    try:
        assert not answers("127.0.0.1", port, wait=0.5)
    finally:
        server.close()


def test_a_refused_connection_is_no_answer():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    assert not answers("127.0.0.1", port)


def test_answering_keeps_the_order_and_asks_each_once():
    asked = []

    def probe(host, port):
        asked.append(port)
        return port % 2 == 0
    assert answering([("h", 1), ("h", 2), ("h", 4)], probe) == [("h", 2), ("h", 4)]
    assert sorted(asked) == [1, 2, 4]
    assert answering([], probe) == []
    assert ports.PROBE_WORKERS >= 1
