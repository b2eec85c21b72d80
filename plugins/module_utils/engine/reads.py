# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Read-only GETs of the Docker Engine API over plain http.client.

An audit makes one inspect per container: 1,000 of them on a large host.
Through the Docker SDK (requests and urllib3) each costs about 3 ms of
Python; through http.client on a kept-alive connection, under 1 ms (measured
on 1,000 containers: 3.1 s against 0.9 s). So the audit's reads (info, the
container and image lists, inspect, top, changes, history, the default
bridge, volumes and a swarm manager's lists) take this path on
a Unix socket or plain TCP, one connection per thread, and an audit never
imports the SDK (0.2 s) unless something fails; every other call, and TLS,
stays with the SDK.

Answers and errors look like the SDK's: the decoded JSON, or the SDK's
NotFound / APIError for an error status, so callers do not know which path
answered. Where the SDK is not installed these reads still work, and an
error status raises this module's ApiError / NotFound (the same attributes:
status_code, explanation): a read-only check needs nothing on the host but
Python.

One read streams: `docker save` of an image (GET /images/{id}/get: the
image's layer tars and its config in one tar), which image_audit's layer
scan reads. Its body is handed over in chunks as they arrive
(FastReader.stream), never whole in memory, on a connection of its own that
is closed when the stream ends, so no kept-alive connection is ever left
half read.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from urllib.parse import quote, urlencode, urlsplit

# SDK method name -> Engine path; {0} is the container or image id.
ITEM_PATHS = {
    "inspect_container": "/containers/{0}/json",
    "inspect_image": "/images/{0}/json",
    "top": "/containers/{0}/top",
    "diff": "/containers/{0}/changes",
    "history": "/images/{0}/history",
    "inspect_network": "/networks/{0}",
}

# SDK method name -> Engine path of the reads whose body is streamed (FastReader.stream); {0} is the image.
STREAM_PATHS = {
    "get_image": "/images/{0}/get",
}
# Bytes handed over at a time by a stream (the SDK's get_image hands over 2 MB).
STREAM_CHUNK = 1 << 20
# Bytes of an error answer read for its message.
MAX_ERROR_BODY = 64 << 10


def _filters(filters):
    """The SDK's filter encoding: {key: [values]} as JSON, a single value made a list, booleans as text."""
    encoded = {}
    for key, value in (filters or {}).items():
        values = value if isinstance(value, list) else [value]
        encoded[key] = ["true" if item is True else "false" if item is False else item for item in values]
    return json.dumps(encoded)


def _container_list(all=False, filters=None):  # pylint: disable=redefined-builtin
    params = {"all": "1" if all else "0", "limit": "-1", "size": "0", "trunc_cmd": "0"}
    if filters:
        params["filters"] = _filters(filters)
    return "/containers/json", params


def _filtered(path):
    """A list call whose only argument is the SDK's filters."""
    def request(filters=None):
        return path, ({"filters": _filters(filters)} if filters else None)
    return request


# SDK method name -> a function of that method's arguments giving (path, query), for the
# calls whose SDK answer is the Engine's JSON as it is (the swarm manager's lists of CIS 7 among them).
LISTS = {
    "info": lambda: ("/info", None),
    "containers": _container_list,
    "images": lambda: ("/images/json", {"only_ids": "0", "all": "0"}),
    "volumes": lambda: ("/volumes", None),
    "inspect_swarm": lambda: ("/swarm", None),
    "nodes": _filtered("/nodes"),
    "networks": _filtered("/networks"),
    "secrets": _filtered("/secrets"),
}


class ApiError(Exception):
    """An error status of the Engine, where the Docker SDK is not installed (its APIError otherwise)."""

    def __init__(self, message, status_code=None):
        super().__init__(message)
        self.status_code = status_code
        self.explanation = message


class NotFound(ApiError):
    """404: the item does not exist (the SDK's NotFound otherwise)."""


class StreamBroken(Exception):
    """A streamed body ended before its end (the Engine stopped sending it half way)."""


def error_for(status, message, path):
    """This module's exception for an error status of a read of path."""
    cls = NotFound if status == 404 else ApiError
    return cls(message or "%d %s" % (status, path), status_code=status)


def request_for(endpoint, args, kwargs):
    """(path, query) of an SDK call this reader answers the same way, or None."""
    if endpoint in ITEM_PATHS:
        if len(args) != 1 or kwargs or not isinstance(args[0], str):
            return None
        return ITEM_PATHS[endpoint].format(quote(args[0], safe="/:")), None
    if endpoint in LISTS:
        try:
            return LISTS[endpoint](*args, **kwargs)
        except TypeError:  # arguments this reader does not translate: the SDK's way
            return None
    return None


def stream_path_for(endpoint, item):
    """The Engine path of a streamed read of item (STREAM_PATHS), or None for another endpoint."""
    if endpoint not in STREAM_PATHS or not isinstance(item, str):
        return None
    return STREAM_PATHS[endpoint].format(quote(item, safe="/:"))


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix socket (the Host header is a placeholder, as the docker CLI sends)."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _connection_factory(docker_host, timeout):
    """A function making a new connection to docker_host, or None where this path does not apply."""
    parts = urlsplit(docker_host)
    if parts.scheme == "unix" and parts.path:
        return lambda: _UnixConnection(parts.path, timeout)
    if parts.scheme in ("tcp", "http") and parts.hostname:
        return lambda: http.client.HTTPConnection(parts.hostname, parts.port or 2375, timeout=timeout)
    return None


class FastReader(object):
    """GETs of READ_PATHS, one kept-alive connection per thread."""

    def __init__(self, new_connection, api_error):
        self._new_connection = new_connection
        # api_error(status, message, path) -> the exception to raise (the SDK's classes, see connection.py).
        self._api_error = api_error
        # One kept-alive connection per thread; the pool's threads end with the audit, and their
        # connections with them.
        self._local = threading.local()

    @classmethod
    def for_host(cls, docker_host, timeout, api_error):
        factory = _connection_factory(docker_host, timeout)
        return cls(factory, api_error) if factory else None

    def get(self, version, path, query=None):
        """The decoded JSON of GET /v<version><path>?<query>; the api_error for an error status."""
        path = "/v%s%s%s" % (version, path, "?" + urlencode(query) if query else "")
        status, body = self._request(path)
        if status >= 400:
            raise self._api_error(status, _error_message(body), path)
        return json.loads(body)

    def _request(self, path):
        connection = self._connection()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The daemon closed an idle kept-alive connection: one retry on a new one (a GET changes nothing).
            connection.close()
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._new_connection()
        return connection

    def stream(self, version, path, timeout=None):
        """The body of GET /v<version><path> as a BodyStream (chunks as they arrive); the api_error for an error
        status. timeout: seconds any one wait for the Engine may take on this stream (default: the
        connection's), the wait for the first byte included - dockerd writes a whole save before it sends it."""
        path = "/v%s%s" % (version, path)
        connection = self._new_connection()  # its own: a stream read half way must not be the next read's
        if timeout is not None:
            connection.timeout = timeout
        try:
            connection.request("GET", path)
            response = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        if response.status >= 400:
            body = response.read(MAX_ERROR_BODY)
            connection.close()
            raise self._api_error(response.status, _error_message(body), path)
        return BodyStream(connection, response)


class BodyStream(object):
    """A response body as an iterator of byte chunks (at most STREAM_CHUNK each). The connection is closed at the
    end of the body, when it breaks off (StreamBroken) or by close(), which ends a stream not read to its end."""

    def __init__(self, connection, response, chunk_size=STREAM_CHUNK):
        self._connection = connection
        self._response = response
        self._chunk_size = chunk_size

    def __iter__(self):
        return self

    def __next__(self):
        if self._response is None:
            raise StopIteration
        try:
            chunk = self._response.read1(self._chunk_size)
        except http.client.IncompleteRead as error:
            self.close()
            raise StreamBroken("the Engine's answer broke off (%d more bytes expected)" % (error.expected or 0))
        except BaseException:
            self.close()
            raise
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self):
        if self._response is not None:
            self._response.close()
            self._connection.close()
            self._response = None


def _error_message(body):
    """The Engine's {"message": ...}, else the body as text."""
    try:
        return json.loads(body).get("message") or body.decode("utf-8", "replace")
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")
