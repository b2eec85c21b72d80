"""The replacement answers where the old container answered, on the real Engine.

Published ports that answer before must answer after (or the replacement is rolled back); a host-network
service moved to a network by 5.10 gets the ports its processes listen on published (same port and
address), or 5.10 is refused when it listens where a published port cannot reach.
"""

import pytest

from ansible_collections.bulwark.hardening.tests.integration.remediate_support import (
    answers, clean, engine, entry, free_port, remediate, run_container, wait_for_port,
)

pytestmark = pytest.mark.integration

PREFIX = "bwrm-ports-"
NETWORK = PREFIX + "net"
# Serves on 8000 while its root is writable; read-only (5.13) it keeps running and serves nothing.
SERVE_IF_WRITABLE = "if touch /probe 2>/dev/null && rm /probe; then exec python3 -m http.server %d --bind %s; fi; exec sleep infinity"


@pytest.fixture(scope="module")
def api():
    client = engine()
    clean(client, PREFIX)
    try:
        client.create_network(NETWORK, labels={"bulwark.test": "1"})
        yield client
    finally:
        clean(client, PREFIX)


def test_a_replacement_that_stops_answering_on_its_published_port_is_rolled_back(api, tmp_path):
    name, port = PREFIX + "published", free_port()
    old_id = run_container(api, name, command=["sh", "-c", SERVE_IF_WRITABLE % (8000, "0.0.0.0")],
                           port_bindings={8000: ("127.0.0.1", port)}, config={"ports": [8000]})
    wait_for_port("127.0.0.1", port)
    run = remediate({"containers": [name], "rules": ["5.13"], "policy": {"recreate": True}, "grace_period": 2}, tmp_path)
    item = entry(run.result, name)
    assert item["status"] == "rolled_back", item
    assert "127.0.0.1:%d" % port in item["detail"], item["detail"]
    assert api.inspect_container(name)["Id"] == old_id
    wait_for_port("127.0.0.1", port)


def test_a_replacement_that_answers_is_kept_and_the_ports_are_reported(api, tmp_path):
    name, port = PREFIX + "good", free_port()
    run_container(api, name, command=["python3", "-m", "http.server", "8000"],
                  port_bindings={8000: ("127.0.0.1", port)}, config={"ports": [8000]})
    wait_for_port("127.0.0.1", port)
    run = remediate({"containers": [name], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path)
    item = entry(run.result, name)
    assert item["status"] == "changed" and item["verified_ports"] == ["127.0.0.1:%d" % port], item
    assert answers("127.0.0.1", port)


def test_5_10_publishes_the_ports_a_host_network_service_listens_on(api, tmp_path):
    name, port = PREFIX + "hostnet", free_port()
    run_container(api, name, command=["python3", "-m", "http.server", str(port), "--bind", "0.0.0.0"], network_mode="host")
    wait_for_port("127.0.0.1", port)
    run = remediate({"containers": [name], "rules": ["5.10"], "policy": {"recreate": True, "network": NETWORK}}, tmp_path,
                    diff=True)
    item = entry(run.result, name)
    assert item["status"] == "changed", item
    data = api.inspect_container(name)
    assert data["HostConfig"]["NetworkMode"] == NETWORK
    assert data["HostConfig"]["PortBindings"] == {"%d/tcp" % port: [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    assert answers("127.0.0.1", port)
    assert item["verified_ports"] == ["127.0.0.1:%d" % port]


def test_5_10_is_refused_for_a_loopback_listener(api, tmp_path):
    name, port = PREFIX + "loopback", free_port()
    old_id = run_container(api, name, command=["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                           network_mode="host")
    wait_for_port("127.0.0.1", port)
    run = remediate({"containers": [name], "rules": ["5.10"], "policy": {"recreate": True, "network": NETWORK}}, tmp_path)
    item = entry(run.result, name)
    assert item["action"] == "none", item
    assert "127.0.0.1:%d" % port in item["skipped"][0]["reason"]
    assert api.inspect_container(name)["Id"] == old_id and answers("127.0.0.1", port)
