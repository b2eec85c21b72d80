# -*- coding: utf-8 -*-
"""The default bridge: every daemon setting dockerd builds it from is read back from the bridge itself,
and a change dockerd kept back for running containers is told apart from a failed one."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import bridge
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.restart import split_pending

# `docker network inspect bridge` (Docker 20.10, icc off, IPv6 on with a fixed v6 range).
BRIDGE = {
    "Name": "bridge", "Driver": "bridge", "Scope": "local", "EnableIPv6": True,
    "Options": {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "false",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": "docker0",
        "com.docker.network.driver.mtu": "1500",
    },
    "IPAM": {"Driver": "default", "Options": None, "Config": [
        {"Subnet": "172.17.0.0/16", "IPRange": "172.17.1.0/24", "Gateway": "172.17.0.1",
         "AuxiliaryAddresses": {"DefaultGatewayIPv4": "172.17.0.254"}},
        {"Subnet": "fd00:dead:beef::/64", "Gateway": "fd00:dead:beef::1"},
    ]},
}


@pytest.mark.parametrize("key, configured", [
    ("icc", False), ("ip-masq", True), ("mtu", 1500), ("ip", "0.0.0.0"), ("bridge", "docker0"),
    ("bip", "172.17.0.1/16"), ("fixed-cidr", "172.17.1.0/24"), ("default-gateway", "172.17.0.254"),
    ("ipv6", True), ("fixed-cidr-v6", "fd00:dead:beef::/64"), ("fixed-cidr-v6", "fd00:dead:beef:0::/64"),
])
def test_each_setting_the_bridge_is_built_from_is_read_back(key, configured):
    assert bridge.shows(key, configured, BRIDGE)
    assert bridge.unapplied({key: configured}, BRIDGE) == []


@pytest.mark.parametrize("key, configured, observed", [
    ("icc", True, "false"), ("ip-masq", False, "true"), ("mtu", 1400, "1500"), ("ip", "127.0.0.1", "0.0.0.0"),
    ("bridge", "br-hardened", "docker0"), ("bip", "10.99.0.1/24", ["172.17.0.1", "fd00:dead:beef::1"]),
    ("fixed-cidr", "172.17.2.0/24", ["172.17.1.0/24"]), ("default-gateway", "172.17.0.253", ["172.17.0.254"]),
    ("ipv6", False, True), ("fixed-cidr-v6", "fd00:cafe::/64", ["172.17.0.0/16", "fd00:dead:beef::/64"]),
])
def test_a_setting_the_bridge_was_not_built_with_is_unapplied(key, configured, observed):
    assert bridge.unapplied({key: configured}, BRIDGE) == [{"key": key, "configured": configured, "observed": observed}]


def test_keys_that_do_not_shape_the_bridge_are_not_its_business():
    assert bridge.unapplied({"live-restore": True, "log-driver": "local"}, BRIDGE) == []


def test_a_malformed_address_never_matches():
    assert not bridge.shows("bip", "not-an-address", BRIDGE)


def test_the_bridge_is_kept_only_with_live_restore_and_running_containers():
    assert bridge.kept_by_live_restore({"LiveRestoreEnabled": True, "ContainersRunning": 1})
    assert not bridge.kept_by_live_restore({"LiveRestoreEnabled": True, "ContainersRunning": 0})
    assert not bridge.kept_by_live_restore({"LiveRestoreEnabled": False, "ContainersRunning": 4})
    assert not bridge.kept_by_live_restore(None)


def test_the_reason_names_the_running_containers_and_when_it_applies():
    reason = bridge.waiting_reason(["web", "db"])
    assert "2 running (db, web)" in reason
    assert "next dockerd start with no container running" in reason


def test_the_reason_shortens_a_long_list():
    reason = bridge.waiting_reason(["c%02d" % number for number in range(12)])
    assert "12 running (c00, c01, c02, c03, c04 and 7 more)" in reason


def test_only_bridge_settings_wait_while_dockerd_keeps_the_bridge():
    mismatches = [{"key": "icc", "configured": False, "observed": "true"},
                  {"key": "log-driver", "configured": "local", "observed": "json-file"}]
    kept = {"LiveRestoreEnabled": True, "ContainersRunning": 3}
    assert split_pending(mismatches, kept) == (mismatches[1:], mismatches[:1])
    assert split_pending(mismatches, dict(kept, ContainersRunning=0)) == (mismatches, [])
