# -*- coding: utf-8 -*-
"""CIS section 7 rules: swarm, from docker info's Swarm block, a manager's lists and the node's docker-state.json.

swarm.json is a real single-node swarm (`docker swarm init --advertise-addr 127.0.0.1`, Docker 20.10) with an
unencrypted and an encrypted overlay network and one secret; each case changes only what its rule reads.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.operations_state import SwarmFacts, pem_validities, split_host_port
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_text
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis7_swarm import (
    CA_MAX_AGE_DAYS, NODE_CERT_EXPIRY_MAX_DAYS,
)

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, findings, load, state, status, swarm, swarm_state

SWARM_IDS = ["7.%d" % number for number in range(1, 10)]
DAY = 86400
HOUR_NS = 3600 * 10 ** 9


def statuses(rule_id, audit_state):
    return dict((item.target, item.status) for item in findings(rule_id, audit_state))


def manager_node(name, leader=False, reachability="reachable"):
    node = copy.deepcopy(load("swarm.json")["nodes"][0])
    node["ID"] = name + "-id"
    node["Description"]["Hostname"] = name
    node["ManagerStatus"] = {"Leader": leader, "Reachability": reachability, "Addr": "192.168.56.%d:2377" % len(name)}
    return node


# --- outside a swarm, on a worker, on a locked manager ----------------------------------

@pytest.mark.parametrize("rule_id", SWARM_IDS)
def test_not_in_a_swarm_every_rule_is_not_applicable(rule_id):
    for audit_state in (state(), swarm_state(SwarmFacts.from_info(load("info.json")))):
        assert status(rule_id, audit_state) == "skipped"
        assert evidence(rule_id, audit_state).startswith("not applicable: not a swarm node")


@pytest.mark.parametrize("rule_id", SWARM_IDS)
def test_on_a_worker_only_the_nodes_own_addresses_are_decided(rule_id):
    worker = swarm_state(node="worker", docker_state={"AdvertiseAddr": "192.168.56.12:2377", "DataPathAddr": "10.10.0.12"})
    if rule_id == "7.9":
        assert status(rule_id, worker) == "pass"
    else:
        assert status(rule_id, worker) == "skipped"
        assert "this node is a worker" in evidence(rule_id, worker)


@pytest.mark.parametrize("rule_id", SWARM_IDS)
def test_a_locked_manager_proves_autolock_and_waits_for_the_rest(rule_id):
    locked = swarm_state(node="locked", node_config_error="not read")
    if rule_id == "7.5":
        assert status(rule_id, locked) == "pass"
    else:
        assert status(rule_id, locked) == "skipped"
        assert "locked" in evidence(rule_id, locked)


def test_manager_facts_that_were_not_gathered_are_skipped_with_the_reason():
    facts = swarm(nodes=None, networks=None, secrets=None, cluster=None)
    facts.cluster = None
    facts.errors["networks"] = "docker networks failed: This node is not a swarm manager."
    audit_state = swarm_state(facts)
    for rule_id in ("7.3", "7.4", "7.5", "7.6", "7.7", "7.8"):
        assert status(rule_id, audit_state) == "skipped", rule_id
    assert "not a swarm manager" in evidence("7.3", audit_state)
    # docker info alone (no gathered swarm facts): the manager's lists are unknown, not empty.
    info_only = state(info_changes={"Swarm": load("swarm.json")["info_manager"]})
    assert status("7.3", info_only) == "skipped" and status("7.1", info_only) == "pass"


# --- 7.1 managers -------------------------------------------------------------------

def test_7_1_one_manager_passes_an_even_number_fails():
    assert status("7.1", swarm_state()) == "pass"
    assert "1 manager of 1 node: vm (leader)" in evidence("7.1", swarm_state())
    two = swarm_state(changes={"Managers": 2, "Nodes": 5},
                      nodes=[manager_node("m1", leader=True), manager_node("m22", reachability="unreachable")])
    assert status("7.1", two) == "fail"
    assert "2 managers of 5 nodes: m1 (leader), m22 (unreachable)" in evidence("7.1", two)


def test_7_1_three_managers_pass_nine_fail():
    assert status("7.1", swarm_state(changes={"Managers": 3, "Nodes": 3})) == "pass"
    assert status("7.1", swarm_state(changes={"Managers": 9, "Nodes": 12})) == "fail"
    assert "more than 7" in evidence("7.1", swarm_state(changes={"Managers": 9, "Nodes": 12}))


# --- 7.2 listen address ---------------------------------------------------------------

@pytest.mark.parametrize("listen,expected", [
    ("0.0.0.0:2377", "fail"),
    ("[::]:2377", "fail"),
    (":2377", "fail"),
    ("127.0.0.1:2377", "pass"),
    ("10.1.2.3:4000", "pass"),
    ("[fd00::5]:2377", "pass"),
])
def test_7_2_listen_address(listen, expected):
    assert status("7.2", swarm_state(docker_state={"ListenAddr": listen})) == expected


def test_7_2_the_fixture_swarm_listens_everywhere_and_an_unread_state_file_is_skipped():
    assert "ListenAddr 0.0.0.0:2377 (advertised as 127.0.0.1:2377)" in evidence("7.2", swarm_state())
    unread = swarm_state(node_config_error="/var/lib/docker/swarm/docker-state.json unreadable here")
    assert status("7.2", unread) == "skipped" and "unreadable" in evidence("7.2", unread)


# --- 7.3 overlay networks ---------------------------------------------------------------

def test_7_3_one_finding_per_overlay_network():
    assert statuses("7.3", swarm_state()) == {"ingress": "fail", "plain-net": "fail", "secure-net": "pass"}
    assert "--ingress" in evidence("7.3", swarm_state(), target="ingress")


def test_7_3_every_network_encrypted_passes():
    networks = copy.deepcopy(load("swarm.json")["networks"])
    for network in networks:
        network["Options"]["encrypted"] = ""
    assert set(statuses("7.3", swarm_state(networks=networks)).values()) == {"pass"}
    assert statuses("7.3", swarm_state(networks=[])) == {"swarm": "pass"}


# --- 7.4 secrets -----------------------------------------------------------------------------

def test_7_4_secrets_used_passes_none_is_info():
    assert status("7.4", swarm_state()) == "pass"
    assert "1 swarm secret, by name: db_password" in evidence("7.4", swarm_state())
    assert status("7.4", swarm_state(secrets=[])) == "info"


def test_7_4_the_names_of_secrets_survive_the_masking_layer():
    # A secret's name is not a secret: the evidence must not read as "secret: <value>" to the masker that every
    # module's result passes through (it printed "1 swarm secret: ********").
    text = evidence("7.4", swarm_state())
    assert mask_text(text) == text


# --- 7.5 and 7.6 auto-lock ----------------------------------------------------------------------

def test_7_5_autolock_off_fails_on_passes():
    assert status("7.5", swarm_state()) == "fail"
    assert status("7.5", swarm_state(changes={"Cluster.Spec.EncryptionConfig.AutoLockManagers": True})) == "pass"


def test_7_6_reports_the_facts():
    assert status("7.6", swarm_state()) == "info"
    assert "no unlock key to rotate" in evidence("7.6", swarm_state())
    locked_on = swarm_state(changes={"Cluster.Spec.EncryptionConfig.AutoLockManagers": True})
    assert status("7.6", locked_on) == "info" and "unlock-key --rotate" in evidence("7.6", locked_on)


# --- 7.7 node certificates --------------------------------------------------------------------------

def test_7_7_default_90_days_warns_30_days_or_less_passes():
    assert status("7.7", swarm_state()) == "warn"
    assert "90 days" in evidence("7.7", swarm_state())
    month = swarm_state(changes={"Cluster.Spec.CAConfig.NodeCertExpiry": NODE_CERT_EXPIRY_MAX_DAYS * 24 * HOUR_NS})
    assert status("7.7", month) == "pass"
    two_days = swarm_state(changes={"Cluster.Spec.CAConfig.NodeCertExpiry": 48 * HOUR_NS})
    assert status("7.7", two_days) == "pass" and "expire after 2 days" in evidence("7.7", two_days)
    hours = swarm_state(changes={"Cluster.Spec.CAConfig.NodeCertExpiry": 12 * HOUR_NS})
    assert "expire after 12 hours" in evidence("7.7", hours)
    unset = swarm_state(changes={"Cluster.Spec.CAConfig": {}})
    assert status("7.7", unset) == "warn" and "Docker's default" in evidence("7.7", unset)


# --- 7.8 root CA ----------------------------------------------------------------------------------

def test_7_8_a_recent_root_ca_passes_an_old_one_warns():
    fresh = swarm_state()
    assert status("7.8", fresh) == "pass"
    assert "root CA issued 2026-11-26 (0 days ago), valid until 2046-11-21" in evidence("7.8", fresh)
    later = load("operations.json")["now"] + (CA_MAX_AGE_DAYS + 35) * DAY
    old = swarm_state(now=later)
    assert status("7.8", old) == "warn" and "400 days ago" in evidence("7.8", old)


def test_7_8_rotation_in_progress_and_unreadable_certificates_are_info():
    assert status("7.8", swarm_state(changes={"Cluster.RootRotationInProgress": True})) == "info"
    broken = "-----BEGIN CERTIFICATE-----\nMIIBaTCC\n-----END CERTIFICATE-----\n"
    assert status("7.8", swarm_state(changes={"Cluster.TLSInfo.TrustRoot": broken})) == "info"


def test_root_certificate_dates_match_openssl():
    # `openssl x509 -noout -dates` on the fixture's TrustRoot: Nov 26 05:01:00 2026 GMT, Nov 21 05:01:00 2046 GMT.
    trust_root = load("swarm.json")["info_manager"]["Cluster"]["TLSInfo"]["TrustRoot"]
    (issued, expires), = pem_validities(trust_root)
    assert issued.isoformat() == "2026-11-26T05:01:00+00:00" and expires.isoformat() == "2046-11-21T05:01:00+00:00"


# --- 7.9 management and data plane -------------------------------------------------------------------

def test_7_9_shared_address_warns_separate_data_path_passes():
    assert status("7.9", swarm_state()) == "warn"
    assert status("7.9", swarm_state(docker_state={"DataPathAddr": "127.0.0.1"})) == "warn"
    separated = swarm_state(docker_state={"DataPathAddr": "10.20.0.11"})
    assert status("7.9", separated) == "pass"
    assert "management plane on 127.0.0.1, data plane on 10.20.0.11" in evidence("7.9", separated)


@pytest.mark.parametrize("address,expected", [
    ("0.0.0.0:2377", ("0.0.0.0", "2377")),
    ("[::]:2377", ("::", "2377")),
    ("eth0:2377", ("eth0", "2377")),
    ("10.0.0.1", ("10.0.0.1", "")),
    ("fd00::1", ("fd00::1", "")),
])
def test_split_host_port(address, expected):
    assert split_host_port(address) == expected
