# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The journal of replacements in progress: what an interrupted run leaves, recorded so the next run can finish or undo it.

The Engine cannot add a label to an existing container, so the facts a recovery needs (the original
name and restart policy, whether it ran, the old and new ids, the step reached) live on the host, in a
root-only directory (0700; by default /var/lib/bulwark/remediate): one JSON file per replacement in
progress, replacing-<old id>.json, written atomically (a temporary file, fsync, rename) before each step
that changes something. Only what a journal entry records is ever touched by a recovery (DESIGN
principle 16): a container merely named like one set aside is left alone.

One run at a time: a run holds an exclusive lock on <directory>/.lock (flock) from its start, or from
its first replacement, to its end; the kernel releases it when the process ends, even by SIGKILL. So a
journal entry found while the lock is free is an interrupted run's, never one in progress.

Test hook: with BULWARK_REMEDIATE_KILL_AT=<step> in its environment, the module kills itself with
SIGKILL right after recording that step (before doing it), as a kill -9 or a lost SSH session would.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import signal
import tempfile

from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import make_private_dir, private_dir_problem

DEFAULT_STATE_DIR = "/var/lib/bulwark/remediate"
KILL_AT = "BULWARK_REMEDIATE_KILL_AT"
ENTRY_PREFIX = "replacing-"
LOCK_FILE = ".lock"
FORMAT = 1

# The steps of a replacement, in order (execute.recreate). Each is recorded before it is done.
STEPS = (
    "create",           # the replacement is created under a temporary name, restart policy `no`
    "connect",          # connected to its other networks
    "rename_old",       # the old container renamed aside
    "restart_off",      # the old container's restart policy set to `no`
    "stop_old",         # the old container stopped
    "rename_new",       # the replacement takes the original name
    "start_new",        # the replacement started
    "verify",           # watched for the grace period: running, not restarted, healthy, answering
    "restore_restart",  # the replacement gets the original restart policy (it stands from here on)
    "remove_old",       # the old container removed, its volumes kept
    "done",             # the entry is deleted
)
# From this step on the replacement is verified: a recovery finishes it; before, a recovery undoes it.
COMMITTED = STEPS.index("restore_restart")


class JournalError(Exception):
    """The journal directory cannot be used; the message says why."""


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def committed(step):
    return step in STEPS and STEPS.index(step) >= COMMITTED


def kill_hook(step, environ=None):
    """The fault-injection hook: SIGKILL this process when BULWARK_REMEDIATE_KILL_AT names the step."""
    environ = os.environ if environ is None else environ
    if environ.get(KILL_AT) == step:
        os.kill(os.getpid(), signal.SIGKILL)


class Journal(object):
    """One directory of entries (dicts); record() writes one atomically, then runs the kill hook."""

    def __init__(self, directory=DEFAULT_STATE_DIR, hook=kill_hook):
        self.directory = directory
        self.hook = hook
        self._lock = None

    def exists(self):
        return os.path.isdir(self.directory)

    def lock(self):
        """Take the directory's run lock (kept until this process ends); False when another run holds it."""
        if self._lock is not None:
            return True
        descriptor = os.open(os.path.join(self.directory, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            return False
        self._lock = descriptor
        return True

    def path_of(self, entry):
        return os.path.join(self.directory, "%s%s.json" % (ENTRY_PREFIX, entry["old_id"][:12]))

    def problem(self):
        """Why entries cannot be kept here (None when they can): checked before any replacement."""
        problem = private_dir_problem(self.directory)
        if problem:
            return problem
        try:
            make_private_dir(self.directory)
            if not self.lock():
                return "another container_remediate run holds %s" % os.path.join(self.directory, LOCK_FILE)
        except OSError as error:
            return "cannot create %s: %s" % (self.directory, error.strerror or error)
        return None

    def entries(self):
        """[(path, entry)] of the entries there, oldest first; unreadable files as (path, None)."""
        if private_dir_problem(self.directory) or not os.path.isdir(self.directory):
            return []
        found = []
        for name in sorted(os.listdir(self.directory)):
            if not (name.startswith(ENTRY_PREFIX) and name.endswith(".json")):
                continue
            path = os.path.join(self.directory, name)
            try:
                with open(path, "r", encoding="utf-8") as handle:
                    entry = json.load(handle)
            except (OSError, ValueError):
                entry = None
            found.append((path, entry if isinstance(entry, dict) and entry.get("old_id") else None))
        return sorted(found, key=lambda item: (item[1] or {}).get("started", ""))

    def record(self, entry, step):
        """Write the entry at this step (atomically, durably), then give the kill hook its chance."""
        entry["step"] = step
        entry["format"] = FORMAT
        write_atomically(self.path_of(entry), json.dumps(entry, indent=1, sort_keys=True) + "\n")
        self.hook(step)

    def forget(self, entry):
        try:
            os.unlink(self.path_of(entry))
        except FileNotFoundError:
            pass


def write_atomically(path, text, mode=0o600):
    """Replace path by text: a temporary file in the same directory, fsync, rename, fsync of the directory."""
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
