# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIS Docker Benchmark v1.6 section 3: Docker daemon configuration files.

Every check is an ownership or a permission test on one file, at the path
this host really uses (daemon_paths). Modes are compared bit by bit: a
file passes when it has no permission bit outside the allowed mask. (The
shell implementation compares the octal numbers, so 0622, other-writable,
passes its `-le 644` test.) An absent file is reported as `info`.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import paths as daemon_paths
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import (
    KIND_GLOBAL, Rule, failed, info, passed, register,
)

SECTION = "files"
CERTS_DIR = "/etc/docker/certs.d"


# Where each named file is looked for (the docs' "source of truth" column).
LOCATIONS = {
    "docker.service": "the unit file found first in /etc/systemd/system, /run/systemd/system, /lib/systemd/system, /usr/lib/systemd/system",
    "docker.socket": "the unit file found first in /etc/systemd/system, /run/systemd/system, /lib/systemd/system, /usr/lib/systemd/system",
    "/etc/docker/certs.d/*": "every regular file below /etc/docker/certs.d",
    "tlscacert": "the path in dockerd --tlscacert or daemon.json tlscacert",
    "tlscert": "the path in dockerd --tlscert or daemon.json tlscert",
    "tlskey": "the path in dockerd --tlskey or daemon.json tlskey",
    "docker socket": "the unix socket of docker_host (default /var/run/docker.sock)",
    "daemon.json": "the file in dockerd --config-file, else /etc/docker/daemon.json",
    "containerd socket": "dockerd --containerd, else /run/containerd/containerd.sock, else dockerd's own "
                         "/var/run/docker/containerd/containerd.sock",
}


def owned_by(group="root"):
    """Expectation: uid 0 and the named group (root:docker accepts root:root, which is stricter)."""
    def check(found, state):
        wanted = {0} if group == "root" else {0, state.host.docker_gid}
        if found.uid == 0 and found.gid in wanted:
            return passed("%s owned by %d:%d" % (found.path, found.uid, found.gid))
        return failed("%s owned by %d:%d, expected root:%s" % (found.path, found.uid, found.gid, group))
    check.describe = "root:%s" % group
    check.remediation = "chown root:%s {path}" % group
    return check


def mode_at_most(mask):
    """Expectation: no permission bit (setuid/setgid/sticky included) outside mask."""
    def check(found, state):
        extra = found.mode & ~mask
        if extra:
            return failed("%s mode %04o has bits beyond %04o (%04o)" % (found.path, found.mode, mask, extra))
        return passed("%s mode %04o" % (found.path, found.mode))
    check.describe = "mode %04o or stricter" % mask
    check.remediation = "chmod %04o {path} (or stricter)" % mask
    return check


def _one(path_of):
    return lambda state: [path_of(state)]


def _daemon_file(key):
    # TLS files are wherever dockerd's flags or daemon.json say; not configured means not applicable.
    return lambda state: [state.daemon.value(key)] if state.daemon.value(key) else []


def _certs(state):
    return state.host.files_below(CERTS_DIR)


