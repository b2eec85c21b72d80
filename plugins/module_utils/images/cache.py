# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Layer scans cached on the host, one JSON file per image id.

An image id is the digest of the image's config, which names every layer
(rootfs.diff_ids): the same id is the same filesystem, so a scan stays valid
for as long as the id exists. Invalidation is by id only, never by name: a
tag moved to another image simply finds no file for the new id.

Files: <cache_dir>/<64 hex digits of the id>.json holding
{"format": FORMAT, "image_id": "sha256:...", "scan": LayerScan.to_dict()}.
A file that is not valid JSON, has another format, names another image or
does not have a scan's shape (images.scan.LayerScan.from_dict: text a scan
never makes, such as an undecodable byte an older version cached, included)
is ignored (counted), rescanned and rewritten: never fatal. A scan that
stopped at a cap (LayerScan.incomplete) is never cached. The directory is
created with mode 0700, files are written 0600 through a temporary file and
a rename, so a reader never sees half a file; a file is opened without
following a symlink and used only when it is ours and not writable by others.

The cache decides findings, so it must not be writable by others: a
directory that is writable by group or others, or owned by another user
than root or the one running the audit, or one with such a parent
(common.private_dir), is not used at all (every image is scanned, nothing
is written) and the stats say why. The check runs each time the cache is
read or written, not once per run.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile

from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import make_private_dir, private_dir_problem
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import LayerScan

# Bump when LayerScan's fields or what the scan looks for change: older files are then rescanned.
# 2: names shown escaped (common.safe_text), LayerScan.incomplete.
# 3: every layer read from docker save: secret files of every layer with their layer and removal, setuid/setgid
#    files of the merged view, layer and removal counts.
# 4: secret files say which OS package they belong to (package, package_source; package_files, packages_read,
#    packages_unread): a scan cached before would report a package file critical.
FORMAT = 4
DEFAULT_CACHE_DIR = "/var/cache/bulwark/image-audit"
IMAGE_ID = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
CACHE_FILE = re.compile(r"^[0-9a-f]{64}\.json$")
MAX_CACHE_FILE = 4 << 20


class ScanCache(object):
    """Read and (when writable) write layer scans by image id; counts hits, misses and ignored files."""

    def __init__(self, directory, write=True):
        self.directory = directory
        self.write = write
        self.hits = 0
        self.misses = 0
        self.written = 0
        self.ignored = 0
        self.removed = 0
        self.unusable = None  # why the directory is not used (the last problem seen), or None

    def _usable(self):
        # Each time: a check is a few lstat calls, and the directory or a parent can change during a run.
        problem = private_dir_problem(self.directory)
        if problem is not None:
            self.unusable = problem
        return problem is None

    def path(self, image_id):
        match = IMAGE_ID.match(image_id or "")
        if match is None:
            raise ValueError("not an image id: %r" % (image_id,))
        return os.path.join(self.directory, match.group(1) + ".json")

    def load(self, image_id):
        """The cached LayerScan of image_id, or None (a miss)."""
        scan = self._read(image_id) if self._usable() else None
        if scan is None:
            self.misses += 1
        else:
            self.hits += 1
        return scan

    def _read(self, image_id):
        try:
            descriptor = os.open(self.path(image_id), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except (OSError, ValueError):
            return None  # absent (a miss), or a symlink: rewritten by store()
        try:
            with os.fdopen(descriptor, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_uid not in (0, os.geteuid()) \
                        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                    raise ValueError("not a file of ours")
                data = handle.read(MAX_CACHE_FILE + 1)
            if len(data) > MAX_CACHE_FILE:
                raise ValueError("too large")
            entry = json.loads(data.decode("utf-8"))
            if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("image_id") != _full_id(image_id):
                raise ValueError("another format or image")
            scan = LayerScan.from_dict(entry.get("scan"))
            if scan.incomplete is not None:
                raise ValueError("an incomplete scan")
            return scan
        except (OSError, ValueError, TypeError, RecursionError):
            self.ignored += 1  # corrupt, foreign or unusable: rescanned and rewritten, never fatal
            return None

    def store(self, image_id, scan):
        """Write the scan of image_id (when writing is on, the directory is usable and the scan complete)."""
        if not self.write or scan.incomplete is not None or not self._usable():
            return False
        make_private_dir(self.directory)
        if not self._usable():  # what was made, or found made meanwhile
            return False
        entry = {"format": FORMAT, "image_id": _full_id(image_id), "scan": scan.to_dict()}
        descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
                json.dump(entry, handle, sort_keys=True)
            os.replace(temporary, self.path(image_id))
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        self.written += 1
        return True

    def prune(self, present_ids):
        """Remove the cached scans of images that no longer exist (present_ids: every local image id)."""
        if not self.write or not self._usable() or not os.path.isdir(self.directory):
            return 0
        keep = set(_full_id(image_id)[len("sha256:"):] + ".json" for image_id in present_ids)
        for name in os.listdir(self.directory):
            if CACHE_FILE.match(name) and name not in keep:
                try:
                    os.unlink(os.path.join(self.directory, name))
                    self.removed += 1
                except OSError:
                    pass
        return self.removed

    def stats(self, bytes_read):
        return {
            "dir": self.directory, "hits": self.hits, "misses": self.misses, "written": self.written,
            "ignored": self.ignored, "removed": self.removed, "bytes_read": bytes_read, "unusable": self.unusable,
        }


def _full_id(image_id):
    match = IMAGE_ID.match(image_id or "")
    if match is None:
        raise ValueError("not an image id: %r" % (image_id,))
    return "sha256:" + match.group(1)
