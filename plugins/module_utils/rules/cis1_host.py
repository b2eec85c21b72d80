# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark section 1: host configuration (the same ids in v1.6 and v1.8).

Reads the host facts gathered once (audit rules from `auditctl -l` or the
rule files, the docker group, /proc/self/mountinfo) and `docker info`.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import paths as daemon_paths
from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system import packages
from ansible_collections.bulwark.hardening.plugins.module_utils.system import audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    failed, global_rule, info, manual_rule, passed, register, Rule, KIND_GLOBAL, skipped, warned,
)

SECTION = "host"

# A watch must record writes; `-p` without w (e.g. only x) would miss tampering.
REQUIRED_AUDIT_PERM = "w"


@global_rule(
    "1.1.1", "Ensure a separate partition for containers has been created", SECTION, subject="host",
    level=1, scored=True, severity="medium", fix="host",
    reads="docker info .DockerRootDir (parent directory under userns-remap); /proc/self/mountinfo (mount point and device)",
    remediation="Put Docker's data root on its own filesystem (LVM volume or partition) mounted at DockerRootDir.",
    left_open="the roles never move Docker's data: give /var/lib/docker its own filesystem when the host is provisioned",
)
def separate_partition(state):
    # A container filling its layers or logs must not fill the host's root filesystem. A bind
    # mount of a directory of the root filesystem is a mount point but not a separate partition,
    # so the device must differ from the root filesystem's.
    if state.host.mountpoints is None:
        return skipped("/proc/self/mountinfo not readable")
    root = daemon_paths.data_root(state)
    point, device = host_facts.filesystem_of(state.host.mountpoints, root)
    root_device = state.host.mountpoints.get("/")
    if point == root and device != root_device:
        return passed("%s is a separate filesystem (device %s)" % (root, device))
    if point == root:
        return failed("%s is a mount point on the root filesystem's device %s (a bind mount, not a partition)" % (root, device))
    return failed("%s is on the filesystem mounted at %s (device %s)" % (root, point, device))


@global_rule(
    "1.1.2", "Ensure only trusted users are allowed to control Docker daemon", SECTION, subject="host",
    level=1, scored=False, severity="high", fix="host",
    reads="the group of each Docker socket file (dockerd -G/--group or daemon.json group, default docker, for a socket "
          "dockerd makes; docker.socket's SocketGroup for one systemd passes with -H fd://): its /etc/group members "
          "and the users whose primary group it is; option trusted_users",
    remediation="Remove untrusted users from the socket's group (`gpasswd -d <user> docker`, or the group "
                "dockerd -G or docker.socket's SocketGroup names): membership is root-equivalent.",
    fixed_by=("host_docker_group_enabled", "host_docker_group_allowlist"),
)
def trusted_docker_users(state):
    # The group that reaches a socket is whoever made it decides: dockerd's -G/--group for its own
    # sockets, docker.socket's SocketGroup for the ones systemd passes with -H fd:// (dockerd.sockets).
    # Members are compared as whole names; the shell check's substring grep lets 'bob' vouch for 'bobby'.
    groups = sorted(state.host.socket_groups) or [state.host.docker_group_name]
    verdicts = [_group_verdict(group, state.host.group_members(group)[1], state.options.trusted_users) for group in groups]
    for status in (failed, warned):
        chosen = [evidence for verdict, evidence in verdicts if verdict is status]
        if chosen:
            return status("; ".join(chosen))
    return passed("; ".join(evidence for _verdict, evidence in verdicts))


def _group_verdict(group, members, trusted):
    """(outcome function, evidence) for one socket group."""
    if members is None:
        return passed, "no group %r on this host: the socket has no group that grants access" % group
    if not members:
        return passed, "socket group %s has no members" % group
    if trusted is None:
        return warned, "socket group %s members, confirm each is trusted: %s" % (group, ", ".join(members))
    untrusted = [member for member in members if member not in trusted]
    if untrusted:
        return failed, "socket group %s members not in trusted_users: %s" % (group, ", ".join(untrusted))
    return passed, "every socket group %s member is trusted: %s" % (group, ", ".join(members))


