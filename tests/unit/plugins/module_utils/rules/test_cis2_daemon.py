# -*- coding: utf-8 -*-
"""CIS section 2 rules: docker info (real fixture), dockerd flags and daemon.json."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, FileText

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import bridge, dockerd_config, evidence, findings, state, status


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
    ("2.7@1.8", None, {"Driver": "devicemapper"}),  # CIS v1.8's 2.7 (more in audit/test_cis_versions.py)
    ("2.9", {"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]}, None),
    ("2.12", {"Plugins.Authorization": ["opa-docker-authz"]}, None),
    ("2.13", {"LoggingDriver": "awslogs"}, None),  # syslog needs a remote syslog-address: test_host_daemon_verdicts.py
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


# -H/--host values and daemon.json hosts that dockerd serves over TCP: an address without a
# scheme is tcp to dockerd, and so is tcp:// with an empty address (localhost).
TCP_LISTENERS = [
    (["-H", "0.0.0.0:2375"], None),
    (["-H", ":2375"], None),
    (["--host=127.0.0.1:2376"], None),
    (["-H", "fd://", "-H", "tcp://"], None),
    ([], '{"hosts": [":2375"]}'),
    ([], '{"hosts": ["unix:///var/run/docker.sock", "127.0.0.1:2376"]}'),
    ([], '{"hosts": ["tcp://"]}'),
]


@pytest.mark.parametrize("argv,daemon_json", TCP_LISTENERS)
def test_2_7_addresses_without_scheme_or_address_are_tcp(argv, daemon_json):
    assert status("2.7", state(daemon=dockerd_config(argv, daemon_json))) == "fail"
    verified = dockerd_config(argv + ["--tlsverify", "--tlscacert=/etc/docker/ca.pem"], daemon_json)
    assert status("2.7", state(daemon=verified)) == "pass"


@pytest.mark.parametrize("argv,daemon_json", [
    (["-H", "fd://"], None),
    (["-H", "unix:///run/docker.sock", "-H", "fd://"], None),
    ([], '{"hosts": ["unix://"]}'),
    ([], None),
])
def test_2_7_fd_and_unix_sockets_are_local(argv, daemon_json):
    assert status("2.7", state(daemon=dockerd_config(argv, daemon_json))) == "pass"


def test_2_7_tlsverify_without_tlscacert_verifies_against_the_default_ca():
    audit = state(daemon=dockerd_config(["-H", "tcp://0.0.0.0:2376", "--tlsverify", "--tlscert=/c", "--tlskey=/k"]))
    assert status("2.7", audit) == "pass"
    assert "$DOCKER_CERT_PATH/ca.pem" in evidence("2.7", audit) and "~/.docker/ca.pem" in evidence("2.7", audit)


@pytest.mark.parametrize("argv,daemon_json", [
    (["-H", "0.0.0.0:2376", "--tls", "--tlscert=/c", "--tlskey=/k"], None),
    (["-H", "0.0.0.0:2376", "--tlsverify=false", "--tlscacert=/ca"], None),
    ([], '{"hosts": ["tcp://0.0.0.0:2376"], "tls": true, "tlscacert": "/ca", "tlscert": "/c", "tlskey": "/k"}'),
    # No -H with TLS on: dockerd listens on tcp://localhost:2376.
    (["--tls"], None),
])
def test_2_7_tls_without_tlsverify_fails(argv, daemon_json):
    audit = state(daemon=dockerd_config(argv, daemon_json))
    assert status("2.7", audit) == "fail"


@pytest.mark.parametrize("argv,daemon_json,expected", [
    (["--log-level=INFO"], None, "pass"),
    (["-l", "Info"], None, "pass"),
    ([], '{"log-level": "INFO"}', "pass"),
    ([], '{"log-level": "info"}', "pass"),
    (["-l", "DEBUG"], None, "fail"),
    ([], '{"log-level": "Debug"}', "fail"),
    ([], '{"log-level": "warn"}', "fail"),
    (["-D"], '{"log-level": "info"}', "fail"),
    (["--debug"], None, "fail"),
    ([], '{"debug": true}', "fail"),
    (["-D=false"], None, "pass"),
])
def test_2_3_log_level_is_case_insensitive_and_debug_counts(argv, daemon_json, expected):
    assert status("2.3", state(daemon=dockerd_config(argv, daemon_json))) == expected


@pytest.mark.parametrize("argv,expected", [
    (["--no-new-privileges"], "pass"),
    (["--no-new-privileges=True"], "pass"),
    (["--no-new-privileges=T"], "pass"),
    (["--no-new-privileges=1"], "pass"),
    (["--no-new-privileges=0"], "fail"),
    # Go's ParseBool refuses these, so dockerd would not start with them: nothing is on.
    (["--no-new-privileges=yes"], "fail"),
    (["--no-new-privileges=on"], "fail"),
])
def test_2_14_flag_values_read_as_go_reads_them(argv, expected):
    assert status("2.14", state(daemon=dockerd_config(argv))) == expected


def test_2_2_icc_value_dockerd_refuses_is_not_off():
    assert status("2.2", state(daemon=dockerd_config(["--icc=F"]))) == "pass"
    assert status("2.2", state(daemon=dockerd_config(["--icc=no"]))) == "fail"


def test_2_8_default_ulimits():
    assert status("2.8", state(daemon=config_file(default_ulimits={"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}))) == "pass"
    assert status("2.8", state()) == "warn"


def test_2_10_cgroup_parent_fails_from_either_place():
    # The shell check's daemon.json branch never matches; ours reads both places.
    assert status("2.10", state()) == "pass"
    assert status("2.10", state(daemon=dockerd_config(daemon_json='{"cgroup-parent": "/custom"}'))) == "fail"
    audit = state(daemon=dockerd_config(["--cgroup-parent=/custom"]))
    assert status("2.10", audit) == "fail"
    # The evidence names the rule as the audited CIS version does: 2.11 in v1.8 (the default), 2.10 in v1.6.
    assert "waive 2.11 " in evidence("2.10", audit)
    v1_6 = state(daemon=dockerd_config(["--cgroup-parent=/custom"]), options=AuditOptions(cis_version="1.6"))
    assert "waive 2.10 " in evidence("2.10", v1_6)


def test_2_11_base_device_size_fails():
    assert status("2.11", state(daemon=dockerd_config(daemon_json='{"storage-opts": ["overlay2.size=10G"]}'))) == "pass"
    audit = state(daemon=dockerd_config(["--storage-opt", "dm.basesize=20G"]))
    assert status("2.11", audit) == "fail"
    assert "waive 2.12 " in evidence("2.11", audit)
    v1_6 = state(daemon=dockerd_config(["--storage-opt", "dm.basesize=20G"]), options=AuditOptions(cis_version="1.6"))
    assert "waive 2.11 " in evidence("2.11", v1_6)


def test_2_13_local_and_journald_drivers():
    assert status("2.13", state()) == "fail"  # json-file in the fixture
    assert status("2.13", state(info_changes={"LoggingDriver": "local"})) == "fail"
    journald = state(info_changes={"LoggingDriver": "journald"})
    assert status("2.13", journald) == "fail"
    assert "waive 2.14 " in evidence("2.13", journald)
    v1_6 = state(info_changes={"LoggingDriver": "journald"}, options=AuditOptions(cis_version="1.6"))
    assert "waive 2.13 " in evidence("2.13", v1_6)


def test_2_15_swarm_node_without_live_restore_fails_and_says_why():
    audit = state(info_changes={"Swarm.LocalNodeState": "active"})
    assert status("2.15", audit) == "fail"
    assert "swarm mode does not support live restore" in evidence("2.15", audit)
    assert "waive 2.16 " in evidence("2.15", audit)
    v1_6 = state(info_changes={"Swarm.LocalNodeState": "active"}, options=AuditOptions(cis_version="1.6"))
    assert "waive 2.15 " in evidence("2.15", v1_6)


def test_2_17_seccomp_profile():
    assert status("2.17", state()) == "info"  # built-in profile
    custom = {"SecurityOptions": ["name=seccomp,profile=/etc/docker/seccomp.json"]}
    # A custom profile the audit did not read is not known to refuse anything.
    assert status("2.17", state(info_changes=custom)) == "fail"
    assert status("2.17", state(info_changes={"SecurityOptions": []})) == "fail"
    assert status("2.17", state(info_changes={"SecurityOptions": ["name=seccomp,profile=unconfined"]})) == "fail"


ALLOW_ALL_PROFILE = '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}'
DENY_LIST_PROFILE = ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
                     '[{"names": ["keyctl", "add_key"], "action": "SCMP_ACT_ERRNO"}]}')
PROFILE_PATH = "/etc/docker/seccomp.json"


@pytest.mark.parametrize("text,expected", [
    (ALLOW_ALL_PROFILE, "fail"),
    ('{"defaultAction": "SCMP_ACT_LOG"}', "fail"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG"}]}', "fail"),
    # Refusing two syscalls leaves the rest of what Docker's default refuses open.
    (DENY_LIST_PROFILE, "fail"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}', "pass"),
])
def test_2_17_custom_profile_that_allows_everything_is_disabled(text, expected):
    audit = state(info_changes={"SecurityOptions": ["name=seccomp,profile=" + PROFILE_PATH]})
    audit.daemon_seccomp_profile = FileText(PROFILE_PATH, text, None)
    assert status("2.17", audit) == expected


def test_2_17_unreadable_custom_profile_says_so():
    audit = state(info_changes={"SecurityOptions": ["name=seccomp,profile=" + PROFILE_PATH]})
    audit.daemon_seccomp_profile = FileText(PROFILE_PATH, None, "Permission denied")
    assert status("2.17", audit) == "fail"
    assert "Permission denied" in evidence("2.17", audit)


def test_rules_needing_info_are_skipped_without_it():
    assert status("2.6", state(no_info=True)) == "skipped"


def test_evidence_says_where_the_setting_came_from():
    assert evidence("2.2", state(daemon=config_file(icc=False))) == "icc=false (/etc/docker/daemon.json)"
    assert "dockerd command line" in evidence("2.14", state(daemon=flags(no_new_privileges=True)))


# --- 2.2 reads the bridge; 2.9 says why harden leaves it open on a host with data -------------------------

ICC_OFF = {"com.docker.network.bridge.enable_icc": "false"}


def test_2_2_the_bridge_decides_not_the_file():
    assert status("2.2", state(daemon=flags(), default_bridge=bridge(**ICC_OFF))) == "pass"
    assert status("2.2", state(daemon=config_file(icc=False), default_bridge=bridge())) == "fail"


def test_2_2_a_setting_dockerd_keeps_back_for_running_containers_is_pending_with_the_reason():
    running = state(daemon=config_file(icc=False), default_bridge=bridge(),
                    info_changes={"LiveRestoreEnabled": True, "ContainersRunning": 3})
    found = findings("2.2", running)[0]
    assert found.status == "fail"
    assert "icc=false (/etc/docker/daemon.json), but the default bridge still allows traffic" in found.evidence
    assert found.left_open.startswith("pending: dockerd keeps the default bridge as it was")
    assert "3 running" in found.left_open
    assert found.to_dict()["left_open"] == found.left_open


def test_2_2_a_setting_dockerd_was_not_restarted_for_says_to_restart():
    found = findings("2.2", state(daemon=config_file(icc=False), default_bridge=bridge(),
                                  info_changes={"LiveRestoreEnabled": False}))[0]
    assert (found.status, found.left_open) == ("fail", None)
    assert found.evidence.endswith("restart dockerd to apply it")


def test_2_2_icc_on_in_both_has_no_reason_to_wait():
    found = findings("2.2", state(daemon=flags(), default_bridge=bridge(),
                                  info_changes={"LiveRestoreEnabled": True, "ContainersRunning": 3}))[0]
    assert (found.status, found.left_open) == ("fail", None)


def test_2_9_on_a_host_with_data_says_harden_leaves_it_open_and_why():
    found = findings("2.9", state(info_changes={"Containers": 3, "Images": 3}, volume_count=1))[0]
    assert found.status == "fail"
    assert "hide the 3 containers, 3 images, 1 volume on this host" in found.left_open
    assert "docker_daemon_userns_confirm_existing=true" in found.left_open


def test_2_9_on_an_empty_host_is_a_plain_failure():
    found = findings("2.9", state(info_changes={"Containers": 0, "Images": 0}, volume_count=0))[0]
    assert (found.status, found.left_open) == ("fail", None)
    assert "left_open" not in found.to_dict()
