# -*- coding: utf-8 -*-
"""Unit tests for host.ssh: algorithms this OpenSSH knows, sshd -T parsing, the lockout preflight, the plan."""

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.host import area as host_area
from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import HostChangeError

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import FakeRun, host_env
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.ssh_fixtures import ACCOUNTS, KEY, SESSION, deploy_host, machine, sshd_output

# Debian's sshd_config, as far as it matters here (the drop-ins first).
DEBIAN_SSHD_CONFIG = "Include /etc/ssh/sshd_config.d/*.conf\n\nKbdInteractiveAuthentication no\nUsePAM yes\n"
# What `ssh -Q cipher` and `ssh -Q mac` print (one name a line).
CIPHERS = "aes128-ctr\naes192-ctr\naes256-ctr\naes128-gcm@openssh.com\naes256-gcm@openssh.com\nchacha20-poly1305@openssh.com\n"
MACS = "hmac-sha2-256\nhmac-sha2-512\nhmac-sha2-256-etm@openssh.com\numac-128-etm@openssh.com\n"
KEX = "curve25519-sha256\ncurve25519-sha256@libssh.org\nsntrup761x25519-sha512@openssh.com\n"
SETTINGS = {"PermitRootLogin": "no", "PasswordAuthentication": "no", "MaxAuthTries": 4}


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


# --- the candidate configuration ---------------------------------------------------------------------

def test_the_include_that_reads_the_drop_in_lists_its_files_with_the_candidate_in_its_place(tmp_path):
    drop_ins = tmp_path / "sshd_config.d"
    drop_ins.mkdir()
    for name in ("50-cloud.conf", "00-early.conf", "10-bulwark.conf"):
        (drop_ins / name).write_text("")
    config = "# top\nInclude %s/*.conf other.conf\nUsePAM yes\n" % drop_ins
    text = ssh.candidate_config(config, str(drop_ins / "10-bulwark.conf"), "/tmp/x/10-bulwark.conf")
    assert text == "# top\nInclude %s/00-early.conf /tmp/x/10-bulwark.conf %s/50-cloud.conf other.conf\nUsePAM yes\n" % (
        drop_ins, drop_ins)


def test_a_drop_in_not_written_yet_is_read_in_its_sorted_place(tmp_path):
    (tmp_path / "50-cloud.conf").write_text("")
    text = ssh.candidate_config("Include %s/*.conf\n" % tmp_path, str(tmp_path / "00-bulwark.conf"), "/tmp/x/00.conf")
    assert text == "Include /tmp/x/00.conf %s/50-cloud.conf\n" % tmp_path


def test_relative_includes_are_under_etc_ssh_and_indentation_and_spelling_vary():
    def expand(pattern):
        assert pattern == "/etc/ssh/sshd_config.d/*.conf"
        return ["/etc/ssh/sshd_config.d/20-x.conf"]

    path = "/etc/ssh/sshd_config.d/00-bulwark-hardening.conf"
    assert ssh.candidate_config("  include=sshd_config.d/*.conf\n", path, "/tmp/c.conf", expand) == (
        "  Include /tmp/c.conf /etc/ssh/sshd_config.d/20-x.conf\n")
    assert ssh.candidate_config('INCLUDE "sshd_config.d/*.conf" # ours\n', path, "/tmp/c.conf", expand) == (
        "Include /tmp/c.conf /etc/ssh/sshd_config.d/20-x.conf\n")


@pytest.mark.parametrize("config", [
    "#Include /etc/ssh/sshd_config.d/*.conf\n",
    "PermitRootLogin yes\n",
    "Include /etc/ssh/other.d/*.conf\n",
    "Include /etc/ssh/sshd_config.d/*.cfg\n",
    "Include /etc/ssh/*.conf\n",  # a wildcard does not cross a /
    "",
])
def test_a_config_that_never_reads_the_drop_in_has_no_candidate(config):
    assert ssh.candidate_config(config, "/etc/ssh/sshd_config.d/00-bulwark.conf", "/tmp/c", lambda p: []) is None


def test_glob_skips_hidden_names_unless_the_pattern_names_them():
    assert not ssh.glob_would_match("/etc/ssh/sshd_config.d/.00.conf", "/etc/ssh/sshd_config.d/*.conf")
    assert ssh.glob_would_match("/etc/ssh/sshd_config.d/.00.conf", "/etc/ssh/sshd_config.d/.*.conf")


def test_the_match_spec_names_both_ends_of_the_session():
    assert ssh.match_spec("deploy", SESSION) == (
        "user=deploy,host=192.0.2.10,addr=192.0.2.10,laddr=192.0.2.1,lport=22")
    assert ssh.match_spec("deploy", SESSION._replace(server_address=None, server_port=None)) == (
        "user=deploy,host=192.0.2.10,addr=192.0.2.10")
    assert ssh.match_spec("deploy", None) == "user=deploy"


