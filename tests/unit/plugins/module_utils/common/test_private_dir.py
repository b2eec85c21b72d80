# -*- coding: utf-8 -*-
"""Private directories: the directory and every parent up to / owned by root or this user, not writable by others
(a sticky parent may be), symlinks followed and checked, made without the umask's say."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import (
    ancestors_problem, make_private_dir, private_dir_problem,
)


def test_a_fresh_private_directory_and_its_parents(tmp_path):
    directory = tmp_path / "a" / "b" / "c"
    assert private_dir_problem(str(directory)) is None  # does not exist yet: fine
    old = os.umask(0)
    try:
        make_private_dir(str(directory))
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", directory):
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o700
    assert private_dir_problem(str(directory)) is None


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_any_level_others_can_write_is_a_problem(tmp_path, depth):
    directory = tmp_path / "a" / "b" / "c"
    make_private_dir(str(directory))
    opened = [directory, directory.parent, directory.parent.parent][depth]
    os.chmod(str(opened), 0o775)
    problem = private_dir_problem(str(directory))
    assert problem is not None and str(opened) in problem and "writable by group or others" in problem


def test_a_sticky_parent_is_allowed(tmp_path):
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(str(sticky), 0o1777)
    make_private_dir(str(sticky / "mine"))
    assert private_dir_problem(str(sticky / "mine")) is None


def test_a_symlinked_parent_is_followed_and_where_it_leads_is_checked(tmp_path):
    unsafe = tmp_path / "unsafe"
    (unsafe / "inner").mkdir(parents=True)
    os.chmod(str(unsafe), 0o777)
    link = tmp_path / "link"
    link.symlink_to(unsafe)
    assert "writable by group or others" in ancestors_problem(str(link / "inner" / "cache"))
    os.chmod(str(unsafe), 0o755)
    assert ancestors_problem(str(link / "inner" / "cache")) is None


def test_the_directory_itself_must_not_be_a_symlink_or_a_file(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    assert "symlink" in private_dir_problem(str(tmp_path / "link"))
    (tmp_path / "file").write_text("x")
    assert "not a directory" in private_dir_problem(str(tmp_path / "file"))
    assert "not a directory" in private_dir_problem(str(tmp_path / "file" / "below"))


def test_root_owned_parents_are_fine_and_other_owners_are_not(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory to another user")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(str(theirs), 4321, 4321)
    assert "owned by uid 4321" in private_dir_problem(str(theirs / "cache"))
    assert "owned by uid 4321" in private_dir_problem(str(theirs))
    assert private_dir_problem("/var/tmp/does-not-exist-bulwark") is None
