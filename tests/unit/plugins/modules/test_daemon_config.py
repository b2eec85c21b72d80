# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the daemon_config module: its main() against files in tmp_path.

No Docker and no root: owner and group are the test runner's own, and
dockerd / systemctl are small shell scripts put first on PATH. Runs go
through the shared harness: the real exit_json / fail_json print the result.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.modules import daemon_config
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import fake_program, run_module as run_main

DEBIAN_ARGV = ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"]
HARDENING = {
    "icc": False,
    "live-restore": True,
    "no-new-privileges": True,
    "log-driver": "local",
    "log-opts": {"max-size": "10m", "max-file": "5"},
}


@pytest.fixture
def daemon_json(tmp_path):
    return tmp_path / "etc-docker" / "daemon.json"


@pytest.fixture
def bin_dir(tmp_path):
    """A directory searched before the system's for dockerd and systemctl."""
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


@pytest.fixture
def run_module(tmp_path, daemon_json, bin_dir):
    """Run daemon_config on daemon_json, as the test runner's user, with diff on."""
    remote_tmp = tmp_path / "remote-tmp"
    remote_tmp.mkdir()

    def run(check_mode=False, **params):
        args = dict(
            path=str(daemon_json),
            dockerd_args=[],
            validate_with_dockerd=False,
            owner=pwd.getpwuid(os.getuid()).pw_name,
            group=grp.getgrgid(os.getgid()).gr_name,
        )
        args.update(params)
        return run_main(daemon_config.main, args, check_mode=check_mode, diff=True,
                        path_dirs=[bin_dir], remote_tmp=remote_tmp)
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
    assert not outcome.failed
    assert outcome.changed
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
    assert outcome.changed
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
    assert not outcome.changed
    assert backups_of(daemon_json) == []
    assert outcome.result["diff"]["before"] == outcome.result["diff"]["after"]


def test_equal_content_in_another_layout_is_left_alone(run_module, daemon_json):
    original = '{"icc":false,\n "live-restore":true}'
    write(daemon_json, original)
    daemon_json.chmod(0o644)
    outcome = run_module(settings={"live-restore": True, "icc": False})
    assert not outcome.changed
    assert daemon_json.read_text() == original


def test_exact_drops_unmanaged_keys(run_module, daemon_json):
    write(daemon_json, {"data-root": "/srv/docker", "debug": True})
    outcome = run_module(settings={"icc": False}, state="exact")
    assert outcome.changed
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
    assert outcome.changed
    assert file_mode(daemon_json) == 0o644
    assert backups_of(daemon_json) == []


def test_mode_null_leaves_permissions_alone(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o600)
    outcome = run_module(settings={"icc": False}, mode=None)
    assert not outcome.changed
    assert file_mode(daemon_json) == 0o600


def test_missing_directory_fails_clearly(run_module, daemon_json):
    outcome = run_module(settings={"icc": False})
    assert outcome.failed
    assert "does not exist" in outcome.msg
    assert not daemon_json.parent.exists()


# --- check mode and diff ----------------------------------------------------------

def test_check_mode_reports_without_writing(run_module, daemon_json):
    original = json.dumps({"icc": True, "debug": False})
    write(daemon_json, original)
    daemon_json.chmod(0o600)
    outcome = run_module(check_mode=True, settings={"icc": False})
    assert outcome.changed
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
    assert outcome.changed
    assert not daemon_json.exists()


def test_check_mode_sees_a_wrong_mode_without_fixing_it(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o666)
    outcome = run_module(check_mode=True, settings={"icc": False})
    assert outcome.changed
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
    assert outcome.failed
    assert named in outcome.msg
    assert outcome.result["errors"]
    assert daemon_json.read_text() == before


def test_unknown_keys_already_in_the_file_are_reported(run_module, daemon_json):
    write(daemon_json, {"default-pids-limit": 100})
    outcome = run_module(settings={"icc": False})
    assert outcome.failed
    assert "'default-pids-limit' is not supported" in outcome.msg


def test_broken_json_stops_merged(run_module, daemon_json):
    write(daemon_json, '{"icc": false,')
    outcome = run_module(settings={"icc": False})
    assert outcome.failed
    assert "is not valid JSON" in outcome.msg
    assert "state=exact" in outcome.msg


def test_exact_replaces_broken_json_after_a_backup(run_module, daemon_json):
    write(daemon_json, '{"icc": false,')
    outcome = run_module(settings={"icc": False}, state="exact")
    assert outcome.changed
    assert json.loads(daemon_json.read_text()) == {"icc": False}
    assert outcome.result["diff"]["before"] == '{"icc": false,'
    [backup] = backups_of(daemon_json)
    assert backup.read_text() == '{"icc": false,'


