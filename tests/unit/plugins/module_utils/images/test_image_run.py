# -*- coding: utf-8 -*-
"""run_image_audit: selection, the call budget (reads only), the cache's effect on calls, waivers, layers, caps,
no secret in the result, and the whole audit without the Docker SDK over a socket."""

from __future__ import annotations

import copy
import http.server
import json
import os
import socketserver
import threading
import urllib.parse

import pytest
from docker.errors import NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import connection as engine
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from
from ansible_collections.bulwark.hardening.plugins.module_utils.images.cache import FORMAT
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.image_run import run_image_audit, select_images

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import load
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all
from save_tars import entry, save_of

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE" + SECRET.encode() + b"\n-----END RSA PRIVATE KEY-----\n"
# Every Engine call the image audit may make: reads, nothing that creates, starts or removes anything.
READS = {"images", "inspect_image", "history", "get_image"}


def image_id(number):
    return "sha256:" + str(number) * 64


class FakeAPI(object):
    """The APIClient methods run_image_audit uses, over three images, each with its layers (entry lists, see
    save_tars) saved as `docker save` of Docker 20.10 writes them. It has no method that creates or removes."""

    def __init__(self, layout="classic"):
        base = load("image.json")
        self.layout = layout
        self.images_data = {}
        self.layers = {}
        self.saved = []
        for number, (tags, user, layers) in enumerate([
            (["app:1.0"], "65534", [[entry("bin/app", b"x", 0o755)]]),
            (["tools:latest"], "", [[entry("usr/bin/su", b"x", 0o4755)], [entry("root/.ssh/id_rsa", KEY, 0o600)]]),
            (None, "", [[entry("bin/sh", b"x", 0o755)]]),
        ], start=1):
            data = copy.deepcopy(base)
            data.update({"Id": image_id(number), "RepoTags": tags or [], "RepoDigests": []})
            data["Config"]["User"] = user
            self.images_data[image_id(number)] = data
            self.layers[image_id(number)] = layers

    def save(self, image):
        """The save archive (bytes) of an image, as the Engine streams it."""
        return save_of(self.layout, self.layers[image])[0]

    def images(self):
        return [{"Id": data["Id"], "RepoTags": data["RepoTags"] or None, "RepoDigests": []}
                for data in self.images_data.values()]

    def inspect_image(self, name):
        if name not in self.images_data:
            raise NotFound("no such image")
        return self.images_data[name]

    def history(self, name):
        if name == image_id(2):
            return [{"CreatedBy": "ENV API_TOKEN=" + SECRET}, {"CreatedBy": "ADD file:abc in / "}]
        return [{"CreatedBy": "COPY app /bin/app # buildkit"}]

    def get_image(self, image):
        if image not in self.layers:
            raise NotFound("No such image: %s" % image)
        self.saved.append(image)
        data = self.save(image)
        return iter([data[start:start + 1000] for start in range(0, len(data), 1000)])


def audit(fake, tmp_path, **options):
    client = CountingClient(connection_from({}), api_factory=lambda version: fake)
    options.setdefault("cache_dir", str(tmp_path / "cache"))
    options.setdefault("report", "all")
    return run_image_audit(client=client, **options)


def failing(result):
    found = {}
    for finding in result["findings"]:
        if finding["status"] == "fail":
            found.setdefault(finding["target"], set()).add(finding["rule"])
    return found


def test_every_image_audited_with_exact_failures_and_the_call_budget(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path)
    assert result["images"] == 2  # the dangling one is left out
    assert failing(result) == {
        "app:1.0": {"4.6", "BW-005"},
        "tools:latest": {"4.1", "4.6", "4.8", "4.10", "BW-005", "BW-010", "BW-011"},  # the ENV is in history only
    }
    assert result["api_calls_by_endpoint"] == {"images": 1, "inspect_image": 2, "history": 2, "get_image": 2}
    assert sorted(fake.saved) == [image_id(1), image_id(2)]
    assert "scan_containers" not in result and "scan_leftovers_removed" not in result  # nothing is made to remove
    assert result["cache"]["misses"] == 2 and result["cache"]["written"] == 2
    assert result["cache"]["bytes_read"] == sum(len(fake.save(image_id(n))) for n in (1, 2))
    assert SECRET not in json.dumps(result)


