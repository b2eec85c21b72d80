# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directories of cached data that decide findings: only this user may write them.

A cache another user can write could forge what the audit concludes, so a
directory writable by group or others, or owned by someone else, is not
used at all.
"""

from __future__ import annotations

import os
import stat


def private_dir_problem(directory):
    """Why directory must not be used as a private cache, or None when it is fine or does not exist yet."""
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return None  # created by make_private_dir on first use
    except OSError as error:
        return "cannot read %s: %s" % (directory, error.strerror or error)
    if not stat.S_ISDIR(info.st_mode):
        return "%s is not a directory" % directory
    if info.st_uid != os.geteuid():
        return "%s is owned by uid %d, not by this user (uid %d)" % (directory, info.st_uid, os.geteuid())
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "%s is writable by group or others (mode %04o)" % (directory, stat.S_IMODE(info.st_mode))
    return None


def make_private_dir(directory):
    """Create directory (and parents) with mode 0700 when it does not exist; OSError when that fails."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
        os.chmod(directory, 0o700)  # makedirs' mode is filtered by the umask
