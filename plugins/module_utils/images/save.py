# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Read an image as `docker save` streams it: every layer, nothing created, nothing written.

GET /images/{id}/get is a read: the Engine answers with a tar of the
image's layer tars and its config and manifest. Nothing is made on the host
(no container, no volume: nothing of ours the audit would have to find and
remove again) and the fast reads serve it without the Docker SDK
(engine.reads.FastReader.stream).

Two layouts, read the same way:

- Docker up to 24 (and 25+ with the classic image store, read as below too):
  `<layer id>/layer.tar` (a symlink to an earlier one when two layers are
  the same), `<layer id>/json`, `<config digest>.json`, `manifest.json`,
  `repositories`;
- the OCI layout (Docker 25+): `blobs/sha256/<digest>` for layers, config
  and manifests alike, `index.json`, `oci-layout`, and Docker's
  `manifest.json` beside it. Blobs say what they are only by their content:
  a small one that is a JSON document is a manifest, index or config; any
  other is a layer (plain or compressed: gzip, bzip2 and xz are read).

The save's tar is read as a stream and each layer tar inside it as a nested
stream (images.layers.read_layer), one entry at a time, in bounded memory
and within the scan's caps. The manifest that says which layer is above
which usually comes after the layers (Docker 20.10 sorts by name), so each
layer's record is kept small and the layers are put together at the end
(images.layers.merge), following Docker's manifest.json, else the OCI
index and manifests.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import socket
import tarfile
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.module_utils.images.layers import (
    Budget, LayerRecord, PathHasher, layer_scan, read_layer,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import CountingStream, LayerScan, ScanLimits, ScanStopped

MANIFEST = "manifest.json"
INDEX = "index.json"
LAYER_TAR = "layer.tar"
BLOBS = "blobs"
# A manifest, index or config is far smaller; a larger member is never read whole.
MAX_JSON = 8 << 20
# Symlinks followed from a name of the manifest to the layer tar (Docker links a repeated layer once).
MAX_LINKS = 8
# Indexes followed from index.json down to an image manifest.
MAX_INDEX_DEPTH = 4
DIGEST = re.compile(r"^([a-z0-9]+):([a-f0-9]{32,128})$")
# Bytes read after the end of the save's tar (padding) before the stream is simply closed.
MAX_DRAIN = 1 << 20
# The SDK method (and endpoint name in api_calls_by_endpoint) of docker save.
ENDPOINT = "get_image"


def archive_name(name):
    """A member name of the save's tar as the manifest writes it ('./blobs/sha256/ab' -> 'blobs/sha256/ab')."""
    name = posixpath.normpath(name.lstrip("/"))
    return "" if name == "." else name


def blob_name(digest):
    """The save's member name of a blob ('sha256:ab..' -> 'blobs/sha256/ab..'), or None for a malformed digest."""
    match = DIGEST.match(digest) if isinstance(digest, str) else None
    return "%s/%s/%s" % (BLOBS, match.group(1), match.group(2)) if match else None


def _id_hex(image_id):
    return (image_id or "").rpartition(":")[2]


class SaveContents(object):
    """What the save's tar held, as far as the scan needs it: each layer's record by member name, the record of a
    layer the scan stopped in, layers that could not be read (and why), links between members, Docker's
    manifest.json, index.json and the OCI manifests and indexes among the blobs (only the digests they name)."""

    def __init__(self):
        self.records = {}
        self.partial = []
        self.unreadable = {}
        self.links = {}
        self.manifest = None
        self.index = None
        self.oci = {}

    def resolve(self, name):
        for _hop in range(MAX_LINKS):
            if name not in self.links:
                break
            name = self.links[name]
        return name

    def layer_order(self, image_id=None):
        """Member names of the image's layers from the base up, or None when the save does not say."""
        entries = [entry for entry in self.manifest if isinstance(entry, dict) and isinstance(entry.get("Layers"), list)] \
            if isinstance(self.manifest, list) else []
        if len(entries) > 1:
            entries = [entry for entry in entries if _id_hex(image_id) and _id_hex(image_id) in str(entry.get("Config"))]
        if len(entries) == 1:
            return [archive_name(layer) for layer in entries[0]["Layers"] if isinstance(layer, str)]
        manifests = self._oci_manifests(self.index, 0)
        if len(manifests) > 1:
            manifests = [found for found in manifests if _id_hex(found["config"]) == _id_hex(image_id)]
        if len(manifests) == 1:
            names = [blob_name(digest) for digest in manifests[0]["layers"]]
            return None if None in names else names
        return None

    def _oci_manifests(self, index, depth):
        """The image manifests an index names ({"layers": [digests], "config": digest}), indexes followed."""
        found = []
        if not isinstance(index, dict) or depth > MAX_INDEX_DEPTH:
            return found
        for descriptor in index.get("manifests") or []:
            blob = self.oci.get(blob_name(descriptor.get("digest")) if isinstance(descriptor, dict) else None)
            if blob is None:
                continue
            if "layers" in blob:
                found.append(blob)
            else:
                found.extend(self._oci_manifests(blob, depth + 1))
        return found


def _digests(descriptors):
    return [descriptor.get("digest") for descriptor in descriptors if isinstance(descriptor, dict)]


def _oci_document(data):
    """What the scan keeps of a JSON blob: an image manifest's layer and config digests, an index's manifests."""
    if isinstance(data.get("layers"), list):
        config = data.get("config")
        return {"layers": _digests(data["layers"]), "config": config.get("digest") if isinstance(config, dict) else None}
    if isinstance(data.get("manifests"), list):
        return {"manifests": [descriptor for descriptor in data["manifests"] if isinstance(descriptor, dict)]}
    return None  # a config, or something else


def _load_small_json(handle, size):
    if size > MAX_JSON:
        return None
    try:
        return json.loads(handle.read(size).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def _read_layer_member(archive, member, name, contents, budget, hasher):
    """A layer tar of the 20.10 layout, or a blob of the OCI layout (a JSON document or a layer)."""
    if member.size == 0:
        contents.records[name] = LayerRecord()  # nothing in it
        return
    handle = archive.extractfile(member)
    source = handle
    if member.size <= MAX_JSON and handle.peek(64)[:64].lstrip()[:1] == b"{":
        data = handle.read(member.size)
        try:
            document = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            source = io.BytesIO(data)  # not JSON after all: a small layer whose first name starts with {
        else:
            kept = _oci_document(document) if isinstance(document, dict) else None
            if kept is not None:
                contents.oci[name] = kept
            return
    record = LayerRecord()
    try:
        read_layer(source, budget, hasher, record)
    except tarfile.TarError as error:
        contents.unreadable[name] = "not a tar archive the scan can read (%s)" % escape_unprintable(str(error))
    except ScanStopped:
        contents.partial.append(record)  # what it holds counts; what the rest of it does to other layers is not known
        raise
    else:
        contents.records[name] = record


def _read_member(archive, member, contents, budget, hasher):
    name = archive_name(member.name)
    if member.issym() or member.islnk():
        target = posixpath.join(posixpath.dirname(name), member.linkname) if member.issym() else member.linkname
        contents.links[name] = archive_name(target)
        return
    if not member.isreg():
        return
    if name == MANIFEST:
        contents.manifest = _load_small_json(archive.extractfile(member), member.size)
    elif name == INDEX:
        contents.index = _load_small_json(archive.extractfile(member), member.size)
    elif posixpath.basename(name) == LAYER_TAR or name.startswith(BLOBS + "/"):
        _read_layer_member(archive, member, name, contents, budget, hasher)


def scan_save(fileobj, limits=None, clock=time.monotonic, deadline=None, image_id=None):
    """LayerScan of a `docker save` tar read as a stream (never seeks), within limits (ScanLimits).

    deadline: the clock() value at which the scan stops (default: limits.seconds from now). image_id picks
    the image when the save holds several. A cap reached, a layer that cannot be read or a save that does
    not say the layer order gives a LayerScan whose incomplete says why.
    """
    limits = limits or ScanLimits()
    budget = Budget(limits, clock, clock() + limits.seconds if deadline is None else deadline)
    hasher = PathHasher()
    contents = SaveContents()
    stopped = None
    try:
        # UTF-8 whatever the host's locale; names here are the Engine's own, layer names are read by read_layer.
        with tarfile.open(fileobj=fileobj, mode="r|", encoding="utf-8", errors="surrogateescape") as archive:
            while True:
                budget.check_time()
                member = archive.next()
                archive.members = []  # stream mode keeps every header otherwise
                if member is None:
                    break
                budget.count_entry()
                _read_member(archive, member, contents, budget, hasher)
    except ScanStopped as cap:
        stopped = str(cap)
    return _result(contents, hasher, stopped, image_id)


def _result(contents, hasher, stopped, image_id):
    names = contents.layer_order(image_id)
    if names is None:
        why = stopped or "the save does not say the order of its layers (no manifest.json or OCI index it could read)"
        return layer_scan([], list(contents.records.values()) + contents.partial, hasher, incomplete=why)
    order = [contents.records.get(contents.resolve(name)) for name in names]
    problems = ["layer %d of %d: %s" % (number, len(names), contents.unreadable.get(contents.resolve(name), "not in the save"))
                for number, (name, record) in enumerate(zip(names, order), 1) if record is None]
    # A layer the scan stopped in has no place: its files are listed without one, and it decides nothing else.
    return layer_scan(order, contents.partial, hasher, incomplete=stopped or ("; ".join(problems[:3]) if problems else None))


def _drain(stream):
    """Read what follows the end of the tar (padding), so the Engine's answer ends cleanly; a stream that goes
    on past MAX_DRAIN is closed instead."""
    drained = 0
    while drained <= MAX_DRAIN:
        block = stream.read(1 << 16)
        if not block:
            return
        drained += len(block)


def scan_image(client, image_id, limits=None, clock=time.monotonic):
    """LayerScan of one image streamed from the Engine (`docker save`: one `get_image` call, a read).

    client: engine.connection.CountingClient. The Engine's errors (the image removed meanwhile) and
    tarfile.TarError (a save that is not a tar) are raised; caps give an incomplete LayerScan.
    """
    limits = limits or ScanLimits()
    deadline = clock() + limits.seconds
    try:
        # dockerd writes the whole save to its own temporary directory before the first byte: that wait is part
        # of the scan's time, so the stream waits as long as the cap allows, not the connection's timeout.
        chunks = client.stream(ENDPOINT, image_id, timeout=limits.seconds)
    except socket.timeout:
        return LayerScan(incomplete="stopped after %d s (scan_max_seconds) waiting for the Engine to send the image"
                         % limits.seconds)
    stream = CountingStream(chunks, limits, deadline, clock)
    try:
        scan = scan_save(stream, limits, clock, deadline, image_id)
        if scan.incomplete is None:
            try:
                _drain(stream)
            except ScanStopped:
                pass  # the scan itself is whole
    finally:
        stream.close()
    scan.bytes_read = stream.bytes_read
    return scan
