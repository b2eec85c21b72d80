# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Write one run's report files into a directory: JSON, JUnit XML, HTML (with the trend read from the
JSON reports already there) and the per-host text summaries.

A host's findings are for the people who may read them: files are written
0640 in a 0750 directory unless the operator asks for another mode
(DEFAULT_MODE; the directory gets the file mode plus search where it grants
read). The directory is checked before anything is written
(destination_problem): never a symlink, ours when it exists, and no parent
that others could use to swap it. It is then opened once, without
following a symlink, and every file is made through that open directory:
written under a fresh temporary name (O_EXCL, O_NOFOLLOW), given its mode,
and renamed into place - rename replaces a symlink someone left under a
report's name, it never follows it. A directory that already exists is given
the directory mode, so one someone left world-writable is closed first;
earlier reports are read for the trend only when they are regular files of
root or this user that others cannot write (model.load_history).
"""

from __future__ import annotations

import os
import re
import secrets
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import ancestors_problem
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import html, junit, model

DEFAULT_MODE = 0o640
# What slugged names look like (model.slug): anything else is refused, whatever made it.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,250}$")
MODE_TEXT = re.compile(r"^0?o?[0-7]{3}$")


class ReportError(Exception):
    """The reports cannot be written where or how asked; the message says why. Nothing was written."""


def parse_mode(value):
    """The report files' mode from the option (an int as YAML gives 0640, or an octal string "0640"); ReportError
    unless the owner may read and write, nobody may execute and no special bit is set."""
    if value is None:
        return DEFAULT_MODE
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ReportError("mode must be an octal file mode such as \"0640\", not %r" % (value,))
    if isinstance(value, str):
        if not MODE_TEXT.match(value.strip()):
            raise ReportError("mode must be an octal file mode such as \"0640\", not %r" % (value,))
        value = int(value.strip().replace("o", ""), 8)
    if value & ~0o777 or value & 0o111 or value & 0o600 != 0o600:
        raise ReportError("mode %04o is not a report file's mode: the owner must read and write, nobody executes, "
                          "no setuid, setgid or sticky bit (e.g. 0640, 0600, 0644)" % value if 0 <= value <= 0o7777
                          else "mode %r is not a file mode" % (value,))
    return value


def directory_mode(mode):
    """The report directory's mode for a file mode: the same bits, plus search where it grants read (0640 ->
    0750, 0600 -> 0700, 0644 -> 0755)."""
    return mode | (mode & 0o444) >> 2


def destination_problem(directory):
    """Why the reports must not be written into directory, or None (it may not exist yet)."""
    problem = ancestors_problem(directory)
    if problem:
        return problem
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return None
    except OSError as error:
        return "cannot read %s: %s" % (directory, error.strerror or error)
    if stat.S_ISLNK(info.st_mode):
        return "%s is a symlink; give the directory it points to" % directory
    if not stat.S_ISDIR(info.st_mode):
        return "%s is not a directory" % directory
    if info.st_uid != os.geteuid():
        return "%s is owned by uid %d, not by this user (uid %d)" % (directory, info.st_uid, os.geteuid())
    return None


def _make_directories(directory, mode):
    """Create directory and its missing parents with mode (not filtered by the umask)."""
    missing = []
    path = os.path.abspath(directory)
    while not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        os.mkdir(path, mode)
        os.chmod(path, mode)


class ReportDirectory(object):
    """The report directory, checked and opened once; files are made through the open directory."""

    def __init__(self, directory, mode=DEFAULT_MODE, notes=None):
        self.path = directory
        self.mode = mode
        self.notes = notes if notes is not None else []  # what the operator should know (a mode changed)
        problem = destination_problem(directory)
        if problem:
            raise ReportError(problem)
        wanted = directory_mode(mode)
        _make_directories(directory, wanted)
        self.fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        try:
            info = os.fstat(self.fd)
            if info.st_uid != os.geteuid():
                raise ReportError("%s is owned by uid %d, not by this user" % (directory, info.st_uid))
            if stat.S_IMODE(info.st_mode) != wanted:
                os.fchmod(self.fd, wanted)
                if stat.S_IMODE(info.st_mode) & 0o022:
                    self.notes.append("%s was writable by group or others (mode %04o): now %04o; files others put "
                                      "there are not read" % (directory, stat.S_IMODE(info.st_mode), wanted))
        except BaseException:
            os.close(self.fd)
            raise

    def write(self, name, text):
        """Write text (UTF-8; a str, or pieces of it one after the other) as name in the directory, replacing what is
        there without following it; its path."""
        if not SAFE_NAME.match(name):
            raise ReportError("refusing to write a report file named %r" % (name,))
        temporary = ".bulwark-report-%s.tmp" % secrets.token_hex(8)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(temporary, flags, 0o600, dir_fd=self.fd)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                # Encoded a piece at a time (the file object buffers them): never a second copy of a large report.
                for piece in [text] if isinstance(text, str) else text:
                    handle.write(piece.encode("utf-8"))
                os.fchmod(handle.fileno(), self.mode)
            os.replace(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=self.fd)
            except OSError:
                pass
            raise
        return os.path.join(self.path, name)

    def close(self):
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


# Each file of a run and how it is rendered from the report and the trend's points (model.trend()).
# Each makes the text as pieces (a str is one piece), which ReportDirectory.write() writes one after the other.
RENDERERS = (("json", lambda report, points: model.json_parts(report)),
             ("junit", lambda report, points: junit.junit_parts(report)),
             ("html", html.render_html))


def render_all(report, history, limit=20):
    """{"json": text, "junit": text, "html": text} of a report, with history (model.load_history()) for the trend."""
    points = model.trend(history, report, limit)
    return dict((kind, "".join(render(report, points))) for kind, render in RENDERERS)


def write_reports(directory, report, limit=20, mode=DEFAULT_MODE, texts=None, warnings=None):
    """Write the run's three files (and texts: {file name: text}, the per-host summaries) into directory, created
    if needed; returns {kind: path} ("text": [paths] when texts are given). warnings: a list that gets what the
    operator should know (earlier reports left out of the trend, a directory mode tightened).
    Raises ReportError (nothing written) or OSError."""
    warnings = warnings if warnings is not None else []
    names = model.file_names(report)
    for name in list(names.values()) + sorted(texts or {}):
        if not SAFE_NAME.match(name):
            raise ReportError("refusing to write a report file named %r" % (name,))
    with ReportDirectory(directory, mode, warnings) as target:
        history = model.load_history(directory, exclude=names["json"], warnings=warnings, dir_fd=target.fd)
        points = model.trend(history, report, limit)
        # One file at a time, each text let go once written: at 40,000 findings the JUnit text alone is 29 MB, and
        # the controller's largest process is what an operator sizes AWX's container for (docs/scale.md).
        written = dict((kind, target.write(names[kind], render(report, points))) for kind, render in RENDERERS)
        if texts is not None:
            written["text"] = [target.write(name, texts[name]) for name in sorted(texts)]
    return written
