# -*- coding: utf-8 -*-
"""Unit tests for host.ssh_access: does the connecting user still log in under a candidate configuration?

Both configurations are real `sshd -T -C` output (tests/unit/fixtures/sshd): the current one is Debian's
stock sshd_config, the candidate one adds the host role's drop-in with the case's settings.
"""

from __future__ import annotations

import collections

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_access, ssh_keys

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.ssh_fixtures import DEPLOY, KEY, RELEASES, ROOT, deploy_host, effective

ADDRESS = "192.0.2.10"


def verdict(case, release="debian12", account=DEPLOY, fs=None, now="stock", after=None):
    fs = fs or deploy_host()
    now_config = effective(release, now)
    after_config = after if after is not None else effective(release, case)

    def scan(config):
        return ssh_keys.scan(account, ADDRESS, config, read=fs.read, stat=fs.stat)

    return ssh_access.verdict(account, ADDRESS, now_config, after_config, scan(now_config), scan(after_config))


def root_host(with_key):
    fs = deploy_host()
    fs.directory("/root/.ssh", 0o700)
    if with_key:
        fs.file("/root/.ssh/authorized_keys", KEY + "\n", 0o600)
    return fs


@pytest.mark.parametrize("release", RELEASES)
def test_the_role_defaults_keep_a_key_user_in_the_allowed_group(release):
    result = verdict("role-defaults", release)
    assert result.problems == []
    assert result.method == "publickey"
    assert result.kept == ["ssh-ed25519 key ...00000000 (deploy@laptop)"]


# The cases the old preflight let through, each decided from sshd's own answer.
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("case, reason", [
    ("allow-users-alice", "deploy is not in AllowUsers (alice)"),
    ("deny-users-deploy", "deploy is in DenyUsers (deploy)"),
    ("keys-moved", "deploy logs in with a key now (ssh-ed25519 key ...00000000 (deploy@laptop)) and none of them "
                   "would be accepted: /etc/ssh/authorized_keys/deploy: no such file"),
    ("pubkey-off", "none of them would be accepted: PubkeyAuthentication no"),
    ("publickey-and-password", "AuthenticationMethods would be publickey,password: no chain is made only of what "
                               "this session presents (publickey)"),
    ("match-applies", "deploy is in DenyUsers (deploy)"),
])
def test_a_candidate_that_locks_the_key_user_out_says_why(release, case, reason):
    problems = verdict(case, release).problems
    assert len(problems) == 1 and reason in problems[0], problems


@pytest.mark.parametrize("release", RELEASES)
def test_a_match_block_for_other_clients_does_not_count(release):
    assert verdict("match-elsewhere", release).problems == []


@pytest.mark.parametrize("release", RELEASES)
def test_root_with_a_password_under_prohibit_password_is_refused(release):
    result = verdict("root-prohibit-password", release, ROOT, root_host(with_key=False))
    assert result.method == "password"
    assert result.problems == ["root is in none of AllowGroups sudo (its groups: root)",
                               "root has uid 0, logs in with a password now (no key sshd accepts) and PermitRootLogin "
                               "would be prohibit-password"]


def test_root_with_a_key_under_prohibit_password_only_meets_allow_groups():
    result = verdict("root-prohibit-password", "debian12", ROOT, root_host(with_key=True))
    assert result.method == "publickey"
    assert result.problems == ["root is in none of AllowGroups sudo (its groups: root)"]


def test_root_under_permit_root_login_no_is_refused():
    result = verdict("role-defaults", "debian12", ROOT, root_host(with_key=True))
    assert "root has uid 0 and PermitRootLogin would be no: connect as a sudo user first" in result.problems


def test_root_under_forced_commands_only_is_refused():
    after = dict(effective("debian12", "stock"), permitrootlogin=["forced-commands-only"])
    result = verdict(None, "debian12", ROOT, root_host(with_key=True), after=after)
    assert result.problems == ["root has uid 0 and PermitRootLogin would be forced-commands-only: Ansible needs a shell"]


