# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark v1.6 section 3: Docker daemon configuration files.

Every check is an ownership or a permission test on the files of one row
of files/docker_files.DOCKER_FILES, the table the docker_daemon role fixes
the same files from. Modes are compared bit by bit: a file passes when it
has no permission bit outside the allowed mask. (The shell implementation
compares the octal numbers, so 0622, other-writable, passes its `-le 644`
test.) An absent file, or a symlink to something that is not that kind of
file, is reported as `info`.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    KIND_GLOBAL, Rule, failed, info, passed, register,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import DEFAULT_DOCKER_GROUP
from ansible_collections.bulwark.hardening.plugins.module_utils.files.docker_files import DOCKER_FILES, group_of, targets

SECTION = "files"
# The docker_daemon role fixes every row of the table in one task.
FIXED_BY = ("docker_daemon_file_modes_enabled",)


def owned_by(entry):
    """Expectation: uid 0 and the entry's group (root:docker also accepts root:root, which is stricter)."""
    def check(found, state, path):
        group = group_of(entry, state, path)
        wanted = {0} if group == "root" else {0, state.host.group_members(group)[0]}
        if found.uid == 0 and found.gid in wanted:
            return passed("%s owned by %d:%d" % (found.path, found.uid, found.gid))
        return failed("%s owned by %d:%d, expected root:%s" % (found.path, found.uid, found.gid, group))
    return check


def mode_at_most(mask):
    """Expectation: no permission bit (setuid/setgid/sticky included) outside mask."""
    def check(found, _state, _path):
        extra = found.mode & ~mask
        if extra:
            return failed("%s mode %04o has bits beyond %04o (%04o)" % (found.path, found.mode, mask, extra))
        return passed("%s mode %04o" % (found.path, found.mode))
    return check


def _register(entry, rule, expectation, reads, remediation):
    rule_id, title = rule

    def evaluate(state):
        # Whoever can write these files can reconfigure the daemon, i.e. become root; keys must stay private.
        found = targets(entry, state)
        if not found:
            return [(entry.name, info("%s is not configured or not present on this host" % entry.name))]
        return [(target.path, expectation(state.host.stat(target.real_path), state, target.path) if target.real_path
                 else info(target.note)) for target in found]
    register(Rule(
        rule_id, title, SECTION, level=1, scored=True, severity=entry.severity, fix="files",
        reads="stat of %s: %s" % (entry.location, reads),
        remediation=remediation, kind=KIND_GLOBAL, evaluate=evaluate, subject="host", fixed_by=FIXED_BY,
    ))


# The socket's group, for the docs: who makes the socket file decides it (dockerd.sockets).
SOCKET_GROUP = ("its group (dockerd -G / daemon.json group, %s by default, for a socket dockerd makes; docker.socket's "
                "SocketGroup for one systemd passes with -H fd://)" % DEFAULT_DOCKER_GROUP)

for _entry in DOCKER_FILES:
    _group = _entry.group or "<socket group>"
    _register(_entry, _entry.ownership, owned_by(_entry),
              "root:%s" % _entry.group if _entry.group else "owner root, group: %s" % SOCKET_GROUP,
              "chown root:%s <%s> (the docker_daemon role does, docker_daemon_file_modes_enabled)" % (_group, _entry.name))
    _register(_entry, _entry.mode, mode_at_most(_entry.max_mode), "mode %04o or stricter" % _entry.max_mode,
              "chmod %04o <%s> or stricter (the docker_daemon role does, docker_daemon_file_modes_enabled)"
              % (_entry.max_mode, _entry.name))