# --- conflicts with the daemon's flags -------------------------------------------------

def test_keys_also_given_as_flags_fail(run_module, daemon_json):
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"hosts": ["unix:///var/run/docker.sock"], "icc": False},
                         dockerd_args=DEBIAN_ARGV)
    assert outcome.failed
    assert outcome.result["conflicts"] == [{"key": "hosts", "flag": "-H"}]
    assert "'hosts' (flag -H)" in outcome.msg
    assert json.loads(daemon_json.read_text()) == {"icc": True}


def test_dockerd_args_are_read_from_systemd(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "systemctl", 'echo "ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd '
                                       '-H fd:// --containerd=/run/containerd/containerd.sock ; '
                                       'ignore_errors=no ; pid=0 }"\n')
    daemon_json.parent.mkdir()
    outcome = run_module(settings={"containerd": "/run/containerd/containerd.sock"}, dockerd_args=None)
    assert outcome.failed
    assert outcome.result["conflicts"] == [{"key": "containerd", "flag": "--containerd"}]
    assert outcome.result["dockerd_args"][:3] == ["/usr/sbin/dockerd", "-H", "fd://"]


def test_systemctl_failure_is_ignored(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "systemctl", 'echo "System has not been booted with systemd" >&2\nexit 1\n')
    daemon_json.parent.mkdir()
    outcome = run_module(settings={"hosts": ["unix:///var/run/docker.sock"]}, dockerd_args=None)
    assert not outcome.failed
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
    assert outcome.failed
    assert outcome.msg.startswith("dockerd --validate rejected the new daemon.json: unable to configure")
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
    assert outcome.changed
    assert outcome.result["dockerd_validated"] is False
    assert json.loads(daemon_json.read_text()) == {"icc": False}


def test_check_mode_still_asks_dockerd(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "dockerd", 'echo "invalid" >&2\nexit 1\n')
    write(daemon_json, {"icc": True})
    outcome = run_module(check_mode=True, settings={"icc": False}, validate_with_dockerd=True)
    assert outcome.failed
    assert "invalid" in outcome.msg


def test_unchanged_content_is_not_revalidated(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "dockerd", "exit 1\n")
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o644)
    outcome = run_module(settings={"icc": False}, validate_with_dockerd=True)
    assert not outcome.changed
    assert outcome.result["dockerd_validated"] is False


# --- mode is a maximum, as in file_policy ----------------------------------------------

def test_a_stricter_mode_is_kept(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o600)
    outcome = run_module(settings={"icc": False})
    assert not outcome.failed and not outcome.changed
    assert file_mode(daemon_json) == 0o600


def test_a_stricter_mode_is_kept_when_the_content_changes(run_module, daemon_json):
    write(daemon_json, {"icc": True})
    daemon_json.chmod(0o600)
    outcome = run_module(settings={"icc": False})
    assert outcome.changed
    assert json.loads(daemon_json.read_text()) == {"icc": False}
    assert file_mode(daemon_json) == 0o600


def test_only_bits_beyond_the_maximum_are_cleared(run_module, daemon_json):
    write(daemon_json, daemon_config.canonical_json({"icc": False}))
    daemon_json.chmod(0o670)
    outcome = run_module(settings={"icc": False}, mode="0644")
    assert outcome.changed
    assert file_mode(daemon_json) == 0o640


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_a_new_file_gets_the_maximum_whatever_the_umask(run_module, daemon_json, umask):
    daemon_json.parent.mkdir()
    saved = os.umask(umask)
    try:
        outcome = run_module(settings={"icc": False}, mode="0640")
    finally:
        os.umask(saved)
    assert outcome.changed
    assert file_mode(daemon_json) == 0o640


@pytest.mark.parametrize("mode", ["u+rw", "0899", True])
def test_a_bad_mode_fails_before_writing(run_module, daemon_json, mode):
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"icc": False}, mode=mode)
    assert outcome.failed and outcome.msg.startswith("mode: ")
    assert json.loads(daemon_json.read_text()) == {"icc": True}


# --- no credentials in the output ----------------------------------------------------------

SECRET = "s3cr3t-Pa55@word"
PROXY = "http://proxy-user:%s@proxy.example.com:3128" % SECRET
PROXY_SHOWN = "http://proxy-user:********@proxy.example.com:3128"
MIRROR = "https://mirror-user:%s@mirror.example.com" % SECRET
MIRROR_SHOWN = "https://mirror-user:********@mirror.example.com"
# Long enough that an error quoting its first 40 characters cuts it before the @.
LONG_SECRET = "averyveryverylongsecretpassword"
LONG_MIRROR = "http://u:%s@mirror.example.com" % LONG_SECRET


