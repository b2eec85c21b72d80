# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Many whole files and directories a role owns, planned together and written in one pass.

The managed_files module is a thin wrapper around this library: one round
trip writes every file of a role's areas instead of one copy/file task per
file (each task costs a round trip, and an ansible.builtin.copy two).

    plans = plan([{"path": "/etc/docker/tls", "state": "directory", "mode": "0700"},
                  {"path": "/etc/docker/tls/key.pem", "content": key, "mode": "0400", "secret": True}])
    apply(plans)   # directories first, then files, then removals; each in list order

Planning reads only, and checks every entry before anything changes: a bad
mode, an unknown user, a file where a directory should be, a missing parent
directory or a symlink fail the whole run with nothing written. apply() then
creates directories (mode enforced), writes files whose content differs
through textfiles.write_atomic (a temporary file in the same directory,
fsynced, owner, group and mode set before it is renamed into place), fixes
owner, group and mode of unchanged ones through a descriptor that never
follows a symlink, and removes what must be absent. Each change first checks
that the path is still the file that was planned for.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.files import policy

STATES = ("file", "directory", "absent")
DEFAULT_OWNER = "root"
DEFAULT_GROUP = "root"
# What a diff shows instead of a secret entry's content.
SECRET_MASK = "(secret content, not shown)\n"
SECRET_CHANGED_MASK = "(new secret content, not shown)\n"

_KINDS = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "directory"), (stat.S_ISLNK, "symlink"))


class ManagedFileError(Exception):
    """An entry cannot be planned or applied as written; the message names the path."""


class Found(object):
    """What lstat found at a path: its kind, owner, group, mode and identity (st_dev, st_ino)."""

    __slots__ = ("kind", "uid", "gid", "mode", "identity")

    def __init__(self, kind, uid, gid, mode, identity):
        self.kind = kind
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.identity = identity


def inspect(path, lstat_fn=os.lstat):
    """The Found at path (the last component never followed), or None when nothing is there."""
    try:
        result = lstat_fn(path)
    except FileNotFoundError:
        return None
    kind = next((name for check, name in _KINDS if check(result.st_mode)), "special file")
    return Found(kind, result.st_uid, result.st_gid, stat.S_IMODE(result.st_mode), (result.st_dev, result.st_ino))


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


class Plan(object):
    """One entry's planned change.

    before: the Found (None: absent); uid/gid/mode: what the path must have
    (None for state=absent); data: the content as bytes (state=file);
    old_data: the current content (an existing file). create, write, chown,
    chmod and remove say what apply() does; changes says it for people.
    """

    def __init__(self, path, state, secret=False):
        self.path = path
        self.state = state
        self.secret = secret
        self.before = None
        self.uid = self.gid = self.mode = None
        self.data = self.old_data = None
        self.create = self.write = self.chown = self.chmod = self.remove = False
        self.changes = []

    @property
    def changed(self):
        return bool(self.changes)

    def report(self):
        """The module's entry for this path (never any content)."""
        return {"path": self.path, "state": self.state, "changed": self.changed, "changes": list(self.changes)}

    def diff(self):
        """Entries for Ansible's diff list: the content (masked when secret), then owner, group and mode."""
        if not self.changed:
            return []
        entries = []
        if self.write or (self.remove and self.before.kind == "file"):
            entries.append(dict(
                before_header=self.path if self.before is not None else "%s (absent)" % self.path,
                after_header=self.path if not self.remove else "%s (absent)" % self.path,
                before=self._shown(self.old_data, changed=False), after=self._shown(self.data, changed=True)))
        if self.before is None or self.chown or self.chmod or self.remove:
            header = "%s (owner, group, mode)" % self.path
            entries.append(dict(before_header=header, after_header=header,
                                before=self._attributes("before"), after=self._attributes("after")))
        return entries

    def _shown(self, data, changed):
        if data is None:
            return ""
        if self.secret:
            return SECRET_CHANGED_MASK if changed else SECRET_MASK
        return data.decode("utf-8", errors="replace")

    def _attributes(self, side):
        if side == "before":
            found = self.before
            if found is None:
                return "state: absent\n"
            state, uid, gid, mode = found.kind, found.uid, found.gid, found.mode
        else:
            if self.state == "absent":
                return "state: absent\n"
            state, uid, gid, mode = self.state, self.uid, self.gid, self.mode
        return "state: %s\nowner: %s\ngroup: %s\nmode: %s\n" % (
            state, policy.user_name(uid), policy.group_name(gid), policy.format_mode(mode))


