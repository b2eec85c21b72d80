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
from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import make_private_dir, private_dir_problem

# One audit rule on a path. recursive: the rule covers everything below the
# path too (a `-w` watch on a directory, or `-F dir=`). action: "always" (it
# records), "never" (it suppresses what matches it) or AMBIGUOUS (auditctl -l
# printed it twice: one of the two is a never rule). conditional: it matches
# only some events (other fields such as auid, or a list of syscalls), so it
# decides nothing for the path as a whole.
AuditWatch = collections.namedtuple("AuditWatch", ["path", "perms", "recursive", "text", "action", "conditional"],
                                    defaults=("always", False))
AMBIGUOUS = "always or never"
# Fields that only say which path, which accesses and which rule: anything else narrows the events a rule matches.
PATH_RULE_FIELDS = ("path", "dir", "perm", "key", "arch")

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

def _rule_action(fields):
    """"always" or "never" from `-a/-A list,action` (either order); always for a -w watch."""
    for flag in ("-a", "-A"):
        if flag in fields[:-1]:
            words = fields[fields.index(flag) + 1].split(",")
            return "never" if "never" in words else "always"
    return "always"


def _is_conditional(fields):
    # A rule that names syscalls other than all, or filters on more than the path, matches only some events.
    for index, field in enumerate(fields[:-1]):
        value = fields[index + 1]
        if field == "-S" and value != "all":
            return True
        if field == "-F" and value.partition("=")[0].partition("!")[0].partition("<")[0].partition(">")[0] \
                not in PATH_RULE_FIELDS:
            return True
    return False


def _watch_from_fields(fields, text):
    """An AuditWatch from one rule's split fields, or None when it names no path."""
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
    if not path:
        return None
    return AuditWatch(normal_path(path), perms, recursive, text, _rule_action(fields), _is_conditional(fields))


def parse_audit_rules(text, listed_by_auditctl=False):
    """AuditWatch entries, in the order the kernel evaluates them, from auditctl -l output or .rules file content.

    auditctl -l prints a never rule that has only a path and a permission filter as a `-w` watch, exactly as
    the always rule for the same path: a line it prints twice (the kernel refuses two equal rules) is one
    rule of each, and which of them comes first cannot be told (listed_by_auditctl marks both AMBIGUOUS).
    In rule files, `-A` puts a rule in front of the ones before it.
    """
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
        if watch is None:
            continue
        if "-A" in fields:
            watches.insert(0, watch)
        else:
            watches.append(watch)
    if listed_by_auditctl:
        counts = collections.Counter(watch.text for watch in watches)
        watches = [watch._replace(action=AMBIGUOUS) if counts[watch.text] > 1 else watch for watch in watches]
    return watches


def _covers(watch, wanted):
    return watch.path in wanted or (watch.recursive and any(is_within(candidate, watch.path) for candidate in wanted))


def _path_rules(rules, path):
    """The rules on `path` (itself, or recursively a directory above it), in evaluation order, up to and with the
    first one that suppresses writes to it: a never rule (or AMBIGUOUS pair) for every event, whose permission
    filter includes writes. The kernel stops at the first rule that matches."""
    wanted = {normal_path(path), normal_path(os.path.realpath(path))}
    found = []
    for watch in rules.watches:
        if not _covers(watch, wanted):
            continue
        found.append(watch)
        if watch.action != "always" and not watch.conditional and "w" in watch.perms:
            break
    return found


def covering_watches(rules, path):
    """Rules that record events on `path`: always rules on the path itself, or recursively on a directory above
    it, that come before any never rule suppressing writes to it. Never rules are never watches.

    A plain substring match (what shell implementations do) would let a
    rule on /usr/bin/containerd-shim count for /usr/bin/containerd.
    """
    return [watch for watch in _path_rules(rules, path) if watch.action == "always"]


def suppressing_rule(rules, path):
    """The never (or AMBIGUOUS) rule that stops writes to `path` from being recorded, or None."""
    found = _path_rules(rules, path)
    if not found or found[-1].action == "always":
        return None
    # A watch recording writes that comes first has already decided.
    return None if any("w" in watch.perms for watch in found[:-1] if watch.action == "always") else found[-1]


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
            return AuditRules("auditctl -l", parse_audit_rules(result.stdout, listed_by_auditctl=True), None)
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
            content = read_text(path)
            if content is not None:
                texts.append(content)
                files.append(path)
    return "\n".join(texts), files


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


