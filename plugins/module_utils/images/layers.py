# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""One image's layers: each layer tar read as a stream, then the layers put together in their order.

An image is a stack of layer tars. A container sees them merged: a later
layer adds and replaces files, and deletes with whiteouts (an empty entry
`.wh.<name>` deletes <name> of the layers below; `<dir>/.wh..wh..opq`
hides everything the layers below have in <dir>). Docker writes layers in
this form (AUFS style) whatever its storage driver.

`docker save` streams the layer tars in an order of its own (Docker 20.10:
by a layer id; the OCI layout: by digest) and the manifest that says which
layer is above which usually comes last. So each layer is read on its own
(read_layer) into a LayerRecord that stays small whatever the layer holds:

- the setuid/setgid files and secret files it holds (images.scan), with
  their full paths - these are few - and the digests of the secret files'
  content, to compare with what a package database records;
- what its package databases say (images.packages.PackageRecord): which
  packages are installed and, of the files they own, only those that could
  be secret files;
- an 8-byte keyed hash of the path of every other entry, in arrays (about
  8 bytes per entry: 400,000 files take 3.2 MB), by what the entry can do
  to the layers below: a directory, anything else (a file, link or device
  replaces what was at its path, and hides everything below it when that
  was a directory), a whiteout, an opaque directory.

merge() then puts the records in the manifest's order and asks, for each
kept file of layer i, whether a layer above it deleted it (a whiteout of it
or of a parent, an opaque parent, a parent replaced by a non-directory) or
overwrote it (an entry at the same path), and which OS package a secret
file belongs to, after the package databases of the merged view
(images.packages.PackageView). The hashes are keyed with a
random key per scan (blake2b), so no image can be made whose paths collide
with another path on purpose; a collision by chance is 1 in 2^64 per pair.
"""

from __future__ import annotations

import array
import base64
import hashlib
import os
import posixpath
import tarfile

from ansible_collections.bulwark.hardening.plugins.module_utils.images.packages import (
    PACKAGE_FILE_SOURCES, PackageRecord, PackageView, database_kind, read_database,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import (
    CANDIDATE_HINTS, DELETED, MAX_LISTED, MAX_READ, OVERWRITTEN, LayerScan, ScanStopped, candidate, classify, image_path,
    secret_entry, shown_name, shown_path,
)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
# Other names under the .wh..wh. prefix are AUFS's own bookkeeping (.wh..wh.plnk, .wh..wh.aufs), not files.
AUFS_META = ".wh..wh."
# Kept files (setuid/setgid and secret files with their full paths) of one image at most, and the characters
# of their paths: an image with more is hostile, and the scan stops there (incomplete) rather than grow.
MAX_KEPT = 100000
MAX_KEPT_CHARS = 16 << 20
KINDS = ("dirs", "others", "whiteouts", "opaque")
# Bytes read at a time when a secret file's content is hashed past its first MAX_READ bytes.
HASH_CHUNK = 64 * 1024


class PathHasher(object):
    """8-byte hashes of image paths with a key of this scan's own (see the module's docstring)."""

    def __init__(self, key=None):
        self._key = key if key is not None else os.urandom(16)

    def __call__(self, path):
        data = path.encode("utf-8", "surrogateescape")
        return int.from_bytes(hashlib.blake2b(data, digest_size=8, key=self._key).digest(), "little")


class Budget(object):
    """What one image's scan may still take: entries (limits.entries), time (a clock() deadline) and kept files."""

    def __init__(self, limits, clock, deadline):
        self.limits = limits
        self.clock = clock
        self.deadline = deadline
        self.entries = 0
        self.kept = 0
        self.kept_chars = 0

    def check_time(self):
        if self.clock() > self.deadline:
            raise ScanStopped("stopped after %d s (scan_max_seconds), %d archive entries read"
                              % (self.limits.seconds, self.entries))

    def count_entry(self):
        if self.entries >= self.limits.entries:
            raise ScanStopped("stopped after %d archive entries (scan_max_entries)" % self.entries)
        self.entries += 1

    def keep(self, path):
        self.kept += 1
        self.kept_chars += len(path)
        if self.kept > MAX_KEPT or self.kept_chars > MAX_KEPT_CHARS:
            raise ScanStopped("stopped after %d setuid, setgid or secret files (more than an image holds; the scan "
                              "keeps at most %d)" % (self.kept - 1, MAX_KEPT))


