# -*- coding: utf-8 -*-
"""CIS section 5 rules: each with a passing and a failing case from real inspect data."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig

from rule_fixtures import container, evidence, extras, state, status

APPARMOR_AND_SELINUX = {"SecurityOptions": ["name=apparmor", "name=seccomp,profile=default", "name=selinux"]}


# rule, passing container (fixture, changes), failing container (fixture, changes)
CASES = [
    ("5.4", ("hardened", {"HostConfig.CapAdd": ["NET_BIND_SERVICE", "CAP_CHOWN"]}), ("insecure", None)),
    ("5.5", ("hardened", None), ("hardened", {"HostConfig.Privileged": True})),
    ("5.6", ("hardened", None), ("insecure", None)),
    ("5.8", ("hardened", None), ("insecure", None)),
    ("5.10", ("hardened", None), ("hostnet", None)),
    ("5.11", ("hardened", None), ("hostnet", None)),
    ("5.12", ("hardened", None), ("hostnet", None)),
    ("5.13", ("hardened", None), ("hostnet", None)),
    ("5.14", ("hardened", None), ("insecure", None)),
    ("5.15", ("hardened", None), ("insecure", None)),
    ("5.16", ("hardened", None), ("insecure", None)),
    ("5.17", ("hardened", None), ("insecure", None)),
    ("5.20", ("insecure", None), ("insecure", {"Mounts": [{"Type": "bind", "Source": "/srv", "Destination": "/srv",
                                                          "RW": True, "Propagation": "rshared"}]})),
    ("5.21", ("hardened", None), ("insecure", None)),
    ("5.22", ("hardened", None), ("insecure", None)),
    ("5.26", ("hardened", None), ("hostnet", None)),
    ("5.27", ("hardened", None), ("hostnet", None)),
    ("5.29", ("hardened", None), ("hostnet", None)),
    ("5.30", ("hardened", None), ("insecure", None)),
    ("5.31", ("hardened", None), ("insecure", None)),
    ("5.32", ("hardened", None), ("insecure", None)),
]


@pytest.mark.parametrize("rule_id,good,bad", CASES, ids=[case[0] for case in CASES])
def test_rule_passes_and_fails(rule_id, good, bad):
    assert status(rule_id, state([container(*good)])) == "pass"
    assert status(rule_id, state([container(*bad)])) == "fail"


# Rules whose non-passing verdict is a review request (warn) rather than a failure.
WARN_CASES = [
    ("5.9", ("hostnet", None), ("insecure", None)),
    ("5.18", ("hardened", None), ("insecure", None)),
    ("5.25", ("hardened", None), ("insecure", None)),
]


@pytest.mark.parametrize("rule_id,good,bad", WARN_CASES, ids=[case[0] for case in WARN_CASES])
def test_review_rules_pass_and_warn(rule_id, good, bad):
    assert status(rule_id, state([container(*good)])) == "pass"
    assert status(rule_id, state([container(*bad)])) == "warn"


def test_5_1_swarm_mode():
    assert status("5.1", state()) == "pass"
    assert status("5.1", state(info_changes={"Swarm.LocalNodeState": "active"})) == "warn"


def test_5_2_apparmor_profile():
    assert status("5.2", state([container("hardened")])) == "skipped"  # no AppArmor on the fixture host
    with_apparmor = {"SecurityOptions": APPARMOR_AND_SELINUX["SecurityOptions"]}
    assert status("5.2", state([container("hardened", {"AppArmorProfile": "docker-default"})], info_changes=with_apparmor)) == "pass"
    assert status("5.2", state([container("insecure", {"AppArmorProfile": "unconfined"})], info_changes=with_apparmor)) == "fail"


def test_5_3_selinux_label():
    assert status("5.3", state([container("hardened")])) == "skipped"  # no SELinux on the fixture host
    labelled = container("hardened", {"ProcessLabel": "system_u:system_r:container_t:s0:c1,c2"})
    assert status("5.3", state([labelled], info_changes=APPARMOR_AND_SELINUX)) == "pass"
    disabled = container("hardened", {"ProcessLabel": "x", "HostConfig.SecurityOpt": ["label=disable"]})
    assert status("5.3", state([disabled], info_changes=APPARMOR_AND_SELINUX)) == "fail"
    assert status("5.3", state([container("hardened")], info_changes=APPARMOR_AND_SELINUX)) == "fail"


def test_5_6_sub_paths_and_read_only():
    # The shell check only matches the exact directory and only read-write mounts.
    sub_path = container("hardened", {"Mounts": [{"Type": "bind", "Source": "/etc/ssh", "Destination": "/x", "RW": True}]})
    assert status("5.6", state([sub_path])) == "fail"
    read_only = container("hardened", {"Mounts": [{"Type": "bind", "Source": "/usr/share", "Destination": "/x", "RW": False}]})
    assert status("5.6", state([read_only])) == "warn"
    # '/' matches only itself: /srv is not "below /" for this rule.
    unrelated = container("hardened", {"Mounts": [{"Type": "bind", "Source": "/srv/data", "Destination": "/x", "RW": True}]})
    assert status("5.6", state([unrelated])) == "pass"


def test_5_7_sshd_needs_process_checks():
    top = extras()["top"]
    sshd_top = {"Titles": top["Titles"], "Processes": top["Processes"] + [["root", "2", "1", "0", "", "?", "", "/usr/sbin/sshd -D"]]}
    options = AuditOptions(process_checks=True)
    assert status("5.7", state([container("hardened", top=top)], options=options)) == "pass"
    assert status("5.7", state([container("hardened", top=sshd_top)], options=options)) == "fail"
    assert status("5.7", state([container("hardened", top=sshd_top)])) == "skipped"
    assert status("5.7", state([container("stopped")], options=options)) == "skipped"


def test_5_8_and_5_14_read_stopped_containers_port_bindings():
    assert status("5.8", state([container("stopped")])) == "fail"
    assert status("5.14", state([container("stopped")])) == "fail"


def test_5_14_flags_ipv6_wildcard():
    ipv6 = container("hardened", {"NetworkSettings.Ports": {"80/tcp": [{"HostIp": "::", "HostPort": "8080"}]}})
    assert status("5.14", state([ipv6])) == "fail"


@pytest.mark.parametrize("policy,expected", [
    ({"Name": "no", "MaximumRetryCount": 0}, "pass"),
    ({"Name": "on-failure", "MaximumRetryCount": 3}, "pass"),
    ({"Name": "on-failure", "MaximumRetryCount": 0}, "fail"),
    ({"Name": "on-failure", "MaximumRetryCount": 6}, "fail"),
    ({"Name": "unless-stopped", "MaximumRetryCount": 0}, "fail"),
])
def test_5_15_restart_policies(policy, expected):
    assert status("5.15", state([container("hardened", {"HostConfig.RestartPolicy": policy})])) == expected


def test_5_19_runtime_ulimits():
    assert status("5.19", state([container("hardened")])) == "pass"
    assert status("5.19", state([container("hostnet")])) == "info"


def test_5_22_privileged_and_daemon_without_seccomp():
    assert status("5.22", state([container("hardened", {"HostConfig.Privileged": True})])) == "fail"
    assert status("5.22", state([container("hardened")], info_changes={"SecurityOptions": []})) == "fail"


def test_5_26_daemon_wide_no_new_privileges():
    daemon = DaemonConfig(cmdline={}, file_options={"no-new-privileges": True})
    assert status("5.26", state([container("hostnet")], daemon=daemon)) == "pass"
    opted_out = container("hardened", {"HostConfig.SecurityOpt": ["no-new-privileges:false"]})
    assert status("5.26", state([opted_out], daemon=daemon)) == "fail"


def test_5_27_stopped_container_with_configured_healthcheck():
    stopped = container("hardened", {"State.Health": None, "State.Running": False})
    assert status("5.27", state([stopped])) == "pass"
    disabled = container("hostnet", {"Config.Healthcheck": {"Test": ["NONE"]}})
    assert status("5.27", state([disabled])) == "fail"


def test_5_32_socket_through_parent_directory():
    run_dir = container("hardened", {"Mounts": [{"Type": "bind", "Source": "/var/run", "Destination": "/host-run", "RW": False}]})
    assert status("5.32", state([run_dir])) == "fail"
    custom = AuditOptions(docker_host="unix:///srv/docker/api.sock")
    other_socket = container("hardened", {"Mounts": [{"Type": "bind", "Source": "/srv/docker", "Destination": "/d", "RW": False}]})
    assert status("5.32", state([other_socket], options=custom)) == "fail"


@pytest.mark.parametrize("rule_id", ["5.23", "5.24", "5.28"])
def test_manual_rules_report_info(rule_id):
    assert status(rule_id, state()) == "info"


def test_evidence_names_the_field_read():
    assert "HostConfig.Memory=0" in evidence("5.11", state([container("hostnet")]))
