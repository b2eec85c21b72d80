# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What dockerd listens on, and who owns each socket file: one answer for the audit and the roles.

dockerd's -H/hosts entries (none: unix:///var/run/docker.sock):

- unix://PATH: dockerd creates the socket file itself, mode 0660, group
  -G/--group (daemon.json `group`), docker by default;
- fd:// and fd://N: sockets systemd created from the socket unit that
  activates docker.service (docker.socket), all of them or the one passed
  as file descriptor N (the first is 3). systemd owns them: their owner,
  group and mode are the unit's SocketUser, SocketGroup and SocketMode, and
  dockerd's -G does not apply. A ListenStream= that is a port or an
  address:port is a TCP listener, which dockerd serves like -H tcp:// (TLS
  when --tls/--tlsverify is on);
- anything else (tcp://, no scheme): a network listener dockerd opens itself
  (CIS 2.7 reads those from the hosts entries directly).
"""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import DEFAULT_DOCKER_SOCKET

# The group dockerd gives the socket files it creates when neither -G/--group nor daemon.json `group` says otherwise.
DEFAULT_DOCKER_GROUP = "docker"
DAEMON_SOCKET_MODE = 0o660
FIRST_ACTIVATED_FD = 3

# kind: "unix" (address is a socket file), "tcp" (address as the unit writes it), "abstract" or "other"
# (no file, no TCP); group and mode of a unix socket file; via: where it comes from, for evidence.
Listener = collections.namedtuple("Listener", ["kind", "address", "group", "mode", "via"])


def _listen_kind(key, value):
    if key != "ListenStream":
        return "other"
    if value.startswith("/"):
        return "unix"
    if value.startswith("@"):
        return "abstract"
    if value.startswith("vsock:"):
        return "other"
    return "tcp"


def _activated(host, socket_unit):
    """The socket unit's listeners that dockerd takes for one fd:// entry."""
    selector = host[len("fd://"):]
    listens = list(enumerate(socket_unit.listens))
    if selector not in ("", "*"):
        wanted = int(selector) - FIRST_ACTIVATED_FD if selector.isdigit() else -1
        listens = [(index, listen) for index, listen in listens if index == wanted]
    found = []
    for _index, (key, value) in listens:
        kind = _listen_kind(key, value)
        unix = kind == "unix"
        found.append(Listener(kind, value, socket_unit.group if unix else None, socket_unit.mode if unix else None,
                              "%s (docker.socket %s=%s)" % (host, key, value)))
    return found


def _assumed_unit(host):
    # Without the socket unit, Docker's and Debian's packaged docker.socket is the best guess; said so.
    return [Listener("unix", DEFAULT_DOCKER_SOCKET, DEFAULT_DOCKER_GROUP, DAEMON_SOCKET_MODE,
                     "%s (docker.socket not found: its packaged settings assumed)" % host)]


def daemon_listeners(hosts, group, socket_unit, default_socket=DEFAULT_DOCKER_SOCKET):
    """Listener for every socket dockerd serves: hosts is dockerd's -H/hosts list, group its -G/group value
    (None when unset), socket_unit the activating unit (systemd_unit.SocketUnit) or None."""
    daemon_group = DEFAULT_DOCKER_GROUP if group is None else str(group)
    hosts = [str(host).strip() for host in hosts or []]
    if not hosts:
        return [Listener("unix", default_socket, daemon_group, DAEMON_SOCKET_MODE, "dockerd's default socket")]
    found = []
    for host in hosts:
        if host.startswith("unix://"):
            found.append(Listener("unix", host[len("unix://"):] or DEFAULT_DOCKER_SOCKET, daemon_group,
                                  DAEMON_SOCKET_MODE, host))
        elif host.startswith("fd://"):
            found.extend(_activated(host, socket_unit) if socket_unit is not None else _assumed_unit(host))
    return found


def listeners_of(state):
    """daemon_listeners of an audit state (dockerd's effective configuration, the socket unit gathered)."""
    docker_host = state.options.docker_host or ""
    default = docker_host[len("unix://"):] if docker_host.startswith("unix://") else None
    return daemon_listeners(state.daemon.value("hosts"), state.daemon.value("group"),
                            state.host.socket_unit, default or DEFAULT_DOCKER_SOCKET)


def unix_sockets(listeners):
    return [listener for listener in listeners if listener.kind == "unix"]


def activated_tcp(listeners):
    """The TCP listeners systemd opened for dockerd (socket activation)."""
    return [listener for listener in listeners if listener.kind == "tcp"]
