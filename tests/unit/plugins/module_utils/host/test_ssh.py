# -*- coding: utf-8 -*-
"""Unit tests for host.ssh: algorithms this OpenSSH knows, sshd -T parsing, the lockout preflight, the plan."""

from __future__ import annotations

import collections

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.host import area as host_area
from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import HostChangeError

from host_fixtures import FakeRun, host_env, reader

User = collections.namedtuple("User", ["pw_name", "pw_uid", "pw_gid", "pw_dir"])
USERS = {
    "root": User("root", 0, 0, "/root"),
    "deploy": User("deploy", 1000, 1000, "/home/deploy"),
}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG3xample deploy@laptop\n"
DEBIAN_SSHD_CONFIG = "Include /etc/ssh/sshd_config.d/*.conf\n\nKbdInteractiveAuthentication no\nUsePAM yes\n"
# What `ssh -Q cipher` and `ssh -Q mac` print (one name a line).
CIPHERS = "aes128-ctr\naes192-ctr\naes256-ctr\naes128-gcm@openssh.com\naes256-gcm@openssh.com\nchacha20-poly1305@openssh.com\n"
MACS = "hmac-sha2-256\nhmac-sha2-512\nhmac-sha2-256-etm@openssh.com\numac-128-etm@openssh.com\n"
KEX = "curve25519-sha256\ncurve25519-sha256@libssh.org\nsntrup761x25519-sha512@openssh.com\n"
SETTINGS = {"PermitRootLogin": "no", "PasswordAuthentication": "no", "MaxAuthTries": 4}


def getpwnam(name):
    return USERS[name]


def algorithms(*answers, rc=0):
    """A run answering the one `sh -c 'ssh -Q ...; echo ---; ...'` call with the answers, '---' between them."""
    return FakeRun({("sh", "-c"): (rc, "---\n".join(answers), "")})


# --- supported_only -------------------------------------------------------------------------------

