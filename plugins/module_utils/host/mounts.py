# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""nodev, nosuid, noexec on /tmp and /dev/shm; CIS 1.1.1 (Docker's data on its own partition) reported.

Options are only added to a path that is already its own mount: turning a
directory of the root filesystem into a tmpfs would hide what is in it.
They are set live (mount -o remount) and in /etc/fstab, so the next boot
keeps them. Docker's data root is never moved: that is a provisioning
decision, reported here as the audit reports it.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, command

FSTAB = "/etc/fstab"


def parse_mounts(text):
    """{mount point: (fs type, source, [options])} from /proc/self/mounts content; later mounts win."""
    found = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            point = host_facts.unescape_mount(fields[1])
            found[point] = (fields[2], fields[0], fields[3].split(","))
    return found


def fstab_with_options(text, point, fstype, source, options):
    """fstab text where the line for point carries the options (a line is added when none exists)."""
    lines, found = [], False
    for line in text.splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#") and len(fields) >= 4 and host_facts.unescape_mount(fields[1]) == point:
            found = True
            current = fields[3].split(",")
            missing = [option for option in options if option not in current]
            if missing:  # a line that has them all stays as the admin wrote it
                fields[3] = ",".join(current + missing)
                line = "\t".join(fields)
        lines.append(line)
    if not found:
        lines.append("%s\t%s\t%s\tdefaults,%s\t0\t0" % (source, point, fstype, ",".join(options)))
    return "\n".join(lines) + "\n"


def plan(options_by_point, partition, env, read=host_facts.read_text):
    """partition: the audit's own 1.1.1 outcome on this host (rule.Outcome)."""
    area = AreaPlan("mounts")
    if env.in_container:
        return area.skip("in a container (%s): mounts belong to the host" % env.in_container)
    mounts = parse_mounts(read("/proc/self/mounts") or "")
    fstab = read(FSTAB) or ""
    new_fstab = fstab
    report = {}
    for point, options in options_by_point.items():
        if point not in mounts:
            area.notes.append("%s is not its own mount: %s cannot be set without one" % (point, ",".join(options)))
            report[point] = None
            continue
        fstype, source, current = mounts[point]
        missing = [option for option in options if option not in current]
        report[point] = dict(fstype=fstype, options=current, missing=missing)
        new_fstab = fstab_with_options(new_fstab, point, fstype, source if fstype != "tmpfs" else "tmpfs", options)
        if missing:
            area.actions.append(command("remount %s with %s" % (point, ",".join(missing)),
                                        "mount", "-o", "remount," + ",".join(missing), point))
    if new_fstab != fstab:
        area.files.append(textfiles.FileChange(FSTAB, fstab or None, new_fstab))
    report["1.1.1"] = dict(status=partition.status, evidence=partition.evidence)
    if partition.status != "pass":
        area.notes.append("1.1.1: %s; give Docker's data its own partition when the host is provisioned "
                          "(never moved by this role)" % partition.evidence)
    area.report = report
    return area
