# -*- coding: utf-8 -*-
"""The layer scan over `docker save` archives made here in both layouts: every layer read, whiteouts honoured.

What must hold: a secret file of any layer is reported with its layer and the later layer that deleted or
overwrote it; setuid/setgid files are those a container of the image sees (whiteouts, opaque directories,
parents replaced, files replaced by a later layer); the layer order comes from the manifest wherever it is
in the stream; odd names, huge and capped archives, layers that cannot be read say so and are never a pass.
"""

from __future__ import annotations

import gc
import io
import json
import socket
import tarfile

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from
from ansible_collections.bulwark.hardening.plugins.module_utils.images import layers as layering
from ansible_collections.bulwark.hardening.plugins.module_utils.images import scan as scanning
from ansible_collections.bulwark.hardening.plugins.module_utils.images.save import scan_image, scan_save
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import CountingStream, LayerScan, ScanLimits

from save_tars import DIR, HARDLINK, LAYOUTS, SYMLINK, classic_save, entry, layer_tar, oci_save, save_of

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + SECRET.encode() + b"\n-----END OPENSSH PRIVATE KEY-----\n"
DOTENV = b"DB_PASSWORD=" + SECRET.encode() + b"\n"
ELF = b"\x7fELF"

BASE = [entry("bin/", None, 0o755, DIR), entry("bin/sh", ELF, 0o755), entry("usr/bin/su", ELF, 0o4755),
        entry("usr/bin/wall", ELF, 0o2755)]


def scan_of(layout, layers, **options):
    data, image_id = save_of(layout, layers)
    return scan_save(io.BytesIO(data), image_id=image_id, **options)


def secrets(scan):
    return [(entry_["path"], entry_["layer"], entry_["removed_in"], entry_["removal"]) for entry_ in scan.secret_files]


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request):
    return request.param


# --- secret files: every layer, with where they are and what later layers did ---------------------

def test_a_secret_deleted_by_a_later_layer_is_reported_with_its_layer(layout):
    scan = scan_of(layout, [BASE, [entry("root/.ssh/id_rsa", KEY, 0o600)], [entry("root/.ssh/.wh.id_rsa")]])
    assert scan.incomplete is None and scan.layers == 3
    assert secrets(scan) == [("/root/.ssh/id_rsa", 2, 3, "deleted")]
    assert scan.secret_files[0]["kind"] == "private key" and scan.secret_files[0]["length"] == len(KEY)
    assert scan.secret_count == 1 and scan.secrets_removed == 1
    assert SECRET not in json.dumps(scan.to_dict())


def test_a_secret_in_the_top_layer_or_never_touched_is_still_there(layout):
    scan = scan_of(layout, [BASE + [entry("srv/app/.env", DOTENV)], [entry("srv/other/.env", DOTENV)]])
    assert secrets(scan) == [("/srv/app/.env", 1, None, None), ("/srv/other/.env", 2, None, None)]


@pytest.mark.parametrize("upper,how", [
    ([entry("root/.wh..ssh")], "deleted"),                             # a parent's whiteout
    ([entry("root/", None, 0o700, DIR), entry("root/.wh..wh..opq")], "deleted"),  # the parent made opaque
    ([entry("root/.ssh", b"/dev/null", 0o777, SYMLINK)], "deleted"),   # the parent replaced by a symlink
    ([entry("root/.ssh", b"not a directory now")], "deleted"),         # ... or by a file
    ([entry("root/.ssh/id_rsa", b"overwritten\n", 0o600)], "overwritten"),
    ([entry("root/.ssh/id_rsa", None, 0o700, DIR)], "overwritten"),    # a directory in its place
])
def test_every_way_a_later_layer_takes_a_file_away(layout, upper, how):
    scan = scan_of(layout, [BASE + [entry("root/.ssh/id_rsa", KEY, 0o600)], [entry("etc/motd", b"hi\n")], upper])
    assert secrets(scan) == [("/root/.ssh/id_rsa", 1, 3, how)]


