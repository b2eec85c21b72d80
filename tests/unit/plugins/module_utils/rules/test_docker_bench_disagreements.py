# -*- coding: utf-8 -*-
"""Section 5 verdicts where we differ from Docker Bench for Security, on real inspect data.

fixtures/docker_bench_side_by_side.json holds `docker inspect` (GraphDriver left out) of containers that
benchmarks/docker_bench_side_by_side.py started on Docker 20.10.24, keyed by what makes each one a case; each
test names the setting the verdict turns on. docs/docker-bench-disagreements.md says why each verdict is ours.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, load, state, status

REAL = load("docker_bench_side_by_side.json")


def real(name, **host_config):
    inspect = copy.deepcopy(REAL[name])
    inspect["HostConfig"].update(host_config)
    return state([ContainerView(inspect)])


# --- 5.12: CpuShares 1024 is Docker's default weight, so no priority is set (the CIS audit text says so) ---

def test_5_12_cpu_shares_of_1024_is_no_priority():
    audit = real("cpu-shares-1024")
    assert status("5.12", audit) == "fail"
    assert "CpuShares=1024" in evidence("5.12", audit)


def test_5_12_other_cpu_shares_set_a_priority():
    assert status("5.12", real("cpu-shares-1024", CpuShares=512)) == "pass"


def test_5_12_a_cpu_quota_limits_like_nano_cpus():
    # --cpus is stored as NanoCpus and --cpu-quota as CpuQuota; runc writes both as the same CFS quota.
    assert status("5.12", real("cpu-quota-only")) == "pass"


def test_5_12_the_default_weight_with_a_limit_passes():
    assert status("5.12", real("cpu-shares-1024", NanoCpus=500000000)) == "pass"


# --- 5.15: only on-failure with 1 to 5 retries (or no policy) passes ---

@pytest.mark.parametrize("name", ["restart-always", "restart-unless-stopped", "restart-on-failure-0"])
def test_5_15_unbounded_restart_policies_fail(name):
    assert status("5.15", real(name)) == "fail"


# --- 5.8 and 5.14: ports ---

def test_5_8_host_port_1024_is_not_privileged():
    audit = real("port-1024-loopback")
    assert status("5.8", audit) == "pass"
    assert status("5.14", audit) == "pass"


def test_5_14_a_binding_on_every_ipv6_address_fails():
    audit = real("port-any-v6")
    assert status("5.14", audit) == "fail"
    assert "8080/tcp->:::" in evidence("5.14", audit)  # HostIp "::", which Docker Bench's `docker port` parsing skips


# --- 5.6: the host side of a mount decides, read-only mounts are noted, sub-paths count ---

def test_5_6_a_named_volume_mounted_at_etc_is_not_a_host_directory():
    assert status("5.6", real("volume-at-etc")) == "pass"


def test_5_6_a_writable_directory_below_usr_fails():
    audit = real("bind-usr-share-rw")
    assert status("5.6", audit) == "fail"
    assert "/usr/share" in evidence("5.6", audit)


def test_5_6_a_read_only_etc_warns():
    assert status("5.6", real("bind-etc-ro")) == "warn"


# --- 5.32: any mount that reaches the socket, read-only or not ---

@pytest.mark.parametrize("name", ["bind-root-ro", "bind-var-run-ro"])
def test_5_32_a_directory_above_the_socket_exposes_it(name):
    assert status("5.32", real(name)) == "fail"


# --- 5.18: a device cgroup rule opens host devices as much as --device does ---

def test_5_18_a_device_cgroup_rule_is_listed():
    audit = real("device-cgroup-rule")
    assert status("5.18", audit) == "warn"
    assert "rule c 1:3 rwm" in evidence("5.18", audit)


# --- 5.22 and 5.26: what the options do, not their spelling ---

def test_5_22_a_profile_that_allows_everything_fails():
    assert status("5.22", real("seccomp-allow-all")) == "fail"


def test_5_26_no_new_privileges_false_fails():
    audit = real("no-new-privileges-false")
    assert status("5.26", audit) == "fail"
    assert "no-new-privileges=false" in evidence("5.26", audit)


# --- 5.30: a container in another's network namespace uses that one's networks ---

def joiner_state(**donor_changes):
    joiner, donor = copy.deepcopy(REAL["joiner-of-bridge"]), copy.deepcopy(REAL["bridge-donor"])
    donor.update(donor_changes)
    return state([ContainerView(joiner), ContainerView(donor)])


def test_5_30_a_joiner_of_a_container_on_the_default_bridge_uses_it():
    # --network container:<donor>: the joiner's traffic leaves through the donor's interface on docker0.
    audit = joiner_state()
    assert status("5.30", audit, "hC-sbs-016-joins-net-plain") == "fail"
    assert "joins hC-sbs-052-plain" in evidence("5.30", audit, "hC-sbs-016-joins-net-plain")


def test_5_30_a_joiner_of_a_container_on_a_user_defined_network_passes():
    networks = {"hC-sbs-net": REAL["bridge-donor"]["NetworkSettings"]["Networks"]["bridge"]}
    audit = joiner_state(NetworkSettings=dict(REAL["bridge-donor"]["NetworkSettings"], Networks=networks))
    assert status("5.30", audit, "hC-sbs-016-joins-net-plain") == "pass"


def test_5_30_a_joiner_whose_donor_is_unknown_is_no_pass():
    assert status("5.30", state([ContainerView(copy.deepcopy(REAL["joiner-of-bridge"]))])) == "skipped"
