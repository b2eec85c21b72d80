# -*- coding: utf-8 -*-
"""Unit tests for the host_harden module: its real main() through the harness.

The machine running the tests is itself a container, so harden.read_host is
replaced by a fixed host: no container, Docker installed, a docker group with
an untrusted member. Every file option points under tmp_path; sysctl reads
this kernel's /proc/sys and file_modes runs the real find(1), which only read.
"""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditState, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.host import environment, harden
from ansible_collections.bulwark.hardening.plugins.module_utils.host.environment import HostEnvironment
from ansible_collections.bulwark.hardening.plugins.modules import host_harden
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import fake_program, run_module

ENV = HostEnvironment(in_container=None, docker_installed=True, userns_remap=None, active_units=frozenset())


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


@pytest.fixture
def fixed_host(monkeypatch):
    """The host the module reads: Docker installed, docker group alice + mallory; no auditd, sshd or upgrades."""
    audit_state = AuditState(daemon=DaemonConfig(cmdline={}, file_options=None),
                             host=HostFacts(files={}, docker_group_members=["alice", "mallory"], docker_gid=None))
    monkeypatch.setattr(harden, "read_host", lambda run: (audit_state, ENV))
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    return audit_state


def arguments(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "open.conf").write_text("x\n")
    os.chmod(tree / "open.conf", 0o666)
    return dict(
        connection="local",
        connecting_user="root",
        sysctl={"path": str(tmp_path / "90-bulwark.conf"),
                "settings": {"kernel.kptr_restrict": 2, "net.ipv4.ip_forward": 0}},
        kernel_modules={"path": str(tmp_path / "bulwark-modules.conf"), "blacklist": ["cramfs", "overlay"]},
        docker_group={"allowlist": ["alice"]},
        file_modes={"paths": [str(tree)], "exclude": [], "setid_remove": []},
        basics=dict(unattended_upgrades=True, auto_upgrades_path=str(tmp_path / "20auto-upgrades"),
                    core_dumps_off=True, core_limits_path=str(tmp_path / "limits.d" / "bulwark.conf"),
                    coredump_conf_path=str(tmp_path / "coredump.conf.d" / "bulwark.conf"), login_defs={},
                    age_existing_accounts=False, time_sync=False, apparmor=False),
    )


def test_check_mode_changes_nothing_and_returns_the_diff(fixed_host, tmp_path):
    args = arguments(tmp_path)
    run = run_module(host_harden.main, args, check_mode=True, diff=True)
    assert not run.failed, run
    assert run.changed
    # Nothing written, nothing chmodded.
    assert sorted(os.listdir(tmp_path)) == ["tree"]
    assert mode_of(tmp_path / "tree" / "open.conf") == 0o666
    result = run.result
    assert sorted(result["areas"]) == ["basics", "docker_group", "file_modes", "kernel_modules", "sysctl"]
    assert result["missing_packages"] == ["unattended-upgrades"]
    assert any(note.startswith("sysctl: net.ipv4.ip_forward stays 1") for note in result["notes"])
    assert "kernel_modules: not blacklisted, Docker needs them: overlay" in result["notes"]
    assert result["environment"] == dict(in_container=None, docker_installed=True, userns_remap=None, active_units=[])
    headers = [entry["before_header"] for entry in result["diff"]]
    assert headers[:2] == [args["sysctl"]["path"], args["kernel_modules"]["path"]]
    assert args["basics"]["core_limits_path"] in headers
    actions = result["diff"][-1]
    assert actions["before_header"] == "actions"
    assert "docker_group: remove mallory from docker\n" in actions["after"]
    assert "file_modes: %s: 0666 -> 0664\n" % (tmp_path / "tree" / "open.conf") in actions["after"]
    assert "net.ipv4.ip_forward = 1\n" in result["diff"][0]["after"]


def test_without_diff_mode_no_diff_is_returned(fixed_host, tmp_path):
    run = run_module(host_harden.main, {"docker_group": {"allowlist": None}}, check_mode=True)
    assert not run.failed and not run.changed
    assert "diff" not in run.result
    assert run.result["notes"] == ["docker_group: members of docker (root-equivalent), not changed without an "
                                   "allowlist: alice, mallory"]