@pytest.mark.parametrize("upper", [
    [entry("root/.ssh/.wh.id_rsa.old")],             # another name
    [entry("root/.wh..ssh-backup")],                 # a sibling whose name starts the same
    [entry("root/.ssh/", None, 0o700, DIR)],         # the parent directory again (its mode changed): not opaque
    [entry("other/.wh..wh..opq")],                   # an opaque directory elsewhere
])
def test_what_does_not_take_a_file_away(layout, upper):
    scan = scan_of(layout, [BASE + [entry("root/.ssh/id_rsa", KEY, 0o600)], upper])
    assert secrets(scan) == [("/root/.ssh/id_rsa", 1, None, None)]


def test_a_whiteout_or_opaque_directory_hides_only_what_is_below_it(layout):
    # Layer 2 deletes /app/.env and makes /data opaque, and adds both again: its own files stay.
    scan = scan_of(layout, [
        BASE + [entry("app/.env", DOTENV), entry("data/old.pem", KEY)],
        [entry("app/.wh..env"), entry("data/", None, 0o755, DIR), entry("data/.wh..wh..opq"), entry("data/new.pem", KEY),
         entry("app/.env.production", DOTENV)],
    ])
    assert sorted(secrets(scan)) == [("/app/.env", 1, 2, "deleted"), ("/app/.env.production", 2, None, None),
                                     ("/data/new.pem", 2, None, None), ("/data/old.pem", 1, 2, "deleted")]


def test_a_secret_overwritten_by_another_secret_is_two_findings(layout):
    scan = scan_of(layout, [BASE + [entry("app/.env", DOTENV)], [entry("app/.env", b"API_TOKEN=" + SECRET[::-1].encode())]])
    assert secrets(scan) == [("/app/.env", 1, 2, "overwritten"), ("/app/.env", 2, None, None)]


# --- setuid and setgid: what a container of the image sees -----------------------------------------

def test_setuid_files_of_the_merged_view(layout):
    scan = scan_of(layout, [BASE, [entry("usr/local/bin/tool", ELF, 0o6755)]])
    assert scan.setuid == ["/usr/bin/su", "/usr/local/bin/tool"] and scan.setgid == ["/usr/bin/wall", "/usr/local/bin/tool"]
    assert (scan.setuid_count, scan.setgid_count, scan.setid_in_layers, scan.setid_removed) == (2, 2, 3, 0)


@pytest.mark.parametrize("upper", [
    [entry("usr/bin/.wh.su"), entry("usr/bin/.wh.wall")],                                  # deleted (rm)
    [entry("usr/bin/su", ELF, 0o755), entry("usr/bin/wall", ELF, 0o755)],                  # chmod a-s: a copy up
    [entry("usr/", None, 0o755, DIR), entry("usr/.wh..wh..opq"), entry("usr/lib/x", b"")],  # /usr made opaque
    [entry("usr/.wh.bin")],                                                                # the parent deleted
])
def test_setuid_files_a_later_layer_removed_are_not_what_a_container_sees(layout, upper):
    scan = scan_of(layout, [BASE, upper])
    assert (scan.setuid_count, scan.setgid_count, scan.setuid, scan.setgid) == (0, 0, [], [])
    assert scan.setid_in_layers == 2 and scan.setid_removed == 2 and scan.incomplete is None


def test_a_setuid_file_added_back_after_a_whiteout_counts(layout):
    scan = scan_of(layout, [BASE, [entry("usr/bin/.wh.su")], [entry("usr/bin/su", ELF, 0o4755)]])
    assert scan.setuid == ["/usr/bin/su"] and scan.setid_removed == 1


def test_hard_links_to_setuid_files_count(layout):
    scan = scan_of(layout, [BASE + [entry("usr/bin/su-link", b"usr/bin/su", 0o4755, HARDLINK)]])
    assert scan.setuid == ["/usr/bin/su", "/usr/bin/su-link"] and scan.files == 4


# --- the layer order and the layouts ------------------------------------------------------------------

