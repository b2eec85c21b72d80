# -*- coding: utf-8 -*-
"""The layer scan: setuid/setgid files and secret files from a streamed filesystem archive, never a value."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.images import scan as scanning
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import (
    CountingStream, LayerScan, ScanLimits, classify, member_path, scan_archive,
)

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
PRIVATE_KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + SECRET.encode() + b"\n-----END OPENSSH PRIVATE KEY-----\n"
CERTIFICATE = b"-----BEGIN CERTIFICATE-----\nMIIB" + SECRET.encode() + b"\n-----END CERTIFICATE-----\n"


def archive(entries, prefix=""):
    """A tar archive (bytes) of (path, content bytes or None for a directory, mode) entries."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, data, mode in entries:
            info = tarfile.TarInfo(prefix + path.lstrip("/"))
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def chunks(data, size=7):
    return [data[start:start + size] for start in range(0, len(data), size)]


SECRET_FILES = [
    ("/root/.ssh/id_rsa", PRIVATE_KEY, "private key"),
    ("/etc/ssl/private/server.key", PRIVATE_KEY, "private key"),
    ("/app/tls.pem", PRIVATE_KEY, "private key"),
    ("/app/.env", b"# settings\nexport DB_PASSWORD=" + SECRET.encode() + b"\nDEBUG=1\n", ".env file with secret values"),
    ("/app/.env.production", b"API_TOKEN='" + SECRET.encode() + b"'\n", ".env file with secret values"),
    ("/root/.aws/credentials", b"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + SECRET.encode() + b"\n",
     "AWS credentials"),
    ("/root/.config/gcloud/application_default_credentials.json",
     json.dumps({"type": "authorized_user", "refresh_token": SECRET}).encode(), "gcloud credentials"),
    ("/root/.config/gcloud/legacy_credentials/me/adc_credentials.json",
     json.dumps({"private_key": PRIVATE_KEY.decode()}).encode(), "gcloud credentials"),
    ("/root/.azure/msal_token_cache.json", json.dumps({"AccessToken": {"x": {"secret": SECRET}}}).encode(), "Azure credentials"),
    ("/home/app/.npmrc", b"//registry.npmjs.org/:_authToken=" + SECRET.encode() + b"\n", ".npmrc auth token"),
    ("/root/.pypirc", b"[pypi]\nusername = __token__\npassword = " + SECRET.encode() + b"\n", ".pypirc password"),
    ("/root/.docker/config.json", json.dumps({"auths": {"registry.example.com": {"auth": "dXNlcjpw" + SECRET}}}).encode(),
     "Docker registry credentials"),
    ("/root/.git-credentials", b"https://bot:" + SECRET.encode() + b"@git.example.com\n", "git credentials"),
    ("/root/.netrc", b"machine example.com login bot password " + SECRET.encode() + b"\n", ".netrc password"),
]

