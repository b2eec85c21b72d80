# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The Docker connection every module that talks to the Engine shares.

One argument spec (CONNECTION_ARGS, documented by the doc fragment
bulwark.hardening.docker_connection), one way to turn those options into
a Docker SDK client, and one way to explain a connection failure.

The client counts every call it makes (benchmarks and the audit's
api_calls) and, with api_version auto, pins API 1.41 (Docker 20.10)
instead of asking the daemon first: a daemon outside the range the pin
allows answers the first call with its own range, and the client retries
that call once with it. That saves the `version` round trip on every run.
"""

from __future__ import annotations

import collections
import http.client
import importlib.util
from concurrent.futures import ThreadPoolExecutor
import os
import re
import socket
import threading

from ansible_collections.bulwark.hardening.plugins.module_utils.engine import reads
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.reads import FastReader, request_for, stream_path_for

# The SDK (with requests and urllib3) takes seconds to import on a slow host:
# it is imported on first use (sdk()), so modules and code paths that never
# talk to the Engine do not pay for it. Finding it costs nothing.
HAS_DOCKER = importlib.util.find_spec("docker") is not None
DOCKER_IMPORT_ERROR = None if HAS_DOCKER else "No module named 'docker'"


def sdk():
    """The docker package, imported on first use (later calls find it in sys.modules)."""
    import docker  # pylint: disable=import-outside-toplevel
    import docker.errors  # noqa: F401  pylint: disable=import-outside-toplevel
    import docker.tls  # noqa: F401  pylint: disable=import-outside-toplevel
    return docker


def _requests_errors():
    from requests import exceptions  # pylint: disable=import-outside-toplevel
    return exceptions


def api_error_class():
    """The class of an Engine error status: the SDK's APIError, or the fast reads' own without the SDK."""
    return sdk().errors.APIError if HAS_DOCKER else reads.ApiError


def not_found_class():
    """The class of a 404 of the Engine: the SDK's NotFound, or the fast reads' own without the SDK."""
    return sdk().errors.NotFound if HAS_DOCKER else reads.NotFound


DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_DOCKER_HOST = "unix://" + DEFAULT_DOCKER_SOCKET
PINNED_API_VERSION = "1.41"
# Connections kept open per endpoint: enough for the parallel calls of gather (inspect) and
# remediation (stats, which dockerd answers on its 1 s sampling tick); opened only when used.
MAX_POOL_SIZE = 64
VERSION_RANGE = re.compile(r"(?:Maximum|Minimum) supported API version is ([0-9.]+)")


def docker_host_socket(docker_host):
    """The socket path of a unix:// docker_host as written; the default socket for tcp/ssh hosts."""
    if docker_host and docker_host.startswith("unix://"):
        return docker_host[len("unix://"):]
    return DEFAULT_DOCKER_SOCKET


# DOCKER_CERT_PATH names a directory holding these files (the docker CLI's convention).
CERT_PATH_FILES = (("ca_path", "ca.pem"), ("client_cert", "cert.pem"), ("client_key", "key.pem"))
OPTION_NAMES = ("docker_host", "tls", "validate_certs", "ca_path", "client_cert", "client_key", "api_version", "timeout")


class EngineError(Exception):
    """The Docker API cannot be used; the message says what was tried and what to do."""


Connection = collections.namedtuple("Connection", OPTION_NAMES)


def connection_from(params, environ=None):
    """A Connection from the module's connection options (argument_spec.CONNECTION_ARGS).

    Options the task leaves unset already fell back to DOCKER_HOST,
    DOCKER_TLS, DOCKER_TLS_VERIFY, DOCKER_API_VERSION and DOCKER_TIMEOUT
    (the argument spec does that); TLS files not given are taken from
    DOCKER_CERT_PATH when it is set.
    """
    environ = os.environ if environ is None else environ
    values = dict((name, params.get(name)) for name in OPTION_NAMES)
    values["docker_host"] = values["docker_host"] or DEFAULT_DOCKER_HOST
    values["api_version"] = values["api_version"] or "auto"
    values["timeout"] = values["timeout"] or 60
    cert_path = environ.get("DOCKER_CERT_PATH") or None
    if cert_path:
        for name, filename in CERT_PATH_FILES:
            if not values.get(name):
                values[name] = os.path.join(cert_path, filename)
    return Connection(**values)


def uses_tls(connection):
    return bool(connection.tls or connection.validate_certs)


def tls_config(connection):
    """docker.tls.TLSConfig for the connection, or None without TLS."""
    if not uses_tls(connection):
        return None
    client_cert = None
    if connection.client_cert or connection.client_key:
        if not (connection.client_cert and connection.client_key):
            raise EngineError("client_cert and client_key go together: give both or neither")
        client_cert = (connection.client_cert, connection.client_key)
    try:
        return sdk().tls.TLSConfig(client_cert=client_cert, ca_cert=connection.ca_path if connection.validate_certs else None,
                                   verify=bool(connection.validate_certs))
    except sdk().errors.TLSParameterError as error:
        raise EngineError("TLS settings for %s: %s" % (connection.docker_host, error))


