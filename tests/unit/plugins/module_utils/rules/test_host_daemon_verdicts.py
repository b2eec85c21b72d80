# -*- coding: utf-8 -*-
"""1.1.x (never rules are no watches), 1.2.2 (a dockerd replaced on disk) and 2.13 (do the logs leave the host) on
real inputs: `auditctl -l` of rules loaded into this machine's kernel, the rule lines themselves, /proc/<pid>/exe of
a process whose binary was replaced, and dpkg/apt-cache answers of this host."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system import packages
from ansible_collections.bulwark.hardening.plugins.module_utils.system import audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import (
    AuditRules, covering_watches, parse_audit_rules, read_audit_rules,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import HostFacts

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import dockerd_config, evidence, state, status, unit_fixture

AUDITCTL_L = unit_fixture("auditctl-l_never.txt")
RULE_LINES = unit_fixture("audit_rules_never.rules")
PATHS = {"1.1.3": "/usr/sbin/dockerd", "1.1.4": "/run/containerd", "1.1.5": "/var/lib/docker", "1.1.6": "/etc/docker"}


def loaded(text):
    """AuditRules as read_audit_rules makes them from `auditctl -l`."""
    return read_audit_rules(run=lambda argv, **kwargs: subprocess.CompletedProcess(argv, 0, stdout=text, stderr=""),
                            which=lambda name: "/sbin/auditctl")


def from_files(text):
    return AuditRules("rule files /etc/audit/rules.d/docker.rules (not verified as loaded: auditctl not installed)",
                      parse_audit_rules(text), None)


def host_with(rules):
    return HostFacts(audit_rules=rules, binaries={"dockerd": PATHS["1.1.3"]},
                     files=dict((path, FileStat(path, 0, 0, 0o755, "dir")) for path in PATHS.values()))


# --- 1.1.x: `-a never` suppresses; it is never a watch ---

@pytest.mark.parametrize("rule_id,expected", [("1.1.3", "pass"), ("1.1.4", "pass"), ("1.1.5", "pass"), ("1.1.6", "fail")])
def test_auditctl_listing_of_a_never_rule_that_prints_as_a_watch(rule_id, expected):
    # auditctl -l prints `-a never,exit -F dir=/etc/docker -F perm=wa` as `-w /etc/docker -p wa`: the same line twice
    # (the kernel refuses two equal rules), so one of them is a never rule, and which one comes first is unknown.
    audit = state(host=host_with(loaded(AUDITCTL_L)))
    assert status(rule_id, audit) == expected, evidence(rule_id, audit)
    if expected == "fail":
        assert "listed twice by auditctl -l" in evidence(rule_id, audit)


@pytest.mark.parametrize("rule_id,expected", [("1.1.3", "pass"), ("1.1.4", "pass"), ("1.1.5", "pass"), ("1.1.6", "fail")])
def test_rule_files_with_a_never_rule_before_the_watch(rule_id, expected):
    audit = state(host=host_with(from_files(RULE_LINES)))
    assert status(rule_id, audit) == expected, evidence(rule_id, audit)
    if expected == "fail":
        assert "`-a never,exit -F dir=/etc/docker -F perm=wa -k bwvd-fixture` comes first" in evidence(rule_id, audit)


def test_a_never_rule_alone_is_no_watch():
    never_only = "\n".join(line for line in RULE_LINES.splitlines() if "never" in line)
    rules = from_files(never_only)
    assert covering_watches(rules, "/etc/docker") == []
    assert covering_watches(rules, "/var/lib/docker/volumes/x") == []
    assert status("1.1.6", state(host=host_with(rules))) == "fail"


def test_the_first_matching_rule_decides_and_conditional_never_rules_do_not():
    # A watch before the never rule records; a never rule for some users (auid=0) or one syscall decides nothing.
    after = from_files("-w /etc/docker -p wa -k d\n-a never,exit -F dir=/etc/docker -F perm=wa -k d\n")
    assert covering_watches(after, "/etc/docker") and audit_rules.suppressing_rule(after, "/etc/docker") is None
    conditional = from_files("-a never,exit -F arch=b64 -S openat -F path=/run/containerd -F auid=0 -k d\n"
                             "-a always,exit -F arch=b64 -S all -F path=/run/containerd -F perm=wa -F key=d\n")
    assert covering_watches(conditional, "/run/containerd")
    # An exec-only never rule leaves writes recorded.
    exec_only = from_files("-a exit,never -F path=/usr/sbin/dockerd -F perm=x -k d\n-w /usr/sbin/dockerd -p wa -k d\n")
    assert covering_watches(exec_only, "/usr/sbin/dockerd")


# --- 1.2.2: the running dockerd is not the installed one ---

@pytest.fixture
def replaced_binary(tmp_path):
    """A running process whose executable was replaced on disk afterwards, as a package upgrade does."""
    binary = tmp_path / "dockerd"
    shutil.copy(shutil.which("sleep"), binary)
    process = subprocess.Popen([str(binary), "30"])
    try:
        for _attempt in range(50):  # until the exec is done
            if os.readlink("/proc/%d/exe" % process.pid) == str(binary):
                break
            time.sleep(0.01)
        replacement = tmp_path / "dockerd.new"
        shutil.copy(shutil.which("sleep"), replacement)
        os.replace(replacement, binary)
        yield process.pid, str(binary)
    finally:
        process.kill()
        process.wait()


DPKG_S = "docker.io: /usr/sbin/dockerd\n"  # `dpkg -S /usr/sbin/dockerd` on this host
APT_POLICY = """docker.io:
  Installed: 20.10.24+dfsg1-1+deb12u1+b6
  Candidate: 20.10.24+dfsg1-1+deb12u1+b6
  Version table:
 *** 20.10.24+dfsg1-1+deb12u1+b6 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
