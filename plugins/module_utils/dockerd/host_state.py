# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Read what the daemon's configuration change depends on, from the host dockerd runs on.

The readers are one-liners over /proc, /etc and `systemctl show`; every
decision is made by the plain functions of preflight.py and restart.py.
`run` is injected (a function taking argv and a timeout, returning (rc,
stdout, stderr)) so tests need no systemd.
"""

from __future__ import annotations

import os
import pwd
import subprocess

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import preflight, systemd_unit

DOCKERD_PIDFILES = ("/var/run/docker.pid", "/run/docker.pid")
SUBORDINATE_FILES = {"uid": "/etc/subuid", "gid": "/etc/subgid"}


def run_command(argv, timeout=30):
    """(rc, stdout, stderr) of a command; rc 124 and a message when it did not finish in time."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return 124, "", "%s did not finish within %d s" % (" ".join(argv), timeout)
    except OSError as error:
        return 127, "", str(error)
    return done.returncode, done.stdout, done.stderr


read_text = host_facts.read_text


def dockerd_pid():
    return host_facts.find_pid("dockerd", pidfiles=DOCKERD_PIDFILES)


def process_started_at(pid, proc="/proc"):
    """When the process started, in seconds since the epoch, or None.

    /proc/<pid>/stat counts clock ticks since boot (field 22); /proc/stat's
    btime is the boot time in whole seconds, so the answer may be early by
    up to a second.
    """
    stat_text = read_text("%s/%d/stat" % (proc, pid))
    boot_text = read_text("%s/stat" % proc)
    if not stat_text or not boot_text:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    fields = stat_text.rpartition(")")[2].split()
    boot = [line.split()[1] for line in boot_text.splitlines() if line.startswith("btime ")]
    if len(fields) < 20 or not boot or not fields[19].isdigit():
        return None
    return int(boot[0]) + int(fields[19]) / float(os.sysconf("SC_CLK_TCK"))


def modified_at(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def process_limits(name, pidfiles=()):
    """(pid, {ulimit: (soft, hard)}, /proc/<pid>/status text) of the named process, or (None, {}, None)."""
    pid = host_facts.find_pid(name, pidfiles=pidfiles)
    if pid is None:
        return None, {}, None
    return pid, preflight.parse_limits(read_text("/proc/%d/limits" % pid)), read_text("/proc/%d/status" % pid)


def nr_open():
    text = read_text("/proc/sys/fs/nr_open")
    return int(text) if text and text.strip().isdigit() else None


def id_maps():
    """This namespace's uid and gid maps (what a nested dockerd may hand out)."""
    return {kind: preflight.parse_id_map(read_text("/proc/self/%s_map" % kind)) for kind in SUBORDINATE_FILES}


def subordinate_ranges():
    return {kind: preflight.parse_subordinate_ids(read_text(path)) for kind, path in SUBORDINATE_FILES.items()}


def unit_files(service, run=run_command, exclude=()):
    """(texts of the unit file and its drop-ins in load order, without `exclude`; error or None)."""
    rc, out, err = run(["systemctl", "show", "--property=FragmentPath", "--property=DropInPaths", service])
    if rc != 0:
        return [], "systemctl show %s failed: %s" % (service, (err or out).strip() or "rc %d" % rc)
    properties = dict(line.partition("=")[::2] for line in out.splitlines())
    fragment = properties.get("FragmentPath", "").strip()
    if not fragment:
        return [], "systemd has no unit %s: the role manages dockerd through it" % service
    paths = [fragment] + [path for path in properties.get("DropInPaths", "").split() if path not in exclude]
    return [read_text(path) or "" for path in paths], None


def unit_environment(texts):
    """The variables the unit's EnvironmentFile= lines define (missing optional files count as empty)."""
    variables = {}
    for path, _optional in systemd_unit.environment_files(texts):
        variables.update(systemd_unit.parse_environment_file(read_text(path)))
    return variables


def user_id(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


which = host_facts.find_binary
