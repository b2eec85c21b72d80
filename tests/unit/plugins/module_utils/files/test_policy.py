# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the file_policy library: plain data and real files under tmp_path."""

from __future__ import annotations

import errno
import grp
import os
import pwd
import socket
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import (
    FileState,
    FoundFile,
    PolicyError,
    apply_plan,
    describe,
    diff_text,
    expand_rules,
    needs_change,
    open_descriptor,
    parse_mode,
    plan_all,
    plan_change,
    read_state,
    report,
    target_mode,
)

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def make_file(directory, name, mode):
    path = directory / name
    path.write_text("x")
    os.chmod(path, mode)
    return str(path)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class FakeUser:
    def __init__(self, uid):
        self.pw_uid = uid


class FakeGroup:
    def __init__(self, gid):
        self.gr_gid = gid


def fake_getpwnam(name):
    users = {"root": 0, "alice": 1000}
    if name not in users:
        raise KeyError(name)
    return FakeUser(users[name])


def fake_getgrnam(name):
    groups = {"root": 0, "docker": 999}
    if name not in groups:
        raise KeyError(name)
    return FakeGroup(groups[name])


@pytest.mark.parametrize("current, maximum, expected", [
    (0o666, 0o644, 0o644),   # bits beyond the maximum are cleared
    (0o600, 0o644, 0o600),   # a stricter file is left alone: no bit is added
    (0o4755, 0o755, 0o755),  # setuid counts as a bit beyond the mask
    (0o1777, 0o777, 0o777),  # so does sticky
    (0o2770, 0o2775, 0o2770),  # setgid is kept when the mask allows it
    (0o777, 0o400, 0o400),
])
def test_mode_is_a_maximum(current, maximum, expected):
    assert target_mode(current, maximum) == expected


def test_exact_mode_sets_the_mode_including_added_bits():
    assert target_mode(0o600, 0o644, exact_mode=True) == 0o644
    assert target_mode(0o4755, 0o755, exact_mode=True) == 0o755


@pytest.mark.parametrize("text, expected", [
    ("0644", 0o644), ("644", 0o644), ("04755", 0o4755), ("0o600", 0o600), (420, 0o644),
])
def test_parse_mode_accepts_octal_strings_and_yaml_integers(text, expected):
    assert parse_mode(text) == expected


@pytest.mark.parametrize("bad", ["u+rw", "0899", "12", "107777", True, 0o10000])
def test_parse_mode_rejects_what_is_not_an_octal_mode(bad):
    with pytest.raises(PolicyError, match="mode"):
        parse_mode(bad)


def test_plan_change_resolves_owner_and_group_by_name():
    rule = {"path": "/run/docker.sock", "owner": "root", "group": "docker", "mode": "0660"}
    current = FileState(1000, 1000, 0o666)
    after = plan_change(rule, current, fake_getpwnam, fake_getgrnam)
    assert after == FileState(0, 999, 0o660)


def test_plan_change_leaves_owner_and_group_alone_when_not_given():
    after = plan_change({"mode": "0644"}, FileState(1000, 999, 0o644), fake_getpwnam, fake_getgrnam)
    assert after == FileState(1000, 999, 0o644)


def test_plan_change_names_a_missing_user():
    with pytest.raises(PolicyError, match="user 'nosuchuser' does not exist"):
        plan_change({"owner": "nosuchuser", "mode": "0644"}, FileState(0, 0, 0o644),
                    fake_getpwnam, fake_getgrnam)


def test_plan_change_names_a_missing_group():
    with pytest.raises(PolicyError, match="group 'nosuchgroup' does not exist"):
        plan_change({"group": "nosuchgroup", "mode": "0644"}, FileState(0, 0, 0o644),
                    fake_getpwnam, fake_getgrnam)


def test_plan_change_accepts_numeric_ids_without_a_name():
    after = plan_change({"owner": "4321", "group": "4322", "mode": "0644"}, FileState(0, 0, 0o644),
                        fake_getpwnam, fake_getgrnam)
    assert (after.uid, after.gid) == (4321, 4322)