def test_a_host_change_error_fails_the_task_with_its_message(fixed_host, tmp_path):
    # sysctl -p refuses the file: the sysctl area fails and kernel_modules, planned after it, is not written.
    fakes = tmp_path / "bin"
    fakes.mkdir()
    fake_program(fakes, "sysctl", "echo 'sysctl: permission denied on key kernel.kptr_restrict' >&2\nexit 1\n")
    args = arguments(tmp_path)
    args = dict((key, args[key]) for key in ("connection", "connecting_user", "sysctl", "kernel_modules"))
    run = run_module(host_harden.main, args, path_dirs=[fakes])
    assert run.failed
    assert run.msg.startswith("sysctl: `sysctl -q -p %s` failed (exit 1): sysctl: permission denied" % args["sysctl"]["path"])
    assert run.msg.endswith("(areas applied before it: none; later areas not applied)")
    assert not os.path.exists(args["kernel_modules"]["path"])


def test_an_ssh_lockout_fails_the_task_before_any_area_is_changed(fixed_host, monkeypatch, tmp_path):
    # Over SSH as root, PermitRootLogin no would lock Ansible out: refused while planning, so the
    # sysctl area planned before it writes nothing either.
    read_text = host_facts.read_text
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/usr/sbin/sshd" if name == "sshd" else None)
    monkeypatch.setattr(host_facts, "read_text", lambda path: "Include %s/*.conf\n" % tmp_path
                        if path == "/etc/ssh/sshd_config" else read_text(path))
    fakes = tmp_path / "bin"
    fakes.mkdir()
    # sshd -T of the candidate (-f, with the drop-in) shows the drop-in's value, of the current config yes.
    fake_program(fakes, "sshd", 'case " $* " in *" -T -f "*) printf "permitrootlogin no\\n" ;;\n'
                 '*" -T "*) printf "permitrootlogin yes\\npasswordauthentication yes\\n" ;; esac\n')
    args = arguments(tmp_path)
    args = dict((key, args[key]) for key in ("sysctl",))
    args.update(connection="ssh", connecting_user="root",
                ssh={"path": str(tmp_path / "00-bulwark.conf"), "settings": {"PermitRootLogin": "no"},
                     "allow_groups": []})
    run = run_module(host_harden.main, args, path_dirs=[fakes])
    assert run.failed
    assert run.msg.startswith("ssh: refused before any change, the connecting user would be locked out: ")
    assert "PermitRootLogin would be no" in run.msg
    assert not os.path.exists(args["ssh"]["path"])
    assert not os.path.exists(args["sysctl"]["path"])


def test_a_plain_container_without_systemctl_skips_the_host_areas_instead_of_failing(monkeypatch, tmp_path):
    # A container without systemd (debian:12 as pulled) has no systemctl at all: the host's
    # kernel areas are skipped there, and nothing runs as a unit. The host is read for real
    # (harden.read_host), from fixed facts; PATH holds no program.
    monkeypatch.setattr(gather, "read_daemon_config", lambda *args, **kwargs: DaemonConfig(cmdline=None, file_options=None))
    monkeypatch.setattr(gather, "read_host_facts", lambda daemon, scopes: HostFacts(files={}))
    monkeypatch.setattr(environment, "container_manager", lambda *args, **kwargs: "docker")
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(host_facts, "find_unit", lambda name, *args, **kwargs: None)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    args = {"sysctl": {"path": str(tmp_path / "90-bulwark.conf"), "settings": {"kernel.sysrq": 0}},
            "kernel_modules": {"path": str(tmp_path / "modules.conf"), "blacklist": ["cramfs"]}}
    run = run_module(host_harden.main, args, check_mode=True)
    assert not run.failed, run.msg
    assert run.result["areas"]["sysctl"]["skipped"].startswith("in a container (docker)")
    assert run.result["environment"]["active_units"] == []