def assert_no_secret(outcome, *secrets):
    """No secret, nor its first half, anywhere in what the module printed (result, diff, invocation, msg)."""
    for secret in secrets or (SECRET,):
        assert secret not in outcome.stdout
        assert secret[:len(secret) // 2] not in outcome.stdout


def test_valid_proxy_credentials_are_masked_everywhere(run_module, daemon_json):
    daemon_json.parent.mkdir()
    settings = {"proxies": {"http-proxy": PROXY, "https-proxy": PROXY, "no-proxy": "localhost"},
                "registry-mirrors": [MIRROR]}
    outcome = run_module(settings=settings)
    assert not outcome.failed and outcome.changed
    assert_no_secret(outcome)
    assert outcome.result["config"]["proxies"]["http-proxy"] == PROXY_SHOWN
    assert outcome.result["config"]["registry-mirrors"] == [MIRROR_SHOWN]
    assert PROXY_SHOWN in outcome.result["diff"]["after"]
    assert outcome.result["invocation"]["module_args"]["settings"]["proxies"]["http-proxy"] == PROXY_SHOWN
    # The file itself has the real values.
    assert json.loads(daemon_json.read_text())["proxies"]["http-proxy"] == PROXY


def test_credentials_only_in_the_existing_file_are_masked(run_module, daemon_json):
    # Not in the arguments, so Ansible's no_log masking does not know them: the module masks.
    write(daemon_json, {"icc": True, "proxies": {"http-proxy": PROXY}})
    outcome = run_module(settings={"icc": False})
    assert outcome.changed
    assert_no_secret(outcome)
    assert PROXY_SHOWN in outcome.result["diff"]["before"]
    assert outcome.result["config"]["proxies"] == {"http-proxy": PROXY_SHOWN}


def test_credentials_in_a_broken_file_are_masked_in_the_diff(run_module, daemon_json):
    write(daemon_json, '{"proxies": {"http-proxy": "%s"},' % PROXY)
    outcome = run_module(settings={"icc": False}, state="exact")
    assert outcome.changed
    assert_no_secret(outcome)
    assert PROXY_SHOWN in outcome.result["diff"]["before"]


@pytest.mark.parametrize("settings, shown", [
    ({"registry-mirrors": MIRROR}, "got string 'https://mirror-user:********@mirror"),
    ({"proxies": {"http-proxy": [PROXY]}}, "field 'http-proxy' must be a string, got list"),
    ({"proxies": PROXY}, "must be an object with 'http-proxy'"),
    ({"insecure-registry": [MIRROR]}, "did you mean 'insecure-registries'?"),
], ids=["mirrors-as-string", "proxy-as-list", "proxies-as-string", "unknown-key"])
def test_wrongly_typed_credentials_are_masked_in_the_error(run_module, daemon_json, settings, shown):
    write(daemon_json, {"icc": True})
    outcome = run_module(settings=settings)
    assert outcome.failed and shown in outcome.msg
    assert_no_secret(outcome)


def test_a_value_cut_short_in_an_error_leaks_no_part_of_the_password(run_module, daemon_json):
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"registry-mirrors": LONG_MIRROR})
    assert outcome.failed and "got string 'http://u:********@mirror" in outcome.msg
    assert_no_secret(outcome, LONG_SECRET)


def test_credentials_are_masked_when_the_arguments_themselves_are_refused(run_module, daemon_json):
    # Ansible's argument validation fails before main() runs its own code; it echoes the arguments.
    daemon_json.parent.mkdir()
    outcome = run_module(settings={"proxies": {"http-proxy": PROXY}}, backup="maybe")
    assert outcome.failed and "backup" in outcome.msg
    assert_no_secret(outcome)
    assert outcome.result["invocation"]["module_args"]["settings"]["proxies"]["http-proxy"] == PROXY_SHOWN


def test_dockerd_quoting_credentials_is_masked(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "dockerd", 'echo "invalid configuration: $(cat "$3")" >&2\nexit 1\n')
    write(daemon_json, {"icc": True})
    outcome = run_module(settings={"proxies": {"http-proxy": PROXY}}, validate_with_dockerd=True)
    assert outcome.failed and PROXY_SHOWN in outcome.msg
    assert_no_secret(outcome)


def test_credentials_on_the_dockerd_command_line_are_masked(run_module, daemon_json, bin_dir):
    fake_program(bin_dir, "systemctl", 'echo "ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd '
                                       '--registry-mirror %s ; ignore_errors=no ; pid=0 }"\n' % MIRROR)
    daemon_json.parent.mkdir()
    outcome = run_module(settings={"icc": False}, dockerd_args=None)
    assert not outcome.failed
    assert outcome.result["dockerd_args"] == ["/usr/sbin/dockerd", "--registry-mirror", MIRROR_SHOWN]
    assert_no_secret(outcome)
