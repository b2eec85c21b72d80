# -*- coding: utf-8 -*-
"""5.10, 5.16 and 5.17 follow `container:` namespace modes to the donor (issue 20, item 4).

Inspect data is real (Docker 20.10): bwfp-net-joiner ran with --network
container:bwfp-hostnet-donor, bwfp-net-joiner2 joined bwfp-net-joiner, and
bwfp-pid-joiner ran with --pid and --ipc container:bwfp-hostpid-donor, whose
modes are host. dockerd stores the donor's full id in the joiner's mode.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.false_pass_fixtures import inspect, real_container
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, load, state, status

HOSTNET, PIDHOST = real_container("hostnet-donor"), real_container("hostpid-donor")


def test_5_10_fails_a_container_that_joins_a_host_network_container():
    audit = state([real_container("net-joiner"), HOSTNET])
    assert status("5.10", audit, "bwfp-net-joiner") == "fail"
    found = evidence("5.10", audit, "bwfp-net-joiner")
    assert "joins bwfp-hostnet-donor (%s), whose NetworkMode=host" % HOSTNET.id[:12] in found


def test_5_10_follows_a_chain_of_joiners():
    audit = state([real_container("net-joiner2"), real_container("net-joiner"), HOSTNET])
    assert status("5.10", audit, "bwfp-net-joiner2") == "fail"
    assert "bwfp-net-joiner (" in evidence("5.10", audit, "bwfp-net-joiner2")


def test_5_16_and_5_17_fail_a_container_that_joins_host_pid_and_ipc():
    audit = state([real_container("pid-joiner"), PIDHOST])
    assert status("5.16", audit, "bwfp-pid-joiner") == "fail"
    assert status("5.17", audit, "bwfp-pid-joiner") == "fail"
    assert "bwfp-hostpid-donor" in evidence("5.16", audit, "bwfp-pid-joiner")


def test_a_joiner_of_a_private_namespace_passes_and_names_its_donor():
    bridge_donor = real_container("hostnet-donor", {"HostConfig.NetworkMode": "bridge"})
    audit = state([real_container("net-joiner"), bridge_donor])
    assert status("5.10", audit, "bwfp-net-joiner") == "pass"
    assert "whose NetworkMode=bridge" in evidence("5.10", audit, "bwfp-net-joiner")


def test_a_donor_named_by_its_name_is_found():
    joiner = real_container("net-joiner", {"HostConfig.NetworkMode": "container:bwfp-hostnet-donor"})
    assert status("5.10", state([joiner, HOSTNET]), "bwfp-net-joiner") == "fail"


def test_an_unknown_donor_or_a_cycle_is_no_pass():
    assert status("5.10", state([real_container("net-joiner")])) == "skipped"
    first = real_container("net-joiner", {"HostConfig.NetworkMode": "container:bwfp-net-joiner2"})
    second = real_container("net-joiner2", {"HostConfig.NetworkMode": "container:bwfp-net-joiner"})
    assert status("5.10", state([first, second]), "bwfp-net-joiner") == "skipped"


# --- gather: a donor that is not audited is inspected, once ------------------------------------

class EngineOfFixtures(object):
    """The APIClient calls an audit of the containers scope makes, answering from false_passes.json; the
    Engine finds a container by full id or by name."""

    def __init__(self, version):
        self.version = version
        self.inspected = []
        self.data = load("false_passes.json")

    def info(self):
        return load("info.json")

    def containers(self, all=False, filters=None):  # pylint: disable=redefined-builtin
        return [{"Id": data["Id"], "Names": [data["Name"]]} for data in self.data.values()]

    def inspect_container(self, reference):
        self.inspected.append(reference)
        for data in self.data.values():
            if reference in (data["Id"], data["Name"].lstrip("/")):
                return data
        raise AssertionError("no container %s" % reference)

    def inspect_image(self, image_id):
        return load("image.json")


def test_gather_inspects_each_donor_that_is_not_audited_once():
    engines = []

    def factory(version):
        engines.append(EngineOfFixtures(version))
        return engines[-1]
    client = CountingClient(connection_from({}), api_factory=factory)
    result = run_audit(scope=["containers"], name_filter=["bwfp-net-joiner2", "bwfp-pid-joiner"], client=client,
                       report="all")
    donors = [inspect(name)["Id"] for name in ("net-joiner", "hostnet-donor", "hostpid-donor")]
    # Two audited containers, then one call per donor: net-joiner, its donor, and the PID/IPC donor (asked once).
    assert sorted(engines[0].inspected[2:]) == sorted(donors)
    verdicts = dict(((finding["rule"], finding["target"]), finding["status"]) for finding in result["findings"])
    assert verdicts[("5.10", "bwfp-net-joiner2")] == "fail"
    assert verdicts[("5.16", "bwfp-pid-joiner")] == "fail" and verdicts[("5.17", "bwfp-pid-joiner")] == "fail"
    # Donors are read, not audited.
    assert not [target for rule, target in verdicts if target == "bwfp-hostnet-donor"]


def test_remediation_leaves_a_joiner_with_its_donor():
    # The joiner now fails 5.10/5.16/5.17, but recreating it on a network of its own (or a private PID
    # namespace) would part it from the donor it was put with: the donor is the one to fix.
    from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import remedies
    for rule_id, name in (("5.10", "net-joiner"), ("5.16", "pid-joiner"), ("5.17", "pid-joiner")):
        outcome = remedies.REMEDIES[rule_id].apply(real_container(name), {"network": "app"}, None)
        assert isinstance(outcome, remedies.Skip) and "fix that container instead" in outcome.reason, rule_id
