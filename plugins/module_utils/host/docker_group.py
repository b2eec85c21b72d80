# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS 1.1.2: only trusted users in the group that reaches the Docker socket.

Membership is root on the host (`docker run -v /:/host`). The group is the
of the Docker socket (-G/--group, daemon.json `group`, else docker; with -H fd://,
docker.socket's SocketGroup: dockerd.sockets decides), as the audit reads it. Without an allowlist the members are only reported.
"""

from __future__ import annotations

import pwd

from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, command


def primary_members(gid, getpwall=pwd.getpwall):
    """Users whose primary group is gid: gpasswd cannot take them out."""
    return sorted(user.pw_name for user in getpwall() if user.pw_gid == gid)


def plan(group, gid, members, allowlist, getpwall=pwd.getpwall):
    area = AreaPlan("docker_group")
    if members is None:
        area.report = dict(group=group, members=[])
        return area.skip("no group %s on this host" % group)
    area.report = dict(group=group, members=members, allowlist=allowlist)
    if allowlist is None:
        if members:
            area.notes.append("members of %s (root-equivalent), not changed without an allowlist: %s"
                              % (group, ", ".join(members)))
        return area
    untrusted = [member for member in members if member not in allowlist]
    primary = set(primary_members(gid, getpwall)) if gid is not None else set()
    for member in untrusted:
        if member in primary:
            area.notes.append("%s has %s as primary group: change it with usermod -g (not done)" % (member, group))
        else:
            area.actions.append(command("remove %s from %s" % (member, group), "gpasswd", "-d", member, group))
    area.report["removed"] = [member for member in untrusted if member not in primary]
    return area
