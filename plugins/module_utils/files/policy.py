# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Ownership and permission policy for files, as plain functions over plain data.

The file_policy module is a thin wrapper around this library. Nothing here
imports Ansible, so it is unit-tested directly. Every function that touches
the system takes the system call as a parameter (glob, lstat, opening a
file, user lookups), which keeps the policy logic testable with plain data.

Symlinks are never followed in the last component of a path: a symlink is
reported with its target and never changed (a systemd unit masked by a link
to /dev/null must not turn /dev/null into 0644). Changes are made through a
file descriptor opened without following symlinks and checked to be the very
file the plan was made from, so a path swapped between planning and applying
is refused instead of changed.
"""

from __future__ import annotations

import collections
import errno
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

# One path as lstat found it: its FileState, which file it is ((st_dev, st_ino),
# checked again before any change) and, for a symlink, where it points (else None).
FoundFile = collections.namedtuple("FoundFile", ["state", "identity", "link_target"])

# The outcome of planning one rule for one path. before/after are FileState,
# or None when the file does not exist or is a symlink (link_target is then
# set, and nothing is planned). identity is the FoundFile's.
PlannedFile = collections.namedtuple("PlannedFile", ["path", "exists", "before", "after", "identity", "link_target"])

# Opening a file to change it: never through a symlink, never blocking on a
# FIFO, never making a tty the controlling terminal, not leaked to children.
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
# O_PATH (Linux) gives a descriptor for a file that cannot be opened for reading:
# a socket (ENXIO), or a file the user may chmod but not read (EACCES).
O_PATH = getattr(os, "O_PATH", 0)
PATH_ONLY_ERRORS = frozenset([errno.ENXIO, errno.EACCES])


class PolicyError(ValueError):
    """A policy cannot be applied as written or is not usable; the message names what and why.

    The one error of every policy: a file policy (bad mode, unknown user, missing file) and the remediation
    policy (remediate/policy.py: a value, override or exemption). A ValueError, as bad input is.
    """


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


def _no_trailing_slash(path):
    """path without trailing slashes: 'dir/' would make the kernel follow a symlink named dir."""
    stripped = path.rstrip("/")
    return stripped or path


def read_state(path, lstat_fn=os.lstat, readlink_fn=os.readlink):
    """Return the FoundFile for path, or None when it does not exist.

    The last component is never followed (lstat): a symlink is found as a
    symlink, with its target. Directories in the middle of the path may be
    symlinks (/var/run -> /run) and are followed, as the kernel does.
    """
    path = _no_trailing_slash(path)
    try:
        result = lstat_fn(path)
    except FileNotFoundError:
        return None
    link_target = readlink_fn(path) if stat.S_ISLNK(result.st_mode) else None
    return FoundFile(FileState(result.st_uid, result.st_gid, stat.S_IMODE(result.st_mode)),
                     (result.st_dev, result.st_ino), link_target)


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
    A symlink gets no plan (it is never changed), but its rule is still
    checked, so a bad rule fails whatever the path turns out to be.
    """
    found_files = {}
    missing_required = []
    plans = []
    for rule in expand_rules(rules, glob_fn):
        path = rule["path"]
        found = found_files[path] if path in found_files else read_state_fn(path)
        if found is None:
            if rule.get("state_if_missing", "ignore") == "fail":
                missing_required.append(path)
            plans.append(PlannedFile(path, False, None, None, None, None))
        elif found.link_target is not None:
            plan_change(rule, found.state, getpwnam, getgrnam)
            plans.append(PlannedFile(path, True, None, None, found.identity, found.link_target))
        else:
            after = plan_change(rule, found.state, getpwnam, getgrnam)
            plans.append(PlannedFile(path, True, found.state, after, found.identity, None))
            found = found._replace(state=after)
        found_files[path] = found
    if missing_required:
        raise PolicyError("required file(s) missing: %s" % ", ".join(missing_required))
    return plans


def needs_change(plan):
    """True when applying the plan would change the file (never for a symlink)."""
    return plan.exists and plan.link_target is None and plan.before != plan.after