def test_algorithm_names_this_openssh_does_not_know_are_dropped_with_a_note():
    notes = []
    settings = {"Ciphers": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes512-imaginary"],
                "MACs": ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"], "MaxAuthTries": 4}
    kept = ssh.supported_only(settings, algorithms(CIPHERS, MACS), notes)
    assert kept == {"Ciphers": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"],
                    "MACs": ["hmac-sha2-256-etm@openssh.com"], "MaxAuthTries": 4}
    assert "Ciphers: this OpenSSH does not know aes512-imaginary, left out" in notes
    assert "MACs: this OpenSSH does not know hmac-sha2-512-etm@openssh.com, left out" in notes
    assert settings["Ciphers"][-1] == "aes512-imaginary", "the caller's settings were changed"


def test_all_queries_are_asked_in_one_process():
    run = algorithms(CIPHERS, MACS, KEX)
    ssh.supported_only({"Ciphers": ["aes256-ctr"], "MACs": ["hmac-sha2-256"], "KexAlgorithms": ["curve25519-sha256"]},
                       run, [])
    assert len(run.calls) == 1
    assert run.calls[0][:2] == ["sh", "-c"]
    assert all("ssh -Q %s" % query in run.calls[0][2] for query in ("cipher", "mac", "kex"))


def test_a_keyword_none_of_whose_names_is_known_is_removed_so_the_default_stays():
    notes = []
    kept = ssh.supported_only({"KexAlgorithms": ["mlkem768x25519-sha256"], "MaxAuthTries": 4}, algorithms(KEX), notes)
    assert kept == {"MaxAuthTries": 4}
    assert "KexAlgorithms: none of the listed names is known to this OpenSSH; its own default stays" in notes


def test_no_ssh_client_to_ask_leaves_the_settings_unchanged():
    settings = {"Ciphers": ["aes512-imaginary"], "MACs": ["hmac-sha2-256"]}
    notes = []
    assert ssh.supported_only(settings, FakeRun(default=(127, "", "sh: ssh: not found")), notes) == settings
    assert notes == []


def test_an_answer_count_that_does_not_match_leaves_the_settings_unchanged():
    settings = {"Ciphers": ["aes512-imaginary"], "MACs": ["hmac-sha2-256"]}
    assert ssh.supported_only(settings, algorithms(CIPHERS), []) == settings


def test_without_algorithm_keywords_nothing_is_run():
    run = FakeRun()
    assert ssh.supported_only(dict(SETTINGS), run, []) == SETTINGS
    assert run.calls == []


# --- render and sshd -T --------------------------------------------------------------------------

def test_render_writes_keyword_value_lines_and_allow_groups_last():
    text = ssh.render({"PermitRootLogin": "no", "X11Forwarding": False, "MaxAuthTries": 4,
                       "Ciphers": ["aes256-gcm@openssh.com", "aes256-ctr"]}, ["sudo", "admins"])
    assert text == ssh.HEADER + ("PermitRootLogin no\nX11Forwarding no\nMaxAuthTries 4\n"
                                 "Ciphers aes256-gcm@openssh.com,aes256-ctr\nAllowGroups sudo admins\n")


def test_render_without_allow_groups_has_no_allow_groups_line():
    assert "AllowGroups" not in ssh.render({"PermitRootLogin": "no"}, [])


def test_sshd_values_as_sshd_config_spells_them():
    assert ssh.sshd_value(True) == "yes"
    assert ssh.sshd_value(False) == "no"
    assert ssh.sshd_value(["a", "b"]) == "a,b"
    assert ssh.sshd_value(300) == "300"


def test_parse_effective_collects_allowgroups_from_several_lines():
    effective = ssh.parse_effective("port 22\npermitrootlogin without-password\nallowgroups sudo\nallowgroups admins\n"
                                    "authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n")
    assert effective["allowgroups"] == ["sudo", "admins"]
    assert effective["permitrootlogin"] == ["without-password"]
    assert effective["authorizedkeysfile"] == [".ssh/authorized_keys .ssh/authorized_keys2"]


def test_parse_effective_lowercases_keywords():
    assert ssh.parse_effective("MaxAuthTries 4\n") == {"maxauthtries": ["4"]}


def test_not_effective_is_empty_when_sshd_shows_our_values():
    effective = ssh.parse_effective("permitrootlogin no\npasswordauthentication no\nmaxauthtries 4\n"
                                    "ciphers aes256-gcm@openssh.com,aes256-ctr\nloglevel VERBOSE\n"
                                    "allowgroups admins\nallowgroups sudo\n")
    settings = {"PermitRootLogin": "no", "PasswordAuthentication": False, "MaxAuthTries": 4,
                "Ciphers": ["aes256-gcm@openssh.com", "aes256-ctr"], "LogLevel": "VERBOSE"}
    assert ssh.not_effective(settings, ["sudo", "admins"], effective) == []


def test_not_effective_accepts_without_password_for_prohibit_password():
    # sshd -T prints prohibit-password under its old name.
    effective = ssh.parse_effective("permitrootlogin without-password\n")
    assert ssh.not_effective({"PermitRootLogin": "prohibit-password"}, [], effective) == []
    assert ssh.not_effective({"PermitRootLogin": "without-password"}, [], effective) == []


def test_not_effective_names_overridden_and_missing_values():
    effective = ssh.parse_effective("permitrootlogin yes\nallowgroups sudo\n")
    wrong = ssh.not_effective({"PermitRootLogin": "no", "MaxAuthTries": 4}, ["sudo", "admins"], effective)
    assert wrong == ["PermitRootLogin is 'yes', not 'no'", "MaxAuthTries is '', not '4'", "AllowGroups is 'sudo'"]


# --- lockout_problems -----------------------------------------------------------------------------

def lockout(user, settings, allow_groups=(), files=None, groups=("deploy",), effective=""):
    return ssh.lockout_problems(user, settings, list(allow_groups), ssh.parse_effective(effective), getpwnam=getpwnam,
                                read=reader(files or {}), groups_of=lambda _user: set(groups))


def test_root_with_permit_root_login_no_would_be_locked_out():
    problems = lockout("root", {"PermitRootLogin": "no", "PasswordAuthentication": "no"},
                       files={"/root/.ssh/authorized_keys": KEY}, groups=["root"])
    assert len(problems) == 1 and "PermitRootLogin would be no" in problems[0]


def test_root_with_prohibit_password_and_a_key_keeps_access():
    assert lockout("root", {"PermitRootLogin": "prohibit-password"}, files={"/root/.ssh/authorized_keys": KEY},
                   groups=["root"]) == []


def test_a_user_without_an_authorized_key_would_be_locked_out_once_passwords_are_off():
    problems = lockout("deploy", {"PasswordAuthentication": "no"},
                       files={"/home/deploy/.ssh/authorized_keys": "# no keys yet\n\n"})
    assert len(problems) == 1
    assert "deploy has no authorized key" in problems[0]
    assert "/home/deploy/.ssh/authorized_keys" in problems[0]


def test_a_user_without_a_key_keeps_access_while_passwords_stay_on():
    assert lockout("deploy", {"PasswordAuthentication": "yes"}) == []


def test_the_key_files_sshd_reads_come_from_authorizedkeysfile():
    effective = "authorizedkeysfile /etc/ssh/keys/%u .ssh/authorized_keys\n"
    assert lockout("deploy", {"PasswordAuthentication": "no"}, files={"/etc/ssh/keys/deploy": KEY},
                   effective=effective) == []
    assert ssh.authorized_key_files(USERS["deploy"], ssh.parse_effective(effective)) == [
        "/etc/ssh/keys/deploy", "/home/deploy/.ssh/authorized_keys"]


def test_a_user_in_none_of_allow_groups_would_be_locked_out():
    problems = lockout("deploy", {"PasswordAuthentication": "no"}, ["admins"],
                       files={"/home/deploy/.ssh/authorized_keys": KEY}, groups=["deploy", "sudo"])
    assert problems == ["deploy is in none of AllowGroups admins (its groups: deploy, sudo)"]


def test_a_user_in_an_allowed_group_with_a_key_has_no_problems():
    assert lockout("deploy", dict(SETTINGS), ["sudo"], files={"/home/deploy/.ssh/authorized_keys2": KEY},
                   groups=["deploy", "sudo"]) == []


def test_an_unknown_connecting_user_is_a_problem():
    assert lockout("nobody-here", dict(SETTINGS)) == ["the connecting user nobody-here is not in the password database"]


# --- plan -------------------------------------------------------------------------------------------

@pytest.fixture
def sshd_host(monkeypatch):
    """sshd installed; /etc/ssh/sshd_config as on Debian (files: change it)."""
    files = {"/etc/ssh/sshd_config": DEBIAN_SSHD_CONFIG}
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/usr/sbin/" + name)
    monkeypatch.setattr(host_facts, "read_text", files.get)
    return files


def sshd_answers(effective="permitrootlogin yes\n", test=(0, "", "")):
    return {("sshd", "-T"): (0, effective, ""), ("sshd", "-t"): test,
            ("sh", "-c"): (0, "---\n".join([CIPHERS, MACS, KEX]), "")}


def test_an_unchanged_drop_in_is_not_proven_again_so_sshd_is_not_run(sshd_host, tmp_path):
    path = tmp_path / "00-bulwark.conf"
    settings = dict(SETTINGS, Ciphers=["aes256-gcm@openssh.com"])
    path.write_text(ssh.render(settings, ["sudo"]))
    run = FakeRun(sshd_answers())
    area = ssh.plan(settings, ["sudo"], str(path), "ssh", "root", host_env(active_units=["ssh"]), run)
    assert not area.changed
    assert area.actions == [] and area.validate is None
    assert "sshd" not in run.commands()


def test_a_lockout_over_ssh_is_refused_before_anything_is_written(sshd_host, tmp_path):
    path = tmp_path / "00-bulwark.conf"
    run = FakeRun(sshd_answers())
    with pytest.raises(HostChangeError) as error:
        ssh.plan(dict(SETTINGS), ["sudo"], str(path), "ssh", "root", host_env(active_units=["ssh"]), run)
    assert "refused before any change" in str(error.value)
    assert "PermitRootLogin would be no" in str(error.value)
    assert not path.exists()
    assert ["sshd", "-t"] not in run.calls


def test_sshd_t_failing_before_the_change_is_refused(sshd_host, tmp_path):
    run = FakeRun({("sshd", "-T"): (255, "", "/etc/ssh/sshd_config line 3: Bad configuration option")})
    with pytest.raises(HostChangeError) as error:
        ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "ssh", "root", host_env(), run)
    assert "Bad configuration option" in str(error.value)


