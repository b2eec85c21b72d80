# -*- coding: utf-8 -*-
"""The layer scan cache: by image id only, 0700/0600, corrupt and foreign files ignored and rewritten."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.images.cache import FORMAT, ScanCache
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import LayerScan

IMAGE = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
SCAN = LayerScan(["/usr/bin/su"], ["/usr/bin/wall"], secret_files=[{"path": "/k.pem", "kind": "private key", "length": 9}],
                 files=42, bytes_read=1000)


def test_miss_then_store_then_hit(tmp_path):
    directory = str(tmp_path / "cache" / "image-audit")
    cache = ScanCache(directory)
    assert cache.load(IMAGE) is None
    assert cache.store(IMAGE, SCAN) is True
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    path = os.path.join(directory, "a" * 64 + ".json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = ScanCache(directory)
    assert again.load(IMAGE).to_dict() == SCAN.to_dict()
    assert again.load("a" * 64).to_dict() == SCAN.to_dict()  # the id with or without sha256:
    assert (cache.misses, cache.written, again.hits) == (1, 1, 2)
    assert os.listdir(directory) == ["a" * 64 + ".json"]  # no temporary file left behind


def test_invalidation_is_by_id_only(tmp_path):
    cache = ScanCache(str(tmp_path))
    cache.store(IMAGE, SCAN)
    assert cache.load(OTHER) is None  # a tag moved to another image: another id, another file


@pytest.mark.parametrize("content", [
    b"{not json", b"", b"[]", b"\xff\xfe",
    json.dumps({"format": FORMAT + 1, "image_id": IMAGE, "scan": SCAN.to_dict()}).encode(),
    json.dumps({"format": FORMAT, "image_id": OTHER, "scan": SCAN.to_dict()}).encode(),
    json.dumps({"format": FORMAT, "image_id": IMAGE, "scan": {"setuid": "x"}}).encode(),
    json.dumps({"format": FORMAT, "image_id": IMAGE}).encode(),
])
def test_corrupt_or_foreign_files_are_ignored_and_rewritten(tmp_path, content):
    cache = ScanCache(str(tmp_path))
    path = tmp_path / ("a" * 64 + ".json")
    path.write_bytes(content)
    os.chmod(str(tmp_path), 0o700)
    assert cache.load(IMAGE) is None
    assert (cache.ignored, cache.misses) == (1, 1)
    cache.store(IMAGE, SCAN)
    assert ScanCache(str(tmp_path)).load(IMAGE).to_dict() == SCAN.to_dict()


# What the previous version (format 3) cached for an image with Debian's snakeoil key: no package of any secret file.
FORMAT_3_SNAKEOIL = {"format": 3, "image_id": IMAGE, "scan": {
    "layers": 2, "files": 120, "setuid": [], "setgid": [], "setuid_count": 0, "setgid_count": 0, "setid_in_layers": 0,
    "setid_removed": 0, "secret_count": 1, "bytes_read": 40960, "incomplete": None,
    "secret_files": [{"path": "/etc/ssl/private/ssl-cert-snakeoil.key", "kind": "private key", "length": 1704,
                      "layer": 2, "removed_in": None, "removal": None}]}}


def test_a_scan_cached_before_package_files_were_told_apart_is_scanned_again(tmp_path):
    # Reused, it would keep reporting the package's key as a critical secret file.
    (tmp_path / ("a" * 64 + ".json")).write_text(json.dumps(FORMAT_3_SNAKEOIL))
    os.chmod(str(tmp_path), 0o700)
    cache = ScanCache(str(tmp_path))
    assert cache.load(IMAGE) is None and (cache.ignored, cache.hits) == (1, 0)


def test_check_mode_reads_but_never_writes_or_prunes(tmp_path):
    directory = str(tmp_path / "c")
    ScanCache(directory).store(IMAGE, SCAN)
    reader = ScanCache(directory, write=False)
    assert reader.load(IMAGE) is not None
    assert reader.store(OTHER, SCAN) is False and reader.prune([]) == 0
    assert os.listdir(directory) == ["a" * 64 + ".json"]
    missing = str(tmp_path / "never")
    assert ScanCache(missing, write=False).store(IMAGE, SCAN) is False and not os.path.exists(missing)


def test_prune_removes_scans_of_images_that_are_gone(tmp_path):
    cache = ScanCache(str(tmp_path))
    cache.store(IMAGE, SCAN)
    cache.store(OTHER, SCAN)
    (tmp_path / "notes.txt").write_text("kept")
    assert cache.prune([IMAGE]) == 1
    assert sorted(os.listdir(str(tmp_path))) == ["a" * 64 + ".json", "notes.txt"]


def test_a_directory_others_can_write_is_not_trusted(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    ScanCache(str(shared)).store(IMAGE, SCAN)
    os.chmod(str(shared), 0o777)
    cache = ScanCache(str(shared))
    assert cache.load(IMAGE) is None and cache.store(OTHER, SCAN) is False
    assert "writable by group or others" in cache.stats(0)["unusable"]
    assert cache.misses == 1 and cache.hits == 0


def test_a_file_in_place_of_the_directory_is_reported(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    cache = ScanCache(str(path))
    assert cache.load(IMAGE) is None and "not a directory" in cache.stats(0)["unusable"]


def test_bad_ids_are_refused(tmp_path):
    with pytest.raises(ValueError):
        ScanCache(str(tmp_path)).path("../../etc/passwd")


# --- entries that cannot be used, every parent of the directory, each time ------------------------

def test_an_entry_holding_text_ansible_cannot_carry_is_rescanned_not_fatal(tmp_path):
    # What an earlier scan of a setuid file named b"\xff" cached: a lone surrogate, which ansible-core refuses.
    cache = ScanCache(str(tmp_path))
    cache.store(IMAGE, SCAN)
    path = tmp_path / ("a" * 64 + ".json")
    entry = json.loads(path.read_text())
    entry["scan"]["setuid"] = ["/usr/bin/\udcff"]
    path.write_text(json.dumps(entry))
    again = ScanCache(str(tmp_path))
    assert again.load(IMAGE) is None
    assert (again.ignored, again.misses) == (1, 1)


def test_a_parent_others_can_write_makes_the_cache_unusable(tmp_path):
    parent = tmp_path / "open"
    parent.mkdir()
    os.chmod(str(parent), 0o777)
    directory = parent / "cache"
    directory.mkdir(mode=0o700)
    cache = ScanCache(str(directory))
    assert cache.store(IMAGE, SCAN) is False and cache.load(IMAGE) is None
    assert str(parent) in cache.stats(0)["unusable"] and "writable by group or others" in cache.stats(0)["unusable"]


def test_a_parent_owned_by_another_user_makes_the_cache_unusable(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory to another user")
    parent = tmp_path / "theirs"
    parent.mkdir(mode=0o755)
    os.chown(str(parent), 4321, 4321)
    cache = ScanCache(str(parent / "cache"))
    assert cache.store(IMAGE, SCAN) is False
    assert "owned by uid 4321" in cache.stats(0)["unusable"]


def test_a_sticky_parent_is_fine_when_the_directory_in_it_is_ours(tmp_path):
    parent = tmp_path / "sticky"
    parent.mkdir()
    os.chmod(str(parent), 0o1777)
    cache = ScanCache(str(parent / "cache"))
    assert cache.store(IMAGE, SCAN) is True and cache.load(IMAGE) is not None


def test_the_directory_is_checked_each_time_it_is_used(tmp_path):
    parent = tmp_path / "p"
    cache = ScanCache(str(parent / "cache"))
    assert cache.store(IMAGE, SCAN) is True and cache.load(IMAGE) is not None
    os.chmod(str(parent), 0o777)
    assert cache.load(IMAGE) is None and cache.store(OTHER, SCAN) is False and cache.prune([]) == 0
    assert "writable by group or others" in cache.stats(0)["unusable"]
