# -*- coding: utf-8 -*-
"""What the layer scan looks for and keeps: secret files by path and content, never a value; the result type; the
stream. Archives (docker save, every layer) are tested in test_save.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.images import scan as scanning
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import (
    CountingStream, LayerScan, ScanLimits, classify, member_path,
)

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
PRIVATE_KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + SECRET.encode() + b"\n-----END OPENSSH PRIVATE KEY-----\n"
CERTIFICATE = b"-----BEGIN CERTIFICATE-----\nMIIB" + SECRET.encode() + b"\n-----END CERTIFICATE-----\n"


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


CANDIDATE_PATHS = [path for path, _data, _kind in SECRET_FILES] + [path for path, _data in HARMLESS_FILES] + [
    "/k/" + name for name in scanning.KEY_NAMES] + [
    "/srv/x" + glob[1:] for glob in scanning.KEY_GLOBS] + [
    "/srv/.env", "/srv/.env.staging_2", "/a/.azure/b/c", "/a/.config/gcloud/x-credentials-y.json", "/h/_netrc"]


@pytest.mark.parametrize("path", CANDIDATE_PATHS)
def test_every_candidate_path_holds_a_hint_that_package_lists_are_skimmed_for(path):
    if scanning.candidate(path) is not None:
        assert any(hint in path.encode() for hint in scanning.CANDIDATE_HINTS), path


def test_member_paths():
    assert member_path("./etc/passwd") == "/etc/passwd"
    assert member_path("etc/passwd") == "/etc/passwd"
    assert member_path(".env") == "/.env"
    assert member_path("./.env") == "/.env"
    assert member_path("usr/bin/") == "/usr/bin"


def test_counting_stream_reads_exact_sizes_across_chunks():
    stream = CountingStream([b"abc", b"", b"defgh", b"ij"])
    assert stream.read(2) == b"ab"
    assert stream.read(4) == b"cdef"
    assert stream.bytes_read == 8
    assert stream.read() == b"ghij"
    assert stream.read(5) == b""
    assert stream.bytes_read == 10


def test_layer_scan_round_trips_and_rejects_other_shapes():
    original = LayerScan(["/bin/su"], [], secret_files=[{"path": "/k", "kind": "private key", "length": 3, "layer": 2,
                                                         "removed_in": 3, "removal": "deleted"}],
                         files=9, bytes_read=100, layers=3, setid_in_layers=2, setid_removed=1)
    assert LayerScan.from_dict(json.loads(json.dumps(original.to_dict()))).to_dict() == original.to_dict()
    for bad in (None, [], {"setuid": []}, dict(original.to_dict(), files="9"),
                dict(original.to_dict(), secret_files=[{"path": "/k", "value": "x"}]),
                dict(original.to_dict(), extra=1)):
        with pytest.raises(ValueError):
            LayerScan.from_dict(bad)


def test_secret_files_given_without_a_layer_or_package_have_none():
    scan = LayerScan(secret_files=[{"path": "/k", "kind": "private key", "length": 3}])
    assert scan.secret_files == [{"path": "/k", "kind": "private key", "length": 3, "layer": None, "removed_in": None,
                                  "removal": None, "package": None, "package_source": None}]
    assert scan.secret_count == 1 and scan.secrets_removed == 0


@pytest.mark.parametrize("tar_name,shown", [
    (b"usr/bin/\xff", "/usr/bin/\\xff"), (b"usr/bin/ok\x1b[31m", "/usr/bin/ok\\x1b[31m"),
    (b"usr/bin/caf\xc3\xa9", "/usr/bin/caf\u00e9"), (b"./usr/bin/", "/usr/bin"),
])
def test_names_are_shown_escaped(tar_name, shown):
    assert member_path(tar_name.decode("utf-8", "surrogateescape")) == shown


@pytest.mark.parametrize("bad", [{"entries": 0}, {"bytes": -5}, {"seconds": 1.5}, {"entries": True}])
def test_limits_are_positive_integers(bad):
    with pytest.raises(ValueError):
        ScanLimits(**bad)


SECRET_ENTRY = {"path": "/k", "kind": "private key", "length": 1, "layer": 1, "removed_in": None, "removal": None}


@pytest.mark.parametrize("field,value", [
    ("setuid", ["/usr/bin/\udcff"]), ("setuid", ["/usr/bin/a\x1bb"]), ("setgid", ["relative/path"]),
    ("setuid", ["/" + "x" * 600]), ("secret_files", [dict(SECRET_ENTRY, kind="whatever")]),
    ("secret_files", [dict(SECRET_ENTRY, path="/k\n")]), ("files", -1), ("incomplete", "a\x00b"),
    ("secret_files", [dict(SECRET_ENTRY, layer=0)]), ("secret_files", [dict(SECRET_ENTRY, removed_in=2)]),
    ("secret_files", [dict(SECRET_ENTRY, removed_in=2, removal="vanished")]), ("layers", "3"), ("setid_removed", None),
    ("secret_files", [{"path": "/k", "kind": "private key", "length": 1}]),  # format 2's entries
])
def test_a_scan_with_text_a_scan_never_makes_is_refused(field, value):
    data = LayerScan(["/bin/su"], files=1).to_dict()
    data[field] = value
    with pytest.raises(ValueError):
        LayerScan.from_dict(data)
