# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Judge a seccomp profile by what it refuses, compared with Docker's default profile.

A profile is read the way dockerd turns it into one container's filter:

- a rule with both `name` and `names`, or a profile with both
  `architectures` and `archMap`, makes dockerd refuse the profile;
- a rule is left out when its `excludes` match (the daemon's architecture,
  any capability the container holds, a kernel at or above minKernel), and
  kept only when all its `includes` match (the daemon's architecture among
  arches, every capability held, a kernel at or above minKernel);
  architectures are Go's names (amd64, arm64), capabilities the container's
  bounding set;
- `architectures` and `archMap` only add architectures to the filter: the
  kernel's native one is always in it, so they never change what a native
  process may call.

A syscall is let through when a kept rule naming it lets it pass (allow,
log, or handed to a tracer or notify agent, which decide outside the
profile), or when the default action lets everything pass and no kept rule
without argument conditions refuses it.

Only the syscalls Docker's default profile refuses this container count
(rules/seccomp_default.py): a profile that lets one of them through, where no
capability check of the kernel stops it, is weaker than the default.
"""

from __future__ import annotations

import collections
import functools
import json
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.seccomp_default import OBSOLETE, REFUSED

# What each action does with a syscall: refuse it, or let it reach the kernel (maybe after a decision
# the profile does not make: a tracer for TRACE, a user-space agent for NOTIFY).
REFUSING_ACTIONS = frozenset([
    "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
])
PASSING_ACTIONS = frozenset(["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY"])

# `uname -m` (docker info .Architecture) -> Go's name, which dockerd compares with includes/excludes.arches.
GO_ARCHES = {
    "x86_64": "amd64", "amd64": "amd64", "i386": "386", "i686": "386", "aarch64": "arm64", "arm64": "arm64",
    "armv7l": "arm", "armv6l": "arm", "armhf": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
    "riscv64": "riscv64", "mips64": "mips64", "mips64el": "mips64le", "loongarch64": "loong64",
}
_KERNEL_VERSION = re.compile(r"^(\d+)\.(\d+)")

# Whom the profile is judged for: arch (Go name) and kernel ((major, minor)) of the daemon, None when
# unknown; caps: the container's bounding set, names without CAP_.
SeccompContext = collections.namedtuple("SeccompContext", ["arch", "kernel", "caps"])

# error: why dockerd cannot load the profile (nothing else is set then); exposed: syscalls Docker's
# default refuses this container that the profile lets through and no capability check of the kernel
# stops; gated: let through as well, but the kernel refuses them without a capability the container
# lacks; ungated: how many of the default's refusals need no capability (exposed is at most that).
Judgement = collections.namedtuple("Judgement", ["error", "exposed", "gated", "ungated"])


class ProfileError(ValueError):
    """The profile is one dockerd refuses to load."""


def go_arch(machine):
    """Go's architecture name for `uname -m` (docker info .Architecture), or None when unknown."""
    return GO_ARCHES.get(str(machine or "").strip().lower())


