# -*- coding: utf-8 -*-
"""Unit tests for common.textfiles: planned whole files, atomic writes, put back after a refusal."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_plan_apply_restore_round_trip_of_an_existing_file(tmp_path):
    path = tmp_path / "sshd.conf"
    path.write_text("old\n")
    change = textfiles.plan_file(str(path), "new\n")
    assert (change.before, change.after, change.changed) == ("old\n", "new\n", True)
    assert change.describe() == "rewrite %s" % path
    assert path.read_text() == "old\n", "planning wrote the file"
    textfiles.apply(change)
    assert path.read_text() == "new\n"
    textfiles.restore(change)
    assert path.read_text() == "old\n"


def test_plan_apply_restore_round_trip_of_a_new_file(tmp_path):
    path = tmp_path / "sub" / "dir" / "new.conf"
    change = textfiles.plan_file(str(path), "content\n")
    assert change.before is None and change.describe() == "create %s" % path
    textfiles.apply(change)
    assert path.read_text() == "content\n"
    textfiles.restore(change)
    assert not path.exists()


def test_a_new_file_gets_the_planned_mode(tmp_path):
    path = tmp_path / "00-drop-in.conf"
    textfiles.apply(textfiles.plan_file(str(path), "x\n", mode=0o600))
    assert mode_of(path) == 0o600
    other = tmp_path / "default.conf"
    textfiles.apply(textfiles.plan_file(str(other), "x\n"))
    assert mode_of(other) == textfiles.DEFAULT_MODE


def test_an_existing_file_keeps_its_own_mode(tmp_path):
    path = tmp_path / "login.defs"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    change = textfiles.plan_file(str(path), "new\n", mode=0o600)
    textfiles.apply(change)
    assert mode_of(path) == 0o640
    textfiles.restore(change)
    assert mode_of(path) == 0o640 and path.read_text() == "old\n"


def test_removal_is_planned_with_none_and_put_back_on_restore(tmp_path):
    path = tmp_path / "old.conf"
    path.write_text("old\n")
    change = textfiles.plan_file(str(path), None)
    assert change.changed and change.describe() == "remove %s" % path
    textfiles.apply(change)
    assert not path.exists()
    textfiles.restore(change)
    assert path.read_text() == "old\n"


def test_removing_a_file_that_does_not_exist_is_no_change(tmp_path):
    change = textfiles.plan_file(str(tmp_path / "absent"), None)
    assert not change.changed
    textfiles.apply(change)
    assert not (tmp_path / "absent").exists()


def test_an_unchanged_file_is_not_rewritten(tmp_path):
    path = tmp_path / "same.conf"
    path.write_text("same\n")
    inode = os.stat(path).st_ino
    change = textfiles.plan_file(str(path), "same\n")
    assert not change.changed
    textfiles.apply(change)
    assert os.stat(path).st_ino == inode


def test_apply_replaces_the_file_atomically_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "rules"
    path.write_text("old\n")
    inode = os.stat(path).st_ino
    textfiles.apply(textfiles.plan_file(str(path), "new\n"))
    assert os.stat(path).st_ino != inode, "the new content was not renamed into place"
    assert sorted(os.listdir(tmp_path)) == ["rules"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "rules"
    path.write_text("old\n")

    def refuse():
        raise RuntimeError("changed under us")

    with pytest.raises(RuntimeError):
        textfiles.write_atomic(str(path), "new\n", 0o644, before_rename=refuse)
    assert path.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["rules"]


def test_diff_shows_absent_files_as_empty(tmp_path):
    path = str(tmp_path / "new.conf")
    assert textfiles.plan_file(path, "x\n").diff() == dict(before_header=path, after_header=path, before="", after="x\n")


def test_read_text_of_a_missing_file_is_none(tmp_path):
    assert textfiles.read_text(str(tmp_path / "absent")) is None


def test_read_text_raises_on_any_other_failure_by_default(tmp_path):
    with pytest.raises(IsADirectoryError):
        textfiles.read_text(str(tmp_path))
    (tmp_path / "latin1").write_bytes(b"caf\xe9\n")
    with pytest.raises(UnicodeDecodeError):
        textfiles.read_text(str(tmp_path / "latin1"))


def test_read_text_says_none_for_the_failures_the_caller_names(tmp_path):
    # Host facts: an unreadable file is an unknown fact, stray bytes are replaced.
    assert textfiles.read_text(str(tmp_path), none_on=(OSError,)) is None
    (tmp_path / "latin1").write_bytes(b"caf\xe9\r\n")
    assert textfiles.read_text(str(tmp_path / "latin1"), none_on=(OSError,), errors="replace") == "caf\ufffd\n"


def test_read_text_can_raise_even_for_a_missing_file_and_keep_line_ends(tmp_path):
    # sshd's key files: the caller names every failure itself; a file compared byte for byte keeps its \r\n.
    with pytest.raises(FileNotFoundError):
        textfiles.read_text(str(tmp_path / "absent"), none_on=())
    (tmp_path / "crlf").write_bytes(b"a\r\nb\n")
    assert textfiles.read_text(str(tmp_path / "crlf"), newline="") == "a\r\nb\n"
    assert textfiles.read_text(str(tmp_path / "crlf")) == "a\nb\n"