def test_plan_change_on_a_missing_file_plans_nothing():
    assert plan_change({"mode": "0644"}, None) is None


def test_expand_rules_one_rule_per_match_sorted():
    def fake_glob(pattern):
        return ["/etc/docker/certs.d/b/ca.crt", "/etc/docker/certs.d/a/ca.crt"]

    rules = [{"path": "/etc/docker/certs.d/*/*.crt", "mode": "0444"},
             {"path": "/etc/docker/daemon.json", "mode": "0644"}]
    paths = [rule["path"] for rule in expand_rules(rules, fake_glob)]
    assert paths == ["/etc/docker/certs.d/a/ca.crt", "/etc/docker/certs.d/b/ca.crt",
                     "/etc/docker/daemon.json"]


def test_expand_rules_keeps_an_unmatched_glob_as_one_missing_path():
    rules = [{"path": "/nowhere/*.crt", "mode": "0444"}]
    assert expand_rules(rules, lambda pattern: []) == rules


def test_expand_rules_with_real_files(tmp_path):
    for registry in ("a", "b"):
        (tmp_path / registry).mkdir()
        make_file(tmp_path / registry, "ca.crt", 0o644)
        make_file(tmp_path / registry, "client.key", 0o600)
    expanded = expand_rules([{"path": str(tmp_path / "*" / "*.crt"), "mode": "0444"}])
    assert [rule["path"] for rule in expanded] == [str(tmp_path / "a" / "ca.crt"),
                                                   str(tmp_path / "b" / "ca.crt")]


def test_read_state_does_not_follow_a_symlink(tmp_path):
    target = make_file(tmp_path, "docker.service", 0o664)
    link = tmp_path / "link.service"
    link.symlink_to(target)
    found = read_state(str(link))
    assert found.link_target == target
    assert found.identity == (os.lstat(link).st_dev, os.lstat(link).st_ino)
    assert found.identity != (os.stat(target).st_dev, os.stat(target).st_ino)


def test_read_state_of_a_dangling_symlink_is_a_symlink(tmp_path):
    link = tmp_path / "docker.service"
    link.symlink_to(tmp_path / "absent")
    assert read_state(str(link)).link_target == str(tmp_path / "absent")


def test_read_state_of_a_file(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o640)
    found = read_state(path)
    assert found == FoundFile(FileState(os.getuid(), os.getgid(), 0o640),
                              (os.stat(path).st_dev, os.stat(path).st_ino), None)


def test_read_state_of_a_missing_file_is_none(tmp_path):
    assert read_state(str(tmp_path / "absent")) is None


def test_plan_all_and_apply_on_real_files(tmp_path):
    loose = make_file(tmp_path, "daemon.json", 0o666)
    strict = make_file(tmp_path, "key.pem", 0o600)
    plans = plan_all([{"path": loose, "mode": "0644"}, {"path": strict, "mode": "0644"}])
    assert [needs_change(plan) for plan in plans] == [True, False]
    for plan in plans:
        apply_plan(plan)
    assert (mode_of(loose), mode_of(strict)) == (0o644, 0o600)


def test_a_symlink_is_planned_as_unchanged_and_its_target_left_alone(tmp_path):
    dev_null = make_file(tmp_path, "dev-null", 0o666)  # stands in for /dev/null
    unit = tmp_path / "docker.service"
    unit.symlink_to(dev_null)
    plans = plan_all([{"path": str(unit), "mode": "0644", "exact_mode": True},
                      {"path": str(unit), "mode": "0600", "state_if_missing": "fail"}])
    assert [(plan.exists, plan.link_target, needs_change(plan)) for plan in plans] == [(True, dev_null, False)] * 2
    for plan in plans:
        apply_plan(plan)
    assert mode_of(dev_null) == 0o666
    assert report(plans[0]) == {"path": str(unit), "exists": True, "symlink": True, "link_target": dev_null,
                                "changed": False, "before": None, "after": None}
    assert diff_text(plans[:1], "after") == "%s: symlink to %s, not followed\n" % (unit, dev_null)


