# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Gather everything an audit needs, once.

API calls, for C audited containers and I distinct images among them:

- `info` once, `containers` (list) once: 2 calls; with the daemon scope,
  `inspect_network bridge` and `volumes` once each (2.2 reads the default
  bridge itself, 2.9 counts what remapping would hide): 2 calls; with the
  containers scope, `volumes` once when an audited container mounts a named
  volume of the local driver (5.6: the host directory it may bind), shared
  with the daemon scope's;
- `inspect_container` once per audited container: C calls. The Engine has
  no bulk inspect; the SDK's high-level `containers.list(sparse=False)`
  also inspects one by one, so the low-level client is used directly;
- with the containers scope, `inspect_container` once more per namespace
  donor that is not audited itself (a container another one joins with
  --network/--pid/--ipc container:<id>; 5.10, 5.16, 5.17), donors of
  donors included, each asked once;
- `inspect_image` once per distinct image (scopes images and bulwark): I calls;
- optional, each documented with the option that enables it:
  `top` per running container (process_checks, CIS 5.7 and BW-012),
  `history` per image (image_history, CIS 4.7/4.9), `diff` per container
  labelled bulwark.immutable=true (BW-004) and, with drift_checks, per
  running container (BW-013); never two diffs of one container.

Sections 6 and 7 (scopes operations and swarm) add the few calls that
gather_operations.py documents: 2 for operations, none off-swarm, 3 on a
swarm manager.

The client (engine.connection) counts every call, retries included.

