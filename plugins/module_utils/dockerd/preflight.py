# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What must hold before the daemon's configuration changes, as plain functions over plain data.

Each check answers with a list of Problem: the setting (daemon.json key),
the role variable that set it when known, and what is wrong. The
daemon_preflight module gathers the facts once and runs them all, so a
change that would leave a daemon unable to run containers, or hide data,
stops the play before anything is written.

The class of failure these checks exist for: dockerd starts, `docker info`
answers, and every new container fails (ulimits the runtime may not set,
a cgroup parent the cgroup driver rejects, a default runtime that is not
there, a log driver that is not installed, a seccomp profile that is not
JSON), or the daemon comes back with an empty data root (user namespace
remapping switched on, off or renamed under existing containers).
"""

from __future__ import annotations

import collections
import json

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import brownfield, systemd_unit
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import cli_conflicts, describe_conflicts
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import merge, validate
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import DEFAULT_DOCKER_HOST

# /proc/<pid>/limits row titles of the ulimits dockerd's default-ulimits can set.
LIMIT_TITLES = {
    "core": "Max core file size", "cpu": "Max cpu time", "data": "Max data size", "fsize": "Max file size",
    "locks": "Max file locks", "memlock": "Max locked memory", "msgqueue": "Max msgqueue size",
    "nice": "Max nice priority", "nofile": "Max open files", "nproc": "Max processes",
    "rss": "Max resident set", "rtprio": "Max realtime priority", "rttime": "Max realtime timeout",
    "sigpending": "Max pending signals", "stack": "Max stack size",
}
UNLIMITED = -1
CAP_SYS_RESOURCE = 24
# dockerd's name for "the remap user it creates itself".
DEFAULT_REMAP_USER = "dockremap"
FIRST_SUBORDINATE_ID = 100000
SUBORDINATE_ALIGNMENT = 65536
BUILTIN_RUNTIMES = ("runc", "io.containerd.runc.v2", "io.containerd.runtime.v1.linux")
SECCOMP_KEYWORDS = ("unconfined", "builtin")

Problem = collections.namedtuple("Problem", ["key", "variable", "message"])


def problem(key, variables, message):
    return Problem(key, (variables or {}).get(key), message)


def describe(found):
    """One line per problem, naming the role variable (or the daemon.json key) first."""
    return ["%s: %s" % (item.variable or "daemon.json %s" % item.key, item.message) for item in found]


# --- ulimits ------------------------------------------------------------------

def parse_limits(text):
    """{ulimit name: (soft, hard)} from /proc/<pid>/limits; unlimited is -1."""
    by_title = {}
    for line in (text or "").splitlines()[1:]:
        for name, title in LIMIT_TITLES.items():
            if line.startswith(title):
                fields = line[len(title):].split()
                if len(fields) >= 2:
                    by_title[name] = (_limit_value(fields[0]), _limit_value(fields[1]))
    return by_title


def _limit_value(text):
    return UNLIMITED if text == "unlimited" else int(text)


def has_capability(status_text, capability, field="CapEff"):
    """Whether a /proc/<pid>/status capability set (hex mask) holds the capability number."""
    for line in (status_text or "").splitlines():
        if line.startswith(field + ":"):
            return bool(int(line.split()[1], 16) >> capability & 1)
    return False


def _above(requested, ceiling):
    """True when a requested limit exceeds a ceiling; -1 is unlimited on both sides."""
    if ceiling == UNLIMITED:
        return False
    return requested == UNLIMITED or requested > ceiling


def ulimit_problems(default_ulimits, process_limits, can_raise, nr_open=None, variables=None, owner="dockerd"):
    """default-ulimits that containers could not get.

    Without CAP_SYS_RESOURCE no process may raise a hard limit above its
    own, so a container's limits cannot exceed those of the daemon that
    starts it (Docker inside LXC or inside a container). With it, nofile is
    still capped by fs.nr_open.
    """
    found = []
    for name in sorted(default_ulimits or {}):
        limit = default_ulimits[name]
        if not isinstance(limit, dict):
            continue  # the option table's validation reports the shape
        wanted = max(limit.get("Hard", 0), limit.get("Soft", 0)) if UNLIMITED not in (limit.get("Hard"), limit.get("Soft")) \
            else UNLIMITED
        ceiling = (process_limits or {}).get(limit.get("Name", name), (None, None))[1]
        if not can_raise and ceiling is not None and _above(wanted, ceiling):
            found.append(problem("default-ulimits", variables, (
                "%s %s is above %s's own hard limit %s, and no process here may raise a limit (no CAP_SYS_RESOURCE: "
                "Docker inside a container or LXC); every container would fail with 'error setting rlimits'. "
                "Set it to %s or lower." % (name, _show(wanted), owner, _show(ceiling), _show(ceiling)))))
        elif name == "nofile" and nr_open is not None and _above(wanted, nr_open):
            found.append(problem("default-ulimits", variables, (
                "nofile %s is above the kernel's fs.nr_open %d; every container would fail to start. "
                "Set it to %d or lower." % (_show(wanted), nr_open, nr_open))))
    return found


def _show(value):
    return "unlimited" if value == UNLIMITED else str(value)


def lowest_limits(*limit_sets):
    """The most restrictive (soft, hard) per ulimit over several processes' limits."""
    merged = {}
    for limits in limit_sets:
        for name, (soft, hard) in (limits or {}).items():
            if name not in merged:
                merged[name] = (soft, hard)
            else:
                merged[name] = tuple(_lower(old, new) for old, new in zip(merged[name], (soft, hard)))
    return merged


