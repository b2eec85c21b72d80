# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts for CIS sections 6 (security operations) and 7 (swarm), and how they are gathered.

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

import base64
import datetime
import json
import os
import re
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import api_error_class, guarded

SCOPES = frozenset(("operations", "swarm"))

# docker info Swarm.LocalNodeState values.
NODE_ACTIVE = "active"
NODE_LOCKED = "locked"
NOT_IN_SWARM = ("", "inactive")

NODE_STATE_FILE = os.path.join("swarm", "docker-state.json")
# docker-state.json is a few hundred bytes.
MAX_NODE_STATE_BYTES = 1 << 16

DAY = 86400


# --- section 6 ---------------------------------------------------------------

class OperationsFacts(object):
    """The image list and the list of every container, as the Engine summarizes them.

    images: `docker images` summaries (Id, RepoTags, Created as epoch seconds);
    containers: container summaries of every container (Names, ImageID, State,
    Status, Created); now: epoch seconds when they were listed, so ages are
    computed against the gathering time (tests fix it).
    """

    def __init__(self, images=None, containers=None, now=None):
        self.images = list(images or [])
        self.containers = list(containers or [])
        self.now = time.time() if now is None else now


# docker's HumanDuration, as `docker ps` shows it in Status ("Exited (0) 3 weeks ago").
HUMAN_DURATION = re.compile(
    r"(?P<text>Less than a second|About an? (?P<about>minute|hour)|(?P<count>\d+) (?P<unit>second|minute|hour|day|week|month|year)s?) ago\s*$")
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": DAY, "week": 7 * DAY, "month": 30 * DAY, "year": 365 * DAY}


def status_age(status):
    """Seconds a `docker ps` Status says have passed ("Exited (0) 3 weeks ago": about 1814400), or None."""
    match = HUMAN_DURATION.search(status or "")
    if not match:
        return None
    if match.group("about"):
        return UNIT_SECONDS[match.group("about")]
    if match.group("count"):
        return int(match.group("count")) * UNIT_SECONDS[match.group("unit")]
    return 0


# --- section 7 ---------------------------------------------------------------

class SwarmFacts(object):
    """docker info's Swarm block, and what a manager adds.

    swarm: docker info .Swarm (LocalNodeState, ControlAvailable, NodeID,
    NodeAddr, RemoteManagers, Nodes, Managers, Cluster); cluster: the cluster
    (ID, Spec, TLSInfo, CreatedAt, RootRotationInProgress, ...) from docker info
    or swarm inspect, without join tokens; nodes, networks (overlay only),
    secrets: the list calls' answers; each is None when not gathered (not a
    manager, or the call failed: errors says why). node_config: this node's
    docker-state.json as a dict, or None with node_config_error saying why.
    """

    def __init__(self, swarm=None, cluster=None, nodes=None, networks=None, secrets=None, node_config=None,
                 node_config_error=None, node_config_path=None, errors=None, now=None):
        self.swarm = swarm or {}
        self.cluster = cluster if cluster is not None else (self.swarm.get("Cluster") or None)
        self.nodes = nodes
        self.networks = networks
        self.secrets = secrets
        self.node_config = node_config
        self.node_config_error = node_config_error
        self.node_config_path = node_config_path
        self.errors = dict(errors or {})
        self.now = time.time() if now is None else now

    @classmethod
    def from_info(cls, info, **facts):
        return cls((info or {}).get("Swarm") or {}, **facts)

    @property
    def node_state(self):
        return self.swarm.get("LocalNodeState") or ""

    @property
    def in_swarm(self):
        return self.node_state not in NOT_IN_SWARM

    @property
    def active(self):
        return self.node_state == NODE_ACTIVE

    @property
    def manager(self):
        return self.active and bool(self.swarm.get("ControlAvailable"))

    @property
    def spec(self):
        return (self.cluster or {}).get("Spec") or {}

    def missing(self, what):
        """Why a manager-only fact (nodes, networks, secrets, cluster) is None."""
        return self.errors.get(what) or "not gathered"


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


# --- addresses and certificates -------------------------------------------------

def split_host_port(address):
    """("0.0.0.0", "2377") from "0.0.0.0:2377"; ("::", "2377") from "[::]:2377"; (address, "") without a port."""
    address = address.strip()
    if address.startswith("["):
        host, _sep, rest = address[1:].partition("]")
        return host, rest.lstrip(":")
    if address.count(":") == 1:
        host, _sep, port = address.partition(":")
        return host, port
    return address, ""


def _tlv(der, offset):
    """(tag, start of content, end of content) of the DER element at offset."""
    tag = der[offset]
    length = der[offset + 1]
    start = offset + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(der[start:start + size], "big")
        start += size
    if start + length > len(der):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _der_time(der, element):
    tag, start, end = element
    text = der[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ; years 50-99 are 19xx (RFC 5280)
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError("not a time")
    moment = datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    return moment.replace(tzinfo=datetime.timezone.utc)


def certificate_validity(der):
    """(notBefore, notAfter) of a DER X.509 certificate, as aware datetimes."""
    _tag, cert_start, _cert_end = _tlv(der, 0)
    _tag, tbs_start, tbs_end = _tlv(der, cert_start)
    fields = []
    offset = tbs_start
    while offset < tbs_end and len(fields) < 5:
        element = _tlv(der, offset)
        fields.append(element)
        offset = element[2]
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity
    _tag, validity_start, _validity_end = fields[3]
    not_before = _tlv(der, validity_start)
    not_after = _tlv(der, not_before[2])
    return _der_time(der, not_before), _der_time(der, not_after)


PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


def pem_validities(pem):
    """[(notBefore, notAfter)] of each certificate in a PEM bundle; ValueError when one cannot be read."""
    validities = []
    for body in PEM_CERTIFICATE.findall(pem or ""):
        try:
            der = base64.b64decode("".join(body.split()))
            validities.append(certificate_validity(der))
        except (IndexError, TypeError, ValueError) as error:
            raise ValueError("unreadable certificate: %s" % error)
    return validities
