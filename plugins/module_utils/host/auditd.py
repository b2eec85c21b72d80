# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS 1.1.3-1.1.18: auditd watches every file and directory of the Docker stack.

The paths are the ones the audit's section 1 rules check (AUDITED_PATHS in
rules/cis1_host.py), resolved on this host the same way: the running
dockerd's binary, the unit files systemd uses, the configured daemon.json
and data root. So what this area writes is exactly what the audit asks for.
Rules are loaded with augenrules only when the file changed or the kernel
lacks one of them.
"""

from __future__ import annotations

import os

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.system import audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, command, python_call
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis1_host import AUDITED_PATHS, REQUIRED_AUDIT_PERM

HEADER = ("# Managed by bulwark.hardening (host role, auditd area; CIS Docker Benchmark 1.1.3-1.1.18):\n"
          "# every write and attribute change to the Docker stack's files is recorded.\n")


def watchable(state, path):
    """The path exists, or its directory does: the kernel then watches for the file to appear.

    The host role runs before docker_daemon, which may create daemon.json: watching only
    what exists would add that rule on the second run, never on the first.
    """
    return state.host.stat(path) is not None or state.host.stat(os.path.dirname(path)) is not None


def watched_paths(state, realpath=os.path.realpath):
    """[(path, CIS ids)] of the section 1 paths this host can watch, in the benchmark's order."""
    found = {}
    for rule_id, _title, paths_of, _must_exist, _what in AUDITED_PATHS:
        for path in paths_of(state):
            if path and watchable(state, path):
                found.setdefault(normal_path(realpath(path)), []).append(rule_id)
    return list(found.items())


def render(watched, key):
    # w: writes, a: attribute changes (owner, mode). Each rule says which CIS ids it serves.
    return HEADER + "".join("# CIS %s\n-w %s -p wa -k %s\n" % (", ".join(ids), path, key) for path, ids in watched)


def uncovered(rules, paths):
    """The paths no loaded rule records writes to."""
    return [path for path in paths
            if not any(REQUIRED_AUDIT_PERM in watch.perms for watch in audit_rules.covering_watches(rules, path))]


def verify_loaded(paths, read_rules):
    rules = read_rules()
    if rules.error or rules.source != "auditctl -l":
        return "cannot read the loaded rules: %s" % (rules.error or rules.source)
    missing = uncovered(rules, paths)
    return "loaded, but `auditctl -l` lacks %s" % ", ".join(missing) if missing else None


def plan(state, path, key, env, run, read_rules=audit_rules.read_audit_rules):
    area = AreaPlan("auditd")
    if env.in_container:
        return area.skip("in a container (%s): %s" % (env.in_container, host_facts.KERNEL_OF_THE_HOST))
    if not host_facts.find_binary("auditctl") or not host_facts.find_binary("augenrules"):
        area.missing_packages.append("auditd")
        return area.skip("auditd is not installed")
    watched = watched_paths(state)
    paths = [watched_path for watched_path, _ids in watched]
    area.report = dict(watched=dict(watched))
    area.files.append(textfiles.plan_file(path, render(watched, key)))
    if "auditd" not in env.active_units:
        area.actions.append(command("start auditd and enable it at boot", "systemctl", "enable", "--now", "auditd"))
    loaded = state.host.audit_rules
    missing = uncovered(loaded, paths) if loaded is not None and loaded.source == "auditctl -l" else paths
    if area.files[0].changed or missing:
        if "enabled 2" in run(["auditctl", "-s"])[1]:
            area.notes.append("audit rules are locked until reboot (-e 2): %s loads at the next boot" % path)
            return area
        area.actions.append(command("load the audit rules (augenrules --load)", "augenrules", "--load"))
        area.actions.append(python_call("verify with auditctl -l", lambda: verify_loaded(paths, read_rules)))
    return area
