# -*- coding: utf-8 -*-
"""Host fact parsers and readers, on text and on tmp_path."""

from __future__ import annotations

import os
import socket
import stat
import subprocess

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system import audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import (
    content_trust_sources, docker_group, filesystem_of, find_pid, parse_mountinfo, read_cmdline, stat_path,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import (
    AuditRules, covering_watches, parse_audit_rules, read_audit_rules,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.system.packages import (
    PackageStatus, compare_debian_versions, dpkg_paths, parse_apt_policy, parse_dpkg_search, APT_IN_MEMORY, apt_cache_options, read_docker_package,
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
    monkeypatch.setattr(audit_rules, "AUDIT_RULE_FILES", (str(tmp_path / "*.rules"),))
    rules = read_audit_rules(which=lambda name: None)
    assert "not verified as loaded: auditctl not installed" in rules.source
    assert [w.path for w in rules.watches] == ["/etc/docker"]
    monkeypatch.setattr(audit_rules, "AUDIT_RULE_FILES", (str(tmp_path / "none/*.rules"),))
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


def test_docker_group_follows_dockerds_group_option():
    # dockerd -G takes a group name, or a numeric gid (used even without a group entry); '' gives no group.
    class Group(object):
        def __init__(self, gid, members):
            self.gr_gid, self.gr_mem = gid, members

    class User(object):
        def __init__(self, name, gid):
            self.pw_name, self.pw_gid = name, gid

    groups = {"docker": Group(105, ["alice"]), "dockerusers": Group(1500, ["dave"])}

    def getgrnam(name):
        return groups[name]

    def getgrgid(gid):
        for group in groups.values():
            if group.gr_gid == gid:
                return group
        raise KeyError(gid)
    users = [User("bob", 105), User("erin", 1500), User("frank", 1600)]
    lookups = dict(getgrnam=getgrnam, getgrgid=getgrgid, getpwall=lambda: users)
    assert docker_group("dockerusers", **lookups) == (1500, ["dave", "erin"])
    assert docker_group("1500", **lookups) == (1500, ["dave", "erin"])
    assert docker_group("1600", **lookups) == (1600, ["frank"])
    assert docker_group("", **lookups) == (None, None)
    assert docker_group("nogroup", **lookups) == (None, None)


# Real output (Debian 12, LC_ALL=C) of the commands 1.2.2 runs.
DPKG_S_DOCKERD = "docker.io: /usr/sbin/dockerd\n"
DPKG_S_DIVERTED = "diversion by dash from: /bin/sh\ndiversion by dash to: /bin/sh.distrib\ndash: /bin/sh\n"
DPKG_S_MULTIARCH = "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6\n"
APT_POLICY_UPGRADABLE = """apt:
  Installed: 2.6.1
  Candidate: 2.6.2
  Version table:
     2.6.2 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
 *** 2.6.1 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
"""
APT_POLICY_CURRENT = """docker.io:
  Installed: 20.10.24+dfsg1-1+deb12u1+b6
  Candidate: 20.10.24+dfsg1-1+deb12u1+b6
  Version table:
 *** 20.10.24+dfsg1-1+deb12u1+b6 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
"""
# The same with no package lists (before the first apt-get update).
APT_POLICY_NO_LISTS = """docker.io:
  Installed: 20.10.24+dfsg1-1+deb12u1+b6
  Candidate: 20.10.24+dfsg1-1+deb12u1+b6
  Version table:
 *** 20.10.24+dfsg1-1+deb12u1+b6 100
        100 /var/lib/dpkg/status
"""


def test_parse_dpkg_search():
    assert parse_dpkg_search(DPKG_S_DOCKERD, ["/usr/sbin/dockerd", "/sbin/dockerd"]) == "docker.io"
    assert parse_dpkg_search(DPKG_S_DIVERTED, ["/bin/sh"]) == "dash"
    assert parse_dpkg_search(DPKG_S_MULTIARCH, dpkg_paths("/usr/lib/x86_64-linux-gnu/libc.so.6")) == "libc6"
    assert parse_dpkg_search("", ["/usr/local/bin/dockerd"]) is None


def test_dpkg_paths_cover_merged_usr():
    assert dpkg_paths("/usr/sbin/dockerd") == ["/usr/sbin/dockerd", "/sbin/dockerd"]
    assert dpkg_paths("/bin/dockerd") == ["/bin/dockerd", "/usr/bin/dockerd"]
    assert dpkg_paths("/opt/docker/dockerd") == ["/opt/docker/dockerd"]


def test_parse_apt_policy():
    assert parse_apt_policy(APT_POLICY_UPGRADABLE) == ("2.6.1", "2.6.2", [
        "/var/lib/dpkg/status", "http://deb.debian.org/debian bookworm/main amd64 Packages",
        "http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"])
    assert parse_apt_policy(APT_POLICY_NO_LISTS) == ("20.10.24+dfsg1-1+deb12u1+b6", "20.10.24+dfsg1-1+deb12u1+b6",
                                                     ["/var/lib/dpkg/status"])
    assert parse_apt_policy("x:\n  Installed: (none)\n  Candidate: 1.0\n")[:2] == (None, "1.0")
    assert parse_apt_policy("") == (None, None, [])


@pytest.mark.parametrize("left,right,order", [
    ("20.10.24+dfsg1-1+b3", "20.10.24+dfsg1-1+deb12u1", -1),
    ("2.6.2", "2.6.1", 1),
    ("1.0~rc1", "1.0", -1),
    ("1.0", "1.0-0", 0),
    ("1:1.0", "2.0", 1),
    ("5:24.0.7-1~debian.12~bookworm", "5:24.0.7-1~debian.12~bookworm", 0),
    ("1.0a", "1.0+", -1),
    ("1.0.10", "1.0.9", 1),
    ("1.0", "1.0.1", -1),
])
def test_compare_debian_versions_as_dpkg_does(left, right, order):
    # Orders checked against `dpkg --compare-versions` on Debian 12.
    result = compare_debian_versions(left, right)
    assert (result > 0) - (result < 0) == order


def fake_commands(outputs):
    """A subprocess.run stand-in answering by program name; records each argv."""
    calls = []

    def run(argv, **kwargs):
        calls.append((argv, kwargs))
        answer = outputs[os.path.basename(argv[0])]
        if isinstance(answer, Exception):
            raise answer
        return subprocess.CompletedProcess(argv, answer[0], stdout=answer[1], stderr=answer[2])
    return run, calls


def test_read_docker_package_runs_dpkg_then_apt_cache_with_a_private_cache_in_the_c_locale(tmp_path):
    run, calls = fake_commands({"dpkg": (1, DPKG_S_DOCKERD, "dpkg-query: no path found matching pattern /sbin/dockerd\n"),
                                "apt-cache": (0, APT_POLICY_UPGRADABLE.replace("apt:", "docker.io:"), "")})
    cache_dir = str(tmp_path / "bulwark" / "apt")
    found = read_docker_package("/usr/sbin/dockerd", run=run, which=lambda name: "/usr/bin/" + name, apt_cache_dir=cache_dir)
    assert found == PackageStatus("docker.io", "2.6.1", "2.6.2", parse_apt_policy(APT_POLICY_UPGRADABLE)[2], None)
    (dpkg_argv, dpkg_options), (apt_argv, apt_options) = calls
    assert dpkg_argv == ["/usr/bin/dpkg", "-S", "/usr/sbin/dockerd", "/sbin/dockerd"]
    assert apt_argv[-2:] == ["policy", "docker.io"]
    # apt's own cache in /var/cache/apt is never written: its cache for the audit lives in bulwark's private directory.
    assert "Dir::Cache::pkgcache=%s/pkgcache.bin" % cache_dir in apt_argv and "Dir::Cache::srcpkgcache=" in apt_argv
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    for options in (dpkg_options, apt_options):
        assert options["timeout"] and options["env"]["LC_ALL"] == "C"


def test_apt_cache_is_built_in_memory_when_the_cache_directory_is_not_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    assert apt_cache_options(str(shared)) == APT_IN_MEMORY
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert apt_cache_options(str(not_a_dir)) == APT_IN_MEMORY
    read_only = tmp_path / "ro"
    read_only.mkdir()
    os.chmod(str(read_only), 0o500)
    if os.geteuid() != 0:  # root writes anyway
        assert apt_cache_options(str(read_only / "apt")) == APT_IN_MEMORY


def test_a_failing_apt_cache_with_its_file_is_run_once_more_in_memory(tmp_path):
    answers = iter([(100, "", "E: Write error - write (28: No space left on device)"),
                    (0, APT_POLICY_UPGRADABLE.replace("apt:", "docker.io:"), "")])
    seen = []

    def run(argv, **_options):
        seen.append(argv)
        if os.path.basename(argv[0]) == "dpkg":
            return subprocess.CompletedProcess(argv, 0, stdout=DPKG_S_DOCKERD, stderr="")
        code, out, err = next(answers)
        return subprocess.CompletedProcess(argv, code, stdout=out, stderr=err)
    found = read_docker_package("/usr/sbin/dockerd", run=run, which=lambda name: "/usr/bin/" + name,
                                apt_cache_dir=str(tmp_path / "apt"))
    assert found.candidate == "2.6.2" and found.note is None
    assert "Dir::Cache::pkgcache=" in seen[-1] and "Dir::Cache::pkgcache=" not in seen[-2]


def test_read_docker_package_without_dpkg_or_package():
    assert read_docker_package("/usr/sbin/dockerd", which=lambda name: None) is None
    run, _calls = fake_commands({"dpkg": (1, "", "dpkg-query: no path found matching pattern /usr/local/bin/dockerd\n")})
    found = read_docker_package("/usr/local/bin/dockerd", run=run, which=lambda name: "/usr/bin/" + name)
    assert found.package is None and "belongs to no dpkg package" in found.note


def test_read_docker_package_timeout_is_a_note_not_a_crash(tmp_path):
    run, _calls = fake_commands({"dpkg": (0, DPKG_S_DOCKERD, ""),
                                 "apt-cache": subprocess.TimeoutExpired(["apt-cache"], 20)})
    found = read_docker_package("/usr/sbin/dockerd", run=run, which=lambda name: "/usr/bin/" + name,
                                apt_cache_dir=str(tmp_path / "apt"))
    assert found.package == "docker.io" and "timed out" in found.note


def _reader(files):
    return files.get


def _nothing_exists(_path):
    return False


def test_container_manager_reads_the_signs_systemd_detect_virt_reads():
    exists = _nothing_exists
    assert host_facts.container_manager(_reader({"/run/systemd/container": "lxc\n"}), exists) == "lxc"
    assert host_facts.container_manager(_reader({"/proc/1/environ": "PATH=/bin\0container=podman\0"}), exists) == "podman"
    assert host_facts.container_manager(_reader({}), lambda path: path == "/run/.containerenv") == "podman"
    assert host_facts.container_manager(_reader({}), lambda path: path == "/.dockerenv") == "docker"
    # A VM or a real host: none of them.
    assert host_facts.container_manager(_reader({"/proc/1/environ": "PATH=/bin\0HOME=/\0"}), exists) is None
