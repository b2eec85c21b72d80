# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Where a container answers: its published TCP ports and, on the host network, the ports its processes listen on.

Before a replacement, the endpoints the old container answers on are probed; the replacement must
answer on each of them within its grace period, or it is rolled back. "Answers" means the connection
is accepted and not closed at once: docker-proxy accepts a connection to a published port whether or not
anything listens behind it, and closes it at once when nothing does.

A host-network container publishes nothing: its listening sockets are read from /proc on the Engine's
host (this host, when docker_host is the local socket) - the container's processes from its cgroup
(`docker top` when the cgroup cannot be read), their socket inodes from /proc/<pid>/fd, and the
sockets in LISTEN state from /proc/<pid>/net/tcp and tcp6 (the container's own network namespace).
Only TCP is checked.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 1.0
# How long an accepted connection must stay open (or send something) to count as answered.
ANSWER_WAIT = 0.25
LISTEN = "0A"
WILDCARDS = ("0.0.0.0", "::")
CGROUP_ROOT = "/sys/fs/cgroup"
PROC = "/proc"
# cgroup v1 hierarchies that list every process of a container, in the order tried.
V1_CONTROLLERS = ("pids", "memory", "cpu", "cpuacct", "devices", "freezer", "blkio", "cpuset", "name=systemd")
PROBE_WORKERS = 8


def is_local(docker_host):
    return (docker_host or "unix://").startswith("unix://")


def remote_host(docker_host):
    """The host name of a tcp://, ssh:// or http(s):// docker_host; None for a local socket."""
    if is_local(docker_host):
        return None
    return urlsplit(docker_host).hostname


def probe_host(address, docker_host):
    """Where to connect for something bound to address on the Engine's host (None: nowhere from here)."""
    if address in ("", "0.0.0.0", "::"):
        if not is_local(docker_host):
            return remote_host(docker_host)
        return "::1" if address == "::" else "127.0.0.1"
    return address


def endpoint_text(endpoint):
    host, port = endpoint
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def answers(host, port, connect_timeout=CONNECT_TIMEOUT, wait=ANSWER_WAIT):
    """Whether a service answers on host:port (accepts and keeps the connection, or sends something)."""
    try:
        with socket.create_connection((host, port), timeout=connect_timeout) as connection:
            connection.settimeout(wait)
            try:
                return connection.recv(1) != b""
            except socket.timeout:
                return True
    except OSError:
        return False


def answering(endpoints, probe=answers):
    """The endpoints that answer now, in the given order (probed in parallel)."""
    endpoints = list(endpoints)
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(PROBE_WORKERS, len(endpoints))) as pool:
        results = list(pool.map(lambda endpoint: probe(*endpoint), endpoints))
    return [endpoint for endpoint, answered in zip(endpoints, results) if answered]


# --- published ports ----------------------------------------------------------------------------------

def published_endpoints(inspect, docker_host):
    """[(host, port)] to probe for the running container's published TCP ports, without repeats."""
    ports = (inspect.get("NetworkSettings") or {}).get("Ports") or {}
    endpoints = []
    for container_port in sorted(ports):
        if not container_port.endswith("/tcp"):
            continue
        for binding in ports[container_port] or []:
            host = probe_host(binding.get("HostIp") or "", docker_host)
            if host and str(binding.get("HostPort") or "").isdigit():
                endpoint = (host, int(binding["HostPort"]))
                if endpoint not in endpoints:
                    endpoints.append(endpoint)
    return endpoints


def random_host_ports(inspect):
    """Container ports published on a host port the Engine picks (a replacement would get another one)."""
    host_config = inspect.get("HostConfig") or {}
    if host_config.get("PublishAllPorts"):
        return sorted((inspect.get("Config") or {}).get("ExposedPorts") or {}) or ["every exposed port (-P)"]
    return sorted(port for port, bindings in (host_config.get("PortBindings") or {}).items()
                  if any(str(binding.get("HostPort") or "") in ("", "0") for binding in bindings or []))


# --- listening sockets, from /proc ------------------------------------------------------------------------