def test_second_run_hits_the_cache_without_reading_any_image(tmp_path):
    audit(FakeAPI(), tmp_path)
    fake = FakeAPI()
    result = audit(fake, tmp_path)
    assert result["cache"]["hits"] == 2 and result["cache"]["misses"] == 0 and result["cache"]["bytes_read"] == 0
    assert "get_image" not in result["api_calls_by_endpoint"] and fake.saved == []
    assert "BW-010" in failing(result)["tools:latest"]  # decided from the cached scan
    assert len(os.listdir(str(tmp_path / "cache"))) == 2  # the two scans, nothing else


def test_a_scan_cached_by_the_export_era_format_is_read_again(tmp_path):
    # Format 2 scanned the merged filesystem only: blind to the layers below. Its entries are rescanned.
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    old = {"format": 2, "image_id": image_id(2), "scan": {
        "setuid": ["/usr/bin/su"], "setgid": [], "setuid_count": 1, "setgid_count": 0, "secret_files": [], "files": 2,
        "bytes_read": 1, "incomplete": None}}
    path = cache / (image_id(2)[len("sha256:"):] + ".json")
    path.write_text(json.dumps(old))
    os.chmod(str(path), 0o600)
    fake = FakeAPI()
    result = audit(fake, tmp_path, images=["tools:latest"])
    assert FORMAT > 2 and fake.saved == [image_id(2)] and result["cache"]["ignored"] == 1 and result["cache"]["written"] == 1
    assert "BW-010" in failing(result)["tools:latest"]


def test_check_mode_writes_no_cache_and_creates_no_directory(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path, check_mode=True)
    assert result["cache"]["written"] == 0 and not (tmp_path / "cache").exists()
    assert sorted(fake.saved) == [image_id(1), image_id(2)] and "BW-010" in failing(result)["tools:latest"]


def test_without_layer_scan_no_image_is_read_and_file_rules_skip(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path, layer_scan=False)
    assert fake.saved == [] and set(result["api_calls_by_endpoint"]) == {"images", "inspect_image", "history"}
    skipped = set(f["rule"] for f in result["findings"] if f["status"] == "skipped" and f["target"] == "tools:latest")
    assert {"4.8", "BW-010"} <= skipped


def test_dangling_images_with_include_dangling_or_by_id(tmp_path):
    assert audit(FakeAPI(), tmp_path, include_dangling=True)["images"] == 3
    by_id = audit(FakeAPI(), tmp_path, images=[image_id(3)[7:19]])
    assert by_id["images"] == 1 and set(failing(by_id)) == {image_id(3)[7:19]}


def test_waivers_and_bad_input(tmp_path):
    result = audit(FakeAPI(), tmp_path, waivers=[{"rule": "4.6", "target": "app:*", "reason": "batch job"}])
    assert "4.6" not in failing(result)["app:1.0"]
    with pytest.raises(AuditError):
        audit(FakeAPI(), tmp_path, waivers=[{"rule": "4.99", "reason": "x"}])
    with pytest.raises(AuditError):
        audit(FakeAPI(), tmp_path, report="some")


SUMMARIES = [
    {"Id": image_id(1), "RepoTags": ["registry.example.com/team/app:1.0", "app:latest"], "RepoDigests": []},
    {"Id": image_id(2), "RepoTags": ["tools:2"], "RepoDigests": ["docker.io/library/tools@sha256:" + "f" * 64]},
    {"Id": image_id(3), "RepoTags": None, "RepoDigests": None},
    {"Id": image_id(4), "RepoTags": ["<none>:<none>"], "RepoDigests": []},
]


@pytest.mark.parametrize("patterns,dangling,expected", [
    ([], False, [1, 2]),
    ([], True, [1, 2, 3, 4]),
    (["app"], False, [1]),                            # a repository: all its tags
    (["app:latest"], False, [1]),
    (["registry.example.com/*"], False, [1]),
    (["tools"], False, [2]),
    (["docker.io/library/tools@sha256:*"], False, [2]),
    ([image_id(3)[7:19]], False, [3]),                # an id names a dangling image too
    (["sha256:" + "4" * 64], False, [4]),
    (["nothing*"], True, []),
])
def test_select_images(patterns, dangling, expected):
    chosen = select_images(SUMMARIES, patterns, dangling)
    assert [summary["Id"] for summary in chosen] == [image_id(n) for n in expected]


def test_level_1_leaves_out_the_level_2_image_rules(tmp_path):
    result = audit(FakeAPI(), tmp_path, level=1)
    assert failing(result) == {
        "app:1.0": {"4.6"},
        "tools:latest": {"4.1", "4.6", "4.10", "BW-010", "BW-011"},  # not 4.8 (setuid), BW-005 (pinning): Level 2
    }
    assert not set(finding["rule"] for finding in result["findings"]) & {"4.8", "BW-005", "BW-006"}
    assert result["summary"]["level"] == 1 and "4.8" not in result["summary"]["failed_rules"]
    everything = audit(FakeAPI(), tmp_path)
    assert everything["summary"]["level"] == 2
    assert result["summary"]["total"] == sum(1 for finding in expand_all(everything) if finding["level"] == 1)


