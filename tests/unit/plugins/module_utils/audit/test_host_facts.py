# -*- coding: utf-8 -*-
"""Host fact parsers and readers, on text and on tmp_path."""

from __future__ import annotations

import os
import socket
import subprocess

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.host_facts import (
    AuditRules, content_trust_sources, covering_watches, docker_group, filesystem_of, find_pid, parse_audit_rules,
    parse_mountinfo, read_audit_rules, read_cmdline, stat_path,
)

AUDITCTL_OUTPUT = """-w /usr/sbin/dockerd -p rwxa -k docker
-a always,exit -S all -F path=/run/containerd -F perm=rwa -F key=docker
-a always,exit -F arch=b64 -S all -F dir=/var/lib/docker -F perm=wa -F key=docker
# a comment
-e 2
"""


def test_parse_auditctl_output():
    watches = parse_audit_rules(AUDITCTL_OUTPUT)
    assert [(w.path, w.perms, w.recursive) for w in watches] == [
        ("/usr/sbin/dockerd", "rwxa", True), ("/run/containerd", "rwa", False), ("/var/lib/docker", "wa", True)]


def test_covering_watches_exact_or_recursive():
    rules = AuditRules("auditctl -l", parse_audit_rules(AUDITCTL_OUTPUT), None)
    assert covering_watches(rules, "/var/lib/docker/volumes")
    assert not covering_watches(rules, "/run/containerd/containerd.sock")  # -F path= is not recursive
    assert not covering_watches(rules, "/usr/sbin/docker")


def test_read_audit_rules_prefers_auditctl(monkeypatch):
    def fake_run(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 0, stdout=AUDITCTL_OUTPUT, stderr="")
    rules = read_audit_rules(run=fake_run, which=lambda name: "/sbin/auditctl")
    assert rules.source == "auditctl -l" and len(rules.watches) == 3


def test_read_audit_rules_falls_back_to_files(tmp_path, monkeypatch):
    rule_file = tmp_path / "docker.rules"
    rule_file.write_text("-w /etc/docker -k docker\n")
    monkeypatch.setattr(host_facts, "AUDIT_RULE_FILES", (str(tmp_path / "*.rules"),))
    rules = read_audit_rules(which=lambda name: None)
    assert "not verified as loaded: auditctl not installed" in rules.source
    assert [w.path for w in rules.watches] == ["/etc/docker"]
    monkeypatch.setattr(host_facts, "AUDIT_RULE_FILES", (str(tmp_path / "none/*.rules"),))
    assert read_audit_rules(which=lambda name: None).error.startswith("no audit rules")


def test_mountinfo_and_filesystem_of():
    points = parse_mountinfo("27 1 254:0 / / rw - ext4 /dev/vda rw\n43 27 254:16 / /srv/with\\040space rw - ext4 /dev/vdb rw\n")
    assert points == {"/": "254:0", "/srv/with space": "254:16"}
    assert filesystem_of(points, "/srv/with space/x") == ("/srv/with space", "254:16")
    assert filesystem_of(points, "/srv/other") == ("/", "254:0")


def test_docker_group_members_include_primary_group_users():
    class Group(object):
        gr_gid, gr_mem = 105, ["alice"]

    class User(object):
        def __init__(self, name, gid):
            self.pw_name, self.pw_gid = name, gid

    def getgrnam(name):
        if name != "docker":
            raise KeyError(name)
        return Group()
    users = [User("bob", 105), User("carol", 100)]
    assert docker_group(getgrnam=getgrnam, getpwall=lambda: users) == (105, ["alice", "bob"])
    assert docker_group("nope", getgrnam=getgrnam, getpwall=lambda: users) == (None, None)


def test_process_lookups_on_this_host(tmp_path):
    pid = os.getpid()
    with open("/proc/self/comm", "r", encoding="utf-8") as handle:
        comm = handle.read().strip()
    assert find_pid(comm) is not None
    stale, good = tmp_path / "stale.pid", tmp_path / "good.pid"
    stale.write_text("999999999\n")
    good.write_text("%d\n" % pid)
    assert find_pid(comm, pidfiles=[str(tmp_path / "missing.pid"), str(stale), str(good)]) == pid
    assert read_cmdline(pid)[0]
    assert read_cmdline(999999999) is None


def test_content_trust_sources(tmp_path):
    profile = tmp_path / "trust.sh"
    profile.write_text("# managed\nexport DOCKER_CONTENT_TRUST=1\n")
    commented = tmp_path / "off.sh"
    commented.write_text("# export DOCKER_CONTENT_TRUST=1\n")
    systemd = tmp_path / "system.conf"
    systemd.write_text("[Manager]\nDefaultEnvironment=DOCKER_CONTENT_TRUST=1\n")
    found = content_trust_sources([str(tmp_path / "*.sh"), str(systemd)], environ={})
    assert found == [str(profile), str(systemd)]
    assert content_trust_sources([], environ={"DOCKER_CONTENT_TRUST": "1"}) == ["environment of the audit process"]


def test_stat_path_kinds(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    os.chmod(str(path), 0o640)
    assert stat_path(str(path)).mode == 0o640 and stat_path(str(path)).kind == "file"
    assert stat_path(str(tmp_path)).kind == "dir"
    assert stat_path(str(tmp_path / "missing")) is None
    sock_path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(sock_path)
    try:
        assert stat_path(sock_path).kind == "socket"
    finally:
        server.close()
