# -*- coding: utf-8 -*-
"""The shared Docker connection: options, TLS, the counting client and its one version retry, error messages."""

from __future__ import annotations

import pytest
import requests
from docker.errors import APIError, DockerException

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DEFAULT_DOCKER_HOST, PINNED_API_VERSION, Connection, CountingClient, EngineError, connect, connection_from, explain,
    guarded, tls_config, uses_tls,
)

TOO_OLD = ("client version 1.41 is too old. Minimum supported API version is 1.44, "
           "please upgrade your client to a newer version")
TOO_NEW = "client version 1.41 is too new. Maximum supported API version is 1.40"


def api_error(status, explanation, path="/v1.41/info"):
    """An APIError as docker-py raises it from a daemon's error answer."""
    response = requests.models.Response()
    response.status_code = status
    response.reason = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}[status]
    response.url = "http+docker://localhost" + path
    return APIError("%d Client Error" % status, response=response, explanation=explanation)


def connection(**options):
    return connection_from(options, environ={})


class FakeAPI(object):
    """Stands for docker.APIClient at one API version; `failures` are raised by the next calls, in order."""

    def __init__(self, version, failures):
        self.version = version
        self.failures = failures

    def info(self):
        if self.failures:
            raise self.failures.pop(0)
        return {"ServerVersion": "26.1.5", "ApiVersion": self.version}

    def containers(self, all=False):  # pylint: disable=redefined-builtin  # the SDK's own parameter name
        return [{"Id": "c1", "All": all}]


class FakeFactory(object):
    """api_factory recording the versions it was asked for."""

    def __init__(self, *failures):
        self.versions = []
        self.failures = list(failures)

    def __call__(self, version):
        self.versions.append(version)
        return FakeAPI(version, self.failures)


# --- connection_from --------------------------------------------------------------------

def test_connection_defaults():
    assert connection() == Connection(docker_host=DEFAULT_DOCKER_HOST, tls=None, validate_certs=None, ca_path=None,
                                      client_cert=None, client_key=None, api_version="auto", timeout=60)


def test_given_options_are_kept():
    given = connection(docker_host="tcp://10.0.0.5:2376", tls=True, validate_certs=True, ca_path="/etc/pki/ca.pem",
                       api_version="1.43", timeout=5)
    assert (given.docker_host, given.api_version, given.timeout, given.ca_path) == (
        "tcp://10.0.0.5:2376", "1.43", 5, "/etc/pki/ca.pem")


def test_docker_cert_path_fills_the_tls_files():
    found = connection_from({"docker_host": "tcp://10.0.0.5:2376"}, environ={"DOCKER_CERT_PATH": "/home/ci/.docker"})
    assert (found.ca_path, found.client_cert, found.client_key) == (
        "/home/ci/.docker/ca.pem", "/home/ci/.docker/cert.pem", "/home/ci/.docker/key.pem")


def test_docker_cert_path_does_not_replace_given_files():
    found = connection_from({"ca_path": "/etc/pki/ca.pem"}, environ={"DOCKER_CERT_PATH": "/home/ci/.docker"})
    assert (found.ca_path, found.client_cert) == ("/etc/pki/ca.pem", "/home/ci/.docker/cert.pem")


def test_an_empty_docker_cert_path_fills_nothing():
    assert connection_from({}, environ={"DOCKER_CERT_PATH": ""}).ca_path is None


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.setenv("DOCKER_CERT_PATH", "/root/.docker")
    assert connection_from({}).client_key == "/root/.docker/key.pem"


@pytest.mark.parametrize("tls, validate_certs, expected", [
    (None, None, False), (False, False, False), (True, None, True), (None, True, True), (True, True, True),
])
def test_uses_tls(tls, validate_certs, expected):
    assert uses_tls(connection(tls=tls, validate_certs=validate_certs)) is expected


# --- tls_config -----------------------------------------------------------------------------

@pytest.fixture(name="certs")
def certs_fixture(tmp_path):
    """A DOCKER_CERT_PATH directory (TLSConfig checks only that the files exist)."""
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    return str(tmp_path)


def test_no_tls_config_without_tls():
    assert tls_config(connection()) is None


def test_validate_certs_passes_the_ca(certs):
    config = tls_config(connection_from({"validate_certs": True}, environ={"DOCKER_CERT_PATH": certs}))
    assert config.verify is True
    assert config.ca_cert == certs + "/ca.pem"
    assert config.cert == (certs + "/cert.pem", certs + "/key.pem")


def test_tls_without_validation_sends_no_ca(certs):
    config = tls_config(connection(tls=True, ca_path=certs + "/ca.pem"))
    assert config.verify is False
    assert config.ca_cert is None
    assert config.cert is None


def test_a_client_cert_without_its_key_is_refused(certs):
    with pytest.raises(EngineError, match="client_cert and client_key go together"):
        tls_config(connection(tls=True, client_cert=certs + "/cert.pem"))


def test_a_client_key_without_its_cert_is_refused(certs):
    with pytest.raises(EngineError, match="client_cert and client_key go together"):
        tls_config(connection(tls=True, client_key=certs + "/key.pem"))


def test_missing_tls_files_name_the_host(tmp_path):
    missing = connection(docker_host="tcp://10.0.0.5:2376", tls=True, client_cert=str(tmp_path / "cert.pem"),
                         client_key=str(tmp_path / "key.pem"))
    with pytest.raises(EngineError, match="TLS settings for tcp://10.0.0.5:2376"):
        tls_config(missing)


# --- CountingClient -----------------------------------------------------------------------

