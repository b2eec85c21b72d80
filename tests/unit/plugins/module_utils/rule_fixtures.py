# -*- coding: utf-8 -*-
"""Build AuditState objects from the captured fixtures for rule tests.

tests/unit/fixtures holds trimmed, real API responses from a Docker 20.10
engine: containers.json (inspect of four containers: `hardened`, `insecure`,
`hostnet`, `stopped`), image.json, info.json and extras.json (history, top,
diff). Tests start from one of them and change only the field under test,
so a passing and a failing case differ in exactly what the rule reads.
"""

from __future__ import annotations

import copy
import json
import os

from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import (
    AuditOptions, AuditState, ContainerView, HostFacts, ImageView,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig, parse_cmdline
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import load_daemon_json
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate_rule
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.operations_state import OperationsFacts, SwarmFacts

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")


def load(name):
    with open(os.path.join(FIXTURES, name), "r", encoding="utf-8") as handle:
        return json.load(handle)


# A Debian 12 host with docker.io, TLS on and one registry certificate, every file compliant:
# {path: (uid, gid, mode, kind)}, for HostFacts(files=...) in section 3 tests.
DOCKER_GID = 105
DEBIAN_UNITS = {"docker.service": "/lib/systemd/system/docker.service", "docker.socket": "/lib/systemd/system/docker.socket"}
DEBIAN_DOCKER_FILES = {
    "/lib/systemd/system/docker.service": (0, 0, 0o644, "file"),
    "/lib/systemd/system/docker.socket": (0, 0, 0o644, "file"),
    "/etc/docker": (0, 0, 0o755, "dir"),
    "/etc/docker/certs.d/registry.lan:5000/ca.crt": (0, 0, 0o444, "file"),
    "/etc/docker/tls/ca.pem": (0, 0, 0o444, "file"),
    "/etc/docker/tls/cert.pem": (0, 0, 0o444, "file"),
    "/etc/docker/tls/key.pem": (0, 0, 0o400, "file"),
    "/var/run/docker.sock": (0, DOCKER_GID, 0o660, "socket"),
    "/etc/docker/daemon.json": (0, 0, 0o644, "file"),
    "/etc/default/docker": (0, 0, 0o644, "file"),
    "/run/containerd/containerd.sock": (0, 0, 0o660, "socket"),
}


def unit_fixture(name):
    """A text fixture as it is on disk, e.g. Debian 12's docker.service."""
    with open(os.path.join(FIXTURES, name), "r", encoding="utf-8") as handle:
        return handle.read()


def patched(data, changes):
    """A deep copy of data with changes applied; keys are dotted paths ('HostConfig.Memory')."""
    result = copy.deepcopy(data)
    for dotted, value in (changes or {}).items():
        node = result
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return result


def container(name="hardened", changes=None, top=None, diff=None):
    return ContainerView(patched(load("containers.json")[name], changes), top=top, diff=diff)


def image(changes=None, history=None):
    return ImageView(patched(load("image.json"), changes), history=history)


def info(changes=None):
    return patched(load("info.json"), changes)


def extras():
    return load("extras.json")


def dockerd_config(argv=(), daemon_json=None):
    """A DaemonConfig through the real parsers: dockerd arguments (argv[0] excluded) and daemon.json text."""
    return DaemonConfig(cmdline=parse_cmdline(list(argv)),
                        file_options=None if daemon_json is None else load_daemon_json(daemon_json))


def state(containers=(), images=None, info_changes=None, daemon=None, host=None, options=None, with_image=True,
          no_info=False, default_bridge=None, volume_count=None):
    """An AuditState; by default with the fixture info and the fixture image of the containers."""
    if images is None:
        images = [image()] if with_image else []
    return AuditState(
        options=options or AuditOptions(),
        info=None if no_info else info(info_changes),
        daemon=daemon or DaemonConfig(cmdline={}, file_options=None),
        host=host or HostFacts(files={}),
        containers=list(containers),
        images=dict((item.id, item) for item in images),
        default_bridge=default_bridge,
        volume_count=volume_count,
    )


def bridge(**options):
    """`docker network inspect bridge` (real, Docker 20.10: icc on) with its Options changed."""
    data = load("network_bridge.json")
    data["Options"] = dict(data["Options"], **options)
    return data


def findings(rule_id, audit_state):
    return evaluate_rule(catalog.get(rule_id), audit_state)


def status(rule_id, audit_state, target=None):
    """The one status of rule_id (for target, when several targets are reported)."""
    found = [item for item in findings(rule_id, audit_state) if target is None or item.target == target]
    assert len(found) == 1, [(item.target, item.status, item.evidence) for item in found]
    return found[0].status


def evidence(rule_id, audit_state, target=None):
    found = [item for item in findings(rule_id, audit_state) if target is None or item.target == target]
    return " ".join(item.evidence for item in found)


# --- sections 6 and 7: list answers (operations.json) and a real swarm (swarm.json) ---

def operations(images=None, containers=None, now=None):
    """OperationsFacts from operations.json: `docker images` and `docker ps -a` of a small host (or the lists given)."""
    data = load("operations.json")
    return OperationsFacts(data["images"] if images is None else images,
                           data["containers"] if containers is None else containers,
                           now=data["now"] if now is None else now)


def swarm(node="manager", changes=None, docker_state=None, now=None, node_config_error=None, **lists):
    """SwarmFacts from swarm.json: docker info .Swarm of a manager, a locked manager or a worker (dotted changes
    applied), docker-state.json (changes applied; None with node_config_error), and on an active manager the node,
    overlay network and secret lists unless given (None: not gathered)."""
    data = load("swarm.json")
    block = patched(data["info_" + node], changes)
    manager = block.get("LocalNodeState") == "active" and block.get("ControlAvailable")
    gathered = dict((name, data[name] if manager else None) for name in ("nodes", "networks", "secrets"))
    gathered.update(lists)
    config = None if node_config_error else patched(data["docker_state"], docker_state)
    return SwarmFacts(block, node_config=config, node_config_error=node_config_error,
                      now=load("operations.json")["now"] if now is None else now, **gathered)


def swarm_state(facts=None, **swarm_options):
    """An AuditState whose docker info and swarm facts are those of swarm(**swarm_options) (or facts)."""
    facts = facts or swarm(**swarm_options)
    audit_state = state(info_changes={"Swarm": facts.swarm})
    audit_state.swarm = facts
    return audit_state