# id, title, paths(state) -> [path], expectation, severity, and a short name for the file,
# used as the target when it is absent. Where each file really is: daemon_paths.
FILE_CHECKS = (
    ("3.1", "Ensure that the docker.service file ownership is set to root:root",
     _one(lambda s: daemon_paths.unit(s, "docker.service")), owned_by(), "medium", "docker.service"),
    ("3.2", "Ensure that docker.service file permissions are appropriately set",
     _one(lambda s: daemon_paths.unit(s, "docker.service")), mode_at_most(0o644), "medium", "docker.service"),
    ("3.3", "Ensure that docker.socket file ownership is set to root:root",
     _one(lambda s: daemon_paths.unit(s, "docker.socket")), owned_by(), "medium", "docker.socket"),
    ("3.4", "Ensure that docker.socket file permissions are set to 644 or more restrictive",
     _one(lambda s: daemon_paths.unit(s, "docker.socket")), mode_at_most(0o644), "medium", "docker.socket"),
    ("3.5", "Ensure that the /etc/docker directory ownership is set to root:root",
     _one(lambda s: "/etc/docker"), owned_by(), "medium", "/etc/docker"),
    ("3.6", "Ensure that /etc/docker directory permissions are set to 755 or more restrictively",
     _one(lambda s: "/etc/docker"), mode_at_most(0o755), "medium", "/etc/docker"),
    ("3.7", "Ensure that registry certificate file ownership is set to root:root",
     _certs, owned_by(), "medium", "/etc/docker/certs.d/*"),
    ("3.8", "Ensure that registry certificate file permissions are set to 444 or more restrictively",
     _certs, mode_at_most(0o444), "medium", "/etc/docker/certs.d/*"),
    ("3.9", "Ensure that TLS CA certificate file ownership is set to root:root",
     _daemon_file("tlscacert"), owned_by(), "high", "tlscacert"),
    ("3.10", "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively",
     _daemon_file("tlscacert"), mode_at_most(0o444), "high", "tlscacert"),
    ("3.11", "Ensure that Docker server certificate file ownership is set to root:root",
     _daemon_file("tlscert"), owned_by(), "high", "tlscert"),
    ("3.12", "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively",
     _daemon_file("tlscert"), mode_at_most(0o444), "high", "tlscert"),
    ("3.13", "Ensure that the Docker server certificate key file ownership is set to root:root",
     _daemon_file("tlskey"), owned_by(), "critical", "tlskey"),
    # 0400 "or more restrictive" (the shell check demands exactly 400, failing a stricter 0000).
    ("3.14", "Ensure that the Docker server certificate key file permissions are set to 400",
     _daemon_file("tlskey"), mode_at_most(0o400), "critical", "tlskey"),
    ("3.15", "Ensure that the Docker socket file ownership is set to root:docker",
     _one(daemon_paths.docker_socket), owned_by("docker"), "high", "docker socket"),
    ("3.16", "Ensure that the Docker socket file permissions are set to 660 or more restrictively",
     _one(daemon_paths.docker_socket), mode_at_most(0o660), "high", "docker socket"),
    ("3.17", "Ensure that the daemon.json file ownership is set to root:root",
     _one(daemon_paths.daemon_json), owned_by(), "medium", "daemon.json"),
    ("3.18", "Ensure that daemon.json file permissions are set to 644 or more restrictive",
     _one(daemon_paths.daemon_json), mode_at_most(0o644), "medium", "daemon.json"),
    ("3.19", "Ensure that the /etc/default/docker file ownership is set to root:root",
     _one(lambda s: "/etc/default/docker"), owned_by(), "medium", "/etc/default/docker"),
    ("3.20", "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively",
     _one(lambda s: "/etc/default/docker"), mode_at_most(0o644), "medium", "/etc/default/docker"),
    ("3.21", "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively",
     _one(lambda s: "/etc/sysconfig/docker"), mode_at_most(0o644), "medium", "/etc/sysconfig/docker"),
    ("3.22", "Ensure that the /etc/sysconfig/docker file ownership is set to root:root",
     _one(lambda s: "/etc/sysconfig/docker"), owned_by(), "medium", "/etc/sysconfig/docker"),
    ("3.23", "Ensure that the Containerd socket file ownership is set to root:root",
     _one(daemon_paths.containerd_socket), owned_by(), "high", "containerd socket"),
    ("3.24", "Ensure that the Containerd socket file permissions are set to 660 or more restrictively",
     _one(daemon_paths.containerd_socket), mode_at_most(0o660), "high", "containerd socket"),
)


def _register_file_check(rule_id, title, paths_of, expectation, severity, what):
    def evaluate(state):
        # Whoever can write these files can reconfigure the daemon, i.e. become root; keys must stay private.
        paths = [path for path in paths_of(state) if path]
        if not paths:
            return [(what, info("%s is not configured or not present on this host" % what))]
        results = []
        for path in paths:
            found = state.host.stat(path)
            results.append((path, expectation(found, state) if found else info("%s does not exist" % path)))
        return results
    register(Rule(
        rule_id, title, SECTION, level=1, scored=True, severity=severity, fix="host",
        reads="stat of %s: %s" % (LOCATIONS.get(what, what), expectation.describe),
        remediation=expectation.remediation.format(path="<%s>" % what),
        kind=KIND_GLOBAL, evaluate=evaluate, subject="host",
    ))


for _check in FILE_CHECKS:
    _register_file_check(*_check)