def test_every_call_is_counted():
    client = CountingClient(connection(), api_factory=FakeFactory())
    client.call("info")
    client.call("info")
    assert client.call("containers", all=True) == [{"Id": "c1", "All": True}]
    assert dict(client.calls) == {"info": 2, "containers": 1}
    assert client.total == 3


def test_auto_pins_the_api_version():
    factory = FakeFactory()
    CountingClient(connection(), api_factory=factory)
    assert factory.versions == [PINNED_API_VERSION] == ["1.41"]


def test_auto_retries_once_with_the_version_the_daemon_names():
    factory = FakeFactory(api_error(400, TOO_OLD))
    client = CountingClient(connection(), api_factory=factory)
    assert client.call("info")["ApiVersion"] == "1.44"
    assert factory.versions == ["1.41", "1.44"]
    assert client.calls["info"] == 2


def test_an_older_daemon_names_its_maximum():
    factory = FakeFactory(api_error(400, TOO_NEW))
    client = CountingClient(connection(), api_factory=factory)
    assert client.call("info")["ApiVersion"] == "1.40"


def test_the_version_is_renegotiated_only_once():
    factory = FakeFactory(api_error(400, TOO_OLD), api_error(400, TOO_OLD))
    client = CountingClient(connection(), api_factory=factory)
    with pytest.raises(APIError):
        client.call("info")
    assert factory.versions == ["1.41", "1.44"]


def test_later_calls_keep_the_negotiated_version():
    factory = FakeFactory(api_error(400, TOO_OLD))
    client = CountingClient(connection(), api_factory=factory)
    client.call("info")
    assert client.call("info")["ApiVersion"] == "1.44"
    assert factory.versions == ["1.41", "1.44"]
    assert client.total == 3


def test_an_explicit_api_version_is_used_and_not_renegotiated():
    factory = FakeFactory(api_error(400, TOO_OLD))
    client = CountingClient(connection(api_version="1.41"), api_factory=factory)
    with pytest.raises(APIError, match="too old"):
        client.call("info")
    assert factory.versions == ["1.41"]
    assert client.calls["info"] == 1


def test_other_api_errors_are_not_retried():
    factory = FakeFactory(api_error(404, "No such container: web", path="/v1.41/containers/web/json"))
    client = CountingClient(connection(), api_factory=factory)
    with pytest.raises(APIError):
        client.call("info")
    assert factory.versions == ["1.41"]


def test_a_bad_request_that_names_no_version_is_not_retried():
    factory = FakeFactory(api_error(400, "invalid filter 'labels'"))
    client = CountingClient(connection(), api_factory=factory)
    with pytest.raises(APIError):
        client.call("info")
    assert factory.versions == ["1.41"]


def test_the_sdk_client_is_built_at_the_pinned_version_without_a_round_trip():
    client = CountingClient(connection(docker_host="unix:///nonexistent/docker.sock"))
    assert client._api.api_version == "1.41"  # pylint: disable=protected-access
    assert client.total == 0


def test_connect_turns_sdk_errors_into_engine_errors():
    def refuse(version):
        raise DockerException("Invalid bind address format: tcp:/x (api %s)" % version)
    with pytest.raises(EngineError, match="Cannot use docker_host unix:///var/run/docker.sock: Invalid bind address"):
        connect(connection(), api_factory=refuse)


# --- explain / guarded ----------------------------------------------------------------------

@pytest.mark.parametrize("error, advice", [
    (requests.exceptions.ConnectionError("('Connection aborted.', PermissionError(13, 'Permission denied'))"),
     "permission denied. Run as root (become: true) or as a member of the docker group"),
    (requests.exceptions.ConnectionError("('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"),
     "the socket does not exist. Start the Docker daemon"),
    (requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='127.0.0.1', port=2375): Max retries exceeded with url: /v1.41/info (Caused by "
        "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))"),
     "connection refused. Start the Docker daemon"),
    (requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='10.0.0.5', port=2376): Max retries exceeded with url: /v1.41/info (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))"),
     "TLS failed ("),
    (RuntimeError("something odd"), "something odd. Check that the Docker daemon runs and that docker_host is right."),
])
def test_explain(error, advice):
    explained = explain("unix:///var/run/docker.sock", error)
    assert isinstance(explained, EngineError)
    assert str(explained).startswith("Cannot reach the Docker API at unix:///var/run/docker.sock: ")
    assert advice in str(explained)


def test_the_tls_advice_names_the_files_to_check():
    explained = explain("tcp://10.0.0.5:2376", requests.exceptions.SSLError("certificate verify failed"))
    assert "Check ca_path, client_cert and client_key" in str(explained)


def test_guarded_explains_a_connection_failure():
    client = CountingClient(connection(), api_factory=FakeFactory())

    def refused():
        raise requests.exceptions.ConnectionError("[Errno 111] Connection refused")
    with pytest.raises(EngineError, match="connection refused"):
        guarded(client, refused)


def test_guarded_reports_a_timeout():
    client = CountingClient(connection(), api_factory=FakeFactory())

    def slow():
        raise requests.exceptions.ReadTimeout("UnixHTTPConnectionPool(host='localhost', port=None): Read timed out.")
    with pytest.raises(EngineError, match="did not answer: .*Read timed out"):
        guarded(client, slow)


def test_guarded_reports_the_daemons_explanation():
    client = CountingClient(connection(), api_factory=FakeFactory(api_error(500, "error during connect")))
    with pytest.raises(EngineError, match="Docker API error at unix:///var/run/docker.sock: error during connect"):
        guarded(client, client.call, "info")


def test_guarded_returns_the_result():
    client = CountingClient(connection(), api_factory=FakeFactory())
    assert guarded(client, client.call, "info")["ServerVersion"] == "26.1.5"