def _lower(first, second):
    if first == UNLIMITED:
        return second
    if second == UNLIMITED:
        return first
    return min(first, second)


# --- user namespaces ----------------------------------------------------------

def remap_user(value):
    """The user a userns-remap value stands for ('default' is dockremap), or None when off."""
    if not value:
        return None
    user = str(value).split(":", 1)[0]
    return DEFAULT_REMAP_USER if user == "default" else user


def userns_change(current, planned):
    """'on', 'off', 'rename' or None, between two userns-remap values."""
    before, after = remap_user(current), remap_user(planned)
    if before == after:
        return None
    if before is None:
        return "on"
    if after is None:
        return "off"
    return "rename"


def userns_left_open(current, planned, counts, confirmed):
    """Why a remapping change is left undone on this host (brownfield.userns_reason), or None to make it.

    dockerd keeps each remapping's data in its own root (<data-root>/<uid>.<gid>),
    so after the change the existing containers, images and volumes are still on
    disk but no longer seen: the change waits for the operator's confirmation.
    """
    if confirmed:
        return None
    return brownfield.userns_reason(userns_change(current, planned), counts,
                                    before=remap_user(current) or "off", after=remap_user(planned) or "off")


def parse_subordinate_ids(text):
    """[(owner, start, count)] from /etc/subuid or /etc/subgid content; malformed lines are skipped."""
    ranges = []
    for line in (text or "").splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            ranges.append((fields[0], int(fields[1]), int(fields[2])))
    return ranges


def parse_id_map(text):
    """[(inside, outside, count)] from /proc/<pid>/uid_map or gid_map."""
    ranges = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 3 and all(field.isdigit() for field in fields):
            ranges.append(tuple(int(field) for field in fields))
    return ranges


def _covered(start, count, id_map):
    """Whether [start, start+count) lies inside one range of this namespace's id map (its 'inside' side)."""
    if not id_map:
        return True
    return any(inside <= start and start + count <= inside + length for inside, _outside, length in id_map)


