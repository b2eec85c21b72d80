# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Small readings of container inspect data (and of the daemon's seccomp profile) shared by several rules."""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.common import references
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import CONTAINER_MODE
from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import docker_host_socket
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import seccomp_profile

# The capabilities Docker grants every container by default (moby's
# DefaultCapabilities). Adding anything else widens what root in the container can do.
DEFAULT_CAPABILITIES = frozenset([
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
])

# Ways of writing "this container runs as root" in Config.User.
ROOT_USERS = frozenset(["", "0", "root", "0:0", "root:root", "0:root", "root:0"])


def reference_names_image(reference, image_inspect):
    """True while a tag or digest reference still names this image (its RepoTags or RepoDigests).

    Tags are unique: once a pull or a build moves a tag, the image it named loses it.
    """
    names = set(image_inspect.get("RepoTags") or []) | set(image_inspect.get("RepoDigests") or [])
    return references.familiar_reference(reference) in names


def capability_names(values):
    """Capability names without the CAP_ prefix, upper-cased: 'cap_sys_admin' -> 'SYS_ADMIN'."""
    names = []
    for value in values or []:
        name = str(value).upper()
        names.append(name[4:] if name.startswith("CAP_") else name)
    return names


def bind_mounts(container):
    """(source on the host, destination, writable) for each bind mount, sources normalized."""
    found = []
    for mount in container.mounts:
        if mount.get("Type") == "bind":
            found.append((normal_path(mount.get("Source")), mount.get("Destination", ""), bool(mount.get("RW"))))
    return found


def mounts_of(container, directories):
    """Bind mounts whose host source is one of directories or below one of them."""
    # '/' itself is a system directory, but everything is below it: only a bind of '/' counts.
    return [mount for mount in bind_mounts(container)
            if any(mount[0] == "/" if directory == "/" else is_within(mount[0], directory) for directory in directories)]


# The local volume driver mounts a volume with mount(2) options: `type=none o=bind device=/etc` makes the named
# volume a bind of the host's /etc, though inspect .Mounts shows only the volume's _data directory.
LOCAL_VOLUME_DRIVER = "local"
BIND_OPTIONS = ("bind", "rbind")


def local_volume_mounts(container):
    """Names of the container's mounts of local-driver named volumes."""
    return [mount.get("Name") for mount in container.mounts
            if mount.get("Type") == "volume" and mount.get("Driver") == LOCAL_VOLUME_DRIVER and mount.get("Name")]


def volume_bind_mounts(container, volumes):
    """(host directory, destination, writable, volume name) for each named volume the local driver binds to a
    host path; volumes is {name: GET /volumes entry}. Writable unless the mount or the bind itself is ro."""
    found = []
    for mount in container.mounts:
        volume = (volumes or {}).get(mount.get("Name")) if mount.get("Type") == "volume" else None
        if not volume or volume.get("Driver") != LOCAL_VOLUME_DRIVER:
            continue
        options = volume.get("Options") or {}
        flags = [flag.strip() for flag in str(options.get("o") or "").split(",")]
        device = str(options.get("device") or "")
        if device.startswith("/") and any(flag in BIND_OPTIONS for flag in flags):
            writable = bool(mount.get("RW")) and "ro" not in flags
            found.append((normal_path(device), mount.get("Destination", ""), writable, volume.get("Name")))
    return found


def within_directories(source, directories):
    """True when a host path is one of directories or below one; '/' counts only as itself (everything is below it)."""
    return any(source == "/" if directory == "/" else is_within(source, directory) for directory in directories)


def describe_mount(mount):
    source, destination, writable = mount
    return "%s:%s:%s" % (source, destination, "rw" if writable else "ro")


def security_opts(container):
    """(key, value) per --security-opt, split the way dockerd splits it.

    dockerd cuts at the first "=", or, when there is none, at the first ":"
    (the old separator), so "seccomp={...json...}" keeps its JSON whole. value
    is None for an option given bare ("no-new-privileges").
    """
    found = []
    for option in container.security_opt:
        separator = "=" if "=" in option else ":"
        key, sep, value = option.partition(separator)
        found.append((key, value) if sep else (option, None))
    return found


def security_opt_values(container, name):
    """Every value given for one --security-opt, in order ('' for a bare one)."""
    return ["" if value is None else value for key, value in security_opts(container) if key == name]


def security_opt_value(container, name):
    """The value of a --security-opt, None if absent, '' if bare; dockerd applies the last one given."""
    values = security_opt_values(container, name)
    return values[-1] if values else None


# --- seccomp ----------------------------------------------------------------

UNCONFINED_SECCOMP = "unconfined"
# `--security-opt seccomp=builtin` (or an empty value) asks for the daemon's default profile.
DAEMON_DEFAULT_SECCOMP = ("", "builtin")
# Profiles docker info reports for Docker's built-in seccomp profile (older engines: default).
BUILTIN_SECCOMP = ("default", "builtin")

# Every Linux capability, for `--cap-add ALL` (dockerd's caps.TweakCapabilities).
ALL_CAPABILITIES = DEFAULT_CAPABILITIES | frozenset([
    "DAC_READ_SEARCH", "LINUX_IMMUTABLE", "NET_BROADCAST", "NET_ADMIN", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE",
    "SYS_RAWIO", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "LEASE", "AUDIT_CONTROL", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
])