class CountingClient(object):
    """The SDK's low-level APIClient, counting every call it makes (retries included)."""

    def __init__(self, connection, api_factory=None):
        self.docker_host = connection.docker_host
        self.connection = connection
        self._factory = api_factory or self._sdk_client
        explicit = connection.api_version not in (None, "", "auto")
        self._version = connection.api_version if explicit else PINNED_API_VERSION
        self._negotiates = not explicit
        self._lock = threading.Lock()
        self.calls = collections.Counter()
        # The audit's reads skip the SDK (engine/reads.py); not over TLS, not with a test double.
        self._reader = None
        if api_factory is None and not uses_tls(connection):
            self._reader = FastReader.for_host(connection.docker_host, connection.timeout, _api_error)
        # The SDK client is made on first use where the reads can do without it; else now, so that
        # a docker_host the SDK cannot use fails in connect().
        self._sdk_api = None if self._reader is not None else self._factory(self._version)

    @property
    def _api(self):
        with self._lock:
            if self._sdk_api is None:
                if not HAS_DOCKER and self._factory == self._sdk_client:
                    raise EngineError("this call needs the Docker SDK for Python (`docker`), which is not installed "
                                      "(python3-docker on Debian); the read-only checks work without it")
                self._sdk_api = self._factory(self._version)
            return self._sdk_api

    def _sdk_client(self, version):
        return sdk().APIClient(base_url=self.connection.docker_host, version=version, max_pool_size=MAX_POOL_SIZE,
                               timeout=self.connection.timeout, tls=tls_config(self.connection) or False)

    @property
    def total(self):
        return sum(self.calls.values())

    def call(self, endpoint, *args, **kwargs):
        # `endpoint`, not `name`: SDK methods take a name= keyword of their own (create, rename).
        return self._negotiated(endpoint, lambda: self._dispatch(endpoint, args, kwargs))

    def stream(self, endpoint, item, timeout=None):
        """An iterator of the byte chunks of a streamed read of item (reads.STREAM_PATHS: `get_image`, docker save),
        with close() to end it early; counted as endpoint. Never the whole body in memory. timeout: seconds any
        wait for the Engine may take on this stream (the fast reads only; the SDK keeps the client's)."""
        return self._negotiated(endpoint, lambda: self._open_stream(endpoint, item, timeout))

    def _negotiated(self, endpoint, request):
        self._count(endpoint)
        try:
            return request()
        except api_error_class() as error:
            version = _supported_version(error) if self._negotiates else None
            if version is None:
                raise
            # The daemon does not speak the pinned version: use its own, once.
            self._version = version
            self._sdk_api = None
            self._negotiates = False
            self._count(endpoint)
            return request()

    def _dispatch(self, endpoint, args, kwargs):
        request = request_for(endpoint, args, kwargs) if self._reader is not None else None
        if request is not None:
            return self._reader.get(self._version, *request)
        return getattr(self._api, endpoint)(*args, **kwargs)

    def _open_stream(self, endpoint, item, timeout):
        path = stream_path_for(endpoint, item) if self._reader is not None else None
        if path is not None:
            return self._reader.stream(self._version, path, timeout)
        return getattr(self._api, endpoint)(item)  # the SDK's generator of chunks

    def get_json(self, name, path, params, *args):
        """GET an endpoint with query params, counted as name: for what older SDKs do not wrap
        (stats' one-shot came with SDK 6; Debian 12 ships 5.0.3)."""
        self._count(name)
        api = self._api
        # pylint: disable=protected-access
        return api._result(api._get(api._url(path, *args), params=params), True)

    def post_json(self, name, path, body, *args):
        """POST a JSON body to an endpoint the SDK does not wrap as needed, counted as name.

        path is an Engine path with {0}-style placeholders for args; body (a
        dict) goes as it is (the Engine's own field names). The SDK's update_container,
        for one, cannot set PidsLimit.
        """
        self._count(name)
        api = self._api
        # pylint: disable=protected-access
        response = api._post_json(api._url(path, *args), data=body)
        return api._result(response, bool(response.content))

    def _count(self, name):
        with self._lock:
            self.calls[name] += 1


def _api_error(status, message, path):
    """The SDK's exception for an error status the fast reads got, as the SDK would raise it (the reads'
    own without the SDK)."""
    if not HAS_DOCKER:
        return reads.error_for(status, message, path)
    from requests import Response  # pylint: disable=import-outside-toplevel
    response = Response()
    response.status_code, response.url, response.reason = status, path, http.client.responses.get(status, "")
    errors = sdk().errors
    cls = errors.NotFound if status == 404 else errors.APIError
    return cls(message, response=response, explanation=message)


