# -*- coding: utf-8 -*-
"""Unit tests for the daemon_files module: its real main() through the harness, on real files under tmp_path.

host_state() is replaced by an AuditState whose daemon.json, TLS files and
units are files made here (real stat and realpath: HostFacts without `files`).
The table is the real DOCKER_FILES with two changes, so that the test needs
no root and can never touch this machine's own Docker files:
- owner and group root become the runner's own user and group (only root may
  chown a file to root), and the socket group is the runner's group;
- a path outside the test's directory (/etc/docker, /etc/default/docker, the
  sockets) is looked for below it instead, and applying a plan outside it fails.
"""

from __future__ import annotations

import functools
import grp
import json
import os
import pwd
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.gather import read_daemon_json
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditState, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.files import docker_files
from ansible_collections.bulwark.hardening.plugins.modules import daemon_files
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name
OWNERSHIP = "%s:%s" % (ME, MY_GROUP)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def make(path, mode, text="x\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def below(root, paths_of):
    """paths_of(state), with every path outside root looked for below root."""
    def paths(state):
        return [path if path.startswith(root + "/") else root + path for path in paths_of(state)]
    return paths


def only_below(root, apply_plan):
    def apply(plan):
        assert plan.path.startswith(root + "/"), "the test would change %s" % plan.path
        apply_plan(plan)
    return apply


class Host(object):
    """The daemon's files under root: daemon.json naming TLS files, /etc/docker, a registry certificate, both units."""

    def __init__(self, root):
        self.root = root
        etc = root / "etc" / "docker"
        self.ca = make(etc / "tls" / "ca.pem", 0o444)
        self.cert = make(etc / "tls" / "cert.pem", 0o444)
        self.key = make(etc / "tls" / "key.pem", 0o400)
        self.daemon_json = make(etc / "daemon.json", 0o644, json.dumps(
            {"tlsverify": True, "tlscacert": str(self.ca), "tlscert": str(self.cert), "tlskey": str(self.key)}))
        self.registry_ca = make(etc / "certs.d" / "registry.local:5000" / "ca.crt", 0o444)
        self.etc = etc
        etc.chmod(0o755)
        units = root / "lib" / "systemd" / "system"
        self.service = make(units / "docker.service", 0o644)
        self.socket = make(units / "docker.socket", 0o644)

    def state(self, config_path):
        options, _error = read_daemon_json(config_path)
        units = {"docker.service": str(self.service), "docker.socket": str(self.socket)}
        host = HostFacts(units=units, docker_group_name=MY_GROUP, docker_gid=os.getgid())
        return AuditState(daemon=DaemonConfig(file_options=options, config_path=config_path), host=host)


@pytest.fixture
def host(tmp_path, monkeypatch):
    root = tmp_path.resolve() / "host"
    fake = Host(root)
    table = tuple(entry._replace(owner=ME, group=entry.group and MY_GROUP, paths=below(str(root), entry.paths))
                  for entry in docker_files.DOCKER_FILES)
    monkeypatch.setattr(docker_files, "CERTS_DIR", str(fake.etc / "certs.d"))
    monkeypatch.setattr(docker_files, "DOCKER_FILES", table)
    # policy_rules' default table was bound when it was defined: hand it the sandboxed one.
    monkeypatch.setattr(docker_files, "policy_rules", functools.partial(docker_files.policy_rules, entries=table))
    monkeypatch.setattr(daemon_files, "apply_plan", only_below(str(root), daemon_files.apply_plan))
    monkeypatch.setattr(daemon_files, "host_state", fake.state)
    return fake


def run(host, check_mode=False, diff=False):
    return run_module(daemon_files.main, {"config_path": str(host.daemon_json)}, check_mode=check_mode, diff=diff)


def entry_for(outcome, path):
    [entry] = [entry for entry in outcome.result["files"] if entry["path"] == str(path)]
    return entry


def test_compliant_files_are_left_alone(host):
    outcome = run(host)
    assert not outcome.failed
    assert outcome.changed is False
    assert len(outcome.result["files"]) == 8
    assert all(entry["before"] == entry["after"] for entry in outcome.result["files"])


def test_a_too_open_mode_is_narrowed_to_the_maximum(host):
    host.daemon_json.chmod(0o666)
    host.key.chmod(0o644)
    outcome = run(host)
    assert outcome.changed is True
    assert (mode_of(host.daemon_json), mode_of(host.key)) == (0o644, 0o400)
    assert entry_for(outcome, host.daemon_json) == {
        "path": str(host.daemon_json), "exists": True, "symlink": False, "link_target": None, "changed": True,
        "before": OWNERSHIP + " 0666", "after": OWNERSHIP + " 0644", "rules": ["3.17", "3.18"]}


def test_a_stricter_mode_is_kept(host):
    host.service.chmod(0o600)
    outcome = run(host)
    assert outcome.changed is False
    assert mode_of(host.service) == 0o600


def test_the_second_run_changes_nothing(host):
    host.service.chmod(0o666)
    run(host)
    assert run(host).changed is False


def test_check_mode_reports_and_changes_nothing(host):
    host.daemon_json.chmod(0o666)
    outcome = run(host, check_mode=True)
    assert outcome.changed is True
    assert entry_for(outcome, host.daemon_json)["after"] == OWNERSHIP + " 0644"
    assert mode_of(host.daemon_json) == 0o666


def test_diff_lists_every_file_before_and_after(host):
    host.daemon_json.chmod(0o666)
    outcome = run(host, check_mode=True, diff=True)
    before, after = outcome.result["diff"]["before"], outcome.result["diff"]["after"]
    assert "%s: %s 0666\n" % (host.daemon_json, OWNERSHIP) in before
    assert "%s: %s 0644\n" % (host.daemon_json, OWNERSHIP) in after
    assert len(before.splitlines()) == len(after.splitlines()) == len(outcome.result["files"])


def test_each_file_carries_its_two_cis_rule_ids(host):
    outcome = run(host)
    rules = {entry["path"]: entry["rules"] for entry in outcome.result["files"]}
    assert rules == {
        str(host.service): ["3.1", "3.2"],
        str(host.socket): ["3.3", "3.4"],
        str(host.etc): ["3.5", "3.6"],
        str(host.registry_ca): ["3.7", "3.8"],
        str(host.ca): ["3.9", "3.10"],
        str(host.cert): ["3.11", "3.12"],
        str(host.key): ["3.13", "3.14"],
        str(host.daemon_json): ["3.17", "3.18"],
    }


def test_a_unit_masked_by_a_link_to_dev_null_is_skipped_and_dev_null_untouched(host):
    before = os.stat("/dev/null")
    host.socket.unlink()
    host.socket.symlink_to("/dev/null")
    outcome = run(host)
    assert not outcome.failed
    assert "%s (a symlink to /dev/null) is not a regular file (it is: device, fifo or other special file): left alone" \
        % host.socket in outcome.result["skipped"]
    assert all(entry["path"] not in (str(host.socket), "/dev/null") for entry in outcome.result["files"])
    after = os.stat("/dev/null")
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)


def test_a_unit_that_is_a_symlink_to_a_file_is_fixed_at_its_target(host):
    target = make(host.root / "etc" / "systemd" / "system" / "docker.service", 0o664)
    host.service.unlink()
    host.service.symlink_to(target)
    outcome = run(host)
    assert entry_for(outcome, target)["after"] == OWNERSHIP + " 0644"
    assert mode_of(target) == 0o644


def test_files_that_are_not_there_are_listed_as_skipped(host):
    outcome = run(host)
    assert "%s/etc/default/docker does not exist" % host.root in outcome.result["skipped"]


def test_an_unknown_owner_fails_before_any_file_changes(host, monkeypatch):
    host.daemon_json.chmod(0o666)
    table = tuple(entry._replace(owner="bulwark-no-such-user") if entry.name == "tlskey" else entry
                  for entry in docker_files.DOCKER_FILES)
    monkeypatch.setattr(docker_files, "policy_rules", functools.partial(docker_files.policy_rules, entries=table))
    outcome = run(host)
    assert outcome.failed
    assert outcome.msg == "user 'bulwark-no-such-user' does not exist on this host"
    assert mode_of(host.daemon_json) == 0o666