def test_a_bad_rule_on_a_symlink_still_fails(tmp_path):
    link = tmp_path / "docker.service"
    link.symlink_to(make_file(tmp_path, "dev-null", 0o666))
    with pytest.raises(PolicyError, match="user 'bulwark-no-such-user' does not exist"):
        plan_all([{"path": str(link), "owner": "bulwark-no-such-user", "mode": "0644"}])


def test_apply_plan_refuses_a_path_that_became_a_symlink(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o666)
    dev_null = make_file(tmp_path, "dev-null", 0o666)
    [plan] = plan_all([{"path": path, "mode": "0644"}])
    os.unlink(path)
    os.symlink(dev_null, path)
    with pytest.raises(PolicyError, match="symlink"):
        apply_plan(plan)
    assert mode_of(dev_null) == 0o666


def test_apply_plan_refuses_a_file_replaced_after_planning(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o666)
    [plan] = plan_all([{"path": path, "mode": "0644"}])
    os.rename(make_file(tmp_path, "other.json", 0o666), path)
    with pytest.raises(PolicyError, match="replaced"):
        apply_plan(plan)
    assert mode_of(path) == 0o666


def test_apply_plan_fixes_a_socket(tmp_path):
    path = str(tmp_path / "docker.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(path)
        os.chmod(path, 0o777)
        [plan] = plan_all([{"path": path, "mode": "0660"}])
        apply_plan(plan)
        assert stat.S_ISSOCK(os.lstat(path).st_mode) and mode_of(path) == 0o660
    finally:
        server.close()


def test_open_descriptor_falls_back_to_o_path_for_a_socket(tmp_path):
    path = str(tmp_path / "docker.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(path)
        handle = open_descriptor(path)
        try:
            assert handle.path_only
            assert stat.S_ISSOCK(handle.stat().st_mode)
        finally:
            handle.close()
    finally:
        server.close()


def test_open_descriptor_does_not_block_on_a_fifo(tmp_path):
    path = str(tmp_path / "fifo")
    os.mkfifo(path, 0o666)
    handle = open_descriptor(path)
    try:
        assert not handle.path_only and stat.S_ISFIFO(handle.stat().st_mode)
    finally:
        handle.close()


@pytest.mark.parametrize("error", [errno.ENXIO, errno.EACCES], ids=["socket", "unreadable"])
def test_open_descriptor_uses_o_path_when_reading_is_refused(error):
    flags_seen = []

    def open_fn(path, flags):
        flags_seen.append(flags)
        if len(flags_seen) == 1:
            raise OSError(error, os.strerror(error), path)
        return 42

    handle = open_descriptor("/run/docker.sock/", open_fn=open_fn)
    assert (handle.fd, handle.path_only) == (42, True)
    assert [bool(flags & os.O_NOFOLLOW) for flags in flags_seen] == [True, True]
    assert flags_seen[1] & os.O_PATH and not flags_seen[0] & os.O_PATH


def test_open_descriptor_never_opens_a_symlink_target(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(make_file(tmp_path, "target", 0o644))
    with pytest.raises(OSError) as raised:
        open_descriptor(str(link))
    assert raised.value.errno == errno.ELOOP


def test_plan_all_ignores_a_missing_file_by_default(tmp_path):
    plans = plan_all([{"path": str(tmp_path / "absent"), "mode": "0644"}])
    assert plans[0].exists is False
    assert not needs_change(plans[0])


def test_plan_all_fails_on_a_required_missing_file_before_any_change(tmp_path):
    loose = make_file(tmp_path, "daemon.json", 0o666)
    rules = [{"path": loose, "mode": "0644"},
             {"path": str(tmp_path / "absent"), "mode": "0644", "state_if_missing": "fail"}]
    with pytest.raises(PolicyError, match="absent"):
        plan_all(rules)
    assert mode_of(loose) == 0o666


def test_plan_all_chains_rules_on_the_same_path(tmp_path):
    path = make_file(tmp_path, "ca.pem", 0o666)
    plans = plan_all([{"path": path, "mode": "0644"}, {"path": path, "mode": "0444"}])
    assert [plan.after.mode for plan in plans] == [0o644, 0o444]
    assert plans[1].before == plans[0].after


def test_owner_and_group_by_name_with_the_current_user(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o644)
    plans = plan_all([{"path": path, "owner": ME, "group": MY_GROUP, "mode": "0644"}])
    assert plans[0].after == FileState(os.getuid(), os.getgid(), 0o644)
    assert not needs_change(plans[0])


def test_unknown_user_fails_with_its_name(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o644)
    with pytest.raises(PolicyError, match="user 'bulwark-no-such-user' does not exist"):
        plan_all([{"path": path, "owner": "bulwark-no-such-user", "mode": "0644"}])


class FakeStat:
    def __init__(self, uid, gid, mode, inode=7):
        self.st_uid, self.st_gid, self.st_mode = uid, gid, stat.S_IFREG | mode
        self.st_dev, self.st_ino = 1, inode


class FakeDescriptor:
    """Records what apply_plan does; chown clears setgid as the kernel does."""

    def __init__(self, state, calls):
        self.state = state
        self.calls = calls

    def stat(self):
        return self.state

    def chown(self, uid, gid):
        self.calls.append(("chown", uid, gid))
        self.state = FakeStat(uid, gid, stat.S_IMODE(self.state.st_mode) & ~0o6000)

    def chmod(self, mode):
        self.calls.append(("chmod", mode))

    def close(self):
        self.calls.append(("close",))


def planned_file(state):
    return plan_all([{"path": "/f", "owner": "root", "group": "docker", "mode": "02755"}],
                    read_state_fn=lambda path: FoundFile(state, (1, 7), None),
                    getpwnam=fake_getpwnam, getgrnam=fake_getgrnam)[0]


def test_apply_plan_chowns_then_restores_the_planned_mode():
    calls = []
    plan = planned_file(FileState(1000, 1000, 0o2755))

    def open_fn(path):
        calls.append(("open", path))
        return FakeDescriptor(FakeStat(1000, 1000, 0o2755), calls)

    apply_plan(plan, open_fn=open_fn)
    assert calls == [("open", "/f"), ("chown", 0, 999), ("chmod", 0o2755), ("close",)]


def test_apply_plan_changes_nothing_on_another_inode():
    calls = []
    plan = planned_file(FileState(1000, 1000, 0o2755))
    with pytest.raises(PolicyError, match="/f was replaced"):
        apply_plan(plan, open_fn=lambda path: FakeDescriptor(FakeStat(1000, 1000, 0o2755, inode=8), calls))
    assert calls == [("close",)]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_real_chown_as_root(tmp_path):
    path = make_file(tmp_path, "docker.sock", 0o666)
    nobody = pwd.getpwnam("nobody")
    for plan in plan_all([{"path": path, "owner": "nobody", "mode": "0660"}]):
        apply_plan(plan)
    result = os.stat(path)
    assert (result.st_uid, stat.S_IMODE(result.st_mode)) == (nobody.pw_uid, 0o660)


def test_describe_and_report():
    state = FileState(0, 0, 0o644)
    assert describe(state) == "root:root 0644"
    assert describe(FileState(0, 0, 0o4755)) == "root:root 04755"
    assert describe(None) == "absent"
    assert describe(FileState(54321, 54321, 0o600)).startswith("54321:")


def test_diff_text_one_line_per_file(tmp_path):
    path = make_file(tmp_path, "daemon.json", 0o664)
    missing = str(tmp_path / "absent")
    plans = plan_all([{"path": path, "mode": "0644"}, {"path": missing, "mode": "0644"}])
    me = "%s:%s" % (ME, MY_GROUP)
    assert diff_text(plans, "before") == "%s: %s 0664\n%s: absent\n" % (path, me, missing)
    assert diff_text(plans, "after") == "%s: %s 0644\n%s: absent\n" % (path, me, missing)
    assert report(plans[1]) == {"path": missing, "exists": False, "symlink": False, "link_target": None,
                                "changed": False, "before": None, "after": None}
