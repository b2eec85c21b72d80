# -*- coding: utf-8 -*-
"""CIS section 3 rules: ownership and bit-wise mode checks over file stats."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.files.docker_files import DOCKER_FILES

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import (
    DEBIAN_DOCKER_FILES, DEBIAN_UNITS, DOCKER_GID, evidence, findings, state, status,
)

TLS = DaemonConfig(cmdline={"tlscacert": "/etc/docker/tls/ca.pem", "tlscert": "/etc/docker/tls/cert.pem",
                            "tlskey": "/etc/docker/tls/key.pem"}, file_options={})
UNITS = DEBIAN_UNITS

# Compliant owner and mode for every file section 3 looks at (the Debian host plus a sysconfig file).
GOOD = dict(DEBIAN_DOCKER_FILES, **{"/etc/sysconfig/docker": (0, 0, 0o644, "file")})

# The file each rule reads in GOOD.
RULE_FILES = {
    "3.1": "/lib/systemd/system/docker.service", "3.2": "/lib/systemd/system/docker.service",
    "3.3": "/lib/systemd/system/docker.socket", "3.4": "/lib/systemd/system/docker.socket",
    "3.5": "/etc/docker", "3.6": "/etc/docker",
    "3.7": "/etc/docker/certs.d/registry.lan:5000/ca.crt", "3.8": "/etc/docker/certs.d/registry.lan:5000/ca.crt",
    "3.9": "/etc/docker/tls/ca.pem", "3.10": "/etc/docker/tls/ca.pem",
    "3.11": "/etc/docker/tls/cert.pem", "3.12": "/etc/docker/tls/cert.pem",
    "3.13": "/etc/docker/tls/key.pem", "3.14": "/etc/docker/tls/key.pem",
    "3.15": "/var/run/docker.sock", "3.16": "/var/run/docker.sock",
    "3.17": "/etc/docker/daemon.json", "3.18": "/etc/docker/daemon.json",
    "3.19": "/etc/default/docker", "3.20": "/etc/default/docker",
    "3.21": "/etc/sysconfig/docker", "3.22": "/etc/sysconfig/docker",
    "3.23": "/run/containerd/containerd.sock", "3.24": "/run/containerd/containerd.sock",
}
OWNERSHIP_RULES = [entry.ownership[0] for entry in DOCKER_FILES]
MODE_RULES = [entry.mode[0] for entry in DOCKER_FILES]


def files_state(changes=None, daemon=TLS):
    files = dict((path, FileStat(path, *values)) for path, values in GOOD.items())
    for path, values in (changes or {}).items():
        files[path] = None if values is None else FileStat(path, *values)
    return state(host=HostFacts(files=files, units=UNITS, docker_gid=DOCKER_GID), daemon=daemon)


def test_every_section_3_rule_is_covered_here():
    assert sorted(RULE_FILES) == sorted(OWNERSHIP_RULES + MODE_RULES)


@pytest.mark.parametrize("rule_id", OWNERSHIP_RULES)
def test_ownership(rule_id):
    path = RULE_FILES[rule_id]
    uid, gid, mode, kind = GOOD[path]
    assert status(rule_id, files_state()) == "pass"
    assert status(rule_id, files_state({path: (1000, gid, mode, kind)})) == "fail"
    assert status(rule_id, files_state({path: (0, 1000, mode, kind)})) == "fail"


@pytest.mark.parametrize("rule_id", MODE_RULES)
def test_mode(rule_id):
    path = RULE_FILES[rule_id]
    uid, gid, mode, kind = GOOD[path]
    assert status(rule_id, files_state()) == "pass"
    assert status(rule_id, files_state({path: (uid, gid, mode | 0o002, kind)})) == "fail"


@pytest.mark.parametrize("rule_id", sorted(RULE_FILES))
def test_absent_file_is_info(rule_id):
    assert set(f.status for f in findings(rule_id, files_state({RULE_FILES[rule_id]: None}))) == {"info"}


def test_modes_are_compared_bit_by_bit():
    # 0622 is numerically below 644 but other-writable: the numeric shell test passes it.
    assert status("3.18", files_state({"/etc/docker/daemon.json": (0, 0, 0o622, "file")})) == "fail"
    assert "bits beyond 0644 (0022)" in evidence("3.18", files_state({"/etc/docker/daemon.json": (0, 0, 0o622, "file")}))
    # Setuid counts as a bit beyond the mask.
    assert status("3.2", files_state({"/lib/systemd/system/docker.service": (0, 0, 0o4644, "file")})) == "fail"


def test_key_stricter_than_0400_passes():
    assert status("3.14", files_state({"/etc/docker/tls/key.pem": (0, 0, 0o000, "file")})) == "pass"


def test_socket_may_be_root_root():
    assert status("3.15", files_state({"/var/run/docker.sock": (0, 0, 0o660, "socket")})) == "pass"


def test_tls_rules_without_tls_are_info():
    assert status("3.9", files_state(daemon=DaemonConfig(cmdline={}, file_options={}))) == "info"


def test_daemon_json_follows_config_file_flag():
    moved = DaemonConfig(cmdline={"config-file": "/srv/docker.json"}, file_options={}, config_path="/srv/docker.json")
    audit = files_state({"/srv/docker.json": (0, 0, 0o666, "file")}, daemon=moved)
    assert status("3.18", audit) == "fail"
    assert "/srv/docker.json" in evidence("3.18", audit)


def test_one_finding_per_registry_certificate():
    audit = files_state({"/etc/docker/certs.d/other:443/ca.crt": (0, 0, 0o644, "file")})
    assert sorted((f.target, f.status) for f in findings("3.8", audit)) == [
        ("/etc/docker/certs.d/other:443/ca.crt", "fail"), ("/etc/docker/certs.d/registry.lan:5000/ca.crt", "pass")]
