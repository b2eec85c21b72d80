# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The SSH session the module runs in, as sshd sees it: the client's address and port, its own.

sshd puts them in SSH_CONNECTION ("client port server port"; SSH_CLIENT has
no server address) of the session's shell. sudo resets the environment
(env_reset), so the module, started by sudo, rarely has them itself; the
session's shell is one of its ancestors, and /proc/<pid>/environ keeps the
environment each process started with. `sshd -T -C` needs them to evaluate
Match blocks, and from= restrictions of authorized keys need the address.
"""

from __future__ import annotations

import collections
import ipaddress
import os

# source: where it was found, for the operator ("SSH_CONNECTION of process 812 (bash)").
SshSession = collections.namedtuple("SshSession", ["client_address", "client_port", "server_address",
                                                   "server_port", "source"])

# Enough for python <- sh <- sudo <- sh <- the session's shell, with wrappers in between.
MAX_ANCESTORS = 16


def _address(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _port(text):
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def from_variables(variables, source):
    """SshSession from SSH_CONNECTION, else SSH_CLIENT, of an environment (a dict); None without them."""
    fields = (variables.get("SSH_CONNECTION") or "").split()
    if len(fields) == 4 and _address(fields[0]) and _address(fields[2]):
        return SshSession(_address(fields[0]), _port(fields[1]), _address(fields[2]), _port(fields[3]),
                          "SSH_CONNECTION of " + source)
    fields = (variables.get("SSH_CLIENT") or "").split()
    if len(fields) == 3 and _address(fields[0]):
        return SshSession(_address(fields[0]), _port(fields[1]), None, _port(fields[2]), "SSH_CLIENT of " + source)
    return None


def read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def process_environment(pid, read=read_bytes):
    """The environment process pid started with, as a dict ({} when it cannot be read)."""
    raw = read("/proc/%d/environ" % pid) or b""
    variables = {}
    for entry in raw.split(b"\0"):
        name, sep, value = entry.decode("utf-8", "replace").partition("=")
        if sep:
            variables[name] = value
    return variables


def parent_and_name(pid, read=read_bytes):
    """(parent pid, command name) of pid from /proc/<pid>/status; (None, None) when it is gone."""
    parent, name = None, None
    for line in (read("/proc/%d/status" % pid) or b"").decode("utf-8", "replace").splitlines():
        key, _sep, value = line.partition(":")
        if key == "PPid" and value.strip().isdigit():
            parent = int(value.strip())
        elif key == "Name":
            name = value.strip()
    return parent, name


def current(environ=None, pid=None, read=read_bytes):
    """The session of this process or of its nearest ancestor that has one; None when none does."""
    found = from_variables(os.environ if environ is None else environ, "the module's environment")
    pid = os.getpid() if pid is None else pid
    for _step in range(MAX_ANCESTORS):
        if found is not None:
            return found
        pid = parent_and_name(pid, read)[0]
        if not pid or pid <= 1:
            return None
        found = from_variables(process_environment(pid, read), "process %d (%s)" % (pid, parent_and_name(pid, read)[1]))
    return found


def stated(address):
    """A session whose client address the operator stated (host_ssh_client_address); None if it is no address."""
    address = _address(address.strip()) if address else None
    return SshSession(address, None, None, None, "host_ssh_client_address") if address else None