def test_a_connection_other_than_ssh_skips_the_preflight_with_a_note(sshd_host, tmp_path):
    run = FakeRun(sshd_answers())
    area = ssh.plan(dict(SETTINGS), ["sudo"], str(tmp_path / "00.conf"), "local", "root",
                    host_env(active_units=["ssh"]), run)
    assert "connection local is not SSH: the access preflight only applies to SSH" in area.notes
    assert area.changed
    assert area.files[0].mode == 0o600
    assert [action.argv for action in area.actions] == [["systemctl", "reload", "ssh"]]


def test_without_allow_groups_a_note_says_every_account_with_a_key_may_log_in(sshd_host, tmp_path):
    area = ssh.plan({"PermitRootLogin": "no"}, [], str(tmp_path / "00.conf"), "local", "root", host_env(),
                    FakeRun(sshd_answers()))
    assert any(note.startswith("no AllowGroups") for note in area.notes)
    assert area.actions == []  # sshd not running as the ssh unit: nothing to reload


def test_sshd_not_installed_skips_the_area(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    run = FakeRun()
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "ssh", "root", host_env(), run)
    assert area.skipped == "sshd is not installed"
    assert run.calls == [] and not area.changed


def test_an_sshd_config_without_the_drop_in_include_skips_with_a_note(sshd_host, tmp_path):
    sshd_host["/etc/ssh/sshd_config"] = "PermitRootLogin yes\nUsePAM yes\n"
    run = FakeRun(sshd_answers())
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "ssh", "root", host_env(), run)
    assert area.skipped and "sshd does not read" in area.skipped
    assert any("Include /etc/ssh/sshd_config.d/*.conf" in note for note in area.notes)
    assert run.calls == [] and not area.changed


