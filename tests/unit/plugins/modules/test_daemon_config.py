# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the daemon_config module: its main() against files in tmp_path.

No Docker and no root: owner and group are the test runner's own, and
dockerd / systemctl are small shell scripts put first on PATH.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.bulwark.hardening.plugins.modules import daemon_config

DEBIAN_ARGV = ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"]
HARDENING = {
    "icc": False,
    "live-restore": True,
    "no-new-privileges": True,
    "log-driver": "local",
    "log-opts": {"max-size": "10m", "max-file": "5"},
}


class ModuleExited(Exception):
    """exit_json was called; .result holds its arguments."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFailed(ModuleExited):
    """fail_json was called."""


@pytest.fixture
def daemon_json(tmp_path):
    return tmp_path / "etc-docker" / "daemon.json"


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    """A directory searched before the system's for dockerd and systemctl."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", "%s:%s" % (directory, os.environ.get("PATH", "/usr/bin:/bin")))
    return directory


def fake_program(bin_dir, name, script):
    program = bin_dir / name
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)
    return program


@pytest.fixture
def run_module(tmp_path, daemon_json, monkeypatch):
    def exit_json(self, **result):
        raise ModuleExited(result)

    def fail_json(self, msg, **result):
        result["msg"] = msg
        raise ModuleFailed(result)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    remote_tmp = tmp_path / "remote-tmp"
    remote_tmp.mkdir()

    def run(check_mode=False, **params):
        args = dict(
            path=str(daemon_json),
            dockerd_args=[],
            validate_with_dockerd=False,
            owner=pwd.getpwuid(os.getuid()).pw_name,
            group=grp.getgrgid(os.getgid()).gr_name,
            _ansible_check_mode=check_mode,
            _ansible_diff=True,
            _ansible_remote_tmp=str(remote_tmp),
            _ansible_keep_remote_files=False,
        )
        args.update(params)
        with patch_module_args(args):
            with pytest.raises(ModuleExited) as outcome:
                daemon_config.main()
        return outcome.value
    return run


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def backups_of(path):
    return sorted(entry for entry in path.parent.iterdir() if entry.name.startswith(path.name + ".") and
                  entry.name.endswith("~"))


def file_mode(path):
    return stat.S_IMODE(path.stat().st_mode)


# --- writing -----------------------------------------------------------------------

def test_creates_a_missing_file(run_module, daemon_json):
    daemon_json.parent.mkdir()
    outcome = run_module(settings=HARDENING)
    assert not isinstance(outcome, ModuleFailed)
    assert outcome.result["changed"] is True
    assert outcome.result["config"] == HARDENING
    assert outcome.result["backup_file"] is None
    assert daemon_json.read_text() == daemon_config.canonical_json(HARDENING)
    assert file_mode(daemon_json) == 0o644
    assert outcome.result["diff"]["before"] == ""
    assert outcome.result["diff"]["before_header"] == str(daemon_json)


def test_merged_keeps_unmanaged_keys_and_backs_up(run_module, daemon_json):
    write(daemon_json, {"data-root": "/srv/docker", "icc": True, "log-opts": {"max-file": "2", "tag": "x"}})
    outcome = run_module(settings=HARDENING)
    expected = dict(HARDENING, **{"data-root": "/srv/docker"})
    assert outcome.result["changed"] is True
    assert json.loads(daemon_json.read_text()) == expected
    # log-opts was replaced whole: the old "tag" is gone.
    assert outcome.result["config"]["log-opts"] == {"max-size": "10m", "max-file": "5"}
    [backup] = backups_of(daemon_json)
    assert outcome.result["backup_file"] == str(backup)
    assert json.loads(backup.read_text())["icc"] is True


def test_second_run_changes_nothing(run_module, daemon_json):
    daemon_json.parent.mkdir()
    run_module(settings=HARDENING)
    outcome = run_module(settings=HARDENING)
    assert outcome.result["changed"] is False
    assert backups_of(daemon_json) == []
    assert outcome.result["diff"]["before"] == outcome.result["diff"]["after"]


def test_equal_content_in_another_layout_is_left_alone(run_module, daemon_json):
    original = '{"icc":false,\n "live-restore":true}'
    write(daemon_json, original)
    daemon_json.chmod(0o644)
    outcome = run_module(settings={"live-restore": True, "icc": False})
    assert outcome.result["changed"] is False
    assert daemon_json.read_text() == original


def test_exact_drops_unmanaged_keys(run_module, daemon_json):
    write(daemon_json, {"data-root": "/srv/docker", "debug": True})
    outcome = run_module(settings={"icc": False}, state="exact")
    assert outcome.result["changed"] is True
    assert json.loads(daemon_json.read_text()) == {"icc": False}