# --- the plan and its preflight -----------------------------------------------------------------------

@pytest.fixture
def sshd_host(monkeypatch, tmp_path):
    """sshd installed; /etc/ssh/sshd_config as on Debian, with the drop-ins in tmp_path (files: change it)."""
    files = {"/etc/ssh/sshd_config": DEBIAN_SSHD_CONFIG.replace("/etc/ssh/sshd_config.d", str(tmp_path))}
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: "/usr/sbin/" + name)
    monkeypatch.setattr(host_facts, "read_text", files.get)
    return files


class Sshd(object):
    """A run answering sshd -T -C with real output: the current configuration's, and the candidate's
    (-f); it keeps the text of every candidate it was given, as sshd read it."""

    def __init__(self, candidate="role-defaults", current="stock", release="debian12", rc=0, error=""):
        self.candidates = []
        self.run = FakeRun({
            ("sshd", "-T", "-C"): (0, sshd_output(release, current), ""),
            ("sshd", "-T", "-f"): self.candidate(sshd_output(release, candidate) if candidate else "", rc, error),
            ("sshd", "-T"): (0, "permitrootlogin no\n", ""),
            ("sshd", "-t"): (0, "", ""),
            ("sh", "-c"): (0, "---\n".join([CIPHERS, MACS, KEX]), ""),
        })

    def candidate(self, out, rc, error):
        def answer(argv):
            main = argv[argv.index("-f") + 1]
            with open(main, encoding="utf-8") as handle:
                text = handle.read()
            drop_ins = [path for path in text.split() if path.startswith(os.path.dirname(main))]
            self.candidates.append(dict(main=text, argv=argv, drop_in=open(drop_ins[0], encoding="utf-8").read()))
            return rc, out, error
        return answer


def plan_for(tmp_path, sshd, settings=None, user="deploy", fs=None, session=SESSION, connection="ssh"):
    return ssh.plan(dict(SETTINGS if settings is None else settings), ["sudo"], str(tmp_path / "00-bulwark.conf"),
                    connection, user, host_env(active_units=["ssh"]), sshd.run,
                    machine=machine(fs or deploy_host(), session))


def test_the_candidate_sshd_evaluates_is_sshd_config_with_the_drop_in_as_it_would_be_written(sshd_host, tmp_path):
    (tmp_path / "50-cloud.conf").write_text("PasswordAuthentication yes\n")
    sshd = Sshd()
    area = plan_for(tmp_path, sshd)
    assert area.changed and area.report["access"] == dict(
        connecting_user="deploy", client_address="192.0.2.10",
        client_address_from="SSH_CONNECTION of process 812 (bash)", session_method="publickey",
        keys_kept=["ssh-ed25519 key ...00000000 (deploy@laptop)"])
    [seen] = sshd.candidates
    assert seen["drop_in"] == ssh.render(SETTINGS, ["sudo"])
    assert seen["main"].startswith("Include /") and seen["main"].endswith(
        "/00-bulwark.conf %s/50-cloud.conf\n\nKbdInteractiveAuthentication no\nUsePAM yes\n" % tmp_path)
    assert seen["argv"][-2:] == ["-C", "user=deploy,host=192.0.2.10,addr=192.0.2.10,laddr=192.0.2.1,lport=22"]
    assert ["sshd", "-T", "-C", seen["argv"][-1]] in sshd.run.calls  # the current configuration, same spec
    assert not os.path.exists(os.path.dirname(seen["argv"][3])), "the candidate's directory was left behind"
    assert not (tmp_path / "00-bulwark.conf").exists()


# Each case the old three-keyword model let through; the candidate's sshd -T -C output is real.
@pytest.mark.parametrize("case, settings, reason", [
    ("allow-users-alice", {"AllowUsers": "alice"}, "deploy is not in AllowUsers (alice)"),
    ("deny-users-deploy", {"DenyUsers": "deploy"}, "deploy is in DenyUsers (deploy)"),
    ("keys-moved", {"AuthorizedKeysFile": "/etc/ssh/authorized_keys/%u"},
     "/etc/ssh/authorized_keys/deploy: no such file"),
    ("pubkey-off", {"PubkeyAuthentication": "no"}, "none of them would be accepted: PubkeyAuthentication no"),
    ("publickey-and-password", {"PasswordAuthentication": "yes", "AuthenticationMethods": "publickey,password"},
     "AuthenticationMethods would be publickey,password"),
    ("match-applies", {}, "deploy is in DenyUsers (deploy)"),
])
@pytest.mark.parametrize("release", ["debian12", "debian13"])
def test_a_lockout_is_refused_before_anything_is_written_with_sshds_reason(
        sshd_host, tmp_path, release, case, settings, reason):
    sshd = Sshd(case, release=release)
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, sshd, dict(SETTINGS, **settings))
    assert str(error.value).startswith(ssh.REFUSED)
    assert reason in str(error.value)
    assert not (tmp_path / "00-bulwark.conf").exists()
    assert ["sshd", "-t"] not in sshd.run.calls


