# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about the Docker host that section 1 and section 3 rules read.

Parsing is separated from reading, so the parsers are unit-tested on text
and the readers stay one-liners over the real system. Nothing here imports
Ansible or the Docker SDK.
"""

from __future__ import annotations

import collections
import glob
import grp
import os
import posixpath
import pwd
import re
import shlex
import shutil
import stat
import subprocess

from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path

# One audit rule that watches a path. recursive: the rule covers everything
# below the path too (a `-w` watch on a directory, or `-F dir=`).
AuditWatch = collections.namedtuple("AuditWatch", ["path", "perms", "recursive", "text"])

# Audit rules as found: source says where they came from (the running kernel
# via auditctl, or rule files on disk that may not be loaded yet).
AuditRules = collections.namedtuple("AuditRules", ["source", "watches", "error"])

# Owner, group and permission bits of a path; kind is file, dir, socket or other.
FileStat = collections.namedtuple("FileStat", ["path", "uid", "gid", "mode", "kind"])

# Where systemd keeps unit files, most specific first (an admin's copy in
# /etc overrides the package's).
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")

# Where binaries of the Docker stack usually live, beyond $PATH.
BINARY_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin")

AUDIT_RULE_FILES = ("/etc/audit/audit.rules", "/etc/audit/rules.d/*.rules")

# Files whose variables reach the docker CLI for users and services (CIS 4.5).
CONTENT_TRUST_FILES = (
    "/etc/environment",
    "/etc/profile",
    "/etc/profile.d/*.sh",
    "/etc/bash.bashrc",
    "/etc/systemd/system.conf",
    "/etc/systemd/system.conf.d/*.conf",
)
CONTENT_TRUST_ON = re.compile(r"""(?:^|[\s"'=])DOCKER_CONTENT_TRUST=["']?1["']?(?:\s|$|")""")


# --- audit rules -----------------------------------------------------------

def _watch_from_fields(fields, text):
    """An AuditWatch from one rule's split fields, or None when it watches no path."""
    if "-w" in fields:
        index = fields.index("-w")
        perms = fields[fields.index("-p") + 1] if "-p" in fields[:-1] else "rwxa"
        return AuditWatch(normal_path(fields[index + 1]), perms, True, text) if index + 1 < len(fields) else None
    path, recursive, perms = None, False, "rwxa"
    for index, field in enumerate(fields[:-1]):
        if field != "-F":
            continue
        name, _sep, value = fields[index + 1].partition("=")
        if name == "path":
            path = value
        elif name == "dir":
            path, recursive = value, True
        elif name == "perm":
            perms = value
    return AuditWatch(normal_path(path), perms, recursive, text) if path else None


def parse_audit_rules(text):
    """AuditWatch entries from auditctl -l output or audit .rules file content."""
    watches = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = shlex.split(line)
        except ValueError:
            continue
        watch = _watch_from_fields(fields, line)
        if watch:
            watches.append(watch)
    return watches


def covering_watches(rules, path):
    """Rules that audit `path`: on the path itself, or recursively on a directory above it.

    A plain substring match (what shell implementations do) would let a
    rule on /usr/bin/containerd-shim count for /usr/bin/containerd.
    """
    wanted = {normal_path(path), normal_path(os.path.realpath(path))}
    found = []
    for watch in rules.watches:
        if watch.path in wanted:
            found.append(watch)
        elif watch.recursive and any(is_within(candidate, watch.path) for candidate in wanted):
            found.append(watch)
    return found


def read_audit_rules(run=subprocess.run, which=shutil.which):
    """The loaded kernel rules via `auditctl -l`, else the rule files on disk."""
    auditctl = which("auditctl")
    if auditctl:
        try:
            result = run([auditctl, "-l"], capture_output=True, text=True, check=False, timeout=10)
        except (OSError, subprocess.SubprocessError) as error:
            result, failure = None, str(error)
        else:
            failure = (result.stderr or "").strip() or "exit code %s" % result.returncode
        if result is not None and result.returncode == 0:
            return AuditRules("auditctl -l", parse_audit_rules(result.stdout), None)
    else:
        failure = "auditctl not installed"
    text, files = _read_rule_files()
    if files:
        return AuditRules("rule files %s (not verified as loaded: %s)" % (", ".join(files), failure),
                          parse_audit_rules(text), None)
    return AuditRules(None, [], "no audit rules: %s, and no files %s" % (failure, " ".join(AUDIT_RULE_FILES)))


def _read_rule_files():
    texts, files = [], []
    for pattern in AUDIT_RULE_FILES:
        for path in sorted(glob.glob(pattern)):
            content = _read_text(path)
            if content is not None:
                texts.append(content)
                files.append(path)
    return "\n".join(texts), files


# --- users, mounts, processes ----------------------------------------------

def docker_group(group_name="docker", getgrnam=None, getpwall=None):
    """(gid, sorted member names) of the group that may use the Docker socket; (None, None) without it.

    Members are the group's member list plus every user whose primary group it is.
    """
    getgrnam = getgrnam or grp.getgrnam
    getpwall = getpwall or pwd.getpwall
    try:
        group = getgrnam(group_name)
    except KeyError:
        return None, None
    members = set(group.gr_mem)
    members.update(user.pw_name for user in getpwall() if user.pw_gid == group.gr_gid)
    return group.gr_gid, sorted(members)


def parse_mountinfo(text):
    """{mount point: device ("major:minor")} from /proc/<pid>/mountinfo content; later mounts win."""
    points = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4:
            points[_unescape_mount(fields[4])] = fields[2]
    return points


def filesystem_of(mountpoints, path):
    """(mount point, device) of the mount that holds path: the longest mount point above it."""
    best = None
    for point in mountpoints:
        if point == "/" or path == point or path.startswith(point.rstrip("/") + "/"):
            if best is None or len(point) > len(best):
                best = point
    return (best, mountpoints[best]) if best is not None else (None, None)


def read_mountpoints(path="/proc/self/mountinfo"):
    content = _read_text(path)
    return parse_mountinfo(content) if content is not None else None


def find_pid(comm, pidfiles=(), proc="/proc"):
    """Pid of a process by its command name: from the first pidfile naming such a process,
    else the newest process with that name (a scan of /proc)."""
    for pidfile in pidfiles:
        content = (_read_text(pidfile) or "").strip()
        if content.isdigit() and _read_text("%s/%s/comm" % (proc, content)) == comm + "\n":
            return int(content)
    newest = None
    for entry in os.listdir(proc):
        if entry.isdigit() and _read_text("%s/%s/comm" % (proc, entry)) == comm + "\n":
            newest = max(newest or 0, int(entry))
    return newest


def read_cmdline(pid, proc="/proc"):
    """argv of a process, or None when it is gone or unreadable."""
    try:
        with open("%s/%s/cmdline" % (proc, pid), "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part] or None


def process_binary(pid, proc="/proc"):
    try:
        return os.path.realpath(os.readlink("%s/%s/exe" % (proc, pid)))
    except OSError:
        return None


def find_binary(name, dirs=BINARY_DIRS):
    """Path of an executable in $PATH or the usual directories, or None."""
    search = os.pathsep.join([os.environ.get("PATH", "")] + list(dirs))
    return shutil.which(name, path=search)


def find_unit(name, dirs=UNIT_DIRS):
    for directory in dirs:
        path = posixpath.join(directory, name)
        if os.path.exists(path):
            return path
    return None


def content_trust_sources(patterns=CONTENT_TRUST_FILES, environ=None):
    """Where DOCKER_CONTENT_TRUST=1 is set system-wide (files), plus this process's environment."""
    found = []
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            text = _read_text(path) or ""
            if any(CONTENT_TRUST_ON.search(line) for line in text.splitlines() if not line.lstrip().startswith("#")):
                found.append(path)
    environ = os.environ if environ is None else environ
    if environ.get("DOCKER_CONTENT_TRUST") == "1":
        found.append("environment of the audit process")
    return found


def stat_path(path, stat_fn=os.stat):
    """FileStat of path (symlinks followed: the daemon uses the target), or None if absent."""
    try:
        result = stat_fn(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(result.st_mode):
        kind = "dir"
    elif stat.S_ISREG(result.st_mode):
        kind = "file"
    elif stat.S_ISSOCK(result.st_mode):
        kind = "socket"
    else:
        kind = "other"
    return FileStat(path, result.st_uid, result.st_gid, stat.S_IMODE(result.st_mode), kind)


def files_below(directory):
    """Regular files under a directory, sorted; empty when it does not exist."""
    found = []
    for root, _dirs, names in os.walk(directory):
        found.extend(posixpath.join(root, name) for name in names)
    return sorted(path for path in found if os.path.isfile(path))


# --- helpers ---------------------------------------------------------------

def _read_text(path):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _unescape_mount(field):
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)
