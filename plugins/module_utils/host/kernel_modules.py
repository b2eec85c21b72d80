# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Unused filesystems and protocols: never loaded again (`install <name> /bin/false`).

A module that is loaded now is in use and is never blacklisted, nor is one
Docker's networking and storage need (overlay, bridge, veth, netfilter ...):
blacklisting those would break the next container start or the next boot.
"""

from __future__ import annotations

import re

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan

HEADER = "# Managed by bulwark.hardening (host role, kernel modules area): edits are overwritten.\n"

# What Docker's storage and networking load on demand: never blacklisted, whatever the list says.
DOCKER_NEEDS = re.compile(
    r"^(overlay|br_netfilter|bridge|stp|llc|veth|vxlan|ipvlan|macvlan|dummy|tun|xfrm.*|esp4|"
    r"x_tables|ip6?_tables|ip6?table_.*|ip6?t_.*|nf_.*|nft_.*|nfnetlink.*|xt_.*|ip_vs.*|"
    r"ext4|xfs|btrfs|zfs|fuse|squashfs|loop|dm_.*|aufs)$"
)


def normal_name(name):
    """modprobe treats - and _ alike; /proc/modules spells them with _."""
    return name.strip().replace("-", "_")


def loaded_modules(read=host_facts.read_text):
    return set(line.split()[0] for line in (read("/proc/modules") or "").splitlines() if line.strip())


def render(names):
    return HEADER + "".join("install %s /bin/false\nblacklist %s\n" % (name, name) for name in names)


def plan(blacklist, path, env, read=host_facts.read_text):
    area = AreaPlan("kernel_modules")
    if env.in_container:
        return area.skip("in a container (%s): kernel modules belong to the host" % env.in_container)
    loaded = loaded_modules(read)
    chosen, kept_loaded, kept_docker = [], [], []
    for name in blacklist:
        normal = normal_name(name)
        if DOCKER_NEEDS.match(normal):
            kept_docker.append(name)
        elif normal in loaded:
            kept_loaded.append(name)
        elif normal not in [normal_name(other) for other in chosen]:
            chosen.append(name)
    if kept_docker:
        area.notes.append("not blacklisted, Docker needs them: %s" % ", ".join(kept_docker))
    if kept_loaded:
        area.notes.append("not blacklisted, loaded now (in use): %s" % ", ".join(kept_loaded))
    area.report = dict(blacklisted=chosen, kept_loaded=kept_loaded, kept_for_docker=kept_docker)
    area.files.append(textfiles.plan_file(path, render(chosen)))
    return area
