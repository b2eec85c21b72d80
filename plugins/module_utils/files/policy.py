# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ownership and permission policy for files, as plain functions over plain data.

The file_policy module is a thin wrapper around this library. Nothing here
imports Ansible, so it is unit-tested directly. Every function that touches
the system takes the system call as a parameter (glob, stat, user lookups),
which keeps the policy logic testable with plain data.
"""

from __future__ import annotations

import collections
import glob
import grp
import os
import pwd
import re
import stat

# Permission bits a policy can govern: rwx for user/group/other plus
# setuid, setgid and sticky. File type bits are never touched.
PERMISSION_BITS = 0o7777

# Characters that make a path a glob pattern (as glob.glob understands it).
GLOB_CHARACTERS = frozenset("*?[")

# Three or four octal digits after an optional leading 0 or Python's 0o prefix.
MODE_PATTERN = re.compile(r"^(?:0o|0)?([0-7]{3,4})$")

# What we know about one file: numeric owner, group and permission bits.
FileState = collections.namedtuple("FileState", ["uid", "gid", "mode"])

# The outcome of planning one rule for one path. before/after are FileState,
# or None when the file does not exist.
PlannedFile = collections.namedtuple("PlannedFile", ["path", "exists", "before", "after"])


class PolicyError(Exception):
    """A policy cannot be applied as written (bad mode, unknown user, missing file)."""


def parse_mode(value):
    """Return the permission bits that a rule's mode stands for.

    Strings are octal ("0644", "644", "04755"). Integers are taken as the
    mode itself, as ansible.builtin.file does, because YAML reads an
    unquoted 0644 as the integer 420 and converting that back to the
    string "420" would silently mean a different mode.
    """
    if isinstance(value, bool):
        raise PolicyError("mode must be an octal string such as '0644', not a boolean")
    if isinstance(value, int):
        if 0 <= value <= PERMISSION_BITS:
            return value
        raise PolicyError("mode %r is out of range (0 to 07777)" % value)
    match = MODE_PATTERN.match(str(value).strip())
    if not match:
        raise PolicyError("mode %r is not an octal mode such as '0644'" % (value,))
    return int(match.group(1), 8)


def format_mode(mode):
    """Render permission bits the way people write them: 0644, 04755."""
    return "0%03o" % (mode & PERMISSION_BITS)


def is_glob(path):
    """True when the path contains glob wildcards and must be expanded."""
    return any(character in GLOB_CHARACTERS for character in path)


def expand_rules(rules, glob_fn=glob.glob):
    """Turn rules whose path may be a glob into one rule per concrete path.

    A glob that matches nothing is kept as a single rule with the pattern as
    its path: it then reads as a missing file, so state_if_missing decides
    whether that is fine (registry certificates are optional) or an error.
    Matches are sorted so results and diffs are stable from run to run.
    """
    expanded = []
    for rule in rules:
        path = rule["path"]
        matches = sorted(glob_fn(path)) if is_glob(path) else []
        for concrete_path in matches or [path]:
            concrete_rule = dict(rule)
            concrete_rule["path"] = concrete_path
            expanded.append(concrete_rule)
    return expanded


def read_state(path, stat_fn=os.stat):
    """Return the FileState of path, or None when it does not exist.

    os.stat follows symlinks on purpose: systemd units are often symlinks
    and the policy is about the file the daemon actually reads.
    """
    try:
        result = stat_fn(path)
    except FileNotFoundError:
        return None
    return FileState(result.st_uid, result.st_gid, stat.S_IMODE(result.st_mode))


def resolve_uid(owner, getpwnam=pwd.getpwnam):
    """Numeric uid for a user name (or a numeric string); None means leave as is."""
    if owner is None:
        return None
    try:
        return getpwnam(owner).pw_uid
    except KeyError:
        if str(owner).isdigit():
            return int(owner)
        raise PolicyError("user '%s' does not exist on this host" % owner)


def resolve_gid(group, getgrnam=grp.getgrnam):
    """Numeric gid for a group name (or a numeric string); None means leave as is."""
    if group is None:
        return None
    try:
        return getgrnam(group).gr_gid
    except KeyError:
        if str(group).isdigit():
            return int(group)
        raise PolicyError("group '%s' does not exist on this host" % group)


def target_mode(current_mode, policy_mode, exact_mode=False):
    """The mode a file should end up with under a policy.

    By default the policy mode is a maximum: bits beyond it are cleared and
    no bit is ever added, so a 0600 key stays 0600 under a 0644 rule.
    Setuid, setgid and sticky are ordinary bits here, so a 0755 maximum
    strips them from a 04755 file.
    """
    if exact_mode:
        return policy_mode & PERMISSION_BITS
    return current_mode & policy_mode & PERMISSION_BITS


def plan_change(rule, current, getpwnam=pwd.getpwnam, getgrnam=grp.getgrnam):
    """Return the FileState a file must have to satisfy rule, given its current state.

    current is the FileState read now (None for a missing file, which yields
    None: nothing can be planned for it). The result equals current when the
    file already complies; the caller compares the two to decide on a change.
    """
    if current is None:
        return None
    uid = resolve_uid(rule.get("owner"), getpwnam)
    gid = resolve_gid(rule.get("group"), getgrnam)
    mode = target_mode(current.mode, parse_mode(rule["mode"]), rule.get("exact_mode", False))
    return FileState(
        current.uid if uid is None else uid,
        current.gid if gid is None else gid,
        mode,
    )


def plan_all(rules, read_state_fn=read_state, glob_fn=glob.glob,
             getpwnam=pwd.getpwnam, getgrnam=grp.getgrnam):
    """Plan every rule before anything changes; return a list of PlannedFile.

    Planning first means a bad mode, an unknown user or a required missing
    file fails the whole run before a single file is touched. A path that
    several rules match is planned against the state the earlier rules leave
    behind, so applying the plans in order never undoes an earlier one.
    """
    planned_states = {}
    missing_required = []
    plans = []
    for rule in expand_rules(rules, glob_fn):
        path = rule["path"]
        before = planned_states[path] if path in planned_states else read_state_fn(path)
        if before is None and rule.get("state_if_missing", "ignore") == "fail":
            missing_required.append(path)
        after = plan_change(rule, before, getpwnam, getgrnam)
        planned_states[path] = after
        plans.append(PlannedFile(path, before is not None, before, after))
    if missing_required:
        raise PolicyError("required file(s) missing: %s" % ", ".join(missing_required))
    return plans


def needs_change(plan):
    """True when applying the plan would change the file."""
    return plan.exists and plan.before != plan.after


def apply_plan(plan, chown_fn=os.chown, chmod_fn=os.chmod, read_state_fn=read_state):
    """Make the file match plan.after. Follows symlinks, like read_state.

    chown comes first because the kernel clears setuid/setgid when a file
    changes owner; the chmod afterwards (checked against a fresh stat)
    restores the planned mode whatever chown did to it.
    """
    if not needs_change(plan):
        return
    before, after = plan.before, plan.after
    if (before.uid, before.gid) != (after.uid, after.gid):
        chown_fn(plan.path, after.uid, after.gid)
    now = read_state_fn(plan.path)
    if now is None or now.mode != after.mode:
        chmod_fn(plan.path, after.mode)


def user_name(uid, getpwuid=pwd.getpwuid):
    """Name of a uid, or the number itself when no user has it."""
    try:
        return getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid, getgrgid=grp.getgrgid):
    """Name of a gid, or the number itself when no group has it."""
    try:
        return getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def describe(state, getpwuid=pwd.getpwuid, getgrgid=grp.getgrgid):
    """One human line for a file's state: 'root:docker 0660', or 'absent'."""
    if state is None:
        return "absent"
    return "%s:%s %s" % (
        user_name(state.uid, getpwuid),
        group_name(state.gid, getgrgid),
        format_mode(state.mode),
    )


def diff_text(plans, side, describe_fn=describe):
    """Diff text for one side ('before' or 'after'): one 'path: owner:group mode' line per file."""
    lines = ["%s: %s" % (plan.path, describe_fn(getattr(plan, side))) for plan in plans]
    return "".join(line + "\n" for line in lines)


def report(plan, describe_fn=describe):
    """The module's per-file result entry."""
    return {
        "path": plan.path,
        "exists": plan.exists,
        "changed": needs_change(plan),
        "before": describe_fn(plan.before) if plan.exists else None,
        "after": describe_fn(plan.after) if plan.exists else None,
    }
