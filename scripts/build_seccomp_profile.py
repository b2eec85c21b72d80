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
- userfaultfd: a staple of kernel exploit races (already refused in the base);
- clone with namespace flags: the base allows clone outright, and
  CLONE_NEWUSER needs no capability, so a container could make a user
  namespace with clone while unshare is refused. As in Docker's default
  profile, clone is allowed without namespace flags only, unless the
  container holds CAP_SYS_ADMIN (s390 passes the flags second).

Each removed syscall gets an explicit errno rule instead of falling to the
profile's default action, because engines before Docker 23 ignore the
profile's defaultErrnoRet and answer EPERM: clone3 must fail with ENOSYS,
as in Docker's own default profile, or glibc 2.34+ never falls back to
clone and every pthread_create fails (Python threads, Java, Node, threaded
servers). The others fail with EPERM, as Docker's default profile does.

Running it again on its own output changes nothing.

Usage: python3 scripts/build_seccomp_profile.py [BASE] [OUTPUT]
"""

import json
import sys

DEFAULT_BASE = "/usr/share/containers/seccomp.json"
DEFAULT_OUTPUT = "roles/docker_daemon/files/seccomp-hardened.json"

ENOSYS, EPERM = 38, 1
# Syscall -> the errno a container gets for it.
DENIED_SYSCALLS = {
    "keyctl": EPERM, "add_key": EPERM, "request_key": EPERM,
    "unshare": EPERM, "clone3": ENOSYS,
    "ptrace": EPERM, "process_vm_readv": EPERM, "process_vm_writev": EPERM, "pidfd_getfd": EPERM,
    "userfaultfd": EPERM,
}
ERRNO_NAMES = {ENOSYS: "ENOSYS", EPERM: "EPERM"}
COMMENT = "bulwark: removed from the base profile"
# Allowed only without these flags: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
NAMESPACE_FLAGS = 0x7E020000
FLAG_FILTERED = ("clone",)
S390 = ["s390", "s390x"]


def without_denied(rule):
    """The rule minus denied names, or None when nothing is left of it.

    Only allow rules are trimmed: an errno rule for a denied syscall already
    refuses it, which is what we want.
    """
    if rule["action"] != "SCMP_ACT_ALLOW":
        return rule
    names = [name for name in rule["names"] if name not in DENIED_SYSCALLS and name not in FLAG_FILTERED]
    if not names:
        return None
    return dict(rule, names=names)


def already_refused(rules):
    """{syscall: errno} of the base's unconditional errno rules."""
    return dict((name, rule.get("errnoRet")) for rule in rules
                if rule["action"] == "SCMP_ACT_ERRNO" and not rule.get("args") and not rule.get("includes")
                and not rule.get("excludes") for name in rule["names"])


def denial_rules(refused):
    """One explicit errno rule per errno, for every denied syscall the base does not refuse that way."""
    rules = []
    for errno in sorted(set(DENIED_SYSCALLS.values())):
        names = sorted(name for name, value in DENIED_SYSCALLS.items() if value == errno and refused.get(name) != errno)
        rules.append({"action": "SCMP_ACT_ERRNO", "args": [], "comment": COMMENT, "errno": ERRNO_NAMES[errno],
                      "errnoRet": errno, "excludes": {}, "includes": {}, "names": names})
    return rules


def clone_rules():
    """clone for containers with CAP_SYS_ADMIN, else only when no namespace flag is set."""
    def flags_clear(index):
        return [{"index": index, "op": "SCMP_CMP_MASKED_EQ", "value": NAMESPACE_FLAGS, "valueTwo": 0}]
    rule = {"action": "SCMP_ACT_ALLOW", "comment": COMMENT, "names": list(FLAG_FILTERED)}
    return [
        dict(rule, args=[], includes={"caps": ["CAP_SYS_ADMIN"]}, excludes={}),
        dict(rule, args=flags_clear(0), includes={}, excludes={"caps": ["CAP_SYS_ADMIN"], "arches": S390}),
        dict(rule, args=flags_clear(1), includes={"arches": S390}, excludes={"caps": ["CAP_SYS_ADMIN"]}),
    ]


def harden(profile):
    kept = [without_denied(rule) for rule in profile["syscalls"] if rule.get("comment") != COMMENT]
    kept = [rule for rule in kept if rule is not None]
    return dict(profile, syscalls=kept + clone_rules() + denial_rules(already_refused(kept)))


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
