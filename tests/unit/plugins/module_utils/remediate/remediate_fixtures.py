# -*- coding: utf-8 -*-
"""Inspect data, policies and contexts for the remediation tests.

compose_web.json is a compose service container (shop-web-1: two networks,
binds, a named and an anonymous volume, a health check) and its image;
containers.json (see rule_fixtures) has the four small audit containers.
Tests start from one of them and change only what they test.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.state import ContainerView
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import Policy
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import Context

from rule_fixtures import load, patched

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


def audit_container(name, changes=None):
    """One of containers.json's containers (hardened, insecure, hostnet, stopped) as a ContainerView."""
    return ContainerView(patched(load("containers.json")[name], changes))


def policy(**fields):
    """A resolved policy: the defaults with fields set (validated like the module's input)."""
    return Policy(defaults=fields).resolve("any", {})


def context(memory_usage=None, pids=None, docker_host=None):
    return Context(memory_usage, pids, docker_host)
