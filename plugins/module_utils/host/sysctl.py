# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Kernel and network settings: one file under /etc/sysctl.d, applied live in one step.

Generic hardening guides turn forwarding and user namespaces off; on a
Docker host that cuts new containers off the network and stops
userns-remap. The role never writes a 0 for those keys, whether Docker is
installed yet or not: Docker turns forwarding on when it starts, but a 0
left in sysctl.d by a run before its installation turns it off again at the
next `sysctl --system` (a package upgrade, an operator, a boot without
Docker started after it), under running containers. The kernel starts with
forwarding off anyway. Once Docker is installed, ip_forward = 1 is written.
The run says what it left out and why.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, command, python_call

HEADER = "# Managed by bulwark.hardening (host role, sysctl area): edits are overwritten.\n"

# Docker routes container traffic through the host: without forwarding a new container's
# packets go nowhere (existing ones keep working until the next restart of the network).
# Written only where Docker is installed: before that, with no Docker FORWARD policy, forwarding
# would make the host a router.
DOCKER_FORCED = {"net.ipv4.ip_forward": "1"}
# Docker (IPv6 networks, userns-remap, rootless mode) needs these above 0: a planned 0 is never
# written, Docker installed or not (see the module's docstring); nor is one for DOCKER_FORCED.
DOCKER_NOT_ZERO = (
    "net.ipv4.conf.all.forwarding",  # the same kernel switch as net.ipv4.ip_forward
    "net.ipv4.conf.default.forwarding",
    "net.ipv6.conf.all.forwarding",
    "net.ipv6.conf.default.forwarding",
    "user.max_user_namespaces",
    "kernel.unprivileged_userns_clone",
)


def proc_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def normal_value(value):
    """sysctl prints multi-field values with tabs; compare them field by field."""
    if isinstance(value, bool):
        value = int(value)
    return " ".join(str(value).split())


def docker_safe(settings, env, notes):
    """The settings with the keys Docker needs kept, and a note for each one kept."""
    wanted = dict((key, normal_value(value)) for key, value in settings.items())
    if env.docker_installed or env.userns_remap:
        why = "Docker is installed" + (" and remaps user namespaces" if env.userns_remap else "")
        for key, value in DOCKER_FORCED.items():
            if wanted.get(key, value) != value:
                notes.append("%s stays %s (asked: %s): %s, and new containers lose their network without it"
                             % (key, value, wanted[key], why))
            wanted[key] = value
        why += " and needs user namespaces or forwarding"
    else:
        why = ("Docker, even installed later, needs forwarding and user namespaces: it turns forwarding on when it "
               "starts, and a 0 written here would turn it off again at the next `sysctl --system`")
    for key in tuple(DOCKER_FORCED) + DOCKER_NOT_ZERO:
        if wanted.get(key) == "0":
            notes.append("%s is not set to 0: %s" % (key, why))
            del wanted[key]
    return wanted


# Changing forwarding makes the kernel reset accept_redirects (and more) on every interface:
# sysctl -p applies lines in order, so these come first and the file's own values win.
FIRST_KEYS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding",
              "net.ipv6.conf.all.forwarding", "net.ipv6.conf.default.forwarding")


def render(settings):
    order = [key for key in FIRST_KEYS if key in settings] + sorted(key for key in settings if key not in FIRST_KEYS)
    return HEADER + "".join("%s = %s\n" % (key, settings[key]) for key in order)


def live_values(keys, read=host_facts.read_text):
    """{key: current value} for the keys this kernel has; {key: None} for the others."""
    found = {}
    for key in keys:
        text = read(proc_path(key))
        found[key] = normal_value(text) if text is not None else None
    return found


def plan(settings, path, env, read=host_facts.read_text):
    area = AreaPlan("sysctl")
    if env.in_container:
        return area.skip("in a container (%s): kernel settings belong to the host" % env.in_container)
    wanted = docker_safe(settings, env, area.notes)
    live = live_values(wanted, read)
    unknown = sorted(key for key, value in live.items() if value is None)
    if unknown:
        # sysctl -p stops with an error on a key the kernel lacks: leave such keys out.
        area.notes.append("not on this kernel, left out: %s" % ", ".join(unknown))
        for key in unknown:
            del wanted[key]
    area.files.append(textfiles.plan_file(path, render(wanted)))
    differ = sorted(key for key in wanted if live[key] != wanted[key])
    area.report = dict(settings=wanted, differ_live=differ)
    if area.files[0].changed or differ:
        area.actions.append(command("load %s (sysctl -p): %s" % (path, ", ".join(differ) or "file only"),
                                    "sysctl", "-q", "-p", path))
        area.actions.append(python_call("verify the live values", lambda: verify(wanted, read)))
    return area


def verify(wanted, read=host_facts.read_text):
    live = live_values(wanted, read)
    wrong = ["%s is %s, not %s" % (key, live[key], value) for key, value in sorted(wanted.items()) if live[key] != value]
    return "after sysctl -p: " + "; ".join(wrong) if wrong else None
