# -*- coding: utf-8 -*-
"""The replacement journal: atomic, root-only entries, the kill hook, and the step list."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import journal as journaling
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import (
    COMMITTED, KILL_AT, STEPS, Journal, committed, kill_hook, write_atomically,
)

from remediate_fixtures import WEB_ID


def entry(**fields):
    return dict({"name": "shop-web-1", "old_id": WEB_ID, "new_id": None, "started": "2026-11-20T09:14:03.000000Z"}, **fields)


def test_the_steps_and_where_a_replacement_stands():
    assert STEPS[0] == "create" and STEPS[-1] == "done" and STEPS[COMMITTED] == "restore_restart"
    assert not committed("verify") and committed("restore_restart") and committed("done")
    assert not committed(None) and not committed("unknown")


def test_an_entry_is_written_whole_with_its_step_root_only(tmp_path):
    book = Journal(str(tmp_path / "state"), hook=lambda step: None)
    assert book.problem() is None
    assert stat.S_IMODE(os.stat(book.directory).st_mode) == 0o700
    record = entry()
    book.record(record, "rename_old")
    path = os.path.join(book.directory, "replacing-4b5e57f6eb2f.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        assert json.load(handle) == dict(record, step="rename_old", format=1)
    assert sorted(os.listdir(book.directory)) == [".lock", "replacing-4b5e57f6eb2f.json"]  # no temporary file left  # no temporary file left
    assert book.entries() == [(path, dict(record, step="rename_old", format=1))]
    book.forget(record)
    assert book.entries() == [] and os.listdir(book.directory) == [".lock"]
    book.forget(record)  # twice is fine


def test_one_run_at_a_time(tmp_path):
    first, second = Journal(str(tmp_path)), Journal(str(tmp_path))
    assert first.problem() is None and first.lock()
    assert not second.lock()
    assert second.problem() == "another container_remediate run holds %s" % (tmp_path / ".lock")
    os.close(first._lock)  # what the end of the first run's process does  # pylint: disable=protected-access
    assert second.lock()


def test_the_hook_runs_after_the_entry_is_written(tmp_path):
    seen = []
    book = Journal(str(tmp_path), hook=lambda step: seen.append((step, len(book.entries()))))
    book.record(entry(), "stop_old")
    assert seen == [("stop_old", 1)]


def test_entries_oldest_first_and_unreadable_ones_reported(tmp_path):
    book = Journal(str(tmp_path), hook=lambda step: None)
    book.record(entry(old_id="b" * 64, started="2026-11-20T10:00:00.000000Z"), "create")
    book.record(entry(old_id="a" * 64, started="2026-11-20T11:00:00.000000Z"), "create")
    (tmp_path / "replacing-cccccccccccc.json").write_text("{not json")
    (tmp_path / "compose-shop.json").write_text("{}")  # not an entry
    found = book.entries()
    assert [(os.path.basename(path), (data or {}).get("old_id", "")[:1]) for path, data in found] == [
        ("replacing-cccccccccccc.json", ""), ("replacing-bbbbbbbbbbbb.json", "b"), ("replacing-aaaaaaaaaaaa.json", "a")]


def test_a_directory_others_may_write_is_not_used(tmp_path):
    directory = tmp_path / "open"
    directory.mkdir()
    directory.chmod(0o777)
    book = Journal(str(directory))
    assert "writable by group or others" in book.problem()
    (directory / "replacing-aaaaaaaaaaaa.json").write_text(json.dumps(entry()))
    assert book.entries() == []  # a forged entry there is never acted on


def test_a_missing_directory_has_no_entries_and_is_made_on_first_need(tmp_path):
    book = Journal(str(tmp_path / "a" / "b"))
    assert book.entries() == [] and not os.path.exists(book.directory)
    assert book.problem() is None and os.path.isdir(book.directory)


def test_a_directory_that_cannot_be_made_says_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    problem = Journal(str(blocker / "state")).problem()
    assert str(blocker) in problem and "not a directory" in problem.lower()


def test_the_kill_hook_fires_only_at_its_step(monkeypatch):
    killed = []
    monkeypatch.setattr(journaling.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    kill_hook("verify", {KILL_AT: "stop_old"})
    kill_hook("verify", {})
    assert killed == []
    kill_hook("stop_old", {KILL_AT: "stop_old"})
    assert killed == [(os.getpid(), journaling.signal.SIGKILL)]


def test_write_atomically_replaces_and_leaves_no_temporary_on_failure(tmp_path, monkeypatch):
    path = str(tmp_path / "file")
    write_atomically(path, "one\n")
    write_atomically(path, "two\n", mode=0o644)
    assert open(path).read() == "two\n" and stat.S_IMODE(os.stat(path).st_mode) == 0o644

    def broken(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(journaling.os, "replace", broken)
    with pytest.raises(OSError):
        write_atomically(path, "three\n")
    assert open(path).read() == "two\n" and os.listdir(str(tmp_path)) == ["file"]