def decode_address(text):
    """An address of /proc/net/tcp{,6} (hex, in the host's byte order per 32-bit word) as text."""
    raw = bytes.fromhex(text)
    if sys.byteorder == "little":
        raw = b"".join(raw[index:index + 4][::-1] for index in range(0, len(raw), 4))
    address = ipaddress.ip_address(raw)
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def parse_proc_net_tcp(text):
    """[(address, port, inode)] of the sockets in LISTEN state in a /proc/net/tcp or tcp6 text."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        address, _colon, port = fields[1].partition(":")
        sockets.append((decode_address(address), int(port, 16), fields[9]))
    return sockets


def _read(path):
    with open(path, "r", encoding="utf-8", errors="replace") as handle:
        return handle.read()


def cgroup_procs_files(cgroup_text, cgroup_root=CGROUP_ROOT):
    """Candidate cgroup.procs files for the cgroups listed in a /proc/<pid>/cgroup text, best first."""
    v1, v2 = {}, []
    for line in cgroup_text.splitlines():
        _hierarchy, _colon, rest = line.partition(":")
        controllers, _colon, path = rest.partition(":")
        if not controllers:
            v2.append(path)
        for controller in controllers.split(","):
            v1.setdefault(controller, path)
    files = []
    for controller in V1_CONTROLLERS:
        if controller in v1:
            files.append(os.path.join(cgroup_root, controller.replace("name=", ""), v1[controller].lstrip("/"), "cgroup.procs"))
    for path in v2:
        files.append(os.path.join(cgroup_root, path.lstrip("/"), "cgroup.procs"))
        files.append(os.path.join(cgroup_root, "unified", path.lstrip("/"), "cgroup.procs"))
    return files


def pids_from_top(top):
    """The PIDs of a `docker top` answer (its PID column)."""
    titles = (top or {}).get("Titles") or []
    if "PID" not in titles:
        return []
    column = titles.index("PID")
    return [int(row[column]) for row in (top or {}).get("Processes") or [] if str(row[column]).isdigit()]


def container_pids(inspect, top=None, proc=PROC, cgroup_root=CGROUP_ROOT):
    """(PIDs of the container's processes, None) or (None, why they cannot be read here).

    top: a function returning the Engine's `docker top` answer, asked only when the cgroup cannot be read.
    """
    main = (inspect.get("State") or {}).get("Pid") or 0
    if not main:
        return None, "it does not run"
    try:
        cgroups = _read(os.path.join(proc, str(main), "cgroup"))
    except OSError as error:
        return None, "its processes are not visible here (%s)" % (error.strerror or error)
    if inspect.get("Id", "-") not in cgroups:
        return None, "process %d here is not the container's (another host or PID namespace)" % main
    for path in cgroup_procs_files(cgroups, cgroup_root):
        try:
            pids = [int(line) for line in _read(path).split() if line.isdigit()]
        except OSError:
            continue
        if pids:
            return pids, None
    pids = pids_from_top(top()) if top is not None else []
    return (pids, None) if pids else ([main], None)


def socket_inodes(pid, proc=PROC):
    """Inodes of the sockets a process holds open (none when its descriptors cannot be read)."""
    directory = os.path.join(proc, str(pid), "fd")
    inodes = set()
    try:
        names = os.listdir(directory)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(os.path.join(directory, name))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def listening_sockets(inspect, docker_host, top=None, proc=PROC, cgroup_root=CGROUP_ROOT):
    """([(address, port)] the container's processes listen on (TCP), None) or (None, why unknown).

    Read from /proc on this host: only when docker_host is the local socket.
    """
    if not is_local(docker_host):
        return None, "docker_host %s is not this host's socket, so its processes cannot be read here" % docker_host
    pids, problem = container_pids(inspect, top, proc, cgroup_root)
    if pids is None:
        return None, problem
    inodes = set()
    for pid in pids:
        inodes |= socket_inodes(pid, proc)
    main = inspect["State"]["Pid"]
    found = []
    for name in ("tcp", "tcp6"):
        try:
            text = _read(os.path.join(proc, str(main), "net", name))
        except OSError:
            continue
        for address, port, inode in parse_proc_net_tcp(text):
            if inode in inodes and (address, port) not in found:
                found.append((address, port))
    if not found and not inodes and pids:
        # Processes with no socket at all, or descriptors this user may not read: tell them apart.
        readable = any(os.access(os.path.join(proc, str(pid), "fd"), os.R_OK) for pid in pids)
        if not readable:
            return None, "the file descriptors of its processes cannot be read (run as root: become: true)"
    return sorted(found, key=lambda item: (item[1], item[0])), None


def listening_endpoints(listeners, docker_host):
    """[(host, port)] to probe for listening sockets [(address, port)], without repeats."""
    endpoints = []
    for address, port in listeners or []:
        host = probe_host(address, docker_host)
        if host and (host, port) not in endpoints:
            endpoints.append((host, port))
    return endpoints