class Descriptor(object):
    """One file, held open by descriptor so every change lands on that very inode.

    path_only descriptors (O_PATH) cannot be passed to fchown/fchmod; they are
    changed through /proc/self/fd/<fd>, a link the kernel resolves to the
    inode the descriptor holds, whatever the original path points to now.
    """

    __slots__ = ("fd", "path_only")

    def __init__(self, fd, path_only):
        self.fd = fd
        self.path_only = path_only

    def _proc_path(self):
        return "/proc/self/fd/%d" % self.fd

    def stat(self):
        return os.fstat(self.fd)

    def chown(self, uid, gid):
        if self.path_only:
            os.chown(self._proc_path(), uid, gid)
        else:
            os.fchown(self.fd, uid, gid)

    def chmod(self, mode):
        if self.path_only:
            os.chmod(self._proc_path(), mode)
        else:
            os.fchmod(self.fd, mode)

    def close(self):
        os.close(self.fd)


def open_descriptor(path, open_fn=os.open):
    """Open path itself, never a symlink's target, and return a Descriptor.

    Files that cannot be opened for reading (sockets: ENXIO; unreadable
    files: EACCES) are opened with O_PATH instead. A path that became a
    symlink since it was planned fails with ELOOP (or is caught by the
    identity check for O_PATH, which opens the link itself).
    """
    path = _no_trailing_slash(path)
    try:
        return Descriptor(open_fn(path, OPEN_FLAGS), False)
    except OSError as error:
        if error.errno not in PATH_ONLY_ERRORS or not O_PATH:
            raise
    return Descriptor(open_fn(path, O_PATH | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)), True)


def apply_plan(plan, open_fn=open_descriptor):
    """Make the file match plan.after, through a descriptor; never through a symlink.

    The descriptor must hold the file the plan was made from (same st_dev and
    st_ino, not a symlink); otherwise the path was replaced in between and
    nothing is changed. chown comes first because the kernel clears
    setuid/setgid when a file changes owner; the chmod afterwards (checked
    against a fresh fstat) restores the planned mode whatever chown did to it.
    """
    if not needs_change(plan):
        return
    after = plan.after
    try:
        handle = open_fn(plan.path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise PolicyError("%s became a symlink after it was checked; it was left alone" % plan.path)
        raise PolicyError("cannot apply policy to %s: %s" % (plan.path, error.strerror or error))
    try:
        now = handle.stat()
        if stat.S_ISLNK(now.st_mode) or (now.st_dev, now.st_ino) != plan.identity:
            raise PolicyError("%s was replaced by another file after it was checked; it was left alone" % plan.path)
        if (now.st_uid, now.st_gid) != (after.uid, after.gid):
            handle.chown(after.uid, after.gid)
            now = handle.stat()
        if stat.S_IMODE(now.st_mode) != after.mode:
            handle.chmod(after.mode)
    except OSError as error:
        # Typically a chown without privilege: name the file and the reason.
        raise PolicyError("cannot apply policy to %s: %s" % (plan.path, error.strerror or error))
    finally:
        handle.close()


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


def describe_plan(plan, side, describe_fn=describe):
    """One human line for one side ('before' or 'after') of a plan; a symlink says where it points."""
    if plan.link_target is not None:
        return "symlink to %s, not followed" % plan.link_target
    return describe_fn(getattr(plan, side))


def diff_text(plans, side, describe_fn=describe):
    """Diff text for one side ('before' or 'after'): one 'path: owner:group mode' line per file."""
    lines = ["%s: %s" % (plan.path, describe_plan(plan, side, describe_fn)) for plan in plans]
    return "".join(line + "\n" for line in lines)


def report(plan, describe_fn=describe):
    """The module's per-file result entry."""
    shown = plan.exists and plan.link_target is None
    return {
        "path": plan.path,
        "exists": plan.exists,
        "symlink": plan.link_target is not None,
        "link_target": plan.link_target,
        "changed": needs_change(plan),
        "before": describe_fn(plan.before) if shown else None,
        "after": describe_fn(plan.after) if shown else None,
    }
