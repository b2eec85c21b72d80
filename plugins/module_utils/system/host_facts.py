# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Facts about the Docker host that section 1 and section 3 rules read: the docker group, mounts, processes,
binaries and systemd units, content trust settings, file metadata, container or machine. The host's audit
rules are read in audit_rules.py, the package that installed dockerd in packages.py.

Parsing is separated from reading, so the parsers are unit-tested on text
and the readers stay one-liners over the real system. Nothing here imports
Ansible or the Docker SDK.
"""

from __future__ import annotations

import collections
import functools
import glob
import grp
import os
import posixpath
import pwd
import re
import shutil
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles


# Owner, group and permission bits of a path; kind is file, dir, socket or other.
FileStat = collections.namedtuple("FileStat", ["path", "uid", "gid", "mode", "kind"])

# Where systemd keeps unit files, most specific first (an admin's copy in
# /etc overrides the package's).
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")

# Where binaries of the Docker stack usually live, beyond $PATH.
BINARY_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin")


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


# --- users, mounts, processes ----------------------------------------------

def docker_group(group_name="docker", getgrnam=None, getpwall=None, getgrgid=None):
    """(gid, sorted member names) of the group dockerd gives its socket; (None, None) without it.

    group_name is dockerd's -G/--group (daemon.json `group`). dockerd looks it
    up as a group name, then as a numeric gid, which it uses even without a
    group entry; an empty name gives the socket no group. Members are the
    group's member list plus every user whose primary group it is.
    """
    getgrnam = getgrnam or grp.getgrnam
    getgrgid = getgrgid or grp.getgrgid
    getpwall = getpwall or pwd.getpwall
    if not group_name:
        return None, None
    try:
        group = getgrnam(group_name)
    except KeyError:
        if not str(group_name).isdigit():
            return None, None
        try:
            group = getgrgid(int(group_name))
        except KeyError:
            gid = int(group_name)
            return gid, sorted(user.pw_name for user in getpwall() if user.pw_gid == gid)
    members = set(group.gr_mem)
    members.update(user.pw_name for user in getpwall() if user.pw_gid == group.gr_gid)
    return group.gr_gid, sorted(members)


def parse_mountinfo(text):
    """{mount point: device ("major:minor")} from /proc/<pid>/mountinfo content; later mounts win."""
    points = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4:
            points[unescape_mount(fields[4])] = fields[2]
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
    content = read_text(path)
    return parse_mountinfo(content) if content is not None else None


def find_pid(comm, pidfiles=(), proc="/proc"):
    """Pid of a process by its command name: from the first pidfile naming such a process,
    else the newest process with that name (a scan of /proc)."""
    for pidfile in pidfiles:
        content = (read_text(pidfile) or "").strip()
        if content.isdigit() and read_text("%s/%s/comm" % (proc, content)) == comm + "\n":
            return int(content)
    newest = None
    for entry in os.listdir(proc):
        if entry.isdigit() and read_text("%s/%s/comm" % (proc, entry)) == comm + "\n":
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


# What the kernel appends to /proc/<pid>/exe once the file a process runs was deleted or replaced on disk.
REPLACED_SUFFIX = " (deleted)"


def installed_path(binary):
    """The path a running process's binary is installed at, without the kernel's " (deleted)" mark."""
    if binary and binary.endswith(REPLACED_SUFFIX):
        return binary[:-len(REPLACED_SUFFIX)]
    return binary


def parse_proc_status(text):
    """{field: value} of /proc/<pid>/status text ("NoNewPrivs:\t1" -> {"NoNewPrivs": "1"})."""
    fields = {}
    for line in (text or "").splitlines():
        name, separator, value = line.partition(":")
        if separator:
            fields[name.strip()] = value.strip()
    return fields


def read_process_file(pid, name, proc="/proc"):
    """(text, None) of /proc/<pid>/<name>, or (None, why) when it cannot be read.

    status and cgroup are world-readable unless /proc is mounted with hidepid;
    root reads them for every process, those of remapped (user namespace) uids
    included.
    """
    path = "%s/%s/%s" % (proc, pid, name)
    try:
        with open(path, "rb") as handle:  # bytes, decoded once: a read per container adds up over a thousand
            return handle.read().decode("utf-8", "replace"), None
    except OSError as error:
        return None, "%s: %s" % (path, error.strerror or error)


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


def unit_drop_ins(name, dirs=UNIT_DIRS):
    """A unit's drop-in files (<name>.d/*.conf) in the order systemd applies them.

    systemd sorts drop-ins by file name over every unit directory; of two with
    the same name, the one in the earlier (more specific) directory wins.
    """
    chosen = {}
    for directory in dirs:
        for path in glob.glob(posixpath.join(directory, name + ".d", "*.conf")):
            chosen.setdefault(posixpath.basename(path), path)
    return [chosen[base] for base in sorted(chosen)]


def read_unit_texts(name, dirs=UNIT_DIRS):
    """The text of a unit as systemd loads it and of its drop-ins, in load order; [] when there is no unit."""
    path = find_unit(name, dirs)
    if path is None:
        return []
    texts = [read_text(path)] + [read_text(drop_in) for drop_in in unit_drop_ins(name, dirs)]
    return [text for text in texts if text is not None]


def content_trust_sources(patterns=CONTENT_TRUST_FILES, environ=None):
    """Where DOCKER_CONTENT_TRUST=1 is set system-wide (files), plus this process's environment."""
    found = []
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            text = read_text(path) or ""
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


# --- container or machine ----------------------------------------------------

# Why the kernel's own settings (its audit rules, among them) are not this target's to set or audit when it is a
# container: the host role's areas skip on it, and the audit reports those rules not applicable, in these words.
KERNEL_OF_THE_HOST = "the kernel and its audit rules belong to the host that runs it"


def container_manager(read=None, exists=None):
    """The container manager this machine runs under (docker, podman, lxc ...), or None on a VM or real host.

    The signs systemd-detect-virt --container reads, without a process: systemd's answer
    (/run/systemd/container), PID 1's `container=` variable, podman's /run/.containerenv, Docker's /.dockerenv.
    The host role (host/environment.py) and the audit (section 1) both ask here.
    """
    read = read or read_text
    exists = exists or os.path.exists
    name = (read("/run/systemd/container") or "").strip()
    if name:
        return name
    for entry in (read("/proc/1/environ") or "").split("\0"):
        if entry.startswith("container="):
            return entry.partition("=")[2] or "unknown"
    if exists("/run/.containerenv"):
        return "podman"
    if exists("/.dockerenv"):
        return "docker"
    return None


# --- helpers ---------------------------------------------------------------

# A text file's content, or None when it cannot be read: a host fact that cannot be read is unknown, not an error,
# and stray bytes in a file the host owns must not stop the audit. Callers reach it as host_facts.read_text (tests
# replace it there).
read_text = functools.partial(textfiles.read_text, none_on=(OSError,), errors="replace")


def unescape_mount(field):
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)
