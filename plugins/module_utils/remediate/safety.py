# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Before a replacement: what it would lose, cut off or stop answering, read from the Engine and this host.

Only for containers a recreate is planned for, never for the others (live fixes need none of it):

- its writable layer: one GET /containers/{id}/changes (the audit's own when it already read it);
- who depends on it: the inspect data of every container on the Engine, stopped ones included - the
  audit's are reused, the others inspected once per run, and only when some recreate is planned;
- where it answers: its published TCP ports and, on the host's network, the ports its processes listen
  on (ports.py), each probed: those that answer now must answer after.

A refusal keeps the container as it is (its live fixes still apply) and says why, the safe choice first.
"""

from __future__ import annotations


from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import optional_call, read_each, sdk
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import ports as portcheck
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.dependants import dependants_of, dependants_refusal
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.layer import changes_at_risk, layer_refusal


class RecreateFacts(object):
    """What safety found about one recreate candidate."""

    def __init__(self, at_risk=(), dependants=(), listening=None, listening_unknown=None, answering=(),
                 random_ports=()):
        self.at_risk = list(at_risk)                  # [(kind, path)] of its writable layer
        self.dependants = list(dependants)            # [(name, how)]
        self.listening = listening                    # [(address, port)] on the host network; None: not read
        self.listening_unknown = listening_unknown    # why listening is None
        self.answering = list(answering)              # [(host, port)] that answer now
        self.random_ports = list(random_ports)        # container ports published on an Engine-picked host port


class Neighbours(object):
    """Every container on the Engine as a ContainerView, stopped ones included, inspected on first use only."""

    def __init__(self, client, summaries, known):
        self.client = client
        self.summaries = summaries
        self.known = dict((container.id, container) for container in known)
        self._all = None

    def all(self):
        if self._all is None:
            missing = [summary["Id"] for summary in self.summaries if summary["Id"] not in self.known]
            views = list(self.known.values()) + [ContainerView(data) for data in self._inspect(missing)]
            self._all = views
        return self._all

    def _inspect(self, ids):
        return read_each(lambda container_id: optional_call(self.client, "inspect_container", container_id), ids)


def layer_changes(client, container):
    """The writable layer's changes: the audit's own read (BW-004, BW-013) when there is one, else one call."""
    if container.diff is not None:
        return container.diff
    return client.call("diff", container.id) or []


def on_host_network(container):
    return (container.host_config.get("NetworkMode") or "") == "host"


def facts_for(client, container, neighbours, policy, docker_host, probe=portcheck.answers):
    """RecreateFacts of one recreate candidate."""
    facts = RecreateFacts()
    facts.at_risk = changes_at_risk(layer_changes(client, container), container.inspect, policy.get("disposable_paths"))
    facts.dependants = dependants_of(container, neighbours.all())
    if not container.running:
        facts.listening_unknown = "it does not run"
        return facts
    facts.random_ports = portcheck.random_host_ports(container.inspect)
    endpoints = portcheck.published_endpoints(container.inspect, docker_host)
    if on_host_network(container):
        facts.listening, facts.listening_unknown = portcheck.listening_sockets(
            container.inspect, docker_host, top=lambda: _top(client, container))
        endpoints += [endpoint for endpoint in portcheck.listening_endpoints(facts.listening, docker_host)
                      if endpoint not in endpoints]
    facts.answering = portcheck.answering(endpoints, probe)
    return facts


def _top(client, container):
    try:
        return client.call("top", container.id)
    except sdk().errors.APIError:
        return None


def refusal_of(container, facts, journal_problem):
    """Why the container is kept as it is, naming each reason, or None."""
    reasons = []
    if journal_problem:
        reasons.append("there is no journal to recover an interrupted replacement from (%s): run as root "
                       "(become: true) or set state_dir to a directory only root may write" % journal_problem)
    for reason in (dependants_refusal(facts.dependants), layer_refusal(facts.at_risk)):
        if reason:
            reasons.append(reason)
    if facts.random_ports:
        reasons.append("it publishes %s on a host port the Engine picks, and a replacement would answer on another "
                       "one: give it a fixed host port" % ", ".join(facts.random_ports))
    if container.running and on_host_network(container) and facts.listening is None:
        reasons.append("on the host's network, the ports it listens on cannot be found (%s), so a replacement could "
                       "not be checked to answer where it does" % facts.listening_unknown)
    return "kept as it is: %s" % "; ".join(reasons) if reasons else None
