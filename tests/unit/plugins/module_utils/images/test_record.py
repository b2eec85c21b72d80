# -*- coding: utf-8 -*-
"""The record of a run's scan containers: locked while the run lives, settled by the next run, never trusted when
someone else could have written it."""

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.images.containers import not_removable
from ansible_collections.bulwark.hardening.plugins.module_utils.images.record import RecordEntry, RunRecord, finished_runs

HOST = "unix:///var/run/docker.sock"
RUN = "0123456789abcdef"
NAME = "bulwark-image-scan-%s-0" % RUN
IMAGE = "sha256:" + "a" * 64


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / "runs"
    path.mkdir(mode=0o700)
    return str(path)


def left_by_a_dead_run(directory, run_id=RUN, settle=False):
    record = RunRecord.start(directory, run_id, HOST)
    record.planned(NAME, IMAGE)
    record.created(NAME, "c" * 64)
    if settle:
        record.settled(NAME, "removed")
    record.close()
    return record.path


def test_a_run_that_settled_everything_leaves_no_record(directory):
    assert not os.path.exists(left_by_a_dead_run(directory, settle=True))
    assert os.listdir(directory) == []


def test_an_unsettled_record_is_adopted_by_the_next_run_with_what_it_names(directory):
    path = left_by_a_dead_run(directory)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    [record] = list(finished_runs(directory, own_run_id="f" * 16))
    with record:
        assert (record.run_id, record.docker_host) == (RUN, HOST)
        [entry] = record.unsettled()
        assert (entry.name, entry.image, entry.id) == (NAME, IMAGE, "c" * 64)
        record.settled(NAME, "gone")
    assert not os.path.exists(path)


def test_a_record_whose_run_is_still_going_is_not_adopted(directory):
    alive = RunRecord.start(directory, RUN, HOST)
    alive.planned(NAME, IMAGE)
    try:
        assert list(finished_runs(directory, own_run_id="f" * 16)) == []
    finally:
        alive.close()
    assert [record.run_id for record in finished_runs(directory)] == [RUN]


def test_a_torn_last_line_is_skipped(directory):
    path = left_by_a_dead_run(directory)
    with open(path, "ab") as handle:
        handle.write(b'{"name": "bulwark-image-scan-0123456789abcdef-1", "ima')
    [record] = list(finished_runs(directory))
    with record:
        assert [entry.name for entry in record.unsettled()] == [NAME]


def test_a_run_that_died_before_its_first_container_leaves_nothing_to_settle(directory):
    starting = os.path.join(directory, ".%s.tmp" % RUN)
    with open(starting, "w") as handle:
        handle.write("")
    os.chmod(starting, 0o600)
    assert list(finished_runs(directory)) == [] and os.listdir(directory) == []


@pytest.mark.parametrize("spoil", ["symlink", "group-writable", "other-owner", "other-name", "other-header"])
def test_files_that_are_not_a_record_of_ours_are_never_adopted(directory, tmp_path, spoil):
    path = left_by_a_dead_run(directory)
    if spoil == "symlink":
        target = tmp_path / "elsewhere.jsonl"
        os.rename(path, str(target))
        os.symlink(str(target), path)
    elif spoil == "group-writable":
        os.chmod(path, 0o620)
    elif spoil == "other-owner":
        if os.geteuid() != 0:
            pytest.skip("needs root to give a file to another user")
        os.chown(path, 4321, 4321)
    elif spoil == "other-name":
        os.rename(path, os.path.join(directory, "bulwark-%s.jsonl" % RUN))
    elif spoil == "other-header":
        os.rename(path, os.path.join(directory, "%s.jsonl" % ("9" * 16)))  # its header names another run
    assert list(finished_runs(directory)) == []


def inspect(**changes):
    data = {"Id": "c" * 64, "Name": "/" + NAME,
            "Config": {"Image": IMAGE, "Labels": {"bulwark.image-scan": RUN}, "Cmd": ["/bulwark-layer-scan-never-runs"]},
            "State": {"Status": "created", "Running": False, "Paused": False, "Restarting": False,
                      "StartedAt": "0001-01-01T00:00:00Z"}}
    for path, value in changes.items():
        where = data
        keys = path.split("__")
        for key in keys[:-1]:
            where = where[key]
        where[keys[-1]] = value
    return data


def entry(container_id="c" * 64):
    recorded = RecordEntry(NAME, IMAGE)
    recorded.id = container_id
    return recorded


@pytest.mark.parametrize("changes,reason", [
    ({}, None),
    ({"Name": "/their-app"}, "another container"),
    ({"Id": "d" * 64}, "another container"),
    ({"Config__Labels": {"bulwark.image-scan": "1"}}, "not the scan container"),
    ({"Config__Labels": {}}, "not the scan container"),
    ({"Config__Image": "sha256:" + "b" * 64}, "not the scan container"),
    ({"Config__Cmd": ["/bin/sh"]}, "not the scan container"),
    ({"State__Status": "running", "State__Running": True}, "it is running"),
    ({"State__Status": "exited", "State__StartedAt": "2026-11-01T00:00:00Z"}, "it is exited"),
    ({"State__StartedAt": "2026-11-01T00:00:00Z"}, "it was started"),
    ({"State__Paused": True}, "not created"),
])
def test_only_the_very_container_that_was_created_and_never_started_may_go(changes, reason):
    found = not_removable(inspect(**changes), entry(), RUN)
    assert found is None if reason is None else reason in found
    assert not_removable(inspect(), entry(None), RUN) is None  # killed before create returned: by name
    assert not_removable(inspect(), entry(), "f" * 16) is not None  # another run's container
