# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""/etc/docker/daemon.json as data: validate, merge, render, check against flags.

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
import posixpath
import re
import shlex
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


# --- dockerd command-line flags ---------------------------------------------

# The one place that knows how dockerd spells its options on the command
# line: cli_conflicts below and the audit (dockerd_config) both read argv
# with parse_flags and name options with key_for.

# dockerd's one-letter flags and the long flags they stand for.
SHORT_FLAGS = {
    "b": "bridge",
    "D": "debug",
    "G": "group",
    "g": "graph",  # removed in dockerd 23.0; 20.10 (Debian 12) still takes it
    "H": "host",
    "h": "help",
    "l": "log-level",
    "p": "pidfile",
    "s": "storage-driver",
    "v": "version",
}

# Flags whose daemon.json key is not the flag's own name: dockerd's list and
# map flags take the plural (or a different) name in the file. Every other
# flag is spelt the same in both places.
FLAG_KEYS = {
    "add-runtime": "runtimes",
    "authorization-plugin": "authorization-plugins",
    "cdi-spec-dir": "cdi-spec-dirs",
    "default-address-pool": "default-address-pools",
    "default-network-opt": "default-network-opts",
    "default-ulimit": "default-ulimits",
    "dns-opt": "dns-opts",
    "exec-opt": "exec-opts",
    "feature": "features",
    "graph": "data-root",  # the deprecated name of --data-root
    "host": "hosts",
    "insecure-registry": "insecure-registries",
    "label": "labels",
    "log-opt": "log-opts",
    "node-generic-resource": "node-generic-resources",
    "registry-mirror": "registry-mirrors",
    "storage-opt": "storage-opts",
}

# Boolean flags: present means true, "--flag=false" means false, and they
# never take the next word as their value. Derived from the option table so
# the two cannot drift; help, validate and version have no daemon.json key.
BOOLEAN_FLAGS = frozenset([key for key, option in OPTION_TYPES.items() if option is BOOLEAN]
                          + ["help", "validate", "version"])

# daemon.json keys of flags that may repeat; their values are collected into a list.
LIST_KEYS = frozenset([
    "authorization-plugins", "cdi-spec-dirs", "default-address-pools", "default-network-opts", "default-ulimits",
    "dns", "dns-opts", "dns-search", "exec-opts", "features", "hosts", "insecure-registries", "labels", "log-opts",
    "node-generic-resources", "registry-mirrors", "runtimes", "storage-opts",
])

# The spellings of true that dockerd (Go's strconv.ParseBool) accepts, lower-cased.
TRUE_WORDS = ("1", "t", "true", "yes")


def key_for(name):
    """The daemon.json key of a long flag name ("host" -> "hosts")."""
    return FLAG_KEYS.get(name, name)


def _takes_value_for_sure(name):
    return name in FLAG_KEYS or name in SHORT_FLAGS.values()


def _looks_like_flag(word):
    return word.startswith("--") or (len(word) > 1 and word[0] == "-" and word[1] in SHORT_FLAGS)


def _separate_value(name, words):
    """The value of a valued flag written without "=": the next word.

    dockerd's flag parser takes that word whatever it is, so flags known to
    take a value do too ("--label -Dl"). Any other flag may be a boolean of a
    newer dockerd: it takes the next word only when that is not a flag
    ("--oom-score-adjust -500"), else it reads as present (value None).
    """
    word = words[0] if words else None
    if word is None or (_looks_like_flag(word) and not _takes_value_for_sure(name)):
        return None
    words.pop(0)
    return word


def parse_flags(argv):
    """Return (flag as written, long flag name, value) for each flag in argv.

    value is the text given (from "--x=v", "--x v", "-Xv", "-X=v" or "-X v")
    or None for a flag given without one (a boolean that is present).
    Grouped one-letter flags ("-DH fd://") are expanded. Words that are not
    flags (the program path, an unexpanded "$DOCKER_OPTS") are skipped, and
    reading stops at "--", after which dockerd takes no flags.
    """
    words = list(argv)
    found = []
    while words:
        word = words.pop(0)
        if word == "--":
            break
        if word.startswith("--"):
            name, equals, value = word[2:].partition("=")
            if not equals:
                value = None if name in BOOLEAN_FLAGS else _separate_value(name, words)
            found.append(("--" + name, name, value))
        elif word.startswith("-") and len(word) > 1:
            found.extend(_short_flags(word[1:], words))
    return found


def _short_flags(letters, words):
    """Expand a word of one-letter flags: "-DH" (then "fd://"), "-Hfd://", "-H=fd://", "-D=false"."""
    found = []
    for position, letter in enumerate(letters):
        name = SHORT_FLAGS.get(letter)
        if name is None:
            break  # unknown letter: its arity is unknown, so stop reading this word
        rest = letters[position + 1:]
        if rest.startswith("="):
            found.append(("-" + letter, name, rest[1:]))
            break
        if name in BOOLEAN_FLAGS:
            found.append(("-" + letter, name, None))
            continue
        # A valued letter takes the rest of the word, or else the next word.
        found.append(("-" + letter, name, rest or _separate_value(name, words)))
        break
    return found


