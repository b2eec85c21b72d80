# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""dockerd's command line: its flags, their daemon.json keys, and clashes with the file.

The one place that knows how dockerd spells its options on the command
line. daemon_config's conflict check, the audit's effective configuration
and the role's systemd drop-in all read argv through parse_flags.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import BOOLEAN, OPTION_TYPES

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

# The spellings Go's strconv.ParseBool accepts, exactly as it accepts them (no
# other capitalisation, no "yes"/"on"). dockerd reads every boolean flag and
# the no-new-privileges security option with it.
TRUE_WORDS = ("1", "t", "T", "TRUE", "true", "True")
FALSE_WORDS = ("0", "f", "F", "FALSE", "false", "False")


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


def go_bool(text):
    """True or False as Go's strconv.ParseBool reads text; None when it refuses the text ("yes", "on", "TRUE ").

    The one reader of Go booleans here: flag values, daemon settings given as
    text and --security-opt no-new-privileges=<value> all go through it.
    """
    if isinstance(text, bool):
        return text
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def is_true(value):
    """A boolean flag's value as True/False; None (the flag given bare) is True, text ParseBool refuses is False."""
    return value is None or go_bool(value) is True


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
