# -*- coding: utf-8 -*-
"""Unit tests for the managed_files module: its real main() through the harness, real files under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.files import managed_files as library
from ansible_collections.bulwark.hardening.plugins.modules import managed_files
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7bulwark\n-----END PRIVATE KEY-----\n"


def entry(path, **fields):
    fields.setdefault("owner", OWNER)
    fields.setdefault("group", GROUP)
    if fields.get("state", "file") != "absent":
        fields.setdefault("mode", "0644")
    return dict(path=str(path), **fields)


def run(files, **options):
    return run_module(managed_files.main, {"files": files}, **options)


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def tls_area(tmp_path, key=KEY):
    directory = tmp_path / "tls"
    return directory, [
        entry(directory, state="directory", mode="0700"),
        entry(directory / "ca.pem", content="CA\n", mode="0444"),
        entry(directory / "server-key.pem", content=key, mode="0400", secret=True),
    ]


def test_writes_every_entry_and_reports_them_in_input_order(tmp_path):
    directory, files = tls_area(tmp_path)
    trust = tmp_path / "docker-content-trust.sh"
    files.insert(0, entry(trust, content="export DOCKER_CONTENT_TRUST=1\n"))
    outcome = run(files)
    assert not outcome.failed and outcome.changed
    expected = [str(trust), str(directory), str(directory / "ca.pem"), str(directory / "server-key.pem")]
    assert [item["path"] for item in outcome.result["files"]] == expected
    assert outcome.result["changed_paths"] == [item["path"] for item in outcome.result["files"]]
    assert outcome.result["files"][1] == {"path": str(directory), "state": "directory", "changed": True, "changes": ["created"]}
    assert (mode_of(directory), mode_of(directory / "ca.pem"), mode_of(directory / "server-key.pem")) == (0o700, 0o444, 0o400)
    assert (directory / "server-key.pem").read_text() == KEY


def test_a_second_run_changes_nothing(tmp_path):
    _directory, files = tls_area(tmp_path)
    run(files)
    again = run(files, diff=True)
    assert not again.failed and again.changed is False
    assert again.result["changed_paths"] == [] and again.result["diff"] == []


def test_check_mode_writes_nothing_and_reports_what_would_change(tmp_path):
    directory, files = tls_area(tmp_path)
    outcome = run(files, check_mode=True, diff=True)
    assert not outcome.failed and outcome.changed
    assert outcome.result["changed_paths"] == [str(directory), str(directory / "ca.pem"), str(directory / "server-key.pem")]
    assert not directory.exists()
    assert {"before_header": str(directory / "ca.pem") + " (absent)", "after_header": str(directory / "ca.pem"),
            "before": "", "after": "CA\n"} in outcome.result["diff"]


def test_check_mode_reports_a_mode_fix_on_an_unchanged_file_and_leaves_it(tmp_path):
    target = tmp_path / "bulwark-content-trust.conf"
    target.write_text("[Manager]\n")
    os.chmod(target, 0o664)
    outcome = run([entry(target, content="[Manager]\n")], check_mode=True, diff=True)
    assert outcome.changed and outcome.result["files"][0]["changes"] == ["mode: 0664 -> 0644"]
    assert mode_of(target) == 0o664
    [attributes] = outcome.result["diff"]
    assert attributes["before"].endswith("mode: 0664\n") and attributes["after"].endswith("mode: 0644\n")
    fixed = run([entry(target, content="[Manager]\n")])
    assert fixed.changed and mode_of(target) == 0o644 and target.read_text() == "[Manager]\n"


def test_a_secret_never_shows_in_the_output_diff_or_echoed_arguments(tmp_path):
    _directory, files = tls_area(tmp_path)
    for options in ({"check_mode": True, "diff": True}, {"diff": True}):
        outcome = run(files, **options)
        assert "PRIVATE KEY" not in outcome.stdout, outcome.stdout
        diffs = [item for item in outcome.result["diff"] if item["after_header"].endswith("server-key.pem")]
        assert diffs[0]["after"] == library.SECRET_CHANGED_MASK
    changed_key = run(files[:2] + [dict(files[2], content=KEY.replace("bulwark", "changed"))], diff=True)
    assert "PRIVATE KEY" not in changed_key.stdout
    assert [item["before"] for item in changed_key.result["diff"]] == [library.SECRET_MASK]


def test_the_content_of_a_non_secret_file_is_shown_in_the_diff(tmp_path):
    target = tmp_path / "docker-content-trust.sh"
    target.write_text("export DOCKER_CONTENT_TRUST=0\n")
    outcome = run([entry(target, content="export DOCKER_CONTENT_TRUST=1\n")], diff=True)
    assert outcome.result["diff"][0]["before"] == "export DOCKER_CONTENT_TRUST=0\n"
    assert outcome.result["diff"][0]["after"] == "export DOCKER_CONTENT_TRUST=1\n"


def test_the_host_log_gets_the_paths_never_the_content(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(managed_files.ManagedFilesModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    _directory, files = tls_area(tmp_path)
    run(files)
    assert logged and all("PRIVATE KEY" not in message and "CA\n" not in message for message in logged)
    assert str(tmp_path / "tls" / "server-key.pem") in logged[0]


def test_absent_removes_the_file_and_reports_it(tmp_path):
    drop_in = tmp_path / "bulwark-hosts.conf"
    drop_in.write_text("[Service]\n")
    outcome = run([entry(drop_in, state="absent")])
    assert outcome.changed and outcome.result["changed_paths"] == [str(drop_in)]
    assert not drop_in.exists()
    assert run([entry(drop_in, state="absent")]).changed is False


def test_a_directory_is_made_before_the_file_listed_before_it(tmp_path):
    directory = tmp_path / "system.conf.d"
    conf = directory / "bulwark-content-trust.conf"
    outcome = run([entry(conf, content="[Manager]\n"), entry(directory, state="directory", mode="0755")])
    assert not outcome.failed, outcome.msg
    assert conf.read_text() == "[Manager]\n" and mode_of(directory) == 0o755


def test_a_bad_entry_fails_and_nothing_is_written(tmp_path):
    good = tmp_path / "good.conf"
    outcome = run([entry(good, content="x\n"), entry(tmp_path / "bad.conf", content="x\n", owner="bulwark-no-such-user")])
    assert outcome.failed
    assert outcome.msg == "nothing was changed: %s: user 'bulwark-no-such-user' does not exist on this host" % (tmp_path / "bad.conf")
    assert not good.exists()


def test_an_unquoted_yaml_mode_is_taken_as_the_mode_value(tmp_path):
    target = tmp_path / "f"
    run([entry(target, content="x", mode=0o640)])  # YAML's 0640 arrives as the integer 416
    assert mode_of(target) == 0o640


def test_defaults_are_a_root_owned_file(tmp_path, monkeypatch):
    seen = []
    real_plan = library.plan
    monkeypatch.setattr(library, "plan", lambda entries, **kw: seen.extend(entries) or real_plan(entries, **kw))
    run([{"path": str(tmp_path / "f"), "content": "x", "mode": "0644", "owner": OWNER, "group": GROUP}], check_mode=True)
    run([{"path": str(tmp_path / "d"), "state": "absent"}])
    assert seen[0]["state"] == "file" and seen[0]["secret"] is False
    assert (seen[1]["owner"], seen[1]["group"]) == ("root", "root")
