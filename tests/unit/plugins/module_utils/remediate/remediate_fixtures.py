# -*- coding: utf-8 -*-
"""Inspect data, policies and contexts for the remediation tests.

compose_web.json is a compose service container (shop-web-1: two networks,
binds, a named and an anonymous volume, a health check) and its image;
containers.json (see rule_fixtures) has the four small audit containers.
remediate_neighbours.json was read from a real Engine (docker 20.10, cgroup
v1): a donor (a published port, an anonymous volume, a tmpfs) and the three
containers depending on it (its network, IPC and PID namespaces; a legacy
link; volumes-from), the donor's writable-layer changes, and a host-network
container with two listeners (0.0.0.0:18182, 127.0.0.1:18183) with its
cgroup, `docker top`, file descriptors and /proc/<pid>/net/tcp{,6}; plus a
tcp6 text with an IPv6 wildcard, ::1 and an IPv4-mapped listener.
Tests start from one of them and change only what they test.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import Policy
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import Context

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import load, patched

MIB = 1024 ** 2
WEB_ID = "4b5e57f6eb2f42b9039b3d1e13929295f231749c510cbe341cd68036d9af97e2"
WEB_IMAGE_ID = "sha256:6105d6cc76af400325e94d588ce511be5bfdbb73b437dc51eca43917d7a43e3d"
ANONYMOUS_VOLUME = "5430eeed859cad61d925097ec4f532461ccf1ab6b9802b09a313be1478a4d614"


def web_inspect(changes=None):
    """shop-web-1's inspect data; changes: {'HostConfig.Memory': 1} style."""
    return patched(load("compose_web.json")["container"], changes)


def web_image(changes=None):
    return patched(load("compose_web.json")["image"], changes)


def web(changes=None):
    return ContainerView(web_inspect(changes))


def neighbours():
    """remediate_neighbours.json (see above), a fresh copy."""
    return load("remediate_neighbours.json")


def neighbour(name, changes=None):
    """One container of remediate_neighbours.json (donor, netuser, linked, volumes, hostnet) as a ContainerView."""
    return ContainerView(patched(neighbours()[name], changes))


def audit_container(name, changes=None):
    """One of containers.json's containers (hardened, insecure, hostnet, stopped) as a ContainerView."""
    return ContainerView(patched(load("containers.json")[name], changes))


def policy(**fields):
    """A resolved policy: the defaults with fields set (validated like the module's input)."""
    return Policy(defaults=fields).resolve("any", {})


def context(memory_usage=None, pids=None, docker_host=None, listening=(), listening_unknown=None):
    return Context(memory_usage, pids, docker_host, listening, listening_unknown)
