# -*- coding: utf-8 -*-
"""CIS section 2 rules: docker info (real fixture), dockerd flags and daemon.json."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig

from rule_fixtures import evidence, state, status


def flags(**options):
    return DaemonConfig(cmdline=dict((key.replace("_", "-"), value) for key, value in options.items()), file_options=None)


def config_file(**options):
    return DaemonConfig(cmdline={}, file_options=dict((key.replace("_", "-"), value) for key, value in options.items()))


# rule, passing daemon settings, failing daemon settings (the fixture info is a default 20.10 engine)
CONFIG_CASES = [
    ("2.2", config_file(icc=False), flags()),
    ("2.3", config_file(log_level="info"), flags(log_level="debug")),
    ("2.4", flags(), config_file(iptables=False)),
    ("2.7", flags(hosts=["fd://"]), flags(hosts=["fd://", "tcp://0.0.0.0:2375"])),
    ("2.14", flags(no_new_privileges=True), config_file(no_new_privileges=False)),
    ("2.16", config_file(userland_proxy=False), flags()),
]


@pytest.mark.parametrize("rule_id,good,bad", CONFIG_CASES, ids=[case[0] for case in CONFIG_CASES])
def test_config_rules(rule_id, good, bad):
    assert status(rule_id, state(daemon=good)) == "pass"
    assert status(rule_id, state(daemon=bad)) == "fail"


# rule, docker info changes that pass, changes that fail
INFO_CASES = [
    ("2.5", None, {"RegistryConfig.InsecureRegistryCIDRs": ["127.0.0.0/8", "10.0.0.0/8"]}),
    ("2.6", None, {"Driver": "aufs"}),
    ("2.9", {"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]}, None),
    ("2.12", {"Plugins.Authorization": ["opa-docker-authz"]}, None),
    ("2.13", {"LoggingDriver": "syslog"}, None),
    ("2.15", {"LiveRestoreEnabled": True}, None),
    ("2.18", None, {"ExperimentalBuild": True}),
]


@pytest.mark.parametrize("rule_id,good,bad", INFO_CASES, ids=[case[0] for case in INFO_CASES])
def test_info_rules(rule_id, good, bad):
    assert status(rule_id, state(info_changes=good)) == "pass"
    assert status(rule_id, state(info_changes=bad)) == "fail"


def test_2_1_rootless():
    assert status("2.1", state()) == "info"
    assert status("2.1", state(info_changes={"SecurityOptions": ["name=seccomp,profile=default", "name=rootless"]})) == "pass"


def test_2_3_log_level_flag_counts_even_with_daemon_json():
    # The shell check ignores --log-level when it can read daemon.json with jq.
    both = DaemonConfig(cmdline={"log-level": "debug"}, file_options={"icc": False})
    assert status("2.3", state(daemon=both)) == "fail"
    assert status("2.3", state(info_changes={"Debug": True})) == "fail"


def test_2_5_insecure_registry_by_name():
    changes = {"RegistryConfig.IndexConfigs": {"registry.lan:5000": {"Name": "registry.lan:5000", "Secure": False}}}
    assert status("2.5", state(info_changes=changes)) == "fail"
    assert "registry.lan:5000" in evidence("2.5", state(info_changes=changes))


def test_2_7_tls_without_client_verification_fails():
    tls_only = flags(hosts=["tcp://0.0.0.0:2376"], tls=True, tlscert="/c", tlskey="/k")
    assert status("2.7", state(daemon=tls_only)) == "fail"
    verified = flags(hosts=["tcp://0.0.0.0:2376"], tlsverify=True, tlscacert="/ca", tlscert="/c", tlskey="/k")
    assert status("2.7", state(daemon=verified)) == "pass"


def test_2_8_default_ulimits():
    assert status("2.8", state(daemon=config_file(default_ulimits={"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}))) == "pass"
    assert status("2.8", state()) == "warn"


def test_2_10_cgroup_parent_read_from_daemon_json_too():
    # The shell check's daemon.json branch never matches; ours reads both places.
    assert status("2.10", state()) == "pass"
    assert status("2.10", state(daemon=config_file(cgroup_parent="/custom"))) == "warn"


def test_2_11_base_device_size():
    assert status("2.11", state(daemon=config_file(storage_opts=["overlay2.size=10G"]))) == "pass"
    assert status("2.11", state(daemon=flags(storage_opts=["dm.basesize=20G"]))) == "warn"


def test_2_13_local_and_journald_drivers():
    assert status("2.13", state()) == "fail"  # json-file in the fixture
    assert status("2.13", state(info_changes={"LoggingDriver": "local"})) == "fail"
    assert status("2.13", state(info_changes={"LoggingDriver": "journald"})) == "warn"


def test_2_15_swarm_nodes_are_not_applicable():
    assert status("2.15", state(info_changes={"Swarm.LocalNodeState": "active"})) == "info"


def test_2_17_seccomp_profile():
    assert status("2.17", state()) == "info"  # built-in profile
    custom = {"SecurityOptions": ["name=seccomp,profile=/etc/docker/seccomp.json"]}
    assert status("2.17", state(info_changes=custom)) == "pass"
    assert status("2.17", state(info_changes={"SecurityOptions": []})) == "fail"


def test_rules_needing_info_are_skipped_without_it():
    assert status("2.6", state(no_info=True)) == "skipped"


def test_evidence_says_where_the_setting_came_from():
    assert evidence("2.2", state(daemon=config_file(icc=False))) == "icc=false (/etc/docker/daemon.json)"
    assert "dockerd command line" in evidence("2.14", state(daemon=flags(no_new_privileges=True)))
