# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small readings of container inspect data (and of the daemon's seccomp profile) shared by several rules."""

from __future__ import annotations

import json

from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import DEFAULT_DOCKER_SOCKET

# The capabilities Docker grants every container by default (moby's
# DefaultCapabilities). Adding anything else widens what root in the container can do.
DEFAULT_CAPABILITIES = frozenset([
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
])

# Ways of writing "this container runs as root" in Config.User.
ROOT_USERS = frozenset(["", "0", "root", "0:0", "root:root", "0:root", "root:0"])


# Docker Hub's registry names: RepoTags leave them out, with the library/ namespace of official images.
DOCKER_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


def familiar_reference(reference):
    """A reference as RepoTags and RepoDigests spell it: 'docker.io/library/nginx' -> 'nginx:latest'."""
    for hub in DOCKER_HUB_NAMES:
        for prefix in (hub + "/library/", hub + "/"):
            if reference.startswith(prefix):
                reference = reference[len(prefix):]
                break
        else:
            continue
        break
    if "@" not in reference and ":" not in reference.rsplit("/", 1)[-1]:
        reference += ":latest"
    return reference


def reference_names_image(reference, image_inspect):
    """True while a tag or digest reference still names this image (its RepoTags or RepoDigests).

    Tags are unique: once a pull or a build moves a tag, the image it named loses it.
    """
    names = set(image_inspect.get("RepoTags") or []) | set(image_inspect.get("RepoDigests") or [])
    return familiar_reference(reference) in names


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
# Actions that let a syscall through (SCMP_ACT_LOG only logs it first).
PERMISSIVE_SECCOMP_ACTIONS = ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG")


def seccomp_text_problem(text):
    """Why a seccomp profile's JSON text filters nothing, or None when it blocks something.

    A profile whose defaultAction lets every syscall through and that has no
    syscall rule with another action is seccomp disabled in all but name. The
    docker CLI inlines a profile file's JSON into `seccomp=<json>`, and
    daemon.json's seccomp-profile names a file of the same format.
    """
    try:
        profile = json.loads(text)
    except ValueError:
        return "not valid JSON, so dockerd cannot load it"
    if not isinstance(profile, dict):
        return "not a JSON object, so dockerd cannot load it"
    default = profile.get("defaultAction")
    if not isinstance(default, str) or default not in PERMISSIVE_SECCOMP_ACTIONS:
        return None
    rules = profile.get("syscalls") if isinstance(profile.get("syscalls"), list) else []
    if any(isinstance(rule, dict) and rule.get("action") not in PERMISSIVE_SECCOMP_ACTIONS for rule in rules):
        return None
    return ("defaultAction %s and no syscall rule that blocks anything: every syscall is allowed, "
            "seccomp is disabled in all but name" % default)


def container_seccomp_problem(value):
    """Why a container's --security-opt seccomp value disables seccomp, or None (its profile filters, or it
    asks for the daemon's default)."""
    if value == UNCONFINED_SECCOMP:
        return "SecurityOpt seccomp=%s" % value
    if value in DAEMON_DEFAULT_SECCOMP:
        return None
    problem = seccomp_text_problem(value)
    # The profile itself is not quoted: it can be kilobytes of JSON.
    return "SecurityOpt seccomp=<inline profile>: %s" % problem if problem else None


def daemon_seccomp_problem(state):
    """Why the daemon-wide seccomp profile disables seccomp, or None.

    docker info reports `profile=unconfined` for seccomp-profile "unconfined",
    and the path of a custom profile file, whose text gather reads.
    """
    profile = (state.security_options().get("seccomp") or {}).get("profile", "")
    if profile == UNCONFINED_SECCOMP:
        return "daemon-wide seccomp profile is unconfined (docker info SecurityOptions)"
    read = state.daemon_seccomp_profile
    if read is not None and read.path == profile and read.text is not None:
        problem = seccomp_text_problem(read.text)
        if problem:
            return "daemon-wide seccomp profile %s: %s" % (profile, problem)
    return None


def docker_host_socket(docker_host):
    """The socket path of a unix:// docker_host as written; the default socket for tcp/ssh hosts."""
    if docker_host and docker_host.startswith("unix://"):
        return docker_host[len("unix://"):]
    return DEFAULT_DOCKER_SOCKET


def docker_socket_path(docker_host):
    """docker_host_socket in normal_path spelling, for comparing with mount sources."""
    return normal_path(docker_host_socket(docker_host))


def process_commands(top):
    """The command line of each process in a `docker top` answer (its CMD or COMMAND column)."""
    titles = top.get("Titles") or []
    column = titles.index("CMD") if "CMD" in titles else (titles.index("COMMAND") if "COMMAND" in titles else -1)
    return [str(process[column]) for process in top.get("Processes") or [] if process]