HARMLESS_FILES = [
    ("/etc/ssl/certs/ca.pem", CERTIFICATE),                       # a certificate, not a key
    ("/usr/share/doc/id_rsa.key", b"not a key at all\n"),
    ("/app/.env", b"DEBUG=1\nPASSWORD_FILE=/run/secrets/db\nTOKEN=$TOKEN\n"),
    ("/app/.env.example", b"DB_PASSWORD=" + SECRET.encode() + b"\n"),  # a template, by convention
    ("/root/.aws/config", b"[default]\nregion = eu-west-1\n"),
    ("/root/.azure/azureProfile.json", json.dumps({"subscriptions": [{"id": "1234", "name": "dev"}]}).encode()),
    ("/home/app/.npmrc", b"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
    ("/root/.pypirc", b"[distutils]\nindex-servers = pypi\n"),
    ("/root/.docker/config.json", json.dumps({"auths": {"registry.example.com": {}}, "credsStore": "pass"}).encode()),
    ("/root/.git-credentials", b""),
    ("/root/.netrc", b"machine example.com login anonymous\n"),
    ("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
]


@pytest.mark.parametrize("path,data,kind", SECRET_FILES)
def test_secret_files_are_found_by_path_and_content(path, data, kind):
    assert classify(path, data) == kind


@pytest.mark.parametrize("path,data", HARMLESS_FILES)
def test_harmless_files_are_not_secrets(path, data):
    assert classify(path, data) is None


def test_member_paths():
    assert member_path("./etc/passwd") == "/etc/passwd"
    assert member_path("etc/passwd") == "/etc/passwd"
    assert member_path(".env") == "/.env"
    assert member_path("./.env") == "/.env"
    assert member_path("usr/bin/") == "/usr/bin"


@pytest.mark.parametrize("prefix", ["", "./"])
def test_scan_archive_finds_special_bits_and_secret_files_and_keeps_no_value(prefix):
    entries = [("/usr", None, 0o755), ("/usr/bin", None, 0o755),
               ("/usr/bin/su", b"\x7fELF", 0o4755), ("/usr/bin/wall", b"\x7fELF", 0o2755),
               ("/usr/bin/both", b"\x7fELF", 0o6755), ("/tmp", None, 0o1777),
               ("/usr/bin/ls", b"\x7fELF", 0o755)]
    entries += [(path, data, 0o600) for path, data, _kind in SECRET_FILES]
    entries += [("/harmless" + path, data, 0o644) for path, data in HARMLESS_FILES]
    result = scan_archive(CountingStream(chunks(archive(entries, prefix), 1000)))
    assert result.setuid == ["/usr/bin/su", "/usr/bin/both"] and result.setuid_count == 2
    assert result.setgid == ["/usr/bin/wall", "/usr/bin/both"] and result.setgid_count == 2
    found = dict((entry["path"], entry) for entry in result.secret_files)
    assert sorted(found) == sorted(path for path, _data, _kind in SECRET_FILES)
    for path, data, kind in SECRET_FILES:
        assert found[path] == {"path": path, "kind": kind, "length": len(data)}
    assert result.files == 4 + len(SECRET_FILES) + len(HARMLESS_FILES)
    assert SECRET not in json.dumps(result.to_dict())  # the directory mode 1777 is not setuid either


def test_only_candidates_are_read_and_only_the_first_64_kib(monkeypatch):
    read = []
    original = scanning.classify

    def spy(path, data):
        read.append((path, len(data)))
        return original(path, data)
    monkeypatch.setattr(scanning, "classify", spy)
    big_key = PRIVATE_KEY + b"x" * (200 * 1024)
    scan_archive(io.BytesIO(archive([("/srv/big.key", big_key, 0o600), ("/srv/data.bin", b"y" * 1000, 0o644)])))
    assert read == [("/srv/big.key", scanning.MAX_READ)]


def test_listed_paths_are_bounded_but_counts_are_exact(monkeypatch):
    monkeypatch.setattr(scanning, "MAX_LISTED", 3)
    entries = [("/bin/s%d" % number, b"x", 0o4755) for number in range(10)]
    result = scan_archive(io.BytesIO(archive(entries)))
    assert len(result.setuid) == 3 and result.setuid_count == 10


def test_counting_stream_reads_exact_sizes_across_chunks():
    stream = CountingStream([b"abc", b"", b"defgh", b"ij"])
    assert stream.read(2) == b"ab"
    assert stream.read(4) == b"cdef"
    assert stream.bytes_read == 8
    assert stream.read() == b"ghij"
    assert stream.read(5) == b""
    assert stream.bytes_read == 10


def test_layer_scan_round_trips_and_rejects_other_shapes():
    original = LayerScan(["/bin/su"], [], secret_files=[{"path": "/k", "kind": "private key", "length": 3}], files=9,
                         bytes_read=100)
    assert LayerScan.from_dict(json.loads(json.dumps(original.to_dict()))).to_dict() == original.to_dict()
    for bad in (None, [], {"setuid": []}, dict(original.to_dict(), files="9"),
                dict(original.to_dict(), secret_files=[{"path": "/k", "value": "x"}]),
                dict(original.to_dict(), extra=1)):
        with pytest.raises(ValueError):
            LayerScan.from_dict(bad)


# --- hostile archives: names, memory --------------------------------------------------------------

# Raw names as an image can hold them (bytes), and how the scan shows them: undecodable bytes and control
# characters as backslash escapes, so the result is always text Ansible (and JSON in UTF-8) can carry.
ODD_NAMES = [
    (b"usr/bin/\xff", "/usr/bin/\\xff"),
    (b"usr/bin/ok\x1b[31m", "/usr/bin/ok\\x1b[31m"),
    (b"usr/bin/tab\there", "/usr/bin/tab\\x09here"),
    (b"usr/bin/new\nline", "/usr/bin/new\\x0aline"),
    (b"usr/bin/\xe2\x80\xae-rtl", "/usr/bin/\\u202e-rtl"),
    (b"usr/bin/caf\xc3\xa9", "/usr/bin/caf\u00e9"),
    (b"usr/bin/\xed\xa0\x80surrogate", "/usr/bin/\\xed\\xa0\\x80surrogate"),
]


def raw_archive(entries, tar_format=tarfile.PAX_FORMAT):
    """A tar archive of (raw name bytes, content, mode, type) entries, names written byte for byte."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format, encoding="utf-8", errors="surrogateescape") as tar:
        for name, data, mode, kind in entries:
            info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
            info.mode, info.type = mode, kind
            if kind == tarfile.LNKTYPE:
                info.linkname = data.decode("utf-8", "surrogateescape")
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("tar_format", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_odd_names_are_shown_escaped_and_the_scan_is_utf8_text(tar_format):
    entries = [(name, b"\x7fELF", 0o4755, tarfile.REGTYPE) for name, _shown in ODD_NAMES]
    entries.append((b"root/.ssh/\xffid_rsa", PRIVATE_KEY, 0o600, tarfile.REGTYPE))
    entries.append((b"app/\x1b]0;pwned\x07/.env", b"DB_PASSWORD=" + SECRET.encode() + b"\n", 0o600, tarfile.REGTYPE))
    result = scan_archive(io.BytesIO(raw_archive(entries, tar_format)))
    assert result.setuid == [shown for _name, shown in ODD_NAMES]
    assert sorted(entry["path"] for entry in result.secret_files) == ["/app/\\x1b]0;pwned\\x07/.env"]
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate: Ansible refuses a result that holds one
    assert LayerScan.from_dict(json.loads(text)).to_dict() == result.to_dict()


def empty_files_tar(count, directory="data"):
    """A tar stream of `count` empty files, made as it is read (the test's own memory stays flat)."""
    for number in range(count):
        info = tarfile.TarInfo("%s/%d/f%d" % (directory, number // 1000, number))
        yield info.tobuf(format=tarfile.USTAR_FORMAT)
    yield b"\0" * 1024


class HeadersAlive(object):
    """A file object over a tar stream that counts the tar headers (TarInfo) alive at every 2 MiB read."""

    def __init__(self, chunks_):
        self.stream = CountingStream(chunks_)
        self.counts = []

    def read(self, size=-1):
        before = self.stream.bytes_read
        data = self.stream.read(size)
        if before >> 21 != self.stream.bytes_read >> 21:
            import gc  # pylint: disable=import-outside-toplevel
            self.counts.append(sum(1 for thing in gc.get_objects() if isinstance(thing, tarfile.TarInfo)))
        return data


def test_memory_does_not_grow_with_the_number_of_files():
    # Stream mode keeps every header it read unless told otherwise: 400,000 empty files took 260 MiB.
    stream = HeadersAlive(empty_files_tar(20000))  # 10 MB of headers: counted 4 times
    result = scan_archive(stream)
    assert result.files == 20000 and result.incomplete is None
    assert len(stream.counts) >= 4 and max(stream.counts) < 10, stream.counts


def test_deep_paths_are_shortened_in_the_middle_and_hard_links_count():
    deep = b"/".join([b"d%03d" % number for number in range(900)]) + b"/setuid-tool"  # 4,500 characters
    entries = [(deep, b"\x7fELF", 0o4755, tarfile.REGTYPE),
               (b"usr/bin/linked", deep, 0o4755, tarfile.LNKTYPE)]
    result = scan_archive(io.BytesIO(raw_archive(entries)))
    assert result.setuid_count == 2 and result.files == 2
    shown = result.setuid[0]
    assert len(shown) == scanning.MAX_PATH_SHOWN - 1 and shown.startswith("/d000/d001/") and shown.endswith("/d899/setuid-tool")
    assert "..." in shown and result.setuid[1] == "/usr/bin/linked"
    assert LayerScan.from_dict(result.to_dict()).setuid == result.setuid


def test_the_entry_cap_stops_the_scan_and_keeps_what_it_found():
    entries = [("/bin/s%d" % number, b"x", 0o4755) for number in range(10)]
    result = scan_archive(io.BytesIO(archive(entries)), ScanLimits(entries=4))
    assert result.incomplete == "stopped after 4 archive entries (scan_max_entries)"
    assert result.setuid_count == 4 and result.files == 4
    assert scan_archive(io.BytesIO(archive(entries)), ScanLimits(entries=10)).incomplete is None


def test_the_byte_cap_stops_inside_a_huge_file():
    data = archive([("/big.bin", b"z" * 200000, 0o644), ("/bin/su", b"x", 0o4755)])
    stream = CountingStream(chunks(data, 8192), ScanLimits(bytes=50000))
    result = scan_archive(stream, ScanLimits(bytes=50000))
    assert result.incomplete.startswith("stopped after ") and result.incomplete.endswith("(scan_max_bytes)")
    assert stream.bytes_read <= 50000 + 8192 and result.setuid_count == 0


def test_the_time_cap_stops_the_scan():
    ticks = iter(range(1000))

    def clock():  # one second per look at the clock
        return next(ticks)
    entries = [("/bin/s%d" % number, b"x", 0o755) for number in range(50)]
    limits = ScanLimits(seconds=5)
    result = scan_archive(CountingStream(chunks(archive(entries), 512), limits, 5, clock), limits, clock, deadline=5)
    assert "scan_max_seconds" in result.incomplete and result.files < 50


@pytest.mark.parametrize("bad", [{"entries": 0}, {"bytes": -5}, {"seconds": 1.5}, {"entries": True}])
def test_limits_are_positive_integers(bad):
    with pytest.raises(ValueError):
        ScanLimits(**bad)


@pytest.mark.parametrize("field,value", [
    ("setuid", ["/usr/bin/\udcff"]), ("setuid", ["/usr/bin/a\x1bb"]), ("setgid", ["relative/path"]),
    ("setuid", ["/" + "x" * 600]), ("secret_files", [{"path": "/k", "kind": "whatever", "length": 1}]),
    ("secret_files", [{"path": "/k\n", "kind": "private key", "length": 1}]), ("files", -1), ("incomplete", "a\x00b"),
])
def test_a_scan_with_text_a_scan_never_makes_is_refused(field, value):
    data = LayerScan(["/bin/su"], files=1).to_dict()
    data[field] = value
    with pytest.raises(ValueError):
        LayerScan.from_dict(data)
