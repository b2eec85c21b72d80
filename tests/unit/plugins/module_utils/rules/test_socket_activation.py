# -*- coding: utf-8 -*-
"""1.1.2, 3.15 and 2.7 with dockerd started as Debian's unit starts it: -H fd:// (issue 20, items 5 and 6).

systemd creates the socket from docker.socket (Debian 12's real unit:
/run/docker.sock, SocketGroup=docker, SocketMode=0660) and hands it to
dockerd, so dockerd's -G names a group the socket never gets. The host
facts come from gather.read_host_facts with the unit files and the group
database replaced, so the decision is the one the audit and the
docker_daemon role (daemon_files) make.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, AuditState
from ansible_collections.bulwark.hardening.plugins.module_utils.files.docker_files import DOCKER_FILES, policy_rules

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import dockerd_config, evidence, findings, info, status, unit_fixture

DOCKER_GID, OPS_GID = 105, 1500
GROUPS = {"docker": (DOCKER_GID, ["alice"]), "ops": (OPS_GID, ["mallory"]), "root": (0, ["root"])}
# Debian 12's ExecStart (-H fd://) plus an admin's -G.
DEBIAN_ARGV = ["-H", "fd://", "--containerd=/run/containerd/containerd.sock"]
SOCKET_FILE = FileStat("/run/docker.sock", 0, DOCKER_GID, 0o660, "socket")


@pytest.fixture
def debian_host(monkeypatch):
    """Unit files and groups of a Debian 12 host with docker.io; drop-ins for docker.socket can be added."""
    drop_ins = []
    texts = {"docker.socket": unit_fixture("debian12-docker.socket"), "docker.service": unit_fixture("debian12-docker.service")}
    monkeypatch.setattr(gather.host_facts, "find_unit", lambda name: "/lib/systemd/system/" + name)
    monkeypatch.setattr(gather.host_facts, "read_unit_texts", lambda name: [texts[name]] + drop_ins, raising=False)
    monkeypatch.setattr(gather.host_facts, "docker_group", lambda name: GROUPS.get(name, (None, None)))
    monkeypatch.setattr(gather.host_facts, "stat_path", lambda path: SOCKET_FILE if path == "/run/docker.sock" else None)
    return drop_ins


def audit(argv, scopes=("host", "files", "daemon"), trusted_users=None):
    daemon = dockerd_config(argv)
    return AuditState(options=AuditOptions(trusted_users=trusted_users), info=info(), daemon=daemon,
                      host=gather.read_host_facts(daemon, list(scopes)))


def socket_findings(rule_id, state):
    return [(finding.target, finding.status) for finding in findings(rule_id, state)]


# --- item 5: the socket's group --------------------------------------------------------------

def test_3_15_expects_docker_sockets_group_not_dockerds_minus_g(debian_host):
    state = audit(DEBIAN_ARGV + ["-G", "ops"])
    assert socket_findings("3.15", state) == [("/run/docker.sock", "pass")]
    assert socket_findings("3.16", state) == [("/run/docker.sock", "pass")]


def test_the_role_keeps_the_socket_in_docker_sockets_group(debian_host):
    # daemon_files chowns to what policy_rules says: with -G ops it used to say ops.
    socket_entry = [entry for entry in DOCKER_FILES if entry.name == "docker socket"]
    [rule] = policy_rules(audit(DEBIAN_ARGV + ["-G", "ops"], scopes=("files",)), entries=socket_entry)
    assert (rule["path"], rule["group"]) == ("/run/docker.sock", "docker")


def test_1_1_2_judges_the_members_of_the_group_that_reaches_the_socket(debian_host):
    state = audit(DEBIAN_ARGV + ["-G", "ops"], trusted_users=["alice"])
    assert status("1.1.2", state) == "pass"
    assert "socket group docker" in evidence("1.1.2", state) and "mallory" not in evidence("1.1.2", state)
    assert state.host.docker_group_name == "docker"


def test_1_1_2_judges_every_socket_group(debian_host):
    state = audit(DEBIAN_ARGV + ["-H", "unix:///srv/docker-api.sock", "-G", "ops"], trusted_users=["alice"])
    assert status("1.1.2", state) == "fail"
    assert "socket group ops members not in trusted_users: mallory" in evidence("1.1.2", state)


def test_a_socket_group_drop_in_moves_the_expectation(debian_host):
    debian_host.append("[Socket]\nSocketGroup=ops\n")
    state = audit(DEBIAN_ARGV)
    assert socket_findings("3.15", state) == [("/run/docker.sock", "fail")]
    assert "expected root:ops" in evidence("3.15", state)


def test_without_fd_the_socket_keeps_dockerds_group(debian_host):
    state = audit(["-G", "ops"])
    assert state.host.docker_group_name == "ops"


# --- item 6: TCP listeners of socket activation -----------------------------------------------

def test_2_7_sees_a_tcp_listener_of_docker_socket(debian_host):
    debian_host.append("[Socket]\nListenStream=0.0.0.0:2375\n")
    state = audit(DEBIAN_ARGV, scopes=("daemon",))
    assert status("2.7", state) == "fail"
    assert "docker.socket ListenStream=0.0.0.0:2375" in evidence("2.7", state) and "without TLS" in evidence("2.7", state)


def test_2_7_passes_a_socket_activated_tcp_listener_with_client_verification(debian_host):
    debian_host.append("[Socket]\nListenStream=2376\n")
    state = audit(DEBIAN_ARGV + ["--tlsverify", "--tlscacert=/etc/docker/tls/ca.pem"], scopes=("daemon",))
    assert status("2.7", state) == "pass"


def test_2_7_passes_debians_unit_as_shipped(debian_host):
    state = audit(DEBIAN_ARGV, scopes=("daemon",))
    assert status("2.7", state) == "pass"
    assert "docker.socket ListenStream=/run/docker.sock" in evidence("2.7", state)