def test_root_with_a_password_under_prohibit_password_is_refused(sshd_host, tmp_path):
    settings = dict(SETTINGS, PermitRootLogin="prohibit-password", PasswordAuthentication="yes")
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, Sshd("root-prohibit-password"), settings, user="root")
    assert "PermitRootLogin would be prohibit-password" in str(error.value)


def test_a_key_whose_from_does_not_let_this_client_in_is_refused(sshd_host, tmp_path):
    fs = deploy_host('from="198.51.100.0/24" %s\n' % KEY)
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, Sshd(), fs=fs)
    assert 'from="198.51.100.0/24" does not let 192.0.2.10 in' in str(error.value)
    assert plan_for(tmp_path, Sshd(), fs=deploy_host('from="192.0.2.0/24" %s\n' % KEY)).changed


def test_an_unknown_client_address_is_refused_with_the_way_out_and_the_other_reasons(sshd_host, tmp_path):
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, Sshd("deny-users-deploy"), session=None)
    message = str(error.value)
    assert message.startswith(ssh.REFUSED + ssh.UNKNOWN_CLIENT)
    assert "set host_ssh_client_address" in message
    assert "deploy is in DenyUsers (deploy)" in message


def test_an_unknown_client_address_with_address_rules_in_the_config_gives_sshds_complaint(sshd_host, tmp_path):
    sshd = Sshd()
    sshd.run.answers[("sshd", "-T", "-C")] = (
        255, "", "'Match LocalPort' in configuration but 'lport' not in connection test specification.")
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, sshd, session=None)
    assert ssh.UNKNOWN_CLIENT in str(error.value)
    assert "'lport' not in connection test specification" in str(error.value)


def test_a_stated_client_address_is_the_session():
    assert ssh.this_machine("192.0.2.10").session == ssh.ssh_session.SshSession(
        "192.0.2.10", None, None, None, "host_ssh_client_address")


def test_sshd_failing_on_the_current_configuration_fails_before_any_change(sshd_host, tmp_path):
    sshd = Sshd()
    sshd.run.answers[("sshd", "-T", "-C")] = (255, "", "/etc/ssh/sshd_config line 3: Bad configuration option")
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, sshd)
    assert "fails before any change: /etc/ssh/sshd_config line 3: Bad configuration option" in str(error.value)


def test_a_candidate_sshd_refuses_is_refused_with_sshds_words(sshd_host, tmp_path):
    complaint = "AuthenticationMethods cannot be satisfied by enabled authentication methods"
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, Sshd(candidate=None, rc=255, error=complaint), dict(SETTINGS, AuthenticationMethods="password"))
    assert str(error.value) == ssh.REFUSED + "sshd refuses sshd_config with this drop-in: " + complaint


def test_a_connecting_user_without_an_account_is_refused(sshd_host, tmp_path):
    sshd = Sshd()
    with pytest.raises(HostChangeError) as error:
        plan_for(tmp_path, sshd, user="nobody-here")
    assert "the connecting user nobody-here is not in the password database" in str(error.value)
    assert "sshd" not in sshd.run.commands()


def test_a_user_name_that_would_add_fields_to_sshds_connection_spec_is_refused(sshd_host, tmp_path):
    sshd = Sshd()
    anyone = ssh.Machine(SESSION, lambda name: ACCOUNTS["deploy"], deploy_host().read, deploy_host().stat)
    with pytest.raises(HostChangeError) as error:
        ssh.plan(dict(SETTINGS), ["sudo"], str(tmp_path / "00-bulwark.conf"), "ssh", "deploy,addr=203.0.113.9",
                 host_env(), sshd.run, machine=anyone)
    assert "the connecting user deploy,addr=203.0.113.9 is not in the password database" in str(error.value)
    assert "sshd" not in sshd.run.commands()


def test_use_dns_yes_is_noted(sshd_host, tmp_path):
    sshd = Sshd()
    answer = sshd.run.answers[("sshd", "-T", "-f")]
    sshd.run.answers[("sshd", "-T", "-f")] = lambda argv: (0, answer(argv)[1].replace("usedns no", "usedns yes"), "")
    area = plan_for(tmp_path, sshd)
    assert any(note.startswith("UseDNS yes") for note in area.notes)