class LayerRecord(object):
    """What one layer holds, kept small (see the module's docstring).

    setid: [(path, mode bits 0o6000)] of setuid/setgid files; secrets: [(path, kind, length, digests)] (digests:
    md5, SHA-1 and SHA-256 of the whole content, 68 bytes, to compare with a package database); files: regular
    files and hard links; dirs, others, whiteouts (the paths deleted), opaque (the directories made opaque):
    arrays of path hashes; packages: the package databases it holds (images.packages.PackageRecord), or None.
    Paths are image paths (images.scan.image_path), not yet escaped for showing.
    """

    __slots__ = ("files", "setid", "secrets", "packages") + KINDS

    def __init__(self):
        self.files = 0
        self.setid = []
        self.secrets = []
        self.packages = None
        for kind in KINDS:
            setattr(self, kind, array.array("Q"))


def read_layer(fileobj, budget, hasher, record=None):
    """LayerRecord of a layer tar read as a stream (plain or compressed: gzip, bzip2, xz), never seeking.

    budget (Budget) counts entries and time, and stops the scan (ScanStopped) at a cap: record (a new
    LayerRecord by default) then holds what was read until there. tarfile.TarError when the data is not a tar
    archive tarfile can read.
    """
    record = LayerRecord() if record is None else record
    # UTF-8 whatever the host's locale, undecodable bytes kept (as surrogates) for shown_path to show.
    with tarfile.open(fileobj=fileobj, mode="r|*", encoding="utf-8", errors="surrogateescape") as layer:
        while True:
            budget.check_time()
            member = layer.next()
            # Stream mode appends every header to members, for an extraction that never comes here.
            layer.members = []
            if member is None:
                break
            budget.count_entry()
            _read_entry(layer, member, record, budget, hasher)
    return record


def _read_entry(layer, member, record, budget, hasher):
    path = image_path(member.name)
    if path == "/":
        return
    parent, _slash, name = path.rpartition("/")
    parent = parent or "/"
    if name == OPAQUE:
        record.opaque.append(hasher(parent))
        return
    if name.startswith(AUFS_META):
        return
    if name.startswith(WHITEOUT):
        record.whiteouts.append(hasher(posixpath.join(parent, name[len(WHITEOUT):])))
        return
    (record.dirs if member.isdir() else record.others).append(hasher(path))
    if not (member.isreg() or member.islnk()):
        return
    record.files += 1
    if member.mode & 0o6000:
        budget.keep(path)
        record.setid.append((path, member.mode & 0o6000))
    database = database_kind(path) if member.isreg() else None
    if database is not None:
        if record.packages is None:
            record.packages = PackageRecord()
        read_database(record.packages, path, database, layer.extractfile(member), _could_be_secret, hasher, budget.keep,
                      CANDIDATE_HINTS)
        return
    if not member.isreg() or member.size == 0 or candidate(path) is None:
        return
    handle = layer.extractfile(member)
    head = handle.read(MAX_READ) if handle is not None else b""
    kind = classify(path, head) if handle is not None else None
    if kind:
        budget.keep(path)
        record.secrets.append((path, kind, member.size, _digests(head, handle)))


def _could_be_secret(path):
    return candidate(path) is not None


def _digests(head, handle):
    """md5, SHA-1 and SHA-256 (68 bytes) of a file's whole content: head, then the rest of handle."""
    sums = (hashlib.md5(head), hashlib.sha1(head), hashlib.sha256(head))
    while True:
        chunk = handle.read(HASH_CHUNK)
        if not chunk:
            break
        for each in sums:
            each.update(chunk)
    return b"".join(each.digest() for each in sums)


def _digest_texts(digests):
    """The forms package databases record: md5 in hex (dpkg), SHA-1 and SHA-256 in base64 (apk's Q1, Q2)."""
    return {"md5": digests[:16].hex(), "sha1": base64.b64encode(digests[16:36]).decode(),
            "sha256": base64.b64encode(digests[36:]).decode()}


