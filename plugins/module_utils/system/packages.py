# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The Debian package that installed dockerd (CIS 1.2.2): dpkg's and apt's answers, parsed, and Debian's
version order. Nothing here touches the network or apt's own cache."""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess

from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import make_private_dir, private_dir_problem
from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts


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
    status = _package_of(host_facts.installed_path(binary), run, which, apt_cache_dir)
    if host_facts.installed_path(binary) != binary:
        return status._replace(replaced=True, path=host_facts.installed_path(binary))
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
