# -*- coding: utf-8 -*-
"""`docker save` archives made in the test, in both layouts, from layer tars made in the test.

A layer is a list of entries (name, data, mode, kind): name as bytes or str
(bytes are written byte for byte, as an image may hold names that are not
UTF-8), data the content (bytes; the link target for links; None for a
directory), kind one of FILE, DIR, SYMLINK, HARDLINK. Whiteouts are plain
entries named as Docker writes them (.wh.<name>, .wh..wh..opq).

Layouts, as Docker writes them (checked against Docker 20.10's own output in
tests/integration/test_image_audit_layers.py):
- classic (Docker up to 24): <v1 id>/{VERSION,json,layer.tar}, <config>.json,
  manifest.json, repositories - sorted by name, so the manifest comes after
  the layers; a layer that appears twice is a symlink to its first copy;
- oci (Docker 25+): blobs/sha256/<digest> for layers, config and manifest,
  index.json, manifest.json, oci-layout; layers optionally gzip-compressed as
  the containerd image store keeps them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

FILE, DIR, SYMLINK, HARDLINK = "file", "dir", "symlink", "hardlink"


def _text(name):
    return name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name


def entry(name, data=b"", mode=0o644, kind=FILE):
    return (name, data, mode, kind)


def layer_tar(entries, tar_format=tarfile.PAX_FORMAT):
    """A layer tar (bytes) of entries (see the module's docstring)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format, encoding="utf-8", errors="surrogateescape") as tar:
        for name, data, mode, kind in entries:
            info = tarfile.TarInfo(_text(name))
            info.mode = mode
            if kind == DIR:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind in (SYMLINK, HARDLINK):
                info.type = tarfile.SYMTYPE if kind == SYMLINK else tarfile.LNKTYPE
                info.linkname = _text(data)
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _add(tar, name, data=None, kind=FILE, linkname=None):
    info = tarfile.TarInfo(name)
    if kind == DIR:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    elif kind == SYMLINK:
        info.type, info.linkname = tarfile.SYMTYPE, linkname
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def config_of(layers):
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + _digest(data) for data in layers]}}).encode()


def classic_save(layers, manifest_first=False, with_manifest=True, tags=("app:1",), stream_order=None):
    """A Docker 20.10 save (bytes) of layer tars (bytes, from the base up); the image id is the config's digest.

    stream_order: the order the layers' directories come in (indexes into layers; default: sorted by id, as
    Docker writes them)."""
    config = config_of(layers)
    config_name = _digest(config) + ".json"
    ids, first_of = [], {}
    parent = ""
    for data in layers:
        layer_id = _digest((parent + _digest(data)).encode())
        ids.append(layer_id)
        parent = layer_id
    manifest = json.dumps([{"Config": config_name, "RepoTags": list(tags), "Layers": [i + "/layer.tar" for i in ids]}]).encode()
    order = stream_order if stream_order is not None else sorted(range(len(layers)), key=lambda index: ids[index])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if with_manifest and manifest_first:
            _add(tar, "manifest.json", manifest)
        for index in order:
            layer_id, data = ids[index], layers[index]
            _add(tar, layer_id + "/", kind=DIR)
            _add(tar, layer_id + "/VERSION", b"1.0")
            _add(tar, layer_id + "/json", json.dumps({"id": layer_id}).encode())
            if _digest(data) in first_of:
                _add(tar, layer_id + "/layer.tar", kind=SYMLINK, linkname="../%s/layer.tar" % first_of[_digest(data)])
            else:
                first_of[_digest(data)] = layer_id
                _add(tar, layer_id + "/layer.tar", data)
        _add(tar, config_name, config)
        if with_manifest and not manifest_first:
            _add(tar, "manifest.json", manifest)
        _add(tar, "repositories", b"{}")
    return buffer.getvalue(), "sha256:" + _digest(config)


def oci_save(layers, compress=False, docker_manifest=True, tags=("app:1",)):
    """A Docker 25+ save (bytes, OCI layout) of layer tars (from the base up), blobs sorted by digest as Docker
    writes them; compress: gzip the layer blobs (as the containerd image store keeps them)."""
    config = config_of(layers)
    blobs = {}
    descriptors = []
    for data in layers:
        blob = gzip.compress(data, mtime=0) if compress else data
        blobs[_digest(blob)] = blob
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else ""),
                            "digest": "sha256:" + _digest(blob), "size": len(blob)})
    blobs[_digest(config)] = config
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "sha256:" + _digest(config), "size": len(config)},
                           "layers": descriptors}).encode()
    blobs[_digest(manifest)] = manifest
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "digest": "sha256:" + _digest(manifest), "size": len(manifest)}]}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "blobs/", kind=DIR)
        _add(tar, "blobs/sha256/", kind=DIR)
        for digest in sorted(blobs):
            _add(tar, "blobs/sha256/" + digest, blobs[digest])
        _add(tar, "index.json", index)
        if docker_manifest:
            _add(tar, "manifest.json", json.dumps([{
                "Config": "blobs/sha256/" + _digest(config), "RepoTags": list(tags),
                "Layers": [descriptor["digest"].replace("sha256:", "blobs/sha256/") for descriptor in descriptors]}]).encode())
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    return buffer.getvalue(), "sha256:" + _digest(config)


LAYOUTS = {"classic": classic_save, "oci": oci_save, "oci-gzip": lambda layers, **kw: oci_save(layers, compress=True, **kw),
           "oci-index-only": lambda layers, **kw: oci_save(layers, docker_manifest=False, **kw)}


def save_of(layout, layers_entries):
    """(save bytes, image id) of layers given as entry lists, in a layout of LAYOUTS."""
    return LAYOUTS[layout]([layer_tar(entries) for entries in layers_entries])
