# -*- coding: utf-8 -*-
"""CIS section 5 rules: each with a passing and a failing case from real inspect data."""

from __future__ import annotations

import pytest

import json

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, FileText
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import container, dockerd_config, evidence, extras, state, status

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
    ("5.25", ("hardened", None), ("insecure", None)),
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


# Unscored rules whose non-passing verdict is a review request (warn) rather than a failure.
WARN_CASES = [
    ("5.9", ("hostnet", None), ("insecure", None)),
    ("5.18", ("hardened", None), ("insecure", None)),
]


@pytest.mark.parametrize("rule_id,good,bad", WARN_CASES, ids=[case[0] for case in WARN_CASES])
def test_review_rules_pass_and_warn(rule_id, good, bad):
    assert status(rule_id, state([container(*good)])) == "pass"
    assert status(rule_id, state([container(*bad)])) == "warn"


def test_5_1_swarm_mode_fails_and_says_to_waive_it_on_swarm_nodes():
    assert status("5.1", state()) == "pass"
    active = state(info_changes={"Swarm.LocalNodeState": "active"})
    assert status("5.1", active) == "fail"
    assert "waive 5.1" in evidence("5.1", active)
    assert status("5.1", state(info_changes={"Swarm.LocalNodeState": "locked"})) == "fail"


def test_5_9_is_unscored_review_of_published_ports():
    # CIS v1.6 marks 5.9 Manual: which ports are needed is the owner's call.
    assert catalog.get("5.9").scored is False
    assert "0.0.0.0" in evidence("5.9", state([container("insecure")]))


def test_5_25_custom_cgroup_parent_fails_and_says_to_waive_it():
    audit = state([container("insecure")])
    assert status("5.25", audit) == "fail"
    assert "CgroupParent=bulwark-custom" in evidence("5.25", audit) and "waive 5.25" in evidence("5.25", audit)


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


def test_5_7_evidence_masks_the_sshd_command_line_before_cutting_it_short():
    # A secret cut at the evidence's length is no longer recognisable by any later masking: the rule masks first.
    token = "ghp_7riYs1vtHFysN7z8yQbYoJVmxkmaXiQNcVse"
    top = extras()["top"]
    command = "/usr/sbin/sshd -D -o SetEnv=GITHUB_TOKEN=%s" % token
    sshd_top = {"Titles": top["Titles"], "Processes": top["Processes"] + [["root", "2", "1", "0", "", "?", "", command]]}
    shown = evidence("5.7", state([container("hardened", top=sshd_top)], options=AuditOptions(process_checks=True)))
    assert shown == "sshd processes: 1 (/usr/sbin/sshd -D -o SetEnv=GITHUB_TOKEN=********)"
    assert token[:8] not in shown


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


# What the docker CLI puts in SecurityOpt for `--security-opt seccomp=<file>`: the file's JSON, inlined.
ALLOW_ALL = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}
LOG_ALL = {"defaultAction": "SCMP_ACT_LOG"}
DENY_LIST = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl", "ptrace"], "action": "SCMP_ACT_ERRNO"}]}
ALLOW_LIST = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "exit"], "action": "SCMP_ACT_ALLOW"}]}


@pytest.mark.parametrize("security_opt,expected", [
    (["seccomp=unconfined"], "fail"),
    (["seccomp:unconfined"], "fail"),
    (["seccomp=" + json.dumps(ALLOW_ALL, indent=1)], "fail"),
    (["seccomp=" + json.dumps(LOG_ALL)], "fail"),
    (["seccomp:" + json.dumps(ALLOW_ALL)], "fail"),
    # Refusing two syscalls leaves the rest of what Docker's default refuses open.
    (["seccomp=" + json.dumps(DENY_LIST)], "fail"),
    (["seccomp=" + json.dumps(ALLOW_LIST)], "pass"),
    (["seccomp=builtin"], "pass"),
    (["no-new-privileges"], "pass"),
    # dockerd applies the last one given.
    (["seccomp=" + json.dumps(ALLOW_LIST), "seccomp=unconfined"], "fail"),
])
def test_5_22_unconfined_in_any_spelling_or_an_allow_all_inline_profile(security_opt, expected):
    audit = state([container("hardened", {"HostConfig.SecurityOpt": security_opt})])
    assert status("5.22", audit) == expected
    assert "SCMP_ARCH_X86_64" not in evidence("5.22", audit)  # the profile itself is not quoted


