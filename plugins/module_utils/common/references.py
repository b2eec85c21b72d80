# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Image references and registry names: Docker Hub's aliases, stated once.

Docker Hub answers to several host names, and the Engine writes none of them
in RepoTags and RepoDigests (official images also lose their `library/`
namespace there). Every reader of a reference (the registry allowlist of
BW-006 and 4.2, the tag checks of 5.28 and remediation) goes through this one
table, so an allowlist entry or a reference spelt with any alias means the
same registry.
"""

from __future__ import annotations

DOCKER_HUB = "docker.io"
# Every name Docker Hub is reached or written by; DOCKER_HUB is how this collection writes it.
DOCKER_HUB_NAMES = (DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
# Official images' namespace on Docker Hub: `nginx` is docker.io/library/nginx.
OFFICIAL_NAMESPACE = "library"


def canonical_registry(name):
    """A registry host as this collection writes it: every Docker Hub alias is docker.io."""
    return DOCKER_HUB if name.lower() in DOCKER_HUB_NAMES else name


def _has_registry(first):
    # The first component names a registry only if it looks like a host: a dot, a port, or localhost.
    return "." in first or ":" in first or first == "localhost"


def parse_reference(reference):
    """(registry, repository path, tag, digest) of an image reference: the one parser every reader goes through.

    The registry is written canonically and Docker Hub's defaults are applied: 'index.docker.io/nginx:1' ->
    ('docker.io', 'library/nginx', '1', None). tag and digest are None when the reference has none.
    """
    name, at, digest = reference.partition("@")
    first, separator, rest = name.partition("/")
    if separator and _has_registry(first):
        registry, path = canonical_registry(first), rest
    else:
        registry, path = DOCKER_HUB, name
    if registry == DOCKER_HUB and "/" not in path:
        path = OFFICIAL_NAMESPACE + "/" + path
    tag = None
    if ":" in path.rsplit("/", 1)[-1]:
        path, tag = path.rsplit(":", 1)
    return registry, path, tag, digest if at else None


def split_repository(reference):
    """(registry, repository path) of an image reference, Docker Hub's defaults applied: 'nginx:1' ->
    ('docker.io', 'library/nginx'); tag and digest dropped."""
    registry, path, _tag, _digest = parse_reference(reference)
    return registry, path


def canonical_prefix(entry):
    """An allowlist entry ('registry[/path prefix]') with its registry written canonically, no trailing slash."""
    first, separator, rest = entry.strip().rstrip("/").partition("/")
    registry = canonical_registry(first)
    return registry + separator + rest


def familiar_reference(reference):
    """A reference as RepoTags and RepoDigests spell it: 'docker.io/library/nginx' -> 'nginx:latest'."""
    registry, path, tag, digest = parse_reference(reference)
    if registry != DOCKER_HUB:
        path = registry + "/" + path
    elif path.startswith(OFFICIAL_NAMESPACE + "/") and path.count("/") == 1:
        # The Engine drops Docker Hub's name, and official images' namespace with it.
        path = path[len(OFFICIAL_NAMESPACE) + 1:]
    if tag is None and digest is None:
        tag = "latest"
    return path + ("" if tag is None else ":" + tag) + ("" if digest is None else "@" + digest)
