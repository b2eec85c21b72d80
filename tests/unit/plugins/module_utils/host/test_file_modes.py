# -*- coding: utf-8 -*-
"""Unit tests for host.file_modes: find's listing parsed, and plans that really chmod files under tmp_path."""

from __future__ import annotations

import os
import stat
import subprocess

from ansible_collections.bulwark.hardening.plugins.module_utils.host import area as host_area
from ansible_collections.bulwark.hardening.plugins.module_utils.host import file_modes

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import FakeRun


def record(mode, kind, path):
    """One record of find_command's -printf '%m %y %p\\0'."""
    return "%o %s %s\0" % (mode, kind, path)


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_parse_find_excepts_sticky_world_writable_directories():
    output = record(0o1777, "d", "/var/tmp") + record(0o777, "d", "/srv/drop")
    assert file_modes.parse_find(output) == (["/srv/drop"], [])


def test_parse_find_reports_a_world_writable_file():
    assert file_modes.parse_find(record(0o666, "f", "/etc/open file")) == (["/etc/open file"], [])


def test_parse_find_reports_setuid_and_setgid_files():
    output = record(0o4755, "f", "/usr/bin/su") + record(0o2755, "f", "/usr/bin/crontab")
    assert file_modes.parse_find(output) == ([], ["/usr/bin/crontab", "/usr/bin/su"])


def test_parse_find_reports_a_world_writable_setuid_file_in_both_lists():
    assert file_modes.parse_find(record(0o4777, "f", "/usr/local/bin/bad")) == (["/usr/local/bin/bad"],
                                                                                ["/usr/local/bin/bad"])


def test_parse_find_ignores_an_empty_listing_and_the_trailing_separator():
    assert file_modes.parse_find("") == ([], [])
    assert file_modes.parse_find(record(0o644, "f", "/etc/hosts")) == ([], [])


def test_parse_find_keeps_paths_with_spaces_and_newlines_whole():
    assert file_modes.parse_find(record(0o666, "f", "/etc/a b\nc")) == (["/etc/a b\nc"], [])


def test_find_command_stays_on_each_roots_filesystem():
    argv = file_modes.find_command(["/etc", "/usr"], [])
    assert argv[:3] == ["find", "/etc", "/usr"]
    assert "-xdev" in argv
    assert "-prune" not in argv
    assert argv[-2:] == ["-printf", "%m %y %p\\0"]


def test_find_command_prunes_the_excluded_paths():
    argv = file_modes.find_command(["/var"], ["/var/lib/docker", "/var/lib/containerd"])
    start = argv.index("-xdev") + 1
    assert argv[start:start + 9] == ["(", "-path", "/var/lib/containerd", "-o", "-path", "/var/lib/docker", ")",
                                     "-prune", "-o"]


def make_tree(tmp_path):
    """Real files with the modes under test; returns {name: path}."""
    root = tmp_path / "root"
    root.mkdir()
    paths = {}
    for name, mode, kind in [("open.conf", 0o666, "f"), ("drop", 0o777, "d"), ("sticky", 0o1777, "d"),
                             ("suid-tool", 0o4755, "f"), ("sgid-tool", 0o2755, "f"), ("plain", 0o644, "f"),
                             ("both", 0o4777, "f")]:
        path = root / name
        if kind == "d":
            path.mkdir()
        else:
            path.write_text("x")
        os.chmod(path, mode)
        paths[name] = str(path)
    excluded = root / "excluded"
    excluded.mkdir()
    (excluded / "open-but-excluded").write_text("x")
    os.chmod(excluded / "open-but-excluded", 0o666)
    paths["root"], paths["excluded"] = str(root), str(excluded)
    paths["open-but-excluded"] = str(excluded / "open-but-excluded")
    return paths


def find_output(paths, names):
    """What find would print for the named files, from their real modes."""
    output = ""
    for name in names:
        info = os.lstat(paths[name])
        output += record(stat.S_IMODE(info.st_mode), "d" if stat.S_ISDIR(info.st_mode) else "f", paths[name])
    return output


def test_plan_removes_write_for_others_and_the_setid_bits_asked_for(tmp_path):
    paths = make_tree(tmp_path)
    listing = find_output(paths, ["open.conf", "drop", "sticky", "suid-tool", "sgid-tool", "both"])
    run = FakeRun({("find",): (0, listing, "")})
    plan = file_modes.plan([paths["root"]], [paths["excluded"]],
                           [paths["suid-tool"], paths["plain"], paths["both"]], run)
    assert plan.report["world_writable"] == sorted([paths["open.conf"], paths["drop"], paths["both"]])
    assert plan.report["setuid_setgid"] == sorted([paths["suid-tool"], paths["sgid-tool"], paths["both"]])
    # Only files that are setid lose their bits: plain is in the list but has none.
    assert plan.report["setid_removed"] == [paths["suid-tool"], paths["both"]]
    assert any("3 setuid/setgid files" in note and "removing the bits" in note for note in plan.notes)
    # Planning changed nothing yet.
    assert mode_of(paths["open.conf"]) == 0o666 and mode_of(paths["suid-tool"]) == 0o4755

    host_area.carry_out(plan, run)
    assert mode_of(paths["open.conf"]) == 0o664
    assert mode_of(paths["drop"]) == 0o775
    assert mode_of(paths["sticky"]) == 0o1777
    assert mode_of(paths["suid-tool"]) == 0o755
    assert mode_of(paths["sgid-tool"]) == 0o2755  # reported, not in setid_remove
    assert mode_of(paths["plain"]) == 0o644
    assert mode_of(paths["both"]) == 0o775
    assert run.calls[0][0] == "find"


def test_the_plan_describes_each_chmod(tmp_path):
    paths = make_tree(tmp_path)
    run = FakeRun({("find",): (0, find_output(paths, ["open.conf"]), "")})
    plan = file_modes.plan([paths["root"]], [], [], run)
    assert [action.description for action in plan.actions] == ["%s: 0666 -> 0664" % paths["open.conf"]]
    assert plan.notes == []


def test_nothing_to_change_plans_no_action(tmp_path):
    paths = make_tree(tmp_path)
    run = FakeRun({("find",): (0, find_output(paths, ["sticky", "sgid-tool"]), "")})
    plan = file_modes.plan([paths["root"]], [], [], run)
    assert plan.actions == [] and not plan.changed
    assert plan.report["setuid_setgid"] == [paths["sgid-tool"]]


def test_roots_that_do_not_exist_are_not_walked(tmp_path):
    run = FakeRun()
    plan = file_modes.plan([str(tmp_path / "absent")], [], [], run)
    assert run.calls == [] and plan.actions == []


def test_find_exiting_1_on_an_unreadable_directory_still_counts_what_it_listed(tmp_path):
    paths = make_tree(tmp_path)
    run = FakeRun({("find",): (1, find_output(paths, ["open.conf"]), "find: '/x': Permission denied")})
    plan = file_modes.plan([paths["root"]], [], [], run)
    assert plan.report["world_writable"] == [paths["open.conf"]]


def real_find(argv):
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    return result.returncode, result.stdout, result.stderr


def test_the_find_command_lists_what_parse_find_expects_with_gnu_find(tmp_path):
    # The real find(1): the predicates and the pruning select what the area acts on.
    paths = make_tree(tmp_path)
    writable, setid = file_modes.scan([paths["root"]], [paths["excluded"]], real_find)
    assert writable == sorted([paths["open.conf"], paths["drop"], paths["both"]])
    assert setid == sorted([paths["suid-tool"], paths["sgid-tool"], paths["both"]])
    assert paths["open-but-excluded"] not in writable