def test_5_22_daemon_wide_unconfined_or_allow_all_profile():
    unconfined = {"SecurityOptions": ["name=seccomp,profile=unconfined"]}
    assert status("5.22", state([container("hardened")], info_changes=unconfined)) == "fail"
    # A container's own profile replaces the daemon's.
    own = container("hardened", {"HostConfig.SecurityOpt": ["seccomp=" + json.dumps(ALLOW_LIST)]})
    assert status("5.22", state([own], info_changes=unconfined)) == "pass"
    custom = state([container("hardened")], info_changes={"SecurityOptions": ["name=seccomp,profile=/etc/docker/seccomp.json"]})
    custom.daemon_seccomp_profile = FileText("/etc/docker/seccomp.json", json.dumps(ALLOW_ALL), None)
    assert status("5.22", custom) == "fail"
    custom.daemon_seccomp_profile = FileText("/etc/docker/seccomp.json", json.dumps(ALLOW_LIST), None)
    assert status("5.22", custom) == "pass"


def test_5_22_privileged_fails_even_with_a_profile():
    privileged = container("hardened", {"HostConfig.Privileged": True, "HostConfig.SecurityOpt": ["seccomp=" + json.dumps(ALLOW_LIST)]})
    assert status("5.22", state([privileged])) == "fail"


def test_5_26_daemon_wide_no_new_privileges():
    daemon = DaemonConfig(cmdline={}, file_options={"no-new-privileges": True})
    assert status("5.26", state([container("hostnet")], daemon=daemon)) == "pass"
    opted_out = container("hardened", {"HostConfig.SecurityOpt": ["no-new-privileges:false"]})
    assert status("5.26", state([opted_out], daemon=daemon)) == "fail"


DAEMON_NNP_ON = ("--no-new-privileges",)


@pytest.mark.parametrize("option,daemon_argv,expected", [
    ("no-new-privileges", (), "pass"),
    ("no-new-privileges=true", (), "pass"),
    ("no-new-privileges=1", (), "pass"),
    ("no-new-privileges=t", (), "pass"),
    ("no-new-privileges=T", (), "pass"),
    ("no-new-privileges=TRUE", (), "pass"),
    ("no-new-privileges=True", (), "pass"),
    ("no-new-privileges:true", (), "pass"),
    ("no-new-privileges:1", (), "pass"),
    # An explicit false overrides the daemon-wide default.
    ("no-new-privileges=false", DAEMON_NNP_ON, "fail"),
    ("no-new-privileges=0", DAEMON_NNP_ON, "fail"),
    ("no-new-privileges=f", DAEMON_NNP_ON, "fail"),
    ("no-new-privileges:False", DAEMON_NNP_ON, "fail"),
    # ParseBool refuses these: dockerd refuses the option, whatever the daemon-wide default.
    ("no-new-privileges=yes", DAEMON_NNP_ON, "fail"),
    ("no-new-privileges=on", (), "fail"),
    ("no-new-privileges=tRUE", (), "fail"),
    ("no-new-privileges=", DAEMON_NNP_ON, "fail"),
])
def test_5_26_values_read_as_gos_parsebool(option, daemon_argv, expected):
    audit = state([container("hardened", {"HostConfig.SecurityOpt": [option]})], daemon=dockerd_config(list(daemon_argv)))
    assert status("5.26", audit) == expected


def test_5_26_refused_value_says_why():
    audit = state([container("hardened", {"HostConfig.SecurityOpt": ["no-new-privileges=yes"]})])
    assert "ParseBool" in evidence("5.26", audit) and "refuses" in evidence("5.26", audit)


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


@pytest.mark.parametrize("rule_id", ["5.23", "5.24"])
def test_manual_rules_report_info(rule_id):
    assert status(rule_id, state()) == "info"


def test_evidence_names_the_field_read():
    assert "HostConfig.Memory=0" in evidence("5.11", state([container("hostnet")]))


# --- 5.28: the container runs the image its reference names now ---

@pytest.mark.parametrize("reference", ["bulwark-test/sleeper", "bulwark-test/sleeper:latest",
                                       "docker.io/bulwark-test/sleeper:latest"])
def test_5_28_passes_while_the_reference_still_names_the_image_it_runs(reference):
    running = container(changes={"Config.Image": reference})
    assert status("5.28", state([running])) == "pass"


def test_5_28_fails_when_the_tag_moved_to_another_image():
    running = container(changes={"Config.Image": "bulwark-test/sleeper:2.1"})
    audit_state = state([running])
    assert status("5.28", audit_state) == "fail"
    assert "bulwark-test/sleeper:2.1 now names another image" in evidence("5.28", audit_state)


def test_5_28_by_id_or_digest_has_no_newer_tag():
    by_id = container(changes={"Config.Image": "sha256:00cc0c558924"})
    assert status("5.28", state([by_id])) == "info"
    by_digest = container(changes={"Config.Image": "registry.example.com/app@sha256:" + "a" * 64})
    assert status("5.28", state([by_digest])) == "info"  # pinned; the registry is not asked (test_cis5_verdicts.py)
    assert status("5.28", state([by_id], with_image=False)) == "skipped"