The host side reads dockerd's command line from /proc/<pid>/cmdline (pid
from /var/run/docker.pid, else the newest process named dockerd), the
daemon.json that dockerd reads, the custom seccomp profile docker info
names, audit rules, docker.socket and its drop-ins, the group of each socket
file dockerd serves (dockerd.sockets decides it: -G for dockerd's own,
SocketGroup for those systemd passes with -H fd://), mount points and unit
file paths; with the containers scope, /proc/<State.Pid>/cgroup and status
of each running container's init (5.26's NoNewPrivs), skipped with the
reason when the Engine is not on this machine. These are file reads, not
API calls. With the
host scope it also runs two local commands once, with a timeout and in the
C locale, while the API calls are answered: `dpkg -S <dockerd binary>` and
`apt-cache policy <its package>` (CIS 1.2.2; local package lists only, no
network; apt keeps its cache for this in /var/cache/bulwark/apt, never in
/var/cache/apt: packages.apt_cache_options).
"""

from __future__ import annotations

import fnmatch
import os
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system import packages
from ansible_collections.bulwark.hardening.plugins.module_utils.system import audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather_operations
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DEFAULT_DOCKER_SOCKET, api_error_class, guarded, not_found_class, optional_call, read_each,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import (
    DEFAULT_DOCKER_GROUP, NAMESPACE_MODES, AuditState, ContainerView, FileText, HostFacts, ImageView,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import (
    DEFAULT_CONFIG_FILE, DaemonConfig, parse_cmdline,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import sockets
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import load_daemon_json
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.systemd_unit import socket_unit

DOCKERD_PIDFILES = ("/var/run/docker.pid", "/run/docker.pid")
STACK_BINARIES = ("containerd", "containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2", "runc")
UNIT_FILES = ("docker.service", "docker.socket")
# docker info's names for the seccomp profiles that are not a file.
NOT_A_PROFILE_FILE = ("", "builtin", "default", "unconfined")
# A seccomp profile is tens of kilobytes; anything far larger is not read.
MAX_PROFILE_BYTES = 1 << 20


# --- selection ----------------------------------------------------------

def _name_of(summary):
    names = summary.get("Names") or []
    return names[0].lstrip("/") if names else summary.get("Id", "")[:12]


# An id as `docker ps` shows it (12 hex digits) or longer; shorter hex could be a name.
ID_PREFIX = re.compile(r"^[0-9a-f]{12,64}$")


def _selected_by(summary, pattern):
    if ID_PREFIX.match(pattern) and summary.get("Id", "").startswith(pattern):
        return True
    return fnmatch.fnmatchcase(_name_of(summary), pattern)


def select_containers(summaries, name_filter=None):
    """Container summaries whose name matches one of the globs, or whose id starts with one
    of them (12 or more hex digits); all when there is no filter."""
    if not name_filter:
        return list(summaries)
    return [summary for summary in summaries if any(_selected_by(summary, pattern) for pattern in name_filter)]


# --- API side -------------------------------------------------------------

def _inspect_all(client, ids):
    """inspect_container for each id, in order; containers removed meanwhile are left out."""
    return read_each(lambda container_id: optional_call(client, "inspect_container", container_id), ids)


def _gather_containers(client, request):
    filters = {"label": list(request.label_filter)} if request.label_filter else None
    summaries = client.call("containers", all=request.include_stopped, filters=filters)
    selected = select_containers(summaries, request.name_filter)
    inspected = _inspect_all(client, [summary["Id"] for summary in selected])
    containers = [ContainerView(data) for data in sorted(inspected, key=lambda data: data.get("Name", ""))]
    for container in containers:
        if request.process_checks and container.running:
            container.top = _optional(client, "top", container.id)
        if (request.immutable_drift and container.immutable) or (request.drift_checks and container.running):
            container.diff = _optional(client, "diff", container.id) or []
    return containers


def _optional(client, name, *args):
    """An extra per-item call; an item that vanished meanwhile just has no data."""
    try:
        return client.call(name, *args)
    except api_error_class():  # NotFound included
        return None


def _gather_donors(client, state):
    """Inspect the containers whose namespaces audited containers join (`container:` network, PID and IPC
    modes) when they are not audited themselves: one call per missing donor, donors of donors too, each
    reference asked once (which also ends a cycle). Fills state.donors."""
    pending = [reference for container in state.containers for reference in _joined(container)]
    asked = set()
    while pending:
        reference = pending.pop()
        if reference in asked or state.container_by_reference(reference) is not None:
            continue
        asked.add(reference)
        data = _optional(client, "inspect_container", reference)
        if data:
            donor = ContainerView(data)
            state.donors[donor.id] = donor
            pending.extend(_joined(donor))


def _joined(container):
    return [reference for reference in (container.joined(key) for key in NAMESPACE_MODES) if reference]


def _gather_images(client, containers, with_history):
    images = {}
    for image_id in sorted(set(container.image_id for container in containers if container.image_id)):
        try:
            data = client.call("inspect_image", image_id)
        except not_found_class():
            continue
        history = _optional(client, "history", image_id) if with_history else None
        images[image_id] = ImageView(data, history=history)
    return images


# --- host side ------------------------------------------------------------

def read_daemon_config(config_path=None):
    """DaemonConfig from the running dockerd's command line and the config file it reads
    (config_path: read that file instead, e.g. one a role is about to make dockerd read)."""
    pid = host_facts.find_pid("dockerd", pidfiles=DOCKERD_PIDFILES)
    argv = host_facts.read_cmdline(pid) if pid else None
    cmdline = parse_cmdline(argv[1:]) if argv else None
    path = config_path or (cmdline or {}).get("config-file") or DEFAULT_CONFIG_FILE
    options, error = read_daemon_json(path)
    return DaemonConfig(cmdline=cmdline, file_options=options, config_path=path, file_error=error, pid=pid)


def read_daemon_json(path):
    """(options, error) of a daemon.json read the way dockerd reads it; (None, None) when it is absent.

    A UTF-8 byte order mark and whitespace-only content are accepted, as
    dockerd accepts them; content that is not a JSON object is an error
    saying why (the file is then reported unreadable).
    """
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as error:  # ValueError: not UTF-8
        return None, str(error)
    try:
        return load_daemon_json(text), None
    except ValueError as error:
        return None, str(error)


def read_seccomp_profile(state):
    """FileText of the custom seccomp profile file docker info names; None for the built-in one or unconfined."""
    path = (state.security_options().get("seccomp") or {}).get("profile", "")
    if path in NOT_A_PROFILE_FILE or not path.startswith("/"):
        return None
    if not engine_on_this_machine(state.options.docker_host):
        return FileText(path, None, "the Engine is reached at %s: the file is on that machine, not this one"
                        % state.options.docker_host)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PROFILE_BYTES + 1)
    except OSError as error:
        return FileText(path, None, str(error))
    if len(data) > MAX_PROFILE_BYTES:
        return FileText(path, None, "larger than %d bytes, not read" % MAX_PROFILE_BYTES)
    try:
        return FileText(path, data.decode("utf-8"), None)
    except ValueError as error:
        return FileText(path, None, str(error))


# docker_host addresses that reach an Engine on this machine over TCP.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def engine_on_this_machine(docker_host):
    """Whether docker_host reaches an Engine on the machine the audit runs on (a unix socket, or loopback TCP)."""
    scheme, _sep, rest = str(docker_host or "").partition("://")
    if scheme == "unix":
        return True
    if scheme not in ("tcp", "http", "https"):
        return False
    address = rest.split("/", 1)[0]
    host = address[1:address.index("]")] if address.startswith("[") and "]" in address else address.rsplit(":", 1)[0]
    return host in LOOPBACK_HOSTS


def init_status_unreadable(state):
    """Why no container's /proc/<pid>/status can be read here (its pids are another machine's or another PID
    namespace's), or None."""
    if not engine_on_this_machine(state.options.docker_host):
        return ("the Engine is reached at %s, not on this machine: its process ids are not this machine's"
                % state.options.docker_host)
    if state.daemon.pid is None:
        return "no dockerd process is visible here (another PID namespace?), so container process ids are not this /proc's"
    return None


