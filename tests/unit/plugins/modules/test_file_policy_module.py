# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the file_policy module: its real main() through the harness, real files under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
import socket
import stat

from ansible_collections.bulwark.hardening.plugins.modules import file_policy
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module as run_main

OWNERSHIP = "%s:%s" % (pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name)


def run_module(files, check_mode=False, diff=False):
    """(succeeded, result) of one file_policy run."""
    run = run_main(file_policy.main, {"files": files}, check_mode=check_mode, diff=diff)
    return not run.failed, run.result


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
        {"path": loose, "exists": True, "symlink": False, "link_target": None, "changed": True,
         "before": OWNERSHIP + " 0666", "after": OWNERSHIP + " 0644"},
        {"path": strict, "exists": True, "symlink": False, "link_target": None, "changed": False,
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
    assert result["files"] == [{"path": missing, "exists": False, "symlink": False, "link_target": None,
                                "changed": False, "before": None, "after": None}]


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


# --- symlinks are never followed; sockets are changed through a descriptor -------------

def masked_unit(tmp_path):
    """A systemd unit masked the systemd way: a link to a stand-in for /dev/null (0666)."""
    dev_null = make_file(tmp_path, "dev-null", 0o666)
    unit = tmp_path / "docker.service"
    unit.symlink_to(dev_null)
    return str(unit), dev_null


def test_a_symlink_is_reported_and_its_target_left_alone(tmp_path):
    unit, dev_null = masked_unit(tmp_path)
    ok, result = run_module([{"path": unit, "owner": "root", "group": "root", "mode": "0644", "exact_mode": True}])
    assert ok and result["changed"] is False
    assert mode_of(dev_null) == 0o666
    assert os.path.islink(unit)
    assert result["files"] == [{"path": unit, "exists": True, "symlink": True, "link_target": dev_null,
                                "changed": False, "before": None, "after": None}]


def test_a_symlink_shows_its_target_in_the_diff_and_check_mode(tmp_path):
    unit, dev_null = masked_unit(tmp_path)
    ok, result = run_module([{"path": unit, "mode": "0644"}], check_mode=True, diff=True)
    assert ok and result["changed"] is False
    line = "%s: symlink to %s, not followed\n" % (unit, dev_null)
    assert result["diff"] == {"before": line, "after": line}


def test_a_symlink_matched_by_a_glob_is_left_alone(tmp_path):
    unit, dev_null = masked_unit(tmp_path)
    real = make_file(tmp_path, "docker.socket", 0o666)
    ok, result = run_module([{"path": str(tmp_path / "docker.*"), "mode": "0644"}])
    assert ok and [entry["path"] for entry in result["files"]] == [unit, real]  # docker.service, docker.socket
    assert [entry["symlink"] for entry in result["files"]] == [True, False]
    assert (mode_of(real), mode_of(dev_null)) == (0o644, 0o666)


def test_a_symlinked_directory_with_a_trailing_slash_is_not_followed(tmp_path):
    real_dir = tmp_path / "docker-real"
    real_dir.mkdir(mode=0o777)
    os.chmod(real_dir, 0o777)
    link = tmp_path / "docker"
    link.symlink_to(real_dir)
    ok, result = run_module([{"path": str(link) + "/", "mode": "0755"}])
    assert ok and result["files"][0]["symlink"] is True
    assert mode_of(real_dir) == 0o777


def test_a_symlinked_directory_in_the_middle_of_the_path_is_followed(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (tmp_path / "var-run").symlink_to(run_dir)
    real = make_file(run_dir, "docker.pid", 0o666)
    ok, result = run_module([{"path": str(tmp_path / "var-run" / "docker.pid"), "mode": "0644"}])
    assert ok and result["changed"] is True and result["files"][0]["symlink"] is False
    assert mode_of(real) == 0o644


def test_a_socket_mode_is_fixed(tmp_path):
    path = str(tmp_path / "docker.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(path)
        os.chmod(path, 0o777)
        owner, group = OWNERSHIP.split(":")
        ok, result = run_module([{"path": path, "owner": owner, "group": group, "mode": "0660"}])
        assert ok and result["changed"] is True
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert mode_of(path) == 0o660
        assert result["files"][0]["after"] == OWNERSHIP + " 0660"
    finally:
        server.close()