# CIS 1.1.3-1.1.18: one audit rule each. Row: id, title, paths(state), whether
# the path must exist (else an absent path is `info`), and what the path is.
# The path function returns the effective path(s) on this host: the running
# binary, the unit file systemd uses, the configured data root and config file.
AUDITED_PATHS = (
    ("1.1.3", "Ensure auditing is configured for the Docker daemon",
     lambda state: [host_facts.installed_path(daemon_paths.binary(state, "dockerd"))], True,
     "the running dockerd binary (/proc/<pid>/exe)"),
    ("1.1.4", "Ensure auditing is configured for Docker files and directories - /run/containerd",
     lambda state: ["/run/containerd"], False,
     "/run/containerd"),
    ("1.1.5", "Ensure auditing is configured for Docker files and directories - /var/lib/docker",
     lambda state: [daemon_paths.data_root(state)], False,
     "Docker's data root (docker info .DockerRootDir)"),
    ("1.1.6", "Ensure auditing is configured for Docker files and directories - /etc/docker",
     lambda state: ["/etc/docker"], False,
     "/etc/docker"),
    ("1.1.7", "Ensure auditing is configured for Docker files and directories - docker.service",
     lambda state: [daemon_paths.unit(state, "docker.service")], False,
     "the docker.service unit file (first found in /etc/systemd/system, /run/systemd/system, /lib/systemd/system, /usr/lib/systemd/system)"),
    ("1.1.8", "Ensure auditing is configured for Docker files and directories - containerd.sock",
     lambda state: [daemon_paths.containerd_socket(state)], False,
     "the containerd socket (dockerd --containerd, /run/containerd or dockerd's own)"),
    # CIS means the socket unit file; CIS WorkBench now also means the socket itself: audit both.
    ("1.1.9", "Ensure auditing is configured for Docker files and directories - docker.socket",
     lambda state: [daemon_paths.unit(state, "docker.socket"), daemon_paths.docker_socket(state)], False,
     "the docker.socket unit file and the Docker socket itself"),
    ("1.1.10", "Ensure auditing is configured for Docker files and directories - /etc/default/docker",
     lambda state: ["/etc/default/docker"], False,
     "/etc/default/docker"),
    ("1.1.11", "Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json",
     lambda state: [daemon_paths.daemon_json(state)], False,
     "the daemon.json dockerd reads (--config-file or /etc/docker/daemon.json)"),
    ("1.1.12", "Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml",
     lambda state: ["/etc/containerd/config.toml"], False,
     "/etc/containerd/config.toml"),
    ("1.1.13", "Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker",
     lambda state: ["/etc/sysconfig/docker"], False,
     "/etc/sysconfig/docker"),
    ("1.1.14", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd",
     lambda state: [daemon_paths.binary(state, "containerd")], False,
     "the containerd binary in PATH"),
    ("1.1.15", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim",
     lambda state: [daemon_paths.binary(state, "containerd-shim")], False,
     "the containerd-shim binary in PATH"),
    ("1.1.16", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1",
     lambda state: [daemon_paths.binary(state, "containerd-shim-runc-v1")], False,
     "the containerd-shim-runc-v1 binary in PATH"),
    ("1.1.17", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2",
     lambda state: [daemon_paths.binary(state, "containerd-shim-runc-v2")], False,
     "the containerd-shim-runc-v2 binary in PATH"),
    ("1.1.18", "Ensure auditing is configured for Docker files and directories - /usr/bin/runc",
     lambda state: [daemon_paths.binary(state, "runc")], False,
     "the runc binary in PATH"),
)


def _audit_outcome(state, paths, must_exist):
    """pass when every existing path has a watch recording writes; info when none exists; not applicable in a
    container, where the host role's auditd area skips too (one detection: host_facts.container_manager)."""
    if state.host.in_container:
        return skipped("not applicable: in a container (%s): %s; audit that host"
                       % (state.host.in_container, host_facts.KERNEL_OF_THE_HOST))
    rules = state.host.audit_rules
    if rules is None:
        return skipped("audit rules not gathered")
    present = [path for path in paths if path and (must_exist or state.host.stat(path) is not None)]
    if not present:
        return info("not present on this host")
    if rules.error:
        return failed(rules.error)
    missing, covered, suppressed = [], [], []
    for path in present:
        watches = [watch for watch in audit_rules.covering_watches(rules, path) if REQUIRED_AUDIT_PERM in watch.perms]
        if watches:
            covered.append("%s by `%s`" % (path, watches[0].text))
            continue
        missing.append(path)
        never = audit_rules.suppressing_rule(rules, path)
        if never is not None:
            suppressed.append(_suppression(path, never))
    if missing:
        why = ": " + "; ".join(suppressed) if suppressed else ""
        return failed("no audit rule recording writes to %s (%s)%s" % (", ".join(missing), rules.source, why))
    return passed("; ".join(covered) + " (%s)" % rules.source)


def _suppression(path, rule):
    """Why a never rule (or a pair auditctl -l cannot tell apart) leaves writes to path unrecorded."""
    if rule.action == audit_rules.AMBIGUOUS:
        return ("`%s` is listed twice by auditctl -l, which prints a never rule with a permission filter as a watch: "
                "one of the two suppresses writes to %s, and which comes first cannot be told (read the rule files)"
                % (rule.text, path))
    return "`%s` comes first and suppresses writes to %s (the first matching rule decides)" % (rule.text, path)