def read_init_status(container):
    """(fields, note) of /proc/<pid>/status of a running container's init: fields None and note why when
    it was not read or is not that init (a pid reused, another namespace's).

    Two small reads: the process's cgroup must name the container (whatever the
    cgroup driver or parent, dockerd puts the id in the path), then its status.
    """
    pid = container.pid
    if pid is None:
        return None, "not running"
    cgroup, error = host_facts.read_process_file(pid, "cgroup")
    if cgroup is None:
        return None, error
    if not container.id or container.id not in cgroup:
        return None, "process %d is not this container's init (its cgroup does not name the container)" % pid
    text, error = host_facts.read_process_file(pid, "status")
    if text is None:
        return None, error
    fields = host_facts.parse_proc_status(text)
    ids = fields.get("NSpid", "").split()
    # In its own PID namespace the init is pid 1 there; its host pid comes first.
    own_namespace = (container.host_config.get("PidMode") or "private") == "private"
    if not ids or ids[0] != str(pid) or (own_namespace and ids[-1] != "1"):
        return None, "process %d is not this container's init (NSpid %s)" % (pid, " ".join(ids) or "missing")
    return fields, None


def read_init_statuses(state):
    """init_status of every running audited container: two small /proc reads each, host side."""
    unreadable = init_status_unreadable(state)
    for container in state.containers:
        if unreadable and container.running:
            container.init_status, container.init_status_note = None, unreadable
        else:
            container.init_status, container.init_status_note = read_init_status(container)


def dockerd_binary(daemon):
    """The running dockerd's executable, else the dockerd found in PATH."""
    return (host_facts.process_binary(daemon.pid) if daemon.pid else None) or host_facts.find_binary("dockerd")


def read_socket_unit():
    """docker.socket with its drop-ins (systemd_unit.SocketUnit), or None without one."""
    return socket_unit(host_facts.read_unit_texts("docker.socket"))


def main_socket_group(listeners):
    """The group of the socket Docker's clients use by default (else of the first socket dockerd serves)."""
    default = os.path.realpath(DEFAULT_DOCKER_SOCKET)
    for listener in listeners:
        if os.path.realpath(listener.address) == default:
            return listener.group
    return listeners[0].group if listeners else DEFAULT_DOCKER_GROUP


def read_socket_groups(daemon, facts):
    """Each socket file's group (dockerd.sockets decides it) with its gid and members, into facts."""
    listeners = sockets.unix_sockets(sockets.daemon_listeners(daemon.value("hosts"), daemon.value("group"),
                                                              facts.socket_unit))
    for group in sorted(set(listener.group for listener in listeners)):
        facts.socket_groups[group] = host_facts.docker_group(group)
    facts.docker_group_name = main_socket_group(listeners)
    facts.docker_gid, facts.docker_group_members = (facts.socket_groups.get(facts.docker_group_name)
                                                    or host_facts.docker_group(facts.docker_group_name))