# --- the package that installed dockerd (CIS 1.2.2) -------------------------

# What dpkg and apt know about the package that installed dockerd. package: its
# name, or None (note says why); installed / candidate: versions from
# `apt-cache policy` (None for "(none)"); sources: where apt's version table
# finds versions ("/var/lib/dpkg/status" is the installed copy itself); note:
# why something is unknown (dockerd not from a package, a command failed).
# replaced: the running dockerd's binary was replaced on disk after it started (its /proc/<pid>/exe ends in
# " (deleted)"), so the package describes the installed binary, not the running one; path: the installed path.
PackageStatus = collections.namedtuple("PackageStatus", ["package", "installed", "candidate", "sources", "note",
                                                         "replaced", "path"], defaults=(False, None))

DPKG_STATUS = "/var/lib/dpkg/status"
PACKAGE_COMMAND_TIMEOUT = 20
# apt-cache never (re)writes apt's own cache in /var/cache/apt. Building the
# package cache from apt's lists costs about a second of CPU, on every audit, so
# apt keeps its cache for the audit in a directory of bulwark's own (about 40 MB
# on Debian 12): apt itself checks it against dpkg's status and its lists and
# rebuilds it when they changed, else maps it (about 20 ms). Where that
# directory cannot be private (common/private_dir.py), the cache is built in
# memory and nothing is written. Neither command touches the network.
APT_CACHE_DIR = "/var/cache/bulwark/apt"
APT_IN_MEMORY = ("-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=")
# Untranslated output, so the parsers find the words they look for.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
# Directories a merged /usr also shows at the root: dpkg may record /sbin/x for /usr/sbin/x.
MERGED_USR_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# A source line of apt-cache policy's version table: "        500 http://deb.debian.org/debian bookworm/main ...".
_POLICY_SOURCE = re.compile(r"^\s{6,}-?\d+\s+(?P<source>\S.*?)\s*$")


def dpkg_paths(path):
    """path and its other spelling on a merged-/usr system, as dpkg may have recorded either."""
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "usr" and parts[2] in MERGED_USR_DIRS:
        return [path, "/" + "/".join(parts[2:])]
    if len(parts) > 2 and parts[1] in MERGED_USR_DIRS:
        return [path, "/usr" + path]
    return [path]


def parse_dpkg_search(output, paths):
    """The package owning one of paths, from `dpkg -S <path>...` output; None when none does.

    Lines are "package[:arch][, other]: path"; diversion lines are skipped.
    """
    for line in output.splitlines():
        if line.startswith("diversion by "):
            continue
        packages, separator, owned = line.partition(": ")
        if separator and owned.strip() in paths:
            return packages.split(",")[0].strip().split(":")[0]
    return None


def parse_apt_policy(output):
    """(installed, candidate, sources) from `apt-cache policy <package>` output in the C locale.

    Versions are None for "(none)" or when absent; sources lists each place
    the version table names, sorted, without duplicates.
    """
    fields, sources = {}, set()
    for line in output.splitlines():
        name, separator, value = line.strip().partition(":")
        if separator and name in ("Installed", "Candidate"):
            fields[name] = None if value.strip() in ("", "(none)") else value.strip()
            continue
        source = _POLICY_SOURCE.match(line)
        if source:
            sources.add(source.group("source"))
    return fields.get("Installed"), fields.get("Candidate"), sorted(sources)


def compare_debian_versions(left, right):
    """Negative, zero or positive as dpkg orders two versions ([epoch:]upstream[-revision])."""
    left_epoch, left_upstream, left_revision = _split_debian_version(left)
    right_epoch, right_upstream, right_revision = _split_debian_version(right)
    if left_epoch != right_epoch:
        return left_epoch - right_epoch
    return _verrevcmp(left_upstream, right_upstream) or _verrevcmp(left_revision, right_revision)


def _split_debian_version(version):
    epoch, separator, rest = version.strip().partition(":")
    if not separator or not epoch.isdigit():
        epoch, rest = "0", version.strip()
    upstream, hyphen, revision = rest.rpartition("-")
    if not hyphen:
        upstream, revision = rest, ""
    return int(epoch), upstream, revision


