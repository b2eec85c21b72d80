# -*- coding: utf-8 -*-
"""Unit tests for the file_policy library: plain data and real files under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import (
    FileState,
    PolicyError,
    apply_plan,
    describe,
    diff_text,
    expand_rules,
    needs_change,
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


def test_read_state_follows_symlinks(tmp_path):
    target = make_file(tmp_path, "docker.service", 0o664)
    link = tmp_path / "link.service"
    link.symlink_to(target)
    assert read_state(str(link)).mode == 0o664


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


def test_apply_plan_through_a_symlink_changes_the_target(tmp_path):
    target = make_file(tmp_path, "docker.socket", 0o666)
    link = tmp_path / "docker.socket.link"
    link.symlink_to(target)
    for plan in plan_all([{"path": str(link), "mode": "0644"}]):
        apply_plan(plan)
    assert mode_of(target) == 0o644


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


def test_apply_plan_chowns_then_restores_the_planned_mode():
    calls = []
    plan = plan_all([{"path": "/f", "owner": "root", "group": "docker", "mode": "02755"}],
                    read_state_fn=lambda path: FileState(1000, 1000, 0o2755),
                    getpwnam=fake_getpwnam, getgrnam=fake_getgrnam)[0]

    def state_after_chown(path):
        # The kernel cleared setgid on chown; apply_plan must put it back.
        return FileState(0, 999, 0o755)

    apply_plan(plan, chown_fn=lambda *args: calls.append(("chown",) + args),
               chmod_fn=lambda *args: calls.append(("chmod",) + args),
               read_state_fn=state_after_chown)
    assert calls == [("chown", "/f", 0, 999), ("chmod", "/f", 0o2755)]


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
    assert report(plans[1]) == {"path": missing, "exists": False, "changed": False,
                                "before": None, "after": None}
