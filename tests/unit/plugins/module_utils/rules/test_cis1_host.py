# -*- coding: utf-8 -*-
"""CIS section 1 rules: partition, docker group, audit rules."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat, parse_mountinfo
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import AuditRules, parse_audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.system.packages import PackageStatus
from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.host import auditd, environment
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis1_host import AUDITED_PATHS

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import host_env

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, state, status

# /proc/self/mountinfo lines as the kernel writes them.
ROOT = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw"
BIND_OF_ROOT_DIR = "42 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw"
OWN_PARTITION = "43 27 254:16 / /var/lib/docker rw,relatime - ext4 /dev/vdb rw"
VAR_PARTITION = "44 27 254:32 / /var rw,relatime - ext4 /dev/vdc rw"

BINARIES = {
    "dockerd": "/usr/sbin/dockerd", "containerd": "/usr/bin/containerd", "containerd-shim": "/usr/bin/containerd-shim",
    "containerd-shim-runc-v1": "/usr/bin/containerd-shim-runc-v1",
    "containerd-shim-runc-v2": "/usr/bin/containerd-shim-runc-v2", "runc": "/usr/sbin/runc",
}
UNITS = {"docker.service": "/lib/systemd/system/docker.service", "docker.socket": "/lib/systemd/system/docker.socket"}
# Every path 1.1.x audits on the fixture host, present.
PRESENT = ["/run/containerd", "/var/lib/docker", "/etc/docker", "/run/containerd/containerd.sock", "/etc/default/docker",
           "/etc/docker/daemon.json", "/etc/containerd/config.toml", "/etc/sysconfig/docker", "/var/run/docker.sock"]
PRESENT += list(BINARIES.values()) + list(UNITS.values())
FULL_RULES = "\n".join(["-w %s -p wa -k docker" % path for path in PRESENT if path != "/run/containerd"]
                       + ["-a always,exit -S all -F path=/run/containerd -F perm=war -F key=docker"])


def host(rules_text=None, mountinfo=(ROOT,), members=None, present=tuple(PRESENT), source="auditctl -l"):
    rules = AuditRules(source, parse_audit_rules(rules_text or ""), None)
    return HostFacts(audit_rules=rules, mountpoints=parse_mountinfo("\n".join(mountinfo)), binaries=BINARIES, units=UNITS,
                     docker_group_members=members, files=dict((path, FileStat(path, 0, 0, 0o644, "file")) for path in present))


def test_1_1_1_separate_partition():
    assert status("1.1.1", state(host=host(mountinfo=[ROOT, OWN_PARTITION]))) == "pass"
    assert status("1.1.1", state(host=host(mountinfo=[ROOT]))) == "fail"


def test_1_1_1_bind_mount_of_a_root_directory_is_not_a_partition():
    # `mountpoint -q` says yes to this, but the data still fills the root filesystem.
    assert status("1.1.1", state(host=host(mountinfo=[ROOT, BIND_OF_ROOT_DIR]))) == "fail"
    assert "bind mount" in evidence("1.1.1", state(host=host(mountinfo=[ROOT, BIND_OF_ROOT_DIR])))
    assert "mounted at /var" in evidence("1.1.1", state(host=host(mountinfo=[ROOT, VAR_PARTITION])))


def test_1_1_1_uses_parent_of_userns_root():
    userns = {"DockerRootDir": "/var/lib/docker/100000.100000",
              "SecurityOptions": ["name=seccomp,profile=default", "name=userns"]}
    assert status("1.1.1", state(host=host(mountinfo=[ROOT, OWN_PARTITION]), info_changes=userns)) == "pass"


def test_1_1_2_docker_group_members():
    assert status("1.1.2", state(host=host(members=[]))) == "pass"
    assert status("1.1.2", state(host=host(members=["alice", "bob"]))) == "warn"
    trusted = AuditOptions(trusted_users=["alice", "bob"])
    assert status("1.1.2", state(host=host(members=["alice", "bob"]), options=trusted)) == "pass"
    # Whole names: 'bob' being trusted does not vouch for 'bobby'.
    audit = state(host=host(members=["alice", "bobby", "mallory"]), options=trusted)
    assert status("1.1.2", audit) == "fail"
    assert "bobby, mallory" in evidence("1.1.2", audit)


AUDIT_IDS = [entry[0] for entry in AUDITED_PATHS]


@pytest.mark.parametrize("rule_id", AUDIT_IDS)
def test_audit_rules_pass_with_watches_and_fail_without(rule_id):
    assert status(rule_id, state(host=host(FULL_RULES))) == "pass"
    assert status(rule_id, state(host=host(""))) == "fail"


@pytest.mark.parametrize("rule_id", [rule_id for rule_id in AUDIT_IDS if rule_id != "1.1.3"])
def test_audit_rules_for_absent_paths_are_info(rule_id):
    assert status(rule_id, state(host=host("", present=["/usr/sbin/dockerd"]))) == "info"


def test_audit_rule_match_is_exact_not_substring():
    # A watch on containerd-shim must not count for containerd (the shell check's substring grep).
    only_shim = "-w /usr/bin/containerd-shim -k docker"
    assert status("1.1.14", state(host=host(only_shim))) == "fail"


def test_directory_watch_covers_files_below_it():
    assert status("1.1.11", state(host=host("-w /etc/docker -k docker"))) == "pass"


def test_watch_without_write_permission_does_not_count():
    assert status("1.1.6", state(host=host("-w /etc/docker -p x -k docker"))) == "fail"


def test_no_audit_system_at_all():
    missing = HostFacts(audit_rules=AuditRules(None, [], "no audit rules: auditctl not installed"),
                        binaries=BINARIES, units=UNITS, files={"/etc/docker": FileStat("/etc/docker", 0, 0, 0o755, "dir")})
    assert status("1.1.6", state(host=missing)) == "fail"
    assert "auditctl not installed" in evidence("1.1.6", state(host=missing))


def test_1_1_9_audits_socket_unit_and_socket():
    unit_only = "-w /lib/systemd/system/docker.socket -k docker"
    assert status("1.1.9", state(host=host(unit_only))) == "fail"
    both = unit_only + "\n-w /var/run/docker.sock -k docker"
    assert status("1.1.9", state(host=host(both))) == "pass"


def test_1_1_2_names_the_socket_group():
    audit = state(host=HostFacts(docker_group_name="dockerusers", docker_group_members=["carol"]))
    assert status("1.1.2", audit) == "warn"
    assert "socket group dockerusers" in evidence("1.1.2", audit)
    assert "no group 'dockerusers'" in evidence("1.1.2", state(host=HostFacts(docker_group_name="dockerusers")))


def test_1_2_1_is_manual_and_1_2_2_reports_the_version():
    assert status("1.2.1", state()) == "info"
    assert status("1.2.2", state()) == "info"
    assert "20.10.24" in evidence("1.2.2", state())


DEBIAN = "http://deb.debian.org/debian bookworm/main amd64 Packages"
SECURITY = "http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"
STATUS = "/var/lib/dpkg/status"


@pytest.mark.parametrize("package,expected,words", [
    (PackageStatus("docker.io", "20.10.24+dfsg1-1+b3", "20.10.24+dfsg1-1+deb12u1", [STATUS, DEBIAN, SECURITY], None),
     "fail", ["docker.io 20.10.24+dfsg1-1+b3 is installed, 20.10.24+dfsg1-1+deb12u1 is available"]),
    (PackageStatus("docker.io", "20.10.24+dfsg1-1+deb12u1+b6", "20.10.24+dfsg1-1+deb12u1+b6", [STATUS, DEBIAN], None),
     "pass", ["newest version"]),
    # No package lists: apt knows only the installed copy and cannot tell.
    (PackageStatus("docker.io", "20.10.24+dfsg1-1+deb12u1+b6", "20.10.24+dfsg1-1+deb12u1+b6", [STATUS], None),
     "info", ["apt-get update"]),
    # Not from a package: the server version, as without a package manager.
    (PackageStatus(None, None, None, [], "/usr/local/bin/dockerd belongs to no dpkg package"),
     "info", ["20.10.24", "belongs to no dpkg package"]),
    (None, "info", ["20.10.24", "supported release"]),
])
def test_1_2_2_decided_by_the_package_manager_where_it_can_tell(package, expected, words):
    audit = state(host=HostFacts(docker_package=package))
    assert status("1.2.2", audit) == expected
    for word in words:
        assert word in evidence("1.2.2", audit)


def inside(manager, rules_text=""):
    """The demo's target as the audit sees it: a container (Docker's), no audit rules loaded or on disk."""
    facts = host(rules_text)
    facts.in_container = manager
    return facts


@pytest.mark.parametrize("rule_id", AUDIT_IDS)
def test_audit_rules_are_not_applicable_inside_a_container_as_the_host_role_skips_auditd_there(rule_id):
    # The demo's target (a container) failed all 15 before: the host role skips auditd there because the kernel
    # and its audit rules belong to the host, and the audit now says the same, in the same words.
    assert status(rule_id, state(host=inside("docker"))) == "skipped"
    said = evidence(rule_id, state(host=inside("docker")))
    assert said.startswith("not applicable: in a container (docker)")
    assert host_facts.KERNEL_OF_THE_HOST in said
    assert status(rule_id, state(host=inside("podman", FULL_RULES))) == "skipped"
    # On a VM or a real host (no container manager) they stay evaluated.
    assert status(rule_id, state(host=inside(None))) == "fail"
    assert status(rule_id, state(host=inside(None, FULL_RULES))) == "pass"


def test_the_host_role_and_the_audit_decide_container_by_one_function():
    assert environment.container_manager is host_facts.container_manager
    assert host_facts.KERNEL_OF_THE_HOST in auditd.plan(None, "/etc/audit/rules.d/x.rules", "docker",
                                                        host_env(in_container="docker"), run=None).skipped
