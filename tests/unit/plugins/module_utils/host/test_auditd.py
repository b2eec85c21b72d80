# -*- coding: utf-8 -*-
"""Unit tests for host.auditd: the role watches exactly what the audit's rules 1.1.3-1.1.18 check.

Hosts are built as in the section 1 rule tests (HostFacts with files, binaries
and units); the rules written by the area are parsed back with the audit's own
parser and judged by the registered catalog rules: one source of truth.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import AuditRules, parse_audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig, parse_cmdline
from ansible_collections.bulwark.hardening.plugins.module_utils.host import auditd
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis1_host import AUDITED_PATHS

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import FakeRun, host_env
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import dockerd_config, state, status

BINARIES = {
    "dockerd": "/usr/sbin/dockerd", "containerd": "/usr/bin/containerd", "containerd-shim": "/usr/bin/containerd-shim",
    "containerd-shim-runc-v1": "/usr/bin/containerd-shim-runc-v1",
    "containerd-shim-runc-v2": "/usr/bin/containerd-shim-runc-v2", "runc": "/usr/sbin/runc",
}
UNITS = {"docker.service": "/lib/systemd/system/docker.service", "docker.socket": "/lib/systemd/system/docker.socket"}
# Every path 1.1.x audits on a default Debian host.
PRESENT = ["/run/containerd", "/var/lib/docker", "/etc/docker", "/run/containerd/containerd.sock", "/etc/default/docker",
           "/etc/docker/daemon.json", "/etc/containerd/config.toml", "/etc/sysconfig/docker", "/var/run/docker.sock"]
PRESENT += list(BINARIES.values()) + list(UNITS.values())
AUDIT_IDS = [entry[0] for entry in AUDITED_PATHS]
LOADED = "auditctl -l"


def same_path(path):
    return path


def host(present=tuple(PRESENT), rules_text="", source=LOADED, binaries=None):
    return HostFacts(audit_rules=AuditRules(source, parse_audit_rules(rules_text), None),
                     binaries=BINARIES if binaries is None else binaries, units=UNITS,
                     files=dict((path, FileStat(path, 0, 0, 0o644, "file")) for path in present))


def loaded_from(audit_state, rules_text):
    """The same host with rules_text loaded in the kernel (as `auditctl -l` would list it)."""
    facts = audit_state.host
    facts.audit_rules = AuditRules(LOADED, parse_audit_rules(rules_text), None)
    return audit_state


# Hosts: Debian's defaults; a moved data root, config file and containerd socket; a host with only some paths.
MOVED = dict(info_changes={"DockerRootDir": "/srv/docker"},
             daemon=DaemonConfig(cmdline=parse_cmdline(["--config-file", "/srv/etc/daemon.json",
                                                        "--containerd", "/srv/run/containerd.sock"]),
                                 config_path="/srv/etc/daemon.json"),
             options=AuditOptions(docker_host="unix:///srv/run/docker.sock"))
MOVED_PRESENT = ["/run/containerd", "/srv/docker", "/etc/docker", "/srv/run/containerd.sock", "/srv/etc/daemon.json",
                 "/srv/run/docker.sock"] + list(BINARIES.values()) + list(UNITS.values())
PARTIAL_PRESENT = ["/usr/sbin/dockerd", "/var/lib/docker", "/etc/docker", "/var/run/docker.sock",
                   "/lib/systemd/system/docker.service"]
HOSTS = {
    "debian": (PRESENT, {}),
    "moved": (MOVED_PRESENT, MOVED),
    "partial": (PARTIAL_PRESENT, {}),
}


def host_state(name):
    present, changes = HOSTS[name]
    return state(host=host(present), **changes)


@pytest.fixture
def installed(monkeypatch):
    """auditctl and augenrules found (the module's host has the auditd package)."""
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/usr/sbin/" + name)


def expected_watches(audit_state, present_only=True):
    """{path: [ids]} straight from AUDITED_PATHS: every path a 1.1.3-1.1.18 rule checks that is present
    (present_only=False: or whose directory is, which the kernel can watch for the file to appear)."""
    found = {}
    for rule_id, _title, paths_of, _must_exist, _what in AUDITED_PATHS:
        for path in paths_of(audit_state):
            stat = audit_state.host.stat
            if path and (stat(path) is not None or (not present_only and stat(os.path.dirname(path)) is not None)):
                found.setdefault(normal_path(path), []).append(rule_id)
    return found


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_watched_paths_are_the_paths_the_audit_rules_check(name):
    audit_state = host_state(name)
    watched = auditd.watched_paths(audit_state, realpath=same_path)
    assert dict(watched) == expected_watches(audit_state, present_only=False)


def test_watched_paths_of_a_moved_data_root_and_config_follow_the_daemon():
    watched = dict(auditd.watched_paths(host_state("moved"), realpath=same_path))
    assert watched["/srv/docker"] == ["1.1.5"]
    assert watched["/srv/etc/daemon.json"] == ["1.1.11"]
    assert watched["/srv/run/containerd.sock"] == ["1.1.8"]
    assert watched["/srv/run/docker.sock"] == ["1.1.9"]
    assert "/var/lib/docker" not in watched and "/etc/docker/daemon.json" not in watched


def test_watched_paths_leave_out_paths_without_a_directory_and_follow_the_benchmark_order():
    watched = [path for path, _ids in auditd.watched_paths(host_state("partial"), realpath=same_path)]
    present = ["/usr/sbin/dockerd", "/var/lib/docker", "/etc/docker", "/lib/systemd/system/docker.service",
               "/run/docker.sock"]
    assert [path for path in watched if path in present] == present
    assert "/etc/sysconfig/docker" not in watched  # no /etc/sysconfig on Debian: nothing to watch from


def test_an_absent_daemon_json_in_an_existing_directory_is_watched_from_the_first_run():
    # harden.yml runs the host role before docker_daemon writes daemon.json: without this the
    # rule for 1.1.11 appeared on the second run only, and that run was not idempotent.
    audit_state = host_state("partial")
    assert audit_state.host.stat("/etc/docker/daemon.json") is None
    assert dict(auditd.watched_paths(audit_state, realpath=same_path))["/etc/docker/daemon.json"] == ["1.1.11"]


def test_a_path_two_rules_check_is_watched_once_naming_both():
    audit_state = state(host=host(PRESENT), daemon=dockerd_config(["--containerd", "/run/containerd"]))
    watched = dict(auditd.watched_paths(audit_state, realpath=same_path))
    assert watched["/run/containerd"] == ["1.1.4", "1.1.8"]


@pytest.mark.parametrize("realpath", [same_path, os.path.realpath], ids=["as-named", "symlinks-resolved"])
@pytest.mark.parametrize("name", sorted(HOSTS))
def test_the_rendered_rules_make_every_present_paths_audit_rule_pass(name, realpath):
    # The key test: what the role writes, parsed back by the audit and judged by the catalog rules.
    audit_state = host_state(name)
    rendered = auditd.render(auditd.watched_paths(audit_state, realpath=realpath), "docker")
    assert "-k docker" in rendered
    loaded = loaded_from(host_state(name), rendered)
    before = host_state(name)
    for rule_id in AUDIT_IDS:
        checked_here = any(rule_id in ids for ids in expected_watches(before).values())
        if checked_here:
            assert status(rule_id, before) == "fail", rule_id  # without the rules the audit fails ...
            assert status(rule_id, loaded) == "pass", rule_id  # ... with them it passes
        else:
            assert status(rule_id, loaded) == "info", rule_id  # nothing of it on this host


def test_render_records_writes_and_attribute_changes_with_the_cis_ids():
    text = auditd.render([("/etc/docker", ["1.1.6"]), ("/run/containerd", ["1.1.4", "1.1.8"])], "dockerkey")
    assert text == auditd.HEADER + ("# CIS 1.1.6\n-w /etc/docker -p wa -k dockerkey\n"
                                    "# CIS 1.1.4, 1.1.8\n-w /run/containerd -p wa -k dockerkey\n")
    watches = parse_audit_rules(text)
    assert [(watch.path, watch.perms) for watch in watches] == [("/etc/docker", "wa"), ("/run/containerd", "wa")]


def test_uncovered_names_paths_without_a_write_watch():
    rules = AuditRules(LOADED, parse_audit_rules("-w /etc/docker -p wa -k d\n-w /usr/bin/runc -p x -k d\n"), None)
    assert auditd.uncovered(rules, ["/etc/docker/daemon.json", "/usr/bin/runc", "/usr/sbin/dockerd"]) == [
        "/usr/bin/runc", "/usr/sbin/dockerd"]


def test_missing_auditctl_asks_for_the_auditd_package_and_skips(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    run = FakeRun()
    area = auditd.plan(host_state("debian"), str(tmp_path / "docker.rules"), "docker", host_env(), run)
    assert area.missing_packages == ["auditd"]
    assert area.skipped == "auditd is not installed"
    assert area.files == [] and area.actions == [] and run.calls == []


def test_missing_augenrules_alone_also_asks_for_auditd(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/sbin/auditctl" if name == "auditctl" else None)
    area = auditd.plan(host_state("debian"), str(tmp_path / "docker.rules"), "docker", host_env(), FakeRun())
    assert area.missing_packages == ["auditd"] and area.skipped


def test_in_a_container_the_area_is_skipped_because_audit_rules_belong_to_the_host(installed, tmp_path):
    run = FakeRun()
    area = auditd.plan(host_state("debian"), str(tmp_path / "docker.rules"), "docker", host_env(in_container="docker"), run)
    assert "in a container (docker)" in area.skipped
    assert area.files == [] and area.missing_packages == [] and run.calls == []


def test_unchanged_file_with_every_rule_loaded_plans_no_actions(installed, tmp_path):
    path = tmp_path / "docker.rules"
    rendered = auditd.render(auditd.watched_paths(host_state("debian")), "docker")
    path.write_text(rendered)
    run = FakeRun()
    area = auditd.plan(loaded_from(host_state("debian"), rendered), str(path), "docker",
                       host_env(active_units=["auditd"]), run)
    assert not area.files[0].changed
    assert area.actions == [] and not area.changed
    assert run.calls == []  # not even auditctl -s


def test_a_new_rules_file_is_written_and_loaded_then_verified(installed, tmp_path):
    path = tmp_path / "docker.rules"
    run = FakeRun({("auditctl", "-s"): (0, "enabled 1\nfailure 1\npid 412\n", "")})
    area = auditd.plan(host_state("debian"), str(path), "docker", host_env(active_units=["auditd"]), run)
    assert area.files[0].changed and area.files[0].before is None
    assert [action.argv for action in area.actions] == [["augenrules", "--load"], None]
    assert sorted(area.report["watched"]) == sorted(path for path, _ids in auditd.watched_paths(host_state("debian")))


def test_a_path_not_loaded_in_the_kernel_loads_the_rules_again_even_with_an_unchanged_file(installed, tmp_path):
    path = tmp_path / "docker.rules"
    rendered = auditd.render(auditd.watched_paths(host_state("debian")), "docker")
    path.write_text(rendered)
    # The kernel lacks the watch on runc (the file was edited by hand and never loaded, say).
    partial = "\n".join(line for line in rendered.splitlines() if "/runc " not in line)
    run = FakeRun({("auditctl", "-s"): (0, "enabled 1\n", "")})
    area = auditd.plan(loaded_from(host_state("debian"), partial), str(path), "docker",
                       host_env(active_units=["auditd"]), run)
    assert not area.files[0].changed
    assert area.actions[0].argv == ["augenrules", "--load"]
    assert area.actions[1].argv is None
    assert run.calls == [["auditctl", "-s"]]


def test_rules_read_from_files_instead_of_the_kernel_count_as_not_loaded(installed, tmp_path):
    path = tmp_path / "docker.rules"
    rendered = auditd.render(auditd.watched_paths(host_state("debian")), "docker")
    path.write_text(rendered)
    audit_state = state(host=host(PRESENT, rendered, source="rule files /etc/audit/rules.d/x.rules (not verified)"))
    area = auditd.plan(audit_state, str(path), "docker", host_env(active_units=["auditd"]),
                       FakeRun({("auditctl", "-s"): (0, "enabled 1\n", "")}))
    assert [action.argv for action in area.actions] == [["augenrules", "--load"], None]


def test_the_verify_action_reads_the_kernel_rules_after_loading(installed, tmp_path):
    rendered = auditd.render(auditd.watched_paths(host_state("debian")), "docker")
    answers = {"rules": AuditRules(LOADED, [], None)}
    area = auditd.plan(host_state("debian"), str(tmp_path / "docker.rules"), "docker",
                       host_env(active_units=["auditd"]), FakeRun({("auditctl", "-s"): (0, "enabled 1\n", "")}),
                       read_rules=lambda: answers["rules"])
    verify = area.actions[-1]
    assert "lacks" in verify.call()
    answers["rules"] = AuditRules(LOADED, parse_audit_rules(rendered), None)
    assert verify.call() is None
    answers["rules"] = AuditRules(None, [], "no audit rules: auditctl not installed")
    assert "cannot read the loaded rules" in verify.call()


def test_locked_rules_are_reported_and_not_loaded(installed, tmp_path):
    path = tmp_path / "docker.rules"
    run = FakeRun({("auditctl", "-s"): (0, "enabled 2\nfailure 1\n", "")})
    area = auditd.plan(host_state("debian"), str(path), "docker", host_env(active_units=["auditd"]), run)
    assert any("locked until reboot" in note and str(path) in note for note in area.notes)
    assert all(action.argv != ["augenrules", "--load"] for action in area.actions)
    assert area.files[0].changed  # written now, loaded at the next boot


def test_auditd_not_running_is_started_and_enabled(installed, tmp_path):
    path = tmp_path / "docker.rules"
    rendered = auditd.render(auditd.watched_paths(host_state("debian")), "docker")
    path.write_text(rendered)
    area = auditd.plan(loaded_from(host_state("debian"), rendered), str(path), "docker", host_env(), FakeRun())
    assert [action.argv for action in area.actions] == [["systemctl", "enable", "--now", "auditd"]]
