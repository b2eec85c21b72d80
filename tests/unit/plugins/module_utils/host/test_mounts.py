# -*- coding: utf-8 -*-
"""Unit tests for host.mounts: /proc/self/mounts parsing, fstab edits, remounts, the 1.1.1 report."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import failed, passed, skipped
from ansible_collections.bulwark.hardening.plugins.module_utils.host import mounts

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import host_env, reader

PROC_MOUNTS = (
    "/dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0\n"
    "tmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0\n"
    "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1048576k 0 0\n"
    "/dev/vdb1 /mnt/backup\\040disk ext4 rw,relatime 0 0\n"
)
FSTAB = (
    "# /etc/fstab: static file system information.\n"
    "UUID=1234-abcd /               ext4    errors=remount-ro 0       1\n"
    "tmpfs          /tmp            tmpfs   defaults,nosuid   0       0\n"
)
OPTIONS = ["nodev", "nosuid", "noexec"]
PARTITION_PASS = passed("/var/lib/docker is a separate filesystem (device 254:16)")
PARTITION_FAIL = failed("/var/lib/docker is on the filesystem mounted at / (device 254:0)")


def test_parse_mounts_reads_type_source_and_options_with_octal_escapes():
    found = mounts.parse_mounts(PROC_MOUNTS)
    assert found["/tmp"] == ("tmpfs", "tmpfs", ["rw", "nosuid", "nodev", "noexec", "relatime", "size=1048576k"])
    assert found["/mnt/backup disk"] == ("ext4", "/dev/vdb1", ["rw", "relatime"])
    assert "/mnt/backup\\040disk" not in found


def test_parse_mounts_later_mounts_win():
    found = mounts.parse_mounts("tmpfs /tmp tmpfs rw 0 0\n/dev/vdc /tmp ext4 rw,nodev 0 0\n")
    assert found["/tmp"] == ("ext4", "/dev/vdc", ["rw", "nodev"])


def test_fstab_existing_line_keeps_its_options_and_gets_the_missing_ones():
    text = mounts.fstab_with_options(FSTAB, "/tmp", "tmpfs", "tmpfs", OPTIONS)
    line = [line for line in text.splitlines() if " /tmp " in line or "\t/tmp\t" in line]
    assert len(line) == 1
    assert line[0].split()[3] == "defaults,nosuid,nodev,noexec"
    assert "UUID=1234-abcd /               ext4    errors=remount-ro 0       1" in text.splitlines()


def test_fstab_without_a_line_for_the_mount_point_gets_a_tmpfs_line():
    text = mounts.fstab_with_options(FSTAB, "/dev/shm", "tmpfs", "tmpfs", OPTIONS)
    assert text.splitlines()[-1] == "tmpfs\t/dev/shm\ttmpfs\tdefaults,nodev,nosuid,noexec\t0\t0"
    assert text.startswith(FSTAB)


def test_fstab_with_options_applied_twice_equals_once():
    once = mounts.fstab_with_options(FSTAB, "/tmp", "tmpfs", "tmpfs", OPTIONS)
    once = mounts.fstab_with_options(once, "/dev/shm", "tmpfs", "tmpfs", OPTIONS)
    twice = mounts.fstab_with_options(once, "/tmp", "tmpfs", "tmpfs", OPTIONS)
    twice = mounts.fstab_with_options(twice, "/dev/shm", "tmpfs", "tmpfs", OPTIONS)
    assert twice == once


def test_fstab_commented_lines_for_the_mount_point_are_not_edited():
    text = mounts.fstab_with_options("#tmpfs /tmp tmpfs defaults 0 0\n", "/tmp", "tmpfs", "tmpfs", OPTIONS)
    assert text == "#tmpfs /tmp tmpfs defaults 0 0\ntmpfs\t/tmp\ttmpfs\tdefaults,nodev,nosuid,noexec\t0\t0\n"


def test_fstab_line_that_already_has_the_options_is_left_as_it_is():
    # A compliant host: nothing to change, so /etc/fstab must not be rewritten (not even its spacing).
    fstab = "UUID=1234-abcd / ext4 errors=remount-ro 0 1\ntmpfs /tmp tmpfs defaults,nodev,nosuid,noexec 0 0\n"
    assert mounts.fstab_with_options(fstab, "/tmp", "tmpfs", "tmpfs", OPTIONS) == fstab


def plan(options_by_point, proc_mounts=PROC_MOUNTS, fstab=FSTAB, partition=PARTITION_PASS, env=None):
    return mounts.plan(options_by_point, partition, env or host_env(),
                       read=reader({"/proc/self/mounts": proc_mounts, "/etc/fstab": fstab}))


def test_a_path_that_is_not_its_own_mount_is_noted_and_not_changed():
    area = plan({"/var/tmp": OPTIONS})
    assert area.notes == ["/var/tmp is not its own mount: nodev,nosuid,noexec cannot be set without one"]
    assert area.actions == [] and area.files == []
    assert area.report["/var/tmp"] is None


def test_a_live_mount_missing_an_option_is_remounted_and_fstab_gets_it():
    area = plan({"/dev/shm": OPTIONS})
    assert [action.argv for action in area.actions] == [["mount", "-o", "remount,noexec", "/dev/shm"]]
    assert area.report["/dev/shm"]["missing"] == ["noexec"]
    assert area.files[0].path == "/etc/fstab"
    assert area.files[0].before == FSTAB
    assert "tmpfs\t/dev/shm\ttmpfs\tdefaults,nodev,nosuid,noexec\t0\t0" in area.files[0].after.splitlines()


def test_live_options_already_set_need_no_remount_but_fstab_still_carries_them():
    area = plan({"/tmp": OPTIONS})
    assert area.actions == []
    assert area.report["/tmp"]["missing"] == []
    # The boot-time line lacked nodev and noexec: fstab is completed so the next boot keeps them.
    assert area.files[0].after.splitlines()[-1].split()[3] == "defaults,nosuid,nodev,noexec"


def test_a_compliant_host_plans_nothing():
    fstab = mounts.fstab_with_options(FSTAB, "/tmp", "tmpfs", "tmpfs", OPTIONS)
    area = plan({"/tmp": OPTIONS}, fstab=fstab)
    assert area.files == [] and area.actions == [] and not area.changed


def test_a_compliant_host_whose_fstab_is_spaced_with_blanks_plans_nothing():
    # Live options and the fstab line both have nodev,nosuid,noexec: no file change, changed stays false.
    fstab = "UUID=1234-abcd / ext4 errors=remount-ro 0 1\ntmpfs /tmp tmpfs defaults,nodev,nosuid,noexec 0 0\n"
    area = plan({"/tmp": OPTIONS}, fstab=fstab)
    assert area.files == [] and area.actions == [] and not area.changed


def test_a_non_tmpfs_mount_keeps_its_own_source_in_fstab():
    area = plan({"/mnt/backup disk": ["nodev"]})
    assert area.actions[0].argv == ["mount", "-o", "remount,nodev", "/mnt/backup disk"]
    assert area.files[0].after.splitlines()[-1].startswith("/dev/vdb1\t")


def test_a_failed_1_1_1_outcome_is_reported_as_a_note():
    area = plan({}, partition=PARTITION_FAIL)
    assert area.report["1.1.1"] == {"status": "fail", "evidence": PARTITION_FAIL.evidence}
    assert any(note.startswith("1.1.1: " + PARTITION_FAIL.evidence) and "never moved" in note for note in area.notes)


def test_a_skipped_1_1_1_outcome_is_reported_as_a_note_too():
    area = plan({}, partition=skipped("/proc/self/mountinfo not readable"))
    assert any(note.startswith("1.1.1: /proc/self/mountinfo not readable") for note in area.notes)


def test_a_passing_1_1_1_outcome_needs_no_note():
    area = plan({}, partition=PARTITION_PASS)
    assert area.notes == []
    assert area.report["1.1.1"]["status"] == "pass"


def test_in_a_container_the_area_is_skipped_because_mounts_belong_to_the_host():
    area = plan({"/tmp": OPTIONS}, env=host_env(in_container="docker"))
    assert area.skipped == "in a container (docker): mounts belong to the host"
    assert area.files == [] and area.actions == []
