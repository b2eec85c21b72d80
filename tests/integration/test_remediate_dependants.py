"""Containers others depend on, and the dependants themselves, on the real Engine.

A donor (another container's network, IPC or PID namespace is `container:<it>`, a legacy link targets it,
or --volumes-from names it) is refused with its dependants named: replacing it would cut them off (the
namespace they joined dies with it; links and volumes-from resolve to the removed container). A
dependant itself is recreatable: its replacement joins the same donor.
"""

import os

import pytest

from ansible_collections.bulwark.hardening.tests.integration.remediate_support import clean, engine, entry, remediate, run_container

pytestmark = pytest.mark.integration

PREFIX = "bwrm-deps-"
DONOR, NET_USER, LINKED, VOLUME_USER = PREFIX + "donor", PREFIX + "netuser", PREFIX + "linked", PREFIX + "volumes"
SERVICE = ["sh", "-c", "exec sleep infinity"]


@pytest.fixture(scope="module")
def api():
    client = engine()
    clean(client, PREFIX)
    try:
        yield client
    finally:
        clean(client, PREFIX)


@pytest.fixture(scope="module")
def family(api):
    donor = run_container(api, DONOR, command=SERVICE, config={"volumes": ["/shared"]}, ipc_mode="shareable")
    run_container(api, NET_USER, command=SERVICE, network_mode="container:" + DONOR, ipc_mode="container:" + DONOR,
                  pid_mode="container:" + DONOR)
    run_container(api, LINKED, command=SERVICE, links={DONOR: "db"})
    run_container(api, VOLUME_USER, command=SERVICE, volumes_from=[DONOR + ":ro"])
    return donor


def _net_namespace(api, name):
    return os.readlink("/proc/%d/ns/net" % api.inspect_container(name)["State"]["Pid"])


def test_a_donor_is_refused_naming_its_dependants(api, family, tmp_path):
    run = remediate({"containers": [DONOR], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path)
    item = entry(run.result, DONOR)
    assert item["action"] == "none" and item["status"] == "unchanged", item
    reason = item["skipped"][0]["reason"]
    for dependant, how in ((NET_USER, "network"), (NET_USER, "IPC"), (NET_USER, "PID"), (LINKED, "link"),
                           (VOLUME_USER, "volumes-from")):
        assert dependant in reason and how in reason, reason
    assert api.inspect_container(DONOR)["Id"] == family


def test_the_donor_refusal_shows_in_check_mode(api, family, tmp_path):
    run = remediate({"containers": [DONOR], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path, check=True)
    assert NET_USER in entry(run.result, DONOR)["skipped"][0]["reason"]


def test_a_dependant_is_recreated_into_the_same_namespaces(api, family, tmp_path):
    old = api.inspect_container(NET_USER)
    run = remediate({"containers": [NET_USER], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path)
    item = entry(run.result, NET_USER)
    assert item["status"] == "changed", item.get("detail") or item
    new = api.inspect_container(NET_USER)
    assert new["Id"] != old["Id"] and new["State"]["Running"]
    for mode in ("NetworkMode", "IpcMode", "PidMode"):
        assert new["HostConfig"][mode] == old["HostConfig"][mode] == "container:" + family
    assert _net_namespace(api, NET_USER) == _net_namespace(api, DONOR)
    assert "no-new-privileges:true" in new["HostConfig"]["SecurityOpt"]


def test_a_linked_dependant_is_recreated_with_its_link(api, family, tmp_path):
    run = remediate({"containers": [LINKED], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path)
    assert entry(run.result, LINKED)["status"] == "changed"
    assert api.inspect_container(LINKED)["HostConfig"]["Links"] == ["/%s:/%s/db" % (DONOR, LINKED)]
