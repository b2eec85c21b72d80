# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""How the facts of CIS sections 6 (security operations) and 7 (swarm) are gathered (rules/operations_state.py
holds them, and the parsers they need).

gather.gather() calls gather_operations() after `docker info`. API calls,
on top of the audit's own (info, container list, inspects):

- scope `operations` (6.1, 6.2): 2 calls, `images` (the image list, as
  `docker images` shows it) and `containers(all=True)` (every container,
  running or not: the audit's own list is limited to its selection);
- scope `swarm` (7.x): nothing more on a host that is not in a swarm, or is
  a worker, or is locked (docker info's Swarm block decides that, and its
  Cluster block carries the cluster spec on managers). On a manager: 3
  calls, `nodes`, `networks` (driver overlay only) and `secrets` (names and
  metadata; the Engine never returns secret data), plus `inspect_swarm` only
  when docker info has no Cluster block (older Engines). inspect_swarm's join
  tokens are dropped at once: they are credentials.

One file read, no API call: the node's own swarm configuration,
<DockerRootDir>/swarm/docker-state.json, which dockerd writes at `swarm
init` / `join` (ListenAddr, AdvertiseAddr, DataPathAddr). It is the only place
the management plane's listen address (7.2) and the data path address (7.9)
are kept; the API does not return them. It is read only on a swarm node, and
only trusted when its advertise address is the one docker info reports (a
remote docker_host's data root is not on this machine).

Nothing here imports Ansible; the Docker SDK only through engine.connection.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import api_error_class, guarded
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.operations_state import OperationsFacts, SwarmFacts, split_host_port

SCOPES = frozenset(("operations", "swarm"))
NODE_STATE_FILE = os.path.join("swarm", "docker-state.json")
MAX_NODE_STATE_BYTES = 1 << 16


def read_node_config(info):
    """(docker-state.json as a dict, None, path) of the node docker info describes, or (None, why, path)."""
    root = (info or {}).get("DockerRootDir") or ""
    if not root.startswith("/"):
        return None, "docker info names no DockerRootDir", None
    path = os.path.join(root, NODE_STATE_FILE)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_NODE_STATE_BYTES + 1)
    except OSError as error:
        return None, "%s unreadable here (%s); run the audit on the Docker host, as root" % (path, error.strerror or error), path
    if len(data) > MAX_NODE_STATE_BYTES:
        return None, "%s larger than %d bytes, not read" % (path, MAX_NODE_STATE_BYTES), path
    try:
        config = json.loads(data.decode("utf-8"))
    except ValueError as error:
        return None, "%s is not JSON: %s" % (path, error), path
    if not isinstance(config, dict):
        return None, "%s is not a JSON object" % path, path
    # The same node? A docker_host elsewhere has its own data root, not this machine's.
    advertised = split_host_port(config.get("AdvertiseAddr") or "")[0]
    node_addr = ((info or {}).get("Swarm") or {}).get("NodeAddr") or ""
    if node_addr and advertised and advertised != node_addr:
        return None, "%s advertises %s but docker info's node address is %s: not this node's file" % (
            path, advertised, node_addr), path
    return config, None, path


def _manager_call(client, facts, what, endpoint, **kwargs):
    # A node demoted (or a swarm left) between info and this call answers 503: that fact stays unknown.
    try:
        return client.call(endpoint, **kwargs)
    except api_error_class() as error:
        facts.errors[what] = "docker %s failed: %s" % (endpoint, error.explanation or error)
        return None


def gather_swarm(client, info, now=None):
    """SwarmFacts for the node docker info describes; API calls only on an active manager."""
    facts = SwarmFacts.from_info(info, now=now)
    if not facts.in_swarm:
        return facts
    facts.node_config, facts.node_config_error, facts.node_config_path = read_node_config(info)
    if not facts.manager:
        return facts
    if facts.cluster is None:
        cluster = _manager_call(client, facts, "cluster", "inspect_swarm")
        if cluster is not None:
            cluster.pop("JoinTokens", None)  # credentials that let anyone join: never kept
        facts.cluster = cluster
    facts.nodes = _manager_call(client, facts, "nodes", "nodes")
    facts.networks = _manager_call(client, facts, "networks", "networks", filters={"driver": "overlay"})
    facts.secrets = _manager_call(client, facts, "secrets", "secrets")
    return facts


def list_everything(client, now=None):
    """OperationsFacts: the image list (as `docker images` shows it) and every container, running or not."""
    return OperationsFacts(client.call("images"), client.call("containers", all=True), now=now)


def gather_operations(client, request, state):
    """Fill state.operations and state.swarm for the operations and swarm scopes (state.info already gathered)."""
    now = time.time()
    if "operations" in request.scopes:
        state.operations = guarded(client, list_everything, client, now)
    if "swarm" in request.scopes:
        state.swarm = guarded(client, gather_swarm, client, state.info, now)
