# -*- coding: utf-8 -*-
"""dockerd command-line parsing and the merge with daemon.json."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig, parse_cmdline
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import load_daemon_json


def test_debian_unit_command_line():
    # ExecStart of Debian's docker.service.
    assert parse_cmdline(["-H", "fd://", "--containerd=/run/containerd/containerd.sock"]) == {
        "hosts": ["fd://"], "containerd": "/run/containerd/containerd.sock"}


def test_booleans_never_take_the_next_argument():
    parsed = parse_cmdline(["--icc=false", "--live-restore", "--userland-proxy=false", "--tlsverify", "-H", "tcp://0.0.0.0:2376"])
    assert parsed == {"icc": False, "live-restore": True, "userland-proxy": False, "tlsverify": True,
                      "hosts": ["tcp://0.0.0.0:2376"]}


def test_short_flags_attached_values_and_repeats():
    parsed = parse_cmdline(["-Hunix:///var/run/docker.sock", "-H=tcp://127.0.0.1:2375", "-l", "debug", "-D",
                            "--insecure-registry", "a:5000", "--insecure-registry=b:5000"])
    assert parsed["hosts"] == ["unix:///var/run/docker.sock", "tcp://127.0.0.1:2375"]
    assert parsed["log-level"] == "debug" and parsed["debug"] is True
    assert parsed["insecure-registries"] == ["a:5000", "b:5000"]


def test_unknown_flag_followed_by_a_flag_reads_as_true():
    assert parse_cmdline(["--some-new-switch", "--icc=false"]) == {"some-new-switch": True, "icc": False}


def test_lookup_merges_lists_and_reports_the_source():
    config = DaemonConfig(cmdline={"hosts": ["fd://"]}, file_options={"hosts": ["tcp://0.0.0.0:2376"], "icc": False},
                          config_path="/etc/docker/daemon.json")
    assert config.value("hosts") == ["fd://", "tcp://0.0.0.0:2376"]
    assert config.flag("icc") is False
    assert config.describe("icc") == "icc=false (/etc/docker/daemon.json)"
    assert config.flag("live-restore") is None


def test_not_set_evidence_names_what_was_read():
    assert DaemonConfig(cmdline=None, file_options=None).describe("icc") == \
        "icc not set (dockerd command line unreadable, no /etc/docker/daemon.json)"
    broken = DaemonConfig(cmdline={}, file_options=None, file_error="Expecting value: line 1")
    assert "unreadable: Expecting value" in broken.describe("icc")


@pytest.mark.parametrize("argv,expected", [
    (["--icc=False"], False), (["--icc=T"], True), (["--icc=0"], False), (["--icc"], True),
    # ParseBool refuses "yes" and "off": dockerd would not start, so the flag is neither on nor off.
    (["--icc=yes"], None), (["--icc=off"], None),
])
def test_boolean_flags_read_as_go_reads_them(argv, expected):
    config = DaemonConfig(cmdline=parse_cmdline(argv))
    assert config.flag("icc") is expected


def test_refused_boolean_text_stays_visible_in_evidence():
    assert parse_cmdline(["--live-restore=yes"]) == {"live-restore": "yes"}
    assert DaemonConfig(cmdline=parse_cmdline(["--live-restore=yes"])).describe("live-restore") == \
        "live-restore=yes (dockerd command line)"


def test_daemon_json_booleans_must_be_json_booleans():
    # dockerd refuses "true" as a string for a boolean key; only true/false count.
    config = DaemonConfig(cmdline={}, file_options=load_daemon_json('{"icc": "false", "live-restore": true}'))
    assert config.flag("icc") is None and config.flag("live-restore") is True


def test_unknown_flag_value_is_read_with_parsebool_too():
    # A boolean of a newer dockerd than the table knows, written --flag=value.
    assert DaemonConfig(cmdline=parse_cmdline(["--some-new-switch=F"])).flag("some-new-switch") is False
