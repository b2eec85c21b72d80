# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The remediation policy: what values fixes set, per container.

A policy is a plain dict of the POLICY_FIELDS. The module takes defaults,
overrides (by name glob and/or label, later ones win) and exemptions (rule
ids accepted for matching containers, with a reason); resolve() gives the
policy of one container and exemption_for() says whether a rule is exempt
there. Everything is validated before anything changes (PolicyError names
the field and what was expected).
"""

from __future__ import annotations

import datetime
import fnmatch
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.common.dates import parse_day
from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import PolicyError
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis4_images import runs_as_root
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis5_containers import DEFAULT_CPU_SHARES
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import capability_names

# Every capability name the kernel knows (without CAP_), for validating cap_add.
KNOWN_CAPABILITIES = frozenset([
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
    "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT",
    "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "WAKE_ALARM",
])

# Paths of a container's writable layer that a replacement may drop without losing data: scratch space,
# runtime state and caches the service rebuilds. Each entry covers the paths it matches and everything
# below them; `*` matches within one path segment, `**` any number of segments.
DISPOSABLE_PATHS = (
    "/tmp", "/var/tmp", "/run", "/var/run", "/var/lock", "/var/cache", "/var/lib/apt/lists",
    "/root/.cache", "/home/*/.cache", "**/__pycache__",
)

# name: (kind, default). None as a default means "no value: the fix that needs it is skipped".
POLICY_FIELDS = {
    "memory": ("size", None),             # 5.11, live
    "memory_swap": ("swap", None),        # 5.11: None = same as memory (no swap); -1 = unlimited swap
    "memory_headroom": ("percent", 80),   # 5.11 refuses a limit the current usage is above this share of
    "cpu_shares": ("cpu_shares", None),   # 5.12, live
    "pids_limit": ("int", None),          # 5.29, live
    "restart_retries": ("int", 5),        # 5.15, live: on-failure:<n>
    "restart_from_always": ("bool", False),  # 5.15 also for always/unless-stopped (they stop coming back at boot)
    "recreate": ("bool", False),          # allow the recreate fixes for this container
    "cap_add": ("capabilities", []),      # BW-008/5.4: capabilities kept after cap_drop ALL
    "tmpfs": ("paths", ["/tmp"]),         # 5.13: writable tmpfs paths of a read-only root
    "user": ("user", None),               # 4.1: run as this user (recreate) when the container runs as root
    "network": ("str", None),             # 5.10: the network a host-network container moves to
    # Writable-layer paths a replacement may drop (any recreate): scratch and caches, rebuilt by the service.
    "disposable_paths": ("path_globs", list(DISPOSABLE_PATHS)),
}

SIZE = re.compile(r"^\s*(\d+)\s*([bkmg]?)b?\s*$", re.IGNORECASE)
SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
MIN_MEMORY = 6 * 1024 ** 2  # dockerd refuses a memory limit below 6 MiB


def policy_value(policy, name):
    """A policy field's value, or its default above when the policy leaves it out (one default per field)."""
    return policy.get(name, POLICY_FIELDS[name][1])


def parse_size(value, where):
    """Bytes from 536870912, '512m', '1g', '64MiB'-style text."""
    if isinstance(value, bool):
        raise PolicyError("%s: expected a size such as 512m or 1g, got %r" % (where, value))
    if isinstance(value, int):
        if value < 0:
            raise PolicyError("%s: expected a size such as 512m or 1g, got %r" % (where, value))
        return value
    match = SIZE.match(str(value).replace("i", "").replace("I", ""))
    if not match:
        raise PolicyError("%s: expected a size such as 512m or 1g, got %r" % (where, value))
    return int(match.group(1)) * SIZE_UNITS[match.group(2).lower()]


