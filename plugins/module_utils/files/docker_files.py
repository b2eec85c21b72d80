# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The Docker daemon's files of CIS section 3: where each is on this host, who owns it, its maximum mode.

One definition for both sides: the audit's section 3 rules (rules/cis3_files.py)
check these files, and the docker_daemon role fixes exactly these files with
the daemon_files module. A file is found where this host really keeps it
(the unit systemd uses, the TLS files dockerd's flags and daemon.json name,
every file below certs.d, the config file dockerd reads, its sockets).

Symlinks are resolved once, here: the file checked and fixed is the one the
link points to, and a link to something that is not the expected kind of
file (a unit masked by a link to /dev/null) is reported and never touched.
"""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import paths as daemon_paths
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import sockets

CERTS_DIR = "/etc/docker/certs.d"

# name: what the file is (the finding's target when it is absent); paths(state) -> [paths];
# kind: file, dir or socket; owner, group (a name, or None: the group of each socket file, as
# dockerd.sockets decides it: dockerd's -G for its own, docker.socket's SocketGroup for systemd's);
# max_mode: no permission bit beyond it; ownership / mode: (rule id, title);
# severity; location: where it is looked for, for the docs.
DockerFile = collections.namedtuple(
    "DockerFile", ["name", "paths", "kind", "owner", "group", "max_mode", "ownership", "mode", "severity", "location"])

UNIT_LOCATION = "the unit file systemd uses: first of /etc/systemd/system, /run/systemd/system, /lib/systemd/system, " \
                "/usr/lib/systemd/system"


def _one(path_of):
    return lambda state: [path_of(state)]


def _daemon_setting(key):
    # TLS files are where dockerd's flags or daemon.json say; not configured means not applicable.
    return lambda state: [state.daemon.value(key)] if state.daemon.value(key) else []


def _certs(state):
    return state.host.files_below(CERTS_DIR)


DOCKER_FILES = (
    DockerFile("docker.service", _one(lambda s: daemon_paths.unit(s, "docker.service")), "file", "root", "root", 0o644,
               ("3.1", "Ensure that the docker.service file ownership is set to root:root"),
               ("3.2", "Ensure that docker.service file permissions are appropriately set"),
               "medium", UNIT_LOCATION),
    DockerFile("docker.socket", _one(lambda s: daemon_paths.unit(s, "docker.socket")), "file", "root", "root", 0o644,
               ("3.3", "Ensure that docker.socket file ownership is set to root:root"),
               ("3.4", "Ensure that docker.socket file permissions are set to 644 or more restrictive"),
               "medium", UNIT_LOCATION),
    DockerFile("/etc/docker", _one(lambda s: "/etc/docker"), "dir", "root", "root", 0o755,
               ("3.5", "Ensure that the /etc/docker directory ownership is set to root:root"),
               ("3.6", "Ensure that /etc/docker directory permissions are set to 755 or more restrictively"),
               "medium", "/etc/docker"),
    DockerFile("/etc/docker/certs.d/*", _certs, "file", "root", "root", 0o444,
               ("3.7", "Ensure that registry certificate file ownership is set to root:root"),
               ("3.8", "Ensure that registry certificate file permissions are set to 444 or more restrictively"),
               "medium", "every regular file below /etc/docker/certs.d"),
    DockerFile("tlscacert", _daemon_setting("tlscacert"), "file", "root", "root", 0o444,
               ("3.9", "Ensure that TLS CA certificate file ownership is set to root:root"),
               ("3.10", "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively"),
               "high", "the path in dockerd --tlscacert or daemon.json tlscacert"),
    DockerFile("tlscert", _daemon_setting("tlscert"), "file", "root", "root", 0o444,
               ("3.11", "Ensure that Docker server certificate file ownership is set to root:root"),
               ("3.12", "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively"),
               "high", "the path in dockerd --tlscert or daemon.json tlscert"),
    # 0400 "or more restrictive" (the shell check demands exactly 400, failing a stricter 0000).
    DockerFile("tlskey", _daemon_setting("tlskey"), "file", "root", "root", 0o400,
               ("3.13", "Ensure that the Docker server certificate key file ownership is set to root:root"),
               ("3.14", "Ensure that the Docker server certificate key file permissions are set to 400"),
               "critical", "the path in dockerd --tlskey or daemon.json tlskey"),
    DockerFile("docker socket", daemon_paths.docker_sockets, "socket", "root", None, 0o660,
               ("3.15", "Ensure that the Docker socket file ownership is set to root:docker"),
               ("3.16", "Ensure that the Docker socket file permissions are set to 660 or more restrictively"),
               "high", "every unix socket dockerd listens on: hosts / -H unix:// (the default: /var/run/docker.sock), "
                       "and for fd:// the ListenStream paths of docker.socket"),
    DockerFile("daemon.json", _one(daemon_paths.daemon_json), "file", "root", "root", 0o644,
               ("3.17", "Ensure that the daemon.json file ownership is set to root:root"),
               ("3.18", "Ensure that daemon.json file permissions are set to 644 or more restrictive"),
               "medium", "the file in dockerd --config-file, else /etc/docker/daemon.json"),
    DockerFile("/etc/default/docker", _one(lambda s: "/etc/default/docker"), "file", "root", "root", 0o644,
               ("3.19", "Ensure that the /etc/default/docker file ownership is set to root:root"),
               ("3.20", "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively"),
               "medium", "/etc/default/docker"),
    DockerFile("/etc/sysconfig/docker", _one(lambda s: "/etc/sysconfig/docker"), "file", "root", "root", 0o644,
               ("3.22", "Ensure that the /etc/sysconfig/docker file ownership is set to root:root"),
               ("3.21", "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively"),
               "medium", "/etc/sysconfig/docker"),
    DockerFile("containerd socket", _one(daemon_paths.containerd_socket), "socket", "root", "root", 0o660,
               ("3.23", "Ensure that the Containerd socket file ownership is set to root:root"),
               ("3.24", "Ensure that the Containerd socket file permissions are set to 660 or more restrictively"),
               "high", "dockerd --containerd, else /run/containerd/containerd.sock, else dockerd's own "
                       "/var/run/docker/containerd/containerd.sock"),
)

_KIND_NAMES = {"file": "regular file", "dir": "directory", "socket": "socket", "other": "device, fifo or other special file"}

# One target of one entry: the path as found, the file to check and fix (None when there is
# nothing to check) and, when it is None, why.
Target = collections.namedtuple("Target", ["path", "real_path", "note"])


def group_of(entry, state, path=None):
    """The group an entry's file at path must have: the entry's own, or the group of that socket file
    (dockerd.sockets: -G / daemon.json group for a socket dockerd makes, SocketGroup for one systemd makes)."""
    if entry.group is not None:
        return entry.group
    for listener in sockets.unix_sockets(sockets.listeners_of(state)):
        if path is not None and listener.address == path:
            return listener.group or sockets.DEFAULT_DOCKER_GROUP
    return state.host.docker_group_name or sockets.DEFAULT_DOCKER_GROUP


def targets(entry, state):
    """Where the entry's files are on this host, symlinks resolved; [] when not configured."""
    found = []
    for path in entry.paths(state):
        if not path:
            continue
        real = state.host.realpath(path)
        metadata = state.host.stat(real)
        if metadata is None:
            found.append(Target(path, None, "%s does not exist" % path))
        elif metadata.kind != entry.kind:
            via = " (a symlink to %s)" % real if real != path else ""
            what = _KIND_NAMES.get(metadata.kind, metadata.kind)
            found.append(Target(path, None, "%s%s is not a %s (it is: %s): left alone" % (path, via, _KIND_NAMES[entry.kind], what)))
        else:
            found.append(Target(path, real, None))
    return found


def policy_rules(state, entries=DOCKER_FILES):
    """file policy rules (path, owner, group, mode, rules) for every file of the table that exists here."""
    rules = []
    for entry in entries:
        for target in targets(entry, state):
            if target.real_path is not None:
                rules.append({
                    "path": target.real_path, "owner": entry.owner, "group": group_of(entry, state, target.path),
                    "mode": "%04o" % entry.max_mode, "rules": [entry.ownership[0], entry.mode[0]],
                })
    return rules