def test_a_commented_out_include_does_not_count_as_reading_the_drop_ins(sshd_host, tmp_path):
    # sshd ignores a commented line: the drop-in would never be read.
    sshd_host["/etc/ssh/sshd_config"] = "#Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "local", "root", host_env(), FakeRun(sshd_answers()))
    assert area.skipped and "sshd does not read" in area.skipped


def test_validate_accepts_a_drop_in_sshd_takes(sshd_host, tmp_path):
    effective = "permitrootlogin no\npasswordauthentication no\nmaxauthtries 4\nallowgroups sudo\n"
    area = ssh.plan(dict(SETTINGS), ["sudo"], str(tmp_path / "00.conf"), "local", "root", host_env(),
                    FakeRun(sshd_answers(effective)))
    assert area.validate() is None


def test_validate_refuses_a_drop_in_sshd_t_rejects(sshd_host, tmp_path):
    run = FakeRun(sshd_answers(test=(255, "", "line 2: Bad configuration option: Foo")))
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "local", "root", host_env(), run)
    assert "sshd -t refuses the drop-in: line 2: Bad configuration option: Foo" == area.validate()


def test_an_overridden_drop_in_is_put_back_and_sshd_is_not_reloaded(sshd_host, tmp_path):
    # An earlier file sets PermitRootLogin first: sshd -T still shows yes after the write.
    path = tmp_path / "00.conf"
    path.write_text("PermitRootLogin no\n")
    run = FakeRun(sshd_answers("permitrootlogin yes\npasswordauthentication no\nmaxauthtries 4\n"))
    area = ssh.plan(dict(SETTINGS), [], str(path), "local", "root", host_env(active_units=["ssh"]), run)
    with pytest.raises(HostChangeError) as error:
        host_area.carry_out(area, run)
    assert "PermitRootLogin is 'yes', not 'no'" in str(error.value)
    assert path.read_text() == "PermitRootLogin no\n"
    assert ["systemctl", "reload", "ssh"] not in run.calls
