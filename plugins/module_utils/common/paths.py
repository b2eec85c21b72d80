# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Host paths in one spelling, so that two names of one file compare equal.

Bind mount sources, audit watches, the Docker socket from docker_host and
paths from dockerd's configuration are all compared through normal_path().
"""

from __future__ import annotations

import posixpath

# /var/run is a symlink to /run on every current distribution.
_ALIASES = (("/var/run", "/run"),)


def normal_path(path):
    """Normalised absolute spelling: no '.', '..', doubled or trailing slashes; /var/run read as /run.

    None and '' stay as they are (nothing to compare).
    """
    if not path:
        return path
    normal = posixpath.normpath(path)
    if normal.startswith("//"):  # POSIX keeps a leading '//'; Linux treats it as '/'
        normal = "/" + normal.lstrip("/")
    for alias, real in _ALIASES:
        if normal == alias or normal.startswith(alias + "/"):
            normal = real + normal[len(alias):]
    return normal


def is_within(path, directory):
    """True when path is directory itself or anything below it ('/' holds every path).

    Both are compared in normal_path() spelling; a plain prefix test would let
    /etc/docker-old count as inside /etc/docker.
    """
    path, directory = normal_path(path), normal_path(directory)
    if directory == "/":
        return True
    return path == directory or path.startswith(directory + "/")
