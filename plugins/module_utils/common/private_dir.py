# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Directories whose content decides findings or holds them: only root and this user may change them.

A cache another user can write could forge what the audit concludes, and a
report directory another user can write lets them plant or swap files. It is
not enough to look at the directory alone: whoever can write one of its
parents can rename the directory away and put their own (or a symlink) in
its place. So the directory and every parent up to / must be owned by root
or by this user and not be writable by group or others. A parent that others
may write is accepted only with the sticky bit (as /tmp): there, others can
add entries but cannot rename or remove ours, and the next entry of the path
is checked to be ours like every other. Symlinks on the way are followed,
and the directories they lead to are checked the same way.

Callers check each time they use the directory, not once: a check is a few
lstat calls, and a directory can change between two uses.
"""

from __future__ import annotations

import os
import stat


def _owner_problem(path, info):
    if info.st_uid not in (0, os.geteuid()):
        return "%s is owned by uid %d, not by root or this user (uid %d)" % (path, info.st_uid, os.geteuid())
    return None


def _chain(path):
    """path and each of its ancestors, / first."""
    path = os.path.abspath(path)
    chain = [path]
    while os.path.dirname(chain[-1]) != chain[-1]:
        chain.append(os.path.dirname(chain[-1]))
    return chain[::-1]


def ancestors_problem(path):
    """Why the parents of path (every one up to /) would let others replace path, or None.

    Parents that do not exist yet are fine: they are created by this user.
    """
    absolute = os.path.abspath(path)
    followed = False
    for ancestor in _chain(absolute)[:-1]:
        try:
            info = os.lstat(ancestor)
        except FileNotFoundError:
            break
        except OSError as error:
            return "cannot read %s: %s" % (ancestor, error.strerror or error)
        if stat.S_ISLNK(info.st_mode):
            followed = True  # where it leads is checked below
            problem = _owner_problem(ancestor, info)
        elif not stat.S_ISDIR(info.st_mode):
            return "%s is not a directory" % ancestor
        else:
            problem = _owner_problem(ancestor, info)
            if problem is None and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
                problem = "%s (a parent of %s) is writable by group or others (mode %04o)" % (
                    ancestor, absolute, stat.S_IMODE(info.st_mode))
        if problem:
            return problem
    if followed:
        resolved = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
        if resolved != absolute:
            return ancestors_problem(resolved)
    return None


def directory_problem(directory, info=None):
    """Why directory itself must not be trusted (not a directory, a symlink, another owner, writable by group
    or others), or None. info: its lstat result when the caller has it."""
    try:
        info = info or os.lstat(directory)
    except OSError as error:
        return "cannot read %s: %s" % (directory, error.strerror or error)
    if stat.S_ISLNK(info.st_mode):
        return "%s is a symlink (give the directory it points to)" % directory
    if not stat.S_ISDIR(info.st_mode):
        return "%s is not a directory" % directory
    problem = _owner_problem(directory, info)
    if problem is None and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = "%s is writable by group or others (mode %04o)" % (directory, stat.S_IMODE(info.st_mode))
    return problem


def private_dir_problem(directory):
    """Why directory must not be used as a private cache, or None when it is fine or does not exist yet."""
    problem = ancestors_problem(directory)
    if problem:
        return problem
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return None  # created by make_private_dir on first use
    except OSError as error:
        return "cannot read %s: %s" % (directory, error.strerror or error)
    return directory_problem(directory, info)


def make_private_dir(directory, mode=0o700):
    """Create directory and its missing parents, each with mode (not filtered by the umask); OSError when that
    fails. Existing directories are left as they are."""
    for path in _chain(directory):
        if not os.path.lexists(path):
            try:
                os.mkdir(path, mode)
            except FileExistsError:
                continue  # made meanwhile: checked by the caller like any existing directory
            os.chmod(path, mode)
