# -*- coding: utf-8 -*-
"""Unit tests for the file_policy module: main() with patched arguments, real files under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.bulwark.hardening.plugins.modules import file_policy

OWNERSHIP = "%s:%s" % (pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name)


class ExitJson(Exception):
    """exit_json was called; carries the result."""


class FailJson(Exception):
    """fail_json was called; carries the result."""


@pytest.fixture(autouse=True)
def capture_exit(monkeypatch):
    def exit_json(self, **result):
        raise ExitJson(result)

    def fail_json(self, **result):
        raise FailJson(result)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run_module(files, check_mode=False, diff=False):
    args = {"files": files, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with patch_module_args(args):
        with pytest.raises((ExitJson, FailJson)) as outcome:
            file_policy.main()
    return outcome.type is ExitJson, outcome.value.args[0]


def make_file(directory, name, mode):
    path = directory / name
    path.write_text("x")
    os.chmod(path, mode)
    return str(path)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_clears_bits_beyond_the_maximum_and_reports_it(tmp_path):
    loose = make_file(tmp_path, "daemon.json", 0o666)
    strict = make_file(tmp_path, "key.pem", 0o600)
    ok, result = run_module([{"path": loose, "mode": "0644"}, {"path": strict, "mode": "0644"}])
    assert ok and result["changed"] is True
    assert (mode_of(loose), mode_of(strict)) == (0o644, 0o600)
    assert result["files"] == [
        {"path": loose, "exists": True, "changed": True,
         "before": OWNERSHIP + " 0666", "after": OWNERSHIP + " 0644"},
        {"path": strict, "exists": True, "changed": False,
         "before": OWNERSHIP + " 0600", "after": OWNERSHIP + " 0600"},
    ]


def test_second_run_is_unchanged(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o666)
    run_module([{"path": path, "mode": "0644"}])
    ok, result = run_module([{"path": path, "mode": "0644"}])
    assert ok and result["changed"] is False


def test_setuid_is_stripped_by_a_mask_without_it(tmp_path):
    path = make_file(tmp_path, "docker-proxy", 0o4755)
    ok, result = run_module([{"path": path, "mode": "0755"}])
    assert ok and result["changed"] and mode_of(path) == 0o755


def test_exact_mode_adds_bits(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o600)
    ok, result = run_module([{"path": path, "mode": "0644", "exact_mode": True}])
    assert ok and result["changed"] and mode_of(path) == 0o644


def test_unquoted_yaml_mode_integer_is_the_mode_itself(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o666)
    ok, dummy = run_module([{"path": path, "mode": 0o644}])
    assert ok and mode_of(path) == 0o644


def test_glob_applies_to_every_match(tmp_path):
    for registry in ("registry-a", "registry-b"):
        (tmp_path / registry).mkdir()
        make_file(tmp_path / registry, "ca.crt", 0o644)
    key = make_file(tmp_path / "registry-a", "client.key", 0o644)
    ok, result = run_module([{"path": str(tmp_path / "*" / "*.crt"), "mode": "0444"}])
    assert ok and [entry["path"] for entry in result["files"]] == [
        str(tmp_path / "registry-a" / "ca.crt"), str(tmp_path / "registry-b" / "ca.crt")]
    assert all(mode_of(entry["path"]) == 0o444 for entry in result["files"])
    assert mode_of(key) == 0o644


def test_missing_file_is_ignored_by_default(tmp_path):
    missing = str(tmp_path / "certs.d" / "*.crt")
    ok, result = run_module([{"path": missing, "mode": "0444"}])
    assert ok and result["changed"] is False
    assert result["files"] == [{"path": missing, "exists": False, "changed": False,
                                "before": None, "after": None}]


def test_missing_required_file_fails_and_changes_nothing(tmp_path):
    loose = make_file(tmp_path, "daemon.json", 0o666)
    missing = str(tmp_path / "docker.service")
    ok, result = run_module([{"path": loose, "mode": "0644"},
                             {"path": missing, "mode": "0644", "state_if_missing": "fail"}])
    assert not ok and missing in result["msg"]
    assert mode_of(loose) == 0o666


def test_check_mode_reports_but_changes_nothing(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o666)
    ok, result = run_module([{"path": path, "mode": "0644"}], check_mode=True)
    assert ok and result["changed"] is True
    assert result["files"][0]["after"] == OWNERSHIP + " 0644"
    assert mode_of(path) == 0o666


def test_diff_has_one_line_per_file(tmp_path):
    loose = make_file(tmp_path, "docker.socket", 0o664)
    strict = make_file(tmp_path, "docker.service", 0o644)
    ok, result = run_module([{"path": loose, "mode": "0644"}, {"path": strict, "mode": "0644"}],
                            check_mode=True, diff=True)
    assert ok
    assert result["diff"] == {
        "before": "%s: %s 0664\n%s: %s 0644\n" % (loose, OWNERSHIP, strict, OWNERSHIP),
        "after": "%s: %s 0644\n%s: %s 0644\n" % (loose, OWNERSHIP, strict, OWNERSHIP),
    }


def test_no_diff_unless_asked(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o664)
    dummy, result = run_module([{"path": path, "mode": "0644"}])
    assert "diff" not in result


def test_owner_and_group_by_name(tmp_path):
    path = make_file(tmp_path, "docker.sock", 0o666)
    owner, group = OWNERSHIP.split(":")
    ok, result = run_module([{"path": path, "owner": owner, "group": group, "mode": "0660"}])
    assert ok and result["files"][0]["after"] == OWNERSHIP + " 0660"
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (os.getuid(), os.getgid())


def test_unknown_user_fails_with_its_name_before_any_change(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o666)
    ok, result = run_module([{"path": path, "owner": "bulwark-no-such-user", "mode": "0644"}])
    assert not ok and "bulwark-no-such-user" in result["msg"]
    assert mode_of(path) == 0o666


def test_bad_mode_fails_clearly(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o644)
    ok, result = run_module([{"path": path, "mode": "u+rw"}])
    assert not ok and "u+rw" in result["msg"]