def test_level_1_keeps_waivers_of_level_2_rules_valid(tmp_path):
    result = audit(FakeAPI(), tmp_path, level=1, waivers=[{"rule": "4.8", "reason": "Level 2 only"}])
    assert result["summary"]["by_status"]["waived"] == 0
    with pytest.raises(AuditError, match="level must be one of 1, 2"):
        audit(FakeAPI(), tmp_path, level=3)


# --- layers, names ansible-core can carry, images that cannot be read ----------------------------------

@pytest.mark.parametrize("layout", ["classic", "oci"])
def test_a_secret_a_later_layer_deleted_fails_bw_010_and_4_10_saying_where(tmp_path, layout):
    fake = FakeAPI(layout)
    fake.layers[image_id(1)] = [[entry("bin/app", b"x", 0o755)], [entry("root/.ssh/id_rsa", KEY, 0o600)],
                                [entry("root/.ssh/.wh.id_rsa", b"")]]
    result = audit(fake, tmp_path, images=["app:1.0"])
    findings = dict((f["rule"], f) for f in result["findings"])
    assert findings["BW-010"]["status"] == "fail" and findings["4.10"]["status"] == "fail"
    assert ("1 secret files: /root/.ssh/id_rsa (private key, %d bytes, layer 2 of 3, deleted in layer 3)" % len(KEY)) \
        in findings["BW-010"]["evidence"]
    assert "still in the image" in findings["BW-010"]["evidence"]
    assert "1 secret files in the layers (BW-010), 1 of them deleted or overwritten by a later layer, still in the image" \
        in findings["4.10"]["evidence"]
    assert SECRET not in json.dumps(result)


def test_a_setuid_file_a_later_layer_removed_passes_4_8_saying_so(tmp_path):
    fake = FakeAPI()
    fake.layers[image_id(2)] = [[entry("usr/bin/su", b"x", 0o4755)], [entry("usr/bin/su", b"x", 0o755)]]
    result = audit(fake, tmp_path, images=["tools:latest"])
    four_eight = dict((f["rule"], f) for f in result["findings"])["4.8"]
    assert four_eight["status"] == "pass"
    assert four_eight["evidence"] == ("no setuid or setgid file among 2 files in 2 layers; 1 more in lower layers, "
                                      "deleted or replaced by later ones")


def test_a_setuid_file_with_a_name_that_is_not_utf8_is_reported_and_cached(tmp_path):
    fake = FakeAPI()
    fake.layers[image_id(1)] = [[entry(b"usr/bin/\xff", b"x", 0o4755)]]
    for _run in range(2):  # scanned, then from the cache
        result = audit(fake, tmp_path, images=["app:1.0"])
        json.dumps(result, ensure_ascii=False).encode("utf-8")  # what ansible-core needs of a module result
        evidence = [f["evidence"] for f in result["findings"] if f["rule"] == "4.8"]
        assert evidence == ["files with special permission bits: 1 setuid (/usr/bin/\\xff)"]
    assert result["cache"]["hits"] == 1


def test_an_image_removed_meanwhile_is_a_scan_error_and_the_others_are_scanned(tmp_path):
    fake = FakeAPI()
    del fake.layers[image_id(1)]  # listed and inspected, gone before its save
    result = audit(fake, tmp_path)
    assert result["scan_errors"] == [{"image": "app:1.0", "error": "No such image: %s" % image_id(1)}]
    assert fake.saved == [image_id(2)] and "BW-010" in failing(result)["tools:latest"]


def test_a_save_that_is_not_a_tar_is_a_scan_error(tmp_path):
    fake = FakeAPI()
    fake.save = lambda image: b"not a tar" * 200
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert result["scan_errors"][0]["image"] == "app:1.0" and result["cache"]["written"] == 0


# --- caps -------------------------------------------------------------------------------------------