"""


def package_tools(argv, **kwargs):
    """This host's answers of dpkg -S and apt-cache policy, for whatever path dockerd is at."""
    if "-S" in argv:
        return subprocess.CompletedProcess(argv, 0, stdout="docker.io: %s\n" % argv[-1], stderr="")
    return subprocess.CompletedProcess(argv, 0, stdout=APT_POLICY, stderr="")


def test_1_2_2_a_dockerd_replaced_on_disk_is_not_the_installed_version(replaced_binary, tmp_path):
    pid, path = replaced_binary
    running = host_facts.process_binary(pid)
    assert running == path + " (deleted)"  # what the kernel says of it
    package = packages.read_docker_package(running, run=package_tools, which=lambda name: "/usr/bin/" + name,
                                           apt_cache_dir=str(tmp_path / "apt"))
    assert package.package == "docker.io" and package.replaced
    audit = state(host=HostFacts(docker_package=package))
    assert status("1.2.2", audit) == "fail"
    text = evidence("1.2.2", audit)
    assert "the running dockerd is not the installed one" in text and "restart" in text
    assert "20.10.24+dfsg1-1+deb12u1+b6" in text


def test_1_1_3_audits_the_installed_path_of_a_replaced_dockerd():
    facts = host_with(from_files("-w /usr/sbin/dockerd -p wa -k docker\n"))
    facts.binaries["dockerd"] = "/usr/sbin/dockerd (deleted)"
    assert status("1.1.3", state(host=facts)) == "pass"


# --- 2.13: logs leave the host only with a remote address (syslog and journald judged alike) ---

@pytest.mark.parametrize("driver,options,expected,words", [
    # syslog without syslog-address writes to this host's /dev/log: as local as journald.
    ("syslog", None, "fail", ["syslog", "this host's syslog", "only if the host forwards"]),
    ("syslog", {"syslog-address": "unix:///dev/log"}, "fail", ["this host's syslog"]),
    ("syslog", {"syslog-address": "udp://127.0.0.1:514"}, "fail", ["this host"]),
    ("syslog", {"syslog-address": "tcp+tls://logs.example.com:6514"}, "pass", ["logs.example.com"]),
    ("journald", None, "fail", ["this host's journal", "only if the host forwards"]),
    ("gelf", {"gelf-address": "udp://graylog.example.com:12201"}, "pass", ["graylog.example.com"]),
    ("gelf", {"gelf-address": "udp://localhost:12201"}, "fail", ["localhost"]),
    ("fluentd", None, "fail", ["localhost:24224"]),
    ("fluentd", {"fluentd-address": "fluentd.example.com:24224"}, "pass", ["fluentd.example.com"]),
    ("awslogs", {"awslogs-group": "app"}, "pass", ["awslogs"]),
])
def test_2_13_judges_whether_logs_leave_the_host(driver, options, expected, words):
    daemon_json = '{"log-driver": "%s"%s}' % (driver, "" if options is None else ', "log-opts": %s' % (
        "{%s}" % ", ".join('"%s": "%s"' % item for item in options.items())))
    audit = state(info_changes={"LoggingDriver": driver}, daemon=dockerd_config(daemon_json=daemon_json))
    assert status("2.13", audit) == expected, evidence("2.13", audit)
    for word in words:
        assert word in evidence("2.13", audit)


def test_2_13_reads_log_opt_flags_of_the_unit_too():
    audit = state(info_changes={"LoggingDriver": "syslog"},
                  daemon=dockerd_config(["--log-driver", "syslog", "--log-opt", "syslog-address=tcp://10.1.2.3:514"]))
    assert status("2.13", audit) == "pass"
