# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""daemon.json as data: dockerd's option table, validation, load, merge and render.

Plain functions over plain data (dicts, lists, strings), so that the
daemon_config module stays thin and this logic is unit-tested without
Ansible or Docker. Only the standard library is imported, on purpose.

The option table is the union of the keys accepted by the dockerd versions
this collection meets: 20.10 (Debian 12) up to current releases. Key names
come from moby's daemon configuration (the `json` tags of daemon/config and
the dockerd flags in cmd/dockerd) and the dockerd reference documentation.
A key that only newer releases know (for example ``log-format``) passes
here; ``dockerd --validate`` (23.0 and later) is the per-version check.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections import namedtuple

# expected: how the value is described in error messages ("a boolean").
# problems: value -> list of sentence tails ("must be a boolean, got ...");
# an empty list means the value is acceptable.
OptionType = namedtuple("OptionType", ["expected", "problems"])

MERGE_STATES = ("merged", "exact")


# --- describing values ------------------------------------------------------

# bool before int: in Python True is an int, in JSON (and to dockerd) it is not.
_JSON_TYPE_NAMES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "list"),
    (dict, "object"),
)

_SHOWN_VALUE_LENGTH = 40


def json_type_name(value):
    """Name a Python value by the JSON type it becomes in daemon.json."""
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPE_NAMES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _describe(value):
    """Type and, for scalars, a short rendering: "string 'no'", "integer 5".

    Containers are named by type only, so an error never dumps a whole
    (possibly large or sensitive) structure into the task output.
    """
    name = json_type_name(value)
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN_VALUE_LENGTH else value[:_SHOWN_VALUE_LENGTH] + "..."
        return "%s '%s'" % (name, shown)
    if isinstance(value, (bool, int, float)):
        return "%s %s" % (name, json.dumps(value))
    return name


# --- value types ------------------------------------------------------------

def _is_boolean(value):
    return isinstance(value, bool)


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_string(value):
    return isinstance(value, str)


def _scalar(expected, accepts):
    """A type decided by one predicate over the value."""
    def problems(value):
        if accepts(value):
            return []
        return ["must be %s, got %s" % (expected, _describe(value))]
    return OptionType(expected, problems)


def _one_of(allowed, ignore_case=False):
    """A string restricted to a few values."""
    expected = "one of %s" % ", ".join(allowed)

    def problems(value):
        candidate = value.lower() if ignore_case and _is_string(value) else value
        if _is_string(value) and candidate in allowed:
            return []
        return ["must be %s, got %s" % (expected, _describe(value))]
    return OptionType(expected, problems)


def _list_of(item_type, expected):
    """A JSON list whose items all have item_type."""
    def problems(value):
        if not isinstance(value, list):
            return ["must be %s, got %s" % (expected, _describe(value))]
        found = []
        for index, item in enumerate(value):
            found.extend("item %d %s" % (index, problem) for problem in item_type.problems(item))
        return found
    return OptionType(expected, problems)


def _mapping_of(value_type, expected):
    """A JSON object with free-form names and values of value_type."""
    def problems(value):
        if not isinstance(value, dict):
            return ["must be %s, got %s" % (expected, _describe(value))]
        found = []
        for name in sorted(value, key=str):
            found.extend("entry '%s' %s" % (name, problem) for problem in value_type.problems(value[name]))
        return found
    return OptionType(expected, problems)


def _record(expected, required, optional):
    """A JSON object with a fixed set of fields.

    Unknown fields are rejected although Go's decoder would silently drop
    them: a misspelt field ("runtimeargs") then fails here instead of being
    ignored by the daemon.
    """
    fields = dict(required)
    fields.update(optional)

    def problems(value):
        if not isinstance(value, dict):
            return ["must be %s, got %s" % (expected, _describe(value))]
        found = ["is missing field '%s'" % name for name in required if name not in value]
        for name in sorted(value, key=str):
            if name not in fields:
                found.append("has unknown field '%s' (expected %s)" % (name, ", ".join(sorted(fields))))
                continue
            found.extend("field '%s' %s" % (name, problem) for problem in fields[name].problems(value[name]))
        return found
    return OptionType(expected, problems)


BOOLEAN = _scalar("a boolean", _is_boolean)
STRING = _scalar("a string", _is_string)
INTEGER = _scalar("an integer", _is_integer)
# dockerd parses sizes ("64M") from a JSON string or a JSON number alike.
BYTE_SIZE = _scalar("a size (a string such as '64M', or an integer)",
                    lambda value: _is_string(value) or _is_integer(value))
ANY_OBJECT = _scalar("an object", lambda value: isinstance(value, dict))
STRING_LIST = _list_of(STRING, "a list of strings")
STRING_MAP = _mapping_of(STRING, "an object of string values")
BOOLEAN_MAP = _mapping_of(BOOLEAN, "an object of boolean values")
STRING_MAP_PER_DRIVER = _mapping_of(STRING_MAP, "an object of driver names to objects of string values")

LOG_LEVELS = ("debug", "info", "warn", "error", "fatal", "panic", "trace")