def test_the_order_comes_from_the_manifest_not_from_the_stream():
    # The deleting layer streams first (Docker sorts by id), the manifest last: the order is known only at the end.
    layers = [layer_tar(BASE + [entry("root/.ssh/id_rsa", KEY)]), layer_tar([entry("root/.ssh/.wh.id_rsa")])]
    for manifest_first in (False, True):
        data, image_id = classic_save(layers, manifest_first=manifest_first, stream_order=[1, 0])
        assert secrets(scan_save(io.BytesIO(data), image_id=image_id)) == [("/root/.ssh/id_rsa", 1, 2, "deleted")]
    # The same two layers the other way round: the whiteout is below, so it hides nothing.
    data, image_id = classic_save(list(reversed(layers)))
    assert secrets(scan_save(io.BytesIO(data), image_id=image_id)) == [("/root/.ssh/id_rsa", 2, None, None)]


@pytest.mark.parametrize("save", [classic_save, oci_save])
def test_a_layer_that_appears_twice_is_read_once_and_counted_at_each_place(save):
    same = layer_tar([entry("etc/app.pem", KEY)])
    data, image_id = save([layer_tar(BASE), same, layer_tar([entry("etc/.wh.app.pem")]), same])
    scan = scan_save(io.BytesIO(data), image_id=image_id)
    assert scan.layers == 4 and scan.incomplete is None
    assert secrets(scan) == [("/etc/app.pem", 2, 3, "deleted"), ("/etc/app.pem", 4, None, None)]


def test_a_save_of_several_images_is_read_for_the_one_asked():
    data, image_id = classic_save([layer_tar(BASE), layer_tar([entry("a/.env", DOTENV)])])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    other = dict(manifest[0], Config="f" * 64 + ".json", Layers=manifest[0]["Layers"][:1])
    rebuilt = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as source, tarfile.open(fileobj=rebuilt, mode="w") as tar:
        for member in source.getmembers():
            if member.name == "manifest.json":
                body = json.dumps([other] + manifest).encode()
                member.size = len(body)
                tar.addfile(member, io.BytesIO(body))
            else:
                tar.addfile(member, source.extractfile(member) if member.isreg() else None)
    scan = scan_save(io.BytesIO(rebuilt.getvalue()), image_id=image_id)
    assert scan.layers == 2 and secrets(scan) == [("/a/.env", 2, None, None)]


def test_a_small_layer_whose_first_name_starts_with_a_brace_is_still_read():
    odd = layer_tar([entry("{weird}.pem", KEY)])
    assert odd[:1] == b"{"
    data, image_id = oci_save([layer_tar(BASE), odd])
    assert secrets(scan_save(io.BytesIO(data), image_id=image_id)) == [("/{weird}.pem", 2, None, None)]


def test_empty_layers_are_layers():
    data, image_id = classic_save([layer_tar(BASE), layer_tar([]), layer_tar([entry("usr/bin/.wh.su")])])
    scan = scan_save(io.BytesIO(data), image_id=image_id)
    assert scan.layers == 3 and scan.setuid == [] and scan.setgid == ["/usr/bin/wall"]


# --- what cannot be decided says so, never a pass --------------------------------------------------------

def test_a_save_without_a_manifest_lists_secrets_without_a_layer_and_decides_no_setuid():
    data, image_id = classic_save([layer_tar(BASE + [entry("k.pem", KEY)]), layer_tar([entry("usr/bin/.wh.su")])],
                                  with_manifest=False)
    scan = scan_save(io.BytesIO(data), image_id=image_id)
    assert "does not say the order of its layers" in scan.incomplete
    assert secrets(scan) == [("/k.pem", None, None, None)]
    assert scan.setuid == [] and scan.setuid_count == 0 and scan.setid_in_layers == 2


def test_a_layer_that_cannot_be_read_is_named_and_the_files_below_it_are_not_decided():
    unreadable = b"\x28\xb5\x2f\xfd" + b"zstd frame" * 100  # zstd: tarfile cannot read it
    data, image_id = oci_save([layer_tar(BASE + [entry("k.pem", KEY)]), unreadable,
                               layer_tar([entry("opt/tool", ELF, 0o4755)])])
    scan = scan_save(io.BytesIO(data), image_id=image_id)
    assert scan.incomplete.startswith("layer 2 of 3: not a tar archive the scan can read")
    assert scan.setuid == ["/opt/tool"]  # above every unread layer: proven
    assert "/usr/bin/su" not in scan.setuid and scan.setid_in_layers == 3  # below one: not known
    assert secrets(scan) == [("/k.pem", 1, None, None)]


