# -*- coding: utf-8 -*-
"""Unit tests for host.ssh_keys: authorized_keys lines, the files sshd reads, and which keys it accepts."""

from __future__ import annotations

import calendar
import time

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_keys

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.ssh_fixtures import DEPLOY, KEY, OTHER_KEY, ROOT, deploy_host, effective

NOW = time.mktime((2027, 1, 15, 12, 0, 0, 0, 0, -1))
DEFAULTS = effective("debian12", "role-defaults")


def scan(fs, effective_config=None, address="192.0.2.10", account=DEPLOY):
    return ssh_keys.scan(account, address, DEFAULTS if effective_config is None else effective_config, now=NOW,
                         read=fs.read, stat=fs.stat)


# --- lines ----------------------------------------------------------------------------------------------

def test_a_plain_key_line():
    key = ssh_keys.parse_line(KEY, "f line 1")
    assert (key.key_type, key.comment, key.options) == ("ssh-ed25519", "deploy@laptop", {})
    assert key.blob.startswith("AAAAC3")


def test_options_with_quoted_commas_and_blanks():
    key = ssh_keys.parse_line('from="192.0.2.0/24,!192.0.2.66",command="echo a, b",no-pty,expiry-time="20270101" '
                              + KEY, "f line 1")
    assert key.options == {"from": "192.0.2.0/24,!192.0.2.66", "command": "echo a, b", "no-pty": True,
                           "expiry-time": "20270101"}
    assert key.key_type == "ssh-ed25519" and key.comment == "deploy@laptop"


def test_option_names_are_case_insensitive_and_escaped_quotes_stay():
    key = ssh_keys.parse_line('FROM="192.0.2.10",command="echo \\"hi\\"" ' + KEY, "f line 1")
    assert key.options == {"from": "192.0.2.10", "command": 'echo "hi"'}


@pytest.mark.parametrize("line", ["", "   ", "# ssh-ed25519 AAAA old key", "no-pty", "garbage here and there",
                                  "1024 35 1234567 old-rsa1-key"])
def test_lines_sshd_skips(line):
    assert ssh_keys.parse_line(line, "f line 1") is None


# --- files ----------------------------------------------------------------------------------------------

def test_authorized_keys_file_tokens_and_relative_names():
    assert ssh_keys.key_files(".ssh/authorized_keys .ssh/authorized_keys2", DEPLOY) == [
        "/home/deploy/.ssh/authorized_keys", "/home/deploy/.ssh/authorized_keys2"]
    assert ssh_keys.key_files("/etc/ssh/authorized_keys/%u %h/keys/%U x%%y", DEPLOY) == [
        "/etc/ssh/authorized_keys/deploy", "/home/deploy/keys/1000", "/home/deploy/x%y"]
    assert ssh_keys.key_files("none", DEPLOY) == []


def test_the_users_key_is_usable_under_the_role_defaults():
    found = scan(deploy_host())
    assert list(found.usable.values()) == ["ssh-ed25519 key ...00000000 (deploy@laptop)"]
    assert found.refused == ["/home/deploy/.ssh/authorized_keys2: no such file"]


def test_the_same_key_in_two_files_is_one_key():
    fs = deploy_host(KEY + "\n" + OTHER_KEY + "\n")
    fs.file("/home/deploy/.ssh/authorized_keys2", KEY + "\n", 0o600, 1000, 1000)
    assert len(scan(fs).usable) == 2


def test_moved_authorized_keys_file_without_the_key_leaves_none():
    found = scan(deploy_host(), effective("debian12", "keys-moved"))
    assert found.usable == {}
    assert found.refused == ["/etc/ssh/authorized_keys/deploy: no such file"]


def test_pubkey_authentication_off_leaves_no_key():
    assert scan(deploy_host(), effective("debian13", "pubkey-off")) == ssh_keys.KeyScan({}, ["PubkeyAuthentication no"])


def test_a_file_of_comments_has_no_key():
    assert scan(deploy_host("# keys go here\n\n")).refused[0] == "/home/deploy/.ssh/authorized_keys: no key"


# --- from=, expiry-time=, algorithms --------------------------------------------------------------------

@pytest.mark.parametrize("allowed, usable", [
    ("192.0.2.10", True), ("192.0.2.0/24", True), ("192.0.2.*", True), ("198.51.100.0/24", False),
    ("192.0.2.0/24,!192.0.2.10", False), ("*.example.org", False),
])
def test_from_restrictions_are_decided_for_the_client_address(allowed, usable):
    found = scan(deploy_host('from="%s" %s\n' % (allowed, KEY)))
    assert bool(found.usable) is usable
    if not usable:
        assert 'from="%s" does not let 192.0.2.10 in' % allowed in found.refused[0]


def test_a_from_restriction_with_an_unknown_client_address_is_not_counted():
    found = scan(deploy_host('from="192.0.2.10" %s\n' % KEY), address=None)
    assert found.usable == {}
    assert 'from="192.0.2.10" and the client address is unknown' in found.refused[0]


