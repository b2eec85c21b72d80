# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""World-writable files and directories in system paths, and the SUID/SGID inventory.

Anyone can replace a world-writable file under /etc or /usr, and with it
what root runs next. Sticky directories (/tmp-like) are meant to be
world-writable and are left alone; symlinks always show 0777 and are never
changed. Each tree is walked once, on its own filesystem only (a mounted
data volume below it is not a system path). Changes go through
files/policy.py: by file descriptor, never through a symlink.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.files import policy
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, python_call

# Maximum modes: everything but write for others; everything but setuid and setgid.
NOT_WORLD_WRITABLE = "7775"
NO_SETID = "1777"


def find_command(roots, excluded):
    """find(1) listing, NUL-separated as `<octal mode> <type> <path>`, what this area looks at.

    find walks a tree several times faster than Python on a slow host. -xdev keeps each root on
    its own filesystem; excluded paths are pruned where the walk meets them.
    """
    argv = ["find"] + list(roots) + ["-xdev"]
    if excluded:
        argv += ["("]
        for index, path in enumerate(sorted(excluded)):
            argv += (["-o"] if index else []) + ["-path", path]
        argv += [")", "-prune", "-o"]
    argv += ["(", "-type", "d", "-perm", "-0002", "!", "-perm", "-1000",
             "-o", "-type", "f", "(", "-perm", "-0002", "-o", "-perm", "/6000", ")", ")",
             "-printf", "%m %y %p\\0"]
    return argv


def parse_find(output):
    """(world-writable paths, setuid/setgid files) from find_command's output."""
    writable, setid = [], []
    for record in output.split("\0"):
        mode, _sep, rest = record.partition(" ")
        kind, _sep, path = rest.partition(" ")
        if not path:
            continue
        bits = int(mode, 8)
        if bits & stat.S_IWOTH and not (kind == "d" and bits & stat.S_ISVTX):
            writable.append(path)
        if kind == "f" and bits & (stat.S_ISUID | stat.S_ISGID):
            setid.append(path)
    return sorted(writable), sorted(setid)


def scan(roots, excluded, run):
    """(world-writable paths, setuid/setgid files) below the roots that exist."""
    present = [normal_path(root) for root in roots if os.path.isdir(root)]
    if not present:
        return [], []
    excluded = [normal_path(path) for path in excluded]
    _rc, out, _err = run(find_command(present, excluded))
    # find exits 1 when some directory could not be read; what it did list still counts.
    return parse_find(out)


def plan(roots, excluded, setid_remove, run):
    area = AreaPlan("file_modes")
    writable, setid = scan(roots, excluded, run)
    removal = [path for path in setid_remove if path in setid]
    rules = [dict(path=path, mode=NOT_WORLD_WRITABLE) for path in writable]
    rules += [dict(path=path, mode=NO_SETID) for path in removal]
    plans = [planned for planned in policy.plan_all(rules) if policy.needs_change(planned)]
    area.report = dict(world_writable=writable, setuid_setgid=setid, setid_removed=removal)
    if setid:
        area.notes.append("%d setuid/setgid files below %s (report.setuid_setgid)%s"
                          % (len(setid), ", ".join(roots), "; removing the bits from %s" % ", ".join(removal)
                             if removal else ""))
    for planned in plans:
        area.actions.append(python_call(
            "%s: %s -> %s" % (planned.path, policy.format_mode(planned.before.mode), policy.format_mode(planned.after.mode)),
            lambda planned=planned: policy.apply_plan(planned)))
    return area
