# -*- coding: utf-8 -*-
"""Unit tests for host.basics: login.defs edits, password aging of existing accounts, time sync, AppArmor, upgrades."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.host import basics

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import host_env, reader

LOGIN_DEFS = """#
# /etc/login.defs - Configuration control definitions for the login package.
#
MAIL_DIR        /var/mail
#PASS_MAX_DAYS  42
PASS_MAX_DAYS   99999
PASS_MIN_DAYS   0
UMASK           022
UID_MIN                  1000
UID_MAX                 60000
  UMASK 002
"""
PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
bob:x:1001:1001:Bob:/home/bob:/bin/bash
carol:x:1002:1002:Carol:/home/carol:/bin/bash
dave:x:1003:1003:Dave:/home/dave:/bin/bash
erin:x:1004:1004:Erin:/home/erin:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""
# name:hash:lastchange:min:max:warn:inactive:expire:
SHADOW = """root:$y$j9T$abc:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
alice:$y$j9T$def:19700:0:99999:7:::
bob:$y$j9T$ghi:19700:1:365:7:::
carol:!$y$j9T$jkl:19700:0:99999:7:::
dave::19700:0:99999:7:::
erin:$y$j9T$mno:19700:1:99999:14:::
nobody:$y$j9T$pqr:19700:0:99999:7:::
"""
AGING = {"PASS_MAX_DAYS": "365", "PASS_MIN_DAYS": "1", "PASS_WARN_AGE": "7"}


def settings(**changes):
    """The basics request with every part off; turn on the one under test."""
    base = dict(unattended_upgrades=False, auto_upgrades_path=None, core_dumps_off=False, core_limits_path=None,
                coredump_conf_path=None, login_defs={}, age_existing_accounts=False, time_sync=False, apparmor=False)
    base.update(changes)
    return base


# --- login.defs ----------------------------------------------------------------------------------

def test_edit_login_defs_rewrites_the_first_active_line_in_place():
    text = basics.edit_login_defs(LOGIN_DEFS, {"PASS_MAX_DAYS": "365"})
    lines = text.splitlines()
    assert "PASS_MAX_DAYS\t365" in lines
    assert lines.index("PASS_MAX_DAYS\t365") == LOGIN_DEFS.splitlines().index("PASS_MAX_DAYS   99999")
    assert "#PASS_MAX_DAYS  42" in lines  # comments stay as they are
    assert "PASS_MAX_DAYS   99999" not in lines


def test_edit_login_defs_comments_out_later_duplicates():
    lines = basics.edit_login_defs(LOGIN_DEFS, {"UMASK": "027"}).splitlines()
    assert lines.count("UMASK\t027") == 1
    assert "#   UMASK 002" in lines  # the later "  UMASK 002", commented out
    assert [line for line in lines if line.strip().startswith("UMASK")] == ["UMASK\t027"]


def test_edit_login_defs_appends_missing_keywords():
    text = basics.edit_login_defs(LOGIN_DEFS, {"PASS_WARN_AGE": "7", "ENCRYPT_METHOD": "YESCRYPT"})
    assert text.endswith("PASS_WARN_AGE\t7\nENCRYPT_METHOD\tYESCRYPT\n")


def test_edit_login_defs_leaves_other_lines_alone():
    text = basics.edit_login_defs(LOGIN_DEFS, {"PASS_MIN_DAYS": "1"})
    assert "MAIL_DIR        /var/mail" in text.splitlines()
    assert "UID_MIN                  1000" in text.splitlines()


def test_edit_login_defs_applied_twice_gives_the_same_text():
    wanted = {"UMASK": "027", "PASS_MAX_DAYS": "365", "PASS_WARN_AGE": "7"}
    once = basics.edit_login_defs(LOGIN_DEFS, wanted)
    assert basics.edit_login_defs(once, wanted) == once


def test_login_defs_numbers_are_read_from_active_lines_with_a_default():
    assert basics.login_defs_number(LOGIN_DEFS, "UID_MIN", 500) == 1000
    assert basics.login_defs_number(LOGIN_DEFS, "PASS_MAX_DAYS", 0) == 99999  # not the commented 42
    assert basics.login_defs_number(LOGIN_DEFS, "SYS_UID_MIN", 100) == 100


# --- password aging ---------------------------------------------------------------------------------

def test_human_accounts_to_age_takes_only_the_uid_range_with_usable_passwords_and_differing_fields():
    found = dict(basics.human_accounts_to_age(SHADOW, PASSWD, 1000, 60000, AGING))
    # root and daemon: below UID_MIN; nobody: above UID_MAX; carol: locked; dave: empty hash; bob: already aged.
    assert sorted(found) == ["alice", "erin"]
    assert found["alice"] == ["--maxdays", "365", "--mindays", "1"]
    assert found["erin"] == ["--maxdays", "365", "--warndays", "7"]


def test_human_accounts_to_age_skips_shadow_entries_without_a_passwd_entry():
    assert basics.human_accounts_to_age("ghost:$y$x:19700:0:99999:7:::\n", PASSWD, 1000, 60000, AGING) == []


def test_plan_ages_existing_accounts_with_chage(tmp_path):
    read = reader({"/etc/login.defs": LOGIN_DEFS, "/etc/shadow": SHADOW, "/etc/passwd": PASSWD})
    area = basics.plan(settings(login_defs={"PASS_MAX_DAYS": 365, "PASS_MIN_DAYS": 1, "UMASK": "027"},
                                age_existing_accounts=True), host_env(), read=read)
    assert [action.argv for action in area.actions] == [
        ["chage", "--maxdays", "365", "--mindays", "1", "alice"],
        ["chage", "--maxdays", "365", "erin"],
    ]
    assert area.files[0].path == "/etc/login.defs"
    assert "UMASK\t027" in area.files[0].after and "PASS_MAX_DAYS\t365" in area.files[0].after


def test_plan_without_age_existing_accounts_only_edits_login_defs():
    read = reader({"/etc/login.defs": LOGIN_DEFS, "/etc/shadow": SHADOW, "/etc/passwd": PASSWD})
    area = basics.plan(settings(login_defs={"PASS_MAX_DAYS": 365}), host_env(), read=read)
    assert area.actions == []
    assert [change.path for change in area.files] == ["/etc/login.defs"]


def test_plan_without_a_login_defs_file_plans_nothing_for_it():
    area = basics.plan(settings(login_defs={"UMASK": "027"}, age_existing_accounts=True), host_env(), read=reader({}))
    assert area.files == [] and area.actions == []


# --- time sync ---------------------------------------------------------------------------------------

def test_a_running_time_daemon_is_kept():
    area = basics.plan(settings(time_sync=True), host_env(active_units=["chronyd", "ssh"]), read=reader({}))
    assert area.report["time_sync"] == "chronyd"
    assert area.actions == [] and area.missing_packages == []


def test_no_time_daemon_running_starts_timesyncd_when_installed(monkeypatch):
    monkeypatch.setattr(host_facts, "stat_path", lambda path, *args: FileStat(path, 0, 0, 0o755, "file")
                        if path == "/usr/lib/systemd/systemd-timesyncd" else None)
    area = basics.plan(settings(time_sync=True), host_env(), read=reader({}))
    assert area.report["time_sync"] == "systemd-timesyncd"
    assert [action.argv for action in area.actions] == [["systemctl", "enable", "--now", "systemd-timesyncd"]]


def test_no_time_daemon_and_no_timesyncd_asks_for_the_package(monkeypatch):
    monkeypatch.setattr(host_facts, "stat_path", lambda path, *args: None)
    area = basics.plan(settings(time_sync=True), host_env(), read=reader({}))
    assert area.missing_packages == ["systemd-timesyncd"]
    assert area.actions == []


def test_in_a_container_time_sync_is_left_to_the_host():
    area = basics.plan(settings(time_sync=True), host_env(in_container="docker"), read=reader({}))
    assert area.actions == [] and area.missing_packages == []
    assert "time sync: in a container the host keeps the clock" in area.notes


# --- AppArmor -------------------------------------------------------------------------------------------

APPARMOR_ON = {"/sys/module/apparmor/parameters/enabled": "Y\n",
               "/sys/kernel/security/apparmor/profiles": "docker-default (enforce)\n/usr/sbin/ntpd (enforce)\n"}


@pytest.fixture
def apparmor_parser(monkeypatch):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/sbin/" + name)


def test_apparmor_on_with_docker_default_loaded_needs_no_note(apparmor_parser):
    area = basics.plan(settings(apparmor=True), host_env(), read=reader(APPARMOR_ON))
    assert area.notes == [] and area.missing_packages == []
    assert area.report["apparmor"] == {"enabled": True, "docker_default_loaded": True}


def test_apparmor_off_in_the_kernel_is_noted():
    area = basics.plan(settings(apparmor=True), host_env(),
                       read=reader({"/sys/module/apparmor/parameters/enabled": "N\n"}))
    assert any("AppArmor is not enabled in the kernel" in note for note in area.notes)
    assert area.report["apparmor"]["enabled"] is False


def test_apparmor_on_without_apparmor_parser_asks_for_the_package(monkeypatch):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    area = basics.plan(settings(apparmor=True), host_env(), read=reader(APPARMOR_ON))
    assert area.missing_packages == ["apparmor"]


def test_apparmor_on_without_docker_default_yet_is_noted(apparmor_parser):
    files = dict(APPARMOR_ON, **{"/sys/kernel/security/apparmor/profiles": "/usr/sbin/ntpd (enforce)\n"})
    area = basics.plan(settings(apparmor=True), host_env(), read=reader(files))
    assert any("docker-default is loaded when dockerd next starts a container" in note for note in area.notes)


def test_apparmor_in_a_container_is_the_hosts_decision():
    area = basics.plan(settings(apparmor=True), host_env(in_container="podman"), read=reader({}))
    assert area.notes == ["AppArmor: in a container the host's kernel decides"]
    assert "apparmor" not in area.report


# --- unattended upgrades and core dumps ----------------------------------------------------------------

def test_unattended_upgrades_missing_asks_for_the_package_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    area = basics.plan(settings(unattended_upgrades=True, auto_upgrades_path=str(tmp_path / "20auto-upgrades")),
                       host_env(), read=reader({}))
    assert area.missing_packages == ["unattended-upgrades"]
    assert area.files == []
    assert any("unattended-upgrades is not installed" in note for note in area.notes)


def test_unattended_upgrades_installed_gets_the_periodic_config(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/usr/bin/" + name)
    path = str(tmp_path / "20auto-upgrades")
    area = basics.plan(settings(unattended_upgrades=True, auto_upgrades_path=path), host_env(), read=reader({}))
    assert [(change.path, change.after) for change in area.files] == [(path, basics.AUTO_UPGRADES)]
    assert area.missing_packages == []


def test_core_dumps_off_plans_the_limits_and_coredump_files(tmp_path):
    limits, coredump = str(tmp_path / "limits.conf"), str(tmp_path / "coredump.conf")
    area = basics.plan(settings(core_dumps_off=True, core_limits_path=limits, coredump_conf_path=coredump),
                       host_env(), read=reader({}))
    assert [(change.path, change.after) for change in area.files] == [(limits, basics.CORE_LIMITS),
                                                                      (coredump, basics.COREDUMP_CONF)]
    assert "* hard core 0" in basics.CORE_LIMITS and "Storage=none" in basics.COREDUMP_CONF