def plan(entries, inspect_fn=inspect, read_fn=read_bytes, getpwnam=pwd.getpwnam, getgrnam=grp.getgrnam,
         listdir=os.listdir):
    """Plan every entry (dicts as the module takes them) before anything changes; a list of Plan in input order.

    Raises ManagedFileError naming every entry that cannot be planned.
    """
    names = {"getpwnam": getpwnam, "getgrnam": getgrnam}
    problems = []
    plans = []
    seen = set()
    # Directories the plan creates, in list order: a file may go into any of
    # them, a directory only into one created before it.
    planned_dirs = []
    for index, entry in enumerate(entries):
        try:
            path = _checked_path(entry.get("path"), index, seen)
        except ManagedFileError as error:
            problems.append(str(error))
            continue
        try:
            item = _plan_one(entry, path, inspect_fn, read_fn, names, listdir)
        except ManagedFileError as error:
            problems.append(str(error))
            continue
        except (policy.PolicyError, OSError) as error:
            problems.append("%s: %s" % (path, getattr(error, "strerror", None) or error))
            continue
        plans.append(item)
        if item.state == "directory":
            planned_dirs.append(path)
    for item in plans:
        if item.before is None and item.state != "absent":
            problems.extend(_parent_problems(item, inspect_fn, planned_dirs))
    if problems:
        raise ManagedFileError("; ".join(problems))
    return plans


def _checked_path(path, index, seen):
    if not path or not isinstance(path, str):
        raise ManagedFileError("entry %d: a path is required" % (index + 1))
    if not os.path.isabs(path):
        raise ManagedFileError("%s: the path must be absolute" % path)
    normal = os.path.normpath(path)
    if normal != path.rstrip("/") or normal == "/":
        raise ManagedFileError("%s: give the path in its plain form (%s)" % (path, normal))
    if normal in seen:
        raise ManagedFileError("%s: the path is given more than once" % path)
    seen.add(normal)
    return normal


def _plan_one(entry, path, inspect_fn, read_fn, names, listdir):
    state = entry.get("state") or "file"
    if state not in STATES:
        raise ManagedFileError("%s: state must be one of %s, not %r" % (path, ", ".join(STATES), state))
    item = Plan(path, state, bool(entry.get("secret")))
    content = entry.get("content")
    if content is not None and state != "file":
        raise ManagedFileError("%s: content is only for state=file" % path)
    if state == "file" and content is None:
        raise ManagedFileError("%s: state=file needs content" % path)
    item.before = inspect_fn(path)
    if state == "absent":
        return _plan_absent(item, read_fn, listdir)
    if entry.get("mode") is None:
        raise ManagedFileError("%s: state=%s needs a mode, such as '0644'" % (path, state))
    item.mode = policy.parse_mode(entry["mode"])
    item.uid = policy.resolve_uid(entry.get("owner") or DEFAULT_OWNER, names["getpwnam"])
    item.gid = policy.resolve_gid(entry.get("group") or DEFAULT_GROUP, names["getgrnam"])
    found = item.before
    if found is not None and found.kind != state:
        what = "a symlink (never followed or replaced)" if found.kind == "symlink" else "a %s" % found.kind
        raise ManagedFileError("%s: is %s, not a %s; it was left alone" % (path, what, state))
    if state == "file":
        item.data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if found is None:
        item.create = state == "directory"
        item.write = state == "file"
        item.changes.append("created")
        return item
    if state == "file":
        item.old_data = read_fn(path)
        if item.old_data != item.data:
            item.write = True
            item.changes.append("content")
    if found.uid != item.uid:
        item.chown = True
        item.changes.append("owner: %s -> %s" % (policy.user_name(found.uid), policy.user_name(item.uid)))
    if found.gid != item.gid:
        item.chown = True
        item.changes.append("group: %s -> %s" % (policy.group_name(found.gid), policy.group_name(item.gid)))
    if found.mode != item.mode:
        item.chmod = True
        item.changes.append("mode: %s -> %s" % (policy.format_mode(found.mode), policy.format_mode(item.mode)))
    return item


