"""Derive the docker_daemon role's hardened seccomp profile.

Base: the profile Debian ships in golang-github-containers-common
(/usr/share/containers/seccomp.json), maintained upstream alongside the
container runtimes. It is written for Podman and so allows a few syscalls
that Docker's own default profile refuses, and that ordinary workloads (a
shell, Python, a web server) never need. Those are taken out again:

- keyctl, add_key, request_key: the kernel keyring is not namespaced;
- unshare, clone3: new namespaces from inside a container (clone3's flags
  cannot be filtered by seccomp; glibc falls back to clone on ENOSYS);
- ptrace, process_vm_readv, process_vm_writev, pidfd_getfd: reading or
  steering other processes' memory, the classic escape helpers;
- userfaultfd: a staple of kernel exploit races (already refused in the base).

Removed syscalls fall to the profile's default action (ENOSYS).

Usage: python3 scripts/build_seccomp_profile.py [BASE] [OUTPUT]
"""

import json
import sys

DEFAULT_BASE = "/usr/share/containers/seccomp.json"
DEFAULT_OUTPUT = "roles/docker_daemon/files/seccomp-hardened.json"

DENIED_SYSCALLS = frozenset({
    "keyctl", "add_key", "request_key",
    "unshare", "clone3",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "userfaultfd",
})


def without_denied(rule):
    """The rule minus denied names, or None when nothing is left of it.

    Only allow rules are trimmed: an errno rule for a denied syscall already
    refuses it, which is what we want.
    """
    if rule["action"] != "SCMP_ACT_ALLOW":
        return rule
    names = [name for name in rule["names"] if name not in DENIED_SYSCALLS]
    if not names:
        return None
    return dict(rule, names=names)


def harden(profile):
    rules = (without_denied(rule) for rule in profile["syscalls"])
    return dict(profile, syscalls=[rule for rule in rules if rule is not None])


def main(argv):
    base = argv[1] if len(argv) > 1 else DEFAULT_BASE
    output = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    with open(base, encoding="utf-8") as handle:
        profile = json.load(handle)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(harden(profile), handle, indent=2, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv)
