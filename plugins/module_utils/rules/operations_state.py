# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The facts CIS sections 6 (security operations) and 7 (swarm) read: the image and container lists, docker info's
Swarm block and what a manager adds, and the pure parsers they need (docker ps ages, host:port, certificate
validity). audit/gather_operations.py fills them; nothing here calls the Engine or reads a file."""

from __future__ import annotations

import base64
import datetime
import re
import time

NODE_ACTIVE = "active"
NODE_LOCKED = "locked"
NOT_IN_SWARM = ("", "inactive")

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