def test_a_key_restricted_to_other_addresses_makes_a_password_session_that_passwords_off_lock_out():
    fs = deploy_host('from="198.51.100.0/24" %s\n' % KEY)
    result = verdict("role-defaults", fs=fs)
    assert result.method == "password"
    assert result.problems == [
        'deploy has no key sshd accepts (/home/deploy/.ssh/authorized_keys line 1: from="198.51.100.0/24" does not '
        'let 192.0.2.10 in; /home/deploy/.ssh/authorized_keys2: no such file), so it logs in with a password now, '
        "and password logins would be off (PasswordAuthentication, KbdInteractiveAuthentication with UsePAM)"]


def test_a_password_session_keeps_access_through_pam_keyboard_interactive():
    fs = deploy_host("# no key\n")
    assert verdict("kbd-interactive", fs=fs).problems == []
    assert verdict("role-defaults", fs=fs).problems != []


def test_a_password_session_keeps_access_while_passwords_stay_on():
    assert verdict(None, fs=deploy_host("# no key\n"), after=effective("debian12", "stock")).problems == []


def test_a_key_file_strict_modes_refuses_locks_a_key_user_out():
    fs = deploy_host(mode=0o664)
    # Today's sshd refuses the file too, so this session cannot be a key session: it is a password one.
    result = verdict("role-defaults", fs=fs)
    assert result.method == "password" and "StrictModes" in result.problems[0]
    assert verdict("strict-modes-off", fs=fs, now="strict-modes-off").problems == []


def test_only_keys_that_work_now_count_after_the_change():
    # The candidate reads a file that holds someone else's key: this session's key is gone.
    fs = deploy_host()
    fs.directory("/etc/ssh/authorized_keys", 0o755)
    fs.file("/etc/ssh/authorized_keys/deploy", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnotherKey ops@desk\n", 0o644)
    result = verdict("keys-moved", fs=fs)
    assert result.kept == []
    assert "none of them would be accepted" in result.problems[0]


@pytest.mark.parametrize("chains, methods, expected", [
    ("publickey", {"publickey": 1}, True),
    ("publickey,publickey", {"publickey": 1}, False),
    ("publickey,publickey", {"publickey": 2}, True),
    ("publickey,keyboard-interactive:pam", {"publickey": 1}, False),
    ("password", {"password": 1, "keyboard-interactive": 1}, True),
    ("keyboard-interactive:pam", {"password": 1, "keyboard-interactive": 1}, True),
    ("keyboard-interactive:bsdauth", {"password": 1, "keyboard-interactive": 1}, False),
    ("hostbased", {"publickey": 1}, False),
])
def test_authentication_method_chains(chains, methods, expected):
    assert ssh_access.chain_satisfied(chains, methods) is expected


def test_one_satisfiable_chain_among_several_is_enough():
    after = dict(effective("debian12", "role-defaults"), authenticationmethods=["publickey,password publickey"])
    assert verdict(None, after=after).problems == []


@pytest.mark.parametrize("keyword, entry, locked", [
    ("denyusers", "dep*", True), ("denyusers", "deploy@198.51.100.0/24", False),
    ("allowusers", "deploy@192.0.2.0/24", False), ("allowusers", "deploy@198.51.100.7", True),
    ("denygroups", "sudo", True), ("denygroups", "wheel", False),
    ("allowgroups", "dep*", False), ("allowgroups", "wheel", True),
])
def test_user_and_group_lists(keyword, entry, locked):
    after = dict(effective("debian12", "stock"), **{keyword: [entry]})
    assert bool(ssh_access.user_list_problems(DEPLOY, ADDRESS, after)) is locked


def test_account_of_reads_the_password_and_group_databases():
    User = collections.namedtuple("User", ["pw_name", "pw_uid", "pw_gid", "pw_dir"])
    Group = collections.namedtuple("Group", ["gr_name"])
    groups = {1000: Group("deploy"), 27: Group("sudo")}
    account = ssh_access.account_of(
        "deploy", getpwnam={"deploy": User("deploy", 1000, 1000, "/home/deploy")}.__getitem__,
        getgrouplist=lambda name, gid: [gid, 27, 4242], getgrgid=groups.__getitem__)
    assert account == ssh_access.Account("deploy", 1000, 1000, "/home/deploy", frozenset(["deploy", "sudo"]),
                                         frozenset([1000, 27, 4242]))
    assert ssh_access.account_of("nobody-here", getpwnam={}.__getitem__) is None