def _plan_absent(item, read_fn, listdir):
    """A file, symlink (the link itself) or empty directory is removed; a directory with content is refused."""
    found = item.before
    if found is None:
        return item
    if found.kind == "directory" and listdir(item.path):
        raise ManagedFileError("%s: is a directory that is not empty; it was left alone" % item.path)
    if found.kind == "file":
        item.old_data = read_fn(item.path)
    item.remove = True
    item.changes.append("removed")
    return item


def _parent_problems(item, inspect_fn, planned_dirs):
    """A new file or directory needs its parent: on disk, or created by the plan (a directory: earlier)."""
    parent = os.path.dirname(item.path)
    if item.state == "directory":
        created = planned_dirs[:planned_dirs.index(item.path)]
    else:
        created = planned_dirs
    if parent in created:
        return []
    found = inspect_fn(parent)
    if found is not None and (found.kind == "directory" or (found.kind == "symlink" and os.path.isdir(parent))):
        return []  # (a directory reached through a link, as /var/run -> /run, is one too)
    return ["%s: its directory %s does not exist; add it as a state=directory entry%s"
            % (item.path, parent, " before this one" if item.state == "directory" else "")]


def apply(plans, open_fn=policy.open_descriptor, inspect_fn=inspect):
    """Carry out the plans: directories, then files, then removals, each in list order.

    Returns the paths changed, in that order. Raises ManagedFileError (with
    the paths changed so far in .done) when a change fails or a path is no
    longer what was planned for.
    """
    done = []
    order = [item for item in plans if item.state == "directory"] + \
            [item for item in plans if item.state == "file"] + \
            [item for item in plans if item.state == "absent"]
    for item in order:
        if not item.changed:
            continue
        try:
            _apply_one(item, open_fn, inspect_fn)
        except OSError as error:
            failure = ManagedFileError("cannot change %s: %s" % (item.path, error.strerror or error))
            failure.done = done
            raise failure
        except ManagedFileError as error:
            error.done = done
            raise
        done.append(item.path)
    return done


def _apply_one(item, open_fn, inspect_fn):
    if item.remove:
        _check_unchanged(item, inspect_fn)
        if item.before.kind == "directory":
            os.rmdir(item.path)
        else:
            os.unlink(item.path)
    elif item.create:
        _make_directory(item, inspect_fn)
    elif item.write:
        textfiles.write_atomic(item.path, item.data, item.mode, item.uid, item.gid,
                               before_rename=lambda: _check_unchanged(item, inspect_fn))
    else:
        _fix_attributes(item, open_fn)


def _check_unchanged(item, inspect_fn):
    """The path must still be what planning found (absent, or the same file)."""
    now = inspect_fn(item.path)
    before = item.before
    if (now is None) != (before is None) or (now is not None and (now.kind, now.identity) != (before.kind, before.identity)):
        raise ManagedFileError("%s changed after it was checked (another process?); it was left alone" % item.path)


def _make_directory(item, inspect_fn):
    _check_unchanged(item, inspect_fn)
    # Created for the owner only, then handed over, then opened up to the mode asked for.
    os.mkdir(item.path, 0o700)
    fd = os.open(item.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        now = os.fstat(fd)
        if (now.st_uid, now.st_gid) != (item.uid, item.gid):
            os.fchown(fd, item.uid, item.gid)
        os.fchmod(fd, item.mode)
    finally:
        os.close(fd)


def _fix_attributes(item, open_fn):
    try:
        handle = open_fn(item.path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ManagedFileError("%s became a symlink after it was checked; it was left alone" % item.path)
        raise
    try:
        now = handle.stat()
        if stat.S_ISLNK(now.st_mode) or (now.st_dev, now.st_ino) != item.before.identity:
            raise ManagedFileError("%s was replaced after it was checked; it was left alone" % item.path)
        if item.chown and (now.st_uid, now.st_gid) != (item.uid, item.gid):
            handle.chown(item.uid, item.gid)
            now = handle.stat()
        if stat.S_IMODE(now.st_mode) != item.mode:
            handle.chmod(item.mode)
    finally:
        handle.close()


def changed_paths(plans):
    """Paths the plans change, in input order."""
    return [item.path for item in plans if item.changed]


def diff(plans):
    """Ansible's diff list for every changed entry, in input order."""
    return [entry for item in plans for entry in item.diff()]
