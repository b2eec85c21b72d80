# -*- coding: utf-8 -*-
"""5.22 and 2.17 judge a seccomp profile by what it refuses, compared with Docker's default (issue 20, item 1).

Containers and profiles are real: `docker inspect` of containers run with
`--security-opt seccomp=<file>` (the CLI inlines the file's JSON), and the
docker_daemon role's own profile.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import FileText
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import seccomp_profile
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import (
    DEFAULT_CAPABILITIES, bounding_capabilities, container_seccomp_problem,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.seccomp_profile import (
    SeccompContext, judge_profile, judge_text,
)

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.false_pass_fixtures import inspect, real_container, role_profile_text
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, state, status

PROFILE_PATH = "/etc/docker/seccomp-bulwark.json"
AMD64 = SeccompContext("amd64", (6, 1), DEFAULT_CAPABILITIES)


def inline_profile(name):
    """The profile text dockerd keeps in SecurityOpt for a real container."""
    [option] = inspect(name)["HostConfig"]["SecurityOpt"]
    return option.partition("=")[2]


def daemon_wide(text, error=None):
    """An audit of the fixture container without its own profile, the daemon running a custom profile file."""
    audit = state([real_container("plain")], info_changes={"SecurityOptions": ["name=seccomp,profile=" + PROFILE_PATH]})
    audit.daemon_seccomp_profile = FileText(PROFILE_PATH, text, error)
    return audit


# --- the class of false passes: profiles that refuse nothing Docker's default refuses ------------

@pytest.mark.parametrize("name", ["allow-reboot", "empty-names", "other-arch"])
def test_5_22_fails_a_container_profile_that_refuses_nothing_the_default_refuses(name):
    audit = state([real_container(name)])
    assert status("5.22", audit) == "fail"
    assert "disabled in all but name" in evidence("5.22", audit)
    assert "keyctl" in evidence("5.22", audit) and "SCMP_ARCH" not in evidence("5.22", audit)


@pytest.mark.parametrize("name", ["allow-reboot", "empty-names", "other-arch"])
def test_5_22_and_2_17_fail_the_same_profiles_daemon_wide(name):
    audit = daemon_wide(inline_profile(name))
    assert status("5.22", audit) == "fail" and status("2.17", audit) == "fail"
    assert "disabled in all but name" in evidence("2.17", audit)


def test_the_other_arch_profile_refuses_on_the_architecture_it_names():
    profile = json.loads(inline_profile("other-arch"))
    arm64 = judge_profile(profile, SeccompContext("arm64", (6, 1), DEFAULT_CAPABILITIES))
    # There its rule refuses what it names; the two it does not name stay open.
    assert arm64.exposed == ["clone", "personality"]


def test_an_unreadable_daemon_profile_is_not_a_pass():
    audit = daemon_wide(None, "[Errno 13] Permission denied: '%s'" % PROFILE_PATH)
    assert status("5.22", audit) == "fail" and status("2.17", audit) == "fail"
    assert "Permission denied" in evidence("5.22", audit) and "unknown" in evidence("2.17", audit)


def test_a_custom_daemon_profile_the_audit_did_not_read_is_not_a_pass():
    audit = daemon_wide(None)
    audit.daemon_seccomp_profile = None
    assert status("5.22", audit) == "fail" and status("2.17", audit) == "fail"


# --- strict profiles pass ----------------------------------------------------------------------------

def test_the_roles_hardened_profile_refuses_everything_the_default_refuses():
    judgement = seccomp_profile.judge_text(role_profile_text(), AMD64)
    assert judgement.error is None and judgement.exposed == []
    # What it lets through, the kernel refuses without capabilities Docker does not grant by default.
    assert "mount" in judgement.gated


def test_5_22_and_2_17_pass_the_roles_profile_daemon_wide_and_per_container():
    audit = daemon_wide(role_profile_text())
    assert status("2.17", audit) == "pass" and status("5.22", audit) == "pass"
    assert "refuses every syscall Docker's default profile refuses" in evidence("2.17", audit)
    own = state([real_container("plain", {"HostConfig.SecurityOpt": ["seccomp=" + role_profile_text()]})])
    assert status("5.22", own) == "pass"


def test_5_22_passes_a_real_container_running_the_roles_profile():
    assert status("5.22", state([real_container("hardened-profile")])) == "pass"


def test_5_22_passes_the_builtin_profile():
    assert status("5.22", state([real_container("plain")])) == "pass"


# --- how dockerd reads a profile ----------------------------------------------------------------------

ALLOW_ALL = {"defaultAction": "SCMP_ACT_ALLOW"}


def refuse(*names, **conditions):
    return dict({"names": list(names), "action": "SCMP_ACT_ERRNO"}, **conditions)


def allow(*names, **conditions):
    return dict({"names": list(names), "action": "SCMP_ACT_ALLOW"}, **conditions)


def exposed(profile, context=AMD64):
    return judge_profile(profile, context).exposed


def test_refusing_rules_count_only_where_dockerd_keeps_them():
    keyring = ("keyctl", "add_key", "request_key")
    assert not set(keyring) & set(exposed(dict(ALLOW_ALL, syscalls=[refuse(*keyring)])))
    # Kept only for containers holding SYS_ADMIN, which these do not: the keyring stays open.
    held = dict(ALLOW_ALL, syscalls=[refuse(*keyring, includes={"caps": ["CAP_SYS_ADMIN"]})])
    assert set(keyring) <= set(exposed(held))
    # Left out on kernels from 4.0 on.
    old = dict(ALLOW_ALL, syscalls=[refuse(*keyring, excludes={"minKernel": "4.0"})])
    assert set(keyring) <= set(exposed(old))
    # Left out for the architecture the daemon runs on.
    arch = dict(ALLOW_ALL, syscalls=[refuse(*keyring, excludes={"arches": ["amd64"]})])
    assert set(keyring) <= set(exposed(arch))


def test_an_allow_list_that_opens_one_refused_syscall_is_weaker():
    strict = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow("read", "write", "keyctl")]}
    assert exposed(strict) == ["keyctl"]
    problem = container_seccomp_problem(json.dumps(strict))
    assert "lets through 1 of" in problem and "keyctl" in problem


def test_clone_counts_only_without_argument_conditions():
    flags = [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    filtered = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow("clone", args=flags)]}
    assert exposed(filtered) == []
    assert exposed({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow("clone")]}) == ["clone"]


def test_capabilities_decide_both_sides():
    opened = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow("unshare", "mount")]}
    assert exposed(opened) == ["unshare"]  # mount: the kernel refuses it without SYS_ADMIN
    admin = SeccompContext("amd64", (6, 1), DEFAULT_CAPABILITIES | {"SYS_ADMIN"})
    assert exposed(opened, admin) == []  # Docker's default allows both to a container with SYS_ADMIN
    old_kernel = SeccompContext("amd64", (4, 4), DEFAULT_CAPABILITIES)
    assert exposed({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow("ptrace")]}, old_kernel) == ["ptrace"]
    assert exposed({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow("ptrace")]}) == []


@pytest.mark.parametrize("profile,reason", [
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "keyctl", "names": ["add_key"], "action": "SCMP_ACT_ERRNO"}]},
     "both 'name' and 'names'"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
      "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}]}, "both 'architectures' and 'archMap'"),
    ({"defaultAction": "SCMP_ACT_PERMIT"}, "not a seccomp action"),
])
def test_profiles_dockerd_refuses_to_load_say_why(profile, reason):
    assert reason in judge_text(json.dumps(profile), AMD64).error


def test_a_single_name_is_read_like_names():
    assert "keyctl" not in exposed(dict(ALLOW_ALL, syscalls=[{"name": "keyctl", "action": "SCMP_ACT_ERRNO"}]))


def test_bounding_capabilities_follow_dockerd():
    assert bounding_capabilities(real_container("plain")) == DEFAULT_CAPABILITIES
    dropped = real_container("plain", {"HostConfig.CapDrop": ["ALL"], "HostConfig.CapAdd": ["NET_BIND_SERVICE"]})
    assert bounding_capabilities(dropped) == {"NET_BIND_SERVICE"}
    everything = real_container("plain", {"HostConfig.CapAdd": ["ALL"], "HostConfig.CapDrop": ["SYS_ADMIN"]})
    assert "SYS_PTRACE" in bounding_capabilities(everything) and "SYS_ADMIN" not in bounding_capabilities(everything)


def test_daemon_facts_give_the_context():
    assert seccomp_profile.go_arch("x86_64") == "amd64" and seccomp_profile.go_arch("aarch64") == "arm64"
    assert seccomp_profile.kernel_version("6.18.44-fc-v1272") == (6, 18)
    assert seccomp_profile.kernel_version("") is None


def test_the_default_profiles_data_names_capabilities_the_way_dockerd_does():
    from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import ALL_CAPABILITIES
    from ansible_collections.bulwark.hardening.plugins.module_utils.rules.seccomp_default import OBSOLETE, REFUSED
    assert len(set(row.name for row in REFUSED)) == len(REFUSED)
    for row in REFUSED:
        assert set(row.docker_caps) <= ALL_CAPABILITIES, row
        assert row.kernel_cap in ALL_CAPABILITIES or row.kernel_cap in (None, OBSOLETE), row
        # A syscall the default allows with a capability the container holds is no refusal to it.
        assert not set(row.docker_caps) & DEFAULT_CAPABILITIES or row.name == "chroot", row
