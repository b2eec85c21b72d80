# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The audit rules of the host (CIS 1.1.3-1.1.18): what the running kernel has loaded (auditctl -l), or the
rule files on disk, parsed into watches, and which of them cover or suppress a path. Parsing is separate
from reading, so the parser is tested on text."""

from __future__ import annotations

import collections
import glob
import os
import shlex
import shutil
import subprocess

from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts


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


AUDIT_RULE_FILES = ("/etc/audit/audit.rules", "/etc/audit/rules.d/*.rules")


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
            content = host_facts.read_text(path)
            if content is not None:
                texts.append(content)
                files.append(path)
    return "\n".join(texts), files
