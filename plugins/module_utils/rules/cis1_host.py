# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIS Docker Benchmark v1.6 section 1: host configuration.

Reads the host facts gathered once (audit rules from `auditctl -l` or the
rule files, the docker group, /proc/self/mountinfo) and `docker info`.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import paths as daemon_paths
from ansible_collections.bulwark.hardening.plugins.module_utils.audit import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import (
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
    reads="the docker group (/etc/group members and users whose primary group it is); option trusted_users",
    remediation="Remove untrusted users from the docker group (`gpasswd -d <user> docker`): membership is root-equivalent.",
)
def trusted_docker_users(state):
    # Members are compared as whole names; the shell check's substring grep lets 'bob' vouch for 'bobby'.
    members = state.host.docker_group_members
    if members is None:
        return passed("no docker group on this host")
    if not members:
        return passed("docker group has no members")
    trusted = state.options.trusted_users
    if trusted is None:
        return warned("docker group members, confirm each is trusted: %s" % ", ".join(members))
    untrusted = [member for member in members if member not in trusted]
    if untrusted:
        return failed("docker group members not in trusted_users: %s" % ", ".join(untrusted))
    return passed("every docker group member is trusted: %s" % ", ".join(members))


# CIS 1.1.3-1.1.18: one audit rule each. Row: id, title, paths(state), whether
# the path must exist (else an absent path is `info`), and what the path is.
# The path function returns the effective path(s) on this host: the running
# binary, the unit file systemd uses, the configured data root and config file.
AUDITED_PATHS = (
    ("1.1.3", "Ensure auditing is configured for the Docker daemon",
     lambda state: [daemon_paths.binary(state, "dockerd")], True,
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
    """pass when every existing path has a watch recording writes; info when none exists."""
    rules = state.host.audit_rules
    if rules is None:
        return skipped("audit rules not gathered")
    present = [path for path in paths if path and (must_exist or state.host.stat(path) is not None)]
    if not present:
        return info("not present on this host")
    if rules.error:
        return failed(rules.error)
    missing, covered = [], []
    for path in present:
        watches = [watch for watch in host_facts.covering_watches(rules, path) if REQUIRED_AUDIT_PERM in watch.perms]
        if watches:
            covered.append("%s by `%s`" % (path, watches[0].text))
        else:
            missing.append(path)
    if missing:
        return failed("no audit rule recording writes to %s (%s)" % (", ".join(missing), rules.source))
    return passed("; ".join(covered) + " (%s)" % rules.source)


def _register_audit_rule(rule_id, title, paths_of, must_exist, what):
    def evaluate(state):
        # auditd keeps a trail of changes to the daemon, its config and its runtime: who changed what, when.
        return _audit_outcome(state, paths_of(state), must_exist)
    register(Rule(
        rule_id, title, SECTION, level=2, scored=True, severity="medium", fix="host",
        reads="a watch recording writes on %s, in `auditctl -l` (loaded rules), else in "
              "/etc/audit/audit.rules and /etc/audit/rules.d/*.rules" % what,
        remediation="Add `-w <path> -k docker` for %s to /etc/audit/rules.d/docker.rules and load it "
                    "(`augenrules --load`)." % what,
        kind=KIND_GLOBAL, evaluate=evaluate, subject="host",
    ))


for _entry in AUDITED_PATHS:
    _register_audit_rule(*_entry)


manual_rule(
    "1.2.1", "Ensure the container host has been Hardened", SECTION,
    level=1, scored=False, severity="medium", subject="host",
    reads="the host OS configuration (outside this audit)",
    remediation="Harden the host OS (e.g. the bulwark.hardening `host` role or the CIS benchmark for the distribution).",
)


@global_rule(
    "1.2.2", "Ensure that the version of Docker is up to date", SECTION, subject="daemon",
    level=1, scored=False, severity="medium", fix="host",
    reads="docker info .ServerVersion",
    remediation="Upgrade Docker Engine to a release that still gets security fixes.",
)
def docker_version(state):
    # Which releases still get fixes changes over time and needs the vendor's list; report the version.
    if state.info is None:
        return skipped("docker info not gathered")
    return info("server version %s: confirm it is a supported release" % state.info.get("ServerVersion", "unknown"))