def test_an_unchanged_drop_in_is_not_proven_again_so_sshd_is_not_run(sshd_host, tmp_path):
    path = tmp_path / "00-bulwark.conf"
    settings = dict(SETTINGS, Ciphers=["aes256-gcm@openssh.com"])
    path.write_text(ssh.render(settings, ["sudo"]))
    sshd = Sshd()
    area = plan_for(tmp_path, sshd, settings)
    assert not area.changed
    assert area.actions == [] and area.validate is None
    assert "sshd" not in sshd.run.commands()


def test_a_connection_other_than_ssh_skips_the_preflight_with_a_note(sshd_host, tmp_path):
    sshd = Sshd()
    area = plan_for(tmp_path, sshd, connection="local", user="root")
    assert "connection local is not SSH: the access preflight only applies to SSH" in area.notes
    assert area.changed and "access" not in area.report
    assert area.files[0].mode == 0o600
    assert [action.argv for action in area.actions] == [["systemctl", "reload", "ssh"]]
    assert sshd.candidates == []


def test_sshd_t_failing_before_the_change_over_a_local_connection_is_refused(sshd_host, tmp_path):
    run = FakeRun({("sshd", "-T"): (255, "", "/etc/ssh/sshd_config line 3: Bad configuration option")})
    with pytest.raises(HostChangeError) as error:
        ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "local", "root", host_env(), run)
    assert "Bad configuration option" in str(error.value)


def test_without_allow_groups_a_note_says_every_account_with_a_key_may_log_in(sshd_host, tmp_path):
    area = ssh.plan({"PermitRootLogin": "no"}, [], str(tmp_path / "00.conf"), "local", "root", host_env(),
                    Sshd().run)
    assert any(note.startswith("no AllowGroups") for note in area.notes)
    assert area.actions == []  # sshd not running as the ssh unit: nothing to reload


def test_sshd_not_installed_skips_the_area(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    run = FakeRun()
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "ssh", "root", host_env(), run)
    assert area.skipped == "sshd is not installed"
    assert run.calls == [] and not area.changed


def test_an_sshd_config_that_does_not_read_the_drop_in_skips_with_a_note(sshd_host, tmp_path):
    sshd_host["/etc/ssh/sshd_config"] = "PermitRootLogin yes\nUsePAM yes\n"
    run = FakeRun()
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "ssh", "root", host_env(), run)
    assert area.skipped == "sshd does not read %s" % (tmp_path / "00.conf")
    assert any("Include %s/*.conf" % tmp_path in note for note in area.notes)
    assert run.calls == [] and not area.changed


def test_a_commented_out_include_does_not_count_as_reading_the_drop_ins(sshd_host, tmp_path):
    # sshd ignores a commented line: the drop-in would never be read.
    sshd_host["/etc/ssh/sshd_config"] = "#Include %s/*.conf\nPermitRootLogin yes\n" % tmp_path
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "local", "root", host_env(), FakeRun())
    assert area.skipped and "sshd does not read" in area.skipped


def test_validate_accepts_a_drop_in_sshd_takes(sshd_host, tmp_path):
    effective = "permitrootlogin no\npasswordauthentication no\nmaxauthtries 4\nallowgroups sudo\n"
    sshd = Sshd()
    sshd.run.answers[("sshd", "-T")] = (0, effective, "")
    area = ssh.plan(dict(SETTINGS), ["sudo"], str(tmp_path / "00.conf"), "local", "root", host_env(), sshd.run)
    assert area.validate() is None


def test_validate_refuses_a_drop_in_sshd_t_rejects(sshd_host, tmp_path):
    sshd = Sshd()
    sshd.run.answers[("sshd", "-t")] = (255, "", "line 2: Bad configuration option: Foo")
    area = ssh.plan(dict(SETTINGS), [], str(tmp_path / "00.conf"), "local", "root", host_env(), sshd.run)
    assert "sshd -t refuses the drop-in: line 2: Bad configuration option: Foo" == area.validate()


def test_an_overridden_drop_in_is_put_back_and_sshd_is_not_reloaded(sshd_host, tmp_path):
    # An earlier file sets PermitRootLogin first: sshd -T still shows yes after the write.
    path = tmp_path / "00.conf"
    path.write_text("PermitRootLogin no\n")
    sshd = Sshd()
    sshd.run.answers[("sshd", "-T")] = (0, "permitrootlogin yes\npasswordauthentication no\nmaxauthtries 4\n", "")
    area = ssh.plan(dict(SETTINGS), [], str(path), "local", "root", host_env(active_units=["ssh"]), sshd.run)
    with pytest.raises(HostChangeError) as error:
        host_area.carry_out(area, sshd.run)
    assert "PermitRootLogin is 'yes', not 'no'" in str(error.value)
    assert path.read_text() == "PermitRootLogin no\n"
    assert ["systemctl", "reload", "ssh"] not in sshd.run.calls
