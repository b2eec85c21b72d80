# -*- coding: utf-8 -*-
"""Before a replacement: the facts read for a recreate candidate, what they cost, and the refusal they make."""

from __future__ import annotations

from docker.errors import NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import safety
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import DISPOSABLE_PATHS
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.safety import (
    Neighbours, RecreateFacts, facts_for, refusal_of,
)

from remediate_fixtures import neighbour, neighbours, web

LOCAL = "unix:///var/run/docker.sock"
POLICY = {"disposable_paths": list(DISPOSABLE_PATHS)}


class Engine(object):
    """Answers diff, top and inspect_container from the neighbours fixture; counts calls."""

    docker_host = LOCAL

    def __init__(self, changes=None):
        self.data = neighbours()
        self.changes = self.data["donor_changes"] if changes is None else changes
        self.made = []

    def call(self, endpoint, *args, **kwargs):
        self.made.append((endpoint,) + args)
        if endpoint == "diff":
            return self.changes
        if endpoint == "top":
            return self.data["hostnet_top"]
        if endpoint == "inspect_container":
            for name in ("donor", "netuser", "linked", "volumes", "hostnet"):
                if self.data[name]["Id"] == args[0]:
                    return self.data[name]
            raise NotFound("gone")
        raise AssertionError("unexpected call %s" % endpoint)


def summaries(*names):
    data = neighbours()
    return [{"Id": data[name]["Id"], "Names": [data[name]["Name"]]} for name in names]


def test_neighbours_inspects_only_what_the_audit_did_not_and_only_once():
    engine = Engine()
    known = [neighbour("donor"), neighbour("netuser")]
    found = Neighbours(engine, summaries("donor", "netuser", "linked", "volumes"), known)
    assert engine.made == []  # nothing until asked
    names = sorted(view.name for view in found.all())
    found.all()
    assert names == ["bwrm-fx-donor", "bwrm-fx-linked", "bwrm-fx-netuser", "bwrm-fx-volumes"]
    assert sorted(call[0] for call in engine.made) == ["inspect_container", "inspect_container"]


def test_a_container_removed_meanwhile_is_left_out():
    engine = Engine()
    gone = [{"Id": "f" * 64, "Names": ["/gone"]}]
    assert [view.name for view in Neighbours(engine, gone, [neighbour("donor")]).all()] == ["bwrm-fx-donor"]


def test_the_donors_facts(monkeypatch):
    engine = Engine()
    probed = []
    donor = neighbour("donor")
    found = Neighbours(engine, summaries("donor", "netuser", "linked", "volumes"), [donor])
    facts = facts_for(engine, donor, found, POLICY, LOCAL, probe=lambda host, port: probed.append((host, port)) or True)
    assert facts.at_risk == [("deleted", "/etc/group"), ("added", "/srv/orders/1.json"), ("added", "/data/deep")]
    assert [name for name, _how in facts.dependants] == ["bwrm-fx-netuser"] * 3 + ["bwrm-fx-linked", "bwrm-fx-volumes"]
    assert facts.answering == [("127.0.0.1", 18181)] and probed == [("127.0.0.1", 18181)]
    assert facts.listening is None and facts.random_ports == []
    assert [call[0] for call in engine.made].count("diff") == 1


def test_the_layer_the_audit_read_is_not_read_again():
    engine = Engine()
    donor = ContainerView(neighbours()["donor"], diff=[])
    facts = facts_for(engine, donor, Neighbours(engine, [], [donor]), POLICY, LOCAL, probe=lambda host, port: False)
    assert facts.at_risk == [] and "diff" not in [call[0] for call in engine.made]


def test_a_stopped_candidate_is_not_probed():
    engine = Engine(changes=[])
    stopped = neighbour("donor", {"State.Running": False, "State.Pid": 0})

    def probe(host, port):
        raise AssertionError("probed %s:%d" % (host, port))
    facts = facts_for(engine, stopped, Neighbours(engine, [], [stopped]), POLICY, LOCAL, probe=probe)
    assert facts.answering == [] and facts.listening_unknown == "it does not run"


def test_a_host_network_candidate_gets_its_listeners(monkeypatch):
    engine = Engine(changes=[])
    hostnet = neighbour("hostnet")
    monkeypatch.setattr(safety.portcheck, "listening_sockets",
                        lambda inspect, docker_host, top: ([("0.0.0.0", 18182), ("127.0.0.1", 18183)], None))
    facts = facts_for(engine, hostnet, Neighbours(engine, [], [hostnet]), POLICY, LOCAL, probe=lambda host, port: port == 18182)
    assert facts.listening == [("0.0.0.0", 18182), ("127.0.0.1", 18183)]
    assert facts.answering == [("127.0.0.1", 18182)]


def test_no_refusal_for_a_safe_candidate():
    assert refusal_of(web(), RecreateFacts(answering=[("127.0.0.1", 8080)]), None) is None


def test_every_reason_is_named_in_one_refusal():
    facts = RecreateFacts(at_risk=[("added", "/srv/x")], dependants=[("side", "link")], random_ports=["8080/tcp"])
    text = refusal_of(web(), facts, "cannot create /var/lib/bulwark/remediate: Permission denied")
    assert text.startswith("kept as it is: there is no journal to recover an interrupted replacement from (cannot create "
                           "/var/lib/bulwark/remediate: Permission denied): run as root")
    parts = text.split("; ")
    assert any(part.startswith("other containers depend on it - side (link)") for part in parts)
    assert any(part.startswith("its writable layer holds what a replacement would lose or undo (added /srv/x)") for part in parts)
    assert any(part.startswith("it publishes 8080/tcp on a host port the Engine picks") for part in parts)


def test_a_running_host_network_container_with_unknown_listeners_is_kept():
    hostnet = neighbour("hostnet")
    text = refusal_of(hostnet, RecreateFacts(listening_unknown="docker_host tcp://h:2375 is not this host's socket"), None)
    assert text == ("kept as it is: on the host's network, the ports it listens on cannot be found (docker_host "
                    "tcp://h:2375 is not this host's socket), so a replacement could not be checked to answer where it does")
    stopped = neighbour("hostnet", {"State.Running": False})
    assert refusal_of(stopped, RecreateFacts(listening_unknown="it does not run"), None) is None
