# -*- coding: utf-8 -*-
"""Readers of the host dockerd runs on, over a fake /proc."""

from __future__ import annotations

import os

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import host_state

# /proc/<pid>/stat of a dockerd, field 22 (starttime) = 250000 ticks after boot; a name with a space and a ')'.
STAT = "812 (docker d) x) S 1 812 812 0 -1 4194560 31 0 0 0 12 4 0 0 20 0 14 0 250000 1877413888 12929 " \
       "18446744073709551615 1 1 0 0 0 0 0 0 1073995263 0 0 0 17 1 0 0 0 0 0\n"


def fake_proc(tmp_path, stat=STAT, boot="cpu  1 2 3\nbtime 1764000000\nprocesses 9\n"):
    (tmp_path / "812").mkdir()
    (tmp_path / "812" / "stat").write_text(stat)
    (tmp_path / "stat").write_text(boot)
    return str(tmp_path)


def test_a_process_start_is_boot_time_plus_its_ticks(tmp_path):
    ticks = os.sysconf("SC_CLK_TCK")
    assert host_state.process_started_at(812, proc=fake_proc(tmp_path)) == 1764000000 + 250000 / float(ticks)


def test_an_unreadable_process_has_no_start(tmp_path):
    assert host_state.process_started_at(813, proc=fake_proc(tmp_path)) is None


def test_without_a_boot_time_there_is_no_start(tmp_path):
    assert host_state.process_started_at(812, proc=fake_proc(tmp_path, boot="cpu 1\n")) is None


def test_a_file_that_does_not_exist_has_no_modification_time(tmp_path):
    assert host_state.modified_at(str(tmp_path / "absent")) is None
    (tmp_path / "present").write_text("{}")
    assert host_state.modified_at(str(tmp_path / "present")) > 0