def kernel_version(text):
    """(major, minor) of a kernel release string ("6.1.0-13-amd64"), or None."""
    match = _KERNEL_VERSION.match(str(text or "").strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def capability_name(value):
    name = str(value).upper()
    return name[4:] if name.startswith("CAP_") else name


def _at_least(kernel, minimum):
    """kernel >= minimum ("4.8"); an unknown kernel counts as a current one."""
    wanted = kernel_version(minimum)
    if wanted is None:
        raise ProfileError("minKernel %r is not a kernel version" % (minimum,))
    return kernel is None or kernel >= wanted


def _conditions(rule, key):
    value = rule.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError("%s of a syscall rule is not an object" % key)
    return value


def _kept(rule, context):
    """Whether dockerd keeps a syscall rule for this container (its excludes and includes)."""
    excludes, includes = _conditions(rule, "excludes"), _conditions(rule, "includes")
    if context.arch is not None and context.arch in (excludes.get("arches") or []):
        return False
    if any(capability_name(cap) in context.caps for cap in excludes.get("caps") or []):
        return False
    if excludes.get("minKernel") and _at_least(context.kernel, excludes["minKernel"]):
        return False
    if includes.get("arches") and context.arch not in includes["arches"]:
        return False
    if any(capability_name(cap) not in context.caps for cap in includes.get("caps") or []):
        return False
    if includes.get("minKernel") and not _at_least(context.kernel, includes["minKernel"]):
        return False
    return True


def _names(rule):
    if rule.get("name") and rule.get("names"):
        raise ProfileError("a syscall rule has both 'name' and 'names'")
    names = [rule["name"]] if rule.get("name") else rule.get("names") or []
    if not isinstance(names, list):
        raise ProfileError("'names' of a syscall rule is not a list")
    return names


def _action(value, what):
    if value in REFUSING_ACTIONS or value in PASSING_ACTIONS:
        return value
    raise ProfileError("%s %r is not a seccomp action the runtime knows" % (what, value))


def _rules_by_syscall(profile, context):
    """{syscall: [(refuses, has argument conditions)]} over the rules dockerd keeps."""
    rules = profile.get("syscalls")
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        raise ProfileError("'syscalls' is not a list")
    found = collections.defaultdict(list)
    for rule in rules:
        if not isinstance(rule, dict):
            raise ProfileError("a syscall rule is not an object")
        names = _names(rule)
        action = _action(rule.get("action"), "action")
        if not _kept(rule, context):
            continue
        for name in names:
            found[name].append((action in REFUSING_ACTIONS, bool(rule.get("args"))))
    return found


def _lets_through(rules, default_refuses):
    """'all', 'some' (only for some argument values) or None: how a syscall gets past the filter."""
    passing = [has_args for refuses, has_args in rules if not refuses]
    if passing:
        return "some" if all(passing) else "all"
    if any(refuses and not has_args for refuses, has_args in rules):
        return None
    if default_refuses:
        return None
    return "some" if rules else "all"


def _refused_by_default(row, context):
    """Whether Docker's default profile refuses this syscall to this container."""
    if row.kernel_cap == OBSOLETE:
        return False
    if row.arches is not None and context.arch not in row.arches:
        return False
    if any(cap in context.caps for cap in row.docker_caps):
        return False
    if row.docker_from_kernel is not None and (context.kernel is None or context.kernel >= row.docker_from_kernel):
        return False
    return True


def judge_profile(profile, context):
    """Judgement of a parsed profile (a dict) for one container."""
    if not isinstance(profile, dict):
        raise ProfileError("not a JSON object")
    if profile.get("architectures") and profile.get("archMap"):
        raise ProfileError("both 'architectures' and 'archMap' are set")
    default_refuses = _action(profile.get("defaultAction"), "defaultAction") in REFUSING_ACTIONS
    rules = _rules_by_syscall(profile, context)
    exposed, gated, ungated = [], [], 0
    for row in REFUSED:
        if not _refused_by_default(row, context):
            continue
        held = row.kernel_cap is None or row.kernel_cap in context.caps
        ungated += 1 if held else 0
        passage = _lets_through(rules.get(row.name, []), default_refuses)
        # Argument conditions on a syscall the default allows for some arguments are taken as its own.
        if passage is None or (passage == "some" and row.partial):
            continue
        (exposed if held else gated).append(row.name)
    return Judgement(None, sorted(exposed), sorted(gated), ungated)


@functools.lru_cache(maxsize=64)
def judge_text(text, context):
    """Judgement of a profile's JSON text (cached: every container of a host shares the daemon's profile)."""
    try:
        profile = json.loads(text)
    except ValueError:
        return Judgement("not valid JSON", [], [], 0)
    try:
        return judge_profile(profile, context)
    except ProfileError as error:
        return Judgement(str(error), [], [], 0)


SHOWN_NAMES = 8


def shown(names):
    """A short list of syscall names for evidence."""
    text = ", ".join(names[:SHOWN_NAMES])
    return text + (" and %d more" % (len(names) - SHOWN_NAMES) if len(names) > SHOWN_NAMES else "")


def weakness(judgement):
    """Why a judged profile is weaker than Docker's default, or None when it refuses all the default refuses."""
    if judgement.error:
        return "dockerd cannot load it (%s)" % judgement.error
    if not judgement.exposed:
        return None
    if len(judgement.exposed) >= judgement.ungated:
        what = "refuses none of the %d syscalls Docker's default profile refuses without a capability check to " \
               "fall back on, seccomp is disabled in all but name (lets through %s)" % (judgement.ungated, shown(judgement.exposed))
    else:
        what = "lets through %d of the %d syscalls Docker's default profile refuses without a capability check to " \
               "fall back on: %s" % (len(judgement.exposed), judgement.ungated, shown(judgement.exposed))
    return what


def strength(judgement):
    """What a profile that refuses everything Docker's default refuses still lets through, for evidence."""
    if not judgement.gated:
        return "refuses every syscall Docker's default profile refuses"
    return ("refuses every syscall Docker's default profile refuses that the kernel would not stop; lets through "
            "%s, which the kernel refuses without capabilities the container does not hold" % shown(judgement.gated))