def test_null_removes_a_key(run_module, daemon_json):
    write(daemon_json, {"icc": False, "insecure-registries": ["registry.local:5000"]})
    outcome = run_module(settings={"insecure-registries": None})
    assert json.loads(daemon_json.read_text()) == {"icc": False}
    assert '"insecure-registries"' in outcome.result["diff"]["before"]
    assert '"insecure-registries"' not in outcome.result["diff"]["after"]


def test_backup_can_be_turned_off(run_module, daemon_json):
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"icc": False}, backup=False)
    assert outcome.result["backup_file"] is None
    assert backups_of(daemon_json) == []


def test_mode_is_corrected_without_content_change(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o666)
    outcome = run_module(settings={"icc": False})
    assert outcome.result["changed"] is True
    assert file_mode(daemon_json) == 0o644
    assert backups_of(daemon_json) == []


def test_mode_null_leaves_permissions_alone(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o600)
    outcome = run_module(settings={"icc": False}, mode=None)
    assert outcome.result["changed"] is False
    assert file_mode(daemon_json) == 0o600


def test_missing_directory_fails_clearly(run_module, daemon_json):
    outcome = run_module(settings={"icc": False})
    assert isinstance(outcome, ModuleFailed)
    assert "does not exist" in outcome.result["msg"]
    assert not daemon_json.parent.exists()


# --- check mode and diff ----------------------------------------------------------

def test_check_mode_reports_without_writing(run_module, daemon_json):
    original = json.dumps({"icc": True, "debug": False})
    write(daemon_json, original)
    daemon_json.chmod(0o600)
    outcome = run_module(check_mode=True, settings={"icc": False})
    assert outcome.result["changed"] is True
    assert daemon_json.read_text() == original
    assert file_mode(daemon_json) == 0o600
    assert backups_of(daemon_json) == []
    assert outcome.result["diff"] == {
        "before": '{\n  "debug": false,\n  "icc": true\n}\n',
        "after": '{\n  "debug": false,\n  "icc": false\n}\n',
        "before_header": str(daemon_json),
        "after_header": str(daemon_json),
    }


def test_check_mode_on_a_missing_file(run_module, daemon_json):
    daemon_json.parent.mkdir()
    outcome = run_module(check_mode=True, settings={"icc": False})
    assert outcome.result["changed"] is True
    assert not daemon_json.exists()


def test_check_mode_sees_a_wrong_mode_without_fixing_it(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o666)
    outcome = run_module(check_mode=True, settings={"icc": False})
    assert outcome.result["changed"] is True
    assert file_mode(daemon_json) == 0o666


# --- refusing bad content ------------------------------------------------------------

@pytest.mark.parametrize("settings, named", [
    ({"icc": "no"}, "daemon.json key 'icc' must be a boolean, got string 'no'"),
    ({"insecure-registry": []}, "did you mean 'insecure-registries'?"),
    ({"log-level": "verbose"}, "daemon.json key 'log-level' must be one of"),
    ({"log-opts": {"max-file": 5}}, "daemon.json key 'log-opts' entry 'max-file' must be a string"),
    ({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1}}},
     "daemon.json key 'default-ulimits' entry 'nofile' is missing field 'Hard'"),
], ids=["type", "unknown", "log-level", "log-opts", "ulimit"])
def test_invalid_settings_fail_before_writing(run_module, daemon_json, settings, named):
    write(daemon_json, {"icc": True})
    before = daemon_json.read_text()
    outcome = run_module(settings=settings)
    assert isinstance(outcome, ModuleFailed)
    assert named in outcome.result["msg"]
    assert outcome.result["errors"]
    assert daemon_json.read_text() == before


def test_unknown_keys_already_in_the_file_are_reported(run_module, daemon_json):
    write(daemon_json, {"default-pids-limit": 100})
    outcome = run_module(settings={"icc": False})
    assert isinstance(outcome, ModuleFailed)
    assert "'default-pids-limit' is not supported" in outcome.result["msg"]


def test_broken_json_stops_merged(run_module, daemon_json):
    write(daemon_json, '{"icc": false,')
    outcome = run_module(settings={"icc": False})
    assert isinstance(outcome, ModuleFailed)
    assert "is not valid JSON" in outcome.result["msg"]
    assert "state=exact" in outcome.result["msg"]