def test_the_entry_cap_stops_the_scan_and_keeps_what_it_found():
    layers = [BASE + [entry("k.pem", KEY)] + [entry("bin/s%d" % number, b"x") for number in range(50)]]
    scan = scan_of("classic", layers, limits=ScanLimits(entries=20))
    assert scan.incomplete == "stopped after 20 archive entries (scan_max_entries)"
    assert secrets(scan) == [("/k.pem", None, None, None)] and scan.setuid == []
    assert scan_of("classic", layers, limits=ScanLimits(entries=200)).incomplete is None


def test_the_byte_cap_stops_inside_a_huge_layer():
    data, image_id = classic_save([layer_tar([entry("big.bin", b"z" * 300000), entry("usr/bin/su", ELF, 0o4755)])])
    limits = ScanLimits(bytes=60000)
    stream = CountingStream([data[start:start + 8192] for start in range(0, len(data), 8192)], limits)
    scan = scan_save(stream, limits, image_id=image_id)
    assert scan.incomplete.endswith("(scan_max_bytes)") and stream.bytes_read <= 60000 + 8192 and scan.setuid_count == 0


def test_the_time_cap_stops_the_scan():
    ticks = iter(range(100000))

    def clock():  # one second per look at the clock
        return next(ticks)
    data, image_id = classic_save([layer_tar([entry("bin/s%d" % number, b"x") for number in range(50)])])
    limits = ScanLimits(seconds=5)
    scan = scan_save(CountingStream([data[i:i + 512] for i in range(0, len(data), 512)], limits, 5, clock), limits, clock,
                     deadline=5, image_id=image_id)
    assert "scan_max_seconds" in scan.incomplete and scan.files < 50


def test_an_image_with_more_kept_files_than_any_image_has_stops(monkeypatch):
    monkeypatch.setattr(layering, "MAX_KEPT", 10)
    scan = scan_of("classic", [[entry("bin/s%d" % number, ELF, 0o4755) for number in range(30)]])
    assert "stopped after 10 setuid, setgid or secret files" in scan.incomplete


# --- names, memory, bounded reads ---------------------------------------------------------------------

ODD_NAMES = [
    (b"usr/bin/\xff", "/usr/bin/\\xff"),
    (b"usr/bin/ok\x1b[31m", "/usr/bin/ok\\x1b[31m"),
    (b"usr/bin/new\nline", "/usr/bin/new\\x0aline"),
    (b"usr/bin/\xe2\x80\xae-rtl", "/usr/bin/\\u202e-rtl"),
    (b"usr/bin/caf\xc3\xa9", "/usr/bin/caf\u00e9"),
]


