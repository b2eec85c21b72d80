# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Whole files a role owns: planned first, written atomically, shown as a diff.

A FileChange says what a file holds now and what it should hold (None:
absent). Planning reads only; apply() writes through a temporary file in the
same directory and renames it over the old one, so a reader never sees half
a file, and restore() puts the old content back when a later check (sshd -t,
augenrules) refuses the new one.
"""

from __future__ import annotations

import os
import tempfile

# Mode of a file the plan creates; an existing file keeps its own.
DEFAULT_MODE = 0o644


class FileChange(object):
    """One file's planned content. after None means the file must not exist."""

    def __init__(self, path, before, after, mode=DEFAULT_MODE):
        self.path = path
        self.before = before
        self.after = after
        self.mode = mode

    @property
    def changed(self):
        return self.before != self.after

    def diff(self):
        """An entry for Ansible's diff list (absent files shown as empty)."""
        return dict(before_header=self.path, after_header=self.path,
                    before=self.before or "", after=self.after or "")

    def describe(self):
        if self.after is None:
            return "remove %s" % self.path
        return ("create %s" if self.before is None else "rewrite %s") % self.path


def read_text(path, none_on=(FileNotFoundError,), errors="strict", newline=None):
    """A UTF-8 file's text; None when reading it fails with one of the none_on exceptions. The one text reader.

    Each caller says what a failure means to it:
    - none_on: (FileNotFoundError,) (the default) when an absent file is a state like any other and any other
      failure is an error; (OSError,) when an unreadable file is only an unknown fact (host facts); () when the
      caller reports every failure itself (sshd's key files, with the reason).
    - errors: "strict" raises UnicodeDecodeError on bytes that are not UTF-8 (a file about to be rewritten);
      "replace" reads them as U+FFFD (text that is only parsed or shown).
    - newline: as open()'s; None reads every line end as "\\n", "" keeps them as they are (a file compared or
      diffed byte for byte).
    """
    try:
        with open(path, "r", encoding="utf-8", errors=errors, newline=newline) as handle:
            return handle.read()
    except none_on:
        return None


def plan_file(path, content, mode=DEFAULT_MODE):
    """FileChange to make path hold content (None: remove it)."""
    return FileChange(path, read_text(path), content, mode)


def write_atomic(path, content, mode, uid=None, gid=None, before_rename=None):
    """Make path hold content (text, written as UTF-8, or bytes), all at once.

    The content goes to a temporary file in the same directory (mkstemp: 0600,
    readable by nobody else while it is written), gets its owner and group
    (uid/gid None: the writer's) and then its mode, is fsynced and renamed
    over path; the directory is fsynced too, so the rename survives a crash.
    A reader sees the old file or the new one, never half of one, and a key
    is never readable by anyone else, not even for a moment. The directory
    must exist. before_rename, when given, is called just before the rename
    (a last check that path is still what the caller planned for).
    """
    directory = os.path.dirname(path) or "."
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # chown first: it may clear setuid/setgid bits, which the chmod then sets as asked.
            if (uid is not None and uid != os.fstat(handle.fileno()).st_uid) or \
                    (gid is not None and gid != os.fstat(handle.fileno()).st_gid):
                os.fchown(handle.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())  # content, owner and mode on disk before the rename
        if before_rename is not None:
            before_rename()
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename itself is done
    finally:
        os.close(fd)


def _write(path, content, mode):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    # An existing file keeps its mode; a new one gets the planned mode.
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        pass
    write_atomic(path, content, mode)


def _put(path, content, mode):
    if content is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    else:
        _write(path, content, mode)


def apply(change):
    """Write the planned content (or remove the file); nothing when unchanged."""
    if change.changed:
        _put(change.path, change.after, change.mode)


def restore(change):
    """Put back what the file held before apply()."""
    if change.changed:
        _put(change.path, change.before, change.mode)