ADDRESS_POOL = _record("an object with 'base' and 'size'",
                       required={"base": STRING, "size": INTEGER}, optional={})
PROXIES = _record("an object with 'http-proxy', 'https-proxy', 'no-proxy'",
                  required={}, optional={"http-proxy": STRING, "https-proxy": STRING, "no-proxy": STRING})
RUNTIME = _record("an object with 'path' and optional 'runtimeArgs'",
                  required={},
                  optional={"path": STRING, "runtimeArgs": STRING_LIST,
                            "runtimeType": STRING, "options": ANY_OBJECT})

# Names understood by dockerd's ulimit parser (go-units).
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
_ULIMIT = _record("an object with 'Name', 'Hard' and 'Soft'",
                  required={"Name": STRING, "Hard": INTEGER, "Soft": INTEGER}, optional={})
_ULIMIT_SHAPE = _mapping_of(_ULIMIT, "an object of ulimit names to {Name, Hard, Soft}")


def _ulimit_meaning(name, limit):
    """Problems a well-shaped ulimit entry can still have."""
    found = []
    if limit["Name"] not in ULIMIT_NAMES:
        found.append("entry '%s' field 'Name' must be one of %s, got '%s'"
                     % (name, ", ".join(ULIMIT_NAMES), limit["Name"]))
    # dockerd applies ulimits by their Name and ignores the entry name, so
    # an entry whose two names differ does not do what it says.
    if limit["Name"] != name:
        found.append("entry '%s' has Name '%s'; the two must be equal" % (name, limit["Name"]))
    # A negative Hard means unlimited; otherwise setrlimit refuses Soft > Hard
    # and every container start would fail.
    if 0 <= limit["Hard"] < limit["Soft"]:
        found.append("entry '%s' has Soft %d above Hard %d" % (name, limit["Soft"], limit["Hard"]))
    return found


def _ulimits_problems(value):
    found = _ULIMIT_SHAPE.problems(value)
    if found:
        return found
    for name in sorted(value):
        found.extend(_ulimit_meaning(name, value[name]))
    return found


ULIMITS = OptionType(_ULIMIT_SHAPE.expected, _ulimits_problems)


# --- the option table -------------------------------------------------------

# daemon.json key -> expected type (Linux daemon).
OPTION_TYPES = {
    "allow-direct-routing": BOOLEAN,
    "allow-nondistributable-artifacts": STRING_LIST,
    "authorization-plugins": STRING_LIST,
    "bip": STRING,
    "bip6": STRING,
    "bridge": STRING,
    "bridge-accept-fwmark": STRING,
    "builder": ANY_OBJECT,
    "cdi-spec-dirs": STRING_LIST,
    "cgroup-parent": STRING,
    "containerd": STRING,
    "containerd-namespace": STRING,
    "containerd-plugins-namespace": STRING,
    "cpu-rt-period": INTEGER,
    "cpu-rt-runtime": INTEGER,
    "cri-containerd": BOOLEAN,
    "data-root": STRING,
    "debug": BOOLEAN,
    "default-address-pools": _list_of(ADDRESS_POOL, "a list of {base, size} objects"),
    "default-cgroupns-mode": _one_of(("host", "private")),
    "default-gateway": STRING,
    "default-gateway-v6": STRING,
    "default-ipc-mode": _one_of(("private", "shareable")),
    "default-network-opts": STRING_MAP_PER_DRIVER,
    "default-runtime": STRING,
    "default-shm-size": BYTE_SIZE,
    "default-ulimits": ULIMITS,
    "dns": STRING_LIST,
    "dns-opts": STRING_LIST,
    "dns-search": STRING_LIST,
    "exec-opts": STRING_LIST,
    "exec-root": STRING,
    "experimental": BOOLEAN,
    "features": BOOLEAN_MAP,
    "firewall-backend": _one_of(("iptables", "nftables")),
    "fixed-cidr": STRING,
    "fixed-cidr-v6": STRING,
    "group": STRING,
    "host-gateway-ip": STRING,
    "host-gateway-ips": STRING_LIST,
    "hosts": STRING_LIST,
    "icc": BOOLEAN,
    "init": BOOLEAN,
    "init-path": STRING,
    "insecure-registries": STRING_LIST,
    "ip": STRING,
    "ip-forward": BOOLEAN,
    "ip-forward-no-drop": BOOLEAN,
    "ip-masq": BOOLEAN,
    "ip6tables": BOOLEAN,
    "iptables": BOOLEAN,
    "ipv6": BOOLEAN,
    "labels": STRING_LIST,
    "live-restore": BOOLEAN,
    "log-driver": STRING,
    "log-format": _one_of(("text", "json")),
    # dockerd lower-cases the level before checking it.
    "log-level": _one_of(LOG_LEVELS, ignore_case=True),
    # Values are strings even when numeric: dockerd rejects "max-file": 5.
    "log-opts": STRING_MAP,
    "max-concurrent-downloads": INTEGER,
    "max-concurrent-uploads": INTEGER,
    "max-download-attempts": INTEGER,
    "metrics-addr": STRING,
    "mtu": INTEGER,
    "network-control-plane-mtu": INTEGER,
    "network-diagnostic-port": INTEGER,
    "no-new-privileges": BOOLEAN,
    "node-generic-resources": STRING_LIST,
    # Deprecated in 24.0 and gone from later releases; 20.10 still uses it.
    "oom-score-adjust": INTEGER,
    "pidfile": STRING,
    "proxies": PROXIES,
    "raw-logs": BOOLEAN,
    "registry-mirrors": STRING_LIST,
    "rootless": BOOLEAN,
    "runtimes": _mapping_of(RUNTIME, "an object of runtime names to {path, runtimeArgs}"),
    "seccomp-profile": STRING,
    "selinux-enabled": BOOLEAN,
    "shutdown-timeout": INTEGER,
    "storage-driver": STRING,
    "storage-opts": STRING_LIST,
    "swarm-default-advertise-addr": STRING,
    "tls": BOOLEAN,
    "tlscacert": STRING,
    "tlscert": STRING,
    "tlskey": STRING,
    "tlsverify": BOOLEAN,
    "userland-proxy": BOOLEAN,
    "userland-proxy-path": STRING,
    "userns-remap": STRING,
}

