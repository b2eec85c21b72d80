# -*- coding: utf-8 -*-
"""Unit tests for files.managed_files (and textfiles.write_atomic, which writes its files): real files under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.files import managed_files

# The user running the tests owns what they create: entries name them, so the tests need no root.
OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def entry(path, **fields):
    fields.setdefault("owner", OWNER)
    fields.setdefault("group", GROUP)
    if fields.get("state", "file") != "absent":
        fields.setdefault("mode", "0644")
    return dict(path=str(path), **fields)


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def run(entries):
    """Plan and apply; (plans, paths changed)."""
    plans = managed_files.plan(entries)
    return plans, managed_files.apply(plans)


def test_a_new_file_is_created_with_its_content_and_mode(tmp_path):
    target = tmp_path / "docker-content-trust.sh"
    plans, done = run([entry(target, content="export DOCKER_CONTENT_TRUST=1\n", mode="0640")])
    assert done == [str(target)]
    assert target.read_text() == "export DOCKER_CONTENT_TRUST=1\n"
    assert mode_of(target) == 0o640
    assert plans[0].report() == {"path": str(target), "state": "file", "changed": True, "changes": ["created"]}


def test_new_content_replaces_the_file_atomically_with_the_mode_asked_for(tmp_path):
    target = tmp_path / "seccomp.json"
    target.write_text("old\n")
    os.chmod(target, 0o600)
    inode = os.stat(target).st_ino
    plans, _done = run([entry(target, content="new\n", mode="0644")])
    assert target.read_text() == "new\n"
    assert mode_of(target) == 0o644
    assert os.stat(target).st_ino != inode, "the new content was not renamed into place"
    assert plans[0].changes == ["content", "mode: 0600 -> 0644"]
    assert sorted(os.listdir(tmp_path)) == ["seccomp.json"], "a temporary file was left behind"


def test_the_mode_of_an_unchanged_file_is_fixed_in_place(tmp_path):
    target = tmp_path / "bulwark-content-trust.conf"
    target.write_text("[Manager]\n")
    os.chmod(target, 0o666)
    inode, mtime = os.stat(target).st_ino, os.stat(target).st_mtime_ns
    plans, done = run([entry(target, content="[Manager]\n", mode="0644")])
    assert done == [str(target)]
    assert plans[0].changes == ["mode: 0666 -> 0644"]
    assert mode_of(target) == 0o644
    assert (os.stat(target).st_ino, os.stat(target).st_mtime_ns) == (inode, mtime), "the content was rewritten"


def test_nothing_is_written_when_everything_complies(tmp_path, monkeypatch):
    directory = tmp_path / "tls"
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)
    target = directory / "ca.pem"
    target.write_text("CA\n")
    os.chmod(target, 0o444)
    entries = [entry(directory, state="directory", mode="0700"), entry(target, content="CA\n", mode="0444"),
               entry(tmp_path / "gone.conf", state="absent")]
    before = {path: os.stat(path) for path in (directory, target)}

    def refuse(*_args, **_kwargs):
        raise AssertionError("something was written")

    for name in ("write_atomic",):
        monkeypatch.setattr(textfiles, name, refuse)
    for name in ("chmod", "fchmod", "chown", "fchown", "mkdir", "rename", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, refuse)
    plans, done = run(entries)
    assert done == []
    assert [item.changed for item in plans] == [False, False, False]
    assert managed_files.changed_paths(plans) == [] and managed_files.diff(plans) == []
    monkeypatch.undo()
    assert {path: os.stat(path) for path in (directory, target)} == before


def test_directories_are_made_first_with_their_mode_before_a_file_goes_in(tmp_path, monkeypatch):
    directory = tmp_path / "tls"
    key = directory / "server-key.pem"
    seen = []
    real_write = textfiles.write_atomic

    def spy(path, *args, **kwargs):
        seen.append((path, mode_of(directory)))
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(textfiles, "write_atomic", spy)
    # The file comes first in the list: the directory is still made before it.
    _plans, done = run([entry(key, content="KEY\n", mode="0400", secret=True), entry(directory, state="directory", mode="0700")])
    assert done == [str(directory), str(key)]
    assert seen == [(str(key), 0o700)]
    assert mode_of(directory) == 0o700 and mode_of(key) == 0o400


def test_an_existing_directory_gets_its_mode_before_the_file_inside_is_written(tmp_path, monkeypatch):
    directory = tmp_path / "tls"
    directory.mkdir()
    os.chmod(directory, 0o755)
    key = directory / "server-key.pem"
    seen = []
    real_write = textfiles.write_atomic
    monkeypatch.setattr(textfiles, "write_atomic",
                        lambda path, *a, **k: seen.append(mode_of(directory)) or real_write(path, *a, **k))
    plans, _done = run([entry(directory, state="directory", mode="0700"), entry(key, content="KEY\n", mode="0400")])
    assert seen == [0o700]
    assert plans[0].changes == ["mode: 0755 -> 0700"]


def test_a_new_key_is_never_readable_by_others_while_it_is_written(tmp_path, monkeypatch):
    key = tmp_path / "server-key.pem"
    modes = []
    real_rename = os.rename

    def rename(source, destination):
        modes.append(mode_of(source))
        return real_rename(source, destination)

    monkeypatch.setattr(os, "rename", rename)
    run([entry(key, content="KEY\n", mode="0400", secret=True)])
    assert modes == [0o400]


def test_a_missing_directory_that_is_not_in_the_list_fails_before_anything_is_written(tmp_path):
    fine = tmp_path / "fine.conf"
    orphan = tmp_path / "no-such-dir" / "file.conf"
    with pytest.raises(managed_files.ManagedFileError, match="its directory %s does not exist" % (tmp_path / "no-such-dir")):
        run([entry(fine, content="x\n"), entry(orphan, content="y\n")])
    assert not fine.exists()


def test_a_directory_needs_its_parent_earlier_in_the_list(tmp_path):
    outer, inner = tmp_path / "outer", tmp_path / "outer" / "inner"
    with pytest.raises(managed_files.ManagedFileError, match="before this one"):
        managed_files.plan([entry(inner, state="directory", mode="0755"), entry(outer, state="directory", mode="0755")])
    _plans, done = run([entry(outer, state="directory", mode="0755"), entry(inner, state="directory", mode="0750")])
    assert done == [str(outer), str(inner)] and mode_of(inner) == 0o750


def test_absent_removes_a_file_and_reports_nothing_for_a_missing_one(tmp_path):
    drop_in = tmp_path / "bulwark-hosts.conf"
    drop_in.write_text("[Service]\n")
    plans, done = run([entry(drop_in, state="absent"), entry(tmp_path / "never-there.conf", state="absent")])
    assert done == [str(drop_in)]
    assert not drop_in.exists()
    assert [item.report()["changes"] for item in plans] == [["removed"], []]


def test_absent_removes_a_symlink_itself_never_its_target(tmp_path):
    target = tmp_path / "target"
    target.write_text("kept\n")
    link = tmp_path / "link"
    link.symlink_to(target)
    run([entry(link, state="absent")])
    assert not os.path.lexists(link) and target.read_text() == "kept\n"


def test_absent_refuses_a_directory_with_content(tmp_path):
    directory = tmp_path / "docker.service.d"
    directory.mkdir()
    (directory / "operator.conf").write_text("x")
    with pytest.raises(managed_files.ManagedFileError, match="not empty"):
        managed_files.plan([entry(directory, state="absent")])


def test_a_symlink_is_never_followed_or_replaced(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("theirs\n")
    link = tmp_path / "seccomp.json"
    link.symlink_to(target)
    with pytest.raises(managed_files.ManagedFileError, match="a symlink"):
        run([entry(link, content="ours\n")])
    assert target.read_text() == "theirs\n" and os.path.islink(link)


def test_the_wrong_kind_of_file_fails(tmp_path):
    directory = tmp_path / "docker-content-trust.sh"
    directory.mkdir()
    with pytest.raises(managed_files.ManagedFileError, match="is a directory, not a file"):
        managed_files.plan([entry(directory, content="x\n")])
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(managed_files.ManagedFileError, match="is a file, not a directory"):
        managed_files.plan([entry(plain, state="directory", mode="0755")])


@pytest.mark.parametrize("fields, message", [
    ({"content": "x", "mode": "rwx"}, "not an octal mode"),
    ({"content": "x", "mode": None}, "needs a mode"),
    ({"mode": "0644"}, "state=file needs content"),
    ({"state": "directory", "content": "x", "mode": "0755"}, "content is only for state=file"),
    ({"content": "x", "owner": "bulwark-no-such-user"}, "user 'bulwark-no-such-user' does not exist"),
    ({"content": "x", "group": "bulwark-no-such-group"}, "group 'bulwark-no-such-group' does not exist"),
    ({"content": "x", "state": "link"}, "state must be one of file, directory, absent"),
])
def test_bad_entries_fail_naming_the_path(tmp_path, fields, message):
    path = tmp_path / "file"
    with pytest.raises(managed_files.ManagedFileError, match=message) as raised:
        managed_files.plan([entry(path, **fields)])
    assert str(raised.value).startswith(str(path))
    assert not path.exists()


def test_paths_must_be_absolute_plain_and_given_once(tmp_path):
    with pytest.raises(managed_files.ManagedFileError, match="must be absolute"):
        managed_files.plan([entry("etc/docker/daemon.json", content="x")])
    with pytest.raises(managed_files.ManagedFileError, match="plain form"):
        managed_files.plan([entry(str(tmp_path) + "/a/../b", content="x")])
    with pytest.raises(managed_files.ManagedFileError, match="more than once"):
        managed_files.plan([entry(tmp_path / "a", content="x"), entry(tmp_path / "a", content="y")])


def test_every_bad_entry_is_named_at_once(tmp_path):
    with pytest.raises(managed_files.ManagedFileError) as raised:
        managed_files.plan([entry(tmp_path / "a", content="x", mode="9"), entry(tmp_path / "b", mode="0644")])
    assert "%s: mode" % (tmp_path / "a") in str(raised.value) and "%s: state=file needs content" % (tmp_path / "b") in str(raised.value)


def test_a_path_changed_after_planning_is_left_alone(tmp_path):
    target = tmp_path / "daemon-extra.conf"
    plans = managed_files.plan([entry(target, content="ours\n")])
    target.write_text("someone else's\n")
    with pytest.raises(managed_files.ManagedFileError, match="changed after it was checked") as raised:
        managed_files.apply(plans)
    assert target.read_text() == "someone else's\n"
    assert raised.value.done == []
    assert os.listdir(tmp_path) == ["daemon-extra.conf"]


def test_the_diff_shows_content_and_attributes(tmp_path):
    target = tmp_path / "trust.sh"
    target.write_text("export DOCKER_CONTENT_TRUST=0\n")
    os.chmod(target, 0o600)
    plans = managed_files.plan([entry(target, content="export DOCKER_CONTENT_TRUST=1\n", mode="0644"),
                                entry(tmp_path / "new.d", state="directory", mode="0755")])
    content, attributes, created = managed_files.diff(plans)
    assert content == {"before_header": str(target), "after_header": str(target),
                       "before": "export DOCKER_CONTENT_TRUST=0\n", "after": "export DOCKER_CONTENT_TRUST=1\n"}
    assert attributes["before"] == "state: file\nowner: %s\ngroup: %s\nmode: 0600\n" % (OWNER, GROUP)
    assert attributes["after"] == "state: file\nowner: %s\ngroup: %s\nmode: 0644\n" % (OWNER, GROUP)
    assert (created["before"], created["after"]) == ("state: absent\n", "state: directory\nowner: %s\ngroup: %s\nmode: 0755\n" % (OWNER, GROUP))


def test_a_secret_is_masked_in_the_diff_and_absent_from_the_report(tmp_path):
    key = tmp_path / "server-key.pem"
    key.write_text("OLD PRIVATE KEY\n")
    plans = managed_files.plan([entry(key, content="NEW PRIVATE KEY\n", mode="0400", secret=True)])
    shown = repr(managed_files.diff(plans)) + repr([item.report() for item in plans])
    assert "PRIVATE KEY" not in shown
    assert managed_files.diff(plans)[0]["before"] == managed_files.SECRET_MASK
    assert managed_files.diff(plans)[0]["after"] == managed_files.SECRET_CHANGED_MASK
    removed = managed_files.plan([entry(key, state="absent", secret=True)])
    assert "PRIVATE KEY" not in repr(managed_files.diff(removed))


def test_a_removed_file_shows_its_old_content(tmp_path):
    drop_in = tmp_path / "bulwark-hosts.conf"
    drop_in.write_text("[Service]\nExecStart=\n")
    [content, attributes] = managed_files.diff(managed_files.plan([entry(drop_in, state="absent")]))
    assert (content["before"], content["after"], content["after_header"]) == ("[Service]\nExecStart=\n", "", "%s (absent)" % drop_in)
    assert attributes["after"] == "state: absent\n"


def test_owner_and_group_differences_are_planned_by_name(tmp_path):
    target = tmp_path / "f"
    target.write_text("x")
    ids = {"bulwark-a": 4242}

    def no_such_group(name):
        raise KeyError(name)

    plans = managed_files.plan(
        [entry(target, content="x", owner="bulwark-a", group="4343")],
        getpwnam=lambda name: pwd.struct_passwd((name, "x", ids[name], 0, "", "/", "/bin/sh")),
        getgrnam=no_such_group)
    assert plans[0].changes == ["owner: %s -> 4242" % OWNER, "group: %s -> 4343" % GROUP]
    assert plans[0].chown and not plans[0].write


def test_write_atomic_sets_the_mode_before_the_file_appears_and_cleans_up_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "server-key.pem"
    textfiles.write_atomic(str(target), "KEY\n", 0o400)
    assert target.read_text() == "KEY\n" and mode_of(target) == 0o400

    def refuse():
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        textfiles.write_atomic(str(tmp_path / "other"), b"bytes", 0o644, before_rename=refuse)
    assert sorted(os.listdir(tmp_path)) == ["server-key.pem"]


def test_plan_file_and_apply_keep_their_behaviour(tmp_path):
    # textfiles' own API, which write_atomic now serves: parents made, an existing file keeps its mode.
    path = tmp_path / "sub" / "file.conf"
    change = textfiles.plan_file(str(path), "one\n")
    textfiles.apply(change)
    assert path.read_text() == "one\n" and mode_of(path) == textfiles.DEFAULT_MODE
    os.chmod(path, 0o600)
    textfiles.apply(textfiles.plan_file(str(path), "two\n"))
    assert path.read_text() == "two\n" and mode_of(path) == 0o600
    textfiles.restore(change)
    assert not path.exists()