@pytest.mark.parametrize("tar_format", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_odd_names_are_shown_escaped_and_whiteouts_of_them_match(tar_format):
    lower = layer_tar([entry(name, ELF, 0o4755) for name, _shown in ODD_NAMES] + [entry(b"root/\xff/.env", DOTENV)],
                      tar_format)
    upper = layer_tar([entry(b"usr/bin/.wh.\xff"), entry(b"root/.wh.\xff")], tar_format)
    data, image_id = classic_save([lower, upper])
    scan = scan_save(io.BytesIO(data), image_id=image_id)
    assert scan.setuid == [shown for _name, shown in ODD_NAMES[1:]] and scan.setid_removed == 1
    assert secrets(scan) == [("/root/\\xff/.env", 1, 2, "deleted")]
    text = json.dumps(scan.to_dict(), ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate: Ansible refuses a result that holds one
    assert LayerScan.from_dict(json.loads(text)).to_dict() == scan.to_dict()


def test_deep_paths_are_shortened_in_the_middle():
    deep = b"/".join([b"d%03d" % number for number in range(900)]) + b"/setuid-tool"
    scan = scan_of("oci", [[entry(deep, ELF, 0o4755)]])
    shown = scan.setuid[0]
    assert len(shown) == scanning.MAX_PATH_SHOWN - 1 and shown.startswith("/d000/d001/") and shown.endswith("/d899/setuid-tool")


def test_only_candidates_are_read_and_only_the_first_64_kib(monkeypatch):
    read = []
    original = layering.classify

    def spy(path, data):
        read.append((path, len(data)))
        return original(path, data)
    monkeypatch.setattr(layering, "classify", spy)
    scan_of("classic", [[entry("srv/big.key", KEY + b"x" * (200 * 1024)), entry("srv/data.bin", b"y" * 1000)]])
    assert read == [("/srv/big.key", scanning.MAX_READ)]


def many_files_save(count):
    """A classic save of one layer of `count` empty files, made as it is read (the test's memory stays flat)."""
    layer_size = count * 512 + 1024
    header = tarfile.TarInfo("0" * 64 + "/layer.tar")
    header.size = layer_size
    yield header.tobuf(format=tarfile.USTAR_FORMAT)
    for number in range(count):
        yield tarfile.TarInfo("data/%d/f%d" % (number // 1000, number)).tobuf(format=tarfile.USTAR_FORMAT)
    yield b"\0" * 1024
    manifest = json.dumps([{"Config": "c.json", "Layers": ["0" * 64 + "/layer.tar"]}]).encode()
    info = tarfile.TarInfo("manifest.json")
    info.size = len(manifest)
    yield info.tobuf(format=tarfile.USTAR_FORMAT) + manifest + b"\0" * (512 - len(manifest) % 512)
    yield b"\0" * 1024


class HeadersAlive(object):
    """A file object over a stream that counts the tar headers (TarInfo) alive at every 2 MiB read."""

    def __init__(self, chunks):
        self.stream = CountingStream(chunks)
        self.counts = []

    def read(self, size=-1):
        before = self.stream.bytes_read
        data = self.stream.read(size)
        if before >> 21 != self.stream.bytes_read >> 21:
            self.counts.append(sum(1 for thing in gc.get_objects() if isinstance(thing, tarfile.TarInfo)))
        return data


def test_memory_does_not_grow_with_the_number_of_files():
    # Stream mode keeps every header it read unless told otherwise, in the save's tar and in each layer's.
    stream = HeadersAlive(many_files_save(20000))  # 10 MB of headers: counted 4 times
    scan = scan_save(stream)
    assert scan.files == 20000 and scan.incomplete is None and scan.layers == 1
    assert len(stream.counts) >= 4 and max(stream.counts) < 10, stream.counts


def test_a_layer_keeps_8_bytes_per_entry():
    record = layering.read_layer(io.BytesIO(layer_tar([entry("f%d" % number, b"") for number in range(1000)])),
                                 layering.Budget(ScanLimits(), lambda: 0, 1), layering.PathHasher())
    assert record.others.itemsize == 8 and len(record.others) == 1000 and record.setid == [] and record.secrets == []


# --- the stream from the Engine -------------------------------------------------------------------------------

class SaveAPI(object):
    """The SDK method scan_image uses, over one save archive, handed over in chunks."""

    def __init__(self, data, error=None):
        self.data, self.error, self.asked = data, error, []

    def get_image(self, image):
        self.asked.append(image)
        if self.error is not None:
            raise self.error
        return iter([self.data[start:start + 4096] for start in range(0, len(self.data), 4096)])


def client_of(api):
    return CountingClient(connection_from({}), api_factory=lambda version: api)


def test_scan_image_reads_the_save_once_and_counts_its_bytes():
    data, image_id = save_of("classic", [BASE, [entry("usr/bin/.wh.su")]])
    api = SaveAPI(data)
    client = client_of(api)
    scan = scan_image(client, image_id)
    assert api.asked == [image_id] and client.calls == {"get_image": 1}
    assert scan.bytes_read == len(data) and scan.setgid == ["/usr/bin/wall"] and scan.setuid == []


def test_an_engine_that_takes_longer_than_the_cap_to_answer_gives_an_incomplete_scan():
    scan = scan_image(client_of(SaveAPI(b"", error=socket.timeout("timed out"))), "sha256:" + "a" * 64,
                      ScanLimits(seconds=7))
    assert scan.incomplete == "stopped after 7 s (scan_max_seconds) waiting for the Engine to send the image"

    def stalled():
        yield b"x" * 512
        raise socket.timeout("timed out")
    stream = CountingStream(stalled(), ScanLimits(seconds=7), deadline=10 ** 9)
    assert "waiting for the Engine" in scan_save(stream, ScanLimits(seconds=7)).incomplete
