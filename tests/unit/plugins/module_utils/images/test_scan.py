# -*- coding: utf-8 -*-
"""The layer scan: setuid/setgid files and secret files from a streamed filesystem archive, never a value."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.images import scan as scanning
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import (
    CountingStream, LayerScan, classify, member_path, scan_archive, scan_image,
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


class FakeClient(object):
    """CountingClient's call() over a canned export; records calls."""

    def __init__(self, data, fail_export=False):
        self.data = data
        self.fail_export = fail_export
        self.calls = []

    def call(self, endpoint, *args, **kwargs):
        self.calls.append((endpoint, args, kwargs))
        if endpoint == "create_container":
            return {"Id": "c" * 64}
        if endpoint == "export":
            if self.fail_export:
                raise RuntimeError("export broke")
            return iter(chunks(self.data, 4096))
        return None


def test_scan_image_creates_never_starts_streams_and_always_removes():
    client = FakeClient(archive([("/usr/bin/su", b"x", 0o4755)]))
    result = scan_image(client, "sha256:" + "a" * 64)
    assert [call[0] for call in client.calls] == ["create_container", "export", "remove_container"]
    create = client.calls[0]
    assert create[2]["network_disabled"] is True and create[2]["command"] == scanning.SCAN_COMMAND
    assert client.calls[2][2] == {"v": True, "force": True}
    assert result.setuid == ["/usr/bin/su"] and result.bytes_read == len(client.data)
    broken = FakeClient(b"", fail_export=True)
    with pytest.raises(RuntimeError):
        scan_image(broken, "sha256:" + "a" * 64)
    assert broken.calls[-1][0] == "remove_container"