def _parents(path):
    """Every directory above path but /: '/a/b/c' -> ['/a', '/a/b']."""
    parts = path.split("/")[1:-1]
    return ["/" + "/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


class _Seen(object):
    """Which of the looked-up hashes one layer has, by kind (a small set each)."""

    def __init__(self, record, wanted):
        for kind in KINDS:
            setattr(self, kind, wanted.intersection(getattr(record, kind)))


def _fate(path, position, seen, hasher):
    """(layer index, DELETED or OVERWRITTEN) of the first layer above position that takes path away, (index, None)
    when a layer above could not be read (not known), or None when it is there in the merged view."""
    own = hasher(path)
    parents = [hasher(parent) for parent in _parents(path)]
    for index in range(position + 1, len(seen)):
        above = seen[index]
        if above is None:
            return index, None
        if own in above.whiteouts or any(parent in above.whiteouts or parent in above.opaque or parent in above.others
                                         for parent in parents):
            return index, DELETED
        if own in above.dirs or own in above.others:
            return index, OVERWRITTEN
    return None


def merge(order, unplaced, hasher):
    """The image's LayerScan fields but bytes_read and incomplete, from its layers.

    order: the image's layers from the base up, each a LayerRecord or None (named by the manifest but not read:
    the scan stopped, or the layer could not be read). unplaced: records read whose place is not known (the scan
    stopped before the manifest); their secret files are listed without a layer. The setuid/setgid view holds
    the files every layer above was read for: with a layer missing above it, a file's fate is not known.
    """
    order = list(order)
    distinct = list(dict((id(record), record) for record in order + list(unplaced) if record is not None).values())
    wanted = set()
    for record in distinct:
        databases = list(record.packages.files) if record.packages is not None else []
        for path in [path for path, _bits in record.setid] + [secret[0] for secret in record.secrets] + databases:
            wanted.add(hasher(path))
            wanted.update(hasher(parent) for parent in _parents(path))
    seen_of = dict((id(record), _Seen(record, wanted)) for record in distinct)
    seen = [seen_of[id(record)] if record is not None else None for record in order]
    fields = {"layers": len(order), "files": sum(record.files for record in distinct),
              "setid_in_layers": sum(len(record.setid) for record in distinct)}
    fields.update(_setid_view(order, seen, hasher))
    view = PackageView(order, lambda path, position: _fate(path, position, seen, hasher) is None, hasher)
    unplaced_secrets = [secret_entry(shown_path(secret[0]), secret[1], secret[2])
                        for record in unplaced for secret in record.secrets]
    secrets = _secret_files(order, seen, hasher, view) + unplaced_secrets
    # Package files last: a list cut at MAX_LISTED keeps the files the image's authors stored.
    secrets.sort(key=lambda entry: entry["package_source"] in PACKAGE_FILE_SOURCES)
    fields.update({"secret_files": secrets[:MAX_LISTED], "secret_count": len(secrets),
                   "package_files": sum(1 for entry in secrets if entry["package_source"] in PACKAGE_FILE_SOURCES),
                   "packages_read": sorted(view.read), "packages_unread": view.unread})
    return fields


def _setid_view(order, seen, hasher):
    """Setuid/setgid files of the merged view (lists at most MAX_LISTED, counts exact), and how many a later layer
    took away; a file below a layer that was not read is neither (its fate is not known)."""
    view = {"setuid": [], "setgid": [], "setuid_count": 0, "setgid_count": 0, "setid_removed": 0}
    for position, record in enumerate(order):
        for path, bits in record.setid if record is not None else ():
            fate = _fate(path, position, seen, hasher)
            if fate is not None:
                view["setid_removed"] += 1 if fate[1] is not None else 0
                continue
            for bit, name in ((0o4000, "setuid"), (0o2000, "setgid")):
                if bits & bit:
                    view[name + "_count"] += 1
                    if len(view[name]) < MAX_LISTED:
                        view[name].append(shown_path(path))
    return view


def _secret_files(order, seen, hasher, view):
    """Secret files of every placed layer, with their layer (from 1 at the base), what a later layer did, and the
    package they belong to (view: images.packages.PackageView)."""
    found = []
    for position, record in enumerate(order):
        for path, kind, length, digests in record.secrets if record is not None else ():
            fate = _fate(path, position, seen, hasher)
            removed_in, removal = (fate[0] + 1, fate[1]) if fate is not None and fate[1] is not None else (None, None)
            package, source = view.attribute(path, position, _digest_texts(digests))
            found.append(secret_entry(shown_path(path), kind, length, position + 1, removed_in, removal,
                                      shown_name(package) if package is not None else None, source))
    return found


def layer_scan(order, unplaced, hasher, bytes_read=0, incomplete=None):
    """A LayerScan from merge()'s parts."""
    return LayerScan(bytes_read=bytes_read, incomplete=incomplete, **merge(order, unplaced, hasher))
