# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What the host role must know about the machine before it plans anything:
is it a container, is Docker installed, is user-namespace remapping on."""

from __future__ import annotations

import collections
import os

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts

# in_container: the container manager's name (docker, lxc, podman ...) or None;
# active_units: the units of UNITS that systemd runs now.
HostEnvironment = collections.namedtuple("HostEnvironment",
                                         ["in_container", "docker_installed", "userns_remap", "active_units"])

# Units the areas ask about, in one `systemctl is-active` call (each process costs on a slow host).
UNITS = ("auditd", "ssh", "chronyd", "ntpd", "openntpd", "ntpsec", "systemd-timesyncd")


# One detection for the host role and the audit (section 1 reports the kernel's audit rules not applicable where the
# auditd area skips); kept under this name, which detect() calls.
container_manager = host_facts.container_manager


def active_units(run, names=UNITS):
    """The names systemd reports active; `systemctl is-active` prints one state per name, in order."""
    _rc, out, _err = run(["systemctl", "is-active"] + list(names))
    states = out.split()
    if len(states) != len(names):
        return frozenset()  # no systemd (a plain container): nothing runs as a unit
    return frozenset(name for name, state in zip(names, states) if state == "active")


def detect(daemon, run):
    """HostEnvironment from the machine; daemon is the dockerd configuration (gather.read_daemon_config())."""
    installed = bool(daemon.pid or host_facts.find_binary("dockerd") or host_facts.find_unit("docker.service"))
    remap = daemon.value("userns-remap")
    return HostEnvironment(container_manager(), installed, str(remap) if remap else None, active_units(run))


APT_LISTS = "/var/lib/apt/lists"


def package_lists_empty(lists_dir=APT_LISTS, listdir=os.listdir):
    """Whether apt has no package lists (no *_Packages file): installing anything needs `apt-get update` first.

    Images are built with their lists removed, and the directory then looks
    freshly updated: a cache_valid_time check alone would not update it.
    """
    try:
        names = listdir(lists_dir)
    except OSError:
        return True
    return not any("_Packages" in name for name in names)