def test_exact_replaces_broken_json_after_a_backup(run_module, daemon_json):
    write(daemon_json, '{"icc": false,')
    outcome = run_module(settings={"icc": False}, state="exact")
    assert outcome.result["changed"] is True
    assert json.loads(daemon_json.read_text()) == {"icc": False}
    assert outcome.result["diff"]["before"] == '{"icc": false,'
    [backup] = backups_of(daemon_json)
    assert backup.read_text() == '{"icc": false,'


# --- conflicts with the daemon's flags -------------------------------------------------

def test_keys_also_given_as_flags_fail(run_module, daemon_json):
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"hosts": ["unix:///var/run/docker.sock"], "icc": False},
                         dockerd_args=DEBIAN_ARGV)
    assert isinstance(outcome, ModuleFailed)
    assert outcome.result["conflicts"] == [{"key": "hosts", "flag": "-H"}]
    assert "'hosts' (flag -H)" in outcome.result["msg"]
    assert json.loads(daemon_json.read_text()) == {"icc": True}


def test_dockerd_args_are_read_from_systemd(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "systemctl", 'echo "ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd '
                                       '-H fd:// --containerd=/run/containerd/containerd.sock ; '
                                       'ignore_errors=no ; pid=0 }"\n')
    daemon_json.parent.mkdir()
    outcome = run_module(settings={"containerd": "/run/containerd/containerd.sock"}, dockerd_args=None)
    assert isinstance(outcome, ModuleFailed)
    assert outcome.result["conflicts"] == [{"key": "containerd", "flag": "--containerd"}]
    assert outcome.result["dockerd_args"][:3] == ["/usr/sbin/dockerd", "-H", "fd://"]


def test_systemctl_failure_is_ignored(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "systemctl", 'echo "System has not been booted with systemd" >&2\nexit 1\n')
    daemon_json.parent.mkdir()
    outcome = run_module(settings={"hosts": ["unix:///var/run/docker.sock"]}, dockerd_args=None)
    assert not isinstance(outcome, ModuleFailed)
    assert outcome.result["dockerd_args"] == []


def test_given_dockerd_args_are_returned(run_module, daemon_json):
    daemon_json.parent.mkdir()
    outcome = run_module(settings=HARDENING, dockerd_args=DEBIAN_ARGV)
    assert outcome.result["dockerd_args"] == DEBIAN_ARGV
    assert outcome.result["conflicts"] == []


# --- dockerd --validate -----------------------------------------------------------------

def test_dockerd_rejection_fails_and_keeps_the_file(run_module, daemon_json, bin_dir, tmp_path):
    fake_program(bin_dir, "dockerd", 'echo "unable to configure the Docker daemon with file $3: bad" >&2\nexit 1\n')
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"icc": False}, validate_with_dockerd=True)
    assert isinstance(outcome, ModuleFailed)
    assert outcome.result["msg"].startswith("dockerd --validate rejected the new daemon.json: unable to configure")
    assert json.loads(daemon_json.read_text()) == {"icc": True}
    assert backups_of(daemon_json) == []
    # The candidate copy does not linger in the module's temporary directory.
    assert not list((tmp_path / "remote-tmp").rglob("*.candidate"))


def test_dockerd_sees_the_new_content(run_module, daemon_json, bin_dir, tmp_path):
    seen = tmp_path / "seen.json"
    fake_program(bin_dir, "dockerd", '[ "$1" = --validate ] && [ "$2" = --config-file ] && cp "$3" %s\n' % seen)
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"icc": False}, validate_with_dockerd=True)
    assert outcome.result["dockerd_validated"] is True
    assert seen.read_text() == daemon_json.read_text() == '{\n  "icc": false\n}\n'


def test_dockerd_without_validate_is_skipped(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "dockerd", 'echo "Status: unknown flag: --validate" >&2\nexit 1\n')
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"icc": False}, validate_with_dockerd=True)
    assert outcome.result["changed"] is True
    assert outcome.result["dockerd_validated"] is False
    assert json.loads(daemon_json.read_text()) == {"icc": False}


def test_check_mode_still_asks_dockerd(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "dockerd", 'echo "invalid" >&2\nexit 1\n')
    write(daemon_json, {"icc": True})
    outcome = run_module(check_mode=True, settings={"icc": False}, validate_with_dockerd=True)
    assert isinstance(outcome, ModuleFailed)
    assert "invalid" in outcome.result["msg"]


def test_unchanged_content_is_not_revalidated(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "dockerd", "exit 1\n")
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o644)
    outcome = run_module(settings={"icc": False}, validate_with_dockerd=True)
    assert outcome.result["changed"] is False
    assert outcome.result["dockerd_validated"] is False
