# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small readings of container inspect data shared by several rules."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path

# The capabilities Docker grants every container by default (moby's
# DefaultCapabilities). Adding anything else widens what root in the container can do.
DEFAULT_CAPABILITIES = frozenset([
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
])

# Ways of writing "this container runs as root" in Config.User.
ROOT_USERS = frozenset(["", "0", "root", "0:0", "root:root", "0:root", "root:0"])


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


def security_opt_value(container, name):
    """The value of a --security-opt (name=value or the old name:value form), None if absent, '' if bare."""
    for option in container.security_opt:
        for separator in ("=", ":"):
            key, sep, value = option.partition(separator)
            if sep and key == name:
                return value
        if option == name:
            return ""
    return None


def docker_host_socket(docker_host):
    """The socket path of a unix:// docker_host as written; the default socket for tcp/ssh hosts."""
    if docker_host and docker_host.startswith("unix://"):
        return docker_host[len("unix://"):]
    return "/var/run/docker.sock"


def docker_socket_path(docker_host):
    """docker_host_socket in normal_path spelling, for comparing with mount sources."""
    return normal_path(docker_host_socket(docker_host))