# The host role's auditd area writes these rules from AUDITED_PATHS (host/auditd.py).
AUDIT_FIXED_BY = ("host_auditd_enabled", "host_auditd_rules_path", "host_auditd_key")

# Titles CIS changed after v1.6 (AUDITED_PATHS has v1.6's): {id: {version: title}}. v1.7 renamed 1.1.9 after the
# socket itself; the rule audits both the unit file and the socket either way.
LATER_TITLES = {
    "1.1.9": {"1.8": "Ensure auditing is configured for Docker files and directories - docker.sock"},
}


def _register_audit_rule(rule_id, title, paths_of, must_exist, what):
    def evaluate(state):
        # auditd keeps a trail of changes to the daemon, its config and its runtime: who changed what, when.
        return _audit_outcome(state, paths_of(state), must_exist)
    register(Rule(
        rule_id, title, SECTION, level=2, scored=True, severity="medium", fix="host",
        reads="a watch recording writes on %s, in `auditctl -l` (loaded rules), else in "
              "/etc/audit/audit.rules and /etc/audit/rules.d/*.rules; not applicable (skipped) when the audited machine "
              "is a container, where the host role's auditd area skips too" % what,
        remediation="Add `-w <path> -k docker` for %s to /etc/audit/rules.d/docker.rules and load it "
                    "(`augenrules --load`)." % what,
        kind=KIND_GLOBAL, evaluate=evaluate, subject="host", fixed_by=AUDIT_FIXED_BY, titles=LATER_TITLES.get(rule_id),
    ))


for _entry in AUDITED_PATHS:
    _register_audit_rule(*_entry)


manual_rule(
    "1.2.1", "Ensure the container host has been Hardened", SECTION,
    level=1, scored=False, severity="medium", subject="host",
    reads="the host OS configuration (outside this audit)",
    remediation="Harden the host OS: the bulwark.hardening `host` role (sysctl, kernel modules, auditd, SSH, file modes, "
                "updates, mounts), and the CIS benchmark for the distribution for the rest.",
)


@global_rule(
    "1.2.2", "Ensure that the version of Docker is up to date", SECTION, subject="daemon",
    level=1, scored=False, severity="medium", fix="host",
    reads="the package that installed the running dockerd (`dpkg -S`) and its installed and candidate versions "
          "(`apt-cache policy`, from the local package lists); else docker info .ServerVersion",
    remediation="Upgrade Docker Engine to the newest version your repositories offer (`apt-get install --only-upgrade "
                "<package>`), and keep to releases that still get security fixes.",
    left_open="the roles do not upgrade packages; keep Docker up to date with the package manager",
)
def docker_version(state):
    # Where the package manager can tell, it decides: a newer candidate in the configured repositories is a
    # missed update. Elsewhere, which releases still get fixes needs the vendor's list: report the version.
    server = "server version %s" % ((state.info or {}).get("ServerVersion") or "unknown")
    package = state.host.docker_package
    if package is not None and package.replaced:
        # /proc/<pid>/exe says "(deleted)": an upgrade or reinstall replaced the binary after dockerd started.
        return failed("the running dockerd is not the installed one: %s was replaced on disk after dockerd started "
                      "(/proc/<pid>/exe ends in \"(deleted)\"), so it runs %s while %s is installed%s; restart "
                      "dockerd (live-restore keeps containers running) to run the installed version"
                      % (package.path or "its binary", server, _installed(package), _newer(package)))
    if package is None or package.package is None:
        why = " (%s)" % package.note if package is not None and package.note else ""
        return info("%s%s: confirm it is a supported release" % (server, why))
    if package.note or not package.installed or not package.candidate:
        why = package.note or "apt-cache policy names no installed or candidate version"
        return info("%s, package %s: %s" % (server, package.package, why))
    if set(package.sources) <= {packages.DPKG_STATUS}:
        return info("%s: apt knows %s only as installed (%s, from %s); run `apt-get update` so the package lists "
                    "can tell whether a newer version exists (or its repository is not configured)"
                    % (server, package.package, package.installed, packages.DPKG_STATUS))
    if packages.compare_debian_versions(package.candidate, package.installed) > 0:
        return failed("%s %s is installed, %s is available (apt-cache policy, as of the last apt-get update)"
                      % (package.package, package.installed, package.candidate))
    return passed("%s %s is the newest version the configured repositories offer (apt-cache policy, as of the "
                  "last apt-get update)" % (package.package, package.installed))


def _installed(package):
    if package.package and package.installed:
        return "package %s %s" % (package.package, package.installed)
    return "another binary (%s)" % (package.note or "its package is unknown")


def _newer(package):
    if package.installed and package.candidate and \
            packages.compare_debian_versions(package.candidate, package.installed) > 0:
        return " (and %s is available)" % package.candidate
    return ""