def read_host_facts(daemon, scopes):
    """HostFacts for the host and files sections (and 4.5's content trust, 2.7's socket unit); docker_package
    is gather's."""
    facts = HostFacts()
    if "host" in scopes:
        facts.in_container = host_facts.container_manager()
        facts.audit_rules = audit_rules.read_audit_rules()
        facts.mountpoints = host_facts.read_mountpoints()
        facts.binaries = dict((name, host_facts.find_binary(name)) for name in STACK_BINARIES)
        facts.binaries["dockerd"] = dockerd_binary(daemon)
    if set(scopes) & {"host", "files", "daemon"}:
        facts.units = dict((name, host_facts.find_unit(name)) for name in UNIT_FILES)
        facts.socket_unit = read_socket_unit()
    if "host" in scopes or "files" in scopes:
        read_socket_groups(daemon, facts)
    if "images" in scopes:
        facts.content_trust = host_facts.content_trust_sources()
    return facts


# --- entry point ----------------------------------------------------------

class GatherRequest(object):
    """What to gather: scopes and container selection, plus the opt-in extra calls."""

    def __init__(self, scopes, include_stopped=False, name_filter=None, label_filter=None,
                 process_checks=False, image_history=False, drift_checks=False):
        self.scopes = set(scopes)
        self.include_stopped = include_stopped
        self.name_filter = list(name_filter or [])
        self.label_filter = list(label_filter or [])
        # `docker top` serves 5.7 (containers) and BW-012 (bulwark).
        self.process_checks = process_checks and bool(self.scopes & {"containers", "bulwark"})
        self.image_history = image_history and "images" in self.scopes
        # `docker diff`: always for containers labelled immutable (BW-004); for every running one with drift_checks (BW-013).
        self.immutable_drift = "bulwark" in self.scopes
        self.drift_checks = drift_checks and self.immutable_drift

    @property
    def needs_containers(self):
        return bool(self.scopes & {"images", "containers", "bulwark"})

    @property
    def needs_images(self):
        # bulwark needs image configs to tell inherited env and labels from the container's own.
        return bool(self.scopes & {"images", "bulwark"})


def _mounts_local_volumes(containers):
    return any(mount.get("Type") == "volume" and mount.get("Driver") == "local"
               for container in containers for mount in container.mounts)


def gather(client, request, options):
    """An AuditState for the request. Raises GatherError when the API is unusable."""
    state = AuditState(options=options)
    state.daemon = read_daemon_config()
    with ThreadPoolExecutor(max_workers=2) as background:
        # dpkg -S and apt-cache policy take about a second when apt (re)builds its cache, and the /proc
        # reads of 5.26 a tenth of a millisecond per container: they run while the daemon answers the API calls.
        package = inits = None
        if "host" in request.scopes:
            package = background.submit(packages.read_docker_package, dockerd_binary(state.daemon))
        state.info = guarded(client, client.call, "info")
        if request.needs_containers:
            state.containers = guarded(client, _gather_containers, client, request)
            if "containers" in request.scopes:
                # 5.26 asks the kernel; 5.10, 5.16 and 5.17 follow `container:` modes to the donor.
                inits = background.submit(read_init_statuses, state)
                guarded(client, _gather_donors, client, state)
        if request.needs_images:
            state.images = guarded(client, _gather_images, client, state.containers, request.image_history)
        if request.scopes & gather_operations.SCOPES:
            gather_operations.gather_operations(client, request, state)
        volumes = None
        if "daemon" in request.scopes:
            # 2.2 reads the bridge itself (its settings may wait for a restart without containers); 2.9
            # counts what remapping would hide.
            state.default_bridge = _optional(client, "inspect_network", "bridge")
            volumes = _optional(client, "volumes") or {}
            state.volume_count = len(volumes.get("Volumes") or [])
        if "containers" in request.scopes and _mounts_local_volumes(state.containers):
            # 5.6: a local volume can bind a host directory (o=bind,device=/etc); one list answers every container.
            volumes = volumes if volumes is not None else (_optional(client, "volumes") or {})
            state.volumes = dict((volume.get("Name"), volume) for volume in volumes.get("Volumes") or [])
        if request.scopes & {"daemon", "containers"}:
            state.daemon_seccomp_profile = read_seccomp_profile(state)
        state.host = read_host_facts(state.daemon, request.scopes)
        if package is not None:
            state.host.docker_package = package.result()
        if inits is not None:
            inits.result()
    return state
