# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
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


def _error_message(body):
    """The Engine's {"message": ...}, else the body as text."""
    try:
        return json.loads(body).get("message") or body.decode("utf-8", "replace")
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")