def _int(value, where, minimum):
    if isinstance(value, bool):
        raise PolicyError("%s: expected an integer, got %r" % (where, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise PolicyError("%s: expected an integer, got %r" % (where, value))
    if number < minimum:
        raise PolicyError("%s: expected an integer of at least %d, got %d" % (where, minimum, number))
    return number


def _bool(value, where):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise PolicyError("%s: expected true or false, got %r" % (where, value))


def _string_list(value, where):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise PolicyError("%s: expected a list of strings, got %r" % (where, value))
    return list(value)


def _capabilities(value, where):
    names = capability_names(_string_list(value, where))
    unknown = sorted(set(names) - KNOWN_CAPABILITIES)
    if unknown:
        raise PolicyError("%s: unknown capabilities %s" % (where, ", ".join(unknown)))
    return sorted(set(names))


def _paths(value, where):
    paths = _string_list(value, where)
    relative = [path for path in paths if not path.startswith("/")]
    if relative:
        raise PolicyError("%s: expected absolute paths, got %s" % (where, ", ".join(relative)))
    return paths


def _path_globs(value, where):
    globs = _string_list(value, where)
    relative = [glob for glob in globs if not (glob.startswith("/") or glob.startswith("**/"))]
    if relative:
        raise PolicyError("%s: expected absolute paths or globs (such as /srv/spool or **/__pycache__), got %s"
                          % (where, ", ".join(relative)))
    return globs


def _memory(value, where):
    size = parse_size(value, where)
    if size < MIN_MEMORY:
        raise PolicyError("%s: dockerd refuses memory limits below 6m, got %r" % (where, value))
    return size


def _cpu_shares(value, where):
    shares = _int(value, where, 1)
    if shares == DEFAULT_CPU_SHARES:
        raise PolicyError("%s: 1024 is the default weight every container has, which 5.12 counts as no shares set; "
                          "give another weight (e.g. 512)" % where)
    return shares


def _swap(value, where):
    if str(value).strip() == "-1":
        return -1
    return parse_size(value, where)


def _percent(value, where):
    number = _int(value, where, 1)
    if number > 100:
        raise PolicyError("%s: expected a percentage from 1 to 100, got %d" % (where, number))
    return number


def _text(value, where):
    if not isinstance(value, str) or not value.strip():
        raise PolicyError("%s: expected a non-empty string, got %r" % (where, value))
    return value.strip()


def _user(value, where):
    user = _text(value, where)
    if runs_as_root(user):
        raise PolicyError("%s: %r is root, which is what 4.1 fails on; give a user such as 1000:1000" % (where, user))
    return user


CONVERTERS = {
    "size": _memory,
    "swap": _swap,
    "cpu_shares": _cpu_shares,
    "percent": _percent,
    "int": lambda value, where: _int(value, where, 1),
    "bool": _bool,
    "capabilities": _capabilities,
    "paths": _paths,
    "path_globs": _path_globs,
    "str": _text,
    "user": _user,
}


def clean_policy(raw, where="policy"):
    """The given fields of one policy dict, validated and converted; unset (None) fields left out."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError("%s: expected a dict of policy fields, got %r" % (where, raw))
    unknown = sorted(set(raw) - set(POLICY_FIELDS))
    if unknown:
        raise PolicyError("%s: unknown fields %s; known: %s" % (where, ", ".join(unknown), ", ".join(sorted(POLICY_FIELDS))))
    cleaned = {}
    for name, value in raw.items():
        if value is not None:
            cleaned[name] = CONVERTERS[POLICY_FIELDS[name][0]](value, "%s.%s" % (where, name))
    return cleaned


# How each kind of field reaches the module: Ansible's option type (and element type), before the converter
# above reads it.
OPTION_TYPES = {
    "size": ("str", None), "swap": ("str", None), "user": ("str", None), "str": ("str", None),
    "cpu_shares": ("int", None), "percent": ("int", None), "int": ("int", None), "bool": ("bool", None),
    "capabilities": ("list", "str"), "paths": ("list", "str"), "path_globs": ("list", "str"),
}


def policy_options():
    """container_remediate's argument spec for a policy dict, one option per field of POLICY_FIELDS."""
    options = {}
    for name, (kind, _default) in POLICY_FIELDS.items():
        option_type, elements = OPTION_TYPES[kind]
        options[name] = dict(type=option_type, elements=elements) if elements else dict(type=option_type)
    return options


def default_policy():
    return dict((name, default) for name, (_kind, default) in POLICY_FIELDS.items())


class Selector(object):
    """Which containers an override or exemption applies to: a name glob and/or a label (key or key=value)."""

    def __init__(self, name=None, label=None, where="selector"):
        if name is None and label is None:
            raise PolicyError("%s: give `name` (a glob) or `label` (key or key=value), or both" % where)
        if label is not None and (not label or label.startswith("=")):
            raise PolicyError("%s.label: expected key or key=value, got %r" % (where, label))
        self.name = name
        self.label_key, self.has_value, self.label_value = (label or "").partition("=") if label else (None, "", None)

    def matches(self, name, labels):
        if self.name is not None and not fnmatch.fnmatchcase(name, self.name):
            return False
        if self.label_key is not None:
            if self.label_key not in labels:
                return False
            if self.has_value and str(labels[self.label_key]) != self.label_value:
                return False
        return True


class Override(object):
    def __init__(self, selector, policy):
        self.selector = selector
        self.policy = policy


class Exemption(object):
    def __init__(self, selector, rules, reason, expires):
        self.selector = selector
        self.rules = rules
        self.reason = reason
        self.expires = expires

    def covers(self, rule_id, name, labels, today):
        if self.expires is not None and today > self.expires:
            return False
        return (not self.rules or rule_id in self.rules) and self.selector.matches(name, labels)


class Policy(object):
    """Defaults, overrides and exemptions, validated."""

    def __init__(self, defaults=None, overrides=None, exemptions=None, known_rules=(), today=None):
        self.defaults = default_policy()
        self.defaults.update(clean_policy(defaults))
        self.overrides = [self._override(entry, index) for index, entry in enumerate(overrides or [])]
        self.exemptions = [self._exemption(entry, index, known_rules) for index, entry in enumerate(exemptions or [])]
        self.today = today or datetime.date.today()

    @staticmethod
    def _override(entry, index):
        where = "overrides[%d]" % index
        if not isinstance(entry, dict):
            raise PolicyError("%s: expected a dict with name and/or label, and policy" % where)
        selector = Selector(entry.get("name"), entry.get("label"), where)
        return Override(selector, clean_policy(entry.get("policy") or {}, where + ".policy"))

    @staticmethod
    def _exemption(entry, index, known_rules):
        where = "exemptions[%d]" % index
        if not isinstance(entry, dict):
            raise PolicyError("%s: expected a dict with name and/or label, rules and reason" % where)
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise PolicyError("%s.reason: say why the finding is accepted" % where)
        rules = [str(rule) for rule in entry.get("rules") or []]
        unknown = [rule for rule in rules if known_rules and rule not in known_rules]
        if unknown:
            raise PolicyError("%s.rules: unknown rule ids %s (quote ids in YAML: 5.10 unquoted is 5.1)"
                              % (where, ", ".join(unknown)))
        expires = entry.get("expires")
        if expires is not None:
            try:
                expires = parse_day(expires)
            except ValueError:
                raise PolicyError("%s.expires: expected YYYY-MM-DD, got %r" % (where, expires))
        name = entry.get("name")
        if name is None and entry.get("label") is None:
            name = "*"
        return Exemption(Selector(name, entry.get("label"), where), rules, reason.strip(), expires)

    def resolve(self, name, labels):
        """The policy of one container: defaults, then each matching override in order."""
        resolved = dict(self.defaults)
        for override in self.overrides:
            if override.selector.matches(name, labels):
                resolved.update(override.policy)
        return resolved

    def exemption_for(self, rule_id, name, labels):
        """The reason a rule is exempt for this container, or None."""
        for exemption in self.exemptions:
            if exemption.covers(rule_id, name, labels, self.today):
                return exemption.reason
        return None