def bounding_capabilities(container):
    """The capabilities dockerd gives the container, as it computes them (and matches seccomp rules with)."""
    host_config = container.host_config
    if host_config.get("Privileged"):
        return ALL_CAPABILITIES
    added = set(capability_names(host_config.get("CapAdd")))
    dropped = set(capability_names(host_config.get("CapDrop")))
    if "ALL" in added:
        return frozenset(ALL_CAPABILITIES - dropped)
    if "ALL" in dropped:
        return frozenset(added)
    return frozenset((DEFAULT_CAPABILITIES - dropped) | added)


def seccomp_context(state, container=None):
    """Whom a profile is judged for: the daemon's architecture and kernel, the container's capabilities
    (Docker's default ones for the daemon-wide profile itself)."""
    info = state.info or {}
    caps = bounding_capabilities(container) if container is not None else DEFAULT_CAPABILITIES
    return seccomp_profile.SeccompContext(seccomp_profile.go_arch(info.get("Architecture")),
                                          seccomp_profile.kernel_version(info.get("KernelVersion")), caps)


# Judged without docker info: a current kernel, no architecture-bound rule, Docker's default capabilities.
UNKNOWN_HOST = seccomp_profile.SeccompContext(None, None, DEFAULT_CAPABILITIES)


def container_seccomp_verdict(value, context=UNKNOWN_HOST):
    """(problem, detail) of a container's --security-opt seccomp value: problem says why it is weaker than
    Docker's default profile (None when it is not), detail what it refuses; both None for the daemon's default."""
    if value == UNCONFINED_SECCOMP:
        return "SecurityOpt seccomp=%s" % value, None
    if value in DAEMON_DEFAULT_SECCOMP:
        return None, None
    judgement = seccomp_profile.judge_text(value, context)
    problem = seccomp_profile.weakness(judgement)
    # The profile itself is not quoted: it can be kilobytes of JSON.
    if problem:
        return "SecurityOpt seccomp=<inline profile>: %s" % problem, None
    return None, seccomp_profile.strength(judgement)


def container_seccomp_problem(value, context=UNKNOWN_HOST):
    """Why a container's --security-opt seccomp value is weaker than Docker's default profile, or None."""
    return container_seccomp_verdict(value, context)[0]


def daemon_seccomp_verdict(state, context=None):
    """(problem, detail) of the daemon-wide seccomp profile, like container_seccomp_verdict.

    docker info reports `profile=unconfined` for seccomp-profile "unconfined",
    and the path of a custom profile file, whose text gather reads; a custom
    profile the audit could not read is a problem: what it refuses is unknown.
    """
    profile = (state.security_options().get("seccomp") or {}).get("profile", "")
    if profile == UNCONFINED_SECCOMP:
        return "daemon-wide seccomp profile is unconfined (docker info SecurityOptions)", None
    if profile in BUILTIN_SECCOMP or profile == "":
        return None, None
    read = state.daemon_seccomp_profile
    if read is None or read.path != profile:
        return "daemon-wide seccomp profile %s was not read by the audit, so what it refuses is unknown" % profile, None
    if read.text is None:
        return ("daemon-wide seccomp profile %s could not be read (%s), so what it refuses is unknown"
                % (profile, read.error)), None
    judgement = seccomp_profile.judge_text(read.text, context or seccomp_context(state))
    problem = seccomp_profile.weakness(judgement)
    if problem:
        return "daemon-wide seccomp profile %s: %s" % (profile, problem), None
    return None, seccomp_profile.strength(judgement)


def daemon_seccomp_problem(state, context=None):
    """Why the daemon-wide seccomp profile is weaker than Docker's default, or None."""
    return daemon_seccomp_verdict(state, context)[0]


# --- namespaces shared with another container ------------------------------------

# mode: the namespace mode that decides (the last donor's, or the container's own); donors: the containers
# followed, in order; unresolved: the reference no known container answers (or that comes back round), else None.
NamespaceSource = collections.namedtuple("NamespaceSource", ["mode", "donors", "unresolved"])


def namespace_source(container, state, key):
    """Whose namespace a container is in, for one of NetworkMode, PidMode, IpcMode: `container:<ref>` is followed
    to the donor (by id, name or id prefix, among audited containers and gathered donors), transitively."""
    current, donors, seen = container, [], {container.id}
    while True:
        reference = current.joined(key)
        if reference is None:
            return NamespaceSource(current.host_config.get(key) or "", donors, None)
        donor = state.container_by_reference(reference)
        if donor is None or donor.id in seen:
            return NamespaceSource(None, donors, reference)
        seen.add(donor.id)
        donors.append(donor)
        current = donor


def describe_namespace(container, key, source):
    """Evidence naming every donor followed: 'HostConfig.NetworkMode=container:6a124719c9ab: joins web
    (6a124719c9ab), whose NetworkMode=host'."""
    own = str(container.host_config.get(key) or "")
    if own.startswith(CONTAINER_MODE):
        own = CONTAINER_MODE + own[len(CONTAINER_MODE):][:12]
    if not source.donors:
        return "HostConfig.%s=%s" % (key, own)
    chain = " -> ".join("%s (%s)" % (donor.name, donor.id[:12]) for donor in source.donors)
    return "HostConfig.%s=%s: joins %s, whose %s=%s" % (key, own, chain, key, source.mode or "default")


def docker_socket_path(docker_host):
    """docker_host_socket in normal_path spelling, for comparing with mount sources."""
    return normal_path(docker_host_socket(docker_host))


def process_commands(top):
    """The command line of each process in a `docker top` answer (its CMD or COMMAND column)."""
    titles = top.get("Titles") or []
    column = titles.index("CMD") if "CMD" in titles else (titles.index("COMMAND") if "COMMAND" in titles else -1)
    return [str(process[column]) for process in top.get("Processes") or [] if process]
