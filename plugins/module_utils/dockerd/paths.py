# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Where the Docker stack's files really are on this host.

Section 1 (audit rules) and section 3 (ownership and modes) name the same
files. Fixed paths in the benchmark text are the defaults; the effective
ones come from `docker info`, dockerd's flags and daemon.json, so a moved
data-root or config file is still checked.
"""

from __future__ import annotations

import posixpath

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import sockets
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import docker_host_socket

DEFAULT_DATA_ROOT = "/var/lib/docker"
DEFAULT_CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
# Without --containerd, dockerd starts and supervises its own containerd, listening here.
MANAGED_CONTAINERD_SOCKET = "/var/run/docker/containerd/containerd.sock"


def data_root(state):
    """DockerRootDir; with user-namespace remapping docker info reports a <uid>.<gid> subdirectory, so take its parent."""
    root = (state.info or {}).get("DockerRootDir") or state.daemon.value("data-root") or DEFAULT_DATA_ROOT
    if "userns" in state.security_options():
        return posixpath.dirname(root.rstrip("/"))
    return root


def daemon_json(state):
    """The config file dockerd reads: --config-file, else /etc/docker/daemon.json."""
    return state.daemon.config_path


def containerd_socket(state):
    """dockerd's --containerd, else the system containerd's socket, else the one dockerd manages."""
    configured = state.daemon.value("containerd")
    if configured:
        return configured
    for candidate in (DEFAULT_CONTAINERD_SOCKET, MANAGED_CONTAINERD_SOCKET):
        if state.host.stat(candidate) is not None:
            return candidate
    return DEFAULT_CONTAINERD_SOCKET


def docker_socket(state):
    """The socket the audit reaches the daemon through (docker_host), or the default one."""
    return docker_host_socket(state.options.docker_host)


def docker_sockets(state):
    """Every unix socket file dockerd listens on (dockerd.sockets: its unix:// hosts, docker.socket's for fd://,
    the default socket when no hosts are set)."""
    return sorted(set(listener.address for listener in sockets.unix_sockets(sockets.listeners_of(state))))


def unit(state, name):
    return state.host.units.get(name)


def binary(state, name):
    return state.host.binaries.get(name)