# Keys that circulate in guides but that current dockerd refuses; saying why
# beats a bare "unknown key".
UNSUPPORTED_OPTIONS = {
    "api-cors-header": "removed from dockerd; put a reverse proxy in front of the API instead",
    "cluster-advertise": "legacy overlay networking was removed in Docker 23.0",
    "cluster-store": "legacy overlay networking was removed in Docker 23.0",
    "cluster-store-opts": "legacy overlay networking was removed in Docker 23.0",
    "default-pids-limit": ("upstream dockerd has no daemon-wide pids limit (only a Red Hat fork had one); "
                           "set pids_limit per container (CIS 5.29)"),
    "disable-legacy-registry": "removed in Docker 17.12",
}


# --- validate ---------------------------------------------------------------

def validate(config):
    """Return one error string per problem in a daemon.json document.

    An empty list means every key is a known dockerd option holding a value
    of the type dockerd expects.
    """
    if not isinstance(config, dict):
        return ["daemon.json must be a JSON object, got %s" % _describe(config)]
    errors = []
    for key in sorted(config, key=str):
        errors.extend(_key_errors(key, config[key]))
    return errors


def _key_errors(key, value):
    if key in UNSUPPORTED_OPTIONS:
        return ["daemon.json key '%s' is not supported: %s" % (key, UNSUPPORTED_OPTIONS[key])]
    option_type = OPTION_TYPES.get(key)
    if option_type is None:
        return [_unknown_key_error(key)]
    return ["daemon.json key '%s' %s" % (key, problem) for problem in option_type.problems(value)]


def _unknown_key_error(key):
    message = "daemon.json key '%s' is not a dockerd option" % key
    suggestions = difflib.get_close_matches(str(key), OPTION_TYPES, n=1)
    if suggestions:
        message += "; did you mean '%s'?" % suggestions[0]
    return message


# --- load, merge, render ----------------------------------------------------

def load_daemon_json(text):
    """Parse daemon.json text into a dict.

    Whitespace-only text is an empty configuration, as it is for dockerd,
    which also tolerates a UTF-8 byte order mark. Raises ValueError when the
    text is not JSON or not a JSON object.
    """
    text = text.lstrip("\ufeff")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError("daemon.json is not valid JSON: %s" % error) from error
    if not isinstance(data, dict):
        raise ValueError("daemon.json must be a JSON object, got %s" % json_type_name(data))
    return data


def config_to_merge_into(text, state="merged"):
    """The current daemon.json content a change starts from, given the file's text (None: absent).

    Returns {} for an absent file and None for an unreadable one when state
    is 'exact' (it replaces the file anyway, after a backup). With 'merged'
    the current keys are needed, so an unreadable file raises ValueError.
    """
    if text is None:
        return {}
    try:
        return load_daemon_json(text)
    except ValueError as error:
        if state == "exact":
            return None
        raise ValueError("%s; fix the file or use state=exact to replace it" % error) from error


def merge(existing, desired, state="merged"):
    """Compute the daemon.json content that `desired` asks for.

    state 'merged': desired keys replace existing ones and keys the caller
    does not mention are kept. The replacement is per top-level key: a
    nested object such as log-opts is replaced as a whole, never merged
    field by field, because its fields belong together (log-opts go with
    log-driver: keeping json-file's max-file under journald would make
    dockerd refuse to start).

    state 'exact': the result is desired alone.

    In both states a key whose desired value is None is left out, so one
    settings dict can also remove keys.
    """
    if state not in MERGE_STATES:
        raise ValueError("state must be one of %s, got %r" % (", ".join(MERGE_STATES), state))
    result = dict(existing or {}) if state == "merged" else {}
    for key, value in desired.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = copy.deepcopy(value)
    return result


def canonical_json(data):
    """Render daemon.json the one way this collection writes it.

    Sorted keys and a fixed indent make the file stable across runs, so a
    byte comparison or a diff shows only real changes.
    """
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