def subordinate_range(ranges, user, uid, count, id_map=None):
    """(start, count, existing) of the user's range in one subordinate id file.

    The user's own line (by name or by uid) is kept when there is one. A new
    range starts above every range in the file, at 100000 (where adduser
    starts) or 65536 steps above it, so it never overlaps an existing one.
    Raises ValueError when no such range fits in this namespace's ids
    (`id_map`, e.g. a container that maps only 65536 ids).
    """
    for owner, start, length in ranges:
        if owner in (user, str(uid)):
            return start, length, True
    top = max([FIRST_SUBORDINATE_ID] + [start + length for _owner, start, length in ranges])
    # Steps of 65536 counted from 100000, as adduser hands them out (100000, 165536, ...):
    # an empty file gives 100000 itself.
    start = FIRST_SUBORDINATE_ID + -(-(top - FIRST_SUBORDINATE_ID) // SUBORDINATE_ALIGNMENT) * SUBORDINATE_ALIGNMENT
    if not _covered(start, count, id_map):
        raise ValueError("no free range of %d ids above %d fits in this host's id map %s"
                         % (count, top, ", ".join("%d-%d" % (inside, inside + length - 1) for inside, _o, length in id_map)))
    return start, count, False


def subordinate_problems(user, existing_ranges, id_map, variables=None):
    """A user's existing range must lie inside this namespace's ids, or dockerd cannot map it."""
    found = []
    for owner, start, length in existing_ranges:
        if owner == user and not _covered(start, length, id_map):
            found.append(problem("userns-remap", variables, (
                "%s's subordinate range %d-%d is outside the ids this host can map (%s); containers could not start"
                % (user, start, start + length - 1, id_map))))
    return found


# --- other settings containers need at start ----------------------------------

def cgroup_parent_problems(parent, cgroup_driver, variables=None):
    """With the systemd cgroup driver a cgroup parent must be a slice name."""
    if parent and cgroup_driver == "systemd" and not str(parent).endswith(".slice"):
        return [problem("cgroup-parent", variables, (
            "'%s' is not a systemd slice, which the systemd cgroup driver requires (e.g. 'docker-containers.slice'); "
            "every container would fail to start." % parent))]
    return []


def runtime_problems(config, info_runtimes, which, variables=None):
    """The default runtime must be known to the daemon and its program present."""
    name = config.get("default-runtime")
    if not name or name in BUILTIN_RUNTIMES:
        return []
    runtimes = dict(info_runtimes or {})
    runtimes.update(config.get("runtimes") or {})
    if name not in runtimes:
        return [problem("default-runtime", variables, "runtime '%s' is neither built in nor listed in 'runtimes' (known: %s)"
                        % (name, ", ".join(sorted(set(runtimes) | set(BUILTIN_RUNTIMES)))))]
    path = (runtimes[name] or {}).get("path") or name
    if not which(path):
        return [problem("default-runtime", variables, "runtime '%s' runs '%s', which is not installed" % (name, path))]
    return []


def log_driver_problems(driver, available_drivers, variables=None):
    """The default log driver must be one this daemon has (docker info .Plugins.Log)."""
    if driver and available_drivers and driver not in available_drivers:
        return [problem("log-driver", variables, "log driver '%s' is not available in this daemon (available: %s)"
                        % (driver, ", ".join(sorted(available_drivers))))]
    return []


def seccomp_profile_problems(path, read_text, written_by_role=(), variables=None):
    """A seccomp profile the daemon would load must exist and be a JSON profile (or a keyword)."""
    if not path or path in SECCOMP_KEYWORDS or path in written_by_role:
        return []
    text = read_text(path)
    if text is None:
        return [problem("seccomp-profile", variables, "%s does not exist; dockerd would refuse to start" % path)]
    try:
        profile = json.loads(text)
    except ValueError as error:
        return [problem("seccomp-profile", variables, "%s is not JSON (%s); dockerd would refuse to start" % (path, error))]
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        return [problem("seccomp-profile", variables, "%s has no defaultAction: not a seccomp profile" % path)]
    return []


# --- everything at once ---------------------------------------------------------


class Facts(object):
    """What the checks read, gathered once by the module (host_state) or given by a test.

    local_images: {image: [running containers]} of images from no registry (brownfield.local_images_in_use);
    content_trust_on: whether DOCKER_CONTENT_TRUST=1 is already set system-wide.
    """

    def __init__(self, current_config=None, unit_texts=(), environment=None, info=None, volume_count=0,
                 limits=None, limits_owner="dockerd", can_raise=True, nr_open=None, id_maps=None,
                 subordinate=None, uid_of=None, which=None, read_text=None, local_images=None, content_trust_on=False):
        self.current_config = current_config or {}
        self.unit_texts = list(unit_texts)
        self.environment = environment or {}
        self.info = info or {}
        self.volume_count = volume_count
        self.limits = limits or {}
        self.limits_owner = limits_owner
        self.can_raise = can_raise
        self.nr_open = nr_open
        self.id_maps = id_maps or {}
        self.subordinate = subordinate or {}
        self.uid_of = uid_of or (lambda name: None)
        self.which = which or (lambda program: program)
        self.read_text = read_text or (lambda path: None)
        self.local_images = local_images or {}
        self.content_trust_on = content_trust_on


def listeners(unit_argv):
    """(unit argv without -H, the listeners it named; dockerd's default socket when none)."""
    argv, hosts = systemd_unit.without_host_flags(unit_argv)
    return argv, hosts or [DEFAULT_DOCKER_HOST]


def plan(settings, facts, tls_listen=None, state="merged", confirm_userns=False, subordinate_count=65536,
         written_files=(), variables=None, content_trust=False, confirm_local_images=False):
    """The checked plan for a daemon configuration change.

    Returns a dict: settings (the settings to write: `settings` without the
    changes left open on this host), config (the daemon.json the role will
    write), hosts (with TLS: the unit's listeners plus tls_listen), exec_start
    (with TLS: the ExecStart the drop-in runs, without -H), dockerd_args (the
    expanded command line dockerd will run with), subordinate_ids ({file:
    line} when remapping is on), subordinate_ids_missing (the part of
    subordinate_ids for files where the user has no range yet: what must be
    written), userns_user_exists (whether the remap user exists; False when
    remapping is off), userns_left_open (the remapping change waits),
    content_trust (whether to turn content trust on: content_trust asked for
    it, and no running container uses a local image, or confirmed, or it is
    on already), left_open ([{rule, setting, variable, reason}] of the
    changes this host keeps from being made, and why) and problems (lines
    naming the variable and what is wrong; empty when the change is safe to
    make).
    """
    found = []
    unit_argv = systemd_unit.exec_start(facts.unit_texts)
    result = {"hosts": None, "exec_start": None, "subordinate_ids": {}, "subordinate_ids_missing": {},
              "userns_user_exists": False, "userns_left_open": False, "left_open": []}
    desired = _leave_userns_open(dict(settings), facts, confirm_userns, result)
    result["settings"] = dict(desired)
    result["content_trust"] = _content_trust_decision(content_trust, confirm_local_images, facts, result)
    if tls_listen:
        if desired.get("hosts"):
            found.append(problem("hosts", None, "with TLS on the role sets the listeners itself; drop 'hosts' from "
                                                "docker_daemon_extra_settings and use docker_daemon_tls_listen"))
        argv, unit_hosts = listeners(unit_argv)
        result["hosts"] = unit_hosts + [tls_listen]
        result["exec_start"] = systemd_unit.render_exec(argv)
        desired["hosts"] = result["hosts"]
        unit_argv = argv
    config = merge(facts.current_config, desired, state)
    result["config"] = config
    result["dockerd_args"] = systemd_unit.expand(unit_argv, facts.environment)

    found.extend(_option_problems(config, variables))
    found.extend(live_restore_problems(config, facts.current_config, facts.info, variables))
    conflicts = cli_conflicts(config, result["dockerd_args"])
    if conflicts:
        found.append(problem(conflicts[0]["key"], variables, describe_conflicts(conflicts)))
    found.extend(ulimit_problems(config.get("default-ulimits"), facts.limits, facts.can_raise, facts.nr_open,
                                 variables, owner=facts.limits_owner))
    found.extend(_userns_checks(config, facts, subordinate_count, variables, result))
    found.extend(cgroup_parent_problems(config.get("cgroup-parent"), facts.info.get("CgroupDriver"), variables))
    found.extend(runtime_problems(config, facts.info.get("Runtimes"), facts.which, variables))
    found.extend(log_driver_problems(config.get("log-driver"), (facts.info.get("Plugins") or {}).get("Log"), variables))
    found.extend(seccomp_profile_problems(config.get("seccomp-profile"), facts.read_text, written_files, variables))
    result["problems"] = describe(found)
    return result


def _option_problems(config, variables):
    """Keys dockerd does not know or values of the wrong type, as the option table says."""
    found = []
    for error in validate(config):
        key = error.split("'")[1] if error.count("'") >= 2 else None
        found.append(problem(key, variables, error))
    return found


def _current_remap(facts):
    configured = facts.current_config.get("userns-remap")
    active = any(entry.startswith("name=userns") for entry in facts.info.get("SecurityOptions") or [])
    if configured:
        return configured
    return "default" if active else None  # remapping on without daemon.json: a flag; its user is not known here


def _counts(facts):
    return {"containers": facts.info.get("Containers") or 0, "images": facts.info.get("Images") or 0,
            "volumes": facts.volume_count or 0}


def _leave_userns_open(desired, facts, confirmed, result):
    """desired without its userns-remap change when that change would hide this host's data; the reason
    goes to result["left_open"]."""
    if "userns-remap" not in desired:
        return desired
    reason = userns_left_open(_current_remap(facts), desired["userns-remap"], _counts(facts), confirmed)
    if reason is None:
        return desired
    del desired["userns-remap"]  # daemon.json keeps what it has (a flag keeps what it sets)
    result["userns_left_open"] = True
    result["left_open"].append({"rule": "2.9", "setting": "userns-remap", "variable": brownfield.USERNS_CONFIRM,
                                "reason": reason})
    return desired


def _content_trust_decision(wanted, confirmed, facts, result):
    """Whether content trust is turned on (or kept on); a refusal over local images goes to left_open."""
    if not wanted or facts.content_trust_on or confirmed:
        return bool(wanted)
    reason = brownfield.content_trust_reason(facts.local_images)
    if reason is None:
        return True
    result["left_open"].append({"rule": "4.5", "setting": "DOCKER_CONTENT_TRUST", "variable": brownfield.CONTENT_TRUST_CONFIRM,
                                "reason": reason})
    return False


def live_restore_problems(config, current_config, info, variables=None):
    """A daemon.json change that lacks live-restore while containers run: its restart would stop them all
    (dockerd starting without live-restore stops what it finds running)."""
    running = (info or {}).get("ContainersRunning") or 0
    if config == current_config or config.get("live-restore") is True or not running:
        return []
    return [problem("live-restore", variables, (
        "without live-restore the restart stops the %d running containers (dockerd stops what runs when it starts "
        "without it). Keep it on (the default), or stop the containers first." % running))]


def _userns_checks(config, facts, count, variables, result):
    found = []
    user = remap_user(config.get("userns-remap"))
    if user is None:
        return found
    uid = facts.uid_of(user)
    result["userns_user_exists"] = uid is not None
    if result["userns_left_open"]:
        return found  # remapping stays as it is: nothing to prepare for it
    for kind, path in (("uid", "/etc/subuid"), ("gid", "/etc/subgid")):
        ranges = facts.subordinate.get(kind, [])
        id_map = facts.id_maps.get(kind)
        found.extend(subordinate_problems(user, ranges, id_map, variables))
        try:
            start, length, existing = subordinate_range(ranges, user, uid, count, id_map)
        except ValueError as error:
            found.append(problem("userns-remap", variables, "%s for %s: %s" % (path, user, error)))
            continue
        result["subordinate_ids"][path] = "%s:%d:%d" % (user, start, length)
        if not existing:
            result["subordinate_ids_missing"][path] = result["subordinate_ids"][path]
    return found