def _supported_version(error):
    if getattr(error, "status_code", None) != 400:
        return None
    match = VERSION_RANGE.search(str(error.explanation or error))
    return match.group(1) if match else None


def needs_sdk(connection):
    """Whether reading the Engine at this connection needs the Docker SDK (TLS, or a scheme the fast reads
    do not speak, such as ssh://)."""
    return uses_tls(connection) or FastReader.for_host(connection.docker_host, connection.timeout, _api_error) is None


def audit_sdk_problem(connection, missing_sdk_text):
    """Why a read-only audit cannot read the Engine at this connection without the Docker SDK, or None:
    over the Unix socket or plain TCP it needs nothing but Python. missing_sdk_text: Ansible's
    missing_required_lib("docker") (module_utils cannot import it from a module)."""
    if HAS_DOCKER or not needs_sdk(connection):
        return None
    return ("%s: reading the Engine at %s needs it (TLS or ssh://); over the local Unix socket or plain TCP the "
            "audit needs nothing but Python" % (missing_sdk_text, connection.docker_host))


def connect(connection, api_factory=None):
    """A CountingClient, or EngineError naming what is wrong.

    Without the Docker SDK a client is still made where the fast reads serve the connection (a Unix socket
    or plain TCP): reads work, other calls raise EngineError saying the SDK is needed.
    """
    if not HAS_DOCKER and api_factory is None and needs_sdk(connection):
        raise EngineError("the Docker SDK for Python (`docker`) is not installed: it is needed for %s"
                          % ("TLS" if uses_tls(connection) else connection.docker_host))
    if not HAS_DOCKER:
        return CountingClient(connection, api_factory=api_factory)
    try:
        return CountingClient(connection, api_factory=api_factory)
    except sdk().errors.DockerException as error:
        raise EngineError("Cannot use docker_host %s: %s" % (connection.docker_host, error))


def explain(docker_host, error):
    """A EngineError naming the endpoint and the likely fix."""
    text = str(error)
    if "Permission denied" in text:
        advice = ("permission denied. Run as root (become: true) or as a member of the docker group, "
                  "or point docker_host at a daemon this user may use.")
    elif "No such file or directory" in text or "FileNotFoundError" in text:
        advice = ("the socket does not exist. Start the Docker daemon (systemctl start docker) "
                  "or set docker_host to where it listens.")
    elif "Connection refused" in text:
        advice = "connection refused. Start the Docker daemon (systemctl start docker) or set docker_host."
    elif "SSL" in text or "certificate" in text.lower():
        advice = ("TLS failed (%s). Check ca_path, client_cert and client_key, and that the daemon's "
                  "certificate names this host." % text)
    else:
        advice = "%s. Check that the Docker daemon runs and that docker_host is right." % text
    return EngineError("Cannot reach the Docker API at %s: %s" % (docker_host, advice))


class _NoTransportError(Exception):
    """Never raised: what `except` names where the SDK (and requests) are not installed."""


def _transport_errors():
    """The SDK transport's (requests) exception base, where the SDK is installed."""
    return _requests_errors().RequestException if HAS_DOCKER else _NoTransportError


# Requests in flight at once when many objects are read one by one (inspect, history): dockerd answers them
# in parallel, and a few connections hide the per-request latency without loading it.
PARALLEL_READS = 4


def optional_call(client, endpoint, *args):
    """client.call(endpoint, *args), or None when the object is gone (removed since it was listed)."""
    try:
        return client.call(endpoint, *args)
    except not_found_class():
        return None


def read_each(read, items):
    """read(item) for each item, in order, side by side when there are several; None answers (objects removed
    meanwhile) left out."""
    if len(items) <= 1:
        answers = [read(item) for item in items]
    else:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(items))) as pool:
            answers = list(pool.map(read, items))
    return [answer for answer in answers if answer is not None]


def guarded(client, function, *args):
    """Run function(*args), turning transport and API failures into a EngineError."""
    try:
        return function(*args)
    except api_error_class() as error:  # first: APIError is a requests HTTPError, so a RequestException too
        raise EngineError("Docker API error at %s: %s" % (client.docker_host, error.explanation or error))
    except _transport_errors() as error:
        if isinstance(error, _requests_errors().ConnectionError):
            raise explain(client.docker_host, error)
        raise EngineError("The Docker API at %s did not answer: %s" % (client.docker_host, error))  # timeouts and others
    except (OSError, http.client.HTTPException) as error:  # the fast reads' transport (engine/reads.py)
        if isinstance(error, (TimeoutError, socket.timeout)):
            raise EngineError("The Docker API at %s did not answer: %s" % (client.docker_host, error))
        raise explain(client.docker_host, error)
