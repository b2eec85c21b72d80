# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Everything an audit gathered, as plain data that rules read.

gather.py fills an AuditState from the Docker API and the host, once; unit
tests fill one from fixture JSON. Rules never call Docker or run anything:
every fact they need is here, or is None when it was not gathered (and the
rule says so). The one lazy read is file metadata (HostFacts.stat, cached),
so each section 1/3 rule names the path it checks in one place.
"""

from __future__ import annotations

import collections
import os

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import DEFAULT_CIS_VERSION, registered_rule
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import sockets
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import DEFAULT_DOCKER_HOST


# Label that marks a container whose filesystem must not drift from its image (BW-004).
IMMUTABLE_LABEL = "bulwark.immutable"
TRUE_LABEL_VALUES = ("true", "1", "yes")

# The group dockerd gives its socket when neither -G/--group nor daemon.json `group` says otherwise.
DEFAULT_DOCKER_GROUP = sockets.DEFAULT_DOCKER_GROUP

# A file the audit read as text: text None and error set when it could not be read.
FileText = collections.namedtuple("FileText", ["path", "text", "error"])


class AuditOptions(object):
    """Audit settings that change what rules decide (not what is gathered)."""

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, trusted_registries=None, trusted_users=None,
                 process_checks=False, image_history=False, drift_checks=False, cis_version=DEFAULT_CIS_VERSION):
        self.docker_host = docker_host
        self.trusted_registries = list(trusted_registries or [])
        self.trusted_users = None if trusted_users is None else list(trusted_users)
        self.process_checks = process_checks
        self.image_history = image_history
        # `docker diff` of every running container (BW-013), not only of immutable ones (BW-004).
        self.drift_checks = drift_checks
        # The CIS Docker Benchmark version audited: its ids in evidence, and the checks whose text it changed (5.6).
        self.cis_version = cis_version

    def rule_id(self, rule_id):
        """The id in the audited CIS version of the rule whose canonical (v1.6) id is rule_id, for evidence that
        names a rule ("waive 2.11 for this host" under 1.8 is v1.6's 2.10)."""
        return registered_rule(rule_id).id_in(self.cis_version)


class HostFacts(object):
    """Section 1 and 3 facts about the machine dockerd runs on.

    audit_rules: system.audit_rules.AuditRules; docker_group_name: the group of the
    Docker socket (dockerd.sockets decides: -G/--group or daemon.json `group`
    for a socket dockerd makes, docker.socket's SocketGroup for one systemd
    passes with -H fd://); docker_group_members: that group's member names, or
    None when it does not exist; docker_gid: its gid or None; socket_groups:
    {group: (gid, members)} of every socket file dockerd serves (1.1.2, 3.15);
    socket_unit: dockerd.systemd_unit.SocketUnit of docker.socket and its
    drop-ins, or None when there is none; mountpoints: {mount point: device} or
    None; binaries / units: {name: path or None}; content_trust: where
    DOCKER_CONTENT_TRUST=1 is set; docker_package: system.packages.PackageStatus of
    the package that installed the running dockerd, or None when not gathered; in_container: the container
    manager the audited machine runs under (host_facts.container_manager: docker, podman, lxc ...), or None on a
    VM or real host and when not gathered.

    File metadata is read on demand and cached, so each rule names the path
    it checks in one place. Tests pass `files` ({path: FileStat}; a missing
    key is an absent file) instead of touching the disk.
    """

    def __init__(self, audit_rules=None, docker_group_members=None, docker_gid=None, mountpoints=None,
                 binaries=None, units=None, content_trust=None, files=None, docker_group_name=DEFAULT_DOCKER_GROUP,
                 docker_package=None, socket_unit=None, socket_groups=None, in_container=None):
        self.audit_rules = audit_rules
        self.in_container = in_container
        self.docker_group_name = docker_group_name
        self.socket_unit = socket_unit
        self.socket_groups = socket_groups or {}
        self.docker_group_members = docker_group_members
        self.docker_gid = docker_gid
        self.docker_package = docker_package
        self.mountpoints = mountpoints
        self.binaries = binaries or {}
        self.units = units or {}
        self.content_trust = content_trust or []
        self._fixed_files = files
        self._stats = {}

    def group_members(self, name):
        """(gid, members) of a socket group: gathered for every socket group, else the docker group's facts."""
        if name in self.socket_groups:
            return self.socket_groups[name]
        if name == self.docker_group_name:
            return self.docker_gid, self.docker_group_members
        return None, None

    def stat(self, path):
        """FileStat of path (symlinks followed) or None when it does not exist."""
        if self._fixed_files is not None:
            return self._fixed_files.get(path)
        if path not in self._stats:
            self._stats[path] = host_facts.stat_path(path)
        return self._stats[path]

    def files_below(self, directory):
        """Regular files below a directory, sorted."""
        if self._fixed_files is not None:
            prefix = directory.rstrip("/") + "/"
            return sorted(path for path, found in self._fixed_files.items()
                          if path.startswith(prefix) and found is not None and found.kind == "file")
        return host_facts.files_below(directory)

    def realpath(self, path):
        """The path with symlinks resolved (tests with fixed files have none)."""
        if self._fixed_files is not None:
            return path
        return os.path.realpath(path)


# Namespaces a container can share with another one (`container:<id or name>`).
NAMESPACE_MODES = ("NetworkMode", "PidMode", "IpcMode")
CONTAINER_MODE = "container:"


class ContainerView(object):
    """One container's inspect data, plus the optional per-container extras.

    top: `docker top` process table (only with process_checks); diff: the
    filesystem changes (for containers labelled immutable, and for every
    running container with drift_checks), one call per container at most.
    init_status: /proc/<State.Pid>/status of a running container's init as
    {field: value} (host side, containers scope), or None with
    init_status_note saying why it was not read.
    """

    def __init__(self, inspect, top=None, diff=None, init_status=None, init_status_note=None):
        self.inspect = inspect
        self.top = top
        self.diff = diff
        self.init_status = init_status
        self.init_status_note = init_status_note

    def joined(self, key):
        """The container reference of a `container:<reference>` namespace mode (NAMESPACE_MODES), else None."""
        mode = str(self.host_config.get(key) or "")
        return mode[len(CONTAINER_MODE):] if mode.startswith(CONTAINER_MODE) else None

    @property
    def pid(self):
        """The host pid of the container's init (State.Pid), or None when it is not running."""
        pid = (self.inspect.get("State") or {}).get("Pid")
        return pid if isinstance(pid, int) and pid > 0 and self.running else None

    @property
    def id(self):
        return self.inspect.get("Id", "")

    @property
    def name(self):
        return (self.inspect.get("Name") or self.id[:12]).lstrip("/")

    @property
    def config(self):
        return self.inspect.get("Config") or {}

    @property
    def host_config(self):
        return self.inspect.get("HostConfig") or {}

    @property
    def labels(self):
        return self.config.get("Labels") or {}

    @property
    def immutable(self):
        return str(self.labels.get(IMMUTABLE_LABEL, "")).lower() in TRUE_LABEL_VALUES

    @property
    def mounts(self):
        return self.inspect.get("Mounts") or []

    @property
    def networks(self):
        return ((self.inspect.get("NetworkSettings") or {}).get("Networks")) or {}

    @property
    def running(self):
        return bool((self.inspect.get("State") or {}).get("Running"))

    @property
    def image_id(self):
        return self.inspect.get("Image", "")

    @property
    def security_opt(self):
        return self.host_config.get("SecurityOpt") or []

    def port_bindings(self):
        """[(container port, host ip, host port)] that are published on the host.

        A running container's NetworkSettings.Ports has the ports actually
        bound (random host ports resolved); a stopped one only has the
        requested HostConfig.PortBindings.
        """
        if self.running:
            ports = (self.inspect.get("NetworkSettings") or {}).get("Ports") or {}
        else:
            ports = self.host_config.get("PortBindings") or {}
        bindings = []
        for container_port in sorted(ports):
            for binding in ports[container_port] or []:
                bindings.append((container_port, binding.get("HostIp", ""), binding.get("HostPort", "")))
        return bindings


class ImageView(object):
    """One image's inspect data; history only when image_history is on (always in image_audit).

    scan: the layer scan (images.scan.LayerScan: setuid/setgid and secret
    files), made only by image_audit with layer_scan on; None otherwise.
    """

    def __init__(self, inspect, history=None, scan=None):
        self.inspect = inspect
        self.history = history
        self.scan = scan

    @property
    def id(self):
        return self.inspect.get("Id", "")

    @property
    def name(self):
        tags = self.inspect.get("RepoTags") or []
        return tags[0] if tags else self.id.replace("sha256:", "")[:12]

    @property
    def config(self):
        return self.inspect.get("Config") or {}


class AuditState(object):
    """All gathered facts. info is `docker info` (dict) or None when not gathered.

    daemon_seccomp_profile: FileText of the custom seccomp profile file docker
    info names (SecurityOptions profile=<path>), or None (built-in, unconfined
    or not gathered).

    operations (CIS 6) and swarm (CIS 7): rules.operations_state.OperationsFacts
    and SwarmFacts, or None when their scope was not gathered.

    default_bridge: `docker network inspect bridge` (None when not gathered or
    there is none); volume_count: the number of volumes (None when not gathered);
    volumes: {name: GET /volumes entry} when an audited container mounts a
    named volume of the local driver (5.6 reads the host path it binds), else None.

    donors: {id: ContainerView} of the containers whose namespaces audited
    containers join (`container:<id or name>` network, PID or IPC modes)
    that are not audited themselves; container_by_reference finds either.
    """

    def __init__(self, options=None, info=None, daemon=None, host=None, containers=None, images=None,
                 daemon_seccomp_profile=None, operations=None, swarm=None, default_bridge=None, volume_count=None,
                 volumes=None, donors=None):
        self.options = options or AuditOptions()
        self.info = info
        self.daemon = daemon or DaemonConfig()
        self.host = host or HostFacts()
        self.containers = containers or []
        self.images = images or {}
        self.daemon_seccomp_profile = daemon_seccomp_profile
        self.operations = operations
        self.swarm = swarm
        self.default_bridge = default_bridge
        self.volume_count = volume_count
        self.volumes = volumes
        self.donors = donors or {}
        self._references = None

    def container_by_reference(self, reference):
        """The audited container or gathered donor that `container:<reference>` names, or None.

        dockerd stores the full id; a name (with or without its slash) or a
        unique id prefix, as the docker CLI accepts them, is found too.
        """
        known = list(self.containers) + list(self.donors.values())
        if self._references is None or self._references[0] != len(known):
            index = {}
            for container in known:
                index.setdefault(container.id, container)
                index.setdefault(container.name, container)
            self._references = (len(known), index)
        reference = str(reference or "").lstrip("/")
        found = self._references[1].get(reference)
        if found is not None or not reference:
            return found
        matches = set(container.id for container in known if container.id.startswith(reference))
        return self._references[1][matches.pop()] if len(matches) == 1 else None

    def image_of(self, container):
        return self.images.get(container.image_id)

    def security_options(self):
        """docker info SecurityOptions as {name: {key: value}}, e.g. {'seccomp': {'profile': 'default'}}."""
        parsed = {}
        for entry in (self.info or {}).get("SecurityOptions") or []:
            fields = dict(part.partition("=")[::2] for part in entry.split(","))
            parsed[fields.pop("name", entry)] = fields
        return parsed
