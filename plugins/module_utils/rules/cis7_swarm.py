# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark v1.6 section 7: Docker Swarm configuration.

Decided from docker info's Swarm block (node state, role, and on managers
the cluster spec: auto-lock, certificate expiry, root CA), and on managers
from the node, overlay network and secret lists; the node's own
docker-state.json gives the addresses the API does not return (listen
address of the management plane, data path address). See
audit/gather_operations.py for the calls: none on a host outside a swarm.

Where each rule is decided:

- not in a swarm: every rule is `skipped`, evidence "not applicable: not a
  swarm node ..." (Docker Bench passes them, which adds free points);
- a locked manager (auto-lock on, restarted, not unlocked yet): 7.5 passes,
  the others are skipped until it is unlocked;
- a worker: 7.9 (its own addresses) is decided, the rest is skipped: a worker
  sees neither the cluster spec nor the node, network and secret lists, so
  audit a manager for those;
- a manager: everything.

Scored rules (7.1, 7.2, 7.3, 7.5) pass or fail; the unscored ones pass,
warn or report info with the facts (see each rule's comment for its threshold).
"""

from __future__ import annotations

import datetime
import functools

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.operations_state import DAY, NODE_LOCKED, SwarmFacts, pem_validities, split_host_port
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    failed, global_rule, info, passed, skipped, warned,
)

SECTION = "swarm"
SUBJECT = "swarm"

# Docker's documentation: an odd number of managers, and no more than seven.
MAX_MANAGERS = 7
# Node certificates valid longer than this warn (7.7). Docker's default is 90 days.
NODE_CERT_EXPIRY_MAX_DAYS = 30
# A root CA issued longer ago than this warns (7.8). Docker's root CA is valid 20 years.
CA_MAX_AGE_DAYS = 365
# Addresses that mean "every interface" in a listen address.
ALL_INTERFACES = ("", "0.0.0.0", "::", "*")
NAMES_SHOWN = 5


def swarm_facts(state):
    """state.swarm, else what docker info alone says (no manager lists); None without docker info."""
    if state.swarm is not None:
        return state.swarm
    if state.info is None:
        return None
    return SwarmFacts.from_info(state.info)


def _gate(state, manager=True):
    """(SwarmFacts, None) when the rule is decided on this node, else (None, the skipped Outcome)."""
    swarm = swarm_facts(state)
    if swarm is None:
        return None, skipped("docker info not gathered")
    if not swarm.in_swarm:
        return None, skipped("not applicable: not a swarm node (docker info Swarm.LocalNodeState=%s)"
                             % (swarm.node_state or "<empty>"))
    if swarm.node_state == NODE_LOCKED:
        return None, skipped("the swarm node is locked (auto-lock, restarted): unlock it (docker swarm unlock) to audit it")
    if not swarm.active:
        error = swarm.swarm.get("Error") or ""
        return None, skipped("the swarm node is %s%s: nothing to decide until it is active"
                             % (swarm.node_state, " (%s)" % error if error else ""))
    if manager and not swarm.manager:
        return None, skipped("decided on a manager: this node is a worker (docker info Swarm.ControlAvailable=false), "
                             "which sees neither the cluster spec nor its nodes, networks and secrets")
    return swarm, None


def on_swarm_node(manager=True):
    """A section 7 rule decided on an active, unlocked swarm node (a manager unless manager=False): the rule
    function takes that node's SwarmFacts; on any other node the rule is skipped, saying why (_gate)."""
    def wrap(evaluate):
        @functools.wraps(evaluate)
        def gated(state):
            swarm, outcome = _gate(state, manager)
            return outcome if outcome else evaluate(swarm)
        return gated
    return wrap


def _cluster(swarm):
    if swarm.cluster is None:
        return skipped("cluster spec: %s" % swarm.missing("cluster"))
    return None


def _names(names):
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (", ..." if len(names) > NAMES_SHOWN else "")


def _duration(nanoseconds):
    seconds = nanoseconds / 1e9
    if seconds < 2 * DAY:
        return "%g hours" % round(seconds / 3600.0, 1)
    return "%g days" % round(seconds / DAY, 1)


def _manager_nodes(swarm):
    """Names of the manager nodes from the node list, with leader and unreachable marked; None without it."""
    if swarm.nodes is None:
        return None
    described = []
    for node in swarm.nodes:
        if (node.get("Spec") or {}).get("Role") != "manager":
            continue
        status = node.get("ManagerStatus") or {}
        name = (node.get("Description") or {}).get("Hostname") or node.get("ID", "")[:12]
        marks = [mark for mark, on in (("leader", status.get("Leader")),
                                       (status.get("Reachability") or "", status.get("Reachability") not in (None, "reachable")))
                 if on]
        described.append(name + (" (%s)" % ", ".join(marks) if marks else ""))
    return sorted(described)


@global_rule(
    "7.1", "Ensure that the minimum number of manager nodes have been created in a swarm", SECTION, subject=SUBJECT,
    level=1, scored=True, severity="medium", fix="manual",
    reads="docker info Swarm.Managers and Swarm.Nodes, docker node ls (role, leader, reachability); on a manager",
    remediation="Run one manager, or the smallest odd number the fault tolerance needs (3 survive the loss of one, "
                "5 of two), never more than 7: docker node demote <node>.",
)
@on_swarm_node()
def minimum_managers(swarm):
    # Every manager holds the raft store (secrets included) and can change the swarm's security settings, so each
    # one is attack surface. An even count adds none of that fault tolerance (quorum is a majority: 2 managers
    # survive no loss, like 1; 4 survive one, like 3); more than 7 slows raft down (Docker's own limit).
    names = _manager_nodes(swarm)
    managers = swarm.swarm.get("Managers") or (len(names) if names else 0)
    if not managers:
        return skipped("manager count unknown: docker info has no Swarm.Managers and the node list %s"
                       % swarm.missing("nodes"))
    listed = "%d manager%s of %d node%s%s" % (
        managers, "" if managers == 1 else "s", swarm.swarm.get("Nodes") or 0, "" if swarm.swarm.get("Nodes") == 1 else "s",
        ": " + ", ".join(names) if names else "")
    if managers % 2 == 0:
        return failed("%s; an even number of managers tolerates no more lost managers than %d would, "
                      "and is one more node that controls the swarm" % (listed, managers - 1))
    if managers > MAX_MANAGERS:
        return failed("%s; more than %d managers (Docker's limit)" % (listed, MAX_MANAGERS))
    return passed(listed)


@global_rule(
    "7.2", "Ensure that swarm services are bound to a specific host interface", SECTION, subject=SUBJECT,
    level=1, scored=True, severity="medium", fix="manual",
    reads="the manager's listen address (ListenAddr in <DockerRootDir>/swarm/docker-state.json, what dockerd "
          "listens on for the swarm API, port 2377 by default; the Engine API does not return it)",
    remediation="Bind the management plane to the management interface: docker swarm init (or join) "
                "--listen-addr <ip>:2377 --advertise-addr <ip>; an existing node has to leave and join again.",
)
@on_swarm_node()
def listen_address(swarm):
    # The shell check reads `ss -lnt` for 2377, which misses a non-default port and mixes up daemons. The listen
    # address dockerd was given is the management plane's effective binding (verified against ss).
    if swarm.node_config is None:
        return skipped("listen address unknown: %s" % swarm.node_config_error)
    listen = swarm.node_config.get("ListenAddr") or ""
    host, port = split_host_port(listen)
    advertised = swarm.node_config.get("AdvertiseAddr") or swarm.swarm.get("NodeAddr") or "?"
    if host in ALL_INTERFACES:
        return failed("the swarm management plane (port %s) listens on every interface: ListenAddr %s (advertised as %s)"
                      % (port or "2377", listen or "<empty>", advertised))
    return passed("the swarm management plane listens on %s only (advertised as %s)" % (listen, advertised))


@global_rule(
    "7.3", "Ensure that all Docker swarm overlay networks are encrypted", SECTION, subject=SUBJECT,
    level=1, scored=True, severity="medium", fix="manual",
    reads="docker network ls --filter driver=overlay: Options.encrypted of each overlay network; on a manager",
    remediation="Create overlay networks with --opt encrypted (docker network create --driver overlay --opt encrypted "
                "<name>); an existing network is recreated, the ingress network with --ingress.",
)
@on_swarm_node()
def encrypted_overlays(swarm):
    # Overlay traffic between nodes is VXLAN, in clear text unless the network is encrypted (IPsec). The option's
    # presence is what the overlay driver tests, whatever its value. One finding per network, the ingress
    # (routing mesh) network included, as CIS and Docker Bench count it.
    if swarm.networks is None:
        return skipped("overlay networks: %s" % swarm.missing("networks"))
    overlays = sorted((network for network in swarm.networks if network.get("Driver") == "overlay"),
                      key=lambda network: network.get("Name") or "")
    if not overlays:
        return passed("no overlay networks")
    results = []
    for network in overlays:
        name = network.get("Name") or network.get("Id", "")[:12]
        if "encrypted" in (network.get("Options") or {}):
            results.append((name, passed("overlay network with Options.encrypted: its traffic between nodes is IPsec-encrypted")))
            continue
        ingress = " (the ingress routing-mesh network: recreate it with docker network create --ingress --driver overlay " \
                  "--opt encrypted)" if network.get("Ingress") else ""
        results.append((name, failed("overlay network without Options.encrypted: its traffic between nodes crosses the "
                                     "network in clear text%s" % ingress)))
    return results


@global_rule(
    "7.4", "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster", SECTION, subject=SUBJECT,
    level=1, scored=False, severity="low", fix="manual",
    reads="docker secret ls (names only; the Engine never returns secret data); on a manager",
    remediation="Give services their secrets with docker secret create and --secret, not environment variables "
                "or files in images.",
)
@on_swarm_node()
def secrets_used(swarm):
    # No swarm secret does not prove that secrets sit in environment variables (BW-001 looks there), hence info.
    if swarm.secrets is None:
        return skipped("secret list: %s" % swarm.missing("secrets"))
    names = sorted((secret.get("Spec") or {}).get("Name") or secret.get("ID", "")[:12] for secret in swarm.secrets)
    if names:
        return passed("%d swarm secret%s, by name: %s" % (len(names), "" if len(names) == 1 else "s", _names(names)))
    return info("no swarm secrets: services get theirs some other way (environment, files in images or bind mounts)")


@global_rule(
    "7.5", "Ensure that swarm manager is run in auto-lock mode", SECTION, subject=SUBJECT,
    level=1, scored=True, severity="high", fix="manual",
    reads="docker info Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers (Swarm.LocalNodeState=locked: on); on a manager",
    remediation="Turn auto-lock on (docker swarm update --autolock=true) and keep the unlock key outside the managers.",
)
def autolock(state):
    # Without auto-lock the key that decrypts the raft log (every secret, the CA key) lies on each manager's disk
    # next to it. A manager that is locked right now proves auto-lock is on: the one rule decided on a locked
    # node, so it opens the gate itself.
    swarm = swarm_facts(state)
    if swarm is not None and swarm.node_state == NODE_LOCKED:
        return passed("the manager is locked (Swarm.LocalNodeState=locked): auto-lock is on")
    swarm, outcome = _gate(state)
    if outcome:
        return outcome
    missing = _cluster(swarm)
    if missing:
        return missing
    if (swarm.spec.get("EncryptionConfig") or {}).get("AutoLockManagers"):
        return passed("auto-lock is on (Cluster.Spec.EncryptionConfig.AutoLockManagers=true)")
    return failed("auto-lock is off (Cluster.Spec.EncryptionConfig.AutoLockManagers=false): the key that decrypts the "
                  "raft store (secrets, the CA key) is kept on each manager's disk")


@global_rule(
    "7.6", "Ensure that the swarm manager auto-lock key is rotated periodically", SECTION, subject=SUBJECT,
    level=1, scored=False, severity="low", fix="manual",
    reads="docker info Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers; the Engine keeps no date of the "
          "unlock key's rotation; on a manager",
    remediation="Rotate the unlock key on a schedule (docker swarm unlock-key --rotate) and store the new one safely.",
)
@on_swarm_node()
def autolock_rotation(swarm):
    # A CIS NOTE: nothing in the Engine's data dates the last rotation (the cluster's UpdatedAt moves with every
    # 12-hourly network key rotation too), so this reports the facts for a person.
    missing = _cluster(swarm)
    if missing:
        return missing
    if not (swarm.spec.get("EncryptionConfig") or {}).get("AutoLockManagers"):
        return info("auto-lock is off (see 7.5): there is no unlock key to rotate")
    return info("auto-lock is on; the Engine records no date of the unlock key's last rotation: "
                "rotate it on a schedule (docker swarm unlock-key --rotate)")


@global_rule(
    "7.7", "Ensure that node certificates are rotated as appropriate", SECTION, subject=SUBJECT,
    level=1, scored=False, severity="low", fix="manual",
    reads="docker info Swarm.Cluster.Spec.CAConfig.NodeCertExpiry; pass at %d days or less; on a manager"
          % NODE_CERT_EXPIRY_MAX_DAYS,
    remediation="Shorten the node certificates' lifetime: docker swarm update --cert-expiry 720h (30 days) or less.",
)
@on_swarm_node()
def node_certificates(swarm):
    # Nodes renew their certificates by themselves between 50% and 80% of the lifetime; the lifetime is how long a
    # certificate copied off a node (or a removed node's) stays usable. Docker's default is 90 days; CIS's example
    # is 48 hours and Docker Bench passes only "2 days". 30 days is the threshold here: a month-long window at most,
    # and renewal every 15 to 24 days, without the churn of hours-long certificates on large swarms. Unscored: warn.
    missing = _cluster(swarm)
    if missing:
        return missing
    expiry = (swarm.spec.get("CAConfig") or {}).get("NodeCertExpiry") or 0
    default = "" if expiry else " (Docker's default)"
    expiry = expiry or 90 * DAY * 10 ** 9
    said = "node certificates expire after %s%s (Cluster.Spec.CAConfig.NodeCertExpiry); nodes renew them between " \
           "50%% and 80%% of that" % (_duration(expiry), default)
    if expiry <= NODE_CERT_EXPIRY_MAX_DAYS * DAY * 10 ** 9:
        return passed(said)
    return warned("%s: longer than %d days" % (said, NODE_CERT_EXPIRY_MAX_DAYS))


def _day(moment):
    return moment.strftime("%Y-%m-%d")


@global_rule(
    "7.8", "Ensure that CA certificates are rotated as appropriate", SECTION, subject=SUBJECT,
    level=1, scored=False, severity="low", fix="manual",
    reads="docker info Swarm.Cluster.TLSInfo.TrustRoot (the root CA certificate's notBefore), "
          "RootRotationInProgress, Spec.CAConfig.ForceRotate; pass when issued within %d days; on a manager"
          % CA_MAX_AGE_DAYS,
    remediation="Rotate the swarm's root CA (docker swarm ca --rotate), at least yearly and whenever a manager "
                "may have been compromised.",
)
@on_swarm_node()
def ca_rotation(swarm):
    # A CIS INFO check, decidable after all: the root certificate's notBefore is when the current root CA was made,
    # at `swarm init` or by the last rotation. Older than a year warns (a common key rotation policy; Docker's
    # root certificate is valid 20 years, so expiry never forces it).
    missing = _cluster(swarm)
    if missing:
        return missing
    forced = (swarm.spec.get("CAConfig") or {}).get("ForceRotate") or 0
    external = " (external CA)" if (swarm.spec.get("CAConfig") or {}).get("ExternalCAs") else ""
    if swarm.cluster.get("RootRotationInProgress"):
        return info("a root CA rotation is in progress (forced rotations so far: %d)" % forced)
    try:
        validities = pem_validities((swarm.cluster.get("TLSInfo") or {}).get("TrustRoot"))
    except ValueError as error:
        return info("root CA certificate not readable (%s); forced rotations so far: %d" % (error, forced))
    if not validities:
        return info("docker info shows no root CA certificate (Swarm.Cluster.TLSInfo.TrustRoot); forced rotations "
                    "so far: %d" % forced)
    issued, expires = max(validities)
    now = datetime.datetime.fromtimestamp(swarm.now, datetime.timezone.utc)
    age = int((now - issued).total_seconds() // DAY)
    said = "root CA%s issued %s (%d day%s ago), valid until %s; forced rotations so far: %d" % (
        external, _day(issued), age, "" if age == 1 else "s", _day(expires), forced)
    if age > CA_MAX_AGE_DAYS:
        return warned("%s: not rotated for more than %d days" % (said, CA_MAX_AGE_DAYS))
    return passed(said)


@global_rule(
    "7.9", "Ensure that management plane traffic is separated from data plane traffic", SECTION, subject=SUBJECT,
    level=1, scored=False, severity="low", fix="manual",
    reads="this node's AdvertiseAddr and DataPathAddr (<DockerRootDir>/swarm/docker-state.json; the Engine API "
          "does not return them); on any swarm node",
    remediation="Give the data plane its own interface: docker swarm init (or join) --advertise-addr <management ip> "
                "--data-path-addr <data ip>.",
)
@on_swarm_node(manager=False)
def plane_separation(swarm):
    # A CIS INFO check, decidable per node: without --data-path-addr, container traffic between nodes (VXLAN,
    # port 4789) goes over the management address. Unscored, so a shared address warns for a person to judge
    # (a single-node swarm has no traffic between nodes yet; the next node to join would).
    if swarm.node_config is None:
        return skipped("node addresses unknown: %s" % swarm.node_config_error)
    advertised = swarm.node_config.get("AdvertiseAddr") or swarm.swarm.get("NodeAddr") or ""
    management = split_host_port(advertised)[0]
    data = swarm.node_config.get("DataPathAddr") or ""
    if not data:
        return warned("no data path address (DataPathAddr unset): data plane traffic between nodes uses the "
                      "management address %s too" % (management or "?"))
    if split_host_port(data)[0] == management:
        return warned("the data path address %s is the management address" % data)
    return passed("management plane on %s, data plane on %s" % (management, data))