def test_an_expired_key_is_not_counted():
    assert scan(deploy_host('expiry-time="20261231" %s\n' % KEY)).usable == {}
    assert scan(deploy_host('expiry-time="20270201" %s\n' % KEY)).usable != {}
    assert scan(deploy_host('expiry-time="202701151100Z" %s\n' % KEY)).usable == {}


def test_key_types_outside_pubkey_accepted_algorithms_are_not_counted():
    dss = "ssh-dss AAAAB3NzaC1kc3MAAACBAOldDsaKey deploy@old"
    found = scan(deploy_host(dss + "\n"))
    assert found.usable == {}
    assert "ssh-dss keys are not in PubkeyAcceptedAlgorithms" in found.refused[0]


def test_rsa_keys_are_offered_under_the_sha2_algorithms():
    assert ssh_keys.type_accepted("ssh-rsa", "ssh-ed25519,rsa-sha2-512,rsa-sha2-256")
    assert not ssh_keys.type_accepted("ssh-rsa", "ssh-ed25519")


def test_an_authorized_keys_command_counts_as_keys_while_it_stays():
    with_command = dict(DEFAULTS, authorizedkeyscommand=["/usr/bin/sss_ssh_authorizedkeys %u"])
    found = scan(deploy_host("# none here\n"), with_command)
    assert list(found.usable) == [("AuthorizedKeysCommand", "/usr/bin/sss_ssh_authorizedkeys %u")]


# --- what sshd can read, what StrictModes refuses ---------------------------------------------------

def test_a_group_writable_key_file_is_refused_under_strict_modes():
    found = scan(deploy_host(mode=0o664))
    assert found.usable == {}
    assert found.refused[0] == ("/home/deploy/.ssh/authorized_keys: StrictModes: bad ownership or modes for the "
                                "file (owner uid 1000, mode 0664)")
    assert scan(deploy_host(mode=0o664), effective("debian12", "strict-modes-off")).usable != {}


def test_a_group_writable_home_is_refused_under_strict_modes():
    fs = deploy_host()
    fs.directory("/home/deploy", 0o775, 1000, 1000)
    assert "bad ownership or modes for directory /home/deploy" in scan(fs).refused[0]


def test_strict_modes_stop_at_the_home_and_go_up_to_the_root_outside_it():
    fs = deploy_host()
    fs.directory("/home", 0o777)  # above the home: not looked at
    assert scan(fs).usable != {}
    fs.directory("/etc/ssh/authorized_keys", 0o755).file("/etc/ssh/authorized_keys/deploy", KEY, 0o644)
    fs.directory("/etc", 0o775)
    found = scan(fs, effective("debian12", "keys-moved"))
    assert "bad ownership or modes for directory /etc " in found.refused[0]


def test_a_file_owned_by_someone_else_is_refused_under_strict_modes():
    fs = deploy_host()
    fs.file("/home/deploy/.ssh/authorized_keys", KEY, 0o644, 1001, 1001)
    assert "owner uid 1001" in scan(fs).refused[0]


def test_a_root_owned_file_the_user_cannot_read_is_not_counted():
    # sshd opens the key file with the user's ids: a root-owned 0600 file under /etc is out of reach.
    fs = deploy_host()
    fs.directory("/etc/ssh/authorized_keys", 0o755).file("/etc/ssh/authorized_keys/deploy", KEY, 0o600)
    found = scan(fs, effective("debian12", "keys-moved"))
    assert found.refused == ["/etc/ssh/authorized_keys/deploy: deploy cannot read it"]
    fs.file("/etc/ssh/authorized_keys/deploy", KEY, 0o644)
    assert scan(fs, effective("debian12", "keys-moved")).usable != {}


def test_a_directory_the_user_cannot_enter_hides_the_file():
    fs = deploy_host()
    fs.directory("/etc/ssh/authorized_keys", 0o700).file("/etc/ssh/authorized_keys/deploy", KEY, 0o644)
    found = scan(fs, effective("debian12", "keys-moved"))
    assert found.refused == ["/etc/ssh/authorized_keys/deploy: deploy cannot enter /etc/ssh/authorized_keys"]


def test_root_reads_every_file():
    fs = deploy_host()
    fs.directory("/root/.ssh", 0o700).file("/root/.ssh/authorized_keys", KEY, 0o600)
    assert scan(fs, account=ROOT).usable != {}


def test_expiry_parses_local_and_utc_times():
    assert ssh_keys.expiry("20270115") == time.mktime((2027, 1, 15, 0, 0, 0, 0, 0, -1))
    assert ssh_keys.expiry("202701151200Z") == calendar.timegm((2027, 1, 15, 12, 0, 0, 0, 0, 0))
    assert ssh_keys.expiry("2027") is None
    assert ssh_keys.expiry("20271340") is None  # sshd refuses the line
