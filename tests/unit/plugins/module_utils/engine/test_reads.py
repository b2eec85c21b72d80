# -*- coding: utf-8 -*-
"""The audit's reads over http.client: a real HTTP server on a Unix socket stands for dockerd.

What must hold: the same answers and exceptions as the SDK (NotFound for 404,
APIError with the daemon's message otherwise), the SDK's query encoding, one
kept-alive connection per thread, a retry when the daemon closed an idle
connection, the version retry of CountingClient, and calls the reader does
not translate going to the SDK.
"""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import threading
import time
import urllib.parse

import pytest
from docker.errors import APIError, NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.engine import connection as engine
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import reads
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.reads import FastReader, request_for


# What the fake answers to docker save (GET /images/<name>/get): 2.5 MB, so that it comes in several chunks.
SAVE_BODY = bytes(range(256)) * 10000


class FakeDockerd(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path, maximum_version="1.41"):
        self.requests = []
        self.connections = 0
        self.close_after_each = False
        self.maximum_version = maximum_version
        super().__init__(path, Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.server.connections += 1

    def address_string(self):
        return "unix"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urllib.parse.urlsplit(self.path)
        self.server.requests.append((url.path, urllib.parse.parse_qs(url.query)))
        version, _slash, path = url.path[2:].partition("/")
        if version != self.server.maximum_version and float(version) > float(self.server.maximum_version):
            return self._answer(400, {"message": "client version %s is too new. Maximum supported API version is %s"
                                      % (version, self.server.maximum_version)})
        if path == "containers/gone/json":
            return self._answer(404, {"message": "No such container: gone"})
        if path == "containers/broken/json":
            return self._answer(500, {"message": "layer does not exist"})
        if path == "containers/json":
            return self._answer(200, [{"Id": "a" * 64, "Names": ["/web"]}])
        if path == "images/gone/get":
            return self._answer(404, {"message": "No such image: gone"})
        if path.startswith("images/") and path.endswith("/get"):
            return self._stream(SAVE_BODY, broken=path == "images/broken/get", wait=path == "images/slow/get")
        return self._answer(200, {"path": "/" + path})

    def _stream(self, body, broken=False, wait=False):
        """A chunked answer as dockerd sends docker save; broken: cut off half way; wait: nothing sent for 1 s."""
        if wait:
            time.sleep(1)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        half = len(body) // 2
        for start in range(0, half if broken else len(body), 70000):
            piece = body[start:min(start + 70000, half if broken else len(body))]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        if broken:
            self.wfile.write(b"%x\r\n" % 5000 + b"x" * 10)  # a chunk announced, never sent whole
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.server.close_after_each:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        if self.server.close_after_each:
            self.close_connection = True


@pytest.fixture()
def dockerd(tmp_path):
    # AF_UNIX paths are limited to about 100 bytes: pytest's tmp_path can be longer.
    path = os.path.join("/tmp", "bulwark-reads-%d.sock" % os.getpid())
    if os.path.exists(path):
        os.unlink(path)
    server = FakeDockerd(path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, "unix://" + path
    server.shutdown()
    server.server_close()
    os.unlink(path)


def client_for(docker_host, api_version=None):
    return engine.CountingClient(engine.connection_from({"docker_host": docker_host, "api_version": api_version}, environ={}))


def test_reads_answer_like_the_sdk_and_count_each_call(dockerd):
    server, host = dockerd
    client = client_for(host)
    assert client.call("inspect_container", "web") == {"path": "/containers/web/json"}
    assert client.call("inspect_image", "registry.example.com:5000/team/app:1.0") == {
        "path": "/images/registry.example.com:5000/team/app:1.0/json"}
    assert client.call("containers", all=True, filters={"label": ["bulwark.bench=1"], "dangling": True})[0]["Names"] == ["/web"]
    assert client.call("info") == {"path": "/info"}
    path, query = server.requests[2]
    assert path == "/v1.41/containers/json"
    assert query["all"] == ["1"] and json.loads(query["filters"][0]) == {"label": ["bulwark.bench=1"], "dangling": ["true"]}
    assert client.calls == {"inspect_container": 1, "inspect_image": 1, "containers": 1, "info": 1}
    assert server.connections == 1  # one kept-alive connection for the thread
    # The SDK was never needed.
    assert client._sdk_api is None  # pylint: disable=protected-access


def test_error_statuses_raise_the_sdks_exceptions_with_the_daemons_message(dockerd):
    _server, host = dockerd
    client = client_for(host)
    with pytest.raises(NotFound) as missing:
        client.call("inspect_container", "gone")
    assert missing.value.status_code == 404 and "No such container: gone" in missing.value.explanation
    with pytest.raises(APIError) as broken:
        client.call("inspect_container", "broken")
    assert not isinstance(broken.value, NotFound) and broken.value.status_code == 500
    with pytest.raises(engine.EngineError, match="layer does not exist"):
        engine.guarded(client, client.call, "inspect_container", "broken")


def test_a_connection_the_daemon_closed_is_opened_again(dockerd):
    server, host = dockerd
    server.close_after_each = True
    client = client_for(host)
    for _round in range(3):
        assert client.call("top", "web") == {"path": "/containers/web/top"}
    assert server.connections == 3


def test_an_older_daemon_answers_at_its_own_version_once(dockerd):
    server, host = dockerd
    server.maximum_version = "1.40"
    client = client_for(host)
    assert client.call("inspect_container", "web") == {"path": "/containers/web/json"}
    assert client.call("diff", "web") == {"path": "/containers/web/changes"}
    assert [path.split("/")[1] for path, _query in server.requests] == ["v1.41", "v1.40", "v1.40"]
    assert client.total == 3


def test_each_thread_keeps_its_own_connection(dockerd):
    server, host = dockerd
    client = client_for(host)
    threads = [threading.Thread(target=lambda: [client.call("inspect_container", "web") for _call in range(5)])
               for _thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.calls["inspect_container"] == 20 and server.connections == 4


def test_a_missing_socket_is_explained():
    client = client_for("unix:///nonexistent/docker.sock")
    with pytest.raises(engine.EngineError, match="the socket does not exist"):
        engine.guarded(client, client.call, "info")


def test_calls_the_reader_does_not_translate_go_to_the_sdk():
    assert request_for("containers", (), {"all": True, "sparse": True}) is None
    assert request_for("inspect_container", ("a", "b"), {}) is None
    assert request_for("create_container", ("image",), {}) is None
    assert request_for("images", (), {}) == ("/images/json", {"only_ids": "0", "all": "0"})
    assert FastReader.for_host("ssh://user@host", 5, None) is None
    assert FastReader.for_host("tcp://10.0.0.5:2375", 5, None) is not None


def test_tls_and_test_doubles_keep_the_sdk():
    tls = engine.CountingClient(engine.connection_from({"docker_host": "tcp://10.0.0.5:2376", "tls": True}, environ={}))
    assert tls._reader is None  # pylint: disable=protected-access
    double = engine.CountingClient(engine.connection_from({}, environ={}), api_factory=lambda version: object())
    assert double._reader is None  # pylint: disable=protected-access


# --- without the Docker SDK: the reads still work -------------------------------------------------

@pytest.fixture
def without_sdk(monkeypatch):
    """As on a host where the Docker SDK for Python is not installed."""
    monkeypatch.setattr(engine, "HAS_DOCKER", False)
    monkeypatch.setattr(engine, "sdk", lambda: pytest.fail("the SDK was imported"))


def test_without_the_sdk_reads_work_over_the_socket(dockerd, without_sdk):
    _server, host = dockerd
    client = engine.connect(engine.connection_from({"docker_host": host}, environ={}))
    assert client.call("info") == {"path": "/info"}
    assert client.call("volumes") == {"path": "/volumes"}
    assert client.call("inspect_network", "bridge") == {"path": "/networks/bridge"}


def test_without_the_sdk_error_statuses_raise_the_reads_own_exceptions(dockerd, without_sdk):
    _server, host = dockerd
    client = engine.connect(engine.connection_from({"docker_host": host}, environ={}))
    with pytest.raises(reads.NotFound) as missing:
        client.call("inspect_container", "gone")
    assert (missing.value.status_code, missing.value.explanation) == (404, "No such container: gone")
    assert isinstance(missing.value, engine.not_found_class()) and isinstance(missing.value, engine.api_error_class())
    with pytest.raises(engine.EngineError, match="^Docker API error at unix://.*: layer does not exist$"):
        engine.guarded(client, client.call, "inspect_container", "broken")


def test_without_the_sdk_an_older_daemon_still_gets_its_own_version(dockerd, without_sdk):
    server, host = dockerd
    server.maximum_version = "1.40"
    client = engine.connect(engine.connection_from({"docker_host": host}, environ={}))
    assert client.call("info") == {"path": "/info"}
    assert [path.split("/")[1] for path, _query in server.requests] == ["v1.41", "v1.40"]


def test_without_the_sdk_a_call_that_needs_it_says_so(dockerd, without_sdk):
    _server, host = dockerd
    client = engine.connect(engine.connection_from({"docker_host": host}, environ={}))
    with pytest.raises(engine.EngineError, match="needs the Docker SDK for Python"):
        client.call("create_container", "image")


def test_without_the_sdk_a_missing_socket_is_explained(without_sdk):
    client = engine.connect(engine.connection_from({"docker_host": "unix:///nonexistent/docker.sock"}, environ={}))
    with pytest.raises(engine.EngineError, match="the socket does not exist"):
        engine.guarded(client, client.call, "info")


@pytest.mark.parametrize("options", [{"docker_host": "tcp://10.0.0.5:2376", "tls": True}, {"docker_host": "ssh://me@host"}])
def test_without_the_sdk_tls_and_ssh_need_it(without_sdk, options):
    with pytest.raises(engine.EngineError, match="the Docker SDK for Python .* is not installed: it is needed for"):
        engine.connect(engine.connection_from(options, environ={}))


def test_the_swarm_managers_lists_and_the_daemon_scopes_reads_are_translated():
    assert request_for("inspect_swarm", (), {}) == ("/swarm", None)
    assert request_for("nodes", (), {}) == ("/nodes", None)
    assert request_for("secrets", (), {}) == ("/secrets", None)
    path, query = request_for("networks", (), {"filters": {"driver": "overlay"}})
    assert (path, json.loads(query["filters"])) == ("/networks", {"driver": ["overlay"]})
    assert request_for("inspect_network", ("bridge",), {}) == ("/networks/bridge", None)
    assert request_for("volumes", (), {}) == ("/volumes", None)
    assert request_for("networks", (), {"names": ["x"]}) is None  # not translated: the SDK's way


# --- the streamed read: docker save --------------------------------------------------------------------

def test_a_save_is_streamed_in_chunks_on_a_connection_of_its_own(dockerd):
    server, host = dockerd
    client = client_for(host)
    assert client.call("info") == {"path": "/info"}
    stream = client.stream("get_image", "sha256:" + "a" * 64)
    chunks = list(stream)
    assert b"".join(chunks) == SAVE_BODY and len(chunks) > 1 and max(len(chunk) for chunk in chunks) <= reads.STREAM_CHUNK
    assert server.requests[-1][0] == "/v1.41/images/sha256:" + "a" * 64 + "/get"
    assert client.call("info") == {"path": "/info"}  # the kept-alive connection was not the stream's
    assert server.connections == 2 and client.calls == {"info": 2, "get_image": 1}
    assert client._sdk_api is None  # pylint: disable=protected-access


def test_a_stream_closed_early_closes_its_connection(dockerd):
    _server, host = dockerd
    stream = client_for(host).stream("get_image", "app")
    assert next(stream)
    stream.close()
    assert list(stream) == []


def test_a_stream_that_breaks_off_says_so(dockerd):
    _server, host = dockerd
    with pytest.raises(reads.StreamBroken, match="broke off"):
        list(client_for(host).stream("get_image", "broken"))


def test_a_stream_waits_as_long_as_it_is_told(dockerd):
    _server, host = dockerd
    client = client_for(host)
    with pytest.raises(OSError):  # socket.timeout: the Engine sent nothing within the stream's timeout
        client.stream("get_image", "slow", timeout=0.2)
    assert b"".join(client.stream("get_image", "slow", timeout=10)) == SAVE_BODY


def test_a_stream_of_a_missing_image_raises_not_found_and_an_older_daemon_gets_its_version(dockerd):
    server, host = dockerd
    server.maximum_version = "1.40"
    client = client_for(host)
    with pytest.raises(NotFound, match="No such image: gone"):
        client.stream("get_image", "gone")
    assert b"".join(client.stream("get_image", "app")) == SAVE_BODY
    assert [path.split("/")[1] for path, _query in server.requests] == ["v1.41", "v1.40", "v1.40"]


def test_without_the_sdk_a_save_streams_and_errors_are_the_reads_own(dockerd, without_sdk):
    _server, host = dockerd
    client = engine.connect(engine.connection_from({"docker_host": host}, environ={}))
    assert b"".join(client.stream("get_image", "app")) == SAVE_BODY
    with pytest.raises(reads.NotFound):
        client.stream("get_image", "gone")


def test_streams_are_only_what_the_reader_streams():
    assert reads.stream_path_for("get_image", "registry.example.com:5000/app:1") == "/images/registry.example.com:5000/app:1/get"
    assert reads.stream_path_for("export", "abc") is None
    assert reads.stream_path_for("get_image", ["a", "b"]) is None