def is_true(value):
    """A boolean flag's value as True/False; None (the flag given bare) is True."""
    return value is None or str(value).lower() in TRUE_WORDS


# --- conflicts with dockerd command-line flags ------------------------------

# Flags whose clash with the file is not just their key_for key:
# the daemon.json keys each one collides with.
_CONFLICT_KEYS = {
    "add-runtime": (),  # dockerd merges --add-runtime with "runtimes" instead of refusing both
    "graph": ("graph",),  # in the file the deprecated option keeps its own key
    # Newer dockerd reads --host-gateway-ip into "host-gateway-ips" and also
    # refuses the legacy singular key next to the flag.
    "host-gateway-ip": ("host-gateway-ip", "host-gateway-ips"),
}

# Objects dockerd keeps whole when it compares the file with the flags; the
# others (e.g. "proxies") are flattened, so their fields meet flags such as
# --http-proxy.
_OBJECTS_COMPARED_WHOLE = ("builder", "cluster-store-opts", "default-network-opts", "default-ulimits",
                           "features", "log-opts", "runtimes")


def cli_conflicts(config, dockerd_args):
    """List the daemon.json keys that dockerd_args also set.

    dockerd refuses to start when an option is given both as a flag and in
    daemon.json, whatever the two values are. Each conflict is a dict
    {"key": daemon.json key (a field of a flattened object is written
    "proxies.http-proxy"), "flag": the flag as written, e.g. "-H"}, sorted by
    key, without duplicates.
    """
    keys_in_file = _keys_dockerd_compares(config)
    conflicts = []
    for written, flag, _value in parse_flags(dockerd_args or []):
        for name in _CONFLICT_KEYS.get(flag, (key_for(flag),)):
            conflict = {"key": keys_in_file.get(name), "flag": written}
            if conflict["key"] and conflict not in conflicts:
                conflicts.append(conflict)
    return sorted(conflicts, key=lambda conflict: (conflict["key"], conflict["flag"]))


def describe_conflicts(conflicts):
    """One message naming every conflicting key and flag."""
    pairs = ", ".join("'%s' (flag %s)" % (conflict["key"], conflict["flag"]) for conflict in conflicts)
    return ("daemon.json keys also set on the dockerd command line: %s. dockerd refuses to start "
            "when an option is set in both places; remove the key from daemon.json (a null value in "
            "settings removes it) or the flag from the docker.service ExecStart." % pairs)


def _keys_dockerd_compares(config):
    """Map each name dockerd compares with its flags to where it sits in the file.

    {"icc": "icc", "http-proxy": "proxies.http-proxy"}: fields of flattened
    objects are reported with their parent, as the user wrote them.
    """
    names = {}
    for key, value in config.items():
        if isinstance(value, dict) and key not in _OBJECTS_COMPARED_WHOLE:
            names.update((field, "%s.%s" % (key, field)) for field in value)
        else:
            names[key] = key
    return names


# --- the daemon's command line from systemd ---------------------------------

# In `systemctl show -p ExecStart` output each command is
# "{ path=... ; argv[]=<words> ; ignore_errors=no ; ... }" (ExecStartEx has
# "flags=" after argv[]); the words run up to the next " ; name=" field.
_ARGV_FIELD = re.compile(r"argv\[\]=(?P<argv>.*?) ; [a-z_]+=")


def parse_execstart(text):
    """Return the dockerd argv from `systemctl show -p ExecStart` output.

    Also accepts a plain "ExecStart=/usr/bin/dockerd -H fd://" unit line.
    With several commands, the one running dockerd wins. systemd does not
    expand $VARIABLES in this output, so flags that come from an
    EnvironmentFile (Debian's $DOCKER_OPTS) are not seen. Returns [] when
    there is no command.
    """
    text = (text or "").strip()
    commands = [_split_words(match.group("argv")) for match in _ARGV_FIELD.finditer(text)]
    if not commands and text.startswith("ExecStart=") and "{" not in text:
        commands = [_split_words(text[len("ExecStart="):])]
    for argv in commands:
        if argv and posixpath.basename(argv[0]) == "dockerd":
            return argv
    return commands[0] if commands else []


def _split_words(command):
    try:
        return shlex.split(command)
    except ValueError:  # unbalanced quote: systemd printed the words unquoted anyway
        return command.split()


# --- dockerd --validate -----------------------------------------------------

def dockerd_lacks_validate(output):
    """True when dockerd's output says it does not know --validate (< 23.0)."""
    return "unknown flag: --validate" in (output or "")
