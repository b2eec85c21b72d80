# -*- coding: utf-8 -*-
"""The docker_daemon role's seccomp profile refuses what it claims, with the errno workloads expect."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILE = os.path.join(TOP, "roles", "docker_daemon", "files", "seccomp-hardened.json")
BUILDER = os.path.join(TOP, "scripts", "build_seccomp_profile.py")
ENOSYS, EPERM = 38, 1


def _profile():
    with open(PROFILE, encoding="utf-8") as handle:
        return json.load(handle)


def _rules_naming(profile, syscall):
    return [rule for rule in profile["syscalls"] if syscall in rule["names"]]


def test_clone3_fails_with_enosys_explicitly():
    # Engines before Docker 23 ignore defaultErrnoRet and would answer EPERM, so glibc
    # never falls back to clone and no thread can start: the errno must be in the rule itself.
    [rule] = _rules_naming(_profile(), "clone3")
    assert (rule["action"], rule["errnoRet"]) == ("SCMP_ACT_ERRNO", ENOSYS)


def test_every_removed_syscall_has_an_explicit_errno_and_no_allow_rule():
    sys.path.insert(0, os.path.dirname(BUILDER))
    import build_seccomp_profile  # pylint: disable=import-outside-toplevel
    profile = _profile()
    for syscall, errno in build_seccomp_profile.DENIED_SYSCALLS.items():
        rules = _rules_naming(profile, syscall)
        assert [rule["action"] for rule in rules if rule["action"] == "SCMP_ACT_ALLOW"] == [], syscall
        assert [rule["errnoRet"] for rule in rules] == [errno], syscall


def test_the_builder_is_idempotent(tmp_path):
    output = tmp_path / "again.json"
    subprocess.run([sys.executable, BUILDER, PROFILE, str(output)], check=True)
    assert json.loads(output.read_text()) == _profile()