def _is_digit(text, index):
    return index < len(text) and "0" <= text[index] <= "9"


def _order(text, index):
    # dpkg's order(): digits and the end weigh 0, ~ sorts before everything, letters before other symbols.
    if index >= len(text) or _is_digit(text, index):
        return 0
    char = text[index]
    if char == "~":
        return -1
    return ord(char) if char.isascii() and char.isalpha() else ord(char) + 256


def _verrevcmp(left, right):
    """dpkg's verrevcmp: alternate non-digit runs (compared by _order) and digit runs (compared as numbers)."""
    i = j = 0
    while i < len(left) or j < len(right):
        while (i < len(left) and not _is_digit(left, i)) or (j < len(right) and not _is_digit(right, j)):
            difference = _order(left, i) - _order(right, j)
            if difference:
                return difference
            i, j = i + 1, j + 1
        start_i, start_j = i, j
        while _is_digit(left, i):
            i += 1
        while _is_digit(right, j):
            j += 1
        difference = int(left[start_i:i] or 0) - int(right[start_j:j] or 0)
        if difference:
            return difference
    return 0


def apt_cache_options(cache_dir=APT_CACHE_DIR):
    """apt-cache options: its package cache kept in cache_dir when that is private, else built in memory."""
    try:
        if private_dir_problem(cache_dir) is None:
            make_private_dir(cache_dir)
            return ("-o", "Dir::Cache::pkgcache=" + os.path.join(cache_dir, "pkgcache.bin"), "-o", "Dir::Cache::srcpkgcache=")
    except OSError:  # a read-only /var/cache, say
        pass
    return APT_IN_MEMORY


def read_docker_package(binary, run=subprocess.run, which=shutil.which, apt_cache_dir=APT_CACHE_DIR):
    """PackageStatus of the dpkg package that installed the dockerd binary; None on a system without dpkg."""
    dpkg = which("dpkg")
    if not dpkg:
        return None
    if not binary:
        return PackageStatus(None, None, None, [], "the dockerd binary was not found")
    status = _package_of(installed_path(binary), run, which, apt_cache_dir)
    if installed_path(binary) != binary:
        return status._replace(replaced=True, path=installed_path(binary))
    return status


def _package_of(binary, run, which, apt_cache_dir):
    """PackageStatus of the dpkg package that owns the file at binary."""
    dpkg = which("dpkg")
    paths = dpkg_paths(binary)
    # dpkg -S exits 1 when one of the spellings is not owned; the other's line still counts.
    output, error = _run_quietly([dpkg, "-S"] + paths, run)
    package = parse_dpkg_search(output, paths)
    if package is None:
        return PackageStatus(None, None, None, [], error or "%s belongs to no dpkg package" % binary)
    apt_cache = which("apt-cache")
    if not apt_cache:
        return PackageStatus(package, None, None, [], "apt-cache is not installed")
    options = apt_cache_options(apt_cache_dir)
    output, error = _run_quietly([apt_cache] + list(options) + ["policy", package], run, need_success=True)
    if error and options != APT_IN_MEMORY:  # a full disk, say: once more without the file
        output, error = _run_quietly([apt_cache] + list(APT_IN_MEMORY) + ["policy", package], run, need_success=True)
    if error:
        return PackageStatus(package, None, None, [], "apt-cache policy %s failed: %s" % (package, error))
    installed, candidate, sources = parse_apt_policy(output)
    return PackageStatus(package, installed, candidate, sources, None)


def _run_quietly(argv, run, need_success=False):
    """(stdout, error text or None) of a local command in the C locale, with a timeout."""
    environment = dict(os.environ, **C_LOCALE)
    try:
        result = run(argv, capture_output=True, text=True, check=False, timeout=PACKAGE_COMMAND_TIMEOUT, env=environment)
    except (OSError, subprocess.SubprocessError) as error:
        return "", str(error)
    if need_success and result.returncode != 0:
        return result.stdout or "", (result.stderr or "").strip() or "exit code %s" % result.returncode
    return result.stdout or "", None


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

def read_text(path):
    """A text file's content, or None when it cannot be read."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def unescape_mount(field):
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)