def test_a_capped_scan_says_so_in_the_finding_and_is_not_cached(tmp_path):
    fake = FakeAPI()
    fake.layers[image_id(2)] = [[entry("usr/bin/su", b"x", 0o4755), entry("root/.ssh/id_rsa", KEY, 0o600)]]
    # The save's entries: the layer's directory, VERSION, json and layer.tar, then usr/bin/su inside it.
    result = audit(fake, tmp_path, images=["tools:latest"], scan_max_entries=5)
    findings = dict((f["rule"], f) for f in result["findings"])
    assert findings["4.8"]["status"] == "skipped" and "stopped after 5 archive entries" in findings["4.8"]["evidence"]
    assert "1 setuid or setgid files in the layers read" in findings["4.8"]["evidence"]
    assert findings["BW-010"]["status"] == "skipped" and "scan_max_entries" in findings["BW-010"]["evidence"]
    assert result["scans_incomplete"] == [{"image": "tools:latest",
                                           "reason": "stopped after 5 archive entries (scan_max_entries)"}]
    assert result["cache"]["written"] == 0
    again = audit(fake, tmp_path, images=["tools:latest"])  # no cap now: scanned again, and whole
    assert again["cache"]["misses"] == 1 and again["scans_incomplete"] == []
    assert dict((f["rule"], f["status"]) for f in again["findings"])["BW-010"] == "fail"


def test_a_scan_capped_before_it_found_anything_is_skipped_not_passed(tmp_path):
    fake = FakeAPI()
    fake.layers[image_id(1)] = [[entry("bin/app%d" % n, b"x", 0o755) for n in range(50)] + [entry("bin/zz", b"x", 0o4755)]]
    result = audit(fake, tmp_path, images=["app:1.0"], scan_max_bytes=4096)
    findings = dict((f["rule"], f) for f in result["findings"])
    assert findings["4.8"]["status"] == "skipped" and "scan_max_bytes" in findings["4.8"]["evidence"]
    assert findings["BW-010"]["status"] == "skipped"
    assert "layer files after the scan stopped" in findings["4.10"]["evidence"]


@pytest.mark.parametrize("option,value", [("scan_max_entries", 0), ("scan_max_bytes", -1), ("scan_max_seconds", True)])
def test_caps_must_be_positive(tmp_path, option, value):
    with pytest.raises(AuditError, match=option):
        audit(FakeAPI(), tmp_path, **{option: value})


# --- nothing but Python: the whole audit over a Unix socket without the Docker SDK ---------------------------

class Dockerd(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """A stand-in for dockerd serving FakeAPI's images: the list, inspect, history and docker save (chunked, as
    dockerd sends it). Any other request (a create, a remove) is recorded and refused."""

    daemon_threads = True

    def __init__(self, path, fake):
        self.fake = fake
        self.requests = []
        super().__init__(path, DockerdHandler)


class DockerdHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.server.requests.append(("POST", self.path))
        self._json(405, {"message": "the audit only reads"})

    do_DELETE = do_POST

    def do_GET(self):  # noqa: N802
        self.server.requests.append(("GET", self.path))
        fake = self.server.fake
        parts = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).split("/")[2:]  # after /v1.41
        if parts == ["images", "json"]:
            return self._json(200, fake.images())
        if len(parts) == 3 and parts[0] == "images" and parts[1] in fake.images_data:
            if parts[2] == "json":
                return self._json(200, fake.inspect_image(parts[1]))
            if parts[2] == "history":
                return self._json(200, fake.history(parts[1]))
            if parts[2] == "get":
                return self._chunked(fake.save(parts[1]))
        return self._json(404, {"message": "No such image"})

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunked(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(data), 3000):
            piece = data[start:start + 3000]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def dockerd():
    path = os.path.join("/tmp", "bulwark-image-audit-%d.sock" % os.getpid())
    if os.path.exists(path):
        os.unlink(path)
    server = Dockerd(path, FakeAPI())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, "unix://" + path
    server.shutdown()
    server.server_close()
    os.unlink(path)


def test_the_whole_audit_reads_the_socket_without_the_docker_sdk(dockerd, tmp_path, monkeypatch):
    server, host = dockerd
    monkeypatch.setattr(engine, "HAS_DOCKER", False)
    monkeypatch.setattr(engine, "sdk", lambda: pytest.fail("the SDK was imported"))
    result = run_image_audit(connection=connection_from({"docker_host": host}, environ={}),
                             cache_dir=str(tmp_path / "cache"), report="all")
    assert failing(result)["tools:latest"] == {"4.1", "4.6", "4.8", "4.10", "BW-005", "BW-010", "BW-011"}
    assert result["api_calls_by_endpoint"] == {"images": 1, "inspect_image": 2, "history": 2, "get_image": 2}
    assert set(method for method, _path in server.requests) == {"GET"}
    assert result["cache"]["bytes_read"] == sum(len(server.fake.save(image_id(n))) for n in (1, 2))
